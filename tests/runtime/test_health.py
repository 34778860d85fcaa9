"""track_calls with LiteLLM's callbacks, health(), the periodic health line and the alarm.

Helpers that raise, swallow (return "") or get an empty answer, sync and async, as the patched
code has them; the judge's hand retry loop; a generator awaiting a helper. Real litellm, MockLLM.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import sys

import pytest
from runtime_support import (
    PASSWORD,
    RUBRICS,
    TEST_KEY,
    LMJudgeVerifier,
    generate_instance_wise_adaptive_rubrics,
    module_records,
    run,
    run_chatopenai,
    run_litellm,
    run_litellm_async,
    run_litellm_async_raw,
)

from llmfix.codemods.runtime import litellm_utils
from llmfix.codemods.runtime.litellm_utils import LiteLLMDegradedError, health, track_calls

MODEL = "openai/m"  # MockLLM's key, and LiteLLM's own name for it: "m"
SERVER_ERROR = "InternalServerError: Error code: 500 - The server had an error while processing your request."
MESSAGES = [{"role": "user", "content": "Reply with OK."}]


def figures(ok=0, failed=0, empty=0, causes=None):
    """A function's entry in health() when every call so far is in the window."""
    calls = ok + failed + empty
    rate = (failed + empty) / calls
    return {"ok": ok, "failed": failed, "empty": empty, "window_failure_rate": rate, "causes": causes or {}}


def requests_of(model: str = "m") -> dict:
    return health()["LiteLLM requests"][model]


# --------------------------------------------------------------------------- one call: ok, failed, empty


SYNC = {"raises": run_chatopenai, "swallows": run_litellm}
ASYNC = {"raises": run_litellm_async_raw, "swallows": run_litellm_async}


def call(helper, is_async: bool):
    if helper is run_chatopenai:
        return helper(MODEL, "You are terse.", "Reply with OK.")
    if helper is run_litellm:
        return helper(MODEL, "Reply with OK.")
    if helper is run_litellm_async_raw:
        return run(helper(MODEL, MESSAGES))
    return run(helper(MODEL, user_prompt="Reply with OK."))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("shape", ["raises", "swallows"])
def test_a_failed_request_counts_as_failed(endpoint, is_async, shape):
    helper = (ASYNC if is_async else SYNC)[shape]
    endpoint.plan("m", ["500"])
    if shape == "raises":
        import litellm

        with pytest.raises(litellm.InternalServerError):  # the helper's own error, untouched
            call(helper, is_async)
    else:
        assert call(helper, is_async) == ""
    assert health()[helper.__qualname__] == {MODEL: figures(failed=1, causes={"InternalServerError": SERVER_ERROR})}
    assert requests_of()["sent"] == 1 and requests_of()["failed"] == 1
    assert requests_of()["causes"] == {"InternalServerError": SERVER_ERROR}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("shape", ["raises", "swallows"])
@pytest.mark.parametrize("behaviour", ["empty", "null", "nochoices"])
def test_an_empty_answer_counts_as_empty(endpoint, is_async, shape, behaviour):
    helper = (ASYNC if is_async else SYNC)[shape]
    endpoint.plan("m", [behaviour])
    assert call(helper, is_async) == ""
    assert health()[helper.__qualname__] == {MODEL: figures(empty=1)}
    assert requests_of()["sent"] == 1 and requests_of()["failed"] == 0


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("shape", ["raises", "swallows"])
def test_an_answer_counts_as_ok(endpoint, is_async, shape):
    helper = (ASYNC if is_async else SYNC)[shape]
    assert call(helper, is_async) == "pong"
    assert health()[helper.__qualname__] == {MODEL: figures(ok=1)}
    assert requests_of() == {"sent": 1, "failed": 0, "window_failure_rate": 0.0, "causes": {}}


def test_a_fallback_that_answers_makes_the_call_ok(endpoint):
    endpoint.plan("m", ["500"])
    assert run_litellm(MODEL, "Reply with OK.", fallbacks=["openai/backup"]) == "pong"
    assert health()["run_litellm"] == {MODEL: figures(ok=1)}
    assert (requests_of("m")["sent"], requests_of("m")["failed"]) == (1, 1)
    assert (requests_of("backup")["sent"], requests_of("backup")["failed"]) == (1, 0)


def test_calls_without_litellm_are_counted_too(litellm_module):
    """A tracked function that fails before any request, and one that raises its own error."""

    @track_calls
    def parse(model_name, text):
        return int(text)

    assert parse("m", "3") == 3
    with pytest.raises(ValueError):
        parse("m", "three")
    assert health()[parse.__qualname__]["m"] == figures(
        ok=1, failed=1, causes={"ValueError": "ValueError: invalid literal for int() with base 10: 'three'"}
    )


# --------------------------------------------------------------------------- the judge's hand retry loop


def test_a_judge_returning_its_default_after_failures_counts_as_failed(endpoint, logs):
    endpoint.plan("judge", ["500", "500", "500"])
    judge = LMJudgeVerifier("openai/judge")
    result = run(judge.async_call([], "Paris", "Paris", "Capital of France?"))
    assert (result.score, judge.attempts, endpoint.attempts("judge")) == (0.0, 3, 3)
    assert result.reasoning.startswith("Error: litellm.InternalServerError")
    assert health()["LMJudgeVerifier.async_call"] == {
        "judge": figures(failed=1, causes={"InternalServerError": SERVER_ERROR})
    }


def test_a_judge_answering_on_its_second_attempt_counts_as_ok(endpoint):
    endpoint.plan("judge", ["500", "ok"])
    endpoint.set_content("judge", "1.0")
    judge = LMJudgeVerifier("openai/judge")
    result = run(judge.async_call([], "Paris", "Paris", "Capital of France?"))
    assert (result.score, judge.attempts) == (1.0, 2)
    assert health()["LMJudgeVerifier.async_call"] == {"judge": figures(ok=1)}
    assert (requests_of("judge")["sent"], requests_of("judge")["failed"]) == (2, 1)


# --------------------------------------------------------------------------- nested calls, cancelled calls


def generate(model: str = MODEL):
    return run(generate_instance_wise_adaptive_rubrics("q?", ["a", "b"], model_name=model))


def test_a_swallowed_failure_reaches_the_generator(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK", "off")
    endpoint.plan("m", ["500"])
    assert generate() is None
    failed = figures(failed=1, causes={"InternalServerError": SERVER_ERROR})
    assert health()["run_litellm_async"] == {MODEL: failed}
    assert health()["generate_instance_wise_adaptive_rubrics"] == {MODEL: failed}


def test_an_empty_answer_reaches_the_generator_as_empty(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK", "off")
    endpoint.plan("m", ["empty"])
    assert generate() is None
    assert health()["generate_instance_wise_adaptive_rubrics"] == {MODEL: figures(empty=1)}


def test_a_generator_whose_helper_answers_is_ok(endpoint, llm_env):
    llm_env.setenv("LITELLM_PRECHECK", "off")
    endpoint.set_content("m", RUBRICS)
    assert generate()["rubrics"][0]["description"] == "cites a source"
    assert health()["generate_instance_wise_adaptive_rubrics"] == {MODEL: figures(ok=1)}


def test_a_later_answer_clears_an_earlier_failure_in_the_same_call(endpoint):
    """A hand loop around a swallowing helper: the last request decides."""

    @track_calls
    async def twice(model_name):
        first = await run_litellm_async(model_name, user_prompt="1")
        return first or await run_litellm_async(model_name, user_prompt="2")

    endpoint.plan("m", ["500", "ok"])
    assert run(twice(MODEL)) == "pong"
    assert health()[twice.__qualname__] == {MODEL: figures(ok=1)}
    assert health()["run_litellm_async"][MODEL]["failed"] == 1


def test_a_cancelled_call_is_not_counted(endpoint):
    endpoint.plan("m", ["hang"])

    async def give_up():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(run_litellm_async(MODEL, user_prompt="Reply with OK."), 0.2)

    run(give_up())
    assert "run_litellm_async" not in health()
    assert (requests_of()["sent"], requests_of()["failed"]) == (1, 0)


def test_an_interrupted_call_is_not_counted():
    @track_calls
    def interrupted(model_name):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted("m")
    assert health() == {}


# --------------------------------------------------------------------------- health() and the health line


def test_health_shape(endpoint):
    endpoint.plan("m", ["ok", "500", "empty", "ok"])
    for _ in range(4):
        run_litellm(MODEL, "Reply with OK.")
    endpoint.plan("n", ["ok"])
    run(run_litellm_async("openai/n", user_prompt="Reply with OK."))
    report = health()
    assert report.keys() == {"run_litellm", "run_litellm_async", "LiteLLM requests"}
    assert report["run_litellm"] == {
        MODEL: {
            "ok": 2,
            "failed": 1,
            "empty": 1,
            "window_failure_rate": 0.5,
            "causes": {"InternalServerError": SERVER_ERROR},
        }
    }
    assert report["run_litellm_async"] == {"openai/n": figures(ok=1)}
    requests = report["LiteLLM requests"]
    assert requests.keys() == {"m", "n"}
    for model, sent, failed in (("m", 4, 1), ("n", 1, 0)):
        assert requests[model].keys() == {"sent", "failed", "window_failure_rate", "causes"}
        assert (requests[model]["sent"], requests[model]["failed"]) == (sent, failed)


def test_request_window_failure_rate_is_the_share_of_failed_requests(endpoint):
    endpoint.default = "500"
    for _ in range(4):
        run_litellm(MODEL, "Reply with OK.")
    assert requests_of()["window_failure_rate"] == 1.0


def health_lines(caplog) -> list[tuple[int, str]]:
    """(level, text) of the health lines logged, their interval's seconds shown as N."""
    texts = [(r.levelno, r.getMessage()) for r in module_records(caplog)]
    return [
        (level, re.sub(r"^LiteLLM health, last \d+ s", "LiteLLM health, last N s", text))
        for level, text in texts
        if text.startswith("LiteLLM health")
    ]


def line_about(caplog, subject: str) -> tuple[int, str]:
    """The one health line about ``subject`` ("run_litellm openai/m", "LiteLLM requests m")."""
    (line,) = [(level, text) for level, text in health_lines(caplog) if f" {subject}: " in text]
    return line


def intervals(caplog) -> set[int]:
    """The seconds the health lines logged say they cover."""
    return {
        int(re.match(r"LiteLLM health, last (\d+) s", r.getMessage())[1])
        for r in module_records(caplog)
        if r.getMessage().startswith("LiteLLM health")
    }


def test_health_lines_each_interval(endpoint, llm_env, logs):
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "300")
    endpoint.plan("m", ["500", "ok", "ok", "ok"])
    run_litellm(MODEL, "Reply with OK.")
    run_litellm(MODEL, "Reply with OK.")
    assert health_lines(logs) == []  # not due yet
    litellm_utils._CLOCK[0] -= 301  # the interval has passed
    run_litellm(MODEL, "Reply with OK.")
    # due at the third call's request, before its own outcome is in: that one opens the next interval
    assert intervals(logs) <= set(range(301, 304))
    level, text = line_about(logs, f"run_litellm {MODEL}")
    assert level == logging.WARNING and all(part in text for part in ("1 failed", "1 ok", SERVER_ERROR)), text
    level, text = line_about(logs, "LiteLLM requests m")
    assert level == logging.WARNING and all(part in text for part in ("1 failed", "3 sent", SERVER_ERROR)), text
    logs.clear()
    litellm_utils._CLOCK[0] -= 301
    run_litellm(MODEL, "Reply with OK.")
    level, text = line_about(logs, f"run_litellm {MODEL}")
    assert level == logging.INFO and "1 ok" in text and "failed" not in text, text
    level, text = line_about(logs, "LiteLLM requests m")
    assert level == logging.INFO and "1 sent" in text and "failed" not in text, text


def test_a_small_interval_logs_in_real_time(endpoint, llm_env, logs):
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "0.05")
    endpoint.plan("m", ["500"])
    run_litellm(MODEL, "Reply with OK.")
    run(asyncio.sleep(0.06))
    run_litellm(MODEL, "Reply with OK.")
    lines = [text for level, text in health_lines(logs) if f"run_litellm {MODEL}" in text]
    assert lines and all(level == logging.WARNING for level, text in health_lines(logs) if "failed" in text)


def test_no_health_lines_when_the_interval_is_zero(endpoint, llm_env, logs):
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "0")
    endpoint.plan("m", ["500", "ok"])
    litellm_utils._CLOCK[0] -= 10**6
    run_litellm(MODEL, "Reply with OK.")
    run_litellm(MODEL, "Reply with OK.")
    assert health_lines(logs) == []


def test_the_health_line_names_the_latest_cause(endpoint, llm_env, logs):
    endpoint.plan("m", ["500", "401", "500"])
    for _ in range(3):
        run_litellm(MODEL, "Reply with OK.")
    litellm_utils._CLOCK[0] -= 301
    endpoint.plan("m", ["500"])
    run_litellm(MODEL, "Reply with OK.")
    _, line = line_about(logs, f"run_litellm {MODEL}")
    assert SERVER_ERROR in line and "AuthenticationError" not in line, line


# --------------------------------------------------------------------------- the alarm


@pytest.fixture
def alarm(endpoint, llm_env, tinyproxy):
    """LITELLM_MAX_FAILURE_RATE=0.2 over the last 10 calls, requests through a proxy with a password."""
    llm_env.setenv("LITELLM_MAX_FAILURE_RATE", "0.2")
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")
    llm_env.setenv("LITELLM_PRECHECK", "off")
    llm_env.setenv("HTTP_PROXY", f"http://alice:{PASSWORD}@127.0.0.1:{tinyproxy.port}")
    endpoint.set_content("m", RUBRICS)
    return endpoint


def test_the_alarm_past_the_failure_rate(alarm, tinyproxy):
    alarm.plan("m", ["ok"] * 8 + ["500", "500", "500", "ok", "500"])
    for _ in range(8):
        assert generate() is not None
    assert generate() is None  # 1 of 9
    assert generate() is None  # 2 of the last 10: 20% is not more than 20%
    with pytest.raises(LiteLLMDegradedError) as raised:
        generate()  # 3 of the last 10
    message = str(raised.value)
    for part in (
        "3 of the last 10 calls",  # the rate
        "generate_instance_wise_adaptive_rubrics",
        MODEL,
        "LITELLM_MAX_FAILURE_RATE=0.2",
        SERVER_ERROR,  # the last cause
        f"endpoint {alarm.base_url}, proxy http://alice:***@127.0.0.1:{tinyproxy.port}",  # the route, redacted
    ):
        assert part in message, (part, message)
    assert PASSWORD not in message and TEST_KEY not in message
    assert raised.value.__cause__ is None  # the generator swallowed the error: nothing to chain
    assert generate() is not None  # an answer is never stopped, whatever the window
    with pytest.raises(LiteLLMDegradedError, match="4 of the last 10 calls"):
        generate()
    assert "127.0.0.1" in tinyproxy.log_text()


def test_the_alarm_chains_a_raised_error(alarm):
    @track_calls(raise_on_degraded=True)
    async def strict(model_name):
        return await run_litellm_async_raw(model_name, MESSAGES)

    import litellm

    alarm.plan("m", ["500"] * 10)
    for _ in range(9):
        with pytest.raises(litellm.InternalServerError):
            run(strict(MODEL))
    with pytest.raises(LiteLLMDegradedError) as raised:
        run(strict(MODEL))
    assert isinstance(raised.value.__cause__, litellm.InternalServerError)
    assert "10 of the last 10 calls of" in str(raised.value)


def test_no_alarm_without_raise_on_degraded(alarm):
    alarm.default = "500"
    for _ in range(12):
        assert run(run_litellm_async(MODEL, user_prompt="Reply with OK.")) == ""
    assert health()["run_litellm_async"][MODEL]["failed"] == 12


def test_no_alarm_when_the_rate_is_unset(endpoint, llm_env):
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "2")
    llm_env.setenv("LITELLM_PRECHECK", "off")
    endpoint.default = "500"
    for _ in range(4):
        assert generate() is None


def test_an_empty_answer_counts_toward_the_alarm(alarm):
    alarm.plan("m", ["empty"] * 10)
    for _ in range(9):
        assert generate() is None
    with pytest.raises(LiteLLMDegradedError, match="10 of the last 10 calls"):
        generate()


def test_the_alarm_on_empty_answers_says_what_came_back(alarm):
    alarm.plan("m", ["empty"] * 10)
    for _ in range(9):
        generate()
    with pytest.raises(LiteLLMDegradedError) as raised:
        generate()
    assert "last: None" not in str(raised.value) and "empty" in str(raised.value).split("; last: ")[1]


# --------------------------------------------------------------------------- many at once


def test_200_concurrent_calls_at_half_failure_give_exact_totals(endpoint, llm_env):
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "1000")
    endpoint.plan("m", ["ok", "500"] * 100)

    async def fan_out():
        return await asyncio.gather(*(run_litellm_async(MODEL, user_prompt=f"{i}") for i in range(200)))

    answers = run(fan_out())
    assert sorted(answers) == [""] * 100 + ["pong"] * 100
    assert health()["run_litellm_async"] == {
        MODEL: figures(ok=100, failed=100, causes={"InternalServerError": SERVER_ERROR})
    }
    assert (requests_of()["sent"], requests_of()["failed"]) == (200, 100)
    assert endpoint.attempts("m") == 200


# --------------------------------------------------------------------------- litellm imported by the helper


def test_the_first_call_of_a_lazy_helper_is_counted(endpoint, monkeypatch):
    litellm = sys.modules["litellm"]
    for name, value in vars(litellm).copy().items():  # as in a process that never registered the callbacks
        if isinstance(value, list) and any(entry in litellm_utils._EVENTS for entry in value):
            monkeypatch.setattr(litellm, name, [entry for entry in value if entry not in litellm_utils._EVENTS])
    monkeypatch.delitem(sys.modules, "litellm")  # ... and has not imported litellm yet
    import_module = importlib.import_module

    def importing(name, package=None):  # an import of litellm (by the helper or the support module) brings it back
        return _get_litellm() if name == "litellm" else import_module(name, package)

    monkeypatch.setattr(importlib, "import_module", importing)

    def _get_litellm():
        sys.modules["litellm"] = litellm  # stands for `import litellm` (already loaded: no 3 s wait)
        return litellm

    @track_calls
    def lazy_run_litellm(model_name, user_prompt, **chat_kwargs):
        client = _get_litellm()
        try:
            response = client.completion(model=model_name, messages=MESSAGES, num_retries=0, **chat_kwargs)
        except Exception:
            return ""
        return litellm_utils.response_text(response)

    endpoint.plan("m", ["500"])
    assert lazy_run_litellm(MODEL, "Reply with OK.") == ""
    assert health()[lazy_run_litellm.__qualname__][MODEL]["failed"] == 1
