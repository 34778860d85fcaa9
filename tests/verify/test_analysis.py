"""What verify finds in a checkout and how it binds arguments: by parameter name, defaults left alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from verify_support import analyse

from llmfix.verify import binding
from llmfix.verify.analysis import EITHER, GENERATOR, HELPER, RAISES, SWALLOWS
from llmfix.verify.binding import (
    MODEL,
    POSITIONAL,
    POSITIONAL_ONLY,
    Parameter,
    Uncallable,
    bind,
)

REPO = Path(__file__).resolve().parents[2]
CHECKOUTS = Path(__file__).resolve().parent / "checkouts"
FIXTURES = REPO / "fixtures"


def checkout(tmp_path: Path, run_utils: str, rubric_utils: str = "") -> Path:
    """A one-off checkout: open_instruct/search_rewards/utils/{run_utils,rubric_utils}.py."""
    folder = tmp_path / "open_instruct" / "search_rewards" / "utils"
    folder.mkdir(parents=True)
    (folder / "run_utils.py").write_text("import litellm\n\n" + textwrap.dedent(run_utils), encoding="utf-8")
    if rubric_utils:
        (folder / "rubric_utils.py").write_text(textwrap.dedent(rubric_utils), encoding="utf-8")
    return tmp_path


def by_name(path: Path) -> dict:
    return {t.name: t for t in analyse(path).targets}


def test_drtulu_helpers_by_name_with_their_contracts():
    targets = by_name(CHECKOUTS / "drtulu" / "unpatched")
    assert list(targets) == ["run_chatopenai", "run_litellm", "run_litellm_async", "generate_instance_wise_adaptive_rubrics"]
    chatopenai = targets["run_chatopenai"]
    assert (chatopenai.kind, chatopenai.is_async, chatopenai.contract) == (HELPER, False, RAISES)
    assert chatopenai.signature == "run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs)"
    assert chatopenai.binding.kwargs == {"model_name": MODEL, "system_prompt": binding.SYSTEM_PROMPT, "user_prompt": binding.PROMPT}
    assert (targets["run_litellm"].contract, targets["run_litellm_async"].contract) == (SWALLOWS, SWALLOWS)
    assert targets["run_litellm_async"].binding.kwargs == {"model_name": MODEL, "user_prompt": binding.PROMPT}  # messages=None kept
    generator = targets["generate_instance_wise_adaptive_rubrics"]
    assert (generator.kind, generator.contract, generator.model_parameter) == (GENERATOR, SWALLOWS, "model_name")
    assert generator.binding.kwargs == {"question": binding.QUESTION, "response_list": binding.RESPONSES, "model_name": MODEL}


def test_a_generator_without_a_model_parameter_gets_the_literal_of_its_call():
    targets = by_name(CHECKOUTS / "old" / "unpatched")
    plain, guarded = targets["generate_instance_wise_adaptive_rubrics"], targets["generate_adaptive_rubrics_guarded"]
    assert (plain.model_parameter, plain.model_literal, plain.controls_model) == (None, "gpt-4.1", False)
    assert plain.contract == RAISES and guarded.contract == SWALLOWS  # no try: fails as run_litellm_async (no try) does
    assert plain.binding.kwargs == {"question": binding.QUESTION, "response_list": binding.RESPONSES}


def test_the_split_shapes_raw_helper_is_driven_through_its_wrapper():
    targets = by_name(FIXTURES / "upstream-main-split")
    assert "run_litellm_async_raw" not in targets
    assert targets["run_litellm_async"].raw == ("run_litellm_async_raw",)
    assert targets["run_litellm_async"].contract == SWALLOWS


def test_model_literals_from_constants_and_parameters_that_carry_the_model(tmp_path):
    root = checkout(tmp_path, '''
        JUDGE = "openai/judge-1"

        def run_judge(prompt, **kw):
            response = litellm.completion(model=JUDGE, messages=[{"role": "user", "content": prompt}], **kw)
            return response.choices[0].message.content

        async def run_with(engine, user_prompt, **kw):
            response = await litellm.acompletion(model=engine, messages=[{"role": "user", "content": user_prompt}], **kw)
            return response.choices[0].message.content
    ''')
    targets = by_name(root)
    assert (targets["run_judge"].model_literal, targets["run_judge"].binding.kwargs) == ("openai/judge-1", {"prompt": binding.PROMPT})
    assert targets["run_with"].model_parameter == "engine"
    assert targets["run_with"].binding.kwargs == {"engine": MODEL, "user_prompt": binding.PROMPT}


def test_what_verify_cannot_call_says_why(tmp_path):
    root = checkout(tmp_path, '''
        def run_for_rubric(model_name, user_prompt, rubric_id, **kw):
            response = litellm.completion(model=model_name, messages=[], **kw)
            return response.choices[0].message.content

        def run_raw(model_name, messages, **kw):
            return litellm.completion(model=model_name, messages=messages, **kw)

        class Judge:
            def run(self, model_name, user_prompt, **kw):
                response = litellm.completion(model=model_name, messages=[], **kw)
                return response.choices[0].message.content
    ''')
    result = analyse(root)
    reasons = {t.name: t.reason for t in result.not_exercised}
    assert reasons == {
        "run_for_rubric": "cannot call run_for_rubric(model_name, user_prompt, rubric_id, **kw): no value for required parameter 'rubric_id'",
        "run": "cannot call run(self, model_name, user_prompt, **kw): it is a method, and verify calls module-level helpers only",
        "run_raw": "run_raw returns the response object and no helper that reads the text calls it",
    }
    assert result.callable == []


def test_a_generator_awaiting_an_unknown_helper_accepts_either_outcome(tmp_path):
    root = checkout(tmp_path, '''
        def run_litellm(model_name, user_prompt, **kw):
            response = litellm.completion(model=model_name, messages=[], **kw)
            return response.choices[0].message.content
    ''', '''
        from elsewhere import ask, extract_json_from_response

        async def generate_rubrics(question, response_list):
            resp = await ask(model_name="gpt-4.1", prompt=question)
            obj = extract_json_from_response(resp)
            return obj
    ''')
    assert by_name(root)["generate_rubrics"].contract == EITHER


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ((Parameter("model_name", POSITIONAL), Parameter("messages", POSITIONAL)), {"model_name": MODEL, "messages": binding.MESSAGES_ROLE.value}),
        ((Parameter("model_name", POSITIONAL), Parameter("messages", POSITIONAL, "None")), {"model_name": MODEL, "messages": binding.MESSAGES_ROLE.value}),
        ((Parameter("model", POSITIONAL), Parameter("prompt", POSITIONAL), Parameter("temperature", POSITIONAL, "0")),
         {"model": MODEL, "prompt": binding.PROMPT}),
        ((Parameter("question", POSITIONAL), Parameter("response_list", POSITIONAL), Parameter("existing_rubrics", POSITIONAL)),
         {"question": binding.QUESTION, "response_list": binding.RESPONSES, "existing_rubrics": []}),
        ((Parameter("model_name", POSITIONAL), Parameter("user_prompt", POSITIONAL), Parameter("json_mode", POSITIONAL)),
         {"model_name": MODEL, "user_prompt": binding.PROMPT, "json_mode": False}),
    ],
)
def test_bind_by_name(parameters, expected):
    assert bind(parameters).kwargs == expected


def test_bind_positional_only_and_its_limits():
    assert bind((Parameter("model_name", POSITIONAL_ONLY), Parameter("prompt", POSITIONAL_ONLY))).args == [MODEL, binding.PROMPT]
    with pytest.raises(Uncallable, match="positional-only and follows 'temperature'"):
        bind((Parameter("temperature", POSITIONAL_ONLY, "0"), Parameter("prompt", POSITIONAL_ONLY)))
    with pytest.raises(Uncallable, match="no value for required parameter 'seed'"):
        bind((Parameter("model_name", POSITIONAL), Parameter("seed", POSITIONAL)))
    args, kwargs = bind((Parameter("model_name", POSITIONAL_ONLY), Parameter("user_prompt", POSITIONAL))).materialise("openai/m")
    assert (args, kwargs) == (["openai/m"], {"user_prompt": binding.PROMPT})


def test_signature_rendering():
    parameters = (Parameter("a", POSITIONAL_ONLY), Parameter("b", POSITIONAL, "os.environ.get('X', 'a long default')"),
                  Parameter("c", binding.KEYWORD_ONLY), Parameter("kw", binding.VAR_KEYWORD))
    assert binding.signature("f", parameters) == "f(a, /, b=…, *, c, **kw)"
