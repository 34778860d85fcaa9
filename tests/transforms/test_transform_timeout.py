"""timeout: before/after pairs."""

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED
from llmfix.codemods.timeout import TimeoutTransform


def test_sync_helper_gets_the_files_existing_literal(check_transform):
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
            kw["timeout"] = kw.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
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
    assert "unconditionally" in outcome.reason
