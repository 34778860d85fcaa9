"""Reward verifiers (trimmed to the LLM judge): open-instruct's ground_truth_utils.py of mid 2025.

The real module imports the training stack at the top (torch here); the judge itself only
needs LiteLLM.
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, List, Optional

import torch  # noqa: F401  (the code verifiers use it)
from litellm import acompletion

from open_instruct import litellm_utils
from open_instruct.judge_utils import EXTRACTOR_MAP, JUDGE_PROMPT_MAP, build_messages

logger = logging.getLogger(__name__)


@dataclass
class VerifierConfig:
    """Per-verifier settings, filled from the training args."""


@dataclass
class LMJudgeVerifierConfig(VerifierConfig):
    llm_judge_model: str
    llm_judge_max_tokens: int
    llm_judge_temperature: float
    seed: int


@dataclass
class VerificationResult:
    score: float
    cost: float = 0.0
    reasoning: Optional[str] = None


class VerifierFunction(ABC):
    def __init__(self, name: str, weight: float = 1.0, verifier_config: Optional[VerifierConfig] = None) -> None:
        self.name = name
        self.weight = weight
        self.verifier_config = verifier_config

    @abstractmethod
    def __call__(self, tokenized_prediction: List[int], prediction: str, label: Any, query: Optional[str] = None) -> VerificationResult:
        """Score one prediction."""

    async def async_call(self, tokenized_prediction: List[int], prediction: str, label: Any, query: Optional[str] = None) -> VerificationResult:
        return self(tokenized_prediction, prediction, label, query)


class LMJudgeVerifier(VerifierFunction):
    """Scores a response with an LLM judge reached through LiteLLM."""

    def __init__(self, judge_type: str, verifier_config: LMJudgeVerifierConfig) -> None:
        super().__init__(f"general-{judge_type}", verifier_config=verifier_config, weight=1.0)
        self.prompt_template = JUDGE_PROMPT_MAP[judge_type]
        self.extractor = EXTRACTOR_MAP[judge_type]

    def parse_completion(self, completion):
        reasoning, score = "", 0.0
        try:
            reasoning, score = self.extractor(completion.choices[0].message.content)
        except Exception as e:
            print(f"Error processing model response: {e}")
        return reasoning, score

    @litellm_utils.track_calls(raise_on_degraded=True)
    async def async_call(self, tokenized_prediction: List[int], prediction: str, label: str, query: str) -> VerificationResult:
        prompt = self.prompt_template.format(input=query, output=prediction, label=label)
        max_retries = 3
        retry_delay = 1.0
        for attempt in range(max_retries):
            try:
                messages = build_messages(prompt)
                response = await acompletion(
                    model=self.verifier_config.llm_judge_model,
                    messages=messages,
                    temperature=self.verifier_config.llm_judge_temperature,
                    max_completion_tokens=self.verifier_config.llm_judge_max_tokens,
                    seed=self.verifier_config.seed,
                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),
                    fallbacks=litellm_utils.fallback_models([], self.verifier_config.llm_judge_model),
                )
                reasoning, score = self.parse_completion(response)
                return VerificationResult(score=score, cost=0.0, reasoning=reasoning)
            except Exception as e:
                logger.warning(f"LLM judge attempt {attempt + 1}/{max_retries} failed: {e}")
                if attempt == max_retries - 1:
                    logger.error(f"LLM judge failed after {max_retries} attempts. Returning default score of 0.0")
                    return VerificationResult(score=0.0, cost=0.0, reasoning=f"Error: {e}")
                await asyncio.sleep(retry_delay * (2**attempt))
        return VerificationResult(score=0.0, cost=0.0, reasoning="Unknown error after all retries.")

    def __call__(self, tokenized_prediction: List[int], prediction: str, label: str, query: Optional[str] = None) -> VerificationResult:
        return asyncio.run(self.async_call(tokenized_prediction, prediction, label, query))
