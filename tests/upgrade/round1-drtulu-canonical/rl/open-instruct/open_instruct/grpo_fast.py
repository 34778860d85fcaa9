# Trimmed stand-in for the GRPO trainer: only the adaptive-rubric path is kept.
# The real trainer imports torch, vllm and ray; none of that is needed to reach
# the rubric helpers, so this fixture leaves it out.

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from open_instruct.search_rewards.utils.rubric_utils import (
    generate_instance_wise_adaptive_rubrics,
    merge_adaptive_rubrics,
)


@dataclass
class Args:
    exp_name: str = "grpo"
    num_samples_per_prompt_rollout: int = 8
    apply_adaptive_rubric_reward: bool = False
    max_adaptive_rubrics: int = 10


def _str2bool(value: str) -> bool:
    return value.lower() in ("1", "true", "yes", "y")


def _generate_instance_wise_adaptive_rubrics(
    questions: List[str],
    responses: List[str],
    num_samples_per_prompt_rollout: int,
    rubric_buffer: Optional[Dict[str, List[Dict[str, Any]]]] = None,
) -> List[Optional[Dict[str, Any]]]:
    """Group the flat rollout list by prompt and ask for new rubrics per prompt."""
    rubric_buffer = rubric_buffer or {}
    groups = [
        responses[i : i + num_samples_per_prompt_rollout]
        for i in range(0, len(responses), num_samples_per_prompt_rollout)
    ]

    async def _run_all():
        tasks = [
            generate_instance_wise_adaptive_rubrics(q, group, existing_rubrics=rubric_buffer.get(q))
            for q, group in zip(questions, groups)
        ]
        return await asyncio.gather(*tasks)

    return asyncio.run(_run_all())


def update_rubric_buffer(questions, generated, rubric_buffer, max_rubrics):
    for question, rubrics in zip(questions, generated):
        rubric_buffer[question] = merge_adaptive_rubrics(rubric_buffer.get(question, []), rubrics, max_rubrics)
    return rubric_buffer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exp_name", default="grpo")
    parser.add_argument("--num_samples_per_prompt_rollout", type=int, default=8)
    parser.add_argument("--apply_adaptive_rubric_reward", type=_str2bool, default=False)
    parser.add_argument("--max_adaptive_rubrics", type=int, default=10)
    known, _unknown = parser.parse_known_args()
    args = Args(**vars(known))
    print(f"[{args.exp_name}] adaptive rubrics: {args.apply_adaptive_rubric_reward}")


if __name__ == "__main__":
    main()
