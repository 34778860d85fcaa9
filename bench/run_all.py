"""Run every llmfix benchmark and print one table.

    python bench/run_all.py            # full profile: the recorded figures (about 10-15 min)
    python bench/run_all.py --quick    # smoke run (about 2-3 min)
    python bench/run_all.py --only 1a,1c,3
    python bench/run_all.py --render bench/results/<date>.json   # re-word a saved run's report

Writes bench/results/<date>.md (full) or bench/results/<date>-quick.md, a JSON file
next to it with every raw figure, and, for a full run of everything, refreshes
bench/README_SECTION.md. Progress goes to stderr; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == REPO / "bench":
    sys.path[0] = str(REPO)  # import bench.* as a package, never shadow the checkout's modules
else:
    sys.path.insert(0, str(REPO))

from bench import faults, memory, speed  # noqa: E402
from bench.common import FULL, QUICK, Row, Scratch, fmt_s, load_average, log, machine  # noqa: E402
from bench.generate import batch  # noqa: E402

ALL = ("1a", "1b", "1c", "2", "3")
RESULTS = REPO / "bench" / "results"


def _git_revision() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "llmfix", "codemods"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        return f"{sha}{' + uncommitted changes in llmfix/ or codemods/' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(rows: list[Row]) -> str:
    lines = [
        "| # | measure | baseline (floor / unpatched) | llmfix / patched | ratio | goal | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.bench} | {r.measure} | {r.baseline} | {r.llmfix} | {r.ratio} | {r.goal} | {r.status} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- profiles for missed goals


def _profile_script(mode: str, folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "profile_apply.py"), mode, str(folder)], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout)


def _stage_lines(stages: dict) -> list[str]:
    if "error" in stages:
        return [f"- profile failed: {stages['error']}"]
    total = stages["total"]
    files = stages["files"]
    lines = [f"In-process replay of apply's steps over {files} files ({fmt_s(total)} in all, {total / files * 1000:.0f} ms per file):", ""]
    lines.append("| step | seconds | share | per file |")
    lines.append("|---|---|---|---|")
    for step, seconds in sorted(stages["seconds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {step} | {seconds:.2f} | {seconds / total:.0%} | {seconds / files * 1000:.1f} ms |")
    lines.append("")
    lines.append("cProfile of the same work, self time by code area: " + ", ".join(f"{k} {v:.0%}" for k, v in stages["profile_share"].items() if v >= 0.01) + ".")
    return lines


def profiles(results: dict, rows: list[Row], scratch: Scratch) -> list[str]:
    missed = {r.bench for r in rows if r.status == "MISSED"}
    if "1a" in results and results["1a"]["ratio_apply_floor"] > 1.3:  # near the 1.5x line: worth a profile too
        missed.add("1a")
    out: list[str] = []
    if "1a" in missed:
        copy = scratch.copy_fixture("drtulu-canonical", "profile-1a")
        imports = _profile_script("imports", copy)
        stages = _profile_script("stages", copy)
        out += ["### 1a: `llmfix apply` on the fixture", ""]
        out += ["(Profiled whenever apply is above 1.3x the floor: on this machine it sits near its 1.5x goal.)", ""]
        r = results["1a"]
        out.append(
            f"Whole process: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} "
            f"(+{fmt_s(r['apply']['cpu'] - r['floor']['cpu'])}); `llmfix --help` alone (Python, click, llmfix.cli) costs {fmt_s(r['help']['cpu'])} CPU."
        )
        out.append("")
        if "error" not in imports:
            out.append(
                f"`-X importtime`: `llmfix apply --dry-run` spends {fmt_s(imports['apply_total'])} importing, the floor {fmt_s(imports['floor_total'])}. "
                "Imports the floor does not need (self time by package): "
                + ", ".join(f"{name} {fmt_s(sec)}" for name, sec in imports["extra_top"][:6])
                + "."
            )
            out.append("")
        if "error" not in stages and "error" not in imports:
            transforms = sum(v for k, v in stages["seconds"].items() if k.startswith("transform:"))
            extra = sum(v for _, v in imports["extra_top"])
            out.append(
                f"In short: of the +{fmt_s(r['apply']['cpu'] - r['floor']['cpu'])}, the five transforms on the two files take about "
                f"{fmt_s(transforms)} (half of it walking trees in codemods/_tree.py), imports the floor does not need about {fmt_s(extra)} "
                "(click, llmfix, codemods and more of libcst); the compile check and the writes a few ms."
            )
            out.append("")
        out += _stage_lines(stages) + [""]
    if "1b" in missed:
        r = results["1b"]
        top = ", ".join(f"{name} {calls}x {fmt_s(sec)}" for name, calls, sec in r["discover_profile"])
        out += [
            "### 1b: the 5,000-file tree",
            "",
            f"apply on the tree costs {fmt_s(r['big']['cpu'] - r['fixture']['cpu'])} CPU ({fmt_s(r['big']['wall'] - r['fixture']['wall'])} wall) more than on the fixture. "
            f"No extra file is parsed (the same two targets are planned); the difference is discovery: the known-layout lookups miss, so "
            f"`_walk_for_packages` walks all {r['folders']:,} folders, {fmt_s(r['discover_seconds'])} in-process "
            f"({r['discover_seconds'] / r['folders'] * 1e6:.0f} us per folder: scandir, a stat for pyvenv.cfg, os.walk's lstat, sorting). "
            f"cProfile of one discovery, self time: {top}.",
            "",
        ]
    if "1c" in missed:
        sample = scratch.root / "profile-1c"
        batch(sample, min(100, results["1c"]["files"]))
        stages = _profile_script("stages", sample)
        r = results["1c"]
        out += ["### 1c: `llmfix apply` on the batch", ""]
        out += [
            f"Whole process, {r['files']} files: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} CPU "
            f"({r['apply']['cpu'] / r['files'] * 1000:.0f} vs {r['floor']['cpu'] / r['files'] * 1000:.0f} ms per file). The floor is parse + render; "
            "apply adds five transforms (analysis, snippet parsing, tree rebuild), a compile check and the writes. Per step, on a sample generated the same way:",
            "",
        ]
        out += _stage_lines(stages) + [""]
        if "error" not in stages:
            sec = stages["seconds"]
            per = {k: v / stages["files"] * 1000 for k, v in sec.items()}
            transforms = sum(v for k, v in per.items() if k.startswith("transform:"))
            base = per.get("parse", 0) + per.get("render", 0)
            budget = base / 0.7 - base - per.get("compile check", 0)
            out.append(
                f"In short: parse + render cost {base:.0f} ms per file, the transforms {transforms:.0f} ms ({transforms / base:.1f}x the floor's work). "
                f"For 0.7x the floor, the five transforms together would have to fit in about {max(budget, 0):.0f} ms per file. "
                "Most of their time is repeated whole-tree walks: each transform re-finds the helpers and litellm calls and "
                "rebuilds parent maps for its edits (`codemods/_tree.py` holds about half of all self time)."
            )
            out.append("")
    if "2c" in missed:
        r = results["2"]["2c"]
        limit = r["precheck_timeout"]
        out += ["### 2c: time to a clear failure", ""]
        for key in ("blackhole-patched", "blackhole-patched-nofb", "deadproxy-patched"):
            p = r[key]
            times = p.get("attempts") or []
            attempts = ", ".join(f"{t:.2f} s" for t in times)
            where = f"check requests reached the mock at {attempts}" if attempts else "no request reached the mock (the proxy refused)"
            if len(times) >= 2:
                spread = times[-1] - times[0]
                where += " (one after another: each waits out the timeout)" if spread > limit / 2 else " (at once)"
            out.append(f"- {key}: {p['outcome']} after {fmt_s(p['seconds'] or float('nan'))}; {where}.")
        out += [
            "",
            "The patched generator raises once every model it checks (the model, then each fallback from "
            "LITELLM_FALLBACK_MODELS or the baked-in default) has failed; on a blackholed endpoint each check waits "
            "LITELLM_PRECHECK_TIMEOUT. Checks made one after another add up; checks made at once cost one timeout. "
            "The time before the first request reaches the mock is client set-up in a fresh process, which grows with the load.",
            "",
        ]
    return out


# ----------------------------------------------------------------------------- the report


def method_notes(profile) -> list[str]:
    return [
        "## How the figures are made",
        "",
        "- Every speed figure is a whole process, start-up included, run by a small wrapper process that times only its "
        "child and reads the child's CPU time and peak RSS with `resource.getrusage(RUSAGE_CHILDREN)`. "
        "The things compared are run interleaved (A, B, A, B...) after one untimed warm-up, so load changes hit both; "
        "figures are medians; CPU-time ratios are given beside the wall-clock ones because the machine is shared.",
        "- The floor: `python -c` that imports libcst, then parses and re-renders the same files (`parse_module(src).code`), "
        "nothing else. `llmfix` is the installed console script.",
        f"- 1b: a generated tree of {profile.big_files:,} .py files, about 12 per folder (stdlib text, decoy `run_utils.py` files that mention litellm "
        "outside `open_instruct/`, a fifth of the files inside `open_instruct/`), the DR Tulu checkout buried six folders down; "
        "`llmfix apply TREE`, paired with `llmfix apply FIXTURE` in the same loop.",
        f"- 1c: {profile.batch_files} generated target files (run_utils.py and rubric_utils.py of every patchable fixture family, "
        "each with renamed locals, shuffled default lines and extra comments; seeded) in one `llmfix apply DIR`, against the floor on "
        f"the same files. The libcst runner (`python -m libcst.tool codemod --no-format --hide-progress X.XCommand DIR` for the five commands "
        f"one after another, its default `-j`: one job per core) is compared with `llmfix apply` on the first {profile.libcst_files} of those files "
        "(on all 500 it takes about 7 minutes here); its output is checked byte for byte against llmfix's.",
        "- 2: two copies of `fixtures/drtulu-canonical`, one as is and one after `llmfix apply`; each scenario runs in its own "
        "forked process (one zygote imports and warms litellm once) with its own MockLLM on 127.0.0.1, real litellm "
        "and the checkout's real `generate_instance_wise_adaptive_rubrics` -> `run_litellm_async` -> `litellm.acompletion`.",
        "- 2a: the backoff of the openai SDK (0.5*2^k s capped at 8 s, minus up to 25% jitter) cannot be shortened, so "
        "it is measured for real: concurrent calls while every attempt is dropped record when each attempt reaches the mock; "
        "the start of a call's last attempt is the longest outage it survives (a refused connection fails as fast as a drop). "
        "Real outages (listener closed for W s, then reopened) confirm it on both sides of the threshold. "
        + ("Full profile: measured at the real defaults." if profile.outage_real_defaults else
           "Quick profile: the patched budget is extrapolated from a run with LITELLM_NUM_RETRIES=6 (each further retry adds one 8 s backoff times the jitter seen) and doubled for the default fallback."),
        "- 2b: the mock draws each attempt's fate from a seeded sequence: dropped with probability p; otherwise the answer's "
        "content is empty with probability 5%, else a valid rubric JSON. 32 generations at a time; latency is per generation, "
        "success or not. Expected yields: unpatched (1-p^6)*0.95, patched (1-p^22)*0.95 (11 attempts on the model, 11 on the fallback); "
        "empty content is not retried by either version.",
        "- 2c: cold start (first call in the process, litellm already imported and warmed). Blackhole = the mock accepts and never "
        "answers; dead proxy = http(s)_proxy on a closed loopback port. The unpatched blackhole run uses a short "
        "LITELLM_DEFAULT_TIMEOUT=T (the unpatched async helper reads it) and is projected to the 600 s default as "
        "measured + attempts * (600 - T); "
        + (f"the patched runs use the real LITELLM_PRECHECK_TIMEOUT={profile.precheck_timeout:g}." if profile.precheck_timeout == 30
           else f"the patched runs use LITELLM_PRECHECK_TIMEOUT={profile.precheck_timeout:g} (quick profile; the goal scales with it)."),
        "",
    ]


def details(results: dict) -> list[str]:
    out = ["## Details", ""]
    if "1a" in results:
        r = results["1a"]
        pr = r.get("pair_ratios")
        spread = f"; apply/floor within each round: {pr['min']:.2f}x to {pr['max']:.2f}x, median {pr['median']:.2f}x" if pr else ""
        out.append(f"1a ({r['command']}), medians of {r['apply']['n']} interleaved runs{spread}:")
        out.append("")
        out.append("| command | wall | min-max | CPU | peak RSS |")
        out.append("|---|---|---|---|---|")
        for kind in ("help", "check", "apply", "floor"):
            s = r[kind]
            out.append(f"| {kind} | {fmt_s(s['wall'])} | {fmt_s(s['wall_min'])}-{fmt_s(s['wall_max'])} | {fmt_s(s['cpu'])} | {s['rss']:.0f} MiB |")
        out.append("")
    if "1b" in results:
        r = results["1b"]
        out.append(
            f"1b: {r['py_files']:,} .py files (generated in {fmt_s(r['generate_seconds'])}); apply on the tree {fmt_s(r['big']['wall'])} wall "
            f"(runs {fmt_s(r['big']['wall_min'])}-{fmt_s(r['big']['wall_max'])}) / {fmt_s(r['big']['cpu'])} CPU vs {fmt_s(r['fixture']['wall'])} "
            f"({fmt_s(r['fixture']['wall_min'])}-{fmt_s(r['fixture']['wall_max'])}) / {fmt_s(r['fixture']['cpu'])} on the fixture "
            f"({r['big']['n']} pairs; a ratio below 1 means the walk costs less than the run-to-run spread); {r['folders']:,} folders; discovery alone {fmt_s(r['discover_seconds'])} in-process "
            f"({r['discover_seconds'] / r['folders'] * 1e6:.0f} us per folder: a tree with more, smaller folders costs proportionally more); "
            f"found: {', '.join(r['discovered'])}."
        )
        out.append("")
    if "1c" in results:
        r = results["1c"]
        fam = ", ".join(f"{k} {v}" for k, v in sorted(r["families"].items()))
        out.append(f"1c: {r['files']} files ({fam}); {r['patched_files']} patched by llmfix; libcst.tool's output identical to llmfix's for {r['identical_to_libcst']}/{r['subset_files']}.")
        out.append("")
        out.append("| runner | files | runs | wall | CPU | files/s (wall) | files/s (CPU) | peak RSS |")
        out.append("|---|---|---|---|---|---|---|---|")
        for kind, label in (("apply", "llmfix apply"), ("floor", "floor (parse+render)"), ("apply_subset", "llmfix apply"), ("libcst", "libcst.tool x5")):
            s = r[kind]
            out.append(
                f"| {label} | {s['files']} | {s['n']} | {fmt_s(s['wall'])} | {fmt_s(s['cpu'])} | {s['files_per_s']:.1f} | {s['files_per_cpu_s']:.1f} | {s['rss']:.0f} MiB |"
            )
        out.append("")
    if "2" in results:
        a, b, c = results["2"]["2a"], results["2"]["2b"], results["2"]["2c"]
        out.append("2a, attempt schedule of one call (seconds after the call started, every attempt dropped):")
        out.append("")
        out.append(f"- unpatched: {', '.join(f'{t:.2f}' for t in a['unpatched'].get('schedule', []))} (windows of all calls: {', '.join(f'{w:.1f}' for w in a['unpatched']['windows'])})")
        for key in ("patched_nofb", "patched"):
            entry = a.get(key, {})
            sched = entry.get("schedule")
            windows = ", ".join(f"{w:.1f}" for w in entry.get("windows", []))
            text = f"- {key}: {entry.get('method', '')}"
            if sched:
                models = entry.get("models") or []
                switch = next((i for i, m in enumerate(models) if m != models[0]), None)
                text += f"; attempts at {', '.join(f'{t:.2f}' for t in sched)}"
                if switch is not None:
                    text += f" (fallback {models[switch]} from attempt {switch + 1})"
            if windows:
                text += f" (windows of all calls: {windows})"
            out.append(text)
        outages = "; ".join(
            f"{name}: W={v['width']:g} s -> {'rubric' if v['outcome'] == 'rubric' else v['outcome']} after {fmt_s(v['seconds'] or float('nan'))}"
            for name, v in a["outages"].items()
        )
        out.append(f"- real outages: {outages}")
        out.append(
            "- why: unpatched, 5 retries sleep 0.5+1+2+4+8 = 15.5 s nominal; patched, LITELLM_NUM_RETRIES=10 sleeps "
            "0.5+1+2+4+8x6 = 55.5 s nominal. The SDK takes up to 25% off every sleep (0.875 on average), so the measured "
            "budgets sit near 13.6 s and 48.6 s. The patch also gives the async helper a default fallback (gpt-4.1-mini, where "
            "the unpatched helper had none): a bare model name goes to the same endpoint and gets its own 11 attempts, which "
            "doubles the window when the whole endpoint is down."
        )
        for crash in a["crashes"] + b["crashes"] + c["crashes"]:
            out.append(f"- CRASH {crash}")
        out.append("")
        out.append(
            "2b: yield differs only when whole retry budgets run out (at 60% drops, 0.6^6 = 4.7% of unpatched calls); empty "
            "content is not retried by either version, so both stay below 95%. The patched p95 is higher at 60% because calls "
            "the unpatched code abandons after ~14 s keep retrying and then succeed."
        )
        out.append("")
        out.append("| scenario | n | non-None | expected | p50 | p95 | max | attempts at the mock (drop/empty/ok) | wall |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for key in ("unpatched-30", "patched-30", "unpatched-60", "patched-60"):
            if key in b:
                s = b[key]
                beh = s["behaviours"]
                out.append(
                    f"| {key} | {s['n']} | {s['yield']:.1%} | {s['expected']:.1%} | {fmt_s(s['p50'])} | {fmt_s(s['p95'])} | {fmt_s(s['max'])} | "
                    f"{s['attempts']} ({beh['drop']}/{beh['empty']}/{beh['ok']}) | {fmt_s(s['wall'])} |"
                )
        out.append("")
        out.append("2c:")
        out.append("")
        for p in c["blackhole_unpatched"]:
            out.append(
                f"- blackhole, unpatched, LITELLM_DEFAULT_TIMEOUT={p['timeout']:g}: generator returned {p['outcome']} after {fmt_s(p['seconds'])} "
                f"({p['attempts']} attempts); projected at 600 s: {fmt_s(p['projected'])} ({p['projected'] / 60:.0f} min)"
            )
        if "blackhole_slope" in c:
            out.append(f"- measured slope between the two timeouts: {c['blackhole_slope']:.2f} s per second of timeout (the projection assumes 6, one per attempt)")
        for key in ("blackhole-patched", "blackhole-patched-nofb", "deadproxy-unpatched", "deadproxy-patched"):
            p = c[key]
            first = p["error"][0] if p["error"] else ""
            out.append(f"- {key}: {p['outcome']} after {fmt_s(p['seconds'] or float('nan'))}" + (f"; error: `{first}`" if first else ""))
        out.append("")
        phases = results["2"]["phase_seconds"]
        zyg = results["2"].get("zygotes", {})
        out.append(
            "Fault phases took "
            + ", ".join(f"{k} {fmt_s(v)}" for k, v in phases.items())
            + "; litellm import + warm-up per zygote: "
            + ", ".join(f"{k} {fmt_s(v.get('import_and_warm_up_seconds', float('nan')))}" for k, v in zyg.items())
            + "."
        )
        out.append("")
    if "3" in results:
        r = results["3"]
        out.append(
            f"3: fixture peak over {r['fixture']['runs']} runs ({r['fixture']['source']}); batch peak over {r['batch']['runs']} runs ({r['batch']['source']}). "
            f"On the batch, apply grows by about {(r['batch']['apply'] - r['fixture']['apply']) / max(r['batch']['files'] - 2, 1) * 1024:.0f} KiB per file: "
            "it plans every file before writing any (all-or-nothing writes) and keeps each file's trees (one per transform step) until then."
        )
        out.append("")
    return out


def goals(rows: list[Row]) -> list[str]:
    out = ["## Goals", ""]
    for r in rows:
        if r.goal != "-" and r.status in ("met", "MISSED"):
            out.append(f"- {r.bench} {r.status}: {r.measure}: {r.llmfix} vs {r.baseline}, {r.ratio} (goal {r.goal})")
    out.append("")
    return out


def readme_notes(results: dict) -> list[str]:
    """A few sentences under the README table: what the misses and the noisy figures mean."""
    notes = []
    if "1a" in results and "pair_ratios" in results["1a"]:
        pr = results["1a"]["pair_ratios"]
        notes.append(
            f"- 1a: within single rounds apply/floor ranged {pr['min']:.2f}x to {pr['max']:.2f}x (median {pr['median']:.2f}x), "
            "so the 1.5x line sits inside this machine's noise. The gap over the floor is mostly the five transforms on the two "
            "files, then imports the floor does not need (click, llmfix, codemods)."
        )
    if "1c" in results:
        r = results["1c"]
        notes.append(
            f"- 1c: apply spends about {r['apply']['cpu'] / r['files'] * 1000:.0f} ms CPU per file against the floor's "
            f"{r['floor']['cpu'] / r['files'] * 1000:.0f} ms; the transforms cost about twice parse + render, half of it in "
            "repeated whole-tree walks (codemods/_tree.py). Against the libcst runner llmfix does "
            f"{r['vs_libcst_cpu']:.1f}x the files per CPU second; libcst.tool runs one process per core, so its wall-clock "
            "ratio depends on how many cores are free."
        )
    if "2" in results:
        notes.append(
            "- 2a: the patched async helper also gains a default fallback (gpt-4.1-mini) on the same endpoint, which gets its own "
            "11 attempts: that doubles the ~49 s retry budget. The SDK's jitter (up to 25% off each backoff) keeps the budgets "
            "below the nominal 15.5 s and 55.5 s."
        )
        notes.append(
            "- 2b: the yield differs only when whole retry budgets run out; empty content is retried by neither version. "
            "The patched p95 is higher at 60% drops because calls the unpatched code gives up on keep retrying and succeed."
        )
    if "3" in results:
        notes.append(
            "- 3: apply plans every file before writing any (all-or-nothing), keeping each file's trees until then: "
            "about 0.4 MiB per file on a batch."
        )
    return ["Notes:", "", *notes, ""] if notes else []


def readme_section(rows: list[Row], header: dict, results: dict | None = None) -> str:
    lines = [
        "## Benchmarks",
        "",
        f"Made with `{header['command']}` on {header['date']} ({header['profile']} profile, {header['run_minutes']:.1f} min), "
        f"{header['machine_line']}. Full report: `bench/results/{header['results_file']}`.",
        "",
        "The machine was shared with other work, so the speed figures are medians of interleaved runs and the ratios "
        "matter more than the seconds. Fault figures use real litellm against a local mock endpoint; the 2c unpatched "
        "worst case is projected from a short LITELLM_DEFAULT_TIMEOUT (see the report for every scaling).",
        "",
        table(rows),
        "",
        *readme_notes(results or {}),
    ]
    return "\n".join(lines)


def all_rows(results: dict) -> list[Row]:
    """The table rows for whatever benchmarks are in ``results`` (also used to re-render a saved run)."""
    rows: list[Row] = []
    if "1a" in results:
        rows += speed.rows_1a(results["1a"])
    if "1b" in results:
        rows += speed.rows_1b(results["1b"])
    if "1c" in results:
        rows += speed.rows_1c(results["1c"])
    if "2" in results:
        r = results["2"]
        rows += faults.rows_2a(r["2a"]) + faults.rows_2b(r["2b"]) + faults.rows_2c(r["2c"])
    if "3" in results:
        rows += memory.rows(results["3"])
    return rows


def derived_notes(results: dict, rows: list[Row]) -> list[str]:
    """Explanations that follow from the saved figures alone (recomputed when a run is re-rendered)."""
    out: list[str] = []
    libcst_row = next((r for r in rows if r.bench == "1c" and "libcst" in r.measure), None)
    if libcst_row is not None and "1c" in results:
        r = results["1c"]
        lib, mine = r["libcst"], r["apply_subset"]
        cores = lib["cpu"] / lib["wall"]
        out += [
            "### 1c: llmfix against the libcst.tool runner, wall clock vs CPU",
            "",
            f"libcst.tool runs one worker process per core (`-j` default); in this run they kept {cores:.2f} cores busy on average "
            f"({fmt_s(lib['cpu'])} CPU in {fmt_s(lib['wall'])}), while `llmfix apply` is one process ({fmt_s(mine['cpu'])} CPU in {fmt_s(mine['wall'])}). "
            f"Per CPU second llmfix patches {r['vs_libcst_cpu']:.2f}x as many files as the libcst runner (one parse and one render per file "
            f"instead of five of each, one start-up instead of five); on the wall clock that becomes {r['vs_libcst']:.2f}x, i.e. the CPU ratio divided by "
            "the cores libcst.tool could get. With two idle cores the wall ratio is about half the CPU ratio; on a busy machine the two converge. "
            "Where llmfix's own CPU goes is the 1c profile above: the transforms, not parsing.",
            "",
        ]
    return out


def write_report(header: dict, info: dict, profile, results: dict, profile_lines: list[str], selected: list[str]) -> None:
    """bench/results/<file>.md and .json; README_SECTION.md for a full run of everything."""
    rows = all_rows(results)
    report = [
        f"# llmfix benchmarks, {header['date']} ({profile.name} profile)",
        "",
        f"Command: `{header['command']}` at revision {header['revision']}; the run took {header['run_minutes']:.1f} min.",
        "",
        f"Machine: {header['machine_line']}. Other work shared the machine during the run, hence medians, interleaving and CPU ratios.",
        "",
        table(rows),
        "",
        *goals(rows),
        *(
            ["## Profiles of the missed (and nearly missed) goals", "", *profile_lines, *derived_notes(results, rows)]
            if profile_lines or derived_notes(results, rows)
            else []
        ),
        *method_notes(profile),
        *details(results),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_file = header["results_file"]
    (RESULTS / results_file).write_text("\n".join(report).rstrip() + "\n", encoding="utf-8")
    saved = {"header": header, "machine": info, "selected": selected, "profile_lines": profile_lines, "results": results}
    (RESULTS / results_file.replace(".md", ".json")).write_text(json.dumps(saved, indent=1, default=str), encoding="utf-8")
    log(f"wrote bench/results/{results_file}")
    if profile is FULL and selected == list(ALL):
        (REPO / "bench" / "README_SECTION.md").write_text(readme_section(rows, header, results), encoding="utf-8")
        log("wrote bench/README_SECTION.md")


def render(path: Path) -> int:
    """Re-render the report of a saved run (same figures) after a change to the report's wording."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    header, results = saved["header"], saved["results"]
    profile = FULL if header["profile"] == "full" else QUICK
    write_report(header, saved["machine"], profile, results, saved["profile_lines"], saved["selected"])
    print(table(all_rows(results)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-run profile (fewer runs, fewer files, shortened waits)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--no-write", action="store_true", help="print the table only; write no results file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs of every fault scenario)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="re-render the report of a saved run (bench/results/<date>.json); runs nothing")
    args = parser.parse_args(argv)
    if args.render:
        return render(args.render)
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
    scratch = Scratch()
    results: dict = {}
    try:
        if "1a" in selected:
            log("1a: --help / check / apply / floor on the fixture")
            results["1a"] = speed.bench_1a(profile, scratch)
        if "1b" in selected:
            log(f"1b: apply on a {profile.big_files:,}-file tree")
            results["1b"] = speed.bench_1b(profile, scratch)
        if "1c" in selected:
            log(f"1c: {profile.batch_files} files: apply vs floor vs libcst.tool")
            results["1c"] = speed.bench_1c(profile, scratch)
        if "2" in selected:
            log("2: faults")
            results["2"] = faults.run(profile, scratch)
        if "3" in selected:
            log("3: memory")
            results["3"] = memory.run(profile, scratch, results)
        rows = all_rows(results)
        log("profiles for missed goals")
        profile_lines = profiles(results, rows, scratch)
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
    print(table(rows))
    print()
    print(f"{profile.name} profile, {elapsed / 60:.1f} min; {machine_line}")
    if not args.no_write:
        write_report(header, info, profile, results, profile_lines, selected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
