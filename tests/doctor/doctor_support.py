"""Helpers shared by the doctor tests (imported as a plain module, like tests/transforms/harness.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAUNCHERS = REPO / "fixtures" / "launchers"
TEST_KEY = "sk-test-0123456789abcdef0123456789"


def make_env(base_url: str | None, **extra: str) -> dict[str, str]:
    """A complete, explicit environment for one doctor run: nothing from the developer's."""
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENAI_API_KEY": TEST_KEY}
    if base_url is not None:
        env["OPENAI_API_BASE"] = base_url
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def closed_url(scheme: str = "http") -> str:
    from llmfix.proxy import closed_port

    return f"{scheme}://127.0.0.1:{closed_port()}/v1"


def by_check(findings: list[Any], check: str, source: str = "environment") -> list[Any]:
    return [f for f in findings if f.check == check and f.source == source]


def cli_env(env: dict[str, str]) -> dict[str, str | None]:
    """For CliRunner(env=...): the given variables, and every other LLM-related one removed."""
    import os

    from llmfix.doctor.launchers import relevant

    cleared: dict[str, str | None] = {n: None for n in os.environ if relevant(n) or n.upper() in ("SSL_CERT_DIR",)}
    cleared.update(env)
    return cleared
