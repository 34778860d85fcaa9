"""Adaptive rubrics (DR Tulu shape: the generator takes a model parameter defaulting from the environment)."""

import json
import os

from open_instruct.search_rewards.utils import litellm_utils
from open_instruct.search_rewards.utils.run_utils import extract_json_from_response, run_litellm_async

RUBRIC_PROMPT = """Question: {question}

Responses:
{responses}

Existing rubrics: {existing}

Return JSON with "positive_rubrics" and "negative_rubrics"."""


@litellm_utils.track_calls(raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")):
    prompt = RUBRIC_PROMPT.format(question=question, responses="\n".join(response_list), existing=json.dumps(existing_rubrics))
    resp = None
    await litellm_utils.ensure_connection(
        run_litellm_async, model_name=model_name, user_prompt=prompt
    )
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            litellm_utils.logger.warning(
                "Empty rubric response from model %s", model_name
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
