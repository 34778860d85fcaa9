"""Adaptive rubrics (DR Tulu shape, patched by hand: precheck first, empty answers and failures logged, calls tracked)."""

import json
import logging
import os

from open_instruct.search_rewards.utils.run_utils import _litellm_tracked, ensure_litellm_connection, extract_json_from_response, run_litellm_async

logger = logging.getLogger(__name__)

RUBRIC_PROMPT = """Question: {question}

Responses:
{responses}

Existing rubrics: {existing}

Return JSON with "positive_rubrics" and "negative_rubrics"."""


@_litellm_tracked("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    resp = None
    await ensure_litellm_connection(model_name)
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logger.warning("Rubric generation got an empty response from model %s; returning None", model_name)
            return None
        obj = extract_json_from_response(resp)
        print(f"Generated instance-wise adaptive rubrics: {obj}")
    except Exception as e:
        logger.warning("Rubric generation with model %s failed: %s", model_name, e)
        return None
    return obj
