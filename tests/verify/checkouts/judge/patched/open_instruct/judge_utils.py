"""Prompts and score extractors of the LLM judges (trimmed)."""

import json
import re

QUALITY_PROMPT = """Rate how well the response answers the question, using the reference answer.

Question: {input}
Response: {output}
Reference answer: {label}

Return JSON only: {{"REASONING": "...", "SCORE": <0-10>}}"""

JUDGE_PROMPT_MAP = {"quality": QUALITY_PROMPT, "quality_ref": QUALITY_PROMPT}


def build_messages(user_prompt, system_prompt=None):
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": user_prompt}]


def extract_score_from_string(text):
    numbers = re.findall(r"\d+(?:\.\d+)?", text)
    return float(numbers[0]) if numbers else 0.0


def extract_json_score_with_fallback(text):
    """(reasoning, score) from the judge's JSON answer, else the first number in it."""
    cleaned = re.sub(r"```json\s*|\s*```", "", text or "")
    try:
        data = json.loads(cleaned)
        return data.get("REASONING", ""), float(data.get("SCORE", 0.0))
    except (ValueError, TypeError, AttributeError):
        return "", extract_score_from_string(cleaned)


EXTRACTOR_MAP = {"quality": extract_json_score_with_fallback, "quality_ref": extract_json_score_with_fallback}
