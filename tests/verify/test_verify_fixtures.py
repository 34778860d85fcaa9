"""verify against every fixture checkout: passes when patched, fails and names the fixes when not.

All the runs share one verify child (``runner.run_many``: litellm is imported once), with
real litellm over real HTTP on 127.0.0.1 against the mock endpoints, and a real tinyproxy.
The unpatched checkouts other than drtulu-canonical run only the quick scenarios (empty,
precheck), which is enough to show they fail; drtulu-canonical runs them all.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from llmfix.verify import report, runner, scenarios
from llmfix.verify.analysis import analyse

CATALOG = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "catalog.json").read_text(encoding="utf-8"))
WITH_HELPERS = [name for name, entry in CATALOG.items() if entry["helpers"]]

QUICK = ("empty", "precheck")
FULL_UNPATCHED = "drtulu-canonical"
MISSING_MODULE = "llmfix_verify_no_such_module"


@pytest.fixture(scope="session")
def settings() -> scenarios.Settings:
    return scenarios.Settings(tenacity=importlib.util.find_spec("tenacity") is not None)


@pytest.fixture(scope="session")
def results(checkout_copy, settings, tmp_path_factory) -> dict[tuple[str, str], runner.RunResult]:
    """Every run, keyed (fixture, "patched" | "unpatched" | "missing-module")."""
    jobs, keys = [], []
    for name in WITH_HELPERS:
        for kind in ("patched", "unpatched"):
            checkout = analyse(checkout_copy(name, kind == "patched"))
            chosen = scenarios.build(settings, checkout)
            if kind == "unpatched" and name != FULL_UNPATCHED:
                chosen = scenarios.select(chosen, QUICK)
            jobs.append((checkout, chosen))
            keys.append((name, kind))
    broken = tmp_path_factory.mktemp("missing-module") / "drtulu-canonical"
    shutil.copytree(checkout_copy("drtulu-canonical", True), broken)
    run_utils = broken / "rl/open-instruct/open_instruct/search_rewards/utils/run_utils.py"
    run_utils.write_text(f"import {MISSING_MODULE}\n" + run_utils.read_text(encoding="utf-8"), encoding="utf-8")
    checkout = analyse(broken)
    jobs.append((checkout, scenarios.select(scenarios.build(settings, checkout), ("healthy",))))
    keys.append(("drtulu-canonical", "missing-module"))
    return dict(zip(keys, runner.run_many(jobs, settings, max_parallel=20)))


def _explain(result: runner.RunResult) -> str:
    return "\n".join(f"{fix}: {p}" for fix, problems in report.missing_fixes(result).items() for p in problems) or "(no problems)"


@pytest.mark.parametrize("name", WITH_HELPERS)
def test_patched_fixture_passes(results, name):
    result = results[(name, "patched")]
    assert result.error is None, result.error
    assert not result.failed, _explain(result)
    statuses = {o.case.id: o.status for o in result.outcomes}
    assert statuses["9b"] == "pass"  # tinyproxy is installed by .ci/run: the live-proxy case must run
    assert set(statuses) == {c.id for s in scenarios.build(scenarios.Settings(), result.checkout) for c in s.cases}
    assert result.ok, result.not_exercised


@pytest.mark.parametrize("name", WITH_HELPERS)
def test_unpatched_fixture_fails_and_names_the_missing_fixes(results, name):
    result = results[(name, "unpatched")]
    assert result.error is None, result.error
    assert result.failed
    fixes = report.missing_fixes(result)
    assert "precheck" in fixes and "guards" in fixes, _explain(result)
    assert any("ensure_litellm_connection not defined" in p for p in fixes["precheck"])
    if name == FULL_UNPATCHED:
        assert set(fixes) >= set(scenarios.fix_order()) - {scenarios.BASICS}, _explain(result)
        assert any(re.search(r"run_litellm raised IndexError on choices: \[\]", p) for p in fixes["guards"])
        assert any("UnboundLocalError" in p for p in fixes["guards"])  # the generator's handler bug


def test_existing_guards_are_judged_by_behaviour(results):
    """upstream-main-guarded already guards its helpers; the sync guard lets content: null through."""
    guards = report.missing_fixes(results[("upstream-main-guarded", "unpatched")])["guards"]
    assert not any(p.startswith("run_litellm_async") for p in guards), guards  # its guard is upstream's own
    assert all(p.startswith("run_chatopenai") for p in guards if "IndexError" in p), guards  # the one unguarded helper
    assert any(p.startswith("run_litellm returned None on content: null") for p in guards), guards
    assert any("evolving_rubrics" in p and "logged 0 warning" in p for p in guards), guards


def test_production_path_litellm_https_proxy_connect_tls(results):
    """9b: litellm -> https_proxy -> CONNECT through tinyproxy -> TLS mock (throwaway CA via SSL_CERT_FILE)."""
    outcome = next(o for o in results[("drtulu-canonical", "patched")].outcomes if o.case.id == "9b")
    obs = outcome.observation
    assert outcome.status == "pass", outcome.problems
    assert obs.env["OPENAI_API_BASE"].startswith("https://127.0.0.1:")
    assert obs.env["https_proxy"].startswith("http://127.0.0.1:") and Path(obs.env["SSL_CERT_FILE"]).name == "ca.pem"
    port = obs.env["OPENAI_API_BASE"].split(":")[2].split("/")[0]
    assert re.search(rf"CONNECT 127\.0\.0\.1:{port}", obs.proxy_log), obs.proxy_log[-2000:]
    calls = [step.label for step in obs.case.calls]
    assert calls[0] == "ensure" and {"run_litellm", "run_litellm_async", "generate_instance_wise_adaptive_rubrics"} <= set(calls)
    assert all(obs.attempts[label] >= 1 for label in calls)


def test_missing_third_party_module_is_a_verify_error(results):
    result = results[("drtulu-canonical", "missing-module")]
    assert result.error and MISSING_MODULE in result.error and "not installed" in result.error
    assert not result.outcomes
