#!/usr/bin/env bash
# Launch DR Tulu GRPO training with adaptive rubric rewards.
# The cluster only reaches the internet through the corporate proxy.
set -euo pipefail

export http_proxy=http://proxy.corp.example:3128
export https_proxy=http://proxy.corp.example:3128
export no_proxy=localhost,127.0.0.1

export OPENAI_API_KEY=sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000
export OPENAI_API_BASE=https://openrouter.ai/api/v1
export RUBRIC_JUDGE_MODEL=gpt-4.1-mini

cd "$(dirname "$0")/rl/open-instruct"

python open_instruct/grpo_fast.py \
    --exp_name dr_tulu_adaptive_rubrics \
    --model_name_or_path Qwen/Qwen3-8B \
    --dataset_mixer_list rl-research/dr-tulu-rl-data 1.0 \
    --num_unique_prompts_rollout 32 \
    --num_samples_per_prompt_rollout 8 \
    --learning_rate 5e-7 \
    --beta 0.001 \
    --apply_adaptive_rubric_reward true \
    --max_adaptive_rubrics 10 \
    --seed 1 \
    --output_dir output/dr_tulu_adaptive_rubrics
