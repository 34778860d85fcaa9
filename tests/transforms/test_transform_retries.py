"""retries: before/after pairs."""

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.retries import RetriesTransform

ENV_10 = 'int(os.environ.get("LITELLM_NUM_RETRIES", "10"))'


def test_literal_default_becomes_env_driven(check_transform):
    check_transform(
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


def test_retries_flag_sets_the_baked_in_default(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import litellm
        async def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", 5)
            return await litellm.acompletion(model=m, **kw)
        """,
        """\
        import litellm
        import os
        async def f(m, **kw):
            kw["num_retries"] = kw.get("num_retries", int(os.environ.get("LITELLM_NUM_RETRIES", "15")))
            return await litellm.acompletion(model=m, **kw)
        """,
        APPLIED,
        retries=15,
    )


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


def test_explicit_keyword_is_anchor_missing(check_transform):
    check_transform(
        RetriesTransform,
        """\
        import litellm
        def f(m, **kw):
            return litellm.completion(model=m, num_retries=2, **kw)
        """,
        None,
        ANCHOR_MISSING,
    )


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
