"""guards: before/after pairs for helpers and the rubric generator.

What ``_litellm_response_text`` and ``_log_litellm_failure`` do at run time is tested
on the runtime module (tests/runtime/test_responses.py); here: where they are called.
"""

import ast

import black
import pytest

from harness import run_transform
from llmfix.codemods import ALREADY_PRESENT, APPLIED, NOT_APPLICABLE
from llmfix.codemods.guards import GuardsTransform

# what the runtime support of guards imports, and the logger it logs to (the file had none)
HEAD = """\
import contextvars
import logging
import re
import sys

import litellm

logger = logging.getLogger(__name__)
"""


def test_a_swallowing_helper_logs_the_failure_and_guards_the_content(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm


        def run_litellm(model_name, msgs, **chat_kwargs):
            try:
                response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
            except:
                return ""
            return response.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


def run_litellm(model_name, msgs, **chat_kwargs):
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        _log_litellm_failure("run_litellm")
        return ""
    return _litellm_response_text(response, "run_litellm")
""",
        APPLIED,
    )


def test_the_handler_keeps_its_own_lines_after_the_log(check_transform):
    """R-canonical's async helper: ``except Exception as e: print(...); return ""``."""
    check_transform(
        GuardsTransform,
        """\
        import litellm


        async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
            try:
                response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
            except Exception as e:
                print(f"Error in run_litellm_async: {e}")
                return ""
            return response.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
    except Exception as e:
        _log_litellm_failure("run_litellm_async")
        print(f"Error in run_litellm_async: {{e}}")
        return ""
    return _litellm_response_text(response, "run_litellm_async")
""",
        APPLIED,
    )


def test_run_chatopenai_keeps_raising_and_gets_no_try(check_transform):
    """R-chatopenai: a raising helper's failures still raise (after its retries); only the empty answer is guarded."""
    outcome = check_transform(
        GuardsTransform,
        """\
        import litellm


        def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
            chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
            msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
            resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
            return resp.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    msgs = [{{"role": "system", "content": system_prompt}}, {{"role": "user", "content": user_prompt}}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    return _litellm_response_text(resp, "run_chatopenai")
""",
        APPLIED,
    )
    assert "swallowed" not in outcome.reason


def test_a_raising_helper_with_a_full_guard_is_left_alone(check_transform):
    """No try/except is wrapped around a call that raises by design."""
    check_transform(
        GuardsTransform,
        """\
        import logging
        import litellm

        async def run(m, msgs, **kw):
            # the call
            async with SEM:
                response = await litellm.acompletion(messages=msgs, model=m, **kw)
            if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
                return ""
            return response.choices[0].message.content
        """,
        None,
        ALREADY_PRESENT,
    )


def test_a_handler_that_re_raises_is_not_swallowing(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm


        def run_litellm(model_name, **chat_kwargs):
            try:
                response = litellm.completion(model=model_name, **chat_kwargs)
            except Exception as e:
                raise RuntimeError("LLM call failed") from e
            return response.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


def run_litellm(model_name, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, **chat_kwargs)
    except Exception as e:
        raise RuntimeError("LLM call failed") from e
    return _litellm_response_text(response, "run_litellm")
""",
        APPLIED,
    )


def test_wrapper_of_a_raw_helper_is_guarded_and_the_raw_one_left_raising(check_transform):
    """R-split: the raw helper re-raises by design; the wrapper swallows and reads the content."""
    outcome = check_transform(
        GuardsTransform,
        """\
        import logging

        import litellm

        LOGGER = logging.getLogger(__name__)


        async def raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)


        async def run(m, **kw):
            try:
                resp = await raw(m, **kw)
            except Exception:
                LOGGER.exception("run failed")
                return ""
            return resp.choices[0].message.content
        """,
        """\
        import contextvars
        import logging
        import re
        import sys

        import litellm

        LOGGER = logging.getLogger(__name__)


        __RUNTIME__


        async def raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)


        async def run(m, **kw):
            try:
                resp = await raw(m, **kw)
            except Exception:
                _log_litellm_failure("run")
                LOGGER.exception("run failed")
                return ""
            return _litellm_response_text(resp, "run")
        """,
        APPLIED,
    )
    assert "run()" in outcome.reason and "raw()" not in outcome.reason


def test_the_runtime_logs_to_the_modules_own_logger():
    source = """\
import logging

import litellm

LOGGER = logging.getLogger(__name__)


def run_litellm(model_name, **chat_kwargs):
    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""
    new, _ = run_transform(GuardsTransform, source)
    tree = ast.parse(new)
    loggers = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("warning", "info", "debug", "error") and isinstance(n.value, ast.Name)}
    assert loggers == {"LOGGER"}
    assert new.count("getLogger(") == 1


def test_an_existing_full_guard_is_kept_and_the_swallowed_failure_logged(check_transform):
    outcome = check_transform(
        GuardsTransform,
        """\
        import litellm


        def f(m, **kw):
            try:
                response = litellm.completion(model=m, **kw)
            except Exception:
                return ""
            if (
                not response.choices
                or response.choices[0].message is None
                or response.choices[0].message.content is None
            ):
                return ""
            return response.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


def f(m, **kw):
    try:
        response = litellm.completion(model=m, **kw)
    except Exception:
        _log_litellm_failure("f")
        return ""
    if (
        not response.choices
        or response.choices[0].message is None
        or response.choices[0].message.content is None
    ):
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
    )
    assert "guards empty responses" in outcome.reason


def test_guard_without_content_check_is_completed(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm


        def f(m, **kw):
            try:
                response = litellm.completion(model=m, **kw)
            except Exception:
                return ""
            if not response.choices or response.choices[0].message is None:
                return ""
            return response.choices[0].message.content
        """,
        f"""\
{HEAD}

__RUNTIME__


def f(m, **kw):
    try:
        response = litellm.completion(model=m, **kw)
    except Exception:
        _log_litellm_failure("f")
        return ""
    if not response.choices or response.choices[0].message is None:
        return ""
    return response.choices[0].message.content or ""
""",
        APPLIED,
    )


@pytest.mark.parametrize(
    ("imports", "call"),
    [("import litellm as ll", "ll.completion"), ("from litellm import completion as complete", "complete")],
    ids=["module alias", "function alias"],
)
def test_an_aliased_litellm_is_a_helper_too(check_transform, imports, call):
    check_transform(
        GuardsTransform,
        f"""\
        {imports}


        def run_litellm(model_name, **chat_kwargs):
            response = {call}(model=model_name, **chat_kwargs)
            return response.choices[0].message.content
        """,
        f"""\
        import contextvars
        import logging
        import re
        import sys

        {imports}

        logger = logging.getLogger(__name__)


        __RUNTIME__


        def run_litellm(model_name, **chat_kwargs):
            response = {call}(model=model_name, **chat_kwargs)
            return _litellm_response_text(response, "run_litellm")
        """,
        APPLIED,
    )


GENERATOR = """\
import os

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def make_rubrics(question, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")):
    prompt = question
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Response: {resp}")
        return None
    return obj


async def score(question, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
    obj = extract_json_from_response(resp)
    return float(obj["score"]) if obj else 0.0
"""


def test_generator_guard_and_binding_with_a_new_logger(check_transform):
    """G-canonical: the guard names the model, ``resp`` is bound before the try; the file had no logger."""
    outcome = check_transform(
        GuardsTransform,
        GENERATOR,
        GENERATOR.replace("import os\n", "import logging\nimport os\n")
        .replace("run_litellm_async\n\n\n", "run_litellm_async\n\nlogger = logging.getLogger(__name__)\n\n\n")
        .replace(
            """\
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
""",
            """\
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
""",
        )
        .replace(
            "    except Exception as e:\n        print(f\"Response: {resp}\")\n",
            "    except Exception as e:\n"
            '        logger.warning("Rubric generation with model %s failed: %s", model_name, e)\n'
            "        print(f\"Response: {resp}\")\n",
        ),
        APPLIED,
    )
    # the judge returns a score, not the parsed object: it is not the generator
    assert "make_rubrics()" in outcome.reason and "score()" not in outcome.reason


@pytest.mark.parametrize(
    ("setup", "name"),
    [
        ("import logging\n\nfrom open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async\n\nLOGGER = logging.getLogger(__name__)\n", "LOGGER"),
        ("from open_instruct import logger_utils\nfrom open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async\n\nlogger = logger_utils.setup_logger(__name__)\n", "logger"),
    ],
    ids=["LOGGER", "setup_logger"],
)
def test_generator_uses_the_modules_own_logger(check_transform, setup, name):
    """G-typed: the model is set in the body; ``return obj`` inside the try; the swallowed error is logged."""
    body = """

async def generate(question, model_name: str | None = None):
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question)
        obj = extract_json_from_response(resp)
        return obj
    except Exception as e:
        print(e)
        return None
"""
    before = "import os\n" + setup + "\n" + body
    after = before.replace(
        "    try:\n        resp = await run_litellm_async(model_name=model_name, user_prompt=question)\n",
        "    resp = None\n    try:\n        resp = await run_litellm_async(model_name=model_name, user_prompt=question)\n"
        f'        if not resp:\n            {name}.warning("Empty rubric response from model %s", model_name)\n            return None\n',
    ).replace(
        "    except Exception as e:\n        print(e)\n",
        f'    except Exception as e:\n        {name}.warning("Rubric generation with model %s failed: %s", model_name, e)\n        print(e)\n',
    )
    check_transform(GuardsTransform, before, after, APPLIED)


def test_a_taken_logger_name_gets_another(check_transform):
    check_transform(
        GuardsTransform,
        """\
        from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

        logger = None


        async def generate(question, model_name="gpt-4.1"):
            resp = await run_litellm_async(model_name=model_name, user_prompt=question)
            return extract_json_from_response(resp)
        """,
        """\
        import logging

        from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

        LOGGER = logging.getLogger(__name__)

        logger = None


        async def generate(question, model_name="gpt-4.1"):
            resp = await run_litellm_async(model_name=model_name, user_prompt=question)
            if not resp:
                LOGGER.warning("Empty rubric response from model %s", model_name)
                return None
            return extract_json_from_response(resp)
        """,
        APPLIED,
    )


def test_g_old_warns_with_the_literal_model_and_binds_nothing_without_a_try(check_transform):
    """G-old: no model parameter, the awaited call passes a literal; no try."""
    check_transform(
        GuardsTransform,
        """\
        import logging

        from open_instruct.search_rewards.utils.run_utils import extract_json_from_response, run_litellm_async

        logger = logging.getLogger(__name__)


        async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
            prompt = question
            resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
            obj = extract_json_from_response(resp)
            return obj
        """,
        """\
        import logging

        from open_instruct.search_rewards.utils.run_utils import extract_json_from_response, run_litellm_async

        logger = logging.getLogger(__name__)


        async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
            prompt = question
            resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
            if not resp:
                logger.warning("Empty rubric response from model %s", "gpt-4.1")
                return None
            obj = extract_json_from_response(resp)
            return obj
        """,
        APPLIED,
    )


def test_a_long_generator_warning_is_wrapped_as_black_does(check_transform):
    before = """\
import logging

from open_instruct.rubrics.run_utils import (
    extract_json_from_response,
    run_litellm_async,
)

logger = logging.getLogger(__name__)


async def generate(question, rubric_generation_model_name="gpt-4.1"):
    resp = await run_litellm_async(
        model_name=rubric_generation_model_name, user_prompt=question
    )
    return extract_json_from_response(resp)
"""
    after = before.replace(
        "    return extract_json_from_response(resp)\n",
        """\
    if not resp:
        logger.warning(
            "Empty rubric response from model %s", rubric_generation_model_name
        )
        return None
    return extract_json_from_response(resp)
""",
    )
    mode = black.Mode(line_length=88)
    assert black.format_str(before, mode=mode) == before
    check_transform(GuardsTransform, before, after, APPLIED, line_length=88)
    assert black.format_str(after, mode=mode) == after


def test_generator_with_hand_written_guard(check_transform):
    check_transform(
        GuardsTransform,
        """\
        async def gen(q, model_name="m"):
            resp = await call(model_name, q)
            if resp is None or not resp.strip():
                return None
            obj = extract_json_from_response(resp)
            return obj
        """,
        None,
        ALREADY_PRESENT,
    )


def test_nothing_to_guard(check_transform):
    check_transform(GuardsTransform, "def f():\n    return 1\n", None, NOT_APPLICABLE)


def test_raw_helper_that_returns_the_response_keeps_raising(check_transform):
    """A helper that hands back the response object re-raises by design: only readers of content are guarded."""
    check_transform(
        GuardsTransform,
        """\
        import litellm
        async def run_raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)
        """,
        None,
        NOT_APPLICABLE,
    )
