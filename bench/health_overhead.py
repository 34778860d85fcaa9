"""What ``@litellm_utils.track_calls`` costs per call, against a mocked LiteLLM call.

    python bench/health_overhead.py            # about a minute
    python bench/health_overhead.py --quick    # a smoke run

The helpers are written the way llmfix patches DR Tulu's (``litellm_utils.log_failure`` in the
except, ``return litellm_utils.response_text(response)``); the call is
``litellm.acompletion`` / ``completion(..., mock_response=...)``: all of LiteLLM's own work, no
network. Times are CPU time of the process (``time.process_time``, every thread), not wall time:
the machine is shared. Each round runs the calls of each variant, the order rotating:

- ``detached``: the helper, the health callback out of LiteLLM's callback lists (LiteLLM as unpatched);
- ``attached``: the helper, the callback registered (what LiteLLM does for it on every request);
- ``tracked``: the helper under ``@litellm_utils.track_calls`` (which registers the callback).

The cost is the median over rounds of (tracked - detached), as a share of the median detached
call; (attached - detached) is LiteLLM's part of it. The decorator alone around a function that
returns at once is measured the same way. Goal: the cost is under 1% of a mocked call.
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


def rounds_of(measure, variants: dict, calls: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each variant per round, the order rotating each round. A variant named
    ``detached`` runs with the health callback out of LiteLLM's lists; ``attached`` with it in."""
    names, out = list(variants), {name: [] for name in variants}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name == "detached":
                detach()
            elif name == "attached":
                litellm_utils._listen(litellm)
            out[name].append(measure(variants[name], calls))
    return out


def paired(a: list[float], b: list[float]) -> float:
    """The median of the per-round differences a - b."""
    return statistics.median(x - y for x, y in zip(a, b))


def measure_all(calls: int, rounds: int) -> dict:
    litellm.suppress_debug_info = True
    per_call_async(run_litellm_async, 50)  # warm up LiteLLM's caches
    per_call(run_litellm, 50)
    figures: dict = {"calls": calls, "rounds": rounds, "helpers": {}}
    for label, measure, helper, bare in (
        ("async helper", per_call_async, run_litellm_async, instant_async),
        ("sync helper", per_call, run_litellm, instant),
    ):
        runs = rounds_of(measure, {"detached": helper, "attached": helper, "tracked": litellm_utils.track_calls(helper)}, calls, rounds)
        bare_runs = rounds_of(measure, {"plain": bare, "tracked": litellm_utils.track_calls(bare)}, calls * 20, rounds)
        call = statistics.median(runs["detached"])
        cost = paired(runs["tracked"], runs["detached"])
        figures["helpers"][label] = {
            "mocked_call": call,
            "call_spread": [min(runs["detached"]), max(runs["detached"])],
            "cost": cost,
            "ratio": cost / call,
            "callbacks": paired(runs["attached"], runs["detached"]),
            "decorator": paired(bare_runs["tracked"], bare_runs["plain"]),
            "runs": runs,
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
            f"with the decorator {h['cost'] * 1e6:+.1f} = {h['ratio']:.2%} (of it: LiteLLM calling the callback {h['callbacks'] * 1e6:+.1f}; "
            f"the decorator around an instant function {h['decorator'] * 1e6:+.1f})"
        )
    worst = figures["worst_ratio"]
    print(f"goal: under 1% of a mocked call; measured at most {worst:.2%} -> {'met' if worst < 0.01 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
