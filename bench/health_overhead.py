"""What ``@_litellm_tracked`` costs per call, against a mocked LiteLLM call.

    python bench/health_overhead.py            # about 30 s
    python bench/health_overhead.py --quick    # about 10 s (most of it importing litellm)

The helper is written the way llmfix patches DR Tulu's ``run_litellm_async`` (the
call, ``_log_litellm_failure`` in the except, ``_litellm_response_text``); the call is
``litellm.acompletion(..., mock_response=...)``: all of LiteLLM's own work, no network.
Measured three ways, in interleaved rounds (medians):

- the helper with and without the decorator: the difference, as a share of the call;
- the decorator alone around a function that returns at once: its absolute cost;
- the same for the sync helper (``litellm.completion``).

Goal: the decorator adds under 1% to a mocked call (a real call over the network costs
100 to 10,000 times more than a mocked one).
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
REPO = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import litellm  # noqa: E402
from llmfix.codemods.runtime.health import _litellm_tracked  # noqa: E402
from llmfix.codemods.runtime.responses import (  # noqa: E402
    _litellm_response_text,
    _log_litellm_failure,
)

MESSAGES = [{"role": "user", "content": "Write rubrics for this answer."}]


async def run_litellm_async(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = await litellm.acompletion(model=model_name, messages=MESSAGES, mock_response="pong", **chat_kwargs)
    except Exception:
        _log_litellm_failure("run_litellm_async")
        return ""
    return _litellm_response_text(response, "run_litellm_async")


def run_litellm(model_name, user_prompt=None, **chat_kwargs):
    try:
        response = litellm.completion(model=model_name, messages=MESSAGES, mock_response="pong", **chat_kwargs)
    except Exception:
        _log_litellm_failure("run_litellm")
        return ""
    return _litellm_response_text(response, "run_litellm")


async def instant_async(model_name):
    return "pong"


def instant(model_name):
    return "pong"


def per_call_async(function, calls: int) -> float:
    async def loop() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            await function("openai/gpt-4.1")
        return (time.perf_counter() - start) / calls

    return asyncio.run(loop())


def per_call(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function("openai/gpt-4.1")
    return (time.perf_counter() - start) / calls


def paired(measure, plain, tracked, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per call of ``plain`` and ``tracked`` per round, alternating which runs first."""
    plains, trackeds = [], []
    for r in range(rounds):
        order = [(tracked, trackeds), (plain, plains)] if r % 2 else [(plain, plains), (tracked, trackeds)]
        for function, out in order:
            out.append(measure(function, calls))
    return plains, trackeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (bench/run_all.py reads it)")
    args = parser.parse_args()
    calls, rounds = (100, 3) if args.quick else (1000, 11)
    litellm.suppress_debug_info = True
    os.environ["LITELLM_HEALTH_INTERVAL"] = "0"  # no summary lines in the timing

    def tracked(function, name):
        return _litellm_tracked(name)(function)

    per_call_async(run_litellm_async, 50)  # warm up LiteLLM's caches
    per_call(run_litellm, 50)
    figures = {"calls": calls, "rounds": rounds, "helpers": {}}
    for label, measure, helper, bare in (
        ("async helper", per_call_async, run_litellm_async, instant_async),
        ("sync helper", per_call, run_litellm, instant),
    ):
        plains, trackeds = paired(measure, helper, tracked(helper, "helper"), calls, rounds)
        bare_plain, bare_tracked = paired(measure, bare, tracked(bare, "instant"), calls * 20, rounds)
        call = statistics.median(plains)
        cost = statistics.median(bare_tracked) - statistics.median(bare_plain)
        figures["helpers"][label] = {
            "mocked_call": call,
            "with_decorator": statistics.median(trackeds),
            "call_min": min(plains),
            "call_max": max(plains),
            "decorator": cost,
            "ratio": cost / call,
            "within_spread": abs(statistics.median(trackeds) - call) <= max(plains) - min(plains),
        }
    figures["worst_ratio"] = max(h["ratio"] for h in figures["helpers"].values())
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{calls} calls x {rounds} rounds; medians, microseconds per call")
    print(f"{'':13} {'mocked call':>12} {'+ decorator':>12} {'(spread)':>18} {'decorator':>10} {'ratio':>7}")
    for label, h in figures["helpers"].items():
        spread = f"{h['call_min'] * 1e6:.0f}-{h['call_max'] * 1e6:.0f}"
        print(
            f"{label:13} {h['mocked_call'] * 1e6:12.1f} {h['with_decorator'] * 1e6:12.1f} {spread:>18} "
            f"{h['decorator'] * 1e6:10.2f} {h['ratio']:7.2%}"
        )
    print("decorator: the decorator alone around a function that returns at once; ratio: decorator / mocked call")
    if all(h["within_spread"] for h in figures["helpers"].values()):
        print("(with and without the decorator, the helper differs by less than the mocked call's own spread)")
    worst = figures["worst_ratio"]
    print(f"goal: under 1% of a mocked call; measured at most {worst:.2%} -> {'met' if worst < 0.01 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
