"""The target code shapes of TARGETS.md, one short source per family, shared by the tables.

Each is the family's distinguishing code and little else: the helpers of run_utils.py
(R-*), the rubric generator of rubric_utils.py (G-*) and the LLM judge of
ground_truth_utils.py. Every source is complete (it imports what it reads), so a patched
text that reads an undefined name is the transform's doing.
"""

# --------------------------------------------------------------------------
# run_utils.py (R-*)
# --------------------------------------------------------------------------

# DR Tulu today: one default per line, fallbacks ["gpt-4.1-mini"] / [], no sync timeout, the async
# timeout read from the environment over three lines, a bare except (sync), a printing one (async).
R_CANONICAL = '''\
import asyncio
import os

import litellm
from openai import AzureOpenAI

_SEMAPHORE = asyncio.Semaphore(int(os.environ.get("LITELLM_MAX_CONCURRENT_CALLS", "256")))


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
'''

# No num_retries / fallbacks / timeout lines at all, no try.
R_OLD_BARE = '''\
import litellm


def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)
    chat_kwargs["max_tokens"] = chat_kwargs.get("max_tokens", 800)
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, **chat_kwargs):
    msgs = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
'''

# The default lines exist (retries 5, fallbacks ["gpt-4.1-mini"]), no try; LITELLM_DEFAULT_TIMEOUT
# read with "120", in the sync helper too.
R_OLD_DEFAULTS = '''\
import os

import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", ["gpt-4.1-mini"])
    chat_kwargs["timeout"] = chat_kwargs.get("timeout", float(os.environ.get("LITELLM_DEFAULT_TIMEOUT", "120")))
    messages = [{"role": "user", "content": user_prompt}]
    response = await litellm.acompletion(messages=messages, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
'''

# Both helpers swallow with a bare except (which also swallows cancellation).
R_BARE_EXCEPT = '''\
import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = litellm.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 3)
    try:
        response = await litellm.acompletion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    except:
        return ""
    return response.choices[0].message.content
'''

# litellm loaded lazily inside each helper, `except Exception` and a logger, 3.10 annotations.
R_LAZY = '''\
import logging
import os

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
'''

# Upstream main: the async defaults in _apply_async_chat_defaults (on a copy), the call in
# run_litellm_async_raw (no try, re-raises by design), run_litellm_async wraps it.
R_SPLIT = '''\
import logging
import os

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
    return response.choices[0].message.content
'''

# R-split with the empty-response guard already written in both helpers (the sync one lets a null
# content through).
R_GUARDED = '''\
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
    return response.choices[0].message.content


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
'''

# Every version: the system prompt comes second; a raising LiteLLM helper; its Azure neighbour uses
# the openai SDK, not LiteLLM.
R_CHATOPENAI = '''\
import litellm
from openai import AzureOpenAI


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
'''

# R-chatopenai in a fork that special-cases o1 (it takes no other temperature): its one default line sits in a
# model-specific if, the call outside it.
R_CHATOPENAI_O1 = R_CHATOPENAI.replace(
    '    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)\n',
    '    if model_name.startswith("o1"):  # o1 takes no other temperature\n        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 1)\n',
)

# A fork's hand fix: the fallbacks default set only when absent, per model.
R_HAND_FALLBACKS = '''\
import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    if "fallbacks" not in chat_kwargs:
        if model_name != "gpt-4.1-mini":
            chat_kwargs["fallbacks"] = ["gpt-4.1-mini"]
        else:
            chat_kwargs["fallbacks"] = ["gpt-4o-mini"]
    msgs = [{"role": "user", "content": user_prompt}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
'''

# litellm reached through aliases.
R_ALIASED = '''\
import litellm as ll
from litellm import acompletion as ac


def run_litellm(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    response = ll.completion(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    response = await ac(messages=[{"role": "user", "content": user_prompt}], model=model_name, **chat_kwargs)
    return response.choices[0].message.content
'''

# A helper that binds `os` itself (the caller's platform): new code must not read it as the module.
R_LOCAL_OS = '''\
import os

import litellm


def run_litellm(model_name, user_prompt, **chat_kwargs):
    os = chat_kwargs.pop("os", "linux")
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    msgs = [{"role": "user", "content": f"{user_prompt} ({os})"}]
    response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
    return response.choices[0].message.content
'''

# --------------------------------------------------------------------------
# rubric_utils.py (G-*)
# --------------------------------------------------------------------------

# DR Tulu: the env default read once, at import; the handler prints `resp`, unbound when the call raised.
G_CANONICAL = '''\
import os

from open_instruct import logger_utils
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

logger = logger_utils.setup_logger(__name__)


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
'''

# No model parameter; the awaited call passes a literal model; no try (and no logger of its own here).
G_OLD = '''\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    obj = extract_json_from_response(resp)
    return obj
'''

# G-old inside `try/except Exception: print; return None`, the prompt built inside the try.
G_OLD_TRY = '''\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    try:
        prompt = f"Question: {question}\\nResponses: {response_list}\\nExisting: {existing_rubrics}"
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj
'''

# `model_name: str | None = None` resolved in the body; `return obj` inside the try; a logger.
G_TYPED = '''\
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
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
        logger.info(f"Generated instance-wise adaptive rubrics: {obj}")
        return obj
    except Exception as e:
        logger.warning(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
'''

# Upstream main: the generator renamed, beside its caller and another user of the helper.
G_RENAMED = '''\
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
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        logger.warning(f"Error generating instance-wise evolving rubrics: {e}")
        return None
    return obj


async def _generate_instance_wise_evolving_rubrics(questions, responses):
    return [await generate_instance_wise_evolving_rubrics(q, r) for q, r in zip(questions, responses)]
'''

# No generator: rubric_utils.py only scores.
G_NONE = '''\
from open_instruct.rubrics.run_utils import run_litellm


def score_property(response, rubric, model_name="gpt-4.1"):
    answer = run_litellm(model_name, f"Does the response satisfy: {rubric}?\\n{response}")
    return 1.0 if answer.strip().lower().startswith("yes") else 0.0
'''

# --------------------------------------------------------------------------
# ground_truth_utils.py: the LLM judge
# --------------------------------------------------------------------------

# DR Tulu forks and upstream mid 2025 to Feb 2026: a hand retry loop around a direct acompletion call.
J_LOOP = '''\
import asyncio
import logging

from litellm import acompletion

logger = logging.getLogger(__name__)


class VerificationResult:
    def __init__(self, score, cost=0.0, reasoning=""):
        self.score, self.cost, self.reasoning = score, cost, reasoning


class LMJudgeVerifier:
    def __init__(self, verifier_config):
        self.verifier_config = verifier_config

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
                )
                return VerificationResult(score=float(response.choices[0].message.content))
            except Exception as e:
                logger.warning(f"LLM judge attempt {attempt + 1}/{max_retries} failed: {e}")
                if attempt == max_retries - 1:
                    logger.error(f"LLM judge failed after {max_retries} attempts. Returning default score of 0.0")
                    return VerificationResult(score=0.0, cost=0.0, reasoning=f"Error: {e}")
                await asyncio.sleep(retry_delay * 2**attempt)
        return VerificationResult(score=0.0, cost=0.0, reasoning="Unknown error after all retries.")
'''

# A judge call whose litellm import is inside the function (as upstream's context_window_checker.py
# imports it), no retry layer.
J_LAZY = '''\
import logging

logger = logging.getLogger(__name__)


async def judge_with_context_check(model, messages, max_completion_tokens=2048):
    from litellm import acompletion  # noqa: PLC0415

    return await acompletion(model=model, messages=messages, max_tokens=max_completion_tokens)
'''

# litellm under an alias, the judge's call in its own function, no retry layer.
J_ALIAS = '''\
import litellm as ll


async def judge(prompt, model="gpt-4.1"):
    response = await ll.acompletion(model=model, messages=[{"role": "user", "content": prompt}])
    return float(response.choices[0].message.content)
'''

# Later upstream versions pass their own timeout (and check the context window first).
J_TIMEOUT = '''\
from litellm import acompletion


class LMJudgeVerifier:
    def __init__(self, verifier_config):
        self.verifier_config = verifier_config

    async def async_call(self, prompt):
        for attempt in range(3):
            try:
                response = await acompletion(
                    model=self.verifier_config.llm_judge_model,
                    messages=[{"role": "user", "content": prompt}],
                    timeout=self.verifier_config.llm_judge_timeout,
                )
                return float(response.choices[0].message.content)
            except Exception:
                if attempt == 2:
                    return 0.0
        return 0.0
'''

# A tenacity retry layer.
J_TENACITY = '''\
from litellm import acompletion
from tenacity import retry, stop_after_attempt


@retry(stop=stop_after_attempt(4))
async def get_judgement(model, prompt):
    response = await acompletion(model=model, messages=[{"role": "user", "content": prompt}])
    return response.choices[0].message.content
'''

# No retry layer at all: one call, one try.
J_BARE = '''\
from litellm import acompletion


async def get_judgement(model, prompt):
    try:
        response = await acompletion(model=model, messages=[{"role": "user", "content": prompt}])
    except Exception as e:
        print(f"judge failed: {e}")
        return None
    return response.choices[0].message.content
'''

# open-instruct main (from about Apr 2026): the judge awaits the patched helper, no direct LiteLLM call.
J_RAW = '''\
from open_instruct.rubrics.run_utils import run_litellm_async_raw


class LMJudgeVerifier:
    def __init__(self, verifier_config):
        self.verifier_config = verifier_config

    async def async_call(self, prompt):
        response = await run_litellm_async_raw(self.verifier_config.llm_judge_model, [{"role": "user", "content": prompt}])
        return float(response.choices[0].message.content)
'''

# rejection_sampling/synthetic_preference_dataset.py: a nested function loops MAX_TRIES (a module constant).
J_NESTED = '''\
import asyncio

from litellm import acompletion

MAX_TRIES = 3


def judge_all(model, conversations):
    async def get_judgement(messages):
        for _ in range(MAX_TRIES):
            try:
                response = await acompletion(model=model, messages=messages)
                return response.choices[0].message.content
            except Exception as e:
                print(f"Error: {e}")
        return None

    async def run():
        return await asyncio.gather(*(get_judgement(m) for m in conversations))

    return asyncio.run(run())
'''
