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


PASSWORD = "Pr0xyPassw0rd"


def test_redaction_is_doctors():
    from llmfix.doctor import redact

    assert live.redact_key is redact.redact_key and live.redact_url is redact.redact_url
    assert live.redact_key(SECRET).startswith("sk-or-v1") and "SECRET" not in live.redact_key(SECRET)
    assert live.redact_url(f"http://alice:{PASSWORD}@proxy:3128") == "http://alice:***@proxy:3128"
    assert SECRET not in live.scrub(f"error: bad key {SECRET}", {"OPENAI_API_KEY": SECRET})
    assert PASSWORD not in live.scrub(f"ClientHttpProxyError(url='http://alice:{PASSWORD}@h:1')", {})


def test_live_never_prints_a_proxy_password(checkout_copy, tmp_path):
    """The patched code's LiteLLMConnectionError names the proxy; neither it nor verify shows the password."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = f"http://alice:{PASSWORD}@127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_", "RUBRIC_"))}
    env.update(OPENAI_API_BASE="https://127.0.0.1:9/v1", OPENAI_API_KEY=SECRET, https_proxy=proxy, HTTPS_PROXY=proxy,
               LITELLM_NUM_RETRIES="0", LITELLM_PRECHECK_TIMEOUT="2", LITELLM_FALLBACK_MODELS="")
    checkout = checkout_copy("drtulu-canonical", True)
    for extra in ([], ["--json"]):
        done = subprocess.run([sys.executable, "-m", "llmfix", "verify", str(checkout), "--live", *extra],
                              capture_output=True, text=True, cwd=REPO, env=env, timeout=240)
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "LiteLLMConnectionError" in output and "127.0.0.1" in output
        assert PASSWORD not in output and SECRET not in output


def test_live_uses_the_callers_env_and_never_prints_the_key(mock_llm, checkout_copy):
    mock_llm.set_content("live-model", json.dumps({"positive_rubrics": [], "negative_rubrics": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_", "RUBRIC_"))}
    env.update(OPENAI_API_BASE=mock_llm.base_url, OPENAI_API_KEY=SECRET, RUBRIC_GENERATION_MODEL="openai/live-model",
               LITELLM_FALLBACK_MODELS="", LITELLM_NUM_RETRIES="0")
    checkout = checkout_copy("drtulu-canonical", True)
    done = subprocess.run([sys.executable, "-m", "llmfix", "verify", str(checkout), "--live"], capture_output=True, text=True, cwd=REPO, env=env, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "sk-or-v1-01…" in done.stdout and mock_llm.base_url in done.stdout  # the key as a short prefix, like doctor
    for case in ("L1", "L2", "L3"):
        assert any(line.startswith(case) and line.rstrip().endswith("pass") for line in done.stdout.splitlines()), done.stdout
    assert mock_llm.attempts("live-model") >= 3  # precheck, completion, generation: all to the caller's endpoint
    assert all(r["headers"].get("authorization") == f"Bearer {SECRET}" for r in mock_llm.requests if r["key"] == "live-model")
