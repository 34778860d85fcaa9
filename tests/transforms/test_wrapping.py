"""Line wrapping: rows where a line the transform changes or adds is too long, at 88 and at 119.

Each row gets harness.check like the tables, and its expected text is what the formatters the
target repos run leave as it is: ``black --line-length N --target-version py310`` (DR Tulu's
Makefile) and ``ruff format --line-length N`` (upstream open-instruct, which also sets
``skip-magic-trailing-comma`` at 119). Each formatter runs once per row, on the expected text.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import check
from shapes import J_ALIAS, J_LOOP

from llmfix.codemods.fallbacks import FallbacksTransform
from llmfix.codemods.guards import GuardsTransform
from llmfix.codemods.judge import JudgeTransform
from llmfix.codemods.precheck import PrecheckTransform
from llmfix.codemods.retries import RetriesTransform
from llmfix.codemods.timeout import TimeoutTransform

WITH_HEALTH = ["judge", "health"]


def wrap_row(id, transform, source, expected, line_length, xfail=None, **options):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(transform, source, expected, line_length, options, id=id, marks=marks)


def formatted(tool: str, text: str, line_length: int) -> str:
    if tool == "black":
        command = [sys.executable, "-m", "black", "--quiet", "--line-length", str(line_length), "--target-version", "py310", "-"]
    else:
        command = [sys.executable, "-m", "ruff", "format", "--isolated", "--line-length", str(line_length), "-"]
        if line_length == 119:  # upstream open-instruct's pyproject.toml
            command[5:5] = ["--config", "format.skip-magic-trailing-comma=true"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


HELPER_88 = """\
import logging

import litellm

logger = logging.getLogger(__name__)


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception:
        return ""
    return response.choices[0].message.content
"""

WRAPPED_88 = """\
import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", 5
    )  # retried by the OpenAI SDK
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
"""

GENERATOR_88 = """\
import logging

from open_instruct.rubrics.run_utils import (
    extract_json_from_response,
    run_litellm_async,
)

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question, rubric_generation_model="gpt-4.1"
):
    try:
        resp = await run_litellm_async(
            model_name=rubric_generation_model, user_prompt=question
        )
        obj = extract_json_from_response(resp)
    except Exception:
        return None
    return obj
"""

HELPER_119 = """\
import litellm


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
"""

JUDGE_88 = """\
from litellm import acompletion
from tenacity import retry, stop_after_attempt


@retry(stop=stop_after_attempt(4))
async def get_judgement(model, prompt):
    response = await acompletion(
        model=model, messages=[{"role": "user", "content": prompt}]
    )
    return response.choices[0].message.content
"""

ROWS = [
    wrap_row(
        "retries-88",
        RetriesTransform,
        HELPER_88,
        """\
import logging

import litellm

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception:
        return ""
    return response.choices[0].message.content
""",
        88,
    ),
    wrap_row(
        "timeout-88-inserted-line",
        TimeoutTransform,
        HELPER_88,
        """\
import logging

import litellm

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get(
        "timeout", litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600)
    )
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception:
        return ""
    return response.choices[0].message.content
""",
        88,
    ),
    wrap_row(
        "fallbacks-88",
        FallbacksTransform,
        HELPER_88,
        """\
import logging

import litellm

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get(
        "fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)
    )
    msgs = [{"role": "user", "content": user_prompt}]
    try:
        response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    except Exception:
        return ""
    return response.choices[0].message.content
""",
        88,
    ),
    wrap_row(
        "retries-88-the-file's-own-wrapping-kept",
        RetriesTransform,
        WRAPPED_88,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get(
        "num_retries", litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)
    )  # retried by the OpenAI SDK
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
""",
        88,
    ),
    wrap_row(
        "guards-88-generator-warnings",
        GuardsTransform,
        GENERATOR_88,
        """\
import logging

from open_instruct.rubrics.run_utils import (
    extract_json_from_response,
    run_litellm_async,
)

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question, rubric_generation_model="gpt-4.1"
):
    resp = None
    try:
        resp = await run_litellm_async(
            model_name=rubric_generation_model, user_prompt=question
        )
        if not resp:
            logger.warning(
                "Empty rubric response from model %s", rubric_generation_model
            )
            return None
        obj = extract_json_from_response(resp)
    except Exception as error:
        logger.warning(
            "Rubric generation with model %s failed: %s", rubric_generation_model, error
        )
        return None
    return obj
""",
        88,
    ),
    wrap_row(
        "precheck-88",
        PrecheckTransform,
        GENERATOR_88,
        """\
import logging

from open_instruct.rubrics import litellm_utils
from open_instruct.rubrics.run_utils import (
    extract_json_from_response,
    run_litellm_async,
)

logger = logging.getLogger(__name__)


async def generate_instance_wise_adaptive_rubrics(
    question, rubric_generation_model="gpt-4.1"
):
    await litellm_utils.ensure_connection(
        run_litellm_async, model_name=rubric_generation_model, user_prompt=question
    )
    try:
        resp = await run_litellm_async(
            model_name=rubric_generation_model, user_prompt=question
        )
        obj = extract_json_from_response(resp)
    except Exception:
        return None
    return obj
""",
        88,
    ),
    wrap_row(
        "retries-119-trailing-comment",
        RetriesTransform,
        HELPER_119,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


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
""",
        119,
    ),
    wrap_row(
        "fallbacks-119-a-120-character-line",
        FallbacksTransform,
        HELPER_119,
        """\
import litellm

from open_instruct.rubrics import litellm_utils


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
""",
        119,
    ),
    wrap_row(
        "judge-119-one-line-call-exploded",
        JudgeTransform,
        J_ALIAS,
        """\
import litellm as ll

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls(raise_on_degraded=True)
async def judge(prompt, model="gpt-4.1"):
    response = await ll.acompletion(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
        fallbacks=litellm_utils.fallback_models([], model),
        num_retries=litellm_utils.from_env("LITELLM_NUM_RETRIES", 10),
    )
    return float(response.choices[0].message.content)
""",
        119,
        only=WITH_HEALTH,
    ),
    wrap_row(
        "judge-119-exploded-call-extended",
        JudgeTransform,
        J_LOOP,
        """\
import asyncio
import logging

from litellm import acompletion

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


class VerificationResult:
    def __init__(self, score, cost=0.0, reasoning=""):
        self.score, self.cost, self.reasoning = score, cost, reasoning


class LMJudgeVerifier:
    def __init__(self, verifier_config):
        self.verifier_config = verifier_config

    @litellm_utils.track_calls(raise_on_degraded=True)
    async def async_call(self, tokenized_prediction, prediction, label, query):
        prompt = f"Question: {query}\\nReference: {label}\\nAnswer: {prediction}"
        max_retries = 3
        retry_delay = 1.0
        for attempt in range(max_retries):
            try:
                response = await acompletion(
                    model=self.verifier_config.llm_judge_model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=self.verifier_config.llm_judge_temperature,
                    max_completion_tokens=self.verifier_config.llm_judge_max_tokens,
                    seed=self.verifier_config.seed,
                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
                    fallbacks=litellm_utils.fallback_models([], self.verifier_config.llm_judge_model),
                )
                return VerificationResult(score=float(response.choices[0].message.content))
            except Exception as e:
                logger.warning(f"LLM judge attempt {attempt + 1}/{max_retries} failed: {e}")
                if attempt == max_retries - 1:
                    logger.error(f"LLM judge failed after {max_retries} attempts. Returning default score of 0.0")
                    return VerificationResult(score=0.0, cost=0.0, reasoning=f"Error: {e}")
                await asyncio.sleep(retry_delay * 2**attempt)
        return VerificationResult(score=0.0, cost=0.0, reasoning="Unknown error after all retries.")
""",
        119,
        only=WITH_HEALTH,
    ),
    wrap_row(
        "judge-88-a-call-whose-arguments-share-one-line",
        JudgeTransform,
        JUDGE_88,
        """\
from litellm import acompletion
from tenacity import retry, stop_after_attempt

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls(raise_on_degraded=True)
@retry(stop=stop_after_attempt(4))
async def get_judgement(model, prompt):
    response = await acompletion(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
        fallbacks=litellm_utils.fallback_models([], model),
    )
    return response.choices[0].message.content
""",
        88,
        only=WITH_HEALTH,
    ),
]


@pytest.mark.parametrize(("transform", "source", "expected", "line_length", "options"), ROWS)
def test_a_long_line_is_wrapped_as_the_formatters_do(transform, source, expected, line_length, options):
    check(transform, source, expected, "applied", line_length=line_length, **options)
    assert formatted("black", expected, line_length) == expected
    assert formatted("ruff", expected, line_length) == expected
