"""verify against every fixture checkout: passes when patched, fails and names the fixes when not.

The runs (real litellm over real HTTP on 127.0.0.1 against the mock endpoints, and a real
tinyproxy) come from the session's one ``run_many`` (conftest.py). The unpatched fixtures
other than drtulu-canonical run only the quick scenarios (empty, precheck), which is enough
to show they fail; drtulu-canonical runs them all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from verify_support import (
    FULL_UNPATCHED,
    MISSING_MODULE,
    WITH_HELPERS,
    by_group,
    group_of,
)

from llmfix.verify import report, runner, scenarios
from llmfix.verify.analysis import GENERATOR


def _explain(result: runner.RunResult) -> str:
    return "\n".join(f"{fix}: {p}" for fix, problems in report.missing_fixes(result).items() for p in problems) or "(no problems)"


@pytest.mark.parametrize("key", by_group([f"fixture/{name}/patched" for name in WITH_HELPERS], WITH_HELPERS))
def test_patched_fixture_passes(verify_runs, key):
    result = verify_runs[key]
    assert result.error is None, result.error
    assert not result.failed, _explain(result)
    statuses = {o.case.id: o.status for o in result.outcomes}
    assert statuses["9b"] == "pass"  # tinyproxy is installed by .ci/run: the live-proxy case must run
    assert set(statuses) == {c.id for s in scenarios.build(scenarios.Settings(), result.checkout) for c in s.cases}
    assert result.ok, result.not_exercised


@pytest.mark.parametrize(("key", "name"), [pytest.param(f"fixture/{name}/unpatched", name, marks=group_of(f"fixture/{name}/unpatched"), id=name)
                                           for name in WITH_HELPERS])
def test_unpatched_fixture_fails_and_names_the_missing_fixes(verify_runs, key, name):
    result = verify_runs[key]
    assert result.error is None, result.error
    assert result.failed
    fixes = report.missing_fixes(result)
    assert "guards" in fixes, _explain(result)
    if result.checkout.of_kind(GENERATOR):
        assert "precheck" in fixes, _explain(result)
        assert any("no connection check" in p for p in fixes["precheck"]), fixes["precheck"]
    if name == FULL_UNPATCHED:
        assert set(fixes) >= set(scenarios.fix_order()) - {scenarios.BASICS, "judge"}, _explain(result)  # it has no judge
        assert any(re.search(r"run_litellm raised IndexError on choices: \[\]", p) for p in fixes["guards"])
        assert any("UnboundLocalError" in p for p in fixes["guards"])  # the generator's handler bug
        assert any("no health(): no support module" in p for p in fixes["health"]), fixes["health"]


@group_of("fixture/upstream-jun2025/patched")
def test_a_fixture_without_a_generator_skips_the_connection_check_cases(verify_runs):
    """upstream-jun2025 has helpers only: no generator, so nothing checks the connection."""
    result = verify_runs["fixture/upstream-jun2025/patched"]
    skipped = {o.case.id: o.reason for o in result.outcomes if o.status == "skip"}
    assert {"8a", "8b", "10a", "11", "9a"} <= set(skipped) and all("no rubric generator" in reason for reason in skipped.values())


@group_of("fixture/upstream-main-guarded/unpatched")
def test_existing_guards_are_judged_by_behaviour(verify_runs):
    """upstream-main-guarded already guards its helpers; the sync guard lets content: null through."""
    guards = report.missing_fixes(verify_runs["fixture/upstream-main-guarded/unpatched"])["guards"]
    assert not any(p.startswith("run_litellm_async") for p in guards), guards  # its guard is upstream's own
    assert all(p.startswith("run_chatopenai") for p in guards if "IndexError" in p), guards  # the one unguarded helper
    assert any(p.startswith("run_litellm returned None on content: null") for p in guards), guards
    assert any("evolving_rubrics" in p and "logged 0 warning" in p for p in guards), guards


@group_of("fixture/drtulu-canonical/patched")
def test_production_path_litellm_https_proxy_connect_tls(verify_runs):
    """9b: litellm -> https_proxy -> CONNECT through tinyproxy -> TLS mock (throwaway CA via SSL_CERT_FILE)."""
    outcome = next(o for o in verify_runs["fixture/drtulu-canonical/patched"].outcomes if o.case.id == "9b")
    obs = outcome.observation
    assert outcome.status == "pass", outcome.problems
    assert obs.env["OPENAI_API_BASE"].startswith("https://127.0.0.1:")
    assert obs.env["https_proxy"].startswith("http://127.0.0.1:") and Path(obs.env["SSL_CERT_FILE"]).name == "ca.pem"
    port = obs.env["OPENAI_API_BASE"].split(":")[2].split("/")[0]
    assert re.search(rf"CONNECT 127\.0\.0\.1:{port}", obs.proxy_log), obs.proxy_log[-2000:]
    calls = [step.label for step in obs.case.steps]
    assert {"run_litellm", "run_litellm_async", "generate_instance_wise_adaptive_rubrics"} <= set(calls)
    assert all(obs.attempts[label] >= 1 for label in calls)
    assert obs.probes["generate_instance_wise_adaptive_rubrics"] == 1  # its connection check went through the proxy too


@group_of("fixture/drtulu-canonical/missing-module")
def test_missing_third_party_module_is_a_verify_error_naming_the_package_and_python(verify_runs):
    result = verify_runs["fixture/drtulu-canonical/missing-module"]
    assert result.error and MISSING_MODULE in result.error and "not installed" in result.error
    assert "--python" in result.error and f"pip install {MISSING_MODULE}" in result.error
    assert not result.outcomes
