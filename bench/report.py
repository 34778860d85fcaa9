"""The benchmark report: the table, the goals, the profiles of the misses, how the figures are
made and the details; bench/results/<date>.md (full) or <date>-quick.md, and a .json beside it.

Everything here is computed from the saved results, so ``run_all.py --render`` can re-word a
saved run without running anything.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import faults, footprint, health, speed, upstream_tests
from bench.common import CANONICAL, FULL, GOALS, QUICK, REPO, Row, fmt_s, log

RESULTS = REPO / "bench" / "results"
ALL = ("1a", "1b", "1c", "2", "4", "5", "6")


def table(rows: list[Row]) -> str:
    lines = ["| # | measure | baseline (floor / unpatched / hand fix) | llmfix / patched | ratio | goal | status |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.bench} | {r.measure} | {r.baseline} | {r.llmfix} | {r.ratio} | {r.goal} | {r.status} |" for r in rows]
    return "\n".join(lines)


def all_rows(results: dict) -> list[Row]:
    """The table rows for whatever benchmarks are in ``results``."""
    rows = speed.rows(results)
    if "2" in results:
        rows += faults.rows(results["2"])
    if "4" in results:
        rows += upstream_tests.rows(results["4"])
    if "5" in results:
        rows += footprint.rows(results["5"])
    if "6" in results:
        rows += health.rows_6(results["6"]["alarms"]) if "alarms" in results["6"] else []
        rows += health.rows_6b(results["6"]["6b"]) if "6b" in results["6"] else []
    return rows


def goals(rows: list[Row]) -> list[str]:
    out = ["## Goals", ""]
    for r in rows:
        if r.goal != "-" and r.status in ("met", "MISSED"):
            out.append(f"- {r.bench} {r.status}: {r.measure}: {r.llmfix} vs {r.baseline}, {r.ratio} (goal {r.goal})")
    return out + [""]


def _cprofile_lines(cp: dict, files: str) -> list[str]:
    if "error" in cp:
        return [f"- cProfile failed: `{cp['error'][-300:]}`"]
    lines = [
        f"- cProfile of `llmfix apply` on {files}, in one process, imports included: {fmt_s(cp['seconds'])} under the profiler "
        "(the profiler slows libcst's many small calls: read shares, not seconds).",
        "- llmfix's functions by cumulative time (below the CLI's own 90%+ chain): "
        + "; ".join(f"{name} {share:.0%}" for name, _, _, share in [e for e in cp["cumulative_llmfix"] if e[3] < 0.9][:14])
        + ".",
        "- top functions by self time: " + "; ".join(f"{name} {calls:,} calls {share:.0%}" for name, calls, _, share in cp["self_top"][:10]) + ".",
    ]
    return lines


def _imports_lines(im: dict) -> list[str]:
    if "error" in im:
        return [f"- -X importtime failed: `{im['error'][-300:]}`"]
    return [
        f"- `-X importtime`: apply spends {fmt_s(im['apply_total'])} importing (the floor {fmt_s(im['floor_total'])}); "
        f"llmfix's own modules {fmt_s(im['llmfix_total'])} (self time). Beyond the floor, by package: "
        + ", ".join(f"{name} {fmt_s(sec)}" for name, sec in im["beyond_floor"])
        + ".",
        "- llmfix's modules by self import time (cumulative in brackets): "
        + ", ".join(f"{name} {fmt_s(own)} ({fmt_s(cum)})" for name, own, cum in im["llmfix_modules"])
        + ".",
    ]


def profile_sections(results: dict, profiles: dict) -> list[str]:
    out: list[str] = []
    if "1a" in profiles:
        r = results.get("1a")
        out += ["## Profile: `llmfix apply` on the fixture (1a/1b missed)", ""]
        if r:
            out.append(
                f"Whole process: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} "
                f"(+{fmt_s(r['apply']['cpu'] - r['floor']['cpu'])}); "
                f"`llmfix --help` alone costs {fmt_s(r['help']['cpu'])} CPU. "
                f"The goal ({GOALS['1a'].text}) allows {fmt_s(r['floor']['cpu'] * GOALS['1a'].value)} CPU here."
            )
            out.append("")
        out += _cprofile_lines(profiles["1a"]["cprofile"], CANONICAL) + _imports_lines(profiles["1a"]["imports"]) + [""]
    if "1c" in profiles and "1c" in results:
        r, p = results["1c"], profiles["1c"]
        per_apply, per_floor = r["apply"]["cpu"] / r["files"] * 1000, r["floor"]["cpu"] / r["files"] * 1000
        out += ["## Profile: `llmfix apply` on the batch (1c missed)", ""]
        out.append(
            f"Whole process, {r['files']} files: apply {fmt_s(r['apply']['cpu'])} CPU vs the floor's {fmt_s(r['floor']['cpu'])} "
            f"({per_apply:.0f} vs {per_floor:.0f} ms "
            f"per file); {GOALS['1c'].text} the floor's files/s needs apply under about {per_floor / GOALS['1c'].value:.0f} ms per file."
        )
        out += [""] + _cprofile_lines(p["cprofile"], f"{p['files']} files of the batch, generated the same way") + [""]
    return out


def method_notes(profile) -> list[str]:
    return [
        "## How the figures are made",
        "",
        "- Speed (1a-1c): each figure is a whole process, start-up included, run by a wrapper process that times only its child and reads the child's "
        "CPU time (user+sys) and peak RSS with `getrusage(RUSAGE_CHILDREN)`. The things compared run interleaved after an untimed warm-up; medians. "
        "The floor: `python -c` importing libcst, then parsing and re-rendering the same files, nothing else. `llmfix` is the installed console script.",
        f"- 1a: a fresh copy of `{CANONICAL}` per apply run, the floor on its two target files. 1b: a generated tree of {profile.big_files:,} .py files "
        "with the DR Tulu checkout buried in it, paired with apply on the fixture. 1c: "
        f"{profile.batch_files} generated target files in {profile.batch_files // 2} checkouts (run_utils.py and rubric_utils.py of each patchable "
        "family, renamed locals, shuffled default lines, extra comments; seeded): floor, apply, floor, ...",
        "- 2 and 6: copies of `fixtures/drtulu-canonical`, as is and after `llmfix apply`; each scenario is a forked process (one zygote warms litellm) "
        "with its own MockLLM on 127.0.0.1 and real litellm through the checkout's real code. 2a: every attempt dropped, when does each attempt start "
        "(the start of the last = the longest outage survived); real outages (listener closed W s) confirm it. 2b: seeded drops and 5% empty answers, "
        "32 at a time. 2c: cold start against a blackholed endpoint (unpatched projected to the 600 s default) and a dead proxy.",
        f"- 6a/6c: {profile.health_healthy} answered calls, then each attempt dropped with probability {health.DOWN:g} (seeded), 32 at a time, "
        f"LITELLM_MAX_FAILURE_RATE={health.RATE} on the patched side, at most {fmt_s(profile.health_limit)}. 6c runs `LMJudgeVerifier.async_call`: "
        "the fixture's `ground_truth_utils.py`, or (fixtures without one) the module bench/judge_module.py writes from TARGETS.md's description. "
        "6b: bench/health_overhead.py, CPU time of the process (`time.process_time`); rounds rotate the helper with the health callback detached from "
        "LiteLLM, attached, and under the decorator; the cost is the median of the per-round differences (decorated - detached).",
        "- 4: each upstream test file runs as `python -m pytest FILE` from the checkout root, offline, in a loopback-only network namespace where the "
        "machine allows; unpatched, patched, and patched with the variables apply's report prints for the old behaviour.",
        "- 5: per fixture, a git repository made of it, `llmfix apply`, `git add -N .`, `git diff --numstat`. The hand fix (the five fixes by hand on DR Tulu, "
        "as the issue shows them) is +55 / -9. `+ judge`: the same fixture with bench/judge_module.py's judge module added first.",
        "",
    ]


def details(results: dict) -> list[str]:
    out = ["## Details", ""]
    for key in ("1a", "1b", "1c"):
        if key in results:
            r = results[key]
            parts = {k: v for k, v in r.items() if isinstance(v, dict) and "wall" in v}
            out.append(
                f"- {key}: "
                + "; ".join(
                    f"{k} {fmt_s(v['wall'])} wall ({fmt_s(v['wall_min'])}-{fmt_s(v['wall_max'])}), {fmt_s(v['cpu'])} CPU, {v['rss']:.0f} MiB, n={v['n']}"
                    for k, v in parts.items()
                )
            )
    if "2" in results:
        a, b = results["2"]["2a"], results["2"]["2b"]
        for variant in ("unpatched", "patched"):
            out.append(
                f"- 2a {variant}: attempts at {', '.join(f'{t:.2f}' for t in a[variant]['schedule'])} s"
                + (f"; {a[variant]['method']}" if a[variant].get("method") else "")
            )
            if variant in b:
                s = b[variant]
                out.append(
                    f"- 2b {variant}: {s['attempts']} attempts at the mock (drop/empty/ok {s['behaviours']}), {s['raised']} raised, wall {fmt_s(s['wall'])}"
                )
        c = results["2"]["2c"]
        for key in ("blackhole-patched", "deadproxy-unpatched", "deadproxy-patched"):
            out.append(
                f"- 2c {key}: {c[key]['outcome']} after {fmt_s(c[key]['seconds'])}, {len(c[key]['attempts'] or [])} request(s) at the mock"
                + (f"; `{c[key]['error'][0][:240]}`" if c[key]["error"] else "")
            )
        for crash in a["crashes"] + b["crashes"] + c["crashes"]:
            out.append(f"- CRASH {crash}")
        out.append(f"- fault phases: {json.dumps(results['2'].get('phases', {}), default=str)}")
    if "6" in results and "alarms" in results["6"]:
        for name, s in results["6"]["alarms"]["scenarios"].items():
            if "counts" in s:
                out.append(
                    f"- {name}: healthy phase {s['healthy']}; outage outcomes {s['counts']}"
                    + (f"; alarm: `{s['alarm_error'][:200]}`" if s.get("alarm_error") else "")
                )
    if "6" in results and "runs" in next(iter(results["6"].get("6b", {}).get("helpers", {}).values()), {}):
        for label, h in results["6"]["6b"]["helpers"].items():
            diffs = sorted((t - d) * 1e6 for t, d in zip(h["runs"]["tracked"], h["runs"]["detached"]))
            out.append(
                f"- 6b {label}: decorated - detached per round, sorted: {', '.join(f'{x:+.0f}' for x in diffs)} us "
                f"(mocked call {h['mocked_call'] * 1e6:.0f} us)"
            )
    if "4" in results:
        out.append(
            f"- 4: {results['4']['network']}; old-behaviour variables: " + "; ".join(f"{n}: {f['old_behaviour']}" for n, f in results["4"]["fixtures"].items())
        )
    return out + [""]


def write(header: dict, info: dict, profile, results: dict, profiles: dict, selected: list[str]) -> None:
    rows = all_rows(results)
    text = [
        f"# llmfix benchmarks, {header['date']} ({header['profile']} profile)",
        "",
        f"Command: `{header['command']}`, llmfix at {header['revision']}; the run took {header['run_minutes']:.1f} min.",
        "",
        f"Machine: {header['machine_line']}. The machine is shared with other test runs: hence CPU-time figures beside wall time, interleaving and medians.",
        "",
        table(rows),
        "",
        *goals(rows),
        *profile_sections(results, profiles),
        *method_notes(profile),
        *details(results),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_file = header["results_file"]
    (RESULTS / results_file).write_text("\n".join(text).rstrip() + "\n", encoding="utf-8")
    saved = {"header": header, "machine": info, "selected": selected, "profiles": profiles, "results": results}
    (RESULTS / results_file.replace(".md", ".json")).write_text(json.dumps(saved, indent=1, default=str), encoding="utf-8")
    log(f"wrote bench/results/{results_file}")


def render(path: Path) -> int:
    """Re-render the report of a saved run (same figures) after a change to the report's wording."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    header, results = saved["header"], saved["results"]
    profile = FULL if header["profile"] == "full" else QUICK
    write(header, saved["machine"], profile, results, saved.get("profiles", {}), saved["selected"])
    print(table(all_rows(results)))
    return 0
