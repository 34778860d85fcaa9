"""Adaptive rubrics for the search reward: generate new rubric items from a
group of rollouts and score responses against them with an LLM judge.
"""

import asyncio
import json
import os
from typing import Any, Dict, List, Optional

from open_instruct import logger_utils
from open_instruct.search_rewards.utils.run_utils import extract_json_from_response, run_litellm, run_litellm_async
from open_instruct.search_rewards.utils.run_utils import ensure_litellm_connection
import logging

logger = logger_utils.setup_logger(__name__)

# Rubric items are short statements — one property each — that a judge can
# check without seeing the other responses. ✓ good: "cites at least one source
# published after 2020"; ✗ bad: "is a good answer".
ADAPTIVE_RUBRIC_GENERATION_PROMPT = """You are helping to grade answers to a research question.

Question:
{question}

Candidate responses written by the current policy:
{responses}

Rubric items already in use for this question:
{existing_rubrics}

Write new rubric items that separate the stronger responses from the weaker ones.
Prefer concrete, checkable properties over general advice and do not repeat items
that are already in use. Return JSON only, in this form:
{{
  "positive_rubrics": [{{"title": "...", "description": "..."}}],
  "negative_rubrics": [{{"title": "...", "description": "..."}}]
}}
"""

PROPERTY_JUDGE_PROMPT = """You are grading one response against one rubric item.

Question: {question}

Response:
{response}

Rubric item: {prop}

How well does the response satisfy the rubric item? Answer 0 (not at all),
1 (partially) or 2 (fully). Return JSON only: {{"score": <0|1|2>, "reason": "..."}}
"""


def _format_responses(response_list: List[str]) -> str:
    return "\n\n".join(f"[Response {i + 1}]\n{r}" for i, r in enumerate(response_list))


def _format_rubrics(existing_rubrics: Optional[Any]) -> str:
    if not existing_rubrics:
        return "(none)"
    if isinstance(existing_rubrics, str):
        return existing_rubrics
    return json.dumps(existing_rubrics, ensure_ascii=False, indent=2)


def _score_from_obj(obj: Optional[Dict[str, Any]]) -> float:
    if obj is None or "score" not in obj:
        return 0.0
    try:
        return max(0.0, min(2.0, float(obj["score"]))) / 2.0
    except (TypeError, ValueError):
        return 0.0


async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")):
    prompt = ADAPTIVE_RUBRIC_GENERATION_PROMPT.format(
        question=question,
        responses=_format_responses(response_list),
        existing_rubrics=_format_rubrics(existing_rubrics),
    )
    resp = None
    await ensure_litellm_connection(model_name)
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logging.getLogger(__name__).warning(
                "Rubric generation got an empty response from model %s; returning None", model_name
            )
            return None
        obj = extract_json_from_response(resp)
        print(f"Generated instance-wise adaptive rubrics: {obj}")
    except Exception as e:
        print(f"Prompt: {prompt}")
        print(f"Response: {resp}")
        print(f"Error generating instance-wise adaptive rubrics: {e}")
        return None
    return obj


def _score_property(response, question, prop, model_name=os.environ.get("RUBRIC_JUDGE_MODEL", "gpt-4.1")):
    prompt = PROPERTY_JUDGE_PROMPT.format(question=question, response=response, prop=prop)
    resp = run_litellm(model_name=model_name, user_prompt=prompt)
    obj = extract_json_from_response(resp)
    return _score_from_obj(obj)


async def _score_property_async(response, question, prop, model_name=os.environ.get("RUBRIC_JUDGE_MODEL", "gpt-4.1")):
    prompt = PROPERTY_JUDGE_PROMPT.format(question=question, response=response, prop=prop)
    resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
    obj = extract_json_from_response(resp)
    return _score_from_obj(obj)


def _rubric_text(rubric: Dict[str, Any]) -> str:
    title = rubric.get("title", "")
    description = rubric.get("description", "")
    return f"{title}: {description}" if title else description


async def score_response_with_rubrics_async(response, question, rubrics: List[Dict[str, Any]], model_name=None) -> float:
    """Weighted mean of per-rubric scores; negative rubrics subtract."""
    if not rubrics:
        return 0.0
    judge = model_name or os.environ.get("RUBRIC_JUDGE_MODEL", "gpt-4.1")
    scores = await asyncio.gather(
        *[_score_property_async(response, question, _rubric_text(r), model_name=judge) for r in rubrics]
    )
    total, weight_sum = 0.0, 0.0
    for rubric, score in zip(rubrics, scores):
        weight = float(rubric.get("weight", 1.0))
        total += weight * score
        weight_sum += abs(weight)
    return total / weight_sum if weight_sum else 0.0


def score_response_with_rubrics(response, question, rubrics: List[Dict[str, Any]], model_name=None) -> float:
    judge = model_name or os.environ.get("RUBRIC_JUDGE_MODEL", "gpt-4.1")
    scores = [_score_property(response, question, _rubric_text(r), model_name=judge) for r in rubrics]
    return sum(scores) / len(scores) if scores else 0.0


def merge_adaptive_rubrics(existing: List[Dict[str, Any]], generated: Optional[Dict[str, Any]], max_rubrics: int = 10):
    """Append generated items (positives weight +1, negatives -1), keeping the Größe of the list bounded."""
    if not generated:
        return list(existing)
    merged = list(existing)
    for item in generated.get("positive_rubrics", []):
        merged.append({**item, "weight": 1.0})
    for item in generated.get("negative_rubrics", []):
        merged.append({**item, "weight": -1.0})
    return merged[-max_rubrics:]
