"""precheck: (source, expected, status) rows for the rubric generator families (G-*) of TARGETS.md.

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). The generator awaits ``litellm_utils.ensure_connection(<its helper>, <the call's
arguments>)`` before its first request, outside any try, so a dead endpoint is not swallowed;
a prompt built inside the try is replaced by a short probe. What the check does at run time
is tested on the support module itself.
"""

import pytest
from harness import Says, row
from shapes import G_CANONICAL, G_NONE, G_OLD, G_OLD_TRY, G_RENAMED, G_TYPED, R_CANONICAL

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.precheck import PrecheckTransform

CHECKED = """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=question)
    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
    return extract_json_from_response(resp)
"""

STALE_CHECK = """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, judge="gpt-4.1"):
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=question)
    resp = await run_litellm_async(model_name=judge, user_prompt=question)
    return extract_json_from_response(resp)
"""

MESSAGES_IN_TRY = """\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    try:
        messages = [{"role": "user", "content": f"Question: {question}\\nResponses: {response_list}"}]
        resp = await run_litellm_async(model_name=model_name, messages=messages)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error: {e}")
        return None
    return obj
"""

OTHER_ARGUMENT_IN_TRY = """\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    try:
        tokens = 512 * len(response_list)
        resp = await run_litellm_async(model_name=model_name, user_prompt=question, max_tokens=tokens)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error: {e}")
        return None
    return obj
"""

MODULE_IMPORTED_WHOLE = """\
from open_instruct.rubrics import run_utils


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await run_utils.run_litellm_async(model_name, question)
    return run_utils.extract_json_from_response(resp)
"""

HELPER_BESIDE = """\
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

CLASH = """\
from open_instruct.rubrics import run_utils as litellm_utils


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    resp = await litellm_utils.run_litellm_async(model_name=model_name, user_prompt=question)
    return litellm_utils.extract_json_from_response(resp)
"""

PROMPT_NAMED_LIKE_ITS_KEYWORD = """\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    try:
        user_prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=user_prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
"""


ROWS = [
    row(
        "G-canonical",
        G_CANONICAL,
        """\
import os

from open_instruct import logger_utils
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=prompt)
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
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
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
    await litellm_utils.ensure_connection(run_litellm_async, model_name="gpt-4.1", user_prompt=prompt)
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    obj = extract_json_from_response(resp)
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
    row(
        "G-old-try",
        G_OLD_TRY,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    await litellm_utils.ensure_connection(run_litellm_async, model_name="gpt-4.1", user_prompt="Reply with OK.")
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
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
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


async def generate_instance_wise_adaptive_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=prompt)
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
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
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


async def generate_instance_wise_evolving_rubrics(
    question: str, response_list: list[str], existing_rubrics: str | None = None, model_name: str | None = None
) -> dict | None:
    if model_name is None:
        model_name = os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=prompt)
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
            Says("generate_instance_wise_evolving_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
    row(
        "G-none",
        G_NONE,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "R-canonical",
        R_CANONICAL,
        None,
        NOT_APPLICABLE,
    ),
    row(
        "messages-built-inside-the-try",
        MESSAGES_IN_TRY,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    await litellm_utils.ensure_connection(
        run_litellm_async, model_name=model_name, messages=[{"role": "user", "content": "Reply with OK."}]
    )
    try:
        messages = [{"role": "user", "content": f"Question: {question}\\nResponses: {response_list}"}]
        resp = await run_litellm_async(model_name=model_name, messages=messages)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error: {e}")
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
    row(
        "module-imported-whole",
        MODULE_IMPORTED_WHOLE,
        """\
from open_instruct.rubrics import litellm_utils, run_utils


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    await litellm_utils.ensure_connection(run_utils.run_litellm_async, model_name, question)
    resp = await run_utils.run_litellm_async(model_name, question)
    return run_utils.extract_json_from_response(resp)
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_utils.run_litellm_async "
                "checks the endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
    row(
        "helper-in-the-same-file",
        HELPER_BESIDE,
        """\
import json

import litellm

from open_instruct.rubrics import litellm_utils


def extract_json_from_response(response):
    return json.loads(response) if response else None


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content


async def generate_instance_wise_adaptive_rubrics(question, response_list, model_name="gpt-4.1"):
    await litellm_utils.ensure_connection(run_litellm_async, model_name, question)
    resp = await run_litellm_async(model_name, question)
    return extract_json_from_response(resp)
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
    row(
        "already-checked",
        CHECKED,
        None,
        ALREADY_PRESENT,
        reason="awaits ensure_connection()",
    ),
    row(
        "a-merge-changed-the-call",
        STALE_CHECK,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, judge="gpt-4.1"):
    await litellm_utils.ensure_connection(run_litellm_async, model_name=judge, user_prompt=question)
    resp = await run_litellm_async(model_name=judge, user_prompt=question)
    return extract_json_from_response(resp)
""",
        APPLIED,
        reason="its connection check now makes the call the generator makes",
        changes=[],
    ),
    row(
        "an-argument-computed-inside-the-try",
        OTHER_ARGUMENT_IN_TRY,
        None,
        ANCHOR_MISSING,
        reason="the awaited call's argument `max_tokens=tokens` is computed after where the check must go; apply the rest with `--skip precheck`",
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils`",
    ),
    row(
        "G-old-try-prompt-named-like-its-keyword",
        PROMPT_NAMED_LIKE_ITS_KEYWORD,
        """\
from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    await litellm_utils.ensure_connection(run_litellm_async, model_name="gpt-4.1", user_prompt="Reply with OK.")
    try:
        user_prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=user_prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
""",
        APPLIED,
        changes=[
            Says("generate_instance_wise_adaptive_rubrics(): before the first request for a model, one tiny request through run_litellm_async checks the "
                "endpoint and raises LiteLLMConnectionError when nothing answers", restore=(("LITELLM_PRECHECK", "off"),)),
        ],
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_precheck(case):
    case.check(PrecheckTransform)
