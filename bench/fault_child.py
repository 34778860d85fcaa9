"""One process per fault scenario (bench/faults.py and bench/health.py start it).

    python bench/fault_child.py JOBS.json FOLDER

A zygote imports and warms litellm once, then forks one child per job. Each child starts a
MockLLM on 127.0.0.1, points OPENAI_API_BASE at it, imports the checkout's real modules
(parent packages pre-registered empty, so no package ``__init__`` runs) and drives the real
rubric generator (-> ``run_litellm_async`` -> ``litellm.acompletion``) or the real
``LMJudgeVerifier.async_call`` (-> ``acompletion``). Output goes to ``<job>.log``, the
result to ``<job>.json``. Nothing leaves the loopback.
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

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == HERE:
    del sys.path[0]  # bench's own modules must not shadow the checkout's imports
RUBRIC_JSON = json.dumps(
    {
        "positive_rubrics": [{"title": "Cites sources", "description": "Names at least one checkable source."}],
        "negative_rubrics": [{"title": "Vague", "description": "Makes claims without any support."}],
    }
)
JUDGE_JSON = json.dumps({"REASONING": "Matches the reference.", "SCORE": 8})
RESPONSES = ["Rayleigh scattering makes short wavelengths scatter more.", "The sky reflects the sea."]
MODELS = ("gpt-4.1", "gpt-4.1-mini")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "no_proxy", "NO_PROXY")


def load_module(root: Path, rel: str):
    """Import ``rel`` (a path under ``root``) without running any package ``__init__``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    parts = rel[:-3].split("/")
    for depth in range(1, len(parts)):
        name = ".".join(parts[:depth])
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(root.joinpath(*parts[:depth]))]
            sys.modules[name] = package
    if parts[0] == "open_instruct" and "open_instruct.utils" not in sys.modules:
        try:  # upstream's open_instruct/utils.py imports torch: a judge module needs only its answer extractor
            importlib.import_module("open_instruct.utils")
        except ImportError:
            sys.modules["open_instruct.utils"] = types.SimpleNamespace(extract_final_answer=lambda text: text)
    return importlib.import_module(".".join(parts))


def chat_requests(server, since: float = 0.0) -> list[dict]:
    return [r for r in server.requests if r["path"].endswith("/chat/completions") and r["t"] >= since]


def prompt_of(request: dict) -> str:
    messages = (request.get("body") or {}).get("messages") or []
    return " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))


def caller(spec: dict):
    """``one(tag) -> (outcome, seconds, error)``: one call of the real generator or the real judge."""
    root = Path(spec["root"])
    if spec.get("judge"):
        judges = load_module(root, spec["judge"])
        verifier = judges.LMJudgeVerifier("reference", judges.LMJudgeVerifierConfig())
        judged = lambda result: "zero" if result.score == 0.0 else "scored"  # noqa: E731
    else:
        load_module(root, spec["files"]["run_utils"])
        generator = getattr(load_module(root, spec["files"]["rubric_utils"]), spec["generator"])
        judged = lambda result: "rubric" if result is not None else "none"  # noqa: E731

    async def one(tag: str):
        start = time.monotonic()
        try:
            if spec.get("judge"):
                result = await verifier.async_call([], "Paris.", "Paris", f"What is the capital of France? {tag}")
            else:
                result = await generator(tag, RESPONSES)
        except Exception as error:  # noqa: BLE001 - the patched code raises on a failed precheck or past the alarm
            return "raised", time.monotonic() - start, f"{type(error).__name__}: {error}"
        return judged(result), time.monotonic() - start, None

    return one


def drop_plan(server, rng: random.Random, share: float, length: int) -> None:
    for model in MODELS:
        server.plan(model, ["drop" if rng.random() < share else "ok" for _ in range(length)])


# --------------------------------------------------------------------------- scenarios


async def schedule(server, one, spec) -> dict:
    """K concurrent calls while every attempt is dropped: when does each attempt start?"""
    await one("warm-up")
    server.default = "drop"
    tags = [f"bench-call-{i}-" for i in range(spec["calls"])]
    t0 = time.monotonic()
    results = await asyncio.gather(*(one(tag) for tag in tags))
    calls = []
    for tag, (outcome, seconds, error) in zip(tags, results):
        attempts = [r for r in chat_requests(server, t0) if tag in prompt_of(r)]
        calls.append(
            {
                "outcome": outcome,
                "seconds": seconds,
                "attempts": [round(r["t"] - t0, 4) for r in attempts],
                "models": [r["key"] for r in attempts],
                "error": error,
            }
        )
    return {"calls": calls}


async def outage(server, one, spec) -> dict:
    """Refuse connections for W seconds from the start of one call, then recover."""
    await one("warm-up")
    server.refuse()
    t0 = time.monotonic()

    async def recover() -> None:
        await asyncio.sleep(max(0.0, spec["width"] - (time.monotonic() - t0)))
        await asyncio.to_thread(server.accept)

    recovery = asyncio.ensure_future(recover())
    outcome, seconds, error = await one("bench-outage-")
    recovery.cancel()
    return {"width": spec["width"], "outcome": outcome, "seconds": seconds, "error": error}


async def rubric_yield(server, one, spec) -> dict:
    """N calls; each attempt is dropped with probability p, else 5% of answers are empty."""
    await one("warm-up")
    rng = random.Random(spec["seed"])
    for model in MODELS:
        steps = []
        for _ in range(spec["generations"] * 40):
            steps.append("drop" if rng.random() < spec["drop"] else ("empty" if rng.random() < spec["empty"] else "ok"))
        server.plan(model, steps)
    gate = asyncio.Semaphore(spec["concurrency"])

    async def gated(i: int):
        async with gate:
            return await one(f"bench-yield-{i}-")

    t0 = time.monotonic()
    results = await asyncio.gather(*(gated(i) for i in range(spec["generations"])))
    attempts = chat_requests(server, t0)
    return {
        "outcomes": [r[0] for r in results],
        "latencies": [r[1] for r in results],
        "wall": time.monotonic() - t0,
        "attempts": len(attempts),
        "attempts_by_behaviour": {b: sum(1 for r in attempts if r["behaviour"] == b) for b in ("drop", "empty", "ok")},
    }


async def failure(server, one, spec) -> dict:
    """Cold start against a broken path (``blackhole``: accepts, never answers; ``deadproxy``: set up by
    the job's proxy variables; ``drop``: every connection reset): how long until the first call gives up?"""
    server.default = {"blackhole": "hang", "drop": "drop"}.get(spec["fault"], "ok")
    t0 = time.monotonic()
    found = []
    for i in range(spec.get("calls", 1)):
        outcome, seconds, error = await one(f"bench-fail-{i}-")
        requests = [r for r in chat_requests(server, t0) if f"bench-fail-{i}-" in prompt_of(r)]
        found.append({"outcome": outcome, "seconds": seconds, "requests": len(requests), "error": error})
    attempts = [round(r["t"] - t0, 4) for r in chat_requests(server, t0)]
    return {**found[0], "calls": found, "attempts": attempts}


async def degradation(server, one, spec) -> dict:
    """``healthy`` answered calls, then an outage (each attempt dropped with probability ``drop``):
    how many calls, and how long, until the code raises LiteLLMDegradedError (if ever)? The first
    alarm stops the launches and cancels what is in flight; so does ``deadline`` seconds of outage."""
    await one("warm-up")
    gate = asyncio.Semaphore(spec["concurrency"])

    async def gated(tag: str):
        async with gate:
            return await one(tag)

    before = await asyncio.gather(*(gated(f"bench-healthy-{i}-") for i in range(spec["healthy"])))
    drop_plan(server, random.Random(spec["seed"]), spec["drop"], spec["outage"] * 40)
    stop, finished, t0 = asyncio.Event(), [], time.monotonic()

    async def launched(i: int) -> None:
        async with gate:
            if stop.is_set():
                return
            outcome, seconds, error = await one(f"bench-outage-{i}-")
            degraded = outcome == "raised" and (error or "").startswith("LiteLLMDegradedError")
            finished.append({"t": round(time.monotonic() - t0, 3), "outcome": "degraded" if degraded else outcome, "error": (error or "")[:300]})
            if degraded:
                stop.set()

    tasks = [asyncio.ensure_future(launched(i)) for i in range(spec["outage"])]
    everything = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({everything, stopped}, timeout=spec["deadline"], return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.monotonic() - t0
    for task in tasks:
        task.cancel()
    await asyncio.gather(everything, return_exceptions=True)
    stopped.cancel()
    first = next((i for i, f in enumerate(finished) if f["outcome"] == "degraded"), None)
    return {
        "healthy": {o: sum(1 for r in before if r[0] == o) for o in sorted({r[0] for r in before})},
        "finished": finished,
        "alarm_after": None if first is None else first + 1,
        "alarm_seconds": None if first is None else finished[first]["t"],
        "alarm_error": None if first is None else finished[first]["error"],
        "seconds": elapsed,
        "launched": spec["outage"],
        "hit_deadline": first is None and elapsed >= spec["deadline"] - 0.5,
    }


SCENARIOS = {"schedule": schedule, "outage": outage, "yield": rubric_yield, "failure": failure, "degradation": degradation}


def warm_up() -> float:
    """Import litellm and make one call and one failed call, so every fork starts warm (the first
    acompletion in a process pays for litellm's lazy imports). The client cache is flushed after,
    so each fork builds its own clients and reads its own proxy variables."""
    import litellm

    from llmfix.mockllm import MockLLM

    start = time.monotonic()
    with MockLLM() as server:
        request = {
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
            try:  # one SDK retry: its first backoff sleep imports anyio's backend
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
        for model in MODELS:
            server.set_content(model, JUDGE_JSON if spec.get("judge") else RUBRIC_JSON)
        os.environ.update(OPENAI_API_BASE=server.base_url, OPENAI_API_KEY="sk-bench-not-a-key", **spec.get("env", {}))
        t_import = time.monotonic()
        one = caller(spec)
        result["import_seconds"] = time.monotonic() - t_import
        try:
            result.update(asyncio.run(asyncio.wait_for(SCENARIOS[spec["kind"]](server, one, spec), spec.get("limit", 300))))
        except Exception as error:  # noqa: BLE001 - reported, not raised
            result["crash"] = f"{type(error).__name__}: {error}"
    (folder / f"{name}.json").write_text(json.dumps(result))


def fork_all(jobs: dict[str, dict], folder: Path) -> dict:
    """Fork one child per job; wait for each (killed past its limit); their exit statuses."""
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
    statuses = {}
    while children:
        for pid, (name, deadline) in list(children.items()):
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                statuses[name] = os.waitstatus_to_exitcode(code)
                del children[pid]
            elif time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                statuses[name] = "killed at its time limit"
                del children[pid]
        time.sleep(0.05)
    return statuses


def main() -> None:
    jobs: dict[str, dict] = json.loads(Path(sys.argv[1]).read_text())
    folder = Path(sys.argv[2])
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    sys.stdout = sys.stderr = open(folder / "zygote.log", "w", buffering=1)
    t = time.monotonic()
    warm = warm_up()
    status = {"import_and_warm_up_seconds": time.monotonic() - t, "warm_up_seconds": warm}
    status["cases"] = fork_all(jobs, folder)
    (folder / "zygote.json").write_text(json.dumps(status))


if __name__ == "__main__":
    main()
