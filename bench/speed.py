"""Family 1: how cheap llmfix is to run (1a the fixture, 1b a 5,000-file tree, 1c a 500-file batch).

Every figure is a whole process (start-up included), measured alone by a wrapper process
(wall clock around the child; CPU time and peak RSS from RUSAGE_CHILDREN). The things
compared run interleaved, so load changes hit both sides alike; figures are medians.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from bench import generate
from bench.common import (
    CANONICAL,
    CATALOG,
    Profile,
    Row,
    Run,
    Scratch,
    checked,
    fmt_s,
    goal_row,
    llmfix_command,
    log,
    run_measured,
    stats,
)

# The floor: the least any libcst codemod tool must do. Start Python, import libcst, parse
# and re-render the files (directories are searched for *.py).
FLOOR = r"""
import pathlib, sys
import libcst
paths = []
for arg in sys.argv[1:]:
    p = pathlib.Path(arg)
    paths.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
for path in paths:
    source = path.read_bytes().decode("utf-8")
    module = libcst.parse_module(source)
    assert module.code == source
"""


def floor_command(*paths: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR, *map(str, paths)]


def _apply(path: Path, what: str) -> Run:
    return checked(run_measured([*llmfix_command(), "apply", path]), what)


def bench_1a(profile: Profile, scratch: Scratch) -> dict:
    """--help, apply on a fresh fixture copy, and the floor on the same target files, interleaved."""
    floor_copy = scratch.copy_fixture(CANONICAL, "1a-floor")
    targets = [floor_copy / rel for rel in CATALOG[CANONICAL]["files"].values()]
    runs: dict[str, list[Run]] = {"help": [], "apply": [], "floor": []}

    def one(kind: str, index: int) -> Run:
        if kind == "help":
            return checked(run_measured([*llmfix_command(), "--help"]), "llmfix --help")
        if kind == "apply":
            return _apply(scratch.copy_fixture(CANONICAL, f"1a-apply-{index}"), "llmfix apply")
        return checked(run_measured(floor_command(*targets)), "floor")

    kinds = list(runs)
    for kind in kinds:  # warm-up: page cache, .pyc files
        one(kind, -1)
    for i in range(profile.reps_1a):
        for kind in kinds[i % len(kinds) :] + kinds[: i % len(kinds)]:
            runs[kind].append(one(kind, i))
    result = {kind: stats(r) for kind, r in runs.items()}
    result["files"] = len(targets)
    result["ratio"] = result["apply"]["wall"] / result["floor"]["wall"]
    result["ratio_cpu"] = result["apply"]["cpu"] / result["floor"]["cpu"]
    pairs = sorted(a.wall / f.wall for a, f in zip(runs["apply"], runs["floor"]))
    result["pair_ratios"] = [pairs[0], pairs[len(pairs) // 2], pairs[-1]]
    return result


def rows_1a(r: dict) -> list[Row]:
    a, f = r["apply"], r["floor"]
    what = f"`llmfix apply` on {CANONICAL} vs the floor ({r['files']} files)"
    return [
        goal_row(
            "1a",
            "1a",
            f"{what}, wall (`llmfix --help` alone: {fmt_s(r['help']['wall'])})",
            fmt_s(f["wall"]),
            fmt_s(a["wall"]),
            f"{r['ratio']:.2f}x",
            r["ratio"],
        ),
        goal_row(
            "1a",
            "1a",
            f"{what}, CPU (`llmfix --help` alone: {fmt_s(r['help']['cpu'])})",
            fmt_s(f["cpu"]),
            fmt_s(a["cpu"]),
            f"{r['ratio_cpu']:.2f}x",
            r["ratio_cpu"],
        ),
    ]


def bench_1b(profile: Profile, scratch: Scratch) -> dict:
    """apply on a generated 5,000-file tree vs apply on the bare fixture, paired runs."""
    big = generate.big_checkout(scratch.root / "1b-big", profile.big_files)
    originals = {p: p.read_bytes() for p in big["targets"]}

    def big_once() -> Run:
        for path, data in originals.items():
            path.write_bytes(data)
        support = big["targets"][0].parent / "litellm_utils.py"
        support.unlink(missing_ok=True)
        for state in (big["root"] / ".llmfix", big["checkout"] / ".llmfix"):
            shutil.rmtree(state, ignore_errors=True)
        run = _apply(big["root"], "llmfix apply (big tree)")
        if any(p.read_bytes() == originals[p] for p in big["targets"] if p.name in ("run_utils.py", "rubric_utils.py")):
            raise RuntimeError("apply on the 5,000-file tree did not patch the targets")
        return run

    big_once()  # warm-up: the tree into the page cache
    big_runs, small_runs = [], []
    for i in range(profile.reps_1b):
        order = [big_runs, small_runs] if i % 2 else [small_runs, big_runs]
        for out in order:
            out.append(big_once() if out is big_runs else _apply(scratch.copy_fixture(CANONICAL, f"1b-apply-{i}"), "llmfix apply"))
    result = {"py_files": big["py_files"], "big": stats(big_runs), "fixture": stats(small_runs)}
    result["ratio"] = result["big"]["wall"] / result["fixture"]["wall"]
    result["ratio_cpu"] = result["big"]["cpu"] / result["fixture"]["cpu"]
    return result


def rows_1b(r: dict) -> list[Row]:
    measure = f"`llmfix apply` on a {r['py_files']:,}-file tree vs on the fixture, wall (CPU ratio {r['ratio_cpu']:.2f}x)"
    return [goal_row("1b", "1b", measure, fmt_s(r["fixture"]["wall"]), fmt_s(r["big"]["wall"]), f"{r['ratio']:.2f}x", r["ratio"])]


def checkout_pairs(root: Path) -> dict[str, int]:
    """How llmfix groups the batch: checkouts found, and how many hold both target files."""
    from llmfix.discovery import discover

    per_checkout = Counter(t.checkout for t in discover([root]))
    return {"checkouts": len(per_checkout), "with_both_files": sum(1 for n in per_checkout.values() if n == 2)}


def bench_1c(profile: Profile, scratch: Scratch) -> dict:
    """One ``llmfix apply`` over N generated target files vs the floor on the same files:
    floor, apply, floor, apply, floor... (every apply run between two floor runs)."""
    pristine = scratch.root / "1c-pristine"
    batch = generate.batch(pristine, profile.batch_files)
    files = len(batch["files"])
    pairs = checkout_pairs(pristine)
    if pairs["with_both_files"] != files // 2:
        raise RuntimeError(f"the batch's checkouts do not each hold both target files: {pairs}")
    runs: dict[str, list[Run]] = {"apply": [], "floor": []}

    def floor_once() -> None:
        runs["floor"].append(checked(run_measured(floor_command(pristine)), "floor (batch)"))

    floor_once()
    for i in range(profile.reps_1c):
        work = scratch.root / "1c-apply"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        runs["apply"].append(_apply(work, "llmfix apply (batch)"))
        written = sum(1 for p in work.rglob("litellm_utils.py"))
        floor_once()
        log(f"1c: apply run {i + 1}/{profile.reps_1c}: {fmt_s(runs['apply'][-1].wall)} wall, {fmt_s(runs['apply'][-1].cpu)} CPU")
    result = {kind: stats(r) for kind, r in runs.items()}
    result.update(files=files, families=batch["families"], checkouts=pairs, support_modules_written=written)
    for kind in runs:
        result[kind]["files_per_s"] = files / result[kind]["wall"]
        result[kind]["files_per_cpu_s"] = files / result[kind]["cpu"]
    result["vs_floor"] = result["apply"]["files_per_s"] / result["floor"]["files_per_s"]
    result["vs_floor_cpu"] = result["apply"]["files_per_cpu_s"] / result["floor"]["files_per_cpu_s"]
    result["rss_ratio"] = result["apply"]["rss"] / result["floor"]["rss"]
    return result


def rows_1c(r: dict) -> list[Row]:
    a, f = r["apply"], r["floor"]
    what = f"{r['files']} files ({r['checkouts']['checkouts']} checkouts) in one `llmfix apply` vs the floor"
    return [
        goal_row("1c", "1c", f"{what}: files/s, wall", f"{f['files_per_s']:.1f}/s", f"{a['files_per_s']:.1f}/s", f"{r['vs_floor']:.2f}x", r["vs_floor"]),
        goal_row(
            "1c",
            "1c",
            f"{what}: files/s, CPU",
            f"{f['files_per_cpu_s']:.1f}/s",
            f"{a['files_per_cpu_s']:.1f}/s",
            f"{r['vs_floor_cpu']:.2f}x",
            r["vs_floor_cpu"],
        ),
        goal_row("1c", "1c-rss", f"{what}: peak RSS", f"{f['rss']:.0f} MiB", f"{a['rss']:.0f} MiB", f"{r['rss_ratio']:.2f}x", r["rss_ratio"]),
    ]


def run(selected: list[str], profile: Profile, scratch: Scratch) -> dict:
    out = {}
    for key, bench, what in (
        ("1a", bench_1a, "apply / floor on the fixture"),
        ("1b", bench_1b, "apply on a 5,000-file tree"),
        ("1c", bench_1c, f"{profile.batch_files} files: apply vs floor"),
    ):
        if key in selected:
            log(f"{key}: {what}")
            started = time.perf_counter()
            out[key] = bench(profile, scratch)
            out[key]["seconds"] = time.perf_counter() - started
    return out


def rows(results: dict) -> list[Row]:
    found: list[Row] = []
    for key, make in (("1a", rows_1a), ("1b", rows_1b), ("1c", rows_1c)):
        if key in results:
            found += make(results[key])
    return found
