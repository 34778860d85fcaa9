"""verify on hand-written checkouts of the shapes that tripped it, patched to llmfix's contract and not.

``checkouts/drtulu``: DR Tulu's run_utils (``run_chatopenai(model_name, system_prompt,
user_prompt, json_mode=False)`` raising, ``run_azure_openai`` on the openai SDK, the
swallowing ``run_litellm``/``run_litellm_async``) and its generator. ``checkouts/old``: the
older helpers with no try (raising) and two generators with no model parameter whose
awaited call passes the literal ``model_name="gpt-4.1"``.

The *mutants* are copies of a patched checkout with one behaviour taken out, so each
scenario is shown to fail, naming its fix, when that behaviour is missing. Every run
shares one verify child (``runner.run_many``: one litellm import), real litellm over real
HTTP on 127.0.0.1, and a real tinyproxy.
"""

from __future__ import annotations

import pytest
from verify_support import MUTANTS, SHAPES

from llmfix.verify import report, runner, scenarios
from llmfix.verify.cases import ANSWER


def _explain(result: runner.RunResult) -> str:
    return "\n".join(f"{fix}: {p}" for fix, problems in report.missing_fixes(result).items() for p in problems) or "(no problems)"


def _observation(result: runner.RunResult, case_id: str):
    return next(o for o in result.outcomes if o.case.id == case_id).observation


def _step(result: runner.RunResult, case_id: str, label: str):
    obs = _observation(result, case_id)
    return obs, next(s for s in obs.case.steps if s.label == label)


@pytest.mark.parametrize("shape", SHAPES)
def test_patched_shape_passes_every_case(shape_results, shape):
    result = shape_results[f"{shape}/patched"]
    assert result.error is None, result.error
    assert not result.failed, _explain(result)
    assert result.ok and not result.not_exercised
    assert {o.case.id for o in result.outcomes} == {c.id for s in scenarios.build(scenarios.Settings(), result.checkout) for c in s.cases}
    assert all(o.status == "pass" for o in result.outcomes)  # tinyproxy is installed: 9b ran


@pytest.mark.parametrize("shape", SHAPES)
def test_unpatched_shape_fails_and_names_the_missing_fixes(shape_results, shape):
    result = shape_results[f"{shape}/unpatched"]
    assert result.error is None, result.error
    fixes = report.missing_fixes(result)
    assert {"fallbacks", "timeout", "guards", "precheck"} <= set(fixes), _explain(result)
    assert any("ensure_litellm_connection not defined" in p for p in fixes["precheck"])
    assert any("run_chatopenai raised IndexError on choices: []" in p for p in fixes["guards"]), fixes["guards"]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_helper_and_generator_is_called_by_parameter_name(shape_results, shape):
    result = shape_results[f"{shape}/patched"]
    names = {t.name for t in result.checkout.targets}
    expected = {"run_chatopenai", "run_litellm", "run_litellm_async"} | (
        {"generate_instance_wise_adaptive_rubrics"} if shape == "drtulu" else {"generate_instance_wise_adaptive_rubrics", "generate_adaptive_rubrics_guarded"})
    assert names == expected  # run_azure_openai (openai SDK, not LiteLLM) is not a LiteLLM helper
    obs = _observation(result, "1")
    for target in result.checkout.targets:
        step = obs.result(next(s for s in obs.case.steps if s.label == target.name))
        assert step.outcome == "returned", (target.name, step)
    chatopenai = result.checkout.target("run_chatopenai")
    assert chatopenai.binding.kwargs.keys() == {"model_name", "system_prompt", "user_prompt"}  # json_mode keeps its default
    assert obs.steps["run_chatopenai"].value == ANSWER


def test_a_raising_helper_raises_after_its_retries(shape_results, settings):
    result = shape_results["drtulu/patched"]
    assert result.checkout.target("run_chatopenai").contract == "raises"
    obs, step = _step(result, "3", "run_chatopenai")
    outcome = obs.result(step)
    assert outcome.outcome == "raised"
    assert settings.retries + 1 <= obs.attempts["run_chatopenai"] <= settings.max_attempts(False)


def test_a_swallowing_helper_returns_empty_and_logs_the_root_cause(shape_results):
    result = shape_results["drtulu/patched"]
    for name in ("run_litellm", "run_litellm_async"):
        assert result.checkout.target(name).contract == "swallows"
        obs, step = _step(result, "3", name)
        outcome = obs.result(step)
        assert outcome.outcome == "returned" and outcome.value == ""
        mine = [w for w in outcome.warnings if w["logger"] == step.target.module]
        assert any("500 Internal Server Error" in w["message"] for w in mine), outcome.warnings  # the root cause, even behind "tenacity import failed"


def test_generators_with_a_literal_model_are_counted_apart(shape_results):
    """Both generators send "gpt-4.1": each runs in a lane (and mock scope) of its own."""
    result = shape_results["old/patched"]
    generators = [t for t in result.checkout.generators]
    assert [(t.model_parameter, t.model_literal) for t in generators] == [(None, "gpt-4.1")] * 2
    assert [t.contract for t in generators] == ["raises", "swallows"]  # the plain one fails the way its helper does
    healthy = _observation(result, "1")
    for target in generators:
        assert healthy.models[target.name] == ["gpt-4.1"]
        assert healthy.attempts[target.name] == 2  # its precheck, then its call: nothing of the other's
    empty = _observation(result, "7a")
    for target in generators:
        warnings = [w for w in empty.steps[target.name].warnings if w["logger"] == target.module]
        assert len(warnings) == 1 and "gpt-4.1" in warnings[0]["message"]
    refused = _observation(result, "8a")
    assert all("'gpt-4.1'" in refused.steps[t.name].error["message"] for t in generators)


def test_generators_with_a_literal_model_fail_without_their_fixes(shape_results):
    guards = report.missing_fixes(shape_results["old/unpatched"])["guards"]
    assert any(p.startswith("generate_instance_wise_adaptive_rubrics returned None on content \"\" but logged 0 warning(s) (expected one naming gpt-4.1)")
               for p in guards), guards


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_fails_the_scenario_of_the_fix_it_lacks(shape_results, mutant):
    result = shape_results[f"mutant/{mutant.name}"]
    assert result.error is None, result.error
    failed = {o.case.scenario for o in result.failed}
    assert failed == set(mutant.breaks), _explain(result)
    units = {unit.NAME: unit for unit in scenarios.units()}
    for outcome in result.failed:
        assert {fix for fix, _ in outcome.problems} <= set(units[outcome.case.scenario].FIXES) | {scenarios.BASICS}, outcome.problems


def test_the_precheck_retries_a_blip_and_rechecks_a_failure(shape_results):
    for shape in ("drtulu", "old"):
        result = shape_results[f"{shape}/patched"]
        for case_id in ("10a", "10b", "10c"):
            obs = _observation(result, case_id)
            assert obs.steps["ensure"].outcome == "returned" and obs.attempts["ensure"] == 2
        recheck = _observation(result, "11")
        assert [recheck.steps[label].outcome for label in ("ensure", "ensure-cached", "ensure-after-recheck")] == ["raised", "raised", "returned"]
        assert recheck.attempts["ensure"] == 2
    blip = report.missing_fixes(shape_results["mutant/precheck-without-retry"])["precheck"]
    assert any("one 500" in p and "raised LiteLLMConnectionError" in p for p in blip), blip
    cached = report.missing_fixes(shape_results["mutant/failure-cached-for-good"])["precheck"]
    assert any("still raised" in p and "re-checked" in p for p in cached), cached


def test_a_swallowed_failure_without_its_cause_in_the_log_is_a_missing_fix(shape_results):
    problems = report.missing_fixes(shape_results["mutant/silent-failures"])
    assert set(problems) == {"guards"}
    assert any(p.startswith('run_litellm returned "" on a persistent 500 but its module\'s logger did not name the error') for p in problems["guards"])


def test_a_helper_verify_cannot_call_is_not_exercised_never_a_missing_fix(shape_results):
    result = shape_results["uncallable"]
    assert not result.failed, _explain(result)
    assert result.not_exercised == [("run_litellm_for_rubric",
                                     "cannot call run_litellm_for_rubric(model_name, user_prompt, rubric_id, **chat_kwargs): no value for required parameter 'rubric_id'")]
    assert not result.ok
    text = report.to_text(result, [])
    assert "not exercised: run_litellm_for_rubric: cannot call" in text and "missing fixes" not in text
    assert "1 function not exercised" in text
