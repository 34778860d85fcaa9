"""Adaptive rubrics (older open-instruct shape, patched by hand: the precheck checks the model the call uses; calls tracked).

Two generators: the plain one (no try: it raises when the helper it awaits raises) and a
guarded copy (its handler logs the error and returns None).
"""

import json
import logging

from open_instruct.search_rewards.utils.run_utils import _litellm_tracked, ensure_litellm_connection, extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)

RUBRIC_PROMPT = """Question: {question}

Responses:
{responses}

Existing rubrics: {existing}

Return JSON with "positive_rubrics" and "negative_rubrics"."""


@_litellm_tracked("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    await ensure_litellm_connection("gpt-4.1")
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    if not resp:
        logger.warning("Rubric generation got an empty response from model %s; returning None", "gpt-4.1")
        return None
    obj = extract_json_from_response(resp)
    print(f"Generated instance-wise adaptive rubrics: {obj}")
    return obj


@_litellm_tracked("generate_adaptive_rubrics_guarded", raise_on_degraded=True)
async def generate_adaptive_rubrics_guarded(question, response_list, existing_rubrics=None):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    resp = None
    await ensure_litellm_connection("gpt-4.1")
    try:
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
        if not resp:
            logger.warning("Rubric generation got an empty response from model %s; returning None", "gpt-4.1")
            return None
        obj = extract_json_from_response(resp)
    except Exception as e:
        logger.warning("Rubric generation with model %s failed: %s", "gpt-4.1", e)
        return None
    return obj
