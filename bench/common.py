"""Shared helpers: paths, the machine description, timed and measured subprocesses."""

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

from llmfix.codemods.runtime.redact import _LITELLM_PROXY_VARIABLES as PROXY_VARIABLES

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
FIXTURES = REPO / "fixtures"
CATALOG: dict[str, dict] = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
CANONICAL = "drtulu-canonical"


@dataclass(frozen=True)
class Goal:
    """A target a figure must meet: at most (``"max"``) or at least (``"min"``) ``value``."""

    kind: str
    value: float
    text: str  # as the table shows it

    def status(self, figure: float) -> str:
        """"met" or "MISSED" (a figure that could not be measured, NaN, never meets a goal)."""
        if figure != figure:
            return "MISSED"
        return "met" if (figure <= self.value if self.kind == "max" else figure >= self.value) else "MISSED"


# Every speed, memory and overhead target of llmfix, in one place (never in tests).
GOALS: dict[str, Goal] = {
    "1a": Goal("max", 1.3, "<= 1.3x"),  # llmfix apply on the fixture, wall, as a multiple of the floor
    "1b": Goal("max", 1.2, "<= 1.2x"),  # apply on the 5,000-file tree, as a multiple of apply on the fixture
    "1c": Goal("min", 0.7, ">= 0.7x"),  # files/s of the batch, as a share of the floor's
    "1c-libcst": Goal("min", 3.0, ">= 3x"),  # files/s against the codemods run one by one by libcst.tool
    "3": Goal("max", 1.5, "<= 1.5x"),  # peak RSS of the batch, as a multiple of the floor's
    "6b": Goal("max", 0.01, "< 1%"),  # the health decorator's cost, as a share of a mocked call
}


@dataclass(frozen=True)
class Profile:
    """How much work each benchmark does. ``quick`` is a smoke run; ``full`` makes the recorded figures."""

    name: str
    reps_1a: int  # whole-process runs per command (1a)
    reps_1b: int  # paired apply runs, 5,000-file tree vs fixture (1b)
    big_files: int  # .py files in the generated checkout (1b)
    batch_files: int  # generated target files (1c)
    reps_1c: int  # 1c: apply runs at most (each between two floor runs)
    reps_1c_libcst: int  # 1c: runs of the libcst.tool sequence (one command per transform)
    libcst_files: int  # 1c: the libcst.tool comparison runs on the first N files of the batch
    reps_mem: int  # runs per memory measurement (3)
    outage_calls: int  # concurrent calls whose attempt schedule is recorded (2a)
    outage_real_defaults: bool  # 2a: patched measured at real defaults (else extrapolated)
    rubric_generations: int  # 2b
    blackhole_timeouts: tuple[float, ...]  # 2c: LITELLM_DEFAULT_TIMEOUT for the unpatched run(s)
    precheck_timeout: float  # 2c: LITELLM_PRECHECK_TIMEOUT for the patched runs
    budget_1c: float  # 1c: seconds of apply runs after which no further apply run starts (at least one)
    upstream_fixtures: tuple[str, ...] | None  # 4: the fixtures whose upstream tests run (None: every one)
    upstream_together: bool  # 4: the three variants at once (quick: one fixture) or one after another
    footprint_fixtures: tuple[str, ...] | None  # 5: the fixtures measured (None: every one)
    health_healthy: int  # 6a: generations answered before the outage starts
    health_outage: int  # 6a: generations launched once the outage has started (at most)
    health_limit: float  # 6a: seconds an outage scenario may run
    health_harsh: bool  # 6a: also a 90% outage at the patched defaults
    overhead_quick: bool  # 6b: bench/health_overhead.py --quick
    sample_1c: int  # files of the batch the 1c profile replays (timers, cProfile)
    sample_3: int  # files of the batch the memory profile runs under tracemalloc


QUICK = Profile(
    "quick", reps_1a=3, reps_1b=3, big_files=5000, batch_files=20, reps_1c=1, reps_1c_libcst=1, libcst_files=20,
    reps_mem=1, outage_calls=3, outage_real_defaults=False, rubric_generations=60, blackhole_timeouts=(1.0,),
    precheck_timeout=2.0, budget_1c=60.0, upstream_fixtures=("upstream-main-split",), upstream_together=True,
    footprint_fixtures=(CANONICAL, "upstream-main-split", "upstream-jun2025", "no-helpers"), health_healthy=100,
    health_outage=150, health_limit=60.0, health_harsh=False, overhead_quick=True, sample_1c=20, sample_3=4,
)
FULL = Profile(
    "full", reps_1a=9, reps_1b=5, big_files=5000, batch_files=500, reps_1c=3, reps_1c_libcst=1, libcst_files=20,
    reps_mem=3, outage_calls=4, outage_real_defaults=True, rubric_generations=500, blackhole_timeouts=(1.0, 2.0),
    precheck_timeout=30.0, budget_1c=300.0, upstream_fixtures=None, upstream_together=False, footprint_fixtures=None,
    health_healthy=150, health_outage=400, health_limit=200.0, health_harsh=True, overhead_quick=False, sample_1c=40,
    sample_3=8,
)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """What the figures were measured on."""
    versions = {}
    for name in ("libcst", "litellm", "openai", "httpx", "aiohttp", "click"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001
            versions[name] = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_start": load_average(),
        "versions": versions,
    }


def llmfix_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m llmfix``."""
    script = Path(sys.executable).parent / "llmfix"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "llmfix"]


def offline_env(**extra: str) -> dict[str, str]:
    """The environment upstream's tests run in (as tests/test_fixture_upstream_tests.py sets it):
    no proxy, OPENAI_*, PYTEST_* or LITELLM_* variables, no PYTHONPATH, litellm's bundled cost map."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "PYTEST_", "LITELLM_"))
    }
    env.pop("PYTHONPATH", None)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra)
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without proxy variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    # an installed llmfix has its bytecode, as libcst has: never time Python compiling llmfix
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_CURRENT_TEST", None)  # under pytest the patched connection check is off
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
            words = shlex.split(line[len(OLD_BEHAVIOUR):])
            # the assignments come first; a note on the helpers they can't restore may follow
            assignments = itertools.takewhile(lambda word: re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word), words)
            return dict(word.split("=", 1) for word in assignments)
    return {}


def pinned_tests(report: str) -> list[str]:
    """The tests apply's report names as pinning a default the patch changes (``path::Class::test (line N) pins ...``)."""
    lines = report.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(PINNED_HEADER):
            return [entry.strip() for entry in lines[index + 1:] if entry.startswith("  ") and "::" in entry]
    return []


def loopback_only() -> list[str]:
    """A command prefix that runs its command in a network namespace with only loopback, or [] when
    the machine can't make one (``unshare -n`` needs root or user namespaces)."""
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


# The measuring wrapper: a fresh Python process whose only child is the measured command,
# so resource.getrusage(RUSAGE_CHILDREN) after it exits is that command's own CPU time and
# peak RSS. The wall clock runs only around the child (not around the wrapper's start-up).
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


def target_files(name: str, checkout: Path) -> list[Path]:
    return [checkout / rel for rel in CATALOG[name]["files"].values()]


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def log(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    """One line of the results table."""

    bench: str  # "1a", "2b", ...
    measure: str
    baseline: str  # the floor / the unpatched code
    llmfix: str  # llmfix / the patched code
    ratio: str
    goal: str
    status: str  # "met", "MISSED", or "-" (no goal)


def stats(runs: Sequence[Run]) -> dict:
    """Medians (and spread) of a list of runs."""
    walls = [r.wall for r in runs]
    return {
        "n": len(runs),
        "wall": median(walls),
        "wall_min": min(walls) if walls else float("nan"),
        "wall_max": max(walls) if walls else float("nan"),
        "cpu": median([r.cpu for r in runs]),
        "rss": max((r.maxrss_mib for r in runs), default=float("nan")),
    }


def compile_llmfix() -> None:
    """Write llmfix's bytecode first, as ``pip install`` does, so no timed run compiles it."""
    import compileall

    import llmfix
    import llmfix.codemods

    for package in (llmfix, llmfix.codemods):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1)
