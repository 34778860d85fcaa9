"""The LLM judge: found by structure, built by parameter name, imported with the training stack stubbed.

``checkouts/judge`` holds ``LMJudgeVerifier.async_call`` as open-instruct had it in mid 2025
(J-direct: ``from litellm import acompletion`` at the top, a hand retry loop returning a 0.0
score after its last attempt), in a ground_truth_utils.py that imports torch. The variants
(verify_support.py) are the other shapes in the wild (J-lazy, J-direct-timeout) and two
judges verify cannot run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from verify_support import CHECKOUTS, analyse, by_group, group_of

from llmfix.verify import binding, report
from llmfix.verify.analysis import JUDGE, SWALLOWS

REPO = Path(__file__).resolve().parents[2]
JUDGE_NAME = "LMJudgeVerifier.async_call"


def _judges(outcomes):
    return {o.case.id: o for o in outcomes if o.case.is_judge or o.case.id.endswith(("j", "k"))}


def test_the_judge_is_found_by_its_direct_call_and_bound_by_name():
    checkout = analyse(CHECKOUTS / "judge" / "unpatched")
    [judge] = checkout.judges
    assert (judge.kind, judge.name, judge.module, judge.is_async, judge.contract) == (JUDGE, JUDGE_NAME, "open_instruct.ground_truth_utils", True, SWALLOWS)
    assert judge.model_path == ("verifier_config", "llm_judge_model") and judge.attempts == 3  # its own retry loop
    assert judge.binding.kwargs == {"tokenized_prediction": [], "prediction": binding.PREDICTION, "label": binding.LABEL, "query": binding.QUESTION}
    assert checkout.judge_modules == ["open_instruct.ground_truth_utils"] and checkout.support == "open_instruct.litellm_utils"
    assert [t.name for t in checkout.targets] == [JUDGE_NAME]  # VerifierFunction.async_call calls no LiteLLM


def _module(tmp_path: Path, body: str) -> Path:
    (tmp_path / "open_instruct").mkdir()
    (tmp_path / "open_instruct" / "ground_truth_utils.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return tmp_path


def test_a_lazily_imported_acompletion_and_a_configured_timeout_are_judges_too(tmp_path):
    root = _module(tmp_path, '''
        class LMJudgeVerifier:
            async def async_call(self, tokenized_prediction, prediction, label, query):
                from litellm import acompletion

                response = await acompletion(model=self.verifier_config.llm_judge_model, messages=[], timeout=self.verifier_config.llm_judge_timeout)
                return response
    ''')
    [judge] = analyse(root).judges
    assert judge.name == JUDGE_NAME and judge.contract == "raises" and judge.attempts == 1


def test_a_judge_that_routes_through_the_helper_needs_nothing(tmp_path):
    """J-routed (open-instruct main): the judge awaits run_litellm_async_raw, the helper's fixes cover it."""
    root = _module(tmp_path, '''
        import litellm
        from open_instruct.rubrics.run_utils import run_litellm_async_raw


        class LMJudgeVerifier:
            async def async_call(self, tokenized_prediction, prediction, label, query):
                response = await run_litellm_async_raw(model_name=self.verifier_config.llm_judge_model, user_prompt=query)
                return response
    ''')
    checkout = analyse(root)
    assert checkout.judges == [] and not checkout.targets


STUB_PROBE = """
import sys
sys.path.insert(0, {verify!r})
import loader
stubs = loader.Stubs("open_instruct")
module = loader.import_checkout_module({root!r}, "open_instruct.ground_truth_utils", stubs)
import copy  # the standard library's own optional imports (org.python.core) stay unstubbed
never = [stubs.find_spec(name) for name in ("litellm", "litellm.main", "json", "open_instruct.anything")]
print(stubs.stubbed, never, type(sys.modules["torch"]).__name__)
try:
    loader.import_checkout_module({root!r}, "open_instruct.elsewhere", loader.Stubs("open_instruct"))
except loader.CheckoutImportError as error:
    print(error.kind, error.missing)
"""


def test_the_judges_module_imports_with_the_missing_training_stack_stubbed(tmp_path):
    root = _module(tmp_path, '''
        import torch
        import ray.util
        from transformers import PreTrainedTokenizer

        class Model(torch.nn.Module):
            tokenizer: PreTrainedTokenizer | None = None

        CUDA = torch.cuda.is_available()
    ''')
    (root / "open_instruct" / "elsewhere.py").write_text("from open_instruct.not_in_the_checkout import x\n", encoding="utf-8")
    code = STUB_PROBE.format(verify=str(REPO / "llmfix" / "verify"), root=str(root))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "['torch', 'ray', 'transformers'] [None, None, None, None] _StubModule"  # never litellm, the stdlib or the checkout
    assert second == "checkout-module open_instruct.not_in_the_checkout"  # the checkout's own modules are never stubbed


@pytest.mark.parametrize("key", by_group(["judge/patched", "judge-lazy/patched", "judge-timeout/patched"]))
def test_the_patched_judge_passes_every_judge_case(verify_runs, key):
    result = verify_runs[key]
    judged = _judges(result.outcomes)
    assert judged and all(o.status == "pass" for o in judged.values()), [(i, o.problems) for i, o in judged.items() if o.status != "pass"]
    assert result.stubbed == {"open_instruct.ground_truth_utils": ["torch"]}
    assert "open_instruct.ground_truth_utils imported with stubs for what is not installed: torch" in report.to_text(result, [])


@group_of("judge/patched")
def test_the_patched_judge_counts_its_failures_raises_past_the_rate_times_out_and_falls_back(verify_runs):
    judged = _judges(verify_runs["judge/patched"].outcomes)
    silent = judged["3j"].observation
    step = silent.case.steps[0]
    assert silent.result(step).score == 0.0 and silent.attempts[step.label] == 9  # its 3 attempts, each the SDK's 3 requests
    figures = silent.report_of(step).value[JUDGE_NAME]
    assert [entry["failed"] for entry in figures.values()] == [1]
    assert judged["3k"].observation.result(step).raised == "LiteLLMDegradedError"
    hang = judged["6j"].observation
    assert hang.result(hang.case.steps[0]).score == 0.0 and hang.attempts[hang.case.steps[0].label] == 9  # every request timed out
    assert judged["5j"].observation.extra_attempts["fallback"] >= 1


@group_of("judge/patched")
def test_the_unpatched_judge_fails_naming_judge_and_the_silent_zero(verify_runs):
    result = verify_runs["judge/unpatched"]
    assert {o.case.id for o in result.failed} == {"3j", "3k", "5j", "6j", "12j"}
    problems = report.missing_fixes(result)
    assert set(problems) == {"judge"}, problems
    assert any(p.startswith("a judge scored 0.0 silently under an outage: LMJudgeVerifier.async_call returned score 0.0") for p in problems["judge"])
    assert any("still waiting" in p and "first request" in p for p in problems["judge"])  # no timeout: LiteLLM's 6000 s
    for case_id in ("1j", "2j", "4j", "9j"):  # a healthy endpoint, blips: the judge's own loop copes
        assert next(o for o in result.outcomes if o.case.id == case_id).status == "pass"


@group_of("judge-timeout/unpatched")
def test_a_judge_with_its_own_configured_timeout_passes_the_hang_unpatched(verify_runs):
    """J-direct-timeout: the call passes timeout=self.verifier_config.llm_judge_timeout (verify sets it to LITELLM_DEFAULT_TIMEOUT)."""
    statuses = {o.case.id: o.status for o in verify_runs["judge-timeout/unpatched"].outcomes if o.case.is_judge}
    assert statuses["6j"] == "pass" and statuses["1j"] == "pass"
    assert statuses["3j"] == statuses["3k"] == "fail"  # nothing counts its failures: the judge transform is still missing


@group_of("judge-broken-import")
@pytest.mark.parametrize(("key", "reason"), [
    ("judge-broken-import", "judge not run: cannot import open_instruct.ground_truth_utils: it imports open_instruct.utils, which is not in the checkout"),
    ("judge-unbuildable", "judge not run: cannot build LMJudgeVerifierConfig: no value for its required field 'judge_rubric_source'"),
])
def test_a_judge_verify_cannot_run_is_skipped_with_the_reason_never_verified(verify_runs, key, reason):
    result = verify_runs[key]
    [outcome] = [o for o in result.outcomes if o.case.id == "1j"]
    assert (outcome.status, outcome.reason) == ("skip", reason)
    assert not result.failed and report.summary(result).startswith("0 passed, 0 failed, 2 skipped")  # 1 has no helper to call
