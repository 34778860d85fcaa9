"""The benchmark report: the table, the goals, the profiles of the misses, how the figures
are made, the details; bench/results/<date>.md and .json, and the README section.

Everything here is computed from the saved results, so ``run_all.py --render`` can re-word
an old run without running anything.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import faults, footprint, health, memory, speed, upstream_tests
from bench.common import CANONICAL, FULL, GOALS, QUICK, REPO, Row, fmt_s, log
from bench.misses import NEAR_1A

RESULTS = REPO / "bench" / "results"
ALL = ("1a", "1b", "1c", "2", "3", "4", "5", "6")


def table(rows: list[Row]) -> str:
    lines = [
        "| # | measure | baseline (floor / unpatched) | llmfix / patched | ratio | goal | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.bench} | {r.measure} | {r.baseline} | {r.llmfix} | {r.ratio} | {r.goal} | {r.status} |")
    return "\n".join(lines)


def all_rows(results: dict) -> list[Row]:
    """The table rows for whatever benchmarks are in ``results``."""
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
    if "4" in results:
        rows += upstream_tests.rows(results["4"])
    if "5" in results:
        rows += footprint.rows(results["5"])
    if "6" in results:
        if "6a" in results["6"]:
            rows += health.rows_6a(results["6"]["6a"])
        if "6b" in results["6"]:
            rows += health.rows_6b(results["6"]["6b"])
    return rows


def goals(rows: list[Row]) -> list[str]:
    out = ["## Goals", ""]
    for r in rows:
        if r.goal != "-" and r.status in ("met", "MISSED"):
            out.append(f"- {r.bench} {r.status}: {r.measure}: {r.llmfix} vs {r.baseline}, {r.ratio} (goal {r.goal})")
    out.append("")
    return out


# ----------------------------------------------------------------------------- profiles of the misses


def _share(items, limit: float = 0.01, count: int = 8) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in list(items)[:count] if share >= limit)


def stage_lines(stages: dict) -> list[str]:
    if "error" in stages:
        return [f"- profile failed: `{stages['error'][-300:]}`", ""]
    total, files = stages["total"], stages["files"]
    lines = [
        f"In-process `llmfix.workflow.apply` plus the report the CLI prints, over {files} files: {fmt_s(total)} "
        f"({total / files * 1000:.0f} ms per file). Step times are exclusive (a step inside another counts once):",
        "",
        "| step | seconds | share | per file | calls |",
        "|---|---|---|---|---|",
    ]
    rest = 0.0
    for step, seconds in sorted(stages["seconds"].items(), key=lambda kv: -kv[1]):
        if seconds / total < 0.01:
            rest += seconds
            continue
        lines.append(f"| {step} | {seconds:.2f} | {seconds / total:.0%} | {seconds / files * 1000:.1f} ms | {stages['calls'].get(step, '-')} |")
    lines.append(f"| steps under 1% each | {rest:.2f} | {rest / total:.0%} | {rest / files * 1000:.1f} ms | |")
    lines.append("")
    cp = stages.get("cprofile", {})
    if cp:
        lines.append("cProfile of a second copy (self time; the profiler slows libcst's many small calls, so shares, not seconds):")
        lines.append("")
        lines.append(f"- by code area: {_share(cp['areas'].items())}.")
        lines.append(f"- by module: {_share(cp['modules'], count=10)}.")
        lines.append("- top functions, self time: " + "; ".join(f"{name} {calls:,} calls {share:.0%}" for name, calls, share in cp["self"][:10]) + ".")
        lines.append(
            "- llmfix functions by cumulative time (inclusive): "
            + "; ".join(f"{name} {share:.0%}" for name, _, share in cp["cumulative_llmfix"][:12])
            + "."
        )
        lines.append("")
    if stages.get("not_found"):
        lines += [f"(Steps this checkout no longer has, so not timed: {', '.join(stages['not_found'])}.)", ""]
    return lines


def _steps_per_file(stages: dict) -> dict[str, float]:
    return {k: v / stages["files"] * 1000 for k, v in stages["seconds"].items()}


def profile_sections(results: dict, profiles: dict, rows: list[Row]) -> list[str]:
    out: list[str] = []
    missed = {r.bench for r in rows if r.status == "MISSED"}
    if "1a" in profiles:
        r, p = results["1a"], profiles["1a"]
        out += ["### 1a: `llmfix apply` on the fixture", ""]
        if "1a" not in missed:
            out += [f"(Met, but profiled: from {NEAR_1A}x on, apply sits within this machine's noise of its goal.)", ""]
        extra_cpu = r["apply"]["cpu"] - r["floor"]["cpu"]
        out.append(
            f"Whole process: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} (+{fmt_s(extra_cpu)}); "
            f"`llmfix --help` alone (Python, click, llmfix.cli) costs {fmt_s(r['help']['cpu'])} CPU. "
            f"The goal ({GOALS['1a'].text}) allows apply {fmt_s(r['floor']['wall'] * GOALS['1a'].value)} wall here."
        )
        out.append("")
        imports = p["imports"]
        if "error" not in imports:
            out.append(
                f"`-X importtime`: `llmfix apply --dry-run` spends {fmt_s(imports['apply_total'])} importing, the floor {fmt_s(imports['floor_total'])}. "
                "Imports the floor does not need (self time by package): " + ", ".join(f"{name} {fmt_s(sec)}" for name, sec in imports["extra_top"][:6]) + "."
            )
            out.append("")
        out += stage_lines(p["stages"])
    if "1b" in missed and "1b" in results:
        r = results["1b"]
        top = ", ".join(f"{name} {calls}x {fmt_s(sec)}" for name, calls, sec in r["discover_profile"])
        out += [
            "### 1b: the 5,000-file tree",
            "",
            f"apply on the tree costs {fmt_s(r['big']['cpu'] - r['fixture']['cpu'])} CPU ({fmt_s(r['big']['wall'] - r['fixture']['wall'])} wall) more than on the fixture. "
            f"The same two targets are planned; the difference is discovery: `_walk_for_packages` walks all {r['folders']:,} folders, "
            f"{fmt_s(r['discover_seconds'])} in-process ({r['discover_seconds'] / r['folders'] * 1e6:.0f} us per folder). cProfile of one discovery, self time: {top}.",
            "",
        ]
    if "1c" in profiles and "1c" in results:
        r, stages = results["1c"], profiles["1c"]["stages"]
        out += ["### 1c: `llmfix apply` on the batch", ""]
        per_apply = r["apply"]["cpu"] / r["files"] * 1000
        per_floor = r["floor"]["cpu"] / r["files"] * 1000
        out.append(
            f"Whole process, {r['files']} files: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} "
            f"({per_apply:.0f} vs {per_floor:.0f} ms per file). For {GOALS['1c'].text} the floor's files/s, apply would have to stay "
            f"under about {per_floor / GOALS['1c'].value:.0f} ms per file. The steps, on {stages.get('files', '?')} files generated the same way:"
        )
        out.append("")
        out += stage_lines(stages)
        if "error" not in stages:
            per = _steps_per_file(stages)
            parse = per.get("parse: the target files", 0.0)
            render = per.get("render (Module.code)", 0.0)
            others = sorted(((k, v) for k, v in per.items() if k not in ("parse: the target files", "render (Module.code)")), key=lambda kv: -kv[1])
            out.append(
                f"In short: parsing the targets and rendering (what the floor does) take {parse + render:.0f} ms per file; "
                f"everything else {sum(v for _, v in others):.0f} ms, most of it "
                + ", ".join(f"{k} {v:.0f} ms" for k, v in others[:5])
                + "."
            )
            out.append("")
    if "3" in profiles:
        m = profiles["3"]["memory"]
        out += ["### 3: peak memory of the batch", ""]
        if "3" in results:
            b, f = results["3"]["batch"], results["3"]["fixture"]
            growth = (b["apply"] - f["apply"]) / max(b["files"] - 2, 1) * 1024
            allowed = (b["floor"] * GOALS["3"].value - f["apply"]) / max(b["files"] - 2, 1) * 1024
            out.append(
                f"Peak RSS: apply {b['apply']:.0f} MiB on {b['files']} files, {f['apply']:.0f} MiB on the fixture's 2 ({f['apply'] / f['floor']:.2f}x the floor "
                f"already: imports and what a process fills once); the floor {b['floor']:.0f} MiB whatever the count (it keeps one tree at a time). "
                f"Apply grows about {growth:.0f} KiB per file: it plans every file before writing any (all-or-nothing writes) and keeps each plan "
                f"until then. {GOALS['3'].text} the floor's peak would leave about {max(allowed, 0):.0f} KiB per file after the fixed part."
            )
            out.append("")
        if "error" in m:
            out += [f"- memory profile failed: `{m['error'][-300:]}`", ""]
        else:
            out.append(
                f"tracemalloc over {m['files']} files of the batch in {m['checkouts']} checkouts, after an untraced dry run over the same files "
                f"(so caches filled once per process are not counted): when planning returns, apply holds {m['kept_mib']:.1f} MiB it allocated, "
                f"{m['per_file_kib']:.0f} KiB of Python objects per file (RSS adds the allocator's overhead). "
                "What a file's plan keeps, by the innermost llmfix function that allocated it:"
            )
            out.append("")
            out.append("| allocated in | KiB per file | share |")
            out.append("|---|---|---|")
            for site, kib, share in m["per_file_by_llmfix_function"]:
                out.append(f"| {site} | {kib:.0f} | {share:.0%} |")
            out.append("")
    if "2c" in missed and "2" in results:
        r = results["2"]["2c"]
        out += ["### 2c: time to a clear failure", ""]
        for key in faults.FAILURE_CASES:
            p = r[key]
            times = p.get("attempts") or []
            where = f"requests reached the mock at {', '.join(f'{t:.2f} s' for t in times)}" if times else "no request reached the mock"
            out.append(f"- {key}: {p['outcome']} after {fmt_s(p['seconds'] or float('nan'))}; {where}" + (f"; `{p['error'][0]}`" if p["error"] else "") + ".")
        out.append("")
    return out


# ----------------------------------------------------------------------------- how the figures are made


def method_notes(profile, results: dict) -> list[str]:
    lines = [
        "## How the figures are made",
        "",
        "- Every speed figure is a whole process, start-up included, run by a small wrapper process that times only its "
        "child and reads the child's CPU time and peak RSS with `resource.getrusage(RUSAGE_CHILDREN)`. "
        "The things compared are run interleaved (A, B, A, B...) after one untimed warm-up, so load changes hit both; "
        "figures are medians; CPU-time ratios are given beside the wall-clock ones because the machine is shared.",
        "- The floor: `python -c` that imports libcst, then parses and re-renders the same files (`parse_module(src).code`), "
        "nothing else. `llmfix` is the installed console script, run as a user runs it (`llmfix apply PATH`, its report to /dev/null).",
        f"- 1a: `{CANONICAL}` (run_chatopenai, run_azure_openai, run_litellm, run_litellm_async and the rubric generator): "
        "a fresh copy per apply run, the floor on the same two files.",
        f"- 1b: a generated tree of {profile.big_files:,} .py files, about 12 per folder (stdlib text, decoy `run_utils.py` files that mention litellm "
        "outside `open_instruct/`, a fifth of the files inside `open_instruct/`), the DR Tulu checkout buried six folders down; "
        "`llmfix apply TREE`, paired with `llmfix apply FIXTURE` in the same loop.",
        f"- 1c: {profile.batch_files} generated target files in {profile.batch_files // 2} checkouts, each with both files (run_utils.py and "
        "rubric_utils.py of a patchable fixture family, with renamed locals, shuffled default lines and extra comments; seeded), so the "
        "checkout-level planning runs for every pair (checked before timing: llmfix's discovery groups them two by two). "
        f"`llmfix apply DIR` against the floor on the same files: floor, apply, floor, ... up to {profile.reps_1c} apply runs (none starts after "
        f"{fmt_s(profile.budget_1c)} of apply runs; one at least). The libcst runner (`python -m libcst.tool codemod --no-format --hide-progress "
        "X.XCommand DIR` for each transform one after another, its default `-j`: one job per core) is compared with `llmfix apply` on the first "
        f"{profile.libcst_files} files; its output is compared byte for byte with llmfix's (run one by one, the transforms can't plan a checkout together).",
        "- 2: two copies of `fixtures/drtulu-canonical`, one as is and one after `llmfix apply`; each scenario runs in its own "
        "forked process (one zygote imports and warms litellm once) with its own MockLLM on 127.0.0.1, real litellm "
        "and the checkout's real `generate_instance_wise_adaptive_rubrics` -> `run_litellm_async` -> `litellm.acompletion`.",
        "- 2a: the backoff of the openai SDK (0.5*2^k s capped at 8 s, minus up to 25% jitter) cannot be shortened, so "
        "it is measured for real: concurrent calls while every attempt is dropped record when each attempt reaches the mock; "
        "the start of a call's last attempt is the longest outage it survives (a refused connection fails as fast as a drop). "
        "Real outages (listener closed for W s, then reopened) confirm it on both sides of the threshold. "
        + ("Full profile: measured at the patched defaults." if profile.outage_real_defaults else
           f"Quick profile: the patched budget is extrapolated from a run with LITELLM_NUM_RETRIES={faults.QUICK_RETRIES} (each further retry adds one 8 s backoff times the jitter seen, per model tried)."),
        "- 2b: the mock draws each attempt's fate from a seeded sequence: dropped with probability p; otherwise the answer's "
        "content is empty with probability 5%, else a valid rubric JSON. 32 generations at a time; latency is per generation, "
        "success or not. Expected yields: unpatched (1-p^6)*0.95, patched (1-p^n)*0.95 with n the patched attempts "
        f"({results.get('2', {}).get('2b', {}).get('patched_attempts', 11)}: 11 per model tried); empty content is not retried by either version.",
        "- 2c: cold start (first call in the process, litellm already imported and warmed). Blackhole = the mock accepts and never "
        f"answers; refused = the mock's port closed throughout; the blips last a tenth of the precheck's timeout ({profile.precheck_timeout * faults.BLIP_SHARE:g} s): every attempt reset (drop-blip) or the port closed (refused-blip), then answers; dead proxy = http(s)_proxy on a "
        "closed loopback port. The unpatched blackhole run uses a short LITELLM_DEFAULT_TIMEOUT=T (the unpatched async helper reads it) and is "
        "projected to the 600 s default as measured + attempts * (600 - T); "
        + (f"the patched runs use the real LITELLM_PRECHECK_TIMEOUT={profile.precheck_timeout:g}." if profile.precheck_timeout == 30
           else f"the patched runs use LITELLM_PRECHECK_TIMEOUT={profile.precheck_timeout:g} (quick profile; the goal scales with it)."),
        "- 3: the peak RSS of the 1a and 1c runs (the highest of them).",
        "- 4: each upstream test file (catalog.json `upstream_tests`) runs as tests/test_fixture_upstream_tests.py runs it: "
        "`python -m pytest FILE -q -p no:cacheprovider --junitxml=...` from the checkout root, with no proxy, OPENAI_*, PYTEST_* or LITELLM_* "
        "variables, no PYTHONPATH and litellm's bundled cost map; on the fixture as it is, after `llmfix apply`, and after apply with the "
        "variables apply's report prints on its `old behaviour:` line (its report says the tests that pin a changed default pass so). "
        "Where the machine allows (`unshare -n`), each run is in a network namespace with only loopback, so nothing (neither a test nor the "
        "patched code under test) can reach past 127.0.0.1. The files of a variant start at once (their time is mostly SDK backoff sleeps); "
        + ("the three variants too (quick profile, one fixture)." if profile.upstream_together else "the variants one after another, while the fault scenarios of 2 run.")
        + " Wall time per file, start to exit.",
        "- 5: per fixture and changed file, llmfix's `diff --stat` (added, removed = upstream lines touched, hunks) against git's count of the "
        "same change (`git diff --numstat` and the `@@` headers of `git diff`, default settings) after `llmfix apply` in a git repository made "
        "of the fixture; the runtime block is the banner comment through the last runtime definition after it, in lines, split by the runtime "
        "module (codemods/runtime/*.py) each definition comes from.",
        f"- 6a: {health.CONCURRENCY} generations at a time; {profile.health_healthy} answered generations first, then up to {profile.health_outage} "
        f"more while each attempt is dropped with probability p (seeded), for at most {fmt_s(profile.health_limit)}. The alarm is read from the generator's "
        "own LiteLLMDegradedError; generations and seconds are counted from the outage's start, up to and including the one that raised. The "
        "scenarios run in the zygote of 2a/2c.",
        "- 6b: bench/health_overhead.py: the decorator around a function that returns at once (its absolute cost) against a "
        "`litellm.acompletion`/`completion(..., mock_response=...)` call through a helper written as llmfix patches it (all of LiteLLM's own "
        "work, no network); interleaved rounds, medians.",
        "",
    ]
    return lines


# ----------------------------------------------------------------------------- details


def _details_1(results: dict) -> list[str]:
    out: list[str] = []
    if "1a" in results:
        r = results["1a"]
        pr = r.get("pair_ratios")
        spread = f"; apply/floor within each round: {pr['min']:.2f}x to {pr['max']:.2f}x, median {pr['median']:.2f}x" if pr else ""
        out += [f"1a ({r['command']}), medians of {r['apply']['n']} interleaved runs{spread}:", ""]
        out += ["| command | wall | min-max | CPU | peak RSS |", "|---|---|---|---|---|"]
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
            f"({r['big']['n']} pairs); {r['folders']:,} folders; discovery alone {fmt_s(r['discover_seconds'])} in-process; "
            f"found: {', '.join(r['discovered'])}."
        )
        out.append("")
    if "1c" in results:
        r = results["1c"]
        fam = ", ".join(f"{k} {v}" for k, v in sorted(r["families"].items()))
        pairs = r.get("checkouts", {})
        cut = " (rounds cut by the time budget)" if r.get("rounds_cut") else ""
        out.append(
            f"1c: {r['files']} files ({fam}) in {pairs.get('checkouts', '?')} checkouts, {pairs.get('with_both_files', '?')} with both files; "
            f"{r['patched_files']} patched by llmfix; libcst.tool's output identical to llmfix's for {r['identical_to_libcst']}/{r['subset_files']}{cut}."
        )
        out += ["", "| runner | files | runs | wall | CPU | files/s (wall) | files/s (CPU) | peak RSS |", "|---|---|---|---|---|---|---|---|"]
        for kind, label in (("apply", "llmfix apply"), ("floor", "floor (parse+render)"), ("apply_subset", "llmfix apply"), ("libcst", f"libcst.tool x{len(r.get('libcst_commands', ())) or 5}")):
            s = r[kind]
            out.append(
                f"| {label} | {s['files']} | {s['n']} | {fmt_s(s['wall'])} | {fmt_s(s['cpu'])} | {s['files_per_s']:.1f} | {s['files_per_cpu_s']:.1f} | {s['rss']:.0f} MiB |"
            )
        out.append("")
    return out


def _details_2(r: dict) -> list[str]:
    a, b, c = r["2a"], r["2b"], r["2c"]
    out = ["2a, attempt schedule of one call (seconds after the call started, every attempt dropped):", ""]
    for key in ("unpatched", "patched"):
        entry = a.get(key, {})
        sched = entry.get("schedule") or []
        windows = ", ".join(f"{w:.1f}" for w in entry.get("windows", []))
        text = f"- {key}: " + (f"{entry['method']}; " if entry.get("method") else "")
        text += f"attempts at {', '.join(f'{t:.2f}' for t in sched)}; models {', '.join(entry.get('models') or ['?'])}"
        if windows:
            text += f" (windows of all calls: {windows})"
        out.append(text)
    outages = "; ".join(
        f"{name}: W={v['width']:g} s -> {v['outcome']} after {fmt_s(v['seconds'] or float('nan'))}" for name, v in a["outages"].items()
    )
    out.append(f"- real outages: {outages}")
    for crash in a["crashes"] + b["crashes"] + c["crashes"]:
        out.append(f"- CRASH {crash}")
    out += ["", "2b:", "", "| scenario | n | non-None | expected | p50 | p95 | max | attempts at the mock (drop/empty/ok) | wall |", "|---|---|---|---|---|---|---|---|---|"]
    for key in ("unpatched-30", "patched-30", "unpatched-60", "patched-60"):
        if key in b:
            s = b[key]
            beh = s["behaviours"]
            out.append(
                f"| {key} | {s['n']} | {s['yield']:.1%} | {s['expected']:.1%} | {fmt_s(s['p50'])} | {fmt_s(s['p95'])} | {fmt_s(s['max'])} | "
                f"{s['attempts']} ({beh['drop']}/{beh['empty']}/{beh['ok']}) | {fmt_s(s['wall'])} |"
            )
    out += ["", "2c:", ""]
    for p in c["blackhole_unpatched"]:
        out.append(
            f"- blackhole, unpatched, LITELLM_DEFAULT_TIMEOUT={p['timeout']:g}: generator returned {p['outcome']} after {fmt_s(p['seconds'])} "
            f"({p['attempts']} attempts); projected at 600 s: {fmt_s(p['projected'])} ({p['projected'] / 60:.0f} min)"
        )
    if "blackhole_slope" in c:
        out.append(f"- measured slope between the two timeouts: {c['blackhole_slope']:.2f} s per second of timeout (the projection assumes 6, one per attempt)")
    for key in faults.FAILURE_CASES:
        p = c[key]
        first = p["error"][0] if p["error"] else ""
        out.append(f"- {key}: {p['outcome']} after {fmt_s(p['seconds'] or float('nan'))}; {len(p.get('attempts') or [])} request(s) at the mock" + (f"; error: `{first}`" if first else ""))
    out.append("")
    phases = r["phase_seconds"]
    zyg = r.get("zygotes", {})
    out.append(
        "Fault phases took " + ", ".join(f"{k} {fmt_s(v)}" for k, v in phases.items()) + "; litellm import + warm-up per zygote: "
        + ", ".join(f"{k} {fmt_s(v.get('import_and_warm_up_seconds', float('nan')))}" for k, v in zyg.items()) + "."
    )
    out.append("")
    return out


def _details_4(r: dict) -> list[str]:
    together = "the variants at once" if r.get("together") else "the variants one after another"
    out = [f"4: upstream's tests, {r['network']}; the files of a variant ran at once, {together}.", ""]
    for name, f in r["fixtures"].items():
        old = " ".join(f"{k}={v}" for k, v in f["old_behaviour"].items()) or "(none printed)"
        out.append(f"- {name}: apply's old-behaviour variables: `{old}`; tests it names as pinning a changed default: " + ("; ".join(f"`{t}`" for t in f["pinned"]) or "none"))
    out += ["", "| test file | variant | passed | failed | wall | slowest test | failing tests (first line of the failure) |", "|---|---|---|---|---|---|---|"]
    for key in r["variants"]["unpatched"]:
        for variant in upstream_tests.VARIANTS:
            f = r["variants"][variant].get(key)
            if f is None:
                continue
            slowest = f"{f['slowest'][0]} {fmt_s(f['slowest'][1])}" if f.get("slowest") else "-"
            failing = "<br>".join(f"{x['test']}: `{x['message'][:160]}`" for x in f["failing"]) or "-"
            out.append(
                f"| {key} | {upstream_tests.LABELS[variant]} | {f['passed']}/{f['tests']} | {f['failed'] + f['errors']} | {fmt_s(f['wall'])} | {slowest} | {failing} |"
            )
    out.append("")
    return out


def _details_5(r: dict) -> list[str]:
    out = ["5: per changed file, llmfix's `--stat` against git's count of the same change, and the runtime block:", ""]
    out += ["| fixture | file | llmfix +/- (hunks) | git +/- (hunks) | per transform (+/-) | runtime block (lines per runtime module) |", "|---|---|---|---|---|---|"]
    for name, m in r.items():
        if "error" in m:
            out.append(f"| {name} | - | {m['error'][:120]} | - | - | - |")
            continue
        if not m["files"]:
            out.append(f"| {name} | - | no change | no change | - | - |")
        for path, f in m["files"].items():
            ours, git, block = f["llmfix"], f["git"], f["block"]
            ours_text = f"+{ours['added']} -{ours['removed']} ({ours['hunks']})" if ours else "not listed"
            git_text = f"+{git['added']} -{git['removed']} ({git['hunks']})" if git else "not changed"
            transforms = ", ".join(f"{t} +{a}-{d}" for t, (a, d) in (ours or {}).get("transforms", {}).items())
            block_text = f"{block['lines']} lines from line {block['first_line']}: " + ", ".join(f"{k} {v}" for k, v in block["lines_per_module"].items()) if block else "-"
            out.append(f"| {name} | {Path(path).name} | {ours_text} | {git_text} | {transforms} | {block_text} |")
    out.append("")
    return out


def _details_6(r: dict) -> list[str]:
    out = []
    a = r.get("6a")
    if a:
        out += ["6a:", "", "| scenario | env | answered first | after the outage began | LiteLLMDegradedError | seconds |", "|---|---|---|---|---|---|"]
        for name, s in a["scenarios"].items():
            env = " ".join(f"{k}={v}" for k, v in s["env"].items()) or "-"
            counts = s["counts"]
            after = f"{s['finished']} finished: {counts['rubric']} rubric, {counts['none']} None, {counts['raised'] + counts['degraded']} raised"
            alarm = f"after {s['degraded_after']} generations" if s["degraded_after"] else "never"
            out.append(f"| {name} | {env} | {s['healthy'].get('rubric', 0)} rubrics | {after} | {alarm} | {fmt_s(s['degraded_seconds'] or s['seconds'])} |")
        first = next((s for s in a["scenarios"].values() if s["degraded_error"]), None)
        if first:
            out += ["", "The error the generator raised (first scenario that raised):", "", "```", first["degraded_error"], "```"]
        for crash in a["crashes"]:
            out.append(f"- CRASH {crash}")
        out.append("")
    b = r.get("6b")
    if b and "error" not in b:
        out += [f"6b: {b['calls']} calls x {b['rounds']} rounds, medians:", "", "| helper | mocked call | with the decorator | spread of the call | decorator alone | ratio |", "|---|---|---|---|---|---|"]
        for label, h in b["helpers"].items():
            out.append(
                f"| {label} | {h['mocked_call'] * 1e6:.0f} us | {h['with_decorator'] * 1e6:.0f} us | {h['call_min'] * 1e6:.0f}-{h['call_max'] * 1e6:.0f} us | "
                f"{h['decorator'] * 1e6:.1f} us | {h['ratio']:.2%} |"
            )
        out.append("")
    return out


def details(results: dict) -> list[str]:
    out = ["## Details", ""]
    out += _details_1(results)
    if "2" in results:
        out += _details_2(results["2"])
    if "3" in results:
        r = results["3"]
        out += [f"3: fixture peak over {r['fixture']['runs']} runs ({r['fixture']['source']}); batch peak over {r['batch']['runs']} runs ({r['batch']['source']}).", ""]
    if "4" in results:
        out += _details_4(results["4"])
    if "5" in results:
        out += _details_5(results["5"])
    if "6" in results:
        out += _details_6(results["6"])
    return out


# ----------------------------------------------------------------------------- files


def readme_section(rows: list[Row], header: dict) -> str:
    lines = [
        "## Benchmarks",
        "",
        f"Made with `{header['command']}` on {header['date']} ({header['profile']} profile, {header['run_minutes']:.1f} min), "
        f"{header['machine_line']}. Full report, with the profile of every missed goal: `bench/results/{header['results_file']}`.",
        "",
        "The machine was shared with other work, so the speed figures are medians of interleaved runs and the ratios "
        "matter more than the seconds. Fault and health figures use real litellm against a local mock endpoint; the 2c unpatched "
        "worst case is projected from a short LITELLM_DEFAULT_TIMEOUT (see the report for every scaling).",
        "",
        table(rows),
        "",
    ]
    return "\n".join(lines)


def write(header: dict, info: dict, profile, results: dict, profiles: dict, selected: list[str]) -> None:
    """bench/results/<file>.md and .json; bench/README_SECTION.md for a full run of everything."""
    rows = all_rows(results)
    sections = profile_sections(results, profiles, rows)
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
        *(["## Profiles of the missed (and nearly missed) goals", "", *sections] if sections else []),
        *method_notes(profile, results),
        *details(results),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_file = header["results_file"]
    (RESULTS / results_file).write_text("\n".join(report).rstrip() + "\n", encoding="utf-8")
    saved = {"header": header, "machine": info, "selected": selected, "profiles": profiles, "results": results}
    (RESULTS / results_file.replace(".md", ".json")).write_text(json.dumps(saved, indent=1, default=str), encoding="utf-8")
    log(f"wrote bench/results/{results_file}")
    if profile is FULL and selected == list(ALL):
        (REPO / "bench" / "README_SECTION.md").write_text(readme_section(rows, header), encoding="utf-8")
        log("wrote bench/README_SECTION.md")


def render(path: Path) -> int:
    """Re-render the report of a saved run (same figures) after a change to the report's wording."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    header, results = saved["header"], saved["results"]
    profile = FULL if header["profile"] == "full" else QUICK
    write(header, saved["machine"], profile, results, saved.get("profiles", {}), saved["selected"])
    print(table(all_rows(results)))
    return 0
