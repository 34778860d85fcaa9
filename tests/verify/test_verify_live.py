"""``verify --live`` with the caller's environment (here pointed at the mock): latencies, redaction.

Both command lines run at the same time (``live_runs``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmfix.mockllm import MockLLM
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


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_", "RUBRIC_"))}
    env.update(values)
    return env


@pytest.fixture(scope="module")
def live_runs(checkout_copy) -> Iterator[tuple[dict[str, subprocess.CompletedProcess[str]], MockLLM]]:
    """``--live`` through a dead proxy with a password (text and --json), and against a mock endpoint, all at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = f"http://alice:{PASSWORD}@127.0.0.1:{port}"
    checkout = str(checkout_copy("drtulu-canonical", True))
    with MockLLM() as mock:
        mock.set_content("live-model", json.dumps({"positive_rubrics": [], "negative_rubrics": []}))
        commands = {
            "proxy": (["--live"], _env(OPENAI_API_BASE="https://127.0.0.1:9/v1", OPENAI_API_KEY=SECRET, https_proxy=proxy, HTTPS_PROXY=proxy,
                                       LITELLM_NUM_RETRIES="0", LITELLM_PRECHECK_TIMEOUT="2", LITELLM_FALLBACK_MODELS="")),
            "mock": (["--live"], _env(OPENAI_API_BASE=mock.base_url, OPENAI_API_KEY=SECRET, RUBRIC_GENERATION_MODEL="openai/live-model",
                                      LITELLM_FALLBACK_MODELS="", LITELLM_NUM_RETRIES="0")),
        }
        commands["proxy-json"] = (["--live", "--json"], commands["proxy"][1])
        processes = {key: subprocess.Popen([sys.executable, "-m", "llmfix", "verify", checkout, *args], cwd=REPO, env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE) for key, (args, env) in commands.items()}
        done = {}
        for key, process in processes.items():
            stdout, stderr = process.communicate(timeout=240)
            done[key] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        yield done, mock


@pytest.mark.parametrize("key", ["proxy", "proxy-json"])
def test_live_never_prints_a_proxy_password(live_runs, key):
    """The patched code's LiteLLMConnectionError names the proxy; neither it nor verify shows the password."""
    done = live_runs[0][key]
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "LiteLLMConnectionError" in output and "127.0.0.1" in output
    assert PASSWORD not in output and SECRET not in output


def test_live_uses_the_callers_env_and_never_prints_the_key(live_runs):
    done, mock = live_runs[0]["mock"], live_runs[1]
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "sk-or-v1-01…" in done.stdout and mock.base_url in done.stdout  # the key as a short prefix, like doctor
    for case in ("L1", "L2", "L3"):
        assert any(line.startswith(case) and line.rstrip().endswith("pass") for line in done.stdout.splitlines()), done.stdout
    assert mock.attempts("live-model") >= 3  # precheck, completion, generation: all to the caller's endpoint
    assert all(r["headers"].get("authorization") == f"Bearer {SECRET}" for r in mock.requests if r["key"] == "live-model")
