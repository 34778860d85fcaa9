"""The verify child process: import litellm once, then run every case in its own fork.

Started by the runner as ``python child.py OUT_DIR PARENT_PID`` with a clean environment and a
JSON job on stdin. It writes nothing on stdout: events go, one JSON object per line, to files
in the job's ``out_dir`` (``zygote.jsonl`` for its own, ``case-<id>.jsonl`` per case);
what the checkout and litellm print goes to ``*.log`` files next to them.

Why forks: ``import litellm`` costs seconds, and each case needs its own process
(its own environment, read by the checkout at import time and by litellm when it builds
a client; its own once-per-process precheck cache; a hung call killed without taking the
others down). So this process imports litellm and warms its lazy imports up with one
async call (no threads are left behind, so forking stays safe), then forks one child
per case. Each fork replaces ``os.environ`` with the case's, imports the checkout's
modules through ``loader.py`` and runs the case's steps. The parent of the forks kills
any that outlive their limit. The runner starts this process first and writes the job to
its stdin while litellm imports, so setting up the endpoints costs no extra time.

This process and every fork ask the kernel to kill them when their parent dies
(``reaper.die_with_parent``), so a killed verify leaves none of them behind.

Standard library only (plus litellm, imported here on purpose). POSIX only (fork).
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import inspect
import json
import logging
import os
import signal
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == HERE:
    del sys.path[0]  # never let this folder's modules shadow the checkout's imports

TEXT_LIMIT = 600

_current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("llmfix_verify_step", default=None)
_current_call: contextvars.ContextVar[int | None] = contextvars.ContextVar("llmfix_verify_call", default=None)  # of a repeated step, from 1


def _load(name: str) -> Any:
    """A module of this folder (``loader``, ``reaper``), loaded by path: this folder is not on sys.path."""
    spec = importlib.util.spec_from_file_location(f"_llmfix_verify_{name}", os.path.join(HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Events:
    """Append-only JSON-lines file, flushed per line."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")

    def emit(self, **fields: Any) -> None:
        self._file.write(json.dumps(fields, default=repr) + "\n")
        self._file.flush()


def _redirect_output(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _short(text: Any) -> str:
    text = str(text)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _short(value)
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return _short(repr(value))


def _exception_text(error: BaseException | None) -> str:
    """``Type: message`` for an exception and each one in its cause/context chain."""
    parts = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(parts) < 10:
        seen.add(id(error))
        parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " <- ".join(parts)


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What verify keeps of a log record: the step (and call) that emitted it, logger, level, message."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is still a log line
        message = str(record.msg)
    exception = _exception_text(record.exc_info[1]) if record.exc_info else ""
    return {
        "step": _current_step.get(), "call": _current_call.get(), "logger": record.name, "level": record.levelname,
        "message": _short(message), "exception": _short(exception) if exception else None,
    }


class _WarningCollector(logging.Handler):
    """Keeps WARNING+ records with the step (task context) that emitted them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = _record_fields(record)
        del fields["call"]
        self.records.append(fields)


class _LineCollector(logging.Handler):
    """Keeps INFO+ records whose message starts with ``prefix`` (a case's ``keep_lines``)."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.INFO)
        self.prefix = prefix
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = _record_fields(record)
        if fields["message"].startswith(self.prefix):
            self.records.append(fields)


# ----------------------------------------------------------------------------- one case


PRECHECK = "ensure_litellm_connection"


def _function(modules: dict[str, Any], checkout: dict[str, Any], step: dict[str, Any]) -> tuple[Any, str]:
    """The callable behind a step and its name; (None, why) when it is absent."""
    if step["op"] == "ensure":
        dotted, name = checkout.get("precheck_module"), PRECHECK
    else:
        dotted, name = step["module"], step["name"]
    module = modules.get(dotted) if dotted else None
    if module is None:
        return None, f"{name}: no module to look it up in"
    function = getattr(module, name, None)
    if function is None:
        return None, f"{name} not defined in {module.__name__}"
    return function, name


def _check_arguments(function: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> str | None:
    """Why ``function`` cannot take these arguments (the code verify imported differs from what it read), or None."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        return f"cannot call {name}{signature}: {error}"
    return None


async def _call(function: Any, step: dict[str, Any]) -> Any:
    if step["op"] == "ensure":
        return await function(step["model"])
    args, kwargs = step.get("args") or [], step.get("kwargs") or {}
    if inspect.iscoroutinefunction(function):
        return await function(*args, **kwargs)
    value = await asyncio.to_thread(function, *args, **kwargs)
    return await value if inspect.isawaitable(value) else value


async def _call_once(function: Any, step: dict[str, Any]) -> dict[str, Any]:
    """One call: ``outcome`` (returned | raised) with the value or the error, and its seconds."""
    start = time.monotonic()
    try:
        value = await _call(function, step)
    except BaseException as error:  # noqa: BLE001 - what the checkout raises is the observation
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        result: dict[str, Any] = {"outcome": "raised", "error": {"type": type(error).__name__, "message": _short(error)}}
    else:
        result = {"outcome": "returned", "type": type(value).__name__, "value": _jsonable(value)}
    result["seconds"] = round(time.monotonic() - start, 3)
    return result


async def _run_step(step: dict[str, Any], modules: dict[str, Any], checkout: dict[str, Any], collector: _WarningCollector, events: _Events) -> None:
    label = step["label"]
    _current_step.set(label)
    if step["op"] == "wait":
        await asyncio.sleep(float(step["seconds"]))
        return
    function, name = _function(modules, checkout, step)
    result: dict[str, Any] = {"event": "step", "label": label, "op": step["op"], "function": name, "model": step.get("model")}
    start = time.monotonic()
    uncallable = None if function is None or step["op"] == "ensure" else _check_arguments(function, name, step.get("args") or [], step.get("kwargs") or {})
    if function is None:
        result.update(function=step.get("name") or PRECHECK, outcome="missing", error={"type": "MissingFunction", "message": name})
    elif uncallable:
        result.update(outcome="uncallable", error={"type": "TypeError", "message": uncallable})
    else:
        repeat = int(step.get("repeat", 1))
        calls = []
        for number in range(1, repeat + 1):
            if number == repeat and number > 1:
                await asyncio.sleep(float(step.get("pause", 0)))
            if repeat > 1:
                _current_call.set(number)
            calls.append(await _call_once(function, step))
        result.update({k: v for k, v in calls[-1].items() if k != "seconds"})
        if repeat > 1:
            result["calls"] = calls
    result["seconds"] = round(time.monotonic() - start, 3)
    result["warnings"] = [r for r in collector.records if r["step"] == label]
    events.emit(**result)


def _report(case: dict[str, Any], modules: dict[str, Any], checkout: dict[str, Any], events: _Events) -> None:
    """Call the case's report function (no arguments) of the helpers' module; emit what it gave."""
    name = case["report"]
    module = modules.get(checkout.get("precheck_module") or "")
    function = getattr(module, name, None)
    event: dict[str, Any] = {"event": "report", "label": "report", "op": "report", "function": name}
    if function is None:
        where = module.__name__ if module is not None else "the helpers' module"
        event.update(outcome="missing", error={"type": "MissingFunction", "message": f"{name} not defined in {where}"})
    else:
        try:
            value = function()
        except Exception as error:  # noqa: BLE001 - what the checkout raises is the observation
            event.update(outcome="raised", error={"type": type(error).__name__, "message": _short(error)})
        else:
            event.update(outcome="returned", type=type(value).__name__, value=_jsonable(value))
    events.emit(**event)


async def _run_steps(case: dict[str, Any], modules: dict[str, Any], checkout: dict[str, Any], events: _Events) -> None:
    collector = _WarningCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    lines = None
    if case.get("keep_lines"):
        lines = _LineCollector(case["keep_lines"])
        root.addHandler(lines)
        root.setLevel(min(root.level, logging.INFO))  # as a training script that logs at INFO
    steps = case["steps"]
    if case.get("concurrent", True):
        await asyncio.gather(*(_run_step(s, modules, checkout, collector, events) for s in steps))
    else:
        for step in steps:
            await asyncio.create_task(_run_step(step, modules, checkout, collector, events))
    if lines is not None:
        events.emit(event="lines", records=lines.records)
    if case.get("report"):
        _report(case, modules, checkout, events)


def _import_modules(loader: Any, checkout: dict[str, Any]) -> dict[str, Any]:
    return {dotted: loader.import_checkout_module(checkout["import_root"], dotted) for dotted in checkout["modules"]}


def _case_child(case: dict[str, Any], job: dict[str, Any], loader: Any) -> None:
    """Body of one fork. Never returns: ends with ``os._exit``."""
    code = 0
    try:
        out = job["out_dir"]
        checkout = job["checkouts"][case["checkout"]]
        _redirect_output(os.path.join(out, f"case-{case['file']}.log"))
        events = _Events(os.path.join(out, f"case-{case['file']}.jsonl"))
        os.environ.clear()
        os.environ.update(case["env"])
        try:
            modules = _import_modules(loader, checkout)
        except loader.CheckoutImportError as error:
            events.emit(event="import-error", **error.to_json())
            os._exit(3)
        if case.get("probe"):
            precheck = modules.get(checkout.get("precheck_module") or "")
            events.emit(
                event="probe",
                python=sys.executable,
                tenacity=importlib.util.find_spec("tenacity") is not None,
                modules=sorted(modules),
                has={name: hasattr(precheck, name) for name in (PRECHECK, "check_litellm_connection", "LiteLLMConnectionError")},
            )
        else:
            asyncio.run(_run_steps(case, modules, checkout, events))
    except BaseException as error:  # noqa: BLE001 - report, never hang the parent
        try:
            events.emit(event="crash", error={"type": type(error).__name__, "message": _short(error)})
        except Exception:  # noqa: BLE001
            pass
        code = 4
    os._exit(code)


# ----------------------------------------------------------------------------- the parent of the forks


def _warm_up(job: dict[str, Any], litellm: Any) -> None:
    """Pay litellm's lazy imports once, here, instead of in every fork."""
    import httpcore  # noqa: F401  (litellm imports it on the first sync call: about a second)
    import httpx

    httpx.Client().close()
    warmup = job.get("warmup")
    if not warmup:
        return

    async def call() -> None:
        await litellm.acompletion(
            model=warmup["model"], api_base=warmup["api_base"], api_key="sk-llmfix-verify-warmup",
            messages=[{"role": "user", "content": "warm up"}], max_tokens=1, num_retries=0, timeout=10,
        )

    try:
        asyncio.run(call())
    except Exception:  # noqa: BLE001 - warming up is best effort
        pass
    litellm.in_memory_llm_clients_cache.flush_cache()


def _fork(case: dict[str, Any], job: dict[str, Any], loader: Any, reaper: Any) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        reaper.die_with_parent(signal.SIGKILL, parent)
        _case_child(case, job, loader)
    return pid


def _supervise(pending: list[dict[str, Any]], job: dict[str, Any], loader: Any, reaper: Any, events: _Events, max_parallel: int) -> None:
    """Fork the cases, at most ``max_parallel`` at a time; reap them; SIGKILL any past its limit."""
    pending = list(pending)
    running: dict[int, tuple[dict[str, Any], float]] = {}
    killed: set[int] = set()
    while pending or running:
        while pending and len(running) < max_parallel:
            case = pending.pop(0)
            running[_fork(case, job, loader, reaper)] = (case, time.monotonic())
        now = time.monotonic()
        for pid, (case, start) in running.items():
            if pid not in killed and now - start > float(case["limit"]):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                killed.add(pid)
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
            continue
        if pid not in running:
            continue
        case, start = running.pop(pid)
        events.emit(
            event="case-end", file=case["file"], seconds=round(time.monotonic() - start, 3),
            killed=pid in killed, exit=os.waitstatus_to_exitcode(status), cpu=round(usage.ru_utime + usage.ru_stime, 3),
        )


def _probe_ok(out: str, name: str) -> bool:
    try:
        with open(os.path.join(out, f"case-{name}.jsonl"), encoding="utf-8") as handle:
            return any(json.loads(line).get("event") == "probe" for line in handle if line.strip())
    except OSError:
        return False


def main() -> int:
    """``child.py OUT_DIR PARENT_PID``: import litellm at once, then read the job from stdin (the parent prepares it meanwhile)."""
    out = sys.argv[1]
    reaper = _load("reaper")
    reaper.die_with_parent(signal.SIGKILL, int(sys.argv[2]) if len(sys.argv) > 2 else None)
    events = _Events(os.path.join(out, "zygote.jsonl"))
    _redirect_output(os.path.join(out, "zygote.log"))
    loader = _load("loader")
    start = time.monotonic()
    try:
        import litellm
    except ModuleNotFoundError as error:
        events.emit(event="import-error", module="litellm", missing=error.name, kind="missing-module", message=str(error))
        return 3
    events.emit(event="litellm-imported", seconds=round(time.monotonic() - start, 3), version=getattr(litellm, "version", None))
    job = json.load(sys.stdin)
    if not job.get("cases") and not job.get("checkouts"):
        return 0
    start = time.monotonic()
    _warm_up(job, litellm)
    events.emit(event="warmed-up", seconds=round(time.monotonic() - start, 3))

    max_parallel = int(job.get("max_parallel", 32))
    probes = [
        {"file": f"probe-{index}", "checkout": index, "probe": True, "env": checkout["probe_env"], "steps": [], "limit": job.get("import_limit", 60)}
        for index, checkout in enumerate(job["checkouts"])
    ]
    _supervise(probes, job, loader, reaper, events, max_parallel)
    ready = {index for index in range(len(job["checkouts"])) if _probe_ok(out, f"probe-{index}")}
    _supervise([c for c in job["cases"] if c["checkout"] in ready], job, loader, reaper, events, max_parallel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
