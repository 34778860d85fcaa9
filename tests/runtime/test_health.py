"""Health of LiteLLM calls: one outcome per call, summaries, and the degradation alarm.

The helpers below are written the way llmfix patches DR Tulu's: the fallbacks from the
environment, ``_log_litellm_failure`` first in the swallowing ``except``, the answer
through ``_litellm_response_text``, and ``@_litellm_tracked`` on each; real litellm
against MockLLM on 127.0.0.1 (or litellm's own ``mock_response`` where only the
bookkeeping is under test).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time

import litellm
import pytest

from llmfix.codemods.runtime import health
from llmfix.codemods.runtime.fallbacks import _fallback_models_from_env
from llmfix.codemods.runtime.health import (
    LiteLLMDegradedError,
    _litellm_tracked,
    litellm_health,
)
from llmfix.codemods.runtime.responses import (
    _LITELLM_CALL_NOTE,
    _litellm_response_text,
    _log_litellm_failure,
)
from llmfix.mockllm import MockLLM
from llmfix.proxy import closed_port

from runtime_support import PASSWORD, TEST_KEY, run

MESSAGES = [{"role": "user", "content": "Write rubrics."}]


@_litellm_tracked("run_litellm")
def run_litellm(model_name, user_prompt, system_prompt=None, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 0)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env([], model_name))
    try:
        response = litellm.completion(messages=MESSAGES, model=model_name, **chat_kwargs)
    except:  # noqa: E722 - DR Tulu's bare except
        _log_litellm_failure("run_litellm")
        return ""
    return _litellm_response_text(response, "run_litellm")


@_litellm_tracked("run_litellm_async")
async def run_litellm_async(model_name, user_prompt=None, system_prompt=None, messages=None, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 0)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", _fallback_models_from_env([], model_name))
    try:
        response = await litellm.acompletion(messages=messages or MESSAGES, model=model_name, **chat_kwargs)
    except Exception as e:
        _log_litellm_failure("run_litellm_async")
        print(f"Error in run_litellm_async: {e}")
        return ""
    return _litellm_response_text(response, "run_litellm_async")


@_litellm_tracked("run_chatopenai")
def run_chatopenai(model_name, system_prompt, user_prompt, json_mode=False, **chat_kwargs):
    resp = litellm.completion(model=model_name, messages=MESSAGES, num_retries=0, **chat_kwargs)
    return _litellm_response_text(resp, "run_chatopenai")


@_litellm_tracked("generate_instance_wise_adaptive_rubrics", raise_on_degraded=True)
async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None, model_name="openai/g"):
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question, **response_list)
        obj = json.loads(resp)
    except Exception:
        return None
    return obj


@_litellm_tracked("generate_old", raise_on_degraded=True)
async def generate_old(question, response_list, existing_rubrics=None):
    """G-old: no model parameter; the helper's call names it."""
    resp = await run_litellm_async(model_name="openai/old", user_prompt=question)
    return json.loads(resp) if resp else None


@pytest.fixture(autouse=True)
def fresh_health(llm_env):
    """No figures from other tests; summaries off unless a test turns them on."""
    health._LITELLM_HEALTH.clear()
    health._LITELLM_HEALTH_CLOCK.clear()
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "0")
    yield
    assert _LITELLM_CALL_NOTE.get() is None, "a tracked call left its note open"


def figures(function: str, model: str) -> dict:
    return litellm_health()[function][model]


def counts(function: str, model: str) -> tuple[int, int, int, int]:
    entry = figures(function, model)
    return entry["ok"], entry["fallback"], entry["empty"], entry["failed"]


# --------------------------------------------------------------------------- one outcome per call


def test_sync_helper_outcomes(endpoint, runtime_logs):
    endpoint.set_content("m", '{"rubric": 1}')
    endpoint.plan("m", ["ok", "null", "nochoices", "500", "ok"])
    results = [run_litellm("openai/m", "q") for _ in range(5)]
    assert results == ['{"rubric": 1}', "", "", "", '{"rubric": 1}']
    assert counts("run_litellm", "openai/m") == (2, 0, 2, 1)
    entry = figures("run_litellm", "openai/m")
    assert entry["latest_causes"]["InternalServerError"].startswith("InternalServerError: Error code: 500")
    assert entry["latest_causes"]["empty answer"] == "no choices"


def test_async_helper_outcomes(endpoint):
    endpoint.plan("m", ["ok", "empty", "drop"])

    async def calls():
        return [await run_litellm_async("openai/m", "q") for _ in range(3)]

    assert run(calls()) == ["pong", "", ""]
    assert counts("run_litellm_async", "openai/m") == (1, 0, 1, 1)
    assert figures("run_litellm_async", "openai/m")["causes"] == {"empty answer": 1, "ConnectionResetError": 1}


def test_a_raising_helper_is_recorded_and_its_error_left_alone(llm_env, litellm_module):
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(litellm.InternalServerError) as raised:
        run_chatopenai("openai/m", "system", "user")
    assert "Connection error" in str(raised.value)
    assert counts("run_chatopenai", "openai/m") == (0, 0, 0, 1)
    cause = figures("run_chatopenai", "openai/m")["latest_causes"]["ConnectionRefusedError"]
    assert cause.startswith("ConnectionRefusedError: [Errno 111]")


def test_an_answer_from_a_fallback_names_it(endpoint, llm_env):
    endpoint.default = "500"
    with MockLLM() as spare:
        spare.set_content("spare-model", '{"r": 2}')
        fallback = {"model": "openai/spare-model", "api_base": spare.base_url, "api_key": TEST_KEY}
        llm_env.setenv("LITELLM_FALLBACK_MODELS", json.dumps([fallback]))
        assert run(generate_instance_wise_adaptive_rubrics("q", {}, model_name="openai/m")) == {"r": 2}
        assert spare.attempts("spare-model") == 1
    assert counts("run_litellm_async", "openai/m") == (0, 1, 0, 0)
    assert counts("generate_instance_wise_adaptive_rubrics", "openai/m") == (0, 1, 0, 0)


# --------------------------------------------------------------------------- nesting


def test_a_generator_that_returns_none_because_its_helper_failed_is_failed(llm_env, litellm_module):
    llm_env.setenv("OPENAI_API_KEY", TEST_KEY)
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    assert run(generate_instance_wise_adaptive_rubrics("q", {})) is None
    assert counts("generate_instance_wise_adaptive_rubrics", "openai/g") == (0, 0, 0, 1)
    outer = figures("generate_instance_wise_adaptive_rubrics", "openai/g")["latest_causes"]
    inner = figures("run_litellm_async", "openai/g")["latest_causes"]
    assert outer == inner and list(outer) == ["ConnectionRefusedError"]


def test_nested_outcomes_reach_the_generator(endpoint):
    endpoint.set_content("g", '{"ok": true}')
    endpoint.plan("g", ["ok", "null", "ok"])
    endpoint.set_content("old", "not json")

    async def calls():
        results = [await generate_instance_wise_adaptive_rubrics("q", {}) for _ in range(3)]
        with pytest.raises(json.JSONDecodeError):
            await generate_old("q", [])
        return results

    assert run(calls()) == [{"ok": True}, None, {"ok": True}]
    assert counts("generate_instance_wise_adaptive_rubrics", "openai/g") == (2, 0, 1, 0)
    # G-old has no model parameter: the model the inner call reported
    assert counts("generate_old", "openai/old") == (0, 0, 0, 1)
    assert list(figures("generate_old", "openai/old")["causes"]) == ["JSONDecodeError"]


def test_none_or_empty_returned_without_a_note_is_empty():
    @_litellm_tracked("parse")
    def parse(text, model="m"):
        return json.loads(text) if text else None

    parse("")
    parse("1")
    assert counts("parse", "m") == (1, 0, 1, 0)
    assert figures("parse", "m")["latest_causes"] == {"empty answer": "returned None"}


def test_cancellation_is_not_an_outcome():
    @_litellm_tracked("slow")
    async def slow(model_name):
        await asyncio.sleep(10)

    async def cancel():
        task = asyncio.ensure_future(slow("m"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel())
    assert litellm_health() == {}


def test_model_from_positional_keyword_and_default_arguments():
    @_litellm_tracked("f")
    def f(prompt, model_name="default-model", **kw):
        return "x"

    @_litellm_tracked("g")
    def g(prompt, *rest, model="keyword-only"):
        return "x"

    f("p")
    f("p", "positional")
    f("p", model_name="keyword")
    g("p", "not", "the", "model")
    assert set(litellm_health()["f"]) == {"default-model", "positional", "keyword"}
    assert set(litellm_health()["g"]) == {"keyword-only"}


# --------------------------------------------------------------------------- many threads and tasks


def test_thread_concurrency_totals_are_exact(litellm_module):
    @_litellm_tracked("judge")
    def judge(model_name, i):
        answer = "" if i % 4 == 0 else "yes"
        response = litellm.completion(model=model_name, messages=MESSAGES, mock_response=answer)
        return _litellm_response_text(response, "judge")

    def worker(t: int) -> None:
        for i in range(100):
            judge(f"openai/m{t % 2}", i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert counts("judge", "openai/m0") == (600, 0, 200, 0)
    assert counts("judge", "openai/m1") == (600, 0, 200, 0)


def test_task_concurrency_totals_are_exact(litellm_module):
    @_litellm_tracked("helper")
    async def helper(model_name, i):
        if i % 5 == 0:
            try:
                raise ConnectionResetError(104, "Connection reset by peer")
            except Exception:
                _log_litellm_failure("helper")
                return ""
        response = await litellm.acompletion(model=model_name, messages=MESSAGES, mock_response=f"{i}")
        return _litellm_response_text(response, "helper")

    @_litellm_tracked("generator", raise_on_degraded=True)
    async def generator(i, model_name="openai/m"):
        await asyncio.sleep(0)
        return await helper(model_name, i) or None

    async def many():
        return await asyncio.gather(*(generator(i) for i in range(500)))

    results = run(many())
    assert sum(r is None for r in results) == 100
    assert counts("helper", "openai/m") == (400, 0, 0, 100)
    assert counts("generator", "openai/m") == (400, 0, 0, 100)  # each task's own note


def test_memory_is_a_fixed_ring(llm_env):
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")

    @_litellm_tracked("f")
    def f(model_name, i):
        raise TimeoutError(f"attempt {i} timed out")

    for i in range(1000):
        with pytest.raises(TimeoutError):
            f("m", i)
    (entry,) = health._LITELLM_HEALTH.values()
    assert len(entry.window) == entry.window.maxlen == 10
    assert entry.causes == {"TimeoutError": 1000}
    assert entry.latest == {"TimeoutError": "TimeoutError: attempt 999 timed out"}
    assert figures("f", "m")["window"] == 10 and figures("f", "m")["window_failure_rate"] == 1.0


# --------------------------------------------------------------------------- summaries


SUMMARY = re.compile(r"LiteLLM health, last (\d+) s: (\S+) (\S+): (.*)")


def summaries(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, str, str, str]]:
    out = []
    for record in caplog.records:
        match = SUMMARY.fullmatch(record.getMessage())
        if match and record.name == "llmfix.codemods.runtime.health":
            out.append((record.levelname, *match.groups()))
    return out


def test_summary_line_format_and_interval(endpoint, llm_env, runtime_logs, dead_proxy_url):
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "1")
    with MockLLM() as spare:
        fallback = {"model": "openai/spare", "api_base": spare.base_url, "api_key": TEST_KEY}
        llm_env.setenv("LITELLM_FALLBACK_MODELS", json.dumps([fallback]))
        endpoint.plan("m", ["ok", "ok", "ok", "nochoices", "500"])
        for _ in range(5):  # 3 ok, 1 empty, 1 answered by the fallback
            run_litellm("openai/m", "q")
    llm_env.delenv("LITELLM_FALLBACK_MODELS")
    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    llm_env.setenv("http_proxy", dead_proxy_url.replace("http://", f"http://alice:{PASSWORD}@"))
    run_litellm("openai/m", "q")  # fails through the dead proxy
    assert summaries(runtime_logs) == []  # the interval has not passed
    time.sleep(1.05)  # let it pass
    run_litellm("openai/m", "q")  # fails again, and reports
    ((level, seconds, function, model, figures_text),) = summaries(runtime_logs)
    assert (level, seconds, function, model) == ("WARNING", "1", "run_litellm", "openai/m")
    shown = dead_proxy_url.replace("http://", "http://alice:***@")
    assert re.fullmatch(
        r"3 ok, 2 failed \(28\.6%, ConnectionRefusedError: \[Errno 111\] .* via proxy " + re.escape(shown) + r"\), "
        r"1 empty \(14\.3%\), 1 answered by fallback spare",
        figures_text,
    ), figures_text
    assert PASSWORD not in runtime_logs.text
    run_litellm("openai/m", "q")  # the next interval starts empty
    assert len(summaries(runtime_logs)) == 1
    assert counts("run_litellm", "openai/m") == (3, 1, 1, 3)


def test_a_healthy_summary_is_info(llm_env, runtime_logs, litellm_module):
    llm_env.setenv("LITELLM_HEALTH_INTERVAL", "0.2")

    @_litellm_tracked("judge")
    def judge(model_name):
        response = litellm.completion(model=model_name, messages=MESSAGES, mock_response="yes")
        return _litellm_response_text(response, "judge")

    judge("openai/m")
    time.sleep(0.25)  # let the interval pass
    judge("openai/m")
    assert [s[0] for s in summaries(runtime_logs)] == ["INFO"]
    assert summaries(runtime_logs)[0][4] == "2 ok"


# --------------------------------------------------------------------------- the alarm


def flaky(model: str, pattern: list[bool]):
    """A tracked generator over a helper whose calls fail where ``pattern`` is True."""
    calls = iter(pattern)

    @_litellm_tracked("helper")
    async def helper(model_name):
        if next(calls):
            try:
                raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
            except Exception:
                _log_litellm_failure("helper")
                return ""
        return '{"r": 1}'

    @_litellm_tracked("rubrics", raise_on_degraded=True)
    async def rubrics(model_name=model):
        text = await helper(model_name)
        return json.loads(text) if text else None

    return rubrics


def test_the_alarm_raises_within_the_window_at_60_percent(llm_env):
    llm_env.setenv("LITELLM_MAX_FAILURE_RATE", "0.2")
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")
    llm_env.setenv("OPENAI_API_BASE", "https://openrouter.ai/api/v1")
    llm_env.setenv("https_proxy", f"http://alice:{PASSWORD}@proxy.corp:3128")
    rubrics = flaky("gpt-4.1", [True, True, False, True, False] * 4)

    async def calls():
        outcomes = []
        for _ in range(20):
            try:
                outcomes.append(await rubrics())
            except LiteLLMDegradedError as error:
                outcomes.append(error)
        return outcomes

    outcomes = run(calls())
    assert not any(isinstance(o, LiteLLMDegradedError) for o in outcomes[:9])  # the window fills first
    error = outcomes[9]
    assert isinstance(error, LiteLLMDegradedError)
    message = str(error)
    assert message.splitlines()[0] == (
        "LiteLLM calls are failing: 6 of the last 10 calls of rubrics with gpt-4.1 failed or came back empty "
        "(60% > LITELLM_MAX_FAILURE_RATE=0.2)"
    )
    assert "most often (6): ConnectionRefusedError: [Errno 111]" in message
    assert "endpoint https://openrouter.ai/api/v1 (OPENAI_API_BASE)" in message
    assert message.splitlines()[-1] == (
        "  endpoint https://openrouter.ai/api/v1 (OPENAI_API_BASE), proxy http://alice:***@proxy.corp:3128"
    )
    assert PASSWORD not in message
    assert all(isinstance(o, LiteLLMDegradedError) for o in outcomes[9:])
    assert sum(litellm_health()["rubrics"]["gpt-4.1"][k] for k in ("ok", "failed")) == 20  # all recorded


def test_helpers_only_record(llm_env):
    llm_env.setenv("LITELLM_MAX_FAILURE_RATE", "0.2")
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")

    @_litellm_tracked("helper")
    def helper(model_name):
        try:
            raise ConnectionResetError(104, "reset")
        except Exception:
            _log_litellm_failure("helper")
            return ""

    assert [helper("m") for _ in range(30)] == [""] * 30
    assert figures("helper", "m")["window_failure_rate"] == 1.0


def test_the_alarm_never_raises_unset(llm_env):
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")
    rubrics = flaky("gpt-4.1", [True] * 50)

    async def calls():
        return [await rubrics() for _ in range(50)]

    assert run(calls()) == [None] * 50
    assert figures("rubrics", "gpt-4.1")["failed"] == 50


def test_recovery_stops_the_alarm(llm_env):
    llm_env.setenv("LITELLM_MAX_FAILURE_RATE", "0.2")
    llm_env.setenv("LITELLM_FAILURE_WINDOW", "10")
    rubrics = flaky("gpt-4.1", [True] * 10 + [False] * 20)

    async def calls():
        raised = []
        for _ in range(30):
            try:
                await rubrics()
                raised.append(False)
            except LiteLLMDegradedError:
                raised.append(True)
        return raised

    raised = run(calls())
    # degraded from the 10th call until at most 2 of the last 10 failed (the 18th call)
    assert raised == [False] * 9 + [True] * 8 + [False] * 13


def test_litellm_health_figures():
    @_litellm_tracked("f")
    def f(model_name, fail):
        if fail:
            raise ValueError("bad")
        return "x"

    for fail in (False, False, True, False):
        try:
            f("m", fail)
        except ValueError:
            pass
    assert litellm_health() == {
        "f": {
            "m": {
                "ok": 3,
                "fallback": 0,
                "empty": 0,
                "failed": 1,
                "failure_rate": 0.25,
                "window": 4,
                "window_failure_rate": 0.25,
                "causes": {"ValueError": 1},
                "latest_causes": {"ValueError": "ValueError: bad"},
            }
        }
    }


def test_tracked_keeps_the_functions_face():
    assert run_litellm_async.__name__ == "run_litellm_async"
    assert asyncio.iscoroutinefunction(run_litellm_async) and not asyncio.iscoroutinefunction(run_litellm)
    import inspect

    assert list(inspect.signature(run_chatopenai).parameters)[:3] == ["model_name", "system_prompt", "user_prompt"]
    logging.getLogger(__name__).debug("ok")
