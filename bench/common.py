"""Shared helpers: paths, goals, profiles, the machine description, measured subprocesses."""

from __future__ import annotations

import itertools
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
FIXTURES = REPO / "fixtures"
CATALOG: dict[str, dict] = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
CANONICAL = "drtulu-canonical"
PATCHABLE = [name for name, entry in CATALOG.items() if entry["helpers"]]
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass(frozen=True)
class Goal:
    """A target a figure must meet: at most (``"max"``) or at least (``"min"``) ``value``."""

    kind: str
    value: float
    text: str  # as the table shows it

    def status(self, figure: float) -> str:
        """ "met" or "MISSED" (a figure that could not be measured, NaN, never meets a goal)."""
        if figure != figure:
            return "MISSED"
        return "met" if (figure <= self.value if self.kind == "max" else figure >= self.value) else "MISSED"


# Every speed, memory, size and overhead target of llmfix, in one place (never in tests).
GOALS: dict[str, Goal] = {
    "1a": Goal("max", 1.3, "<= 1.3x"),  # llmfix apply on the fixture, as a multiple of the floor (wall and CPU)
    "1b": Goal("max", 1.2, "<= 1.2x"),  # apply on the 5,000-file tree, as a multiple of apply on the fixture
    "1c": Goal("min", 0.7, ">= 0.7x"),  # files/s of the 500-file batch, as a share of the floor's
    "1c-rss": Goal("max", 2.0, "<= 2x"),  # peak RSS of the batch's apply, as a multiple of the floor process's
    "5-upstream": Goal("max", 40, "<= 40 lines"),  # added lines in run_utils.py + rubric_utils.py (DR Tulu shape)
    "5-total": Goal("max", 330, "<= 330 lines"),  # the whole change: upstream files, support module, record
    "5-record": Goal("max", 2048, "<= 2 KB"),  # .llmfix/record.json, bytes
    "6b": Goal("max", 0.01, "< 1%"),  # the health decorator's cost, as a share of a mocked call
}


@dataclass(frozen=True)
class Profile:
    """How much work each benchmark does. ``quick`` is a smoke run; ``full`` makes the recorded figures."""

    name: str
    reps_1a: int  # interleaved whole-process runs per command (1a)
    reps_1b: int  # paired apply runs, 5,000-file tree vs fixture (1b)
    big_files: int  # .py files in the generated tree (1b)
    batch_files: int  # generated target files (1c)
    reps_1c: int  # 1c: apply runs (each between two floor runs)
    outage_calls: int  # concurrent calls whose attempt schedule is recorded (2a)
    outage_real_defaults: bool  # 2a: patched measured at real defaults (else extrapolated)
    rubric_generations: int  # 2b
    blackhole_timeouts: tuple[float, ...]  # 2c: LITELLM_DEFAULT_TIMEOUT for the unpatched run(s)
    precheck_timeout: float  # 2c: LITELLM_PRECHECK_TIMEOUT for the patched runs
    upstream_fixtures: tuple[str, ...] | None  # 4: the fixtures whose upstream tests run (None: every one)
    footprint_fixtures: tuple[str, ...] | None  # 5: the fixtures measured (None: every patchable one)
    health_healthy: int  # 6a: generations answered before the outage starts
    health_outage: int  # 6a: generations launched once the outage has started (at most)
    judge_calls: int  # 6c: judge calls launched into the outage (at most)
    health_limit: float  # 6a/6c: seconds an outage scenario may run
    overhead_quick: bool  # 6b: bench/health_overhead.py --quick
    sample_1c: int  # files of the batch the 1c profile runs


QUICK = Profile(
    "quick",
    reps_1a=3,
    reps_1b=2,
    big_files=5000,
    batch_files=20,
    reps_1c=1,
    outage_calls=3,
    outage_real_defaults=False,
    rubric_generations=60,
    blackhole_timeouts=(1.0,),
    precheck_timeout=2.0,
    upstream_fixtures=("upstream-main-split",),
    footprint_fixtures=(CANONICAL, "upstream-main-split", "upstream-jun2025"),
    health_healthy=60,
    health_outage=150,
    judge_calls=150,
    health_limit=60.0,
    overhead_quick=True,
    sample_1c=20,
)
FULL = Profile(
    "full",
    reps_1a=21,
    reps_1b=5,
    big_files=5000,
    batch_files=500,
    reps_1c=3,
    outage_calls=4,
    outage_real_defaults=True,
    rubric_generations=500,
    blackhole_timeouts=(1.0, 2.0),
    precheck_timeout=30.0,
    upstream_fixtures=None,
    footprint_fixtures=None,
    health_healthy=150,
    health_outage=400,
    judge_calls=400,
    health_limit=200.0,
    overhead_quick=False,
    sample_1c=40,
)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5))) - 1]


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds in a daemon thread while a run lasts."""

    def __init__(self, every: float = 15.0) -> None:
        import threading

        self.samples: list[float] = [load_average()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(load_average()[0])

    def stop(self) -> dict:
        self._stop.set()
        ordered = sorted(self.samples)
        return {"samples": len(ordered), "min": ordered[0], "median": median(ordered), "max": ordered[-1]}


def machine() -> dict:
    """What the figures were measured on."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("libcst", "litellm", "openai", "aiohttp"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "?"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_start": load_average(),
        "versions": versions,
    }


def llmfix_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m llmfix``."""
    script = Path(sys.executable).parent / "llmfix"
    return [str(script)] if script.is_file() and os.access(script, os.X_OK) else [sys.executable, "-m", "llmfix"]


def offline_env(**extra: str) -> dict[str, str]:
    """The environment upstream's tests run in: no proxy, OPENAI_*, PYTEST_* or LITELLM_* variables,
    no PYTHONPATH, litellm's bundled cost map."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "PYTEST_", "LITELLM_"))}
    env.pop("PYTHONPATH", None)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra)
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without proxy or LITELLM_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and not k.startswith("LITELLM_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed llmfix has its bytecode: never time compiling it
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra)
    return env


OLD_BEHAVIOUR = "old behaviour:"  # the line of `llmfix apply`'s report with the variables that restore it
PINNED_HEADER = "tests that pin a default"


def apply_report(checkout: Path) -> str:
    """``llmfix apply CHECKOUT``'s report (stdout); RuntimeError when it fails."""
    done = subprocess.run([*llmfix_command(), "apply", str(checkout)], capture_output=True, text=True, env=clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"llmfix apply {checkout.name} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def old_behaviour(report: str) -> dict[str, str]:
    """The variables apply's report says bring the old behaviour back (``old behaviour: A=1 B=''``)."""
    for line in report.splitlines():
        line = line.strip()
        if line.startswith(OLD_BEHAVIOUR):
            words = shlex.split(line[len(OLD_BEHAVIOUR) :])
            # the assignments come first; a note on the helpers they can't restore may follow
            assignments = itertools.takewhile(lambda word: re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word), words)
            return dict(word.split("=", 1) for word in assignments)
    return {}


def pinned_tests(report: str) -> list[str]:
    """The tests apply's report names as pinning a default the patch changes."""
    lines = report.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(PINNED_HEADER):
            return [entry.strip() for entry in lines[index + 1 :] if entry.startswith("  ") and "::" in entry]
    return []


def loopback_only() -> list[str]:
    """A command prefix that runs its command in a network namespace with only loopback, or []."""
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return []
    try:
        done = subprocess.run([*prefix, sys.executable, "-c", "pass"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return prefix if done.returncode == 0 else []


@dataclass
class Run:
    """One finished process: wall seconds, CPU seconds (user+sys), peak RSS in MiB, exit code."""

    wall: float
    cpu: float
    maxrss_mib: float
    code: int
    stderr: str = ""


# The measuring wrapper: a fresh Python process whose only child is the measured command, so
# getrusage(RUSAGE_CHILDREN) after it exits is that command's own CPU time and peak RSS.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
err = open(sys.argv[1], "wb")
start = time.perf_counter()
code = subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss, "code": code}))
"""


def run_measured(cmd: Sequence[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 900) -> Run:
    """Run ``cmd`` once and measure it alone (wall, CPU and peak RSS via RUSAGE_CHILDREN)."""
    with tempfile.NamedTemporaryFile(prefix="llmfix-bench-err-", delete=False) as handle:
        err_path = handle.name
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, err_path, *map(str, cmd)],
            cwd=cwd,
            env=env or clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"measuring wrapper failed: {done.stderr.strip()[-500:]}")
        data = json.loads(done.stdout)
        stderr = Path(err_path).read_text(errors="replace")
    finally:
        os.unlink(err_path)
    return Run(data["wall"], data["cpu"], data["maxrss_kib"] / 1024, data["code"], stderr)


def checked(run: Run, what: str, ok_codes: tuple[int, ...] = (0,)) -> Run:
    if run.code not in ok_codes:
        raise RuntimeError(f"{what} exited {run.code}: {run.stderr.strip()[-800:]}")
    return run


def stats(runs: Sequence[Run]) -> dict:
    """Medians (and spread) of a list of runs; the peak RSS is the highest."""
    walls = [r.wall for r in runs]
    return {
        "n": len(runs),
        "wall": median(walls),
        "wall_min": min(walls, default=float("nan")),
        "wall_max": max(walls, default=float("nan")),
        "cpu": median([r.cpu for r in runs]),
        "rss": max((r.maxrss_mib for r in runs), default=float("nan")),
    }


@dataclass
class Scratch:
    """A temporary working folder for one benchmark run (removed at the end)."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="llmfix-bench-")))

    def copy_fixture(self, name: str, as_name: str | None = None) -> Path:
        target = self.root / (as_name or name)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(FIXTURES / name, target, symlinks=True)
        return target

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def fmt_s(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def log(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    """One line of the results table."""

    bench: str  # "1a", "2b", ...
    measure: str
    baseline: str  # the floor / the unpatched code / the hand fix
    llmfix: str  # llmfix / the patched code
    ratio: str
    goal: str
    status: str  # "met", "MISSED", or "-" (no goal)


def goal_row(bench: str, key: str, measure: str, baseline: str, figure: str, ratio_text: str, value: float) -> Row:
    return Row(bench, measure, baseline, figure, ratio_text, GOALS[key].text, GOALS[key].status(value))


def compile_llmfix() -> None:
    """Write llmfix's bytecode first, as ``pip install`` does, so no timed run compiles it."""
    import compileall

    import llmfix
    import llmfix.codemods

    for package in (llmfix, llmfix.codemods):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1)
