"""The verify child: ``python child.py OUT_DIR PARENT_PID``, the job as JSON on stdin; standard library and litellm, POSIX.
It imports litellm once, then forks a process per case lane that imports the checkout, runs the steps and writes JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import importlib.util
import inspect
import io
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
NO_SUPPORT = "no support module (litellm_utils.py: what `llmfix apply` adds)"


def _load(name: str) -> Any:
    """A module of this folder, loaded by path: this folder is not on sys.path."""
    spec = importlib.util.spec_from_file_location(f"_llmfix_verify_{name}", os.path.join(HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loader = _load("loader")
TEXT_LIMIT = 600
current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("llmfix_verify_step", default=None)
current_call: contextvars.ContextVar[int | None] = contextvars.ContextVar("llmfix_verify_call", default=None)  # of a repeated step, from 1


class Events:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - line-buffered, open for the process's life

    def emit(self, **fields: Any) -> None:
        self._file.write(json.dumps(fields, default=repr) + "\n")


def redirect_output(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def short(text: Any) -> str:
    text = str(text)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return short(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a judge's VerificationResult
        return {f.name: jsonable(getattr(value, f.name, None)) for f in dataclasses.fields(value)}
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return short(repr(value))


def error_of(error: BaseException) -> dict[str, str]:
    return {"type": type(error).__name__, "message": short(error)}


def exception_text(error: BaseException | None) -> str:
    """``Type: message`` for an exception and each one in its cause/context chain."""
    parts: list[str] = []
    while error is not None and len(parts) < 10:  # ten links at most: a chain may loop
        parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " <- ".join(parts)


class Collector(logging.Handler):
    """Keeps WARNING+ records, and the INFO+ ones starting with ``prefix``, with the step (and call) that logged them."""

    def __init__(self, prefix: str | None) -> None:
        super().__init__(logging.INFO if prefix else logging.WARNING)
        self.prefix = prefix
        self.warnings: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is still a log line
            message = str(record.msg)
        exception = exception_text(record.exc_info[1]) if record.exc_info else ""
        fields = {"step": current_step.get(), "logger": record.name, "level": record.levelname, "message": short(message),
                  "exception": short(exception) if exception else None, "path": record.pathname}
        if record.levelno >= logging.WARNING:
            self.warnings.append(fields)
        if self.prefix and message.startswith(self.prefix):
            self.lines.append({**fields, "call": current_call.get()})


class Printed(io.TextIOBase):
    """``sys.stdout`` in a fork: passes everything on, keeps the lines the checkout's own code printed, by step."""

    def __init__(self, out: Any, package: str) -> None:
        self.out, self.package = out, package
        self.lines: list[tuple[str, str]] = []

    def write(self, text: str) -> int:
        self.out.write(text)
        step, printer = current_step.get(), str(sys._getframe(1).f_globals.get("__name__", ""))
        if step and printer.split(".", 1)[0] == self.package:
            self.lines += [(step, short(line)) for line in text.splitlines() if line.strip()]
        return len(text)

    def flush(self) -> None:
        self.out.flush()


class Missing(Exception):
    """What a step calls is not there."""


def _function(modules: dict[str, Any], support: Any, step: dict[str, Any]) -> Any:
    """What to call for a step: a function of no arguments (returning a value or an awaitable). Raises Uncallable or Missing."""
    ensure = step["op"] == "ensure"
    if ensure and support is None:
        raise Missing(f"{NO_SUPPORT}; the connection check is missing")
    call = step["helper"] if ensure else step
    module = modules[call["module"]]
    name, args, kwargs = call["name"], call.get("args") or [], call.get("kwargs") or {}
    if "." in name:
        function = getattr(loader.instance(module, name, call.get("model_path") or [], call.get("model")), name.rsplit(".", 1)[1])
    elif getattr(module, name, None) is None:
        raise Missing(f"{name} not defined in {module.__name__}")
    else:
        function = getattr(module, name)
    loader.check_arguments(function, name, args, kwargs)
    return (lambda: support.ensure_connection(function, *args, **kwargs)) if ensure else (lambda: function(*args, **kwargs))


async def _call_once(make: Any, sync: bool) -> dict[str, Any]:
    """One call (a sync one in a thread of its own): ``outcome`` (returned | raised) with the value or the error, and its seconds."""
    start = time.monotonic()
    try:
        value = await asyncio.to_thread(make) if sync else make()
        if inspect.isawaitable(value):
            value = await value
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - what the checkout raises is the observation
        result: dict[str, Any] = {"outcome": "raised", "error": error_of(error)}
    else:
        result = {"outcome": "returned", "type": type(value).__name__, "value": jsonable(value)}
    return {**result, "seconds": round(time.monotonic() - start, 3)}


async def _run_step(step: dict[str, Any], modules: dict[str, Any], support: Any, collector: Any, printed: Any, events: Any) -> None:
    label, repeat = step["label"], int(step.get("repeat", 1))
    current_step.set(label)
    result: dict[str, Any] = {"event": "step", "label": label}
    start = time.monotonic()
    try:
        make = _function(modules, support, step)
    except Missing as error:
        result.update(outcome="missing", error={"type": "MissingFunction", "message": str(error)})
    except loader.Uncallable as error:
        result.update(outcome="uncallable", error={"type": "TypeError", "message": str(error)})
    else:
        calls = []
        for number in range(1, repeat + 1):
            if number == repeat:
                await asyncio.sleep(float(step.get("pause", 0)))
            if repeat > 1:
                current_call.set(number)
            calls.append(await _call_once(make, step["op"] == "call" and not step.get("is_async", True)))
        result.update({k: v for k, v in calls[-1].items() if k != "seconds"}, **({"calls": calls} if repeat > 1 else {}))
    result["seconds"] = round(time.monotonic() - start, 3)
    result["warnings"] = [{k: v for k, v in r.items() if k != "step"} for r in collector.warnings if r["step"] == label]
    result["printed"] = [line for owner, line in printed.lines if owner == label][:20]
    events.emit(**result)


async def _run_steps(lane: dict[str, Any], modules: dict[str, Any], support: Any, printed: Any, events: Any, imported: float) -> None:
    events.emit(event="lane", setup=round(time.monotonic() - imported, 3))
    collector = Collector(lane.get("keep_lines"))
    root = logging.getLogger()
    root.addHandler(collector)
    if lane.get("keep_lines"):
        root.setLevel(min(root.level, logging.INFO))  # as a training script that logs at INFO
    runs = [_run_step(s, modules, support, collector, printed, events) for s in lane["steps"]]
    if lane.get("concurrent", True):
        await asyncio.gather(*runs)
    else:
        for run in runs:
            await asyncio.create_task(run)
    if lane.get("keep_lines"):
        events.emit(event="lines", records=collector.lines)
    if lane.get("report"):  # what the support module's health() gives in this process
        if getattr(support, "health", None) is None:
            where = NO_SUPPORT if support is None else f"health not defined in {support.__name__}"
            events.emit(event="report", outcome="missing", error={"type": "MissingFunction", "message": where})
        else:
            events.emit(event="report", **await _call_once(support.health, False))


def _import(checkout: dict[str, Any], judges: bool, probe: bool = False) -> tuple[dict[str, Any], Any, dict[str, dict[str, Any]]]:
    """(the checkout's modules by name, its support module or None, per judge module what was stubbed); in a ``probe``
    a judge module that does not import has its error noted there instead of raised."""
    root, judged = checkout["import_root"], {}
    modules = {dotted: loader.import_checkout_module(root, dotted) for dotted in checkout["modules"]}
    for dotted in checkout["judge_modules"] if judges else []:
        stubs = loader.Stubs(dotted.split(".", 1)[0])
        judged[dotted] = {"stubbed": stubs.stubbed}  # filled as the import runs
        try:
            modules[dotted] = loader.import_checkout_module(root, dotted, stubs)
        except loader.CheckoutImportError as error:
            if not probe:
                raise
            judged[dotted].update(error.to_json())
    try:
        support = loader.import_checkout_module(root, checkout["support"])
    except loader.CheckoutImportError as error:
        if error.kind != "checkout-module" or error.missing != checkout["support"]:
            raise
        support = None
    return modules, support, judged


def _lane_child(lane: dict[str, Any], job: dict[str, Any]) -> None:
    """Body of one fork (a probe imports everything once: a helper module that fails is fatal, a judge module skips the judges).
    Never returns: ends with ``os._exit``."""
    code = 0
    try:
        out, checkout = job["out_dir"], job["checkouts"][lane["checkout"]]
        redirect_output(os.path.join(out, f"case-{lane['file']}.log"))
        events = Events(os.path.join(out, f"case-{lane['file']}.jsonl"))
        os.environ.clear()
        os.environ.update(lane["env"])
        printed = Printed(sys.stdout, (checkout["modules"] + checkout["judge_modules"])[0].split(".", 1)[0])
        sys.stdout = printed
        started = time.monotonic()
        try:
            modules, support, judged = _import(checkout, bool(lane.get("judge") or lane.get("probe")), bool(lane.get("probe")))
        except loader.CheckoutImportError as error:
            events.emit(event="import-error", **error.to_json())
            os._exit(3)
        if lane.get("probe"):
            events.emit(event="probe", judges=judged)
        else:
            asyncio.run(_run_steps(lane, modules, support, printed, events, started))
    except BaseException as error:  # noqa: BLE001 - report, never hang the parent
        with contextlib.suppress(Exception):  # the parent sees the lane end without a result
            events.emit(event="crash", error=error_of(error))
        code = 4
    try:
        sys.stdout.flush()
    finally:
        os._exit(code)


# ----------------------------------------------------------------------------- the parent of the forks


def _warm_up(job: dict[str, Any], litellm: Any) -> None:
    """Pay litellm's lazy imports once, here, instead of in every fork."""
    import httpcore  # noqa: F401  (litellm imports it on the first sync call: about a second)
    import httpx  # litellm's, warmed up here once for every fork

    httpx.Client().close()
    warmup = job.get("warmup")
    if not warmup:
        return

    async def call() -> None:
        await litellm.acompletion(model=warmup["model"], api_base=warmup["api_base"], api_key="sk-llmfix-verify-warmup",
                                  messages=[{"role": "user", "content": "warm up"}], max_tokens=1, num_retries=0, timeout=10)

    with contextlib.suppress(Exception):  # warming up is best effort
        asyncio.run(call())
    litellm.in_memory_llm_clients_cache.flush_cache()


def _supervise(pending: list[dict[str, Any]], job: dict[str, Any], reaper: Any, events: Any) -> dict[str, int]:
    """Fork the lanes, at most ``max_parallel`` at a time; reap them; SIGKILL any past its limit. Each lane's exit code, by file."""
    pending, running, killed, exits = list(pending), {}, set(), {}
    while pending or running:
        while pending and len(running) < int(job.get("max_parallel", 32)):
            lane, parent = pending.pop(0), os.getpid()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                reaper.die_with_parent(signal.SIGKILL, parent)
                _lane_child(lane, job)
            running[pid] = (lane, time.monotonic())
        for pid, (lane, start) in running.items():
            if pid not in killed and time.monotonic() - start > float(lane["limit"]):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
        elif pid in running:
            lane, start = running.pop(pid)
            exits[lane["file"]] = os.waitstatus_to_exitcode(status)
            events.emit(event="case-end", file=lane["file"], seconds=round(time.monotonic() - start, 3), killed=pid in killed,
                        exit=exits[lane["file"]], cpu=round(usage.ru_utime + usage.ru_stime, 3))
    return exits


def main() -> int:
    """``child.py OUT_DIR PARENT_PID``: import litellm at once, then read the job from stdin (the parent prepares it meanwhile)."""
    out = sys.argv[1]
    reaper = _load("reaper")
    reaper.die_with_parent(signal.SIGKILL, int(sys.argv[2]) if len(sys.argv) > 2 else None)
    events = Events(os.path.join(out, "zygote.jsonl"))
    redirect_output(os.path.join(out, "zygote.log"))
    start = time.monotonic()
    try:
        import litellm  # seconds: the child's first job, while the parent sets up
    except ModuleNotFoundError as error:
        events.emit(event="import-error", module="litellm", missing=error.name, kind="missing-module", message=str(error))
        return 3
    events.emit(event="litellm-imported", seconds=round(time.monotonic() - start, 3))
    job = json.load(sys.stdin)
    if not job.get("cases") and not job.get("checkouts"):
        return 0
    start = time.monotonic()
    _warm_up(job, litellm)
    events.emit(event="warmed-up", seconds=round(time.monotonic() - start, 3))
    probes = [{"file": f"probe-{index}", "checkout": index, "probe": True, "env": checkout["probe_env"], "steps": [], "limit": job.get("import_limit", 60)}
              for index, checkout in enumerate(job["checkouts"])]
    exits = _supervise(probes, job, reaper, events)
    _supervise([c for c in job["cases"] if exits.get(f"probe-{c['checkout']}") == 0], job, reaper, events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
