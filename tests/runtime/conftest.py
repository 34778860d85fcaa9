"""Tests of the support module (litellm_utils): a clean environment, fresh module state, real litellm.

Every test starts with none of the variables the module reads set (LITELLM_*, OPENAI_*, the
proxy variables), with no health counts and no cached connection check.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Iterator

import pytest
from runtime_support import TEST_KEY

from llmfix.codemods.runtime import litellm_utils

# everything the module reads from the environment, and what LiteLLM reads besides
MODULE_VARIABLES = (
    *litellm_utils._LIMITS,
    "LITELLM_FALLBACK_MODELS",
    "LITELLM_PRECHECK",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
)
PROXY_VARIABLES = tuple(
    case(f"{scheme}_proxy") for scheme in ("http", "https", "all", "no") for case in (str.lower, str.upper)
)
OTHER_VARIABLES = (
    "OPENAI_API_KEY",
    "RUBRIC_GENERATION_MODEL",
    "RUBRIC_JUDGE_MODEL",
    "SSL_CERT_FILE",
    "REQUEST_METHOD",
)


@pytest.fixture(autouse=True)
def llm_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the module's, LiteLLM's or the proxy variables from the developer's environment."""
    for name in (*MODULE_VARIABLES, *PROXY_VARIABLES, *OTHER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    """No health counts, no cached or running connection check, a new health interval."""
    litellm_utils._STATS.clear()
    litellm_utils._CHECKS.clear()
    litellm_utils._CLOCK[0] = time.monotonic()
    yield
    litellm_utils._STATS.clear()
    litellm_utils._CHECKS.clear()


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
    """The MockLLM as the endpoint in effect, with no retries and a short timeout by default."""
    llm_env.setenv("OPENAI_API_BASE", mock_llm.base_url)
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("LITELLM_NUM_RETRIES", "0")
    llm_env.setenv("LITELLM_DEFAULT_TIMEOUT", "5")
    return mock_llm


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captured records of the support module's logger (INFO and up)."""
    caplog.set_level(logging.INFO, logger=litellm_utils.logger.name)
    return caplog
