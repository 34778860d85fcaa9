"""Run every llmfix benchmark and print one table.

    python bench/run_all.py            # full profile: the recorded figures (about 20 min)
    python bench/run_all.py --quick    # smoke run (a few minutes)
    python bench/run_all.py --only 1a,1c,5
    python bench/run_all.py --render bench/results/<date>.json   # re-word a saved run's report

1a-1c speed and memory, 2 faults (2a-2c), 4 upstream's tests before/after the patch, 5 the
patch's footprint, 6 health (6a the rubric alarm, 6b the decorator's cost, 6c the judge).
Writes bench/results/<date>.md (full) or <date>-quick.md (a run of some benchmarks only:
<date>[-quick]-only-<list>.md) and a JSON file beside it with every raw figure. Missed speed goals are profiled (bench/profile_apply.py). Progress goes
to stderr; the table to stdout. llmfix is the installed one (the import and the console
script), never the copy in this checkout.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    del sys.path[0]
if "bench" not in sys.modules:  # bench as a package, without putting this checkout's llmfix/ on sys.path
    _spec = importlib.util.spec_from_file_location("bench", HERE / "__init__.py", submodule_search_locations=[str(HERE)])
    sys.modules["bench"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["bench"])

from bench import (  # noqa: E402
    faults,
    footprint,  # noqa: E402
    health,
    report,
    speed,
    upstream_tests,
)
from bench.common import FULL, QUICK, LoadSampler, Profile, Scratch, compile_llmfix, load_average, log, machine  # noqa: E402
from bench.profile_apply import profile_misses  # noqa: E402
from bench.report import ALL  # noqa: E402


def _revision() -> str:
    """The commit of the llmfix under test (the installed one's checkout), and whether it has uncommitted changes."""
    import llmfix

    source = Path(llmfix.__file__).resolve().parent.parent
    try:
        git = lambda *args: subprocess.run(["git", *args], cwd=source, capture_output=True, text=True, check=True).stdout.strip()  # noqa: E731
        dirty = git("status", "--porcelain", "--", "llmfix", "codemods")
        return f"{git('rev-parse', '--short', 'HEAD')} ({source}){' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):  # an export: its REVISION file, if any, says what it is
        note = source / "REVISION"
        return f"{note.read_text().strip() if note.is_file() else 'unknown'} ({source})"


def _faults_and_health(selected: list[str], profile: Profile, scratch: Scratch) -> dict:
    """2 and 6a/6c in forked scenarios: the waiting ones together, then 2b (busier); 6b after."""
    from llmfix.proxy import closed_port

    results: dict = {}
    checkouts = faults.prepare(scratch)
    jobs = faults.jobs(profile, checkouts, f"http://127.0.0.1:{closed_port()}") if "2" in selected else {}
    jobs.update(health.jobs(profile, checkouts) if "6" in selected else {})
    yield_jobs = {k: jobs.pop(k) for k in list(jobs) if k.startswith("2b-")}
    phases, raw = {}, {}
    for label, batch in (("2a+2c+6a+6c", jobs), ("2b", yield_jobs)) if profile is FULL else (("all scenarios", {**jobs, **yield_jobs}),):
        if batch:
            log(f"faults: {label} ({len(batch)} scenarios in parallel forks)")
            started = time.perf_counter()
            raw.update(faults.run_children(batch, scratch.root / "faults"))
            phases[label] = time.perf_counter() - started
    raw.pop("_zygote", None)
    if "2" in selected:
        results["2"] = {**faults.summarise(profile, raw), "phases": phases, "judge_written_by_bench": checkouts["judge_written_by_bench"]}
    if "6" in selected:
        results["6"] = {"alarms": health.summarise(raw), "6b": health.overhead(profile), "judge_written_by_bench": checkouts["judge_written_by_bench"]}
    results["_raw"] = raw
    return results


def run_selected(selected: list[str], profile: Profile, scratch: Scratch) -> dict:
    results = speed.run(selected, profile, scratch)
    with ThreadPoolExecutor(1) as background:  # 4's time is mostly SDK backoff sleeps: it runs beside the fault scenarios
        upstream = background.submit(upstream_tests.run, profile, scratch) if "4" in selected else None
        if "2" in selected or "6" in selected:
            found = _faults_and_health(selected, profile, scratch)
            (scratch.root / "faults" / "raw.json").write_text(json.dumps(found.pop("_raw")))
            results.update(found)
        if upstream is not None:
            results["4"] = upstream.result()
    if "5" in selected:
        results["5"] = footprint.run(scratch, profile.footprint_fixtures)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-run profile (fewer runs, fewer files, shortened waits)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--no-write", action="store_true", help="print the table only; write no results file")
    parser.add_argument("--no-profile", action="store_true", help="do not profile the missed speed goals")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs of every fault scenario)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="re-render the report of a saved run; runs nothing")
    args = parser.parse_args(argv)
    if args.render:
        return report.render(args.render)
    profile = QUICK if args.quick else FULL
    selected = [s.strip() for s in args.only.split(",") if s.strip()]
    if set(selected) - set(ALL):
        parser.error(f"unknown benchmark(s) {sorted(set(selected) - set(ALL))}; choose from {ALL}")
    selected = [s for s in ALL if s in selected]
    started, info = time.perf_counter(), machine()
    log(f"profile {profile.name}; nproc {info['nproc']}, Python {info['python']}, load {info['load_start']}")
    compile_llmfix()
    scratch, load = Scratch(), LoadSampler()
    try:
        results = run_selected(selected, profile, scratch)
        rows = report.all_rows(results)
        profiles = {} if args.no_profile else profile_misses(results, rows, scratch, profile)
    finally:
        log(f"scratch kept at {scratch.root}") if args.keep else scratch.cleanup()
    minutes, load_end, date = (time.perf_counter() - started) / 60, load_average(), datetime.date.today().isoformat()
    info["load_during"] = during = load.stop()
    command = "python bench/run_all.py" + (" --quick" if args.quick else "") + ("" if selected == list(ALL) else f" --only {','.join(selected)}")
    machine_line = (
        f"{info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, {info['platform']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f"; load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in info['load_start'])}, at end {', '.join(f'{x:.2f}' for x in load_end)}; "
        f"1-min load during the run (sampled every 15 s, {during['samples']} samples)"
        f": median {during['median']:.1f}, min {during['min']:.1f}, max {during['max']:.1f}"
    )
    header = {
        "command": command,
        "date": date,
        "profile": profile.name,
        "run_minutes": minutes,
        "machine_line": machine_line,
        "results_file": f"{date}{'' if profile is FULL else '-quick'}{'' if selected == list(ALL) else '-only-' + '-'.join(selected)}.md",
        "revision": _revision(),
    }
    print(report.table(rows))
    print(f"\n{profile.name} profile, {minutes:.1f} min; {machine_line}")
    if not args.no_write:
        report.write(header, info, profile, results, profiles, selected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
