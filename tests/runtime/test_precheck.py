"""ensure_connection: one short request through the helper the generator awaits, before the first real one.

The helper is DR Tulu's run_litellm_async as patched (it swallows errors); real litellm against
MockLLM, a closed port, a stopped tinyproxy, all on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from unittest.mock import AsyncMock

import pytest
from runtime_support import (
    PASSWORD,
    PROBE,
    RUBRICS,
    generate_instance_wise_adaptive_rubrics,
    module_records,
    run,
    run_litellm_async,
)

from llmfix.codemods.runtime.litellm_utils import LiteLLMConnectionError, ensure_connection, route
from llmfix.proxy import closed_port

MODEL = "openai/m"


def check(model: str = MODEL, helper=run_litellm_async) -> None:
    run(ensure_connection(helper, model_name=model, user_prompt=PROBE))


def names(report: str, model: str, helper: str, cause: str) -> bool:
    """Whether the report's first line names the model, the helper and then the cause (in whatever words)."""
    return bool(
        re.match(
            rf"LiteLLM connection check .*{re.escape(repr(model))}.*{re.escape(helper)}.*{re.escape(cause)}", report
        )
    )


def check_records(caplog) -> list[logging.LogRecord]:
    return [r for r in module_records(caplog) if r.getMessage().startswith("LiteLLM connection check")]


def failed_check(model: str = MODEL, helper=run_litellm_async) -> tuple[str, float]:
    """The report of a check that must fail, and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(LiteLLMConnectionError) as raised:
        check(model, helper)
    return str(raised.value), time.monotonic() - started


@pytest.fixture
def refused(llm_env, endpoint):
    """The endpoint in effect is a loopback port where nothing listens."""
    port = closed_port()
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{port}/v1")
    return port


# --------------------------------------------------------------------------- pass and fail


def test_an_answering_endpoint_passes_with_one_short_request(endpoint):
    check()
    (request,) = endpoint.requests
    assert request["key"] == "m" and request["body"]["max_tokens"] == 1
    assert request["body"]["messages"] == [{"role": "user", "content": PROBE}]


@pytest.mark.parametrize("behaviour", ["empty", "null", "nochoices"])
def test_an_empty_answer_still_proves_the_connection(endpoint, behaviour):
    endpoint.plan("m", [behaviour])
    check()


def test_a_refused_endpoint_fails_fast_naming_everything(refused):
    report, seconds = failed_check()
    assert seconds < 3  # about 1.3 s: the check's 2 retries sleep about 0.5 s and 1 s on a refused connection
    first, where, *advice = report.splitlines()
    assert names(first, MODEL, "run_litellm_async", "ConnectionRefusedError: [Errno 111]"), first
    assert where == f"  endpoint http://127.0.0.1:{refused}/v1, proxy none"
    assert "LITELLM_PRECHECK=warn" in report and "off" in "".join(advice)


def test_a_dead_proxy_is_named_without_its_password(endpoint, llm_env, tinyproxy):
    tinyproxy.stop()
    llm_env.setenv("HTTP_PROXY", f"http://alice:{PASSWORD}@127.0.0.1:{tinyproxy.port}")
    report, seconds = failed_check()
    assert seconds < 3
    assert f"proxy http://alice:***@127.0.0.1:{tinyproxy.port}" in report
    assert f"endpoint {endpoint.base_url}" in report and f"('127.0.0.1', {tinyproxy.port})" in report
    assert PASSWORD not in report
    assert endpoint.total_attempts == 0


def test_through_a_live_proxy_the_check_passes(endpoint, llm_env, tinyproxy):
    llm_env.setenv("HTTP_PROXY", tinyproxy.url)
    check()
    assert endpoint.attempts("m") == 1 and "127.0.0.1" in tinyproxy.log_text()


def test_a_blackholed_endpoint_stops_at_the_precheck_timeout(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "0.5")
    endpoint.default = "hang"
    report, seconds = failed_check()
    assert 0.5 <= seconds < 2
    assert names(report, MODEL, "run_litellm_async", "no answer within 0.5 s (LITELLM_PRECHECK_TIMEOUT)"), report


def test_one_transient_failure_is_survived_by_the_two_retries(endpoint):
    endpoint.plan("m", ["500", "ok"])
    check()
    assert endpoint.attempts("m") == 2


def test_three_failures_are_not(endpoint):
    endpoint.plan("m", ["500", "500", "500", "ok"])
    report, _ = failed_check()
    assert "InternalServerError: Error code: 500" in report
    assert endpoint.attempts("m") == 3  # one request and its 2 retries


@pytest.mark.parametrize(
    ("base", "no_proxy", "expected"),
    [
        (None, None, "endpoint https://api.openai.com/v1 (the default), proxy http://alice:***@p.corp:3128"),
        ("http://h.example/v1", None, "endpoint http://h.example/v1, proxy http://alice:***@p.corp:3128"),
        ("http://h.example/v1", "h.example", "endpoint http://h.example/v1, proxy none"),
        ("http://[::1", "*", "endpoint http://[::1, proxy none"),  # malformed, shown as written; * bypasses all
        ("http://[::1", "h.example", "endpoint http://[::1, proxy http://alice:***@p.corp:3128"),
    ],
)
def test_the_route_names_the_proxy_in_effect(llm_env, base, no_proxy, expected):
    for name, value in (("OPENAI_API_BASE", base), ("no_proxy", no_proxy)):
        if value is not None:
            llm_env.setenv(name, value)
    llm_env.setenv("http_proxy", f"http://alice:{PASSWORD}@p.corp:3128")
    llm_env.setenv("https_proxy", f"http://alice:{PASSWORD}@p.corp:3128")
    assert route() == expected


# --------------------------------------------------------------------------- modes


def test_warn_mode_logs_once_and_goes_on(endpoint, llm_env, logs):
    llm_env.setenv("LITELLM_PRECHECK", "warn")
    endpoint.plan("m", ["401"])
    check()  # no raise
    (warning,) = check_records(logs)
    assert warning.levelno == logging.WARNING
    assert names(warning.getMessage(), MODEL, "run_litellm_async", "AuthenticationError: Error code: 401")


def test_warn_mode_warns_once_per_check_not_per_call(endpoint, llm_env, logs):
    llm_env.setenv("LITELLM_PRECHECK", "warn")
    endpoint.plan("m", ["401"])
    for _ in range(3):
        check()
    assert endpoint.attempts("m") == 1
    assert len(check_records(logs)) == 1


@pytest.mark.parametrize("mode", ["off", "0", "false", "no"])
def test_off_skips_the_check(refused, llm_env, mode):
    llm_env.setenv("LITELLM_PRECHECK", mode)
    check()
    check("openai/other")


def test_a_bad_setting_is_named_before_any_request(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "0")
    with pytest.raises(ValueError, match="LITELLM_PRECHECK_TIMEOUT"):
        check()
    assert endpoint.total_attempts == 0


# --------------------------------------------------------------------------- swallowing helpers


def test_a_swallowing_helper_cannot_hide_a_failed_check(endpoint):
    endpoint.default = "401"
    assert run(run_litellm_async(MODEL, user_prompt=PROBE)) == ""  # what the helper shows its caller
    report, _ = failed_check()
    assert "AuthenticationError: Error code: 401" in report


def test_an_untracked_swallowing_helper_cannot_either(endpoint):
    import litellm

    async def quiet(model_name, user_prompt, **chat_kwargs):
        try:
            response = await litellm.acompletion(
                model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs
            )
        except Exception:
            return ""
        return response.choices[0].message.content

    endpoint.default = "401"
    report, _ = failed_check(helper=quiet)
    assert names(
        report, MODEL, "test_an_untracked_swallowing_helper_cannot_either.<locals>.quiet", "AuthenticationError"
    )


def test_the_generator_raises_instead_of_returning_none(endpoint):
    endpoint.default = "401"
    started = time.monotonic()
    with pytest.raises(LiteLLMConnectionError, match="run_litellm_async.*AuthenticationError"):
        run(generate_instance_wise_adaptive_rubrics("q?", ["a"], model_name=MODEL))
    assert time.monotonic() - started < 3 and endpoint.attempts("m") == 1  # the check only, no real request


def test_the_generator_checks_once_then_asks(endpoint):
    endpoint.set_content("m", RUBRICS)
    for _ in range(3):
        assert run(generate_instance_wise_adaptive_rubrics("q?", ["a"], model_name=MODEL)) is not None
    assert endpoint.attempts("m") == 4  # 1 check + 3 real requests
    assert [r["body"].get("max_tokens") for r in endpoint.requests] == [1, None, None, None]


# --------------------------------------------------------------------------- caching and sharing


def test_success_is_cached_per_model(endpoint):
    check()
    check()
    check("openai/n")
    check("openai/n")
    assert (endpoint.attempts("m"), endpoint.attempts("n")) == (1, 1)


def test_a_failure_is_rechecked_after_the_recheck_delay(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_RECHECK", "0.3")
    endpoint.plan("m", ["401", "ok"])
    first, _ = failed_check()
    again, seconds = failed_check()  # the cached report, no request
    assert again == first and seconds < 0.5 and endpoint.attempts("m") == 1
    time.sleep(0.35)
    check()
    check()
    assert endpoint.attempts("m") == 2


def test_fifty_concurrent_callers_share_one_check(endpoint):
    endpoint.plan("m", ["slow:0.2"])

    async def callers():
        calls = (ensure_connection(run_litellm_async, model_name=MODEL, user_prompt=PROBE) for _ in range(50))
        return await asyncio.gather(*calls)

    assert run(callers()) == [None] * 50
    assert endpoint.attempts("m") == 1


def test_fifty_concurrent_callers_share_one_failure(endpoint):
    endpoint.plan("m", ["401"])

    async def callers():
        calls = (ensure_connection(run_litellm_async, model_name=MODEL, user_prompt=PROBE) for _ in range(50))
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = run(callers())
    assert all(isinstance(o, LiteLLMConnectionError) for o in outcomes)
    assert len({str(o) for o in outcomes}) == 1 and endpoint.attempts("m") == 1


def test_a_second_event_loop_uses_the_cached_success(endpoint):
    check()
    check()  # a new asyncio.run: a new loop
    assert endpoint.attempts("m") == 1


def test_a_second_event_loop_runs_its_own_recheck(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_RECHECK", "0")
    endpoint.plan("m", ["401", "ok"])
    failed_check()
    check()
    assert endpoint.attempts("m") == 2


def test_a_check_cut_short_by_its_loop_ending_is_redone_on_the_next(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK_TIMEOUT", "5")
    endpoint.plan("m", ["hang", "ok"])

    async def impatient():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ensure_connection(run_litellm_async, model_name=MODEL, user_prompt=PROBE), 0.2)

    started = time.monotonic()
    run(impatient())  # the loop ends with the check still waiting
    check()
    assert time.monotonic() - started < 3 and endpoint.attempts("m") == 2


# --------------------------------------------------------------------------- helpers that are not litellm


def test_a_mocked_helper_answers_the_check_without_network(refused):
    helper = AsyncMock(return_value="OK")
    check(helper=helper)
    helper.assert_awaited_once_with(model_name=MODEL, user_prompt=PROBE, max_tokens=1, num_retries=2)


def test_the_model_may_come_first_and_positional(endpoint):
    run(ensure_connection(run_litellm_async, MODEL, user_prompt=PROBE))
    run(ensure_connection(run_litellm_async, MODEL, user_prompt=PROBE))
    assert endpoint.attempts("m") == 1


@pytest.mark.parametrize("shape", ["AsyncMock", "partial"])
def test_a_failing_helper_without_a_qualname_is_reported(refused, shape):
    async def down(model_name, **kwargs):
        raise ConnectionError("down")

    helper = AsyncMock(side_effect=ConnectionError("down")) if shape == "AsyncMock" else functools.partial(down)
    report, _ = failed_check(helper=helper)
    assert "ConnectionError: down" in report
