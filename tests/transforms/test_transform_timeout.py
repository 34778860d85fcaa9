"""timeout: before/after pairs."""

import black
import pytest

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.timeout import TimeoutTransform


def test_sync_helper_gets_litellms_default_not_another_helpers_literal(check_transform):
    """Without a timeout of its own a helper waited LiteLLM's 600 s per attempt: that stays its default."""
    outcome = check_transform(
        TimeoutTransform,
        """\
        import os
        import litellm

        def run_litellm(m, **kw):
            kw["num_retries"] = kw.get("num_retries", 5)
            return litellm.completion(model=m, **kw)

        async def run_litellm_async(m, **kw):
            kw["timeout"] = kw.get(
                "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120"))
            )
            return await litellm.acompletion(model=m, **kw)
        """,
        """\
        import os
        import litellm

        def run_litellm(m, **kw):
            kw["num_retries"] = kw.get("num_retries", 5)
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
            return litellm.completion(model=m, **kw)

        async def run_litellm_async(m, **kw):
            kw["timeout"] = kw.get(
                "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120"))
            )
            return await litellm.acompletion(model=m, **kw)
        """,
        APPLIED,
    )
    assert "run_litellm_async() reads LITELLM_DEFAULT_TIMEOUT" in outcome.reason


def test_no_timeout_anywhere_defaults_to_600(check_transform):
    check_transform(
        TimeoutTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw["top_p"] = kw.get("top_p", 1.0)
            return litellm.completion(model=m, **kw)
        """,
        """\
        import os, litellm
        def f(m, **kw):
            kw["top_p"] = kw.get("top_p", 1.0)
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
    )


def test_literal_timeout_keeps_its_value(check_transform):
    check_transform(
        TimeoutTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", 45.5)
            return litellm.completion(model=m, **kw)
        """,
        """\
        import os, litellm
        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "45.5")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
    )


def test_timeout_flag_wins(check_transform):
    check_transform(
        TimeoutTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", 60)
            return litellm.completion(model=m, **kw)
        """,
        """\
        import os, litellm
        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "90")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
        timeout=90,
    )


def test_env_read_is_already_present(check_transform):
    check_transform(
        TimeoutTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", float(os.environ["LITELLM_DEFAULT_TIMEOUT"]))
            return litellm.completion(model=m, **kw)
        """,
        None,
        ALREADY_PRESENT,
    )


def test_unconditional_assignment_is_anchor_missing(check_transform):
    outcome = check_transform(
        TimeoutTransform,
        """\
        import litellm
        def f(m, **kw):
            kw["timeout"] = 30
            return litellm.completion(model=m, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )
    assert "whatever the caller passed" in outcome.reason
    assert outcome.reason.endswith("apply the rest with `--skip timeout`")


def test_an_explicit_timeout_updates_a_patched_file(check_transform):
    """Unlike retries, a timeout flag may lower the baked-in value: it is what the user asked for."""
    before = """\
import os

import litellm


def f(m, **kw):
    kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    return litellm.completion(model=m, **kw)
"""
    outcome = check_transform(TimeoutTransform, before, before.replace('"120"', '"30"'), APPLIED, timeout=30)
    assert "updated" in outcome.reason
    check_transform(TimeoutTransform, before, None, ALREADY_PRESENT)


def test_the_change_names_the_old_timeout_and_how_to_restore_it(check_transform):
    outcome = check_transform(
        TimeoutTransform,
        """\
        import os

        import litellm


        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", 60)
            return litellm.completion(model=m, **kw)
        """,
        """\
        import os

        import litellm


        def f(m, **kw):
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
        timeout=600,
    )
    (change,) = outcome.changes
    assert change.restore == (("LITELLM_DEFAULT_TIMEOUT", "60"),) and change.key == "timeout" and change.old == 60


@pytest.mark.parametrize(
    ("imports", "call"),
    [("import litellm as ll", "ll.completion"), ("from litellm import completion as complete", "complete")],
    ids=["module alias", "function alias"],
)
def test_an_aliased_litellm_is_a_helper_too(check_transform, imports, call):
    check_transform(
        TimeoutTransform,
        f"""\
        {imports}


        def run_litellm(model_name, **chat_kwargs):
            return {call}(model=model_name, **chat_kwargs)
        """,
        f"""\
        import os

        {imports}


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
            return {call}(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )


def test_a_local_os_makes_the_new_code_use_an_alias(check_transform):
    check_transform(
        TimeoutTransform,
        """\
        import litellm


        def run_litellm(model_name, **chat_kwargs):
            os = chat_kwargs.pop("os", "linux")
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            return litellm.completion(model=model_name, metadata={"os": os}, **chat_kwargs)
        """,
        """\
        import os as _os

        import litellm


        def run_litellm(model_name, **chat_kwargs):
            os = chat_kwargs.pop("os", "linux")
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(_os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
            return litellm.completion(model=model_name, metadata={"os": os}, **chat_kwargs)
        """,
        APPLIED,
    )


def test_a_long_new_default_is_wrapped_as_black_does(check_transform):
    before = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    return litellm.completion(model=model_name, **chat_kwargs)
"""
    after = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))
    )
    return litellm.completion(model=model_name, **chat_kwargs)
"""
    mode = black.Mode(line_length=88)
    assert black.format_str(before, mode=mode) == before
    check_transform(TimeoutTransform, before, after, APPLIED, line_length=88)
    assert black.format_str(after, mode=mode) == after


def test_no_helper_is_not_applicable(check_transform):
    check_transform(TimeoutTransform, "import os\n\n\ndef f():\n    return os.getcwd()\n", None, NOT_APPLICABLE)
