"""What ``@litellm_utils.track_calls`` costs per call, against a mocked LiteLLM call.

    python bench/health_overhead.py            # about a minute
    python bench/health_overhead.py --quick    # a smoke run

The helpers are written the way llmfix patches DR Tulu's (``litellm_utils.log_failure`` in the
except, ``return litellm_utils.response_text(response)``); the call is
``litellm.acompletion`` / ``completion(..., mock_response=...)``: all of LiteLLM's own work, no
network. Times are CPU time of the process (``time.process_time``, every thread), not wall time:
the machine is shared. The decorator's cost has two parts, measured in interleaved rounds (medians):

- the decorator itself, around a function that returns at once (tracked vs plain);
- the LiteLLM callback it registers (``log_pre_api_call`` runs once per request), called directly.

Their sum is the cost; as a check, the helper with and without the decorator end to end (the
callback detached from LiteLLM for the plain rounds), whose difference is within the noise of a
mocked call on a loaded machine. Goal: the cost is under 1% of a mocked call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["LITELLM_HEALTH_INTERVAL"] = "0"  # no health lines in the timing
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import litellm  # noqa: E402
from llmfix.codemods.runtime import litellm_utils  # noqa: E402

MESSAGES = [{"role": "user", "content": "Write rubrics for this answer."}]
MODEL = "openai/gpt-4.1"


async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = await litellm.acompletion(model=model_name, messages=MESSAGES, mock_response="pong", **chat_kwargs)
    except Exception:
        litellm_utils.log_failure("run_litellm_async")
        return ""
    return litellm_utils.response_text(response)


def run_litellm(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, messages=MESSAGES, mock_response="pong", **chat_kwargs)
    except Exception:
        litellm_utils.log_failure("run_litellm")
        return ""
    return litellm_utils.response_text(response)


async def instant_async(model_name):
    return "pong"


def instant(model_name):
    return "pong"


CLOCK = time.process_time  # CPU seconds of this process, all its threads: the machine is shared, wall time is not ours


def per_call_async(function, calls: int) -> float:
    async def loop() -> float:
        start = CLOCK()
        for _ in range(calls):
            await function(MODEL)
        return (CLOCK() - start) / calls

    return asyncio.run(loop())


def per_call(function, calls: int) -> float:
    start = CLOCK()
    for _ in range(calls):
        function(MODEL)
    return (CLOCK() - start) / calls


def detach() -> None:
    """Take the health callback out of every LiteLLM callback list (the next tracked call puts it back)."""
    for event in litellm_utils._EVENTS:
        for name in dir(litellm):
            value = getattr(litellm, name, None)
            if isinstance(value, list):
                value[:] = [item for item in value if item is not event]


def paired(measure, plain, tracked, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per call of ``plain`` (callback detached) and ``tracked`` per round, alternating which runs first."""
    plains, trackeds = [], []
    for r in range(rounds):
        order = [(tracked, trackeds), (plain, plains)] if r % 2 else [(plain, plains), (tracked, trackeds)]
        for function, out in order:
            if function is plain:
                detach()
            out.append(measure(function, calls))
    return plains, trackeds


def callback_cost(calls: int, rounds: int) -> float:
    """Seconds per request of the callback's own work (``log_pre_api_call``), called directly."""
    litellm_utils._listen(litellm)
    event = litellm_utils._EVENTS[0]
    times = []
    for _ in range(rounds):
        start = CLOCK()
        for _ in range(calls):
            event.log_pre_api_call("gpt-4.1", MESSAGES, {})
        times.append((CLOCK() - start) / calls)
    return statistics.median(times)


def measure_all(calls: int, rounds: int) -> dict:
    litellm.suppress_debug_info = True
    per_call_async(run_litellm_async, 50)  # warm up LiteLLM's caches
    per_call(run_litellm, 50)
    figures: dict = {"calls": calls, "rounds": rounds, "helpers": {}}
    callbacks = callback_cost(calls * 20, rounds)
    for label, measure, helper, bare in (
        ("async helper", per_call_async, run_litellm_async, instant_async),
        ("sync helper", per_call, run_litellm, instant),
    ):
        plains, trackeds = paired(measure, helper, litellm_utils.track_calls(helper), calls, rounds)
        bare_plain, bare_tracked = paired(measure, bare, litellm_utils.track_calls(bare), calls * 20, rounds)
        call = statistics.median(plains)
        decorator = statistics.median(bare_tracked) - statistics.median(bare_plain)
        figures["helpers"][label] = {
            "mocked_call": call,
            "call_spread": [min(plains), max(plains)],
            "decorator": decorator,
            "callbacks": callbacks,
            "cost": decorator + callbacks,
            "ratio": (decorator + callbacks) / call,
            "end_to_end": statistics.median(trackeds) - call,
        }
    figures["worst_ratio"] = max(h["ratio"] for h in figures["helpers"].values())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (bench/run_all.py reads it)")
    args = parser.parse_args()
    figures = measure_all(*((100, 3) if args.quick else (1000, 11)))
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['calls']} calls x {figures['rounds']} rounds; medians, microseconds per call")
    for label, h in figures["helpers"].items():
        print(
            f"{label:13} mocked call {h['mocked_call'] * 1e6:8.1f} (spread {h['call_spread'][0] * 1e6:.0f}-{h['call_spread'][1] * 1e6:.0f}); "
            f"decorator {h['decorator'] * 1e6:.2f} + callback {h['callbacks'] * 1e6:.2f} = {h['ratio']:.2%}; end to end {h['end_to_end'] * 1e6:+.1f}"
        )
    worst = figures["worst_ratio"]
    print(f"goal: under 1% of a mocked call; measured at most {worst:.2%} -> {'met' if worst < 0.01 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
