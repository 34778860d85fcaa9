"""judge: (source, expected, status) rows for the direct LiteLLM calls of TARGETS.md (the LLM judge and its kin).

Each row gets harness.check (expected text, idempotence, byte-exact revert, a result that
compiles). A call with explicit arguments gets ``timeout=`` and ``fallbacks=``, and
``num_retries=`` only where no retry layer (a hand loop, tenacity) exists; with health
selected too (as ``llmfix apply`` selects it) its function gets
``@litellm_utils.track_calls(raise_on_degraded=True)``. The Change text says how many
requests a dead endpoint gets, before and after.
"""

import pytest
from harness import Says, row
from shapes import J_ALIAS, J_BARE, J_LAZY, J_LOOP, J_NESTED, J_RAW, J_TENACITY, J_TIMEOUT, R_CANONICAL

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.judge import JudgeTransform

WITH_HEALTH = ["judge", "health"]  # what `llmfix apply` selects


PATCHED = """\
from litellm import acompletion

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls(raise_on_degraded=True)
async def get_judgement(model, prompt):
    response = await acompletion(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
        fallbacks=litellm_utils.fallback_models([], model),
        num_retries=litellm_utils.from_env("LITELLM_NUM_RETRIES", 10),
    )
    return response.choices[0].message.content
"""

POSITIONAL_MODEL = """\
from litellm import acompletion


async def get_judgement(model, prompt):
    response = await acompletion(model, messages=[{"role": "user", "content": prompt}])
    return response.choices[0].message.content
"""

CLASH = """\
from litellm import acompletion

from open_instruct import utils as litellm_utils


async def get_judgement(model, prompt):
    response = await acompletion(model=model, messages=[{"role": "user", "content": prompt}])
    return litellm_utils.parse(response)
"""


ROWS = [
    row(
        "hand-loop-alone",
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
        APPLIED,
        changes=[
            Says("LMJudgeVerifier.async_call(): a dead endpoint gets 9 requests (3 attempts of its own retry loop x 3), as before (llmfix adds no retries "
                "inside a retry layer) before the call gives up", restore=()),
        ],
    ),
    row(
        "hand-loop-with-health",
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
        APPLIED,
        changes=[
            Says("LMJudgeVerifier.async_call(): a dead endpoint gets 9 requests (3 attempts of its own retry loop x 3), as before (llmfix adds no retries "
                "inside a retry layer) before the call gives up", restore=()),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "lazy-import-in-the-function",
        J_LAZY,
        """\
import logging

from open_instruct.rubrics import litellm_utils

logger = logging.getLogger(__name__)


@litellm_utils.track_calls(raise_on_degraded=True)
async def judge_with_context_check(model, messages, max_completion_tokens=2048):
    from litellm import acompletion  # noqa: PLC0415

    return await acompletion(
        model=model,
        messages=messages,
        max_tokens=max_completion_tokens,
        timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
        fallbacks=litellm_utils.fallback_models([], model),
        num_retries=litellm_utils.from_env("LITELLM_NUM_RETRIES", 10),
    )
""",
        APPLIED,
        changes=[
            Says("judge_with_context_check(): a dead endpoint gets 11 requests instead of 3 requests before the call gives up", restore=()),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "import-litellm-as-ll",
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
        APPLIED,
        changes=[
            Says("judge(): a dead endpoint gets 11 requests instead of 3 requests before the call gives up", restore=()),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "tenacity",
        J_TENACITY,
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
        APPLIED,
        changes=[
            Says("get_judgement(): a dead endpoint gets 12 requests (4 attempts of its tenacity retry x 3), as before (llmfix adds no retries inside a "
                "retry layer) before the call gives up", restore=()),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "no-retry-layer-gets-num_retries",
        J_BARE,
        """\
from litellm import acompletion

from open_instruct.rubrics import litellm_utils


@litellm_utils.track_calls(raise_on_degraded=True)
async def get_judgement(model, prompt):
    try:
        response = await acompletion(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
            fallbacks=litellm_utils.fallback_models([], model),
            num_retries=litellm_utils.from_env("LITELLM_NUM_RETRIES", 10),
        )
    except Exception as e:
        print(f"judge failed: {e}")
        return None
    return response.choices[0].message.content
""",
        APPLIED,
        changes=[
            Says("get_judgement(): a dead endpoint gets 11 requests instead of 3 requests before the call gives up", restore=()),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "routed-through-run_litellm_async_raw",
        J_RAW,
        None,
        NOT_APPLICABLE,
        only=WITH_HEALTH,
    ),
    row(
        "helpers-are-the-defaults-transforms'",
        R_CANONICAL,
        None,
        NOT_APPLICABLE,
        only=WITH_HEALTH,
    ),
    row(
        "patched",
        PATCHED,
        None,
        ALREADY_PRESENT,
        reason="get_judgement() passes a timeout and fallbacks",
        only=WITH_HEALTH,
    ),
    row(
        "a-positional-model",
        POSITIONAL_MODEL,
        None,
        ANCHOR_MISSING,
        reason="get_judgement(): its call has no model= argument; apply the rest with `--skip judge`",
    ),
    row(
        "support-name-taken",
        CLASH,
        None,
        ANCHOR_MISSING,
        reason="the file already binds `litellm_utils`",
    ),
    row(
        "the-call's-own-timeout-is-kept",
        J_TIMEOUT,
        """\
from litellm import acompletion

from open_instruct.rubrics import litellm_utils


class LMJudgeVerifier:
    def __init__(self, verifier_config):
        self.verifier_config = verifier_config

    @litellm_utils.track_calls(raise_on_degraded=True)
    async def async_call(self, prompt):
        for attempt in range(3):
            try:
                response = await acompletion(
                    model=self.verifier_config.llm_judge_model,
                    messages=[{"role": "user", "content": prompt}],
                    timeout=self.verifier_config.llm_judge_timeout,
                    fallbacks=litellm_utils.fallback_models([], self.verifier_config.llm_judge_model),
                )
                return float(response.choices[0].message.content)
            except Exception:
                if attempt == 2:
                    return 0.0
        return 0.0
""",
        APPLIED,
        changes=[
            Says("a dead endpoint gets 9 requests (3 attempts of its own retry loop x 3), as "
                "before", absent="instead of `self.verifier_config.llm_judge_timeout`"),
        ],
        only=WITH_HEALTH,
    ),
    row(
        "nested-judge-function",
        J_NESTED,
        """\
import asyncio

from litellm import acompletion

from open_instruct.rubrics import litellm_utils

MAX_TRIES = 3


def judge_all(model, conversations):
    @litellm_utils.track_calls(raise_on_degraded=True)
    async def get_judgement(messages):
        for _ in range(MAX_TRIES):
            try:
                response = await acompletion(
                    model=model,
                    messages=messages,
                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
                    fallbacks=litellm_utils.fallback_models([], model),
                )
                return response.choices[0].message.content
            except Exception as e:
                print(f"Error: {e}")
        return None

    async def run():
        return await asyncio.gather(*(get_judgement(m) for m in conversations))

    return asyncio.run(run())
""",
        APPLIED,
        only=WITH_HEALTH,
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_judge(case):
    case.check(JudgeTransform)
