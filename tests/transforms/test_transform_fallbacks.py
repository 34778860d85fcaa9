"""fallbacks: before/after pairs.

What ``_fallback_models_from_env`` does with the variable is tested on the runtime
module itself (tests/runtime/test_fallbacks.py); here: where it is called, with what.
"""

import ast

import pytest

from harness import run_transform
from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.fallbacks import FallbacksTransform

IMPORTS = "import json\nimport os\n\nimport litellm\n"

SOURCE = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    return litellm.completion(model=model_name, **chat_kwargs)


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""


def test_each_site_keeps_its_own_list_as_the_default(check_transform):
    outcome = check_transform(
        FallbacksTransform,
        SOURCE,
        f"""\
{IMPORTS}

__RUNTIME__


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
    return litellm.completion(model=model_name, **chat_kwargs)


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env([], model_name))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
    )
    # no default changed: nothing to restore, only a new way to set them
    assert [c.restore for c in outcome.changes] == [(), ()]


def test_the_parser_is_defined_once_for_every_site():
    new, _ = run_transform(FallbacksTransform, SOURCE)
    tree = ast.parse(new)
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_fallback_models_from_env"]
    assert len(defined) == 1
    first_helper = next(i for i, n in enumerate(tree.body) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("run_"))
    assert tree.body.index(defined[0]) < first_helper


def test_a_missing_line_gets_an_empty_default_and_no_model_is_added(check_transform):
    check_transform(
        FallbacksTransform,
        """\
        import litellm


        def f(m, **kw):
            return litellm.completion(model=m, **kw)
        """,
        """\
        import json
        import os

        import litellm


        __RUNTIME__


        def f(m, **kw):
            kw["fallbacks"] = kw.get("fallbacks", _fallback_models_from_env([], m))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
    )


def test_fallback_flag_bakes_in_the_models_everywhere(check_transform):
    outcome = check_transform(
        FallbacksTransform,
        SOURCE,
        f"""\
{IMPORTS}

__RUNTIME__


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["a", "b"], model_name))
    return litellm.completion(model=model_name, **chat_kwargs)


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["a", "b"], model_name))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        fallbacks=["a", "b"],
    )
    # both defaults changed, and the old ones can be brought back
    assert [c.restore for c in outcome.changes] == [(("LITELLM_FALLBACK_MODELS", "gpt-4.1-mini"),), (("LITELLM_FALLBACK_MODELS", ""),)]


def test_fallback_flag_updates_a_patched_file(check_transform):
    patched, _ = run_transform(FallbacksTransform, SOURCE)
    new, outcome = run_transform(FallbacksTransform, patched, fallbacks=["backup"])
    assert outcome.status == APPLIED
    assert new.count('_fallback_models_from_env(["backup"], model_name)') == 2
    assert new.count("def _fallback_models_from_env(") == 1
    again, second = run_transform(FallbacksTransform, new, fallbacks=["backup"])
    assert again == new and second.status == ALREADY_PRESENT
    unflagged, third = run_transform(FallbacksTransform, new)
    assert unflagged == new and third.status == ALREADY_PRESENT


def test_the_defaults_helper_of_the_split_shape_passes_no_model(check_transform):
    """R-split: the defaults are set where the call's model is not in scope; the block goes before the first LiteLLM helper."""
    check_transform(
        FallbacksTransform,
        """\
        import litellm


        def _apply_async_chat_defaults(chat_kwargs):
            request_kwargs = dict(chat_kwargs)
            request_kwargs["fallbacks"] = request_kwargs.get("fallbacks", [])
            return request_kwargs


        async def run_litellm_async_raw(model_name, **chat_kwargs):
            return await litellm.acompletion(model=model_name, **chat_kwargs)


        async def run_litellm_async(model_name, **chat_kwargs):
            request_kwargs = _apply_async_chat_defaults(chat_kwargs)
            return await run_litellm_async_raw(model_name, **request_kwargs)
        """,
        """\
        import json
        import os

        import litellm


        def _apply_async_chat_defaults(chat_kwargs):
            request_kwargs = dict(chat_kwargs)
            request_kwargs["fallbacks"] = request_kwargs.get("fallbacks", _fallback_models_from_env([]))
            return request_kwargs


        __RUNTIME__


        async def run_litellm_async_raw(model_name, **chat_kwargs):
            return await litellm.acompletion(model=model_name, **chat_kwargs)


        async def run_litellm_async(model_name, **chat_kwargs):
            request_kwargs = _apply_async_chat_defaults(chat_kwargs)
            return await run_litellm_async_raw(model_name, **request_kwargs)
        """,
        APPLIED,
    )


def test_a_hand_written_default_under_a_condition_is_made_env_driven(check_transform):
    outcome = check_transform(
        FallbacksTransform,
        """\
        import litellm


        def run_litellm(model_name, **chat_kwargs):
            if "fallbacks" not in chat_kwargs:
                chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        """\
        import json
        import os

        import litellm


        __RUNTIME__


        def run_litellm(model_name, **chat_kwargs):
            if "fallbacks" not in chat_kwargs:
                chat_kwargs["fallbacks"] = _fallback_models_from_env(["gpt-4.1-mini"], model_name)
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )
    assert "hand-written" in outcome.reason


def test_a_hand_written_default_under_a_nested_condition_keeps_each_branch(check_transform):
    check_transform(
        FallbacksTransform,
        """\
        import litellm


        def run_litellm(model_name, **chat_kwargs):
            if "fallbacks" not in chat_kwargs:
                if model_name.startswith("openai/"):
                    chat_kwargs["fallbacks"] = ["openai/gpt-4.1-mini"]
                else:
                    chat_kwargs["fallbacks"] = ["gpt-4.1-mini", "gpt-4o-mini"]
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        """\
        import json
        import os

        import litellm


        __RUNTIME__


        def run_litellm(model_name, **chat_kwargs):
            if "fallbacks" not in chat_kwargs:
                if model_name.startswith("openai/"):
                    chat_kwargs["fallbacks"] = _fallback_models_from_env(["openai/gpt-4.1-mini"], model_name)
                else:
                    chat_kwargs["fallbacks"] = _fallback_models_from_env(["gpt-4.1-mini", "gpt-4o-mini"], model_name)
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )


def test_a_hand_written_env_read_under_a_condition_is_already_present(check_transform):
    check_transform(
        FallbacksTransform,
        """\
        import os

        import litellm


        def run_litellm(model_name, **chat_kwargs):
            if "fallbacks" not in chat_kwargs:
                chat_kwargs["fallbacks"] = [m for m in os.environ.get("LITELLM_FALLBACK_MODELS", "").split(",") if m]
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        None,
        ALREADY_PRESENT,
    )


def test_an_unconditional_assignment_is_anchor_missing(check_transform):
    outcome = check_transform(
        FallbacksTransform,
        """\
        import litellm


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        None,
        ANCHOR_MISSING,
    )
    assert "run_litellm()" in outcome.reason and "whatever the caller passed" in outcome.reason
    assert outcome.reason.endswith("apply the rest with `--skip fallbacks`")


def test_non_list_default_is_anchor_missing(check_transform):
    outcome = check_transform(
        FallbacksTransform,
        """\
        import litellm
        def f(m, **kw):
            kw["fallbacks"] = kw.get("fallbacks", FALLBACKS)
            return litellm.completion(model=m, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )
    assert "FALLBACKS" in outcome.reason and outcome.reason.endswith("`--skip fallbacks`")


@pytest.mark.parametrize(
    ("imports", "call"),
    [("import litellm as ll", "ll.completion"), ("from litellm import completion as complete", "complete")],
    ids=["module alias", "function alias"],
)
def test_an_aliased_litellm_is_a_helper_too(check_transform, imports, call):
    check_transform(
        FallbacksTransform,
        f"""\
        {imports}


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
            return {call}(model=model_name, **chat_kwargs)
        """,
        f"""\
        import json
        import os

        {imports}


        __RUNTIME__


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name))
            return {call}(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )


def test_a_call_to_the_parser_without_its_definition_gets_it_back(check_transform):
    """A merge kept the patched default line but took the runtime block."""
    outcome = check_transform(
        FallbacksTransform,
        """\
        import json
        import os

        import litellm


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env([], model_name))
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        """\
        import json
        import os

        import litellm


        __RUNTIME__


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env([], model_name))
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )
    assert "restored" in outcome.reason


def test_no_helper_is_not_applicable(check_transform):
    check_transform(FallbacksTransform, "import os\n\n\ndef f():\n    return os.getcwd()\n", None, NOT_APPLICABLE)
