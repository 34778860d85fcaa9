"""Runtime-module tests: a clean LLM environment, fresh module state, real litellm."""

from __future__ import annotations

import logging
import os
from typing import Iterator

import pytest

from llmfix.codemods.runtime.redact import _LITELLM_PROXY_VARIABLES

from runtime_support import TEST_KEY

SETTINGS = (
    "OPENAI_API_KEY",
    "OPENAI_API_BASE",
    "OPENAI_BASE_URL",
    "RUBRIC_GENERATION_MODEL",
    "LITELLM_FALLBACK_MODELS",
    "LITELLM_PRECHECK",
    "LITELLM_PRECHECK_TIMEOUT",
    "LITELLM_PRECHECK_RECHECK",
    "LITELLM_HEALTH_INTERVAL",
    "LITELLM_MAX_FAILURE_RATE",
    "LITELLM_FAILURE_WINDOW",
)


@pytest.fixture(autouse=True)
def llm_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No LLM, LiteLLM or proxy setting from the developer's environment."""
    for name in (*SETTINGS, *_LITELLM_PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITELLM_PRECHECK", "1")  # unset, the check is off under pytest (PYTEST_CURRENT_TEST)
    return monkeypatch


@pytest.fixture(scope="session")
def litellm_module():
    """litellm, imported once, quiet, with the local cost map."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx", "openai"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return litellm


@pytest.fixture
def endpoint(mock_llm, llm_env, litellm_module):
    """The MockLLM as the endpoint in effect (OPENAI_API_BASE and a key)."""
    llm_env.setenv("OPENAI_API_BASE", mock_llm.base_url)
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    return mock_llm


@pytest.fixture
def runtime_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Captured records of the runtime modules' loggers."""
    caplog.set_level(logging.DEBUG, logger="llmfix.codemods.runtime")
    yield caplog
