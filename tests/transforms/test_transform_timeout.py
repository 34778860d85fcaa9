"""timeout: (source, expected, status) rows, one per run_utils.py family of TARGETS.md, then the edge cases.

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). A helper that reads LITELLM_DEFAULT_TIMEOUT already (upstream's
``float(os.environ.get(...))``) is left alone; a helper's own literal stays its default;
one without a timeout gets 600 s (it waited LiteLLM's own 6000 s before: no restoring value).
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
from llmfix.codemods.timeout import TimeoutTransform

LITERAL = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", 45.5)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

SIXTY = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", 60)
    return litellm.completion(model=model_name, **chat_kwargs)
"""

PATCHED = """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 120))
    return litellm.completion(model=model_name, **chat_kwargs)
"""

ENV_SUBSCRIPT = """\
import os

import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ["LITELLM_DEFAULT_TIMEOUT"]))
    return litellm.completion(model=model_name, **chat_kwargs)
"""

UNCONDITIONAL = """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = 30
    return litellm.completion(model=model_name, **chat_kwargs)
"""

NOT_A_NUMBER = """\
import litellm

TIMEOUT = 30


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", TIMEOUT)
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
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


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
        reason="run_litellm_async() reads LITELLM_DEFAULT_TIMEOUT",
        changes=[
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
            Says("run_litellm_async(): each attempt now times out after 600 s", restore=()),
        ],
    ),
    row(
        "R-old-defaults",
        R_OLD_DEFAULTS,
        None,
        ALREADY_PRESENT,
        reason="run_litellm() reads LITELLM_DEFAULT_TIMEOUT; run_litellm_async() reads LITELLM_DEFAULT_TIMEOUT",
    ),
    row(
        "R-bare-except",
        R_BARE_EXCEPT,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
            Says("run_litellm_async(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
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
    request_kwargs["timeout"] = request_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
            Says("_apply_async_chat_defaults(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
    request_kwargs["timeout"] = request_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
            Says("_apply_async_chat_defaults(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
            Says("run_chatopenai(): each attempt now times out after 600 s", restore=()),
        ],
    ),
    row(
        "hand-written-fallbacks",
        R_HAND_FALLBACKS,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
            Says("run_litellm_async(): each attempt now times out after 600 s", restore=()),
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    msgs = [{"role": "user", "content": f"{user_prompt} ({os})"}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("run_litellm(): each attempt now times out after 600 s", restore=()),
        ],
    ),
    row(
        "a-literal-keeps-its-value",
        LITERAL,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 45.5))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[],
    ),
    row(
        "--timeout-wins",
        SIXTY,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 90))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        changes=[
            Says("run_litellm(): per-attempt timeout 90 s instead of 60 s", restore=(("LITELLM_DEFAULT_TIMEOUT", "60"),), old=60.0),
        ],
        timeout=90,
    ),
    row(
        "patched",
        PATCHED,
        None,
        ALREADY_PRESENT,
        reason="run_litellm() reads LITELLM_DEFAULT_TIMEOUT",
    ),
    row(
        "patched-explicit-flag-may-lower",
        PATCHED,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 30))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        reason="bakes in timeout 120; the command line asks for 30: updated",
        changes=[
            Says("run_litellm(): per-attempt timeout 30 s instead of 120 s", restore=(("LITELLM_DEFAULT_TIMEOUT", "120"),), old=120.0),
        ],
        timeout=30,
    ),
    row(
        "env-read-by-subscript",
        ENV_SUBSCRIPT,
        None,
        ALREADY_PRESENT,
    ),
    row(
        "unconditional-assignment",
        UNCONDITIONAL,
        None,
        ANCHOR_MISSING,
        reason="sets `timeout` whatever the caller passed",
    ),
    row(
        "not-a-number",
        NOT_A_NUMBER,
        None,
        ANCHOR_MISSING,
        reason="the timeout default is `TIMEOUT`; expected a number or a read of LITELLM_DEFAULT_TIMEOUT",
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "set-for-some-models-only: that branch keeps its own, a line after the if covers the rest",
        """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if model_name.startswith("o1"):
        chat_kwargs["timeout"] = chat_kwargs.get("timeout", 300)
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    if model_name.startswith("o1"):
        chat_kwargs["timeout"] = chat_kwargs.get("timeout", 300)
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        reason="timeout default added",
    ),
    row(
        "set-for-some-models-only-and-env-driven-there: left alone (as an earlier llmfix patched it)",
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    if model_name.startswith("o1"):
        chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 300))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        None,
        ALREADY_PRESENT,
        patched=True,
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
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600))
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
    row(
        "a default guarded by the key's absence is the helper's own, not a branch: made env-driven",
        """\
import litellm


def run_litellm(model_name, **chat_kwargs):
    if "timeout" not in chat_kwargs:
        chat_kwargs["timeout"] = chat_kwargs.get("timeout", 300)
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, **chat_kwargs):
    if "timeout" not in chat_kwargs:
        chat_kwargs["timeout"] = chat_kwargs.get("timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 300))
    return litellm.completion(model=model_name, **chat_kwargs)
""",
        APPLIED,
        reason="timeout default now",
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_timeout(case):
    case.check(TimeoutTransform)
