"""retries: (source, expected, status) rows, one per run_utils.py family of TARGETS.md, then the edge cases.

Each row gets harness.check: the expected text, a second run that changes nothing, a revert
that gives the source back byte for byte, and a result that compiles and reads no undefined
name. The Change texts carry the facts a PR summary lists: the new count, the old default
(``old``) and the setting that restores it (``restore``).
"""

import pytest
from harness import Says, row
from shapes import (
    G_NONE,
    R_ALIASED,
    R_BARE_EXCEPT,
    R_CANONICAL,
    R_CHATOPENAI,
    R_CHATOPENAI_O1,
    R_GUARDED,
    R_HAND_FALLBACKS,
    R_LAZY,
    R_LOCAL_OS,
    R_OLD_BARE,
    R_OLD_DEFAULTS,
    R_SPLIT,
)

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.retries import RetriesTransform

LARGER = """\
import litellm


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 20)
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""

SMALLER = """\
import litellm


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    return await litellm.acompletion(model=model_name, **chat_kwargs)
"""

PATCHED = """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 12))
    return litellm.completion(model=model_name, **chat_kwargs)
"""

HAND_ENV_READ = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs.setdefault("num_retries", int(os.getenv("LITELLM_NUM_RETRIES", "3")))
    return litellm.completion(model=model_name, **chat_kwargs)
"""

SETDEFAULT = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs.setdefault("num_retries", 5)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

NOT_A_LITERAL = """\
import litellm

RETRIES = 5


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", RETRIES)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

KEYWORD = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    return litellm.completion(model=model_name, num_retries=2, **chat_kwargs)
"""

UNCONDITIONAL = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = 3
    return litellm.completion(model=model_name, **chat_kwargs)
"""

PROBE = """\
import litellm


async def ping(model_name, **chat_kwargs):
    return await litellm.acompletion(model=model_name, max_tokens=1, **chat_kwargs)
"""

CLASH = """\
import litellm

from open_instruct import utils as litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

LOCAL_SUPPORT_NAME = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    litellm_utils = chat_kwargs.pop("litellm_utils", None)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    return litellm.completion(model=model_name, metadata={"utils": litellm_utils}, **chat_kwargs)
"""

LAZY_RENAMED_TABS = """\
import logging

logger = logging.getLogger(__name__)


def _get_litellm():
\timport litellm

\treturn litellm


async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
\t# the call raises by design
\tllm = _get_litellm()
\treturn await llm.acompletion(model=model_name, messages=messages, **chat_kwargs)
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
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )  # transient 5xx from the judge endpoint
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    messages = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=messages, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
        ],
    ),
    row(
        "R-bare-except",
        R_BARE_EXCEPT,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "3"),), old=3),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "3"),), old=3),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception as e:
        logger.warning(f"Error in run_litellm: {e}")
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name: str, user_prompt: str | None = None, **chat_kwargs) -> str:
    litellm = _get_litellm()
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
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
    request_kwargs["num_retries"] = request_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
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
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("_apply_async_chat_defaults(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
    request_kwargs["num_retries"] = request_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
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
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
            Says("_apply_async_chat_defaults(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
            Says("run_chatopenai(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
        ],
    ),
    row(
        "hand-written-fallbacks",
        R_HAND_FALLBACKS,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    if "fallbacks" not in chat_kwargs:
        if model_name != "gpt-4.1-mini":
            chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
        else:
            chat_kwargs["fallbacks"] = ["gpt-4o-mini"]
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
            Says("run_litellm_async(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
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
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    msgs = [{"role": "user", "content": f"{user_prompt} ({os})"}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
        ],
    ),
    row(
        "setdefault",
        SETDEFAULT,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs.setdefault("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[
            Says("run_litellm(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "5"),), old=5),
        ],
    ),
    row(
        "a-larger-literal-is-kept",
        LARGER,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 20))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[],
    ),
    row(
        "--retries-below-the-literal",
        LARGER,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 20))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[],
        retries=12,
    ),
    row(
        "--retries-above-the-literal",
        SMALLER,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


async def run_litellm_async(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 12))
    return await litellm.acompletion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[
            Says("run_litellm_async(): 12 retries by default", restore=(("LITELLM_NUM_RETRIES", "3"),), old=3),
        ],
        retries=12,
    ),
    row(
        "patched",
        PATCHED,
        None,
        ALREADY_PRESENT,
        reason="run_litellm() reads LITELLM_NUM_RETRIES",
    ),
    row(
        "patched-larger-flag-updates",
        PATCHED,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 15))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        reason="bakes in num_retries 12; the command line asks for 15: updated",
        changes=[
            Says("run_litellm(): 15 retries by default", restore=(("LITELLM_NUM_RETRIES", "12"),), old=12),
        ],
        retries=15,
    ),
    row(
        "patched-smaller-flag-never-lowers",
        PATCHED,
        None,
        ALREADY_PRESENT,
        retries=3,
    ),
    row(
        "hand-written-env-read",
        HAND_ENV_READ,
        None,
        ALREADY_PRESENT,
        reason="reads LITELLM_NUM_RETRIES",
    ),
    row(
        "not-a-literal",
        NOT_A_LITERAL,
        None,
        ANCHOR_MISSING,
        reason="the num_retries default is `RETRIES`; expected an integer literal; apply the rest with `--skip retries`",
    ),
    row(
        "explicit-keyword",
        KEYWORD,
        None,
        ANCHOR_MISSING,
        reason="`num_retries=` is passed to the LiteLLM call as a keyword",
    ),
    row(
        "unconditional-assignment",
        UNCONDITIONAL,
        None,
        ANCHOR_MISSING,
        reason="sets `num_retries` whatever the caller passed",
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils` (from open_instruct import utils)",
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "one-token-probe",
        PROBE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "june-2025-layout",
        R_CHATOPENAI,
        """\
import litellm
from openai import AzureOpenAI

from open_instruct.search_rewards import litellm_utils


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
            Says("run_chatopenai(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
        ],
        dotted_name="open_instruct.search_rewards.run_utils",
    ),
    row(
        "a-local-named-like-the-support-module",
        LOCAL_SUPPORT_NAME,
        None,
        ANCHOR_MISSING,
        reason="litellm_utils",
    ),
    row(
        "lazy-binding-renamed-tab-indented",
        LAZY_RENAMED_TABS,
        """\
import logging

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def _get_litellm():
\timport litellm

\treturn litellm


async def run_litellm_async_raw(model_name, messages, **chat_kwargs):
\t# the call raises by design
\tllm = _get_litellm()
\tchat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
\treturn await llm.acompletion(model=model_name, messages=messages, **chat_kwargs)
""",
        APPLIED,
        changes=[
            Says("run_litellm_async_raw(): 10 retries by default", restore=(("LITELLM_NUM_RETRIES", "2"),), old=None),
        ],
    ),
    row(
        "defaults-for-some-models-only: the new line goes after the if",
        """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    if "o1" in model_name:
        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 1.0)
    elif model_name.startswith("gpt-5"):
        chat_kwargs["reasoning_effort"] = chat_kwargs.get("reasoning_effort", "low")
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    if "o1" in model_name:
        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 1.0)
    elif model_name.startswith("gpt-5"):
        chat_kwargs["reasoning_effort"] = chat_kwargs.get("reasoning_effort", "low")
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
    ),
    row(
        "the-call-inside-the-if: the new line stays beside the defaults",
        """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    if model_name.startswith("litellm/"):
        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
        return litellm.completion(model=model_name[8:], **chat_kwargs)
    return None
""",
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    if model_name.startswith("litellm/"):
        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
        chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
        return litellm.completion(model=model_name[8:], **chat_kwargs)
    return None
""",
        APPLIED,
    ),
    row(
        "R-chatopenai-o1: its default line in a model-specific if, the new one after it",
        R_CHATOPENAI_O1,
        """\
import litellm
from openai import AzureOpenAI

from open_instruct.rubrics import litellm_utils


def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    if model_name.startswith("o1"):  # o1 takes no other temperature
        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 1)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10))
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
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_retries(case):
    case.check(RetriesTransform)
