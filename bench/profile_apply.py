"""Where ``llmfix apply`` spends its time and memory: the profile behind any missed goal.

    python bench/profile_apply.py stages DIR   # in-process time per step of a real apply over DIR (JSON)
    python bench/profile_apply.py imports DIR  # -X importtime: `llmfix apply --dry-run` vs the floor (JSON)
    python bench/profile_apply.py memory DIR   # tracemalloc: what the plans hold when planning ends (JSON)

Each mode works on a copy of DIR (apply writes). ``stages`` runs the real
``llmfix.workflow.apply`` and the report the CLI prints, with a timer around each
step llmfix's code is made of (discovery, read, parse, the file's style and context,
each transform's plan, applying the edits, rendering, the compile and import checks,
the writes). Times are exclusive: a step called inside another is not counted twice;
what no timer covers is "other". A cProfile pass over a second copy then gives the
top functions (self and cumulative time) and the share of each code area.

``memory`` runs apply under tracemalloc and takes a snapshot when planning returns
(every plan alive, nothing written yet: the peak of an apply), attributing each live
block to the innermost llmfix frame that allocated it.
"""

from __future__ import annotations

import ast
import cProfile
import functools
import json
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(REPO)
else:
    sys.path.insert(0, str(REPO))

# ----------------------------------------------------------------------------- step timers


class StepTimers:
    """Exclusive wall time per step, by wrapping functions in place (undone by ``restore``).
    A step called inside another is not counted twice."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.missing: list[str] = []
        self._stack: list[float] = []  # per open step: the seconds of the steps inside it
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attribute: str, step: str | Callable[[], str]) -> None:
        """Time ``owner.attribute`` (a function, a method or a property) as ``step`` (or as what
        ``step()`` names at each call)."""
        if isinstance(owner, type):  # a class: its own attribute, or the inherited one set on it
            own = attribute in owner.__dict__
            original = owner.__dict__.get(attribute) if own else getattr(owner, attribute, None)
        else:
            own, original = True, getattr(owner, attribute, None)
        if original is None:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{attribute}")
            return
        if isinstance(original, property):
            replacement: Any = property(self._timed(original.fget, step), original.fset, original.fdel)
        else:
            replacement = self._timed(original, step)
        setattr(owner, attribute, replacement)
        self._undo.append((owner, attribute, original if own else None))

    def _timed(self, function: Callable, step: str | Callable[[], str]) -> Callable:
        timers = self

        @functools.wraps(function)
        def timed(*args, **kwargs):
            label = step if isinstance(step, str) else step()
            start = time.perf_counter()
            timers._stack.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                inner = timers._stack.pop()
                timers.seconds[label] += elapsed - inner
                timers.calls[label] += 1
                if timers._stack:
                    timers._stack[-1] += elapsed

        return timed

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            if original is None:
                delattr(owner, attribute)  # it was inherited
            else:
                setattr(owner, attribute, original)
        self._undo.clear()


def _parse_label(kind: str) -> Callable[[], str]:
    """The step of a libcst parse: named after the llmfix function that asked for it."""

    def label() -> str:
        frame = sys._getframe(2)  # 0: label, 1: the timer's wrapper, 2: the caller
        while frame is not None and "/codemods/" not in frame.f_code.co_filename and "/llmfix/" not in frame.f_code.co_filename:
            frame = frame.f_back
        if frame is None:
            return f"parse: {kind} (outside llmfix)"
        caller = f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}"
        if kind == "module" and caller == "planning.parse":
            return "parse: the target files"
        return f"parse: {kind} in {caller}"

    return label


def install(timers: StepTimers) -> None:
    """Timers on the steps of apply, as the checked-out code names them (a missing name is reported)."""
    import libcst as cst
    from llmfix.codemods import registry

    from llmfix import gitguard, planning, report, workflow

    timers.wrap(workflow, "discover", "discover")
    timers.wrap(gitguard, "unresolved_targets", "git: unmerged files")
    timers.wrap(gitguard, "refuse_foreign_changes", "git: foreign changes")
    timers.wrap(workflow, "read_source", "read")
    timers.wrap(cst, "parse_module", _parse_label("module"))
    timers.wrap(cst, "parse_statement", _parse_label("snippet"))
    timers.wrap(cst, "parse_expression", _parse_label("snippet"))
    timers.wrap(planning, "find_litellm_calls", "find LiteLLM calls (ordering, support check)")
    timers.wrap(planning, "_context", "style and file context")
    for transform in registry.transforms():
        timers.wrap(transform, "plan", f"plan: {transform.NAME}")
    timers.wrap(planning, "apply_edits", "apply edits (tree rebuild)")
    timers.wrap(planning, "_restore_support", "runtime support check")
    timers.wrap(planning, "module_bindings", "bindings of the patched tree")
    timers.wrap(cst.Module, "code", "render (Module.code)")
    timers.wrap(planning, "_check_compiles", "compile check")
    timers.wrap(planning, "_check_imports", "import check (re-parses patched files)")
    timers.wrap(workflow, "check_writable", "write: permission check")
    timers.wrap(workflow, "_load_state", "write: load record")
    timers.wrap(workflow, "_write_with_record", "write: files and record")
    timers.wrap(report, "to_text", "report (text the CLI prints)")


def _apply_with_report(folder: Path) -> int:
    from llmfix import report, workflow
    from llmfix.config import CommandSettings

    plans = workflow.apply([folder], CommandSettings({}))
    report.to_text("apply", plans)
    return len(plans)


def _fresh(folder: Path, scratch: Path, name: str) -> Path:
    work = scratch / name
    shutil.copytree(folder, work)
    return work


# ----------------------------------------------------------------------------- cProfile areas

AREAS = (
    ("libcst parser", re.compile(r"libcst/_parser/|libcst_native")),
    ("libcst nodes (visit, with_changes, codegen)", re.compile(r"libcst/_nodes/")),
    ("libcst visitors/metadata/other", re.compile(r"libcst/")),
    ("llmfix analysis (codemods/analysis/)", re.compile(r"codemods/analysis/")),
    ("llmfix style (codemods/style/)", re.compile(r"codemods/style/")),
    ("llmfix runtime block (codemods/runtime_block.py)", re.compile(r"codemods/runtime_block\.py")),
    ("llmfix edits (codemods/edits.py, building.py)", re.compile(r"codemods/(edits|building)\.py")),
    ("llmfix transforms (other codemods/*.py)", re.compile(r"codemods/")),
    ("llmfix cli/planning/writing (llmfix/*.py)", re.compile(r"llmfix/")),
    ("dataclasses/typing/abc", re.compile(r"/(dataclasses|typing|abc|enum|functools)\.py")),
)


def _area(filename: str) -> str:
    for name, pattern in AREAS:
        if pattern.search(filename):
            return name
    if filename == "~" or filename.startswith("<"):
        return "builtins (isinstance, getattr, len, ...)"
    return "other Python"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/wt/", "/lib/python3"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/wt/" else tail
    return filename


def _module_of(filename: str) -> str:
    short = _short(filename)
    if short in ("~",) or short.startswith("<"):
        return "builtins"
    return short


def cprofile_summary(profiler: cProfile.Profile, top: int = 15) -> dict:
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(stat[2] for stat in entries.values()) or float("nan")
    by_area: dict[str, float] = defaultdict(float)
    by_module: dict[str, float] = defaultdict(float)
    for (filename, _, _), stat in entries.items():
        by_area[_area(filename)] += stat[2]
        by_module[_module_of(filename)] += stat[2]

    def label(key: tuple) -> str:
        filename, line, function = key
        return f"{function} ({_short(filename)}:{line})" if filename != "~" else function

    own = [key for key in entries if "codemods/" in key[0] or "llmfix/" in key[0]]
    return {
        "profiled_seconds": total,
        "areas": {k: v / total for k, v in sorted(by_area.items(), key=lambda kv: -kv[1])},
        "modules": [(k, v / total) for k, v in sorted(by_module.items(), key=lambda kv: -kv[1])[:top]],
        "self": [(label(k), entries[k][1], entries[k][2] / total) for k in sorted(entries, key=lambda k: -entries[k][2])[:top]],
        "cumulative_llmfix": [
            (label(k), entries[k][1], entries[k][3] / total) for k in sorted(own, key=lambda k: -entries[k][3])[:top]
        ],
    }


# ----------------------------------------------------------------------------- modes


def stages(folder: Path) -> dict:
    """Timed steps of one real apply over a copy of ``folder``, then a cProfile of another copy."""
    import libcst  # noqa: F401 - imported before timing, as in apply after start-up
    from llmfix.codemods import registry

    registry.transforms()  # the transform modules imported, as the CLI does before planning
    with tempfile.TemporaryDirectory(prefix="llmfix-profile-") as tmp:
        scratch = Path(tmp)
        timers = StepTimers()
        install(timers)
        try:
            start = time.perf_counter()
            files = _apply_with_report(_fresh(folder, scratch, "timed"))
            total = time.perf_counter() - start
        finally:
            timers.restore()
        covered = sum(timers.seconds.values())
        seconds = dict(timers.seconds)
        seconds["other (not timed)"] = max(total - covered, 0.0)
        work = _fresh(folder, scratch, "profiled")
        profiler = cProfile.Profile()
        profiler.enable()
        _apply_with_report(work)
        profiler.disable()
    return {
        "files": files,
        "total": total,
        "seconds": seconds,
        "calls": dict(timers.calls),
        "not_found": timers.missing,
        "cprofile": cprofile_summary(profiler),
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


class _FunctionAt:
    """``file:line`` -> the innermost function defined around that line (ast, cached per file)."""

    def __init__(self) -> None:
        self._spans: dict[str, list[tuple[int, int, str]]] = {}

    def __call__(self, filename: str, line: int) -> str:
        if filename not in self._spans:
            try:
                tree: ast.AST | None = ast.parse(Path(filename).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                tree = None
            self._spans[filename] = [
                (node.lineno, node.end_lineno or node.lineno, node.name)
                for node in (ast.walk(tree) if tree is not None else ())
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
        inside = [span for span in self._spans[filename] if span[0] <= line <= span[1]]
        return min(inside, key=lambda span: span[1] - span[0])[2] if inside else "<module>"


TRACE_FRAMES = 12  # deep enough to reach llmfix's frame above libcst's node constructors


def _attribute(growth: list[tracemalloc.StatisticDiff], function_at: _FunctionAt) -> tuple[int, dict[str, int]]:
    """Bytes that grew, by the innermost llmfix function on each block's allocation traceback."""
    by_site: dict[str, int] = defaultdict(int)
    total = 0
    for stat in growth:
        if stat.size_diff <= 0:
            continue
        total += stat.size_diff
        frames = list(stat.traceback)  # oldest first
        ours = next((f for f in reversed(frames) if "/codemods/" in f.filename or "/llmfix/" in f.filename), None)
        if ours is None:
            by_site[f"(no llmfix frame within {TRACE_FRAMES}: {_module_of(frames[-1].filename)})"] += stat.size_diff
        else:
            by_site[f"{_short(ours.filename)}:{function_at(ours.filename, ours.lineno)}"] += stat.size_diff
    return total, by_site


def memory(folder: Path) -> dict:
    """What planning keeps alive per file (every plan is kept until the writes: the peak of an
    apply), by the innermost llmfix function on each block's allocation traceback.

    A dry run over the same files comes first, untraced, so the caches any run fills once
    (the runtime sources parsed, per-style blocks, imports) are in place; tracemalloc then
    sees only what the traced apply allocates and still holds when planning returns.
    tracemalloc with 12-frame tracebacks makes libcst about 30x slower: run it on a few files.
    """
    from llmfix.codemods import registry

    from llmfix import workflow
    from llmfix.config import CommandSettings

    registry.transforms()
    function_at = _FunctionAt()
    captured: dict = {}
    plan_all = workflow._plan

    def plan_then_snapshot(*args, **kwargs):
        plans = plan_all(*args, **kwargs)
        captured["last"] = tracemalloc.take_snapshot()
        captured["files"] = len(plans)
        captured["checkouts"] = len({p.target.checkout for p in plans})
        return plans

    with tempfile.TemporaryDirectory(prefix="llmfix-profile-") as tmp:
        workflow.apply([_fresh(folder, Path(tmp), "warm-up")], CommandSettings({}), dry_run=True)
        work = _fresh(folder, Path(tmp), "memory")
        tracemalloc.start(TRACE_FRAMES)
        start = tracemalloc.take_snapshot()
        workflow._plan = plan_then_snapshot
        try:
            _apply_with_report(work)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            workflow._plan = plan_all
            tracemalloc.stop()
    files = captured["files"]
    kept, by_site = _attribute(captured["last"].compare_to(start, "traceback"), function_at)
    return {
        "files": files,
        "checkouts": captured["checkouts"],
        "kept_mib": kept / 2**20,
        "traced_peak_mib": peak / 2**20,
        "per_file_kib": kept / 1024 / max(files, 1),
        "per_file_by_llmfix_function": [
            (k, v / 1024 / max(files, 1), v / kept if kept else float("nan")) for k, v in sorted(by_site.items(), key=lambda kv: -kv[1])[:12]
        ],
    }


MODES = {"stages": stages, "imports": imports, "memory": memory}

if __name__ == "__main__":
    mode, folder = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(MODES[mode](folder), default=str))
