"""Run every llmfix benchmark and print one table.

    python bench/run_all.py            # full profile: the recorded figures (about 20 min)
    python bench/run_all.py --quick    # smoke run (a few minutes)
    python bench/run_all.py --only 1a,1c,3
    python bench/run_all.py --render bench/results/<date>.json   # re-word a saved run's report

1a-1c speed, 2 faults (2a-2c), 3 memory, 4 upstream's tests before/after the patch,
5 the patch's footprint, 6 health (6a the degradation alarm, 6b the decorator's cost).
Writes bench/results/<date>.md (full) or bench/results/<date>-quick.md, a JSON file
next to it with every raw figure, and, for a full run of everything, refreshes
bench/README_SECTION.md. Missed goals are profiled (bench/profile_apply.py). Progress
goes to stderr; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == REPO / "bench":
    sys.path[0] = str(REPO)  # import bench.* as a package, never shadow the checkout's modules
else:
    sys.path.insert(0, str(REPO))

from bench import faults, footprint, health, memory, report, speed, upstream_tests  # noqa: E402
from bench.common import FULL, QUICK, Profile, Scratch, compile_llmfix, load_average, log, machine  # noqa: E402
from bench.misses import profile_misses  # noqa: E402
from bench.report import ALL  # noqa: E402


def _git_revision() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "llmfix", "codemods"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        return f"{sha}{' + uncommitted changes in llmfix/ or codemods/' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_selected(selected: list[str], profile: Profile, scratch: Scratch) -> dict:
    results: dict = {}
    if "1a" in selected:
        log("1a: --help / check / apply / floor on the fixture")
        results["1a"] = speed.bench_1a(profile, scratch)
    if "1b" in selected:
        log(f"1b: apply on a {profile.big_files:,}-file tree")
        results["1b"] = speed.bench_1b(profile, scratch)
    if "1c" in selected:
        log(f"1c: {profile.batch_files} files: apply vs floor vs libcst.tool")
        results["1c"] = speed.bench_1c(profile, scratch)
    background = ThreadPoolExecutor(1)
    upstream = None
    if "4" in selected:  # its time is mostly SDK backoff sleeps: it runs next to the fault scenarios
        upstream = background.submit(upstream_tests.run, profile, scratch)
    if "2" in selected or "6" in selected:
        checkouts = faults.prepare(scratch)
        alarm_jobs = health.jobs(profile, checkouts) if "6" in selected else {}
        if "2" in selected:
            log("2: faults")
            results["2"] = faults.run(profile, scratch, checkouts, alarm_jobs)
            raw = results["2"]["raw"]
        else:
            log("6a: the degradation alarm")
            raw = faults.run_children(alarm_jobs, scratch.root / "health")
        if "6" in selected:
            results["6"] = {"6a": health.summarise_6a(raw, checkouts["old_behaviour"]), "6b": health.overhead(profile)}
    if "3" in selected:
        log("3: memory")
        results["3"] = memory.run(profile, scratch, results)
    if upstream is not None:
        results["4"] = upstream.result()
    background.shutdown()
    if "5" in selected:
        results["5"] = footprint.run(scratch, profile.footprint_fixtures)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-run profile (fewer runs, fewer files, shortened waits)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--no-write", action="store_true", help="print the table only; write no results file")
    parser.add_argument("--no-profile", action="store_true", help="do not profile the missed goals")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs of every fault scenario)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="re-render the report of a saved run (bench/results/<date>.json); runs nothing")
    args = parser.parse_args(argv)
    if args.render:
        return report.render(args.render)
    profile = QUICK if args.quick else FULL
    selected = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in selected if s not in ALL]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {ALL}")
    selected = [s for s in ALL if s in selected]
    started = time.perf_counter()
    info = machine()
    revision = _git_revision()
    log(f"profile {profile.name}; nproc {info['nproc']}, Python {info['python']}, load {info['load_start']}")
    compile_llmfix()
    scratch = Scratch()
    try:
        results = run_selected(selected, profile, scratch)
        rows = report.all_rows(results)
        profiles = {} if args.no_profile else profile_misses(results, rows, scratch, profile)
    finally:
        if args.keep:
            log(f"scratch kept at {scratch.root}")
        else:
            scratch.cleanup()
    elapsed = time.perf_counter() - started
    load_end = load_average()
    date = datetime.date.today().isoformat()
    command = "python bench/run_all.py" + (" --quick" if args.quick else "") + ("" if selected == list(ALL) else f" --only {','.join(selected)}")
    machine_line = (
        f"{info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, {info['platform']}; "
        f"litellm {info['versions']['litellm']}, openai {info['versions']['openai']}, libcst {info['versions']['libcst']}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in info['load_start'])}, at end {', '.join(f'{x:.2f}' for x in load_end)}"
    )
    header = {
        "command": command,
        "date": date,
        "profile": profile.name,
        "run_minutes": elapsed / 60,
        "machine_line": machine_line,
        "results_file": f"{date}.md" if profile is FULL else f"{date}-quick.md",
        "revision": revision,
    }
    print(report.table(rows))
    print()
    print(f"{profile.name} profile, {elapsed / 60:.1f} min; {machine_line}")
    if not args.no_write:
        report.write(header, info, profile, results, profiles, selected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
