"""Adaptive rubrics (older open-instruct shape: no model parameter, the model is a literal in the call).

Two generators: the plain one (no try) and a guarded copy (try/except that prints and returns None).
"""

import json

from open_instruct.search_rewards.utils import litellm_utils
from open_instruct.search_rewards.utils.run_utils import extract_json_from_response, run_litellm_async

RUBRIC_PROMPT = """Question: {question}

Responses:
{responses}

Existing rubrics: {existing}

Return JSON with "positive_rubrics" and "negative_rubrics"."""


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    await litellm_utils.ensure_connection(
        run_litellm_async, model_name="gpt-4.1", user_prompt=prompt
    )
    resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
    if not resp:
        litellm_utils.logger.warning("Empty rubric response from model %s", "gpt-4.1")
        return None
    obj = extract_json_from_response(resp)
    print(f"Generated instance-wise adaptive rubrics: {obj}")
    return obj


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_adaptive_rubrics_guarded(question, response_list, existing_rubrics=None):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    resp = None
    await litellm_utils.ensure_connection(
        run_litellm_async, model_name="gpt-4.1", user_prompt=prompt
    )
    try:
        resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
        if not resp:
            litellm_utils.logger.warning(
                "Empty rubric response from model %s", "gpt-4.1"
            )
            return None
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Error generating adaptive rubrics: {e}")
        return None
    return obj
