"""Family 1: how cheap llmfix is to run (1a fixture, 1b 5,000-file tree, 1c 500-file batch).

Every figure is a whole process (start-up included), measured alone by a wrapper
process (wall clock around the child; CPU and peak RSS from RUSAGE_CHILDREN). Runs of
the things compared are interleaved, so load changes hit both sides alike; medians.
"""

from __future__ import annotations

import cProfile
import pstats
import shutil
import sys
import time
from pathlib import Path

from bench import generate
from bench.common import (
    CANONICAL,
    CATALOG,
    GOALS,
    REPO,
    Profile,
    Row,
    Run,
    Scratch,
    fmt_s,
    llmfix_command,
    log,
    median,
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


def libcst_commands() -> list[str]:
    """Every transform as the libcst codemod command ``module.XCommand`` (.libcst.codemod.yaml lists codemods)."""
    from llmfix.codemods import registry

    return [f"{t.__module__.rsplit('.', 1)[1]}.{t.__name__.replace('Transform', 'Command')}" for t in registry.transforms()]


def floor_command(*paths: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR, *map(str, paths)]


def _checked(run: Run, what: str, ok_codes=(0,)) -> Run:
    if run.code not in ok_codes:
        raise RuntimeError(f"{what} exited {run.code}: {run.stderr.strip()[-800:]}")
    return run


def _fixture_targets(checkout: Path) -> list[Path]:
    return [checkout / rel for rel in CATALOG[CANONICAL]["files"].values()]


# ----------------------------------------------------------------------------- 1a


def bench_1a(profile: Profile, scratch: Scratch) -> dict:
    """--help, check, apply on a fixture copy, and the floor on the same two files."""
    llmfix = llmfix_command()
    check_copy = scratch.copy_fixture(CANONICAL, "1a-check")
    floor_copy = scratch.copy_fixture(CANONICAL, "1a-floor")
    runs: dict[str, list[Run]] = {"help": [], "check": [], "apply": [], "floor": []}

    def one(kind: str, index: int) -> Run:
        if kind == "help":
            return _checked(run_measured([*llmfix, "--help"]), "llmfix --help")
        if kind == "check":
            return _checked(run_measured([*llmfix, "check", "-q", check_copy]), "llmfix check", (1,))
        if kind == "apply":
            copy = scratch.copy_fixture(CANONICAL, f"1a-apply-{index}")
            return _checked(run_measured([*llmfix, "apply", copy]), "llmfix apply")
        return _checked(run_measured(floor_command(*_fixture_targets(floor_copy))), "floor")

    kinds = list(runs)
    for kind in kinds:  # warm-up: page cache, .pyc files
        one(kind, -1)
    for i in range(profile.reps_1a):
        order = kinds[i % len(kinds):] + kinds[: i % len(kinds)]
        for kind in order:
            runs[kind].append(one(kind, i))
    result = {kind: stats(r) for kind, r in runs.items()}
    result["command"] = "llmfix (console script)" if len(llmfix) == 1 else "python -m llmfix"
    pairs = sorted(a.wall / f.wall for a, f in zip(runs["apply"], runs["floor"]))
    result["pair_ratios"] = {"min": pairs[0], "median": median(pairs), "max": pairs[-1]}
    result["ratio_apply_floor"] = result["apply"]["wall"] / result["floor"]["wall"]
    result["ratio_apply_floor_cpu"] = result["apply"]["cpu"] / result["floor"]["cpu"]
    result["ratio_check_floor"] = result["check"]["wall"] / result["floor"]["wall"]
    return result


def rows_1a(r: dict) -> list[Row]:
    floor = r["floor"]
    rows = [
        Row("1a", "`llmfix --help`, wall", "-", fmt_s(r["help"]["wall"]), "-", "-", "-"),
        Row("1a", "`llmfix check` vs floor, wall", fmt_s(floor["wall"]), fmt_s(r["check"]["wall"]), f"{r['ratio_check_floor']:.2f}x", "-", "-"),
    ]
    ratio = r["ratio_apply_floor"]
    rows.append(
        Row(
            "1a",
            f"`llmfix apply` on {CANONICAL} (4 helpers) vs floor, wall (CPU ratio {r['ratio_apply_floor_cpu']:.2f}x)",
            fmt_s(floor["wall"]),
            fmt_s(r["apply"]["wall"]),
            f"{ratio:.2f}x",
            GOALS["1a"].text,
            GOALS["1a"].status(ratio),
        )
    )
    return rows


# ----------------------------------------------------------------------------- 1b


def _reset_big(big: dict, originals: dict[Path, bytes]) -> None:
    for path, data in originals.items():
        path.write_bytes(data)
    for state in (big["root"] / ".llmfix", big["checkout"] / ".llmfix"):
        shutil.rmtree(state, ignore_errors=True)


def bench_1b(profile: Profile, scratch: Scratch) -> dict:
    """apply on a generated 5,000-file tree vs apply on the bare fixture, paired runs."""
    llmfix = llmfix_command()
    t = time.perf_counter()
    big = generate.big_checkout(scratch.root / "1b-big", profile.big_files)
    generated = time.perf_counter() - t
    originals = {p: p.read_bytes() for p in big["targets"]}
    big_runs: list[Run] = []
    small_runs: list[Run] = []

    def big_once() -> Run:
        _reset_big(big, originals)
        run = _checked(run_measured([*llmfix, "apply", big["root"]]), "llmfix apply (big)")
        if any(p.read_bytes() == originals[p] for p in big["targets"]):
            raise RuntimeError("apply on the 5,000-file tree did not patch the targets")
        return run

    def small_once(i: int) -> Run:
        copy = scratch.copy_fixture(CANONICAL, f"1b-apply-{i}")
        return _checked(run_measured([*llmfix, "apply", copy]), "llmfix apply")

    big_once()  # warm-up: the tree into the page cache
    for i in range(profile.reps_1b):
        if i % 2:
            big_runs.append(big_once())
            small_runs.append(small_once(i))
        else:
            small_runs.append(small_once(i))
            big_runs.append(big_once())
    # discovery alone, in this process (no parsing involved)
    sys.path.insert(0, str(REPO))
    from llmfix.discovery import discover

    walks = []
    for _ in range(5):
        t = time.perf_counter()
        found = discover([big["root"]])
        walks.append(time.perf_counter() - t)
    profiler = cProfile.Profile()
    profiler.enable()
    discover([big["root"]])
    profiler.disable()
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    walk_profile = sorted(
        ((f"{Path(f).name}:{fn}" if f != "~" else fn, stat[1], stat[2]) for (f, _, fn), stat in entries.items()),
        key=lambda e: -e[2],
    )[:6]
    result = {
        "py_files": big["py_files"],
        "folders": big["folders"],
        "discover_profile": walk_profile,
        "generate_seconds": generated,
        "big": stats(big_runs),
        "fixture": stats(small_runs),
        "discover_seconds": median(walks),
        "discovered": [str(t.path.relative_to(big["root"])) for t in found],
    }
    result["ratio"] = result["big"]["wall"] / result["fixture"]["wall"]
    result["ratio_cpu"] = result["big"]["cpu"] / result["fixture"]["cpu"]
    return result


def rows_1b(r: dict) -> list[Row]:
    ratio = r["ratio"]
    return [
        Row(
            "1b",
            f"`llmfix apply` on a {r['py_files']:,}-file tree vs on the fixture, wall (CPU ratio {r['ratio_cpu']:.2f}x)",
            fmt_s(r["fixture"]["wall"]),
            fmt_s(r["big"]["wall"]),
            f"{ratio:.2f}x",
            GOALS["1b"].text,
            GOALS["1b"].status(ratio),
        )
    ]


# ----------------------------------------------------------------------------- 1c


def _fresh_batch(pristine: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(pristine, dest)
    return dest


def _libcst_runner(work: Path) -> Run:
    """Every transform's codemod through ``python -m libcst.tool codemod``, one after another."""
    total = Run(0.0, 0.0, 0.0, 0)
    for command in libcst_commands():
        run = run_measured(
            [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "--hide-progress", command, work],
            cwd=REPO,  # .libcst.codemod.yaml: modules: [codemods]
        )
        _checked(run, f"libcst.tool codemod {command}")
        total = Run(total.wall + run.wall, total.cpu + run.cpu, max(total.maxrss_mib, run.maxrss_mib), 0)
    return total


def checkout_pairs(root: Path) -> dict[str, int]:
    """How llmfix groups the batch: checkouts found, and how many of them have both target files
    (those are planned together, rubric_utils.py after run_utils.py)."""
    from collections import Counter

    from llmfix.discovery import discover

    per_checkout = Counter(t.checkout for t in discover([root]))
    return {"checkouts": len(per_checkout), "with_both_files": sum(1 for n in per_checkout.values() if n == 2)}


def bench_1c(profile: Profile, scratch: Scratch) -> dict:
    """One ``llmfix apply`` over N generated target files vs the floor (all N files), and vs
    the codemods run one by one through libcst.tool (on the first ``libcst_files`` of them, both sides).

    The floor runs before and after every apply run (floor, apply, floor, apply, floor...).
    After ``budget_1c`` seconds of apply runs no further apply run starts (one at least), so a
    slow llmfix can't stretch the run without end; the figures are medians of the runs made.
    """
    llmfix = llmfix_command()
    pristine = scratch.root / "1c-pristine"
    t = time.perf_counter()
    batch = generate.batch(pristine, profile.batch_files)
    generated = time.perf_counter() - t
    files = len(batch["files"])
    pairs = checkout_pairs(pristine)
    if pairs["with_both_files"] != files // 2:
        raise RuntimeError(f"the batch's checkouts do not each hold both target files: {pairs}")
    subset = scratch.root / "1c-subset"
    for checkout in batch["checkouts"][: profile.libcst_files // 2]:
        shutil.copytree(checkout, subset / checkout.name)
    subset_files = sum(1 for _ in subset.rglob("*.py"))
    runs: dict[str, list[Run]] = {"apply": [], "floor": [], "apply_subset": [], "libcst": []}
    outputs: dict[str, dict[str, bytes]] = {}

    def snapshot(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}

    floor_once = lambda: runs["floor"].append(_checked(run_measured(floor_command(pristine)), "floor (batch)"))  # noqa: E731
    floor_once()
    spent = 0.0
    for i in range(profile.reps_1c):
        if i and spent >= profile.budget_1c:
            break
        work = _fresh_batch(pristine, scratch.root / "1c-apply")
        runs["apply"].append(_checked(run_measured([*llmfix, "apply", work]), "llmfix apply (batch)"))
        spent += runs["apply"][-1].wall
        outputs["apply"] = snapshot(work)
        floor_once()  # every apply run between two floor runs
        log(f"1c: apply run {i + 1}/{profile.reps_1c} took {fmt_s(runs['apply'][-1].wall)}")
    for i in range(profile.reps_1c_libcst):
        work = _fresh_batch(subset, scratch.root / "1c-apply-subset")
        runs["apply_subset"].append(_checked(run_measured([*llmfix, "apply", work]), "llmfix apply (subset)"))
        outputs["apply_subset"] = snapshot(work)
        work = _fresh_batch(subset, scratch.root / "1c-libcst")
        runs["libcst"].append(_libcst_runner(work))
        outputs["libcst"] = snapshot(work)
        log(f"1c: libcst.tool round {i + 1}/{profile.reps_1c_libcst} done")
    original = snapshot(pristine)
    patched = sum(1 for k, v in outputs["apply"].items() if v != original[k])
    same = sum(1 for k, v in outputs["apply_subset"].items() if outputs["libcst"].get(k) == v)
    result = {kind: stats(r) for kind, r in runs.items()}
    result.update(
        files=files,
        subset_files=subset_files,
        families=batch["families"],
        generate_seconds=generated,
        patched_files=patched,
        identical_to_libcst=same,
        libcst_commands=libcst_commands(),
        checkouts=pairs,
        rounds_cut=len(runs["apply"]) < profile.reps_1c,
    )
    for kind in runs:
        n = files if kind in ("apply", "floor") else subset_files
        result[kind]["files"] = n
        result[kind]["files_per_s"] = n / result[kind]["wall"]
        result[kind]["files_per_cpu_s"] = n / result[kind]["cpu"]
    result["vs_floor"] = result["apply"]["files_per_s"] / result["floor"]["files_per_s"]
    result["vs_floor_cpu"] = result["apply"]["files_per_cpu_s"] / result["floor"]["files_per_cpu_s"]
    result["vs_libcst"] = result["apply_subset"]["files_per_s"] / result["libcst"]["files_per_s"]
    result["vs_libcst_cpu"] = result["apply_subset"]["files_per_cpu_s"] / result["libcst"]["files_per_cpu_s"]
    return result


def rows_1c(r: dict) -> list[Row]:
    a, f, lib = r["apply"], r["floor"], r["libcst"]
    same_work = r["identical_to_libcst"] == r["subset_files"]
    return [
        Row(
            "1c",
            f"{r['files']} files ({r['files'] // 2} checkouts) in one `llmfix apply`: files/s vs floor (CPU ratio {r['vs_floor_cpu']:.2f}x)",
            f"{f['files_per_s']:.1f}/s",
            f"{a['files_per_s']:.1f}/s",
            f"{r['vs_floor']:.2f}x",
            GOALS["1c"].text,
            GOALS["1c"].status(r["vs_floor"]),
        ),
        Row(
            "1c",
            f"{r['subset_files']} of them: files/s vs the {len(r.get('libcst_commands', ())) or 5} codemods run one by one by `libcst.tool codemod` (CPU ratio {r['vs_libcst_cpu']:.2f}x)"
            + ("" if same_work else f"; outputs identical for {r['identical_to_libcst']}/{r['subset_files']} files, so not the same work: no goal"),
            f"{lib['files_per_s']:.1f}/s",
            f"{r['apply_subset']['files_per_s']:.1f}/s",
            f"{r['vs_libcst']:.2f}x",
            GOALS["1c-libcst"].text if same_work else "-",
            GOALS["1c-libcst"].status(r["vs_libcst"]) if same_work else "-",
        ),
    ]
