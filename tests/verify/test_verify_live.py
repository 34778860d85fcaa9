"""``verify --live`` with the caller's environment (here pointed at the mock): latencies, redaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from llmfix.verify import live

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-or-v1-0123456789abcdefSECRET"


def test_redaction_helpers():
    assert live.redact_key(SECRET).startswith("sk-or-v1") and "SECRET" not in live.redact_key(SECRET)
    assert live.redact_key("short") == "***" and live.redact_key(None) == "(not set)"
    assert live.redact_url("http://user:pw@proxy:3128") == "http://***@proxy:3128"
    assert SECRET not in live.scrub(f"error: bad key {SECRET}", {"OPENAI_API_KEY": SECRET})


def test_live_uses_the_callers_env_and_never_prints_the_key(mock_llm, checkout_copy):
    mock_llm.set_content("live-model", json.dumps({"positive_rubrics": [], "negative_rubrics": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_", "RUBRIC_"))}
    env.update(OPENAI_API_BASE=mock_llm.base_url, OPENAI_API_KEY=SECRET, RUBRIC_GENERATION_MODEL="openai/live-model",
               LITELLM_FALLBACK_MODELS="", LITELLM_NUM_RETRIES="0")
    checkout = checkout_copy("drtulu-canonical", True)
    done = subprocess.run([sys.executable, "-m", "llmfix", "verify", str(checkout), "--live"], capture_output=True, text=True, cwd=REPO, env=env, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "sk-or-v1…" in done.stdout and mock_llm.base_url in done.stdout
    for case in ("L1", "L2", "L3"):
        assert any(line.startswith(case) and line.rstrip().endswith("pass") for line in done.stdout.splitlines()), done.stdout
    assert mock_llm.attempts("live-model") >= 3  # precheck, completion, generation: all to the caller's endpoint
    assert all(r["headers"].get("authorization") == f"Bearer {SECRET}" for r in mock_llm.requests if r["key"] == "live-model")
