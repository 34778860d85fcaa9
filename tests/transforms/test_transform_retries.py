"""retries: before/after pairs."""

import black
import pytest

from harness import run_transform
from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.retries import RetriesTransform

ENV_10 = 'int(os.environ.get("LITELLM_NUM_RETRIES", "10"))'


def test_literal_default_becomes_env_driven(check_transform):
    outcome = check_transform(
        RetriesTransform,
        """\
        import os
        import litellm

        def run_litellm(model_name, user_prompt, **chat_kwargs):
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)  # keep me
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        f"""\
        import os
        import litellm

        def run_litellm(model_name, user_prompt, **chat_kwargs):
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", {ENV_10})  # keep me
            return litellm.completion(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )
    (change,) = outcome.changes
    assert change.restore == (("LITELLM_NUM_RETRIES", "5"),) and change.key == "num_retries" and change.old == 5


def test_larger_existing_default_is_never_lowered(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", 20)
            return litellm.completion(model=m, **kw)
        """,
        """\
        import os, litellm
        def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "20")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
    )


@pytest.mark.parametrize(("literal", "flag", "baked"), [(20, 12, "20"), (3, 12, "12"), (5, 5, "5"), (0, 0, "0")])
def test_the_baked_default_is_the_larger_of_the_flag_and_the_literal(check_transform, literal, flag, baked):
    check_transform(
        RetriesTransform,
        f"""\
        import os

        import litellm


        def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", {literal})
            return litellm.completion(model=m, **kw)
        """,
        f"""\
        import os

        import litellm


        def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "{baked}")))
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
        retries=flag,
    )


def test_retries_flag_sets_the_baked_in_default_and_os_goes_in_the_stdlib_section(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import litellm


        async def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", 5)
            return await litellm.acompletion(model=m, **kw)
        """,
        """\
        import os

        import litellm


        async def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "15")))
            return await litellm.acompletion(model=m, **kw)
        """,
        APPLIED,
        retries=15,
    )


PATCHED = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "12")))
    return litellm.completion(model=model_name, **chat_kwargs)
"""


def test_an_explicit_larger_retries_updates_a_patched_file(check_transform):
    outcome = check_transform(RetriesTransform, PATCHED, PATCHED.replace('"12"', '"15"'), APPLIED, retries=15)
    assert "updated" in outcome.reason


@pytest.mark.parametrize("options", [{"retries": 3}, {"retries": 12}, {}], ids=["smaller", "same", "no flag"])
def test_a_patched_file_is_never_lowered_nor_touched_without_a_larger_flag(check_transform, options):
    check_transform(RetriesTransform, PATCHED, None, ALREADY_PRESENT, **options)


def test_missing_line_is_inserted_before_the_call_statement(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import os
        import litellm

        async def run(model_name, msgs, **chat_kwargs):
            async with SEM:
                response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
            return response
        """,
        f"""\
        import os
        import litellm

        async def run(model_name, msgs, **chat_kwargs):
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", {ENV_10})
            async with SEM:
                response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
            return response
        """,
        APPLIED,
    )


def test_missing_line_goes_after_the_other_defaults(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import os
        import litellm
        def f(m, **kw):
            kw["temperature"] = kw.get("temperature", 0)
            x = 1
            return litellm.completion(model=m, **kw)
        """,
        f"""\
        import os
        import litellm
        def f(m, **kw):
            kw["temperature"] = kw.get("temperature", 0)
            kw["num_retries"] = kw.get("num_retries", {ENV_10})
            x = 1
            return litellm.completion(model=m, **kw)
        """,
        APPLIED,
    )


def test_run_chatopenai_is_a_helper_too(check_transform):
    """R-chatopenai: the system prompt comes second; its temperature default is the only one."""
    check_transform(
        RetriesTransform,
        """\
        import litellm


        def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
            chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
            msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
            resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
            return resp.choices[0].message.content
        """,
        f"""\
        import os

        import litellm


        def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
            chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", {ENV_10})
            msgs = [{{"role": "system", "content": system_prompt}}, {{"role": "user", "content": user_prompt}}]
            resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
            return resp.choices[0].message.content
        """,
        APPLIED,
    )


def test_hand_written_env_read_is_recognised(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import os, litellm
        def f(m, **kw):
            kw.setdefault("num_retries", int(os.getenv("LITELLM_NUM_RETRIES", "3")))
            return litellm.completion(model=m, **kw)
        """,
        None,
        ALREADY_PRESENT,
    )


def test_defaults_in_a_separate_function_are_followed(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import os, litellm
        def _defaults(chat_kwargs):
            request_kwargs = dict(chat_kwargs)
            request_kwargs["num_retries"] = request_kwargs.get("num_retries", 5)
            return request_kwargs
        async def raw(m, **chat_kwargs):
            return await litellm.acompletion(model=m, **chat_kwargs)
        async def run(m, **chat_kwargs):
            request_kwargs = _defaults(chat_kwargs)
            return await raw(m, **request_kwargs)
        """,
        """\
        import os, litellm
        def _defaults(chat_kwargs):
            request_kwargs = dict(chat_kwargs)
            request_kwargs["num_retries"] = request_kwargs.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10")))
            return request_kwargs
        async def raw(m, **chat_kwargs):
            return await litellm.acompletion(model=m, **chat_kwargs)
        async def run(m, **chat_kwargs):
            request_kwargs = _defaults(chat_kwargs)
            return await raw(m, **request_kwargs)
        """,
        APPLIED,
    )


def test_lazily_imported_litellm_is_a_helper_too(check_transform):
    outcome = check_transform(
        RetriesTransform,
        """\
        import os
        def _get_litellm():
            import litellm
            return litellm
        def run(m, **kw):
            llm = _get_litellm()
            return llm.completion(model=m, **kw)
        """,
        f"""\
        import os
        def _get_litellm():
            import litellm
            return litellm
        def run(m, **kw):
            llm = _get_litellm()
            kw["num_retries"] = kw.get("num_retries", {ENV_10})
            return llm.completion(model=m, **kw)
        """,
        APPLIED,
    )
    assert "run()" in outcome.reason


@pytest.mark.parametrize(
    ("imports", "call"),
    [("import litellm as ll", "ll.completion"), ("from litellm import completion as complete", "complete")],
    ids=["module alias", "function alias"],
)
def test_an_aliased_litellm_is_a_helper_too(check_transform, imports, call):
    check_transform(
        RetriesTransform,
        f"""\
        import os

        {imports}


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            return {call}(model=model_name, **chat_kwargs)
        """,
        f"""\
        import os

        {imports}


        def run_litellm(model_name, **chat_kwargs):
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", {ENV_10})
            return {call}(model=model_name, **chat_kwargs)
        """,
        APPLIED,
    )


def test_a_local_os_makes_the_new_code_use_an_alias(check_transform):
    """``os.environ`` inside a helper that binds ``os`` itself would read the local."""
    check_transform(
        RetriesTransform,
        """\
        import os

        import litellm


        def run_litellm(model_name, **chat_kwargs):
            os = chat_kwargs.pop("os", "linux")
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
            return litellm.completion(model=model_name, metadata={"os": os}, **chat_kwargs)
        """,
        """\
        import os
        import os as _os

        import litellm


        def run_litellm(model_name, **chat_kwargs):
            os = chat_kwargs.pop("os", "linux")
            chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", int(_os.environ.get("LITELLM_NUM_RETRIES", "10")))
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
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "10"))
    )
    return litellm.completion(model=model_name, **chat_kwargs)
"""
    mode = black.Mode(line_length=88)
    assert black.format_str(before, mode=mode) == before
    check_transform(RetriesTransform, before, after, APPLIED, line_length=88)
    assert black.format_str(after, mode=mode) == after


def test_non_literal_default_is_anchor_missing(check_transform):
    outcome = check_transform(
        RetriesTransform,
        """\
        import litellm
        def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", RETRIES)
            return litellm.completion(model=m, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )
    assert "f()" in outcome.reason and "RETRIES" in outcome.reason
    assert outcome.reason.endswith("apply the rest with `--skip retries`")


def test_explicit_keyword_is_anchor_missing(check_transform):
    outcome = check_transform(
        RetriesTransform,
        """\
        import litellm
        def f(m, **kw):
            return litellm.completion(model=m, num_retries=2, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )
    assert "`num_retries=`" in outcome.reason and outcome.reason.endswith("`--skip retries`")


def test_no_helper_is_not_applicable(check_transform):
    check_transform(
        RetriesTransform,
        """\
        from openai import OpenAI
        def run_chatopenai(prompt):
            return OpenAI().chat.completions.create(messages=[prompt])
        """,
        None,
        NOT_APPLICABLE,
    )


def test_a_one_token_probe_is_not_a_helper():
    """A connection check's ``max_tokens=1`` completion keeps its own settings."""
    source = "import litellm\n\n\nasync def ping(m, **kw):\n    return await litellm.acompletion(model=m, max_tokens=1, **kw)\n"
    new, outcome = run_transform(RetriesTransform, source)
    assert outcome.status == NOT_APPLICABLE and new == source


def _attempts(tmp_path, source: str, mock_llm, model: str) -> int:
    """How many requests one call of the module's run_litellm makes against an endpoint that always fails with 500."""
    import importlib.util

    path = tmp_path / f"{model}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(model, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(Exception):  # noqa: B017 - without tenacity a failed sync call with retries raises a plain Exception
        module.run_litellm(f"openai/{model}")
    return mock_llm.attempts(model)


RESTORE_SOURCE = """\
import litellm


def run_litellm(model_name, **kw):
    {line}return litellm.completion(model=model_name, messages=[{{"role": "user", "content": "hi"}}], timeout=5, **kw)
"""


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('kw["num_retries"] = kw.get("num_retries", 1)\n    ', id="a literal"),
        pytest.param("", id="none set"),  # the OpenAI SDK's own 2 retries
    ],
)
def test_the_restoring_environment_gives_back_the_old_attempts(tmp_path, mock_llm, monkeypatch, line):
    """What the behaviour change says restores the old default, measured: same number of requests before and after."""
    monkeypatch.setenv("OPENAI_API_BASE", mock_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.delenv("LITELLM_NUM_RETRIES", raising=False)
    mock_llm.default = "500"
    before = RESTORE_SOURCE.format(line=line)
    patched, outcome = run_transform(RetriesTransform, before)
    (change,) = outcome.changes
    old = _attempts(tmp_path, before, mock_llm, "before")
    for variable, value in change.restore:
        monkeypatch.setenv(variable, value)
    assert _attempts(tmp_path, patched, mock_llm, "after") == old
