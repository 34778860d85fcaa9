"""fallbacks: (source, expected, status) rows, one per run_utils.py family of TARGETS.md, then the edge cases.

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). No model is ever added unasked: a helper keeps its own list as the default, and
only ``--fallback`` changes it, with the old list as the restoring setting. What
``fallback_models`` does with LITELLM_FALLBACK_MODELS is tested on the support module itself.
"""

import pytest
from harness import Says, row
from shapes import (
    G_NONE,
    R_ALIASED,
    R_BARE_EXCEPT,
    R_CANONICAL,
    R_CHATOPENAI,
    R_GUARDED,
    R_HAND_FALLBACKS,
    R_LAZY,
    R_LOCAL_OS,
    R_OLD_BARE,
    R_OLD_DEFAULTS,
    R_SPLIT,
)

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.fallbacks import FallbacksTransform

TWO_HELPERS = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    return litellm.completion(model=model_name, **chat_kwargs)


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""

PATCHED = """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    return litellm.completion(model=model_name, **chat_kwargs)
"""

HAND_ENV_READ = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    if "fallbacks" not in chat_kwargs:
        chat_kwargs["fallbacks"] = [m for m in os.environ.get("LITELLM_FALLBACK_MODELS", "").split(",") if m]
    return litellm.completion(model=model_name, **chat_kwargs)
"""

UNCONDITIONAL = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
    return litellm.completion(model=model_name, **chat_kwargs)
"""

NOT_A_LIST = """\
import litellm

FALLBACKS = ["gpt-4.1-mini"]


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", FALLBACKS)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

KEYWORD = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    return litellm.completion(model=model_name, fallbacks=["gpt-4.1-mini"], **chat_kwargs)
"""

CLASH = """\
import litellm

litellm_utils = None


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    return litellm.completion(model=model_name, **chat_kwargs)
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
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
    )
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
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
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: gpt-4.1-mini)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
        ],
    ),
    row(
        "R-old-defaults",
        R_OLD_DEFAULTS,
        """\
import os

import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
    )
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    messages = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=messages, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: gpt-4.1-mini)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: gpt-4.1-mini)", restore=()),
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm: {e}")
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name: str, user_prompt: str | None = None, **chat_kwargs) -> str:
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "600")))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm_async: {e}")
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
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
    request_kwargs["fallbacks"] = request_kwargs.get("fallbacks", litellm_utils.fallback_models([]))
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
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("_apply_async_chat_defaults(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
        ],
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


def run_litellm(model_name, user_prompt, **chat_kwargs):
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
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
    request_kwargs["fallbacks"] = request_kwargs.get("fallbacks", litellm_utils.fallback_models([]))
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
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
            Says("_apply_async_chat_defaults(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
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
        changes=[
            Says("run_chatopenai(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
        ],
    ),
    row(
        "hand-written-under-a-nested-condition",
        R_HAND_FALLBACKS,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    if "fallbacks" not in chat_kwargs:
        if model_name != "gpt-4.1-mini":
            chat_kwargs["fallbacks"] = litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
        else:
            chat_kwargs["fallbacks"] = litellm_utils.fallback_models(["gpt-4o-mini"], model_name)
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        reason="hand-written, when absent",
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: gpt-4.1-mini)", restore=()),
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: gpt-4o-mini)", restore=()),
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
            Says("run_litellm_async(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
        ],
    ),
    row(
        "local-os",
        R_LOCAL_OS,
        """\
import os

import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    os = chat_kwargs.pop("os", "linux")
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models([], model_name))
    msgs = [{"role": "user", "content": f"{user_prompt} ({os})"}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): fallbacks can be set with LITELLM_FALLBACK_MODELS (default unchanged: none)", restore=()),
        ],
    ),
    row(
        "--fallback-bakes-in-models",
        TWO_HELPERS,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models(["a", "b"], model_name))
    return litellm.completion(model=model_name, **chat_kwargs)


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models(["a", "b"], model_name))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[
            Says("run_litellm(): default fallbacks a, b instead of gpt-4.1-mini", restore=(("LITELLM_FALLBACK_MODELS", "gpt-4.1-mini"),), old=["gpt-4.1-mini"]),
            Says("run_litellm_async(): default fallbacks a, b instead of none", restore=(("LITELLM_FALLBACK_MODELS", ""),), old=[]),
        ],
        fallbacks=["a", "b"],
    ),
    row(
        "patched",
        PATCHED,
        None,
        ALREADY_PRESENT,
        reason="run_litellm() reads LITELLM_FALLBACK_MODELS",
    ),
    row(
        "patched-with-a-new-flag-updates",
        PATCHED,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", litellm_utils.fallback_models(["backup"], model_name))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        reason="updated",
        changes=[
            Says("run_litellm(): default fallbacks backup instead of none", restore=(("LITELLM_FALLBACK_MODELS", ""),), old=[]),
        ],
        fallbacks=["backup"],
    ),
    row(
        "hand-written-env-read",
        HAND_ENV_READ,
        None,
        ALREADY_PRESENT,
        reason="sets `fallbacks` by hand when absent, from LITELLM_FALLBACK_MODELS",
    ),
    row(
        "unconditional-assignment",
        UNCONDITIONAL,
        None,
        ANCHOR_MISSING,
        reason="sets `fallbacks` whatever the caller passed",
    ),
    row(
        "not-a-list-literal",
        NOT_A_LIST,
        None,
        ANCHOR_MISSING,
        reason="the fallbacks default is `FALLBACKS`; expected a list of model names",
    ),
    row(
        "explicit-keyword",
        KEYWORD,
        None,
        ANCHOR_MISSING,
        reason="`fallbacks=` is passed to the LiteLLM call as a keyword",
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils`",
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_fallbacks(case):
    case.check(FallbacksTransform)
