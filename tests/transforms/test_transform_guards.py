"""guards: (source, expected, status) rows for the helpers (R-*) and the rubric generator (G-*) of TARGETS.md.

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). A helper keeps its error contract: a raising one still raises, a swallowing one
still returns "" and now logs why (unless its handler already prints or logs). What
``response_text`` and ``log_failure`` do at run time is tested on the support module itself.
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
from llmfix.codemods.guards import GuardsTransform

RERAISING = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, **chat_kwargs)
    except Exception as e:
        raise RuntimeError("LLM call failed") from e
    return response.choices[0].message.content
"""

RAW_ONLY = """\
import litellm


async def run_litellm_async_raw(model_name, **chat_kwargs):
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""

SILENT_GENERATOR = """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    prompt = f"Question: {question}\\nResponses: {response_list}"
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception:
        return None
    return obj
"""

SILENT_BARE_GENERATOR = """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

LOGGER = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    prompt = f"Question: {question}\\nResponses: {response_list}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except:
        return None
    return obj
"""

SILENT_NAMED_GENERATOR = """\
from open_instruct import logger_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question)
        obj = extract_json_from_response(resp)
    except Exception as e:
        return None
    return obj
"""

HAND_GUARDED_GENERATOR = """\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
    if resp is None or not resp.strip():
        return None
    return extract_json_from_response(resp)
"""

STALE_WARNING = """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, judge_model="gpt-4.1"):
    resp = await run_litellm_async(model_name=judge_model, user_prompt=question)
    if not resp:
        logger.warning("Empty rubric response from model %s", model_name)
        return None
    return extract_json_from_response(resp)
"""

PATCHED_HELPER = """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, **chat_kwargs)
    except:
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)
"""

CLASH = """\
import litellm

from open_instruct import utils as litellm_utils


def run_litellm(model_name, **chat_kwargs):
    response = litellm.completion(model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""

LOCAL_SUPPORT_NAME = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    litellm_utils = chat_kwargs.pop("litellm_utils", None)
    response = litellm.completion(model=model_name, metadata={"utils": litellm_utils}, **chat_kwargs)
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


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)  # transient 5xx from the judge endpoint
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)


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
    return litellm_utils.response_text(response)
""",
        APPLIED,
        reason="run_litellm_async() reports swallowed errors",
        changes=[
            Says("run_litellm(): a failed call still returns its fallback value, and now logs the root cause as a warning", restore=()),
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "R-old-bare",
        R_OLD_BARE,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)
""",
        APPLIED,
        changes=[
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "R-bare-except",
        R_BARE_EXCEPT,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        litellm_utils.log_failure("run_litellm_async")
        return ""
    return litellm_utils.response_text(response)
""",
        APPLIED,
        changes=[
            Says("run_litellm(): a failed call still returns its fallback value, and now logs the root cause as a warning", restore=()),
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
            Says("run_litellm_async(): a failed call still returns its fallback value, and now logs the root cause as a warning", restore=()),
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
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


def run_litellm(model_name: str, user_prompt: str, system_prompt: str | None = None, **chat_kwargs) -> str:
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm: {e}")
        return ""
    return litellm_utils.response_text(response)


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
    return litellm_utils.response_text(response)
""",
        APPLIED,
        reason="run_litellm() reports swallowed errors; run_litellm_async() reports swallowed errors",
        changes=[
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
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


async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    litellm = _get_litellm()
    return await litellm.acompletion(model=model_name, messages=messages, **chat_kwargs)


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    request_kwargs = _apply_async_chat_defaults(chat_kwargs)
    try:
        response = await run_litellm_async_raw(model_name, [{"role": "user", "content": user_prompt}], **request_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm_async: {e}")
        return ""
    return litellm_utils.response_text(response)
""",
        APPLIED,
        changes=[
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "R-guarded",
        R_GUARDED,
        """\
import logging

logger = logging.getLogger(__name__)


def _get_litellm():
    import litellm

    return litellm


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
    return response.choices[0].message.content or ""


def _apply_async_chat_defaults(chat_kwargs):
    request_kwargs = dict(chat_kwargs)
    request_kwargs["num_retries"] = request_kwargs.get("num_retries", 5)
    return request_kwargs


async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
    litellm = _get_litellm()
    return await litellm.acompletion(model=model_name, messages=messages, **chat_kwargs)


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
        reason="run_litellm_async() guards empty responses",
        changes=[
            Says('run_litellm(): a null content returns "" instead of None', restore=()),
        ],
    ),
    row(
        "R-chatopenai",
        R_CHATOPENAI,
        """\
import litellm
from openai import AzureOpenAI

from open_instruct.rubrics import litellm_utils


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if json_mode:
        chat_kwargs["response_format"] = {"type": "json_object"}
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)
    return litellm_utils.response_text(resp)


def run_azure_openai(model_name, system_prompt, user_prompt, **chat_kwargs):
    client = AzureOpenAI()
    msgs = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
    resp = client.chat.completions.create(model=model_name, messages=msgs, **chat_kwargs)
    return resp.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says('run_chatopenai(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "aliases",
        R_ALIASED,
        """\
import litellm as ll
from litellm import acompletion as ac

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return litellm_utils.response_text(response)
""",
        APPLIED,
        changes=[
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
            Says('run_litellm_async(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "a-re-raising-handler-is-not-swallowing",
        RERAISING,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, **chat_kwargs)
    except Exception as e:
        raise RuntimeError("LLM call failed") from e
    return litellm_utils.response_text(response)
""",
        APPLIED,
        changes=[
            Says('run_litellm(): an empty response (no choices, no message, null content) returns "" with a warning instead of raising or returning '
                'None', restore=()),
        ],
    ),
    row(
        "a-raw-helper-returning-the-response",
        RAW_ONLY,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "patched-helper",
        PATCHED_HELPER,
        None,
        ALREADY_PRESENT,
        reason="run_litellm() reports swallowed errors; run_litellm() guards empty responses",
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils`",
    ),
    row(
        "G-canonical",
        G_CANONICAL,
        """\
import os

from open_instruct import logger_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
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
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
        ],
    ),
    row(
        "G-old",
        G_OLD,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    if not resp:
        litellm_utils.logger.warning("Empty rubric response from model %s", "gpt-4.1")
        return None
    obj = extract_json_from_response(resp)
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
        ],
    ),
    row(
        "G-old-try",
        G_OLD_TRY,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    resp = None
    try:
        prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
        if not resp:
            litellm_utils.logger.warning("Empty rubric response from model %s", "gpt-4.1")
            return None
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
        ],
    ),
    row(
        "G-typed",
        G_TYPED,
        """\
import logging
import os

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)
        logger.info(f"Generated instance-wise adaptive rubrics: {obj}")
        return obj
    except Exception as e:
        logger.warning(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
        ],
    ),
    row(
        "G-renamed",
        G_RENAMED,
        """\
import logging
import os

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_evolving_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
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
            Says("generate_instance_wise_evolving_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
        ],
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "generator-silent-handler",
        SILENT_GENERATOR,
        """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    prompt = f"Question: {question}\\nResponses: {response_list}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)
    except Exception as error:
        logger.warning("Rubric generation with model %s failed: %s", model_name, error)
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
            Says("generate_instance_wise_adaptive_rubrics(): a failed call still returns None, and now logs a warning naming the model and the "
                "error", restore=()),
        ],
    ),
    row(
        "generator-silent-bare-handler",
        SILENT_BARE_GENERATOR,
        """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

LOGGER = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    prompt = f"Question: {question}\\nResponses: {response_list}"
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            LOGGER.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)
    except BaseException as error:
        LOGGER.warning("Rubric generation with model %s failed: %s", model_name, error)
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
            Says("generate_instance_wise_adaptive_rubrics(): a failed call still returns None, and now logs a warning naming the model and the "
                "error", restore=()),
        ],
    ),
    row(
        "generator-silent-named-handler",
        SILENT_NAMED_GENERATOR,
        """\
from open_instruct import logger_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question)
        if not resp:
            logger.warning("Empty rubric response from model %s", model_name)
            return None
        obj = extract_json_from_response(resp)
    except Exception as e:
        logger.warning("Rubric generation with model %s failed: %s", model_name, e)
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): an empty answer returns None with a warning naming the model, before parsing", restore=()),
            Says("generate_instance_wise_adaptive_rubrics(): a failed call still returns None, and now logs a warning naming the model and the "
                "error", restore=()),
        ],
    ),
    row(
        "generator-guarded-by-hand",
        HAND_GUARDED_GENERATOR,
        None,
        ALREADY_PRESENT,
        reason="guards an empty response",
    ),
    row(
        "generator-warning-names-a-stale-model",
        STALE_WARNING,
        """\
import logging

from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(question, response_list, judge_model="gpt-4.1"):
    resp = await run_litellm_async(model_name=judge_model, user_prompt=question)
    if not resp:
        logger.warning("Empty rubric response from model %s", judge_model)
        return None
    return extract_json_from_response(resp)
""",
        APPLIED,
        reason="its warning named model_name, the call now uses judge_model: updated",
        changes=[],
        patched=True,
    ),
    row(
        "a-local-named-like-the-support-module",
        LOCAL_SUPPORT_NAME,
        None,
        ANCHOR_MISSING,
        reason="litellm_utils",
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_guards(case):
    case.check(GuardsTransform)
