"""Shared helpers: paths, the machine description, timed and measured subprocesses."""

from __future__ import annotations

import json
import os
import platform
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
from llmfix.codemods.runtime.redact import _LITELLM_PROXY_VARIABLES as PROXY_VARIABLES


@dataclass(frozen=True)
class Profile:
    """How much work each benchmark does. ``quick`` is a smoke run; ``full`` makes the recorded figures."""

    name: str
    reps_1a: int  # whole-process runs per command (1a)
    reps_1b: int  # paired apply runs, 5,000-file tree vs fixture (1b)
    big_files: int  # .py files in the generated checkout (1b)
    batch_files: int  # generated target files (1c)
    reps_1c: int  # runs of llmfix apply and of the floor (1c)
    reps_1c_libcst: int  # runs of the five-command libcst.tool sequence (1c)
    libcst_files: int  # 1c: the libcst.tool comparison runs on the first N files of the batch
    reps_mem: int  # runs per memory measurement (3)
    outage_calls: int  # concurrent calls whose attempt schedule is recorded (2a)
    outage_real_defaults: bool  # 2a: patched measured at real defaults (else extrapolated)
    rubric_generations: int  # 2b
    blackhole_timeouts: tuple[float, ...]  # 2c: LITELLM_DEFAULT_TIMEOUT for the unpatched run(s)
    precheck_timeout: float  # 2c: LITELLM_PRECHECK_TIMEOUT for the patched runs


QUICK = Profile("quick", 3, 3, 5000, 20, 1, 1, 20, 1, 3, False, 60, (1.0,), 2.0)
FULL = Profile("full", 9, 7, 5000, 500, 3, 1, 100, 3, 4, True, 500, (1.0, 2.0), 30.0)


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


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without proxy variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra)
    return env


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
