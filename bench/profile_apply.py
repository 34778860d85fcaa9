"""Where ``llmfix apply`` spends its time: the profile behind any missed speed goal.

    python bench/profile_apply.py stages DIR   # in-process time per step over DIR's targets (JSON)
    python bench/profile_apply.py imports DIR  # -X importtime: `llmfix apply --dry-run` vs the floor (JSON)

``stages`` replays what ``llmfix apply`` does, step by step, with a timer around each:
discovery, read, parse, each transform (analysis, snippet parsing, tree rebuild), render,
compile check. A cProfile pass over the same work then splits the time by code area
(libcst parser, libcst code generation, llmfix tree walks, llmfix analysis, the rest).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(REPO)
else:
    sys.path.insert(0, str(REPO))


def _work(paths):
    from llmfix.discovery import discover
    from llmfix.planning import Options, parse, read_source

    options = Options()
    selected = options.selected()
    timings: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    targets = discover(paths)
    timings["discover"] += time.perf_counter() - t
    for target in targets:
        t = time.perf_counter()
        source = read_source(target)
        timings["read"] += time.perf_counter() - t
        t = time.perf_counter()
        tree = parse(target, source)
        timings["parse"] += time.perf_counter() - t
        for transform_class in selected:
            transform = options.instantiate(transform_class)
            t = time.perf_counter()
            tree, _ = transform.apply(tree)
            timings[f"transform:{transform.NAME}"] += time.perf_counter() - t
        t = time.perf_counter()
        text = tree.code
        timings["render"] += time.perf_counter() - t
        t = time.perf_counter()
        compile(text, str(target.path), "exec", dont_inherit=True)
        timings["compile check"] += time.perf_counter() - t
    return len(targets), dict(timings)


AREAS = (
    ("libcst parser", re.compile(r"libcst/_parser/|libcst_native|_parse\b")),
    ("libcst codegen", re.compile(r"libcst/_nodes/.*|libcst/_codegen")),
    ("llmfix tree walks (codemods/_tree.py)", re.compile(r"codemods/_tree\.py")),
    ("llmfix analysis (codemods/_analysis.py)", re.compile(r"codemods/_analysis\.py")),
    ("llmfix transforms (other codemods/*.py)", re.compile(r"codemods/")),
    ("llmfix cli/planning", re.compile(r"llmfix/")),
)


def _area(filename: str, function: str) -> str:
    key = f"{filename}:{function}"
    for name, pattern in AREAS:
        if pattern.search(key):
            if name == "libcst codegen" and "_codegen" not in function and "code" not in function:
                return "libcst nodes (visit, with_changes, ...)"
            return name
    if "libcst" in filename:
        return "libcst other"
    if filename.startswith("~") or "<built-in" in function or filename == "~":
        return "builtins"
    return "other"


def stages(folder: Path) -> dict:
    import libcst  # noqa: F401 - imported before timing, like apply after start-up

    count, timings = _work([folder])
    profiler = cProfile.Profile()
    profiler.enable()
    _work([folder])
    profiler.disable()
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        by_area[_area(filename, function)] += tottime
    total = sum(by_area.values())
    top = sorted(pstats.Stats(profiler).stats.items(), key=lambda kv: -kv[1][3])[:12]  # type: ignore[attr-defined]
    return {
        "files": count,
        "seconds": timings,
        "total": sum(timings.values()),
        "profile_share": {k: v / total for k, v in sorted(by_area.items(), key=lambda kv: -kv[1])},
        "top_cumulative": [
            {"function": f"{Path(f).name}:{line}({fn})", "calls": stat[1], "cumulative": stat[3]}
            for (f, line, fn), stat in top
        ],
    }


def _importtime(cmd: list[str]) -> dict[str, float]:
    """Self import time (seconds) per top-level package, from ``-X importtime``."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, cwd=REPO)
    groups: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            groups[match.group(3).split(".")[0]] += int(match.group(1)) / 1e6
    return dict(groups)


def imports(folder: Path) -> dict:
    """Import costs of a real ``llmfix apply --dry-run`` next to the floor's, per package."""
    from bench.speed import FLOOR

    targets = [p for p in sorted(folder.rglob("*.py")) if p.name in ("run_utils.py", "rubric_utils.py")]
    apply = _importtime(["-m", "llmfix", "apply", "--dry-run", "-q", str(folder)])
    floor = _importtime(["-c", FLOOR, *map(str, targets)])
    extra = {k: v - floor.get(k, 0.0) for k, v in apply.items()}
    return {
        "apply_total": sum(apply.values()),
        "floor_total": sum(floor.values()),
        "apply_top": sorted(apply.items(), key=lambda kv: -kv[1])[:8],
        "extra_top": sorted(((k, v) for k, v in extra.items() if v > 0), key=lambda kv: -kv[1])[:8],
    }


if __name__ == "__main__":
    mode, folder = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(stages(folder) if mode == "stages" else imports(folder)))
