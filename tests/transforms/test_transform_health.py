"""health: before/after pairs for the tracking decorators.

What ``_litellm_tracked`` records and when it raises is tested on the runtime module
(tests/runtime/test_health.py); here: which functions get it, with what, imported how.
"""

from __future__ import annotations

import ast

import pytest

from harness import run_transform
from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.health import HealthTransform

TRACKED = "_litellm_tracked"
RUN_UTILS_MODULE = "open_instruct.rubrics.run_utils"
DEFINES = {RUN_UTILS_MODULE: (TRACKED, "extract_json_from_response", "run_litellm_async")}

# what the runtime support of health imports, and the logger it logs to (the file had none)
HEAD = """\
import collections
import contextvars
import functools
import inspect
import logging
import os
import re
import threading
import time

import litellm

logger = logging.getLogger(__name__)
"""


def test_every_helper_records_its_calls(check_transform):
    """R-canonical: the sync and the async helper, each under its own name."""
    body = """\


@_litellm_tracked("run_litellm")
def run_litellm(model_name, user_prompt, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, messages=[], **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


@_litellm_tracked("run_litellm_async")
async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = await litellm.acompletion(model=model_name, messages=[], **chat_kwargs)
    except Exception as e:
        print(f"Error in run_litellm_async: {e}")
        return ""
    return response.choices[0].message.content
"""
    before = "import litellm\n" + body.replace('@_litellm_tracked("run_litellm")\n', "").replace('@_litellm_tracked("run_litellm_async")\n', "")
    outcome = check_transform(HealthTransform, before, f"{HEAD}\n\n__RUNTIME__\n" + body, APPLIED)
    assert "run_litellm(), run_litellm_async()" in outcome.reason


def test_the_block_goes_before_the_first_decorated_definition(check_transform):
    """The decorator runs at import: the support must be defined above it, not at the first def."""
    check_transform(
        HealthTransform,
        """\
        import litellm


        def build_messages(prompt):
            return [{"role": "user", "content": prompt}]


        def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
            resp = litellm.completion(model=model_name, messages=build_messages(user_prompt), **chat_kwargs)
            return resp.choices[0].message.content
        """,
        f"""\
{HEAD}

def build_messages(prompt):
    return [{{"role": "user", "content": prompt}}]


__RUNTIME__


@_litellm_tracked("run_chatopenai")
def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    resp = litellm.completion(model=model_name, messages=build_messages(user_prompt), **chat_kwargs)
    return resp.choices[0].message.content
""",
        APPLIED,
    )


def test_the_raw_helper_and_its_wrapper_are_both_tracked(check_transform):
    """R-split: the raw helper (which raises) and the wrapper (which swallows) each record their own outcome."""
    source = """\
import logging

import litellm

logger = logging.getLogger(__name__)


async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    return await litellm.acompletion(model=model_name, messages=messages, **chat_kwargs)


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    try:
        response = await run_litellm_async_raw(model_name, [{"role": "user", "content": user_prompt}], **chat_kwargs)
    except Exception as e:
        logger.warning("run_litellm_async failed: %s", e)
        return ""
    return response.choices[0].message.content
"""
    head, body = source.split("\n\n\n", 1)
    body = body.replace("async def run_litellm_async_raw", '@_litellm_tracked("run_litellm_async_raw")\nasync def run_litellm_async_raw')
    body = body.replace("async def run_litellm_async(", '@_litellm_tracked("run_litellm_async")\nasync def run_litellm_async(')
    check_transform(HealthTransform, source, HEAD + "\n\n__RUNTIME__\n\n\n" + body, APPLIED)


@pytest.mark.parametrize(
    ("imports", "call"),
    [("import litellm as ll", "ll.completion"), ("from litellm import completion as complete", "complete")],
    ids=["module alias", "function alias"],
)
def test_an_aliased_litellm_is_a_helper_too(check_transform, imports, call):
    check_transform(
        HealthTransform,
        f"""\
        {imports}


        def run_litellm(model_name, **chat_kwargs):
            response = {call}(model=model_name, **chat_kwargs)
            return response.choices[0].message.content
        """,
        HEAD.replace("import litellm\n", f"{imports}\n")
        + f"""\


__RUNTIME__


@_litellm_tracked("run_litellm")
def run_litellm(model_name, **chat_kwargs):
    response = {call}(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
    )


def test_a_probe_is_not_tracked(check_transform):
    check_transform(
        HealthTransform,
        """\
        import litellm


        async def ping(model_name, **chat_kwargs):
            return await litellm.acompletion(model=model_name, max_tokens=1, **chat_kwargs)
        """,
        None,
        NOT_APPLICABLE,
    )


GENERATOR = f"""\
from {RUN_UTILS_MODULE} import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None, model_name="gpt-4.1"):
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question)
        obj = extract_json_from_response(resp)
    except Exception:
        return None
    return obj
"""


def test_the_generator_can_stop_the_run_and_imports_the_decorator_beside_its_helper(check_transform):
    outcome = check_transform(
        HealthTransform,
        GENERATOR,
        GENERATOR.replace("import extract_json", f"import {TRACKED}, extract_json").replace(
            "async def generate", f'@{TRACKED}("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)\nasync def generate'
        ),
        APPLIED,
        siblings=DEFINES,
    )
    assert "LiteLLMDegradedError" in outcome.reason
    (change,) = outcome.changes
    assert "LITELLM_MAX_FAILURE_RATE" in change.text


def test_g_old_without_a_model_parameter_is_tracked_too(check_transform):
    module = "open_instruct.search_rewards.utils.run_utils"
    source = f"""\
from {module} import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=question)
    obj = extract_json_from_response(resp)
    return obj
"""
    check_transform(
        HealthTransform,
        source,
        source.replace("import extract_json", f"import {TRACKED}, extract_json").replace(
            "async def generate", f'@{TRACKED}("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)\nasync def generate'
        ),
        APPLIED,
        siblings={module: (TRACKED,)},
    )


def test_a_generator_whose_helper_module_will_not_define_the_decorator_is_anchor_missing(check_transform):
    for siblings in (None, {RUN_UTILS_MODULE: ("extract_json_from_response", "run_litellm_async")}):
        outcome = check_transform(HealthTransform, GENERATOR, None, ANCHOR_MISSING, siblings=siblings)
        assert RUN_UTILS_MODULE in outcome.reason and "does not define it" in outcome.reason
        assert outcome.reason.endswith("apply the rest with `--skip health`")


def test_a_decorator_whose_import_a_merge_dropped_gets_it_back(check_transform):
    source = GENERATOR.replace(
        "async def generate", f'@{TRACKED}("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)\nasync def generate'
    )
    outcome = check_transform(HealthTransform, source, source.replace("import extract_json", f"import {TRACKED}, extract_json"), APPLIED, siblings=DEFINES)
    assert "is back" in outcome.reason
    outcome = check_transform(HealthTransform, source, None, ANCHOR_MISSING)
    assert "does not import it" in outcome.reason


def test_an_already_tracked_generator_is_left_alone(check_transform):
    source = GENERATOR.replace("import extract_json", f"import {TRACKED}, extract_json").replace(
        "async def generate", f'@{TRACKED}("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)\nasync def generate'
    )
    check_transform(HealthTransform, source, None, ALREADY_PRESENT, siblings=DEFINES)


def test_a_generator_next_to_its_helper_uses_the_decorator_by_name():
    source = """\
import litellm


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content


async def generate(question, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name, question)
    return extract_json_from_response(resp)
"""
    new, outcome = run_transform(HealthTransform, source)
    assert outcome.status == APPLIED
    functions = {n.name: n for n in ast.parse(new).body if isinstance(n, ast.AsyncFunctionDef)}
    assert [ast.unparse(d) for d in functions["run_litellm_async"].decorator_list] == [f"{TRACKED}('run_litellm_async')"]
    assert [ast.unparse(d) for d in functions["generate"].decorator_list] == [f"{TRACKED}('generate', raise_on_degraded=True)"]
    again, second = run_transform(HealthTransform, new)
    assert again == new and second.status == ALREADY_PRESENT


def test_nothing_to_track(check_transform):
    check_transform(HealthTransform, "import os\n", None, NOT_APPLICABLE)
