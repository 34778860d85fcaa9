"""An LLM judge module for checkouts whose fixture has no ``ground_truth_utils.py`` yet.

Written from shared/TARGETS.md's description of ``LMJudgeVerifier`` (DR Tulu forks, and
upstream from mid 2025 to Feb 2026): ``from litellm import acompletion`` at the top;
``async_call`` loops ``max_retries = 3`` times around a direct ``acompletion(...)`` with
explicit arguments and no timeout, logs a warning per failed attempt, sleeps
``retry_delay * 2**attempt`` between attempts, and after the last one logs an error and
returns ``VerificationResult(score=0.0, ...)``: an unreachable judge hands out zeros.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import CATALOG, FIXTURES

FILE = "ground_truth_utils.py"

SOURCE = '''"""Verifiers that turn a policy response into a reward."""

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, List, Optional

from litellm import acompletion

logger = logging.getLogger(__name__)

JUDGE_PROMPT = """Grade the answer below to the question that follows.

Question:
{query}

Reference answer:
{label}

Answer:
{prediction}

Reply with a JSON object only: {{"REASONING": "<one short paragraph>", "SCORE": <integer 0-10>}}
"""


@dataclass
class VerificationResult:
    score: float
    cost: float = 0.0
    reasoning: Optional[str] = None


@dataclass
class LMJudgeVerifierConfig:
    llm_judge_model: str = "gpt-4.1-mini"
    llm_judge_max_tokens: int = 2048
    llm_judge_temperature: float = 0.0
    seed: int = 42


class VerifierFunction:
    def __init__(self, name: str, weight: float = 1.0, verifier_config: Optional[Any] = None) -> None:
        self.name = name
        self.weight = weight
        self.verifier_config = verifier_config


def parse_score(text: str) -> float:
    match = re.search(r"\\{.*\\}", text or "", re.DOTALL)
    try:
        return min(max(float(json.loads(match.group(0))["SCORE"]), 0.0), 10.0) / 10.0
    except (AttributeError, KeyError, TypeError, ValueError):
        return 0.0


class LMJudgeVerifier(VerifierFunction):
    def __init__(self, judge_type: str, verifier_config: LMJudgeVerifierConfig) -> None:
        super().__init__(f"general-{judge_type}", weight=1.0, verifier_config=verifier_config)

    async def async_call(
        self, tokenized_prediction: List[int], prediction: str, label: Any, query: Optional[str] = None
    ) -> VerificationResult:
        prompt = JUDGE_PROMPT.format(query=query or "", label=label, prediction=prediction)
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
                score = parse_score(response.choices[0].message.content)
                return VerificationResult(score=score, cost=0.0, reasoning=response.choices[0].message.content)
            except Exception as e:
                logger.warning(f"LLM judge attempt {attempt + 1}/{max_retries} failed: {e}")
                if attempt == max_retries - 1:
                    logger.error(f"LLM judge failed after {max_retries} attempts. Returning default score of 0.0")
                    return VerificationResult(score=0.0, cost=0.0, reasoning=f"Error: {e}")
                else:
                    await asyncio.sleep(retry_delay * (2**attempt))

        return VerificationResult(score=0.0, cost=0.0, reasoning="Unknown error after all retries.")

    def __call__(
        self, tokenized_prediction: List[int], prediction: str, label: Any, query: Optional[str] = None
    ) -> VerificationResult:
        return asyncio.run(self.async_call(tokenized_prediction, prediction, label, query))
'''


def relative(name: str) -> str:
    """Where the judge module lives in fixture ``name`` (``open_instruct/`` under the checkout root)."""
    entry = CATALOG[name]
    return entry["files"].get("ground_truth_utils") or (Path(entry["root_subdir"]) / "open_instruct" / FILE).as_posix()


def present(name: str) -> bool:
    """True when the fixture ships its own ground_truth_utils.py."""
    return "ground_truth_utils" in CATALOG[name]["files"] or (FIXTURES / name / relative(name)).is_file()


def write(checkout: Path, name: str) -> Path:
    """Add the judge module to a copy of fixture ``name`` (unless the fixture has one); its path."""
    path = checkout / relative(name)
    if not path.exists():
        path.write_text(SOURCE, encoding="utf-8")
    return path
