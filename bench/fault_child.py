"""One fault scenario in its own process (started by bench/faults.py; not run by hand).

    python bench/fault_child.py JOBS.json FOLDER

This process imports litellm once, warms it up, then forks one process per scenario
(each gets its own environment, MockLLM, litellm clients and precheck cache) and writes
``FOLDER/<name>.json`` and ``FOLDER/<name>.log`` per scenario. Each scenario names a checkout copy (unpatched, or after ``llmfix apply``), the environment
to run it in and what to do. This process starts a MockLLM on 127.0.0.1, points
OPENAI_API_BASE at it, imports the checkout's real run_utils/rubric_utils (parent packages
pre-registered empty, so no package ``__init__`` runs) and drives the real
``generate_instance_wise_adaptive_rubrics`` through litellm. What the checkout and litellm
print goes to the scenario's log file.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import sys
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == HERE:
    del sys.path[0]  # bench's own modules must not shadow the checkout's imports
RUBRIC_JSON = json.dumps(
    {
        "positive_rubrics": [{"title": "Cites sources", "description": "Names at least one checkable source."}],
        "negative_rubrics": [{"title": "Vague", "description": "Makes claims without any support."}],
    }
)
RESPONSES = ["Rayleigh scattering makes short wavelengths scatter more.", "The sky reflects the sea."]
MODELS = ("gpt-4.1", "gpt-4.1-mini")


def load_checkout(root: Path, files: dict[str, str]):
    """Import run_utils and rubric_utils from ``root`` without running any package __init__."""
    sys.path.insert(0, str(root))
    modules = {}
    for kind, rel in files.items():
        dotted = rel[:-3].replace("/", ".")
        parts = dotted.split(".")
        for depth in range(1, len(parts)):
            name = ".".join(parts[:depth])
            if name not in sys.modules:
                package = types.ModuleType(name)
                package.__path__ = [str(root.joinpath(*parts[:depth]))]
                sys.modules[name] = package
        modules[kind] = dotted
    run_utils = importlib.import_module(modules["run_utils"])
    rubric_utils = importlib.import_module(modules["rubric_utils"])
    return run_utils, rubric_utils


def chat_requests(server, since: float = 0.0) -> list[dict]:
    return [r for r in server.requests if r["path"].endswith("/chat/completions") and r["t"] >= since]


def prompt_of(request: dict) -> str:
    body = request.get("body") or {}
    messages = body.get("messages") or []
    return " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))


async def generate(rubric_utils, generator: str, question: str):
    """One call of the real generator; returns (outcome, seconds, error text)."""
    function = getattr(rubric_utils, generator)
    start = time.monotonic()
    try:
        result = await function(question, RESPONSES)
    except Exception as error:  # noqa: BLE001 - the patched generator raises on a failed precheck
        return "raised", time.monotonic() - start, f"{type(error).__name__}: {error}"
    return ("rubric" if result is not None else "none"), time.monotonic() - start, None


# --------------------------------------------------------------------------- scenarios


async def schedule(server, rubric_utils, generator, spec) -> dict:
    """K concurrent generator calls while every attempt is dropped: when does each attempt start?"""
    await generate(rubric_utils, generator, "warm-up")
    server.default = "drop"
    questions = [f"bench-call-{i}-" for i in range(spec["calls"])]
    t0 = time.monotonic()
    results = await asyncio.gather(*(generate(rubric_utils, generator, q) for q in questions))
    calls = []
    for question, (outcome, seconds, error) in zip(questions, results):
        attempts = [r for r in chat_requests(server, t0) if question in prompt_of(r)]
        times = [round(r["t"] - t0, 4) for r in attempts]
        calls.append({"outcome": outcome, "seconds": seconds, "attempts": times, "models": [r["key"] for r in attempts], "error": error})
    return {"calls": calls}


async def outage(server, rubric_utils, generator, spec) -> dict:
    """Refuse connections for W seconds from the start of one generator call, then recover."""
    await generate(rubric_utils, generator, "warm-up")
    width = spec["width"]
    server.refuse()
    t0 = time.monotonic()

    async def recover() -> None:
        await asyncio.sleep(max(0.0, width - (time.monotonic() - t0)))
        await asyncio.to_thread(server.accept)

    recovery = asyncio.ensure_future(recover())
    outcome, seconds, error = await generate(rubric_utils, generator, "bench-outage-")
    if not recovery.done():
        recovery.cancel()
    attempts = [round(r["t"] - t0, 4) for r in chat_requests(server, t0)]
    return {"width": width, "outcome": outcome, "seconds": seconds, "attempts_after_recovery": attempts, "error": error}


async def rubric_yield(server, rubric_utils, generator, spec) -> dict:
    """N generations; each attempt is dropped with probability p, else 5% of answers are empty."""
    await generate(rubric_utils, generator, "warm-up")
    rng = random.Random(spec["seed"])
    p_drop, p_empty = spec["drop"], spec["empty"]
    length = spec["generations"] * 40
    for model in MODELS:
        steps = []
        for _ in range(length):
            roll = rng.random()
            steps.append("drop" if roll < p_drop else ("empty" if rng.random() < p_empty else "ok"))
        server.plan(model, steps)
    gate = asyncio.Semaphore(spec["concurrency"])

    async def one(i: int):
        async with gate:
            return await generate(rubric_utils, generator, f"bench-yield-{i}-")

    t0 = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(spec["generations"])))
    wall = time.monotonic() - t0
    attempts = chat_requests(server, t0)
    return {
        "outcomes": [r[0] for r in results],
        "latencies": [r[1] for r in results],
        "wall": wall,
        "attempts": len(attempts),
        "attempts_by_behaviour": {b: sum(1 for r in attempts if r["behaviour"] == b) for b in ("drop", "empty", "ok")},
        "plan_length": length,
    }


async def failure(server, rubric_utils, generator, spec) -> dict:
    """Cold start against a broken path: how long until the first generator call gives up?

    Faults: ``blackhole`` (accepts, never answers), ``refused`` (connections refused
    throughout), ``refused-blip`` (refused for ``spec["blip"]`` seconds, then answering),
    ``drop-blip`` (every attempt reset for ``spec["blip"]`` seconds, then answering),
    ``deadproxy`` (set up by the job's proxy variables).
    """
    fault = spec["fault"]
    if fault == "blackhole":
        server.default = "hang"
    if fault == "drop-blip":
        server.default = "drop"
    if fault in ("refused", "refused-blip"):
        server.refuse()
    t0 = time.monotonic()
    recovery = None
    if fault.endswith("-blip"):

        async def recover() -> None:
            await asyncio.sleep(spec["blip"])
            if fault == "drop-blip":
                server.default = "ok"
            else:
                await asyncio.to_thread(server.accept)

        recovery = asyncio.ensure_future(recover())
    outcome, seconds, error = await generate(rubric_utils, generator, "bench-fail-")
    if recovery is not None and not recovery.done():
        recovery.cancel()
    attempts = [round(r["t"] - t0, 4) for r in chat_requests(server, t0)]
    return {"outcome": outcome, "seconds": seconds, "attempts": attempts, "error": error}


async def degradation(server, rubric_utils, generator, spec) -> dict:
    """Healthy generations, then an outage (each attempt dropped with probability p): how many
    generations, and how long, until the generator raises LiteLLMDegradedError (if ever)?

    ``healthy`` generations are answered first (the health ring fills with successes);
    then up to ``outage`` more are launched, ``concurrency`` at a time, while the mock drops
    each attempt with probability ``drop`` (seeded). The first LiteLLMDegradedError stops
    the launches and cancels what is in flight; so does ``deadline`` seconds of outage.
    """
    await generate(rubric_utils, generator, "warm-up")
    gate = asyncio.Semaphore(spec["concurrency"])

    async def healthy(i: int):
        async with gate:
            return await generate(rubric_utils, generator, f"bench-healthy-{i}-")

    before = await asyncio.gather(*(healthy(i) for i in range(spec["healthy"])))
    rng = random.Random(spec["seed"])
    for model in MODELS:
        server.plan(model, ["drop" if rng.random() < spec["drop"] else "ok" for _ in range(spec["outage"] * 40)])
    stop = asyncio.Event()
    finished: list[dict] = []
    t0 = time.monotonic()

    async def one(i: int) -> None:
        async with gate:
            if stop.is_set():
                return
            outcome, seconds, error = await generate(rubric_utils, generator, f"bench-outage-{i}-")
            degraded = outcome == "raised" and (error or "").startswith("LiteLLMDegradedError")
            finished.append({"t": round(time.monotonic() - t0, 3), "outcome": "degraded" if degraded else outcome, "error": (error or "")[:300]})
            if degraded:
                stop.set()

    tasks = [asyncio.ensure_future(one(i)) for i in range(spec["outage"])]
    everything = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({everything, stopped}, timeout=spec["deadline"], return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.monotonic() - t0
    in_flight = sum(1 for task in tasks if not task.done())
    for task in tasks:
        task.cancel()
    await asyncio.gather(everything, return_exceptions=True)
    stopped.cancel()
    first = next((i for i, f in enumerate(finished) if f["outcome"] == "degraded"), None)
    return {
        "healthy": {o: sum(1 for r in before if r[0] == o) for o in ("rubric", "none", "raised")},
        "finished": finished,
        "degraded_after": None if first is None else first + 1,
        "degraded_seconds": None if first is None else finished[first]["t"],
        "degraded_error": None if first is None else finished[first]["error"],
        "seconds": elapsed,
        "in_flight_at_stop": in_flight,
        "launched": spec["outage"],
        "hit_deadline": first is None and elapsed >= spec["deadline"] - 0.5,
    }


SCENARIOS = {"schedule": schedule, "outage": outage, "yield": rubric_yield, "failure": failure, "degradation": degradation}


def warm_up() -> float:
    """Import litellm and make one call and one failed call, so every fork starts warm.

    The first acompletion in a process pays for litellm's lazy imports (0.3 s to 1 s
    here); warming once in the zygote keeps that out of every scenario's timings. The
    client cache is flushed afterwards, so each fork builds its own clients (and reads
    its own proxy variables); no thread is left running, so forking is safe.
    """
    import litellm

    from llmfix.mockllm import MockLLM

    start = time.monotonic()
    with MockLLM() as server:
        request = {  # the scenarios' model: a known one takes a slower first-call path in litellm
            "model": "gpt-4.1",
            "api_base": server.base_url,
            "api_key": "sk-warm-up",
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
            "num_retries": 0,
            "timeout": 10,
        }

        async def calls() -> None:
            await litellm.acompletion(**request)
            server.default = "drop"
            try:  # one SDK retry: its first backoff sleep imports anyio's backend (0.4 s+)
                await litellm.acompletion(**{**request, "num_retries": 1})
            except Exception:  # noqa: BLE001 - the failure path is what we warm
                pass

        asyncio.run(calls())
    litellm.in_memory_llm_clients_cache.flush_cache()
    return time.monotonic() - start


def run_case(name: str, spec: dict, folder: Path) -> None:
    """In a fork: run one scenario and write ``<name>.json`` (output goes to ``<name>.log``)."""
    log = open(folder / f"{name}.log", "w", buffering=1)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    from llmfix.mockllm import MockLLM

    result: dict = {"scenario": spec}
    with MockLLM() as server:
        server.set_content("gpt-4.1", RUBRIC_JSON)
        server.set_content("gpt-4.1-mini", RUBRIC_JSON)
        os.environ["OPENAI_API_BASE"] = server.base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench-not-a-key"
        os.environ.update(spec.get("env", {}))
        t_import = time.monotonic()
        _, rubric_utils = load_checkout(Path(spec["root"]), spec["files"])
        result["import_seconds"] = time.monotonic() - t_import
        coroutine = SCENARIOS[spec["kind"]](server, rubric_utils, spec["generator"], spec)
        try:
            result.update(asyncio.run(asyncio.wait_for(coroutine, spec.get("limit", 300))))
        except Exception as error:  # noqa: BLE001 - reported, not raised
            result["crash"] = f"{type(error).__name__}: {error}"
    (folder / f"{name}.json").write_text(json.dumps(result))


def main() -> None:
    jobs: dict[str, dict] = json.loads(Path(sys.argv[1]).read_text())
    folder = Path(sys.argv[2])
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "no_proxy", "NO_PROXY"):
        os.environ.pop(name, None)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    sys.path.insert(0, str(REPO))
    zygote_log = open(folder / "zygote.log", "w", buffering=1)
    sys.stdout = sys.stderr = zygote_log
    t = time.monotonic()
    warm = warm_up()
    status = {"import_and_warm_up_seconds": time.monotonic() - t, "warm_up_seconds": warm, "cases": {}}
    children: dict[int, tuple[str, float]] = {}
    for name, spec in jobs.items():
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run_case(name, spec, folder)
            except BaseException as error:  # noqa: BLE001 - a fork must never return into the loop
                (folder / f"{name}.json").write_text(json.dumps({"scenario": spec, "crash": f"{type(error).__name__}: {error}"}))
                code = 1
            finally:
                os._exit(code)
        children[pid] = (name, time.monotonic() + spec.get("limit", 300) + 30)
    while children:
        for pid, (name, deadline) in list(children.items()):
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status["cases"][name] = os.waitstatus_to_exitcode(code)
                del children[pid]
            elif time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                status["cases"][name] = "killed at its time limit"
                del children[pid]
        time.sleep(0.05)
    (folder / "zygote.json").write_text(json.dumps(status))


if __name__ == "__main__":
    main()
