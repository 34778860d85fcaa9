"""verify on hand-written checkouts of the shapes that tripped it, patched by llmfix and not.

``checkouts/drtulu``: DR Tulu's run_utils (``run_chatopenai(model_name, system_prompt,
user_prompt, json_mode=False)`` raising, ``run_azure_openai`` on the openai SDK, the
swallowing ``run_litellm``/``run_litellm_async``) and its generator. ``checkouts/old``: the
older helpers with no try (raising) and two generators with no model parameter whose
awaited call passes the literal ``model_name="gpt-4.1"``. ``checkouts/judge``: the LLM judge
(``LMJudgeVerifier.async_call``) in a ground_truth_utils.py that imports torch.

The *mutants* are copies of a patched checkout with one behaviour taken out, so each
scenario is shown to fail, naming its fix, when that behaviour is missing. The runs come
from the session's one ``run_many`` (conftest.py).
"""

from __future__ import annotations

import pytest
from verify_support import MUTANTS, SHAPES, group_of, target_named

from llmfix.verify import report, runner, scenarios
from llmfix.verify.analysis import GENERATOR
from llmfix.verify.cases import ANSWER

SHAPES_GROUP = group_of("drtulu/patched")  # the tests below without a mark of their own read the shapes' runs


def _explain(result: runner.RunResult) -> str:
    return "\n".join(f"{fix}: {p}" for fix, problems in report.missing_fixes(result).items() for p in problems) or "(no problems)"


def _observation(result: runner.RunResult, case_id: str):
    return next(o for o in result.outcomes if o.case.id == case_id).observation


def _step(result: runner.RunResult, case_id: str, label: str):
    obs = _observation(result, case_id)
    return obs, next(s for s in obs.case.steps if s.label == label)


@pytest.mark.parametrize("shape", [pytest.param(shape, marks=group_of(f"{shape}/patched"), id=shape) for shape in SHAPES])
def test_patched_shape_passes_every_case(verify_runs, shape):
    result = verify_runs[f"{shape}/patched"]
    assert result.error is None, result.error
    assert not result.failed, _explain(result)
    assert result.ok and not result.not_exercised
    assert {o.case.id for o in result.outcomes} == {c.id for s in scenarios.build(scenarios.Settings(), result.checkout) for c in s.cases}
    assert "9b" in {o.case.id for o in result.outcomes if o.status == "pass"} or shape == "judge"  # tinyproxy is installed: 9b ran


@SHAPES_GROUP
@pytest.mark.parametrize("shape", ["drtulu", "old"])
def test_unpatched_shape_fails_and_names_the_missing_fixes(verify_runs, shape):
    result = verify_runs[f"{shape}/unpatched"]
    assert result.error is None, result.error
    fixes = report.missing_fixes(result)
    assert {"fallbacks", "timeout", "guards", "precheck", "health"} | ({"retries"} if shape == "drtulu" else set()) <= set(fixes), _explain(result)
    assert any("no connection check first" in p for p in fixes["precheck"]), fixes["precheck"]
    assert any("run_chatopenai raised IndexError on choices: []" in p for p in fixes["guards"]), fixes["guards"]


@SHAPES_GROUP
@pytest.mark.parametrize("shape", ["drtulu", "old"])
def test_every_helper_and_generator_is_called_by_parameter_name(verify_runs, shape):
    result = verify_runs[f"{shape}/patched"]
    names = {t.name for t in result.checkout.targets}
    expected = {"run_chatopenai", "run_litellm", "run_litellm_async"} | (
        {"generate_instance_wise_adaptive_rubrics"} if shape == "drtulu" else {"generate_instance_wise_adaptive_rubrics", "generate_adaptive_rubrics_guarded"})
    assert names == expected  # run_azure_openai (openai SDK, not LiteLLM) is not a LiteLLM helper
    obs = _observation(result, "1")
    for target in result.checkout.targets:
        step = obs.result(next(s for s in obs.case.steps if s.label == target.name))
        assert step.outcome == "returned", (target.name, step)
    chatopenai = target_named(result.checkout, "run_chatopenai")
    assert chatopenai.binding.kwargs.keys() == {"model_name", "system_prompt", "user_prompt"}  # json_mode keeps its default
    assert obs.steps["run_chatopenai"].value == ANSWER


@SHAPES_GROUP
def test_a_raising_helper_raises_after_its_retries(verify_runs, settings):
    result = verify_runs["drtulu/patched"]
    assert target_named(result.checkout, "run_chatopenai").contract == "raises"
    obs, step = _step(result, "3", "run_chatopenai")
    assert obs.result(step).outcome == "raised"
    assert settings.retries + 1 <= obs.attempts["run_chatopenai"] <= settings.max_attempts(False)


@SHAPES_GROUP
def test_a_swallowing_helper_returns_empty_and_tells_why(verify_runs):
    """run_litellm's bare except gets the support module's log_failure; run_litellm_async already printed its error."""
    result = verify_runs["drtulu/patched"]
    obs, step = _step(result, "3", "run_litellm")
    outcome = obs.result(step)
    assert outcome.outcome == "returned" and outcome.value == ""
    told = [w for w in outcome.warnings if w["logger"].endswith(".litellm_utils")]
    assert any("run_litellm failed: " in w["message"] and "500" in w["message"] for w in told), outcome.warnings  # the root cause
    obs, step = _step(result, "3", "run_litellm_async")
    assert any(line.startswith("Error in run_litellm_async:") for line in obs.result(step).printed)


@SHAPES_GROUP
def test_generators_with_a_literal_model_are_counted_apart(verify_runs):
    """Both generators send "gpt-4.1": each runs in a lane (and mock scope) of its own."""
    result = verify_runs["old/patched"]
    generators = result.checkout.of_kind(GENERATOR)
    assert [(t.model_parameter, t.model_literal) for t in generators] == [(None, "gpt-4.1")] * 2
    assert [t.contract for t in generators] == ["raises", "swallows"]  # the plain one fails the way its helper does
    healthy = _observation(result, "1")
    for target in generators:
        assert healthy.models[target.name] == ["gpt-4.1"]
        assert healthy.attempts[target.name] == 2 and healthy.probes[target.name] == 1  # its connection check, then its call
    empty = _observation(result, "7a")
    for target in generators:  # the guard logs through the support module's logger: still the generator's own warning
        step = next(s for s in empty.case.steps if s.label == target.name)
        warnings = [w for w in empty.steps[target.name].warnings if w["path"].endswith("rubric_utils.py")]
        assert len(warnings) == 1 and "gpt-4.1" in warnings[0]["message"], empty.steps[target.name].warnings
        assert step.target.module.endswith("rubric_utils")
    refused = _observation(result, "8a")
    assert all("'gpt-4.1'" in refused.steps[t.name].error["message"] for t in generators)


@SHAPES_GROUP
def test_generators_with_a_literal_model_fail_without_their_fixes(verify_runs):
    guards = report.missing_fixes(verify_runs["old/unpatched"])["guards"]
    assert any(p.startswith("generate_instance_wise_adaptive_rubrics returned None on content \"\" but logged 0 warning(s) (expected one naming gpt-4.1)")
               for p in guards), guards


@group_of("mutant/no-retries")
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_fails_the_scenario_of_the_fix_it_lacks(verify_runs, mutant):
    result = verify_runs[f"mutant/{mutant.name}"]
    assert result.error is None, result.error
    failed = {o.case.scenario for o in result.failed}
    assert failed == set(mutant.breaks), _explain(result)
    units = {unit.NAME: unit for unit in scenarios.units()}
    for outcome in result.failed:
        assert {fix for fix, _ in outcome.problems} <= set(units[outcome.case.scenario].FIXES) | {scenarios.BASICS}, outcome.problems


@SHAPES_GROUP
def test_the_precheck_retries_a_blip_and_rechecks_a_failure(verify_runs):
    for shape in ("drtulu", "old"):
        result = verify_runs[f"{shape}/patched"]
        generator = result.checkout.of_kind(GENERATOR)[0].name
        for case_id in ("10a", "10b", "10c"):
            obs = _observation(result, case_id)
            assert obs.steps[generator].outcome == "returned" and obs.probes[generator] == 2 and obs.attempts[generator] == 3
        recheck = _observation(result, "11")
        labels = (generator, f"{generator}-cached", f"{generator}-after-recheck")
        assert [recheck.steps[label].outcome for label in labels] == ["raised", "raised", "returned"]
        assert recheck.probes[generator] == 2


@group_of("mutant/precheck-without-retry")
def test_without_its_retry_or_its_recheck_the_precheck_fails(verify_runs):
    blip = report.missing_fixes(verify_runs["mutant/precheck-without-retry"])["precheck"]
    assert any("one 500" in p and "raised LiteLLMConnectionError" in p for p in blip), blip
    cached = report.missing_fixes(verify_runs["mutant/failure-cached-for-good"])["precheck"]
    assert any("still raised" in p and "re-checked" in p for p in cached), cached


@group_of("mutant/silent-failures")
def test_a_swallowed_failure_without_a_trace_is_a_missing_fix(verify_runs):
    problems = report.missing_fixes(verify_runs["mutant/silent-failures"])
    assert set(problems) == {"guards"}
    assert any(p.startswith('run_litellm returned "" on a persistent 500 silently') for p in problems["guards"])


@group_of("uncallable")
def test_a_helper_verify_cannot_call_is_not_exercised_never_a_missing_fix(verify_runs):
    result = verify_runs["uncallable"]
    assert not result.failed, _explain(result)
    assert result.not_exercised == [
        (
            "run_litellm_for_rubric",
            "cannot call run_litellm_for_rubric(model_name, user_prompt, rubric_id, **chat_kwargs): no value for required parameter 'rubric_id'",
        )
    ]
    assert not result.ok
    text = report.to_text(result, [])
    assert "not exercised: run_litellm_for_rubric: cannot call" in text and "missing fixes" not in text
    assert "1 function not exercised" in text
