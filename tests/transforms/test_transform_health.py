"""health: (source, expected, status) rows for the helpers (R-*) and the rubric generator (G-*) of TARGETS.md.

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). Helpers get ``@litellm_utils.track_calls``; the generator gets
``@litellm_utils.track_calls(raise_on_degraded=True)``. What the decorator records and when
it raises is tested on the support module itself.
"""

import pytest
from harness import Says, row
from shapes import (
    G_CANONICAL,
    G_NONE,
    G_OLD,
    G_OLD_TRY,
    G_RENAMED,
    G_TYPED,
    J_LOOP,
    R_ALIASED,
    R_BARE_EXCEPT,
    R_CANONICAL,
    R_CHATOPENAI,
    R_GUARDED,
    R_LAZY,
    R_OLD_BARE,
    R_SPLIT,
)

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.health import HealthTransform

TRACKED = """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
    return extract_json_from_response(resp)
"""

HELPER_AND_GENERATOR = """\
import json

import litellm


def extract_json_from_response(response):
    return json.loads(response) if response else None


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name, question)
    return extract_json_from_response(resp)
"""

PROBE = """\
import litellm


async def ping(model_name, **chat_kwargs):
    return await litellm.acompletion(model=model_name, max_tokens=1, **chat_kwargs)
"""

CLASH = """\
import litellm

litellm_utils = object()


def run_litellm(model_name, **chat_kwargs):
    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""

NO_IMPORT_BEFORE_A_CONSTANT = """\
DEFAULT_MODEL = "gpt-4.1"


def run_litellm(model_name=DEFAULT_MODEL, **chat_kwargs):
    import litellm

    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""

NO_IMPORT_BEFORE_A_FUNCTION = """\
def run_litellm(model_name, **chat_kwargs):
    import litellm

    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""


ROWS = [
    row(
        "R-canonical",
        R_CANONICAL,
        """\
import asyncio
import os

import litellm
from openai import AzureOpenAI

from open_instruct.rubrics import litellm_utils

_SEMAPHORE = asyncio.Semaphore(int(os.environ.get("LITELLM_MAX_CONCURRENT_CALLS", "256")))


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)  # transient 5xx from the judge endpoint
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600"))
    )
    msgs = messages or [{"role": "user", "content": user_prompt}]
    try:
        async with _SEMAPHORE:
            response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        print(f"Error in run_litellm_async: {e}")
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "R-old-bare",
        R_OLD_BARE,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "R-bare-except",
        R_BARE_EXCEPT,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "R-lazy",
        R_LAZY,
        """\
import logging
import os

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def _get_litellm():
    import litellm

    return litellm


@litellm_utils.track_calls
def run_litellm(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs) -> str:
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm: {e}")
        return ""
    return response.choices[0].message.content


@litellm_utils.track_calls
async def run_litellm_async(model_name: str, user_prompt: str | None = None, **chat_kwargs) -> str:
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm_async: {e}")
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "R-split",
        R_SPLIT,
        """\
import logging
import os

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def _get_litellm():
    import litellm

    return litellm


def _apply_async_chat_defaults(chat_kwargs):
    request_kwargs = dict(chat_kwargs)
    request_kwargs["temperature"] = request_kwargs.get("temperature", 0)
    request_kwargs["num_retries"] = request_kwargs.get("num_retries", 5)
    request_kwargs["fallbacks"] = request_kwargs.get("fallbacks", [])
    if "max_tokens" not in request_kwargs and "max_completion_tokens" not in request_kwargs:
        request_kwargs["max_tokens"] = 2048
    return request_kwargs


@litellm_utils.track_calls
async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    litellm = _get_litellm()
    return await litellm.acompletion(model=model_name, messages=messages, **chat_kwargs)


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    request_kwargs = _apply_async_chat_defaults(chat_kwargs)
    try:
        response = await run_litellm_async_raw(model_name, [{"role": "user", "content": user_prompt}], **request_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm_async: {e}")
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        reason="run_litellm_async_raw(), run_litellm_async() count each call's outcome",
        changes=[],
    ),
    row(
        "R-guarded",
        R_GUARDED,
        """\
import logging

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def _get_litellm():
    import litellm

    return litellm


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, **chat_kwargs):
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    try:
        response = litellm.completion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm: {e}")
        return ""
    if not response.choices or response.choices[0].message is None:
        return ""
    return response.choices[0].message.content


def _apply_async_chat_defaults(chat_kwargs):
    request_kwargs = dict(chat_kwargs)
    request_kwargs["num_retries"] = request_kwargs.get("num_retries", 5)
    return request_kwargs


@litellm_utils.track_calls
async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    litellm = _get_litellm()
    return await litellm.acompletion(model=model_name, messages=messages, **chat_kwargs)


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    request_kwargs = _apply_async_chat_defaults(chat_kwargs)
    try:
        response = await run_litellm_async_raw(model_name, [{"role": "user", "content": user_prompt}], **request_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm_async: {e}")
        return ""
    if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "R-chatopenai",
        R_CHATOPENAI,
        """\
import litellm
from openai import AzureOpenAI

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls
def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    return resp.choices[0].message.content


def run_azure_openai(model_name, system_prompt, user_prompt, **chat_kwargs):
    client = AzureOpenAI()
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = client.chat.completions.create(model=model_name, messages=msgs, **chat_kwargs)
    return resp.choices[0].message.content
""",
        APPLIED,
        reason="run_chatopenai() counts each call's outcome",
        changes=[],
    ),
    row(
        "aliases",
        R_ALIASED,
        """\
import litellm as ll
from litellm import acompletion as ac

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls
def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "G-canonical",
        G_CANONICAL,
        """\
import os

from open_instruct import logger_utils
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(
    question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
        print(f"Generated instance-wise adaptive rubrics: {obj}")
    except Exception as e:
        print(f"Prompt: {prompt}")
        print(f"Response: {resp}")
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "G-old",
        G_OLD,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    obj = extract_json_from_response(resp)
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "G-old-try",
        G_OLD_TRY,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    try:
        prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "G-typed",
        G_TYPED,
        """\
import logging
import os

from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
        logger.info(f"Generated instance-wise adaptive rubrics: {obj}")
        return obj
    except Exception as e:
        logger.warning(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "G-renamed",
        G_RENAMED,
        """\
import logging
import os

from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_evolving_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        logger.warning(f"Error generating instance-wise evolving rubrics: {e}")
        return None
    return obj


async def _generate_instance_wise_evolving_rubrics(questions, responses):
    return [await generate_instance_wise_evolving_rubrics(q, r) for q, r in zip(questions, responses)]
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_evolving_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "helper-and-generator-in-one-file",
        HELPER_AND_GENERATOR,
        """\
import json

import litellm

from open_instruct.rubrics import litellm_utils


def extract_json_from_response(response):
    return json.loads(response) if response else None


@litellm_utils.track_calls
async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name, question)
    return extract_json_from_response(resp)
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): rubric generations are counted and a health line is logged every LITELLM_HEALTH_INTERVAL "
                "seconds (300)", restore=()),
        ],
    ),
    row(
        "already-tracked",
        TRACKED,
        None,
        ALREADY_PRESENT,
        reason="generate_instance_wise_adaptive_rubrics() is tracked",
    ),
    row(
        "one-token-probe",
        PROBE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "the-judge-is-the-judge-transform's",
        J_LOOP,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils`",
    ),
    row(
        "no-top-level-import-before-a-constant",
        NO_IMPORT_BEFORE_A_CONSTANT,
        """\
from open_instruct.rubrics import litellm_utils

DEFAULT_MODEL = "gpt-4.1"


@litellm_utils.track_calls
def run_litellm(model_name=DEFAULT_MODEL, **chat_kwargs):
    import litellm

    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[],
    ),
    row(
        "no-top-level-import-before-a-function",
        NO_IMPORT_BEFORE_A_FUNCTION,
        """\
from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls
def run_litellm(model_name, **chat_kwargs):
    import litellm

    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
        ],
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_health(case):
    case.check(HealthTransform)
