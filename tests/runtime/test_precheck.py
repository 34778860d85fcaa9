"""The connection check, with real litellm against MockLLM (and tinyproxy) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import pytest

from llmfix.codemods.runtime import precheck
from llmfix.codemods.runtime.precheck import (
    LiteLLMConnectionError,
    _litellm_precheck_targets,
    check_litellm_connection,
    ensure_litellm_connection,
)
from llmfix.mockllm import MockLLM
from llmfix.proxy import closed_port

from runtime_support import PASSWORD, TEST_KEY, run

SLACK = 1.0  # the check's own allowance over LITELLM_PRECHECK_TIMEOUT (asyncio.wait_for)


@pytest.fixture(autouse=True)
def fresh_checks():
    """Each test starts with no cached verdict and nothing warned."""
    for state in (precheck._LITELLM_PRECHECK_RESULTS, precheck._LITELLM_PRECHECK_RUNNING, precheck._LITELLM_PRECHECK_WARNED):
        state.clear()
    yield


def ensure(model: str) -> float:
    """Run ensure_litellm_connection on a fresh event loop; the seconds it took."""
    started = time.monotonic()
    run(ensure_litellm_connection(model))
    return time.monotonic() - started


def failing(model: str) -> tuple[str, float]:
    """The report of an ensure_litellm_connection that must raise, and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(LiteLLMConnectionError) as raised:
        run(ensure_litellm_connection(model))
    return str(raised.value), time.monotonic() - started


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.endswith("precheck") and "retry in" in r.getMessage()]


# --------------------------------------------------------------------------- a blip is survived


@pytest.mark.parametrize("blip", ["500", "drop", "429"])
def test_one_transient_failure_then_ok_passes(endpoint, runtime_logs, blip):
    endpoint.retry_after = 0
    endpoint.plan("m", [blip, "ok"])
    ensure("openai/m")
    assert endpoint.attempts("m") == 2
    (retry,) = retries_logged(runtime_logs)
    assert retry.startswith("LiteLLM check of openai/m: ")


def test_retry_after_is_obeyed(endpoint, runtime_logs):
    endpoint.retry_after = 1
    endpoint.plan("m", ["429", "ok"])
    assert ensure("openai/m") >= 1.0
    assert endpoint.attempts("m") == 2
    assert retries_logged(runtime_logs)[0].endswith("retry in 1.0s")


def test_backoff_doubles_between_attempts(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "10")
    endpoint.plan("m", ["500", "500", "500", "ok"])
    ensure("openai/m")
    times = [r["t"] for r in endpoint.requests if r["key"] == "m"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3 and [round(g * 2) / 2 for g in gaps] == [0.5, 1.0, 2.0], gaps


def test_persistent_500_raises_within_the_budget(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "2")
    endpoint.default = "500"
    report, took = failing("openai/m")
    assert took < 2 + SLACK
    assert endpoint.attempts("m") >= 3  # 0, 0.5 and 1.5 s
    assert "InternalServerError: Error code: 500" in report and "out of time" in report


def test_hang_raises_within_the_budget(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "1.5")
    endpoint.default = "hang"
    report, took = failing("openai/m")
    assert 1.5 <= took < 1.5 + SLACK + 0.5
    assert endpoint.attempts("m") == 1
    assert "Timeout" in report


# --------------------------------------------------------------------------- definitive failures


def test_refused_raises_at_once(llm_env, litellm_module, runtime_logs):
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    report, took = failing("openai/m")  # the budget is the default 30 s
    assert took < 10 and not retries_logged(runtime_logs)
    assert "ConnectionRefusedError: [Errno 111]" in report


@pytest.mark.parametrize(("behaviour", "cause"), [("401", "AuthenticationError"), ("404", "NotFoundError")])
def test_http_errors_that_retrying_cannot_fix_raise_at_once(endpoint, runtime_logs, behaviour, cause):
    endpoint.default = behaviour
    report, _ = failing("openai/m")
    assert endpoint.attempts("m") == 1 and not retries_logged(runtime_logs)
    assert f"openai/m: {cause}: Error code: {behaviour}" in report


def test_untrusted_tls_certificate_raises_at_once(tls_mock_llm, llm_env, litellm_module, runtime_logs):
    llm_env.setenv("OPENAI_API_BASE", tls_mock_llm.base_url)
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    report, _ = failing("openai/m")
    assert "SSLCertVerificationError" in report and not retries_logged(runtime_logs)


# --------------------------------------------------------------------------- the verdict is kept


def test_success_is_cached_per_process_and_model(endpoint):
    ensure("openai/m")
    ensure("openai/m")  # another event loop, same process
    assert endpoint.attempts("m") == 1
    ensure("openai/other")
    assert endpoint.attempts("other") == 1


def test_a_failure_is_checked_again_after_the_recheck_interval(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_RECHECK", "0.5")
    endpoint.plan("m", ["401", "ok"])
    first, _ = failing("openai/m")
    second, took = failing("openai/m")  # inside the interval: the cached report, at once
    assert second == first and endpoint.attempts("m") == 1
    time.sleep(0.6)  # let the interval pass
    ensure("openai/m")  # the endpoint recovered: the run goes on
    ensure("openai/m")
    assert endpoint.attempts("m") == 2


def test_concurrent_callers_share_one_check(endpoint):
    endpoint.plan("m", ["slow:0.3"])
    endpoint.plan("bad", ["401"])

    async def many() -> list[object]:
        calls = [ensure_litellm_connection("openai/m") for _ in range(20)]
        calls += [ensure_litellm_connection("openai/bad") for _ in range(20)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = run(many())
    assert results[:20] == [None] * 20
    assert all(isinstance(r, LiteLLMConnectionError) for r in results[20:])
    assert endpoint.attempts("m") == 1 and endpoint.attempts("bad") == 1


def test_one_event_loop_per_worker_thread(endpoint):
    endpoint.default = "slow:0.2"
    errors: list[BaseException] = []

    def worker() -> None:
        try:  # plain asyncio.run: closing LiteLLM's clients would cut the other threads' calls
            asyncio.run(ensure_litellm_connection("openai/m"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert 1 <= endpoint.attempts("m") <= 4  # a check in flight on another loop is not shared
    ensure("openai/m")
    assert endpoint.attempts("m") <= 4  # but its verdict is


# --------------------------------------------------------------------------- fallbacks


def test_a_fallback_that_answers_is_enough(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "1.5")
    endpoint.default = "hang"
    with MockLLM() as spare:
        fallback = f'[{{"model": "openai/spare", "api_base": "{spare.base_url}", "api_key": "{TEST_KEY}"}}]'
        llm_env.setenv("LITELLM_FALLBACK_MODELS", fallback)
        assert ensure("openai/m") < 1.5  # it did not wait for the hanging primary
        assert spare.attempts("spare") == 1


def test_a_blackholed_endpoint_costs_one_timeout_not_one_per_model(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "1.5")
    llm_env.setenv("LITELLM_FALLBACK_MODELS", "openai/f1,openai/f2")
    endpoint.default = "hang"
    report, took = failing("openai/m")
    assert took < 1.5 + SLACK + 0.5
    assert [endpoint.attempts(k) for k in ("m", "f1", "f2")] == [1, 1, 1]
    assert "  openai/f1: " in report and "  openai/f2: " in report


def test_targets_are_the_model_and_the_fallbacks_named_in_the_environment(llm_env):
    assert _litellm_precheck_targets("gpt-4.1") == ["gpt-4.1"]
    llm_env.setenv("LITELLM_FALLBACK_MODELS", "gpt-4.1, gpt-4.1-mini")
    assert _litellm_precheck_targets("gpt-4.1") == ["gpt-4.1", "gpt-4.1-mini"]
    llm_env.setenv("LITELLM_FALLBACK_MODELS", '["gpt-4.1", "gpt-4.1-mini", {"model": "x"}]')
    assert _litellm_precheck_targets("gpt-4.1") == ["gpt-4.1", "gpt-4.1-mini", {"model": "x"}]


# --------------------------------------------------------------------------- the report


def test_the_report_names_endpoint_proxies_model_and_causes(mock_llm, llm_env, litellm_module, dead_proxy_url):
    proxy = dead_proxy_url.replace("http://", f"http://alice:{PASSWORD}@")
    llm_env.setenv("OPENAI_API_BASE", mock_llm.base_url)
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("http_proxy", proxy)
    llm_env.setenv("no_proxy", "example.com")
    spare = f"http://bob:Sp4reSecret@127.0.0.1:{closed_port()}/v1"
    llm_env.setenv("LITELLM_FALLBACK_MODELS", f'[{{"model": "openai/spare", "api_base": "{spare}", "api_key": "k"}}]')
    report, _ = failing("openai/m")
    lines = report.splitlines()
    assert lines[0] == "LiteLLM connection check failed for model 'openai/m'"
    assert lines[1] == (
        f"  endpoint {mock_llm.base_url} (OPENAI_API_BASE), proxy {dead_proxy_url.replace('http://', 'http://alice:***@')}"
    )
    assert lines[2].startswith("  openai/m: ConnectionRefusedError: [Errno 111]")
    assert lines[3].startswith(f"  openai/spare at {spare.replace('Sp4reSecret', '***')}: ")
    assert "LITELLM_PRECHECK=warn" in lines[-1]
    assert PASSWORD not in report and "Sp4reSecret" not in report


def test_openai_base_url_wins_over_openai_api_base(mock_llm, llm_env, litellm_module):
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    llm_env.setenv("OPENAI_BASE_URL", mock_llm.base_url)
    ensure("openai/m")  # LiteLLM calls OPENAI_BASE_URL
    assert mock_llm.attempts("m") == 1
    mock_llm.default = "401"
    report, _ = failing("openai/n")
    assert f"endpoint {mock_llm.base_url} (OPENAI_BASE_URL)" in report


def test_a_proxys_error_text_is_redacted(llm_env, litellm_module, tinyproxy):
    """tinyproxy answers the tunnel to a closed port with 500; aiohttp quotes the proxy URL."""
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "1")
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("OPENAI_API_BASE", f"https://127.0.0.1:{closed_port()}/v1")
    llm_env.setenv("https_proxy", tinyproxy.url.replace("http://", f"http://alice:{PASSWORD}@"))
    report, _ = failing("openai/m")
    assert "ClientHttpProxyError: 500" in report and "url='http://alice:***@127.0.0.1:" in report
    assert PASSWORD not in report


# --------------------------------------------------------------------------- modes and the plain check


@pytest.mark.parametrize("off", ["0", "false", "No", " off "])
def test_precheck_off_makes_no_request(endpoint, llm_env, off):
    llm_env.setenv("LITELLM_PRECHECK", off)
    endpoint.default = "401"
    ensure("openai/m")
    assert endpoint.attempts("m") == 0


def test_unset_under_pytest_the_check_is_off(endpoint, llm_env):
    """A unit test's mocks answer for the helpers, not the network: no request, no raise."""
    llm_env.delenv("LITELLM_PRECHECK")
    assert "PYTEST_CURRENT_TEST" in os.environ
    endpoint.default = "401"
    ensure("openai/m")
    assert endpoint.attempts("m") == 0
    llm_env.setenv("LITELLM_PRECHECK", "1")  # asked for explicitly, it runs
    with pytest.raises(LiteLLMConnectionError):
        ensure("openai/m")
    assert endpoint.attempts("m") == 1


def test_warn_logs_once_per_model_and_goes_on(endpoint, llm_env, runtime_logs):
    llm_env.setenv("LITELLM_PRECHECK", "warn")
    endpoint.default = "401"
    for model in ("openai/m", "openai/m", "openai/n"):
        ensure(model)
    warnings = [r for r in runtime_logs.records if r.levelno == logging.WARNING]
    assert [w.getMessage().splitlines()[0] for w in warnings] == [
        "LiteLLM connection check failed for model 'openai/m'",
        "LiteLLM connection check failed for model 'openai/n'",
    ]


def test_check_litellm_connection(endpoint, llm_env):
    endpoint.plan("m", ["500", "ok", "401"])
    assert run(check_litellm_connection("openai/m", timeout=5)) is True
    assert run(check_litellm_connection("openai/m")) is False  # not cached: the 401
    assert endpoint.attempts("m") == 3
    llm_env.setenv("RUBRIC_GENERATION_MODEL", "openai/g")
    assert run(check_litellm_connection()) is True
    assert endpoint.attempts("g") == 1


def test_a_bad_number_names_the_variable(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "thirty")
    with pytest.raises(ValueError, match="^LITELLM_PRECHECK_TIMEOUT must be a number$"):
        run(ensure_litellm_connection("openai/m"))
