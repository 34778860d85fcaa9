"""The verify child process: import litellm once, then run every case lane in its own fork.

Started by the runner as ``python child.py OUT_DIR PARENT_PID`` (``python``: verify's, or the
training environment's with ``--python``) with a clean environment and a JSON job on stdin.
It writes nothing on stdout: events go, one JSON object per line, to files in the job's
``out_dir`` (``zygote.jsonl`` for its own, ``case-<lane>.jsonl`` per lane); what the checkout
and litellm print goes to ``*.log`` files next to them.

Why forks: ``import litellm`` costs seconds, and each lane needs its own process (its own
environment, read by the checkout and by litellm; its own connection-check cache and health
counts; a hung call killed without taking the others down). So this process imports litellm,
warms its lazy imports up with one async call, then forks one child per lane. Each fork
replaces ``os.environ`` with the lane's, imports the checkout's modules through ``loader.py``
(a judge's module with missing third-party packages stubbed) and runs the lane's steps. The
parent of the forks kills any that outlive their limit. This process and every fork ask the
kernel to kill them when their parent dies (``reaper.die_with_parent``).

Standard library only (plus litellm, imported here on purpose). POSIX only (fork).
"""

from __future__ import annotations

import ast
import asyncio
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
import textwrap
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == HERE:
    del sys.path[0]  # never let this folder's modules shadow the checkout's imports

TEXT_LIMIT = 600
MODEL_NAMES = ("model_name", "model")

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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a judge's VerificationResult
        return {f.name: _jsonable(getattr(value, f.name, None)) for f in dataclasses.fields(value)}
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return _short(repr(value))


def _error(error: BaseException) -> dict[str, str]:
    return {"type": type(error).__name__, "message": _short(error)}


def _exception_text(error: BaseException | None) -> str:
    """``Type: message`` for an exception and each one in its cause/context chain."""
    parts = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(parts) < 10:
        seen.add(id(error))
        parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " <- ".join(parts)


class _Collector(logging.Handler):
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
        exception = _exception_text(record.exc_info[1]) if record.exc_info else ""
        fields = {"step": _current_step.get(), "logger": record.name, "level": record.levelname, "message": _short(message),
                  "exception": _short(exception) if exception else None, "path": record.pathname}
        if record.levelno >= logging.WARNING:
            self.warnings.append(fields)
        if self.prefix and message.startswith(self.prefix):
            self.lines.append({**fields, "call": _current_call.get()})


class _Printed(io.TextIOBase):
    """``sys.stdout`` in a fork: passes everything on and keeps each line the checkout's own code printed
    (not litellm's notices), with the step that printed it."""

    def __init__(self, out: Any, package: str) -> None:
        self.out = out
        self.package = package
        self.lines: list[tuple[str, str]] = []

    def write(self, text: str) -> int:
        self.out.write(text)
        step = _current_step.get()
        printer = str(sys._getframe(1).f_globals.get("__name__", ""))
        if step and printer.split(".", 1)[0] == self.package:
            self.lines += [(step, _short(line)) for line in text.splitlines() if line.strip()]
        return len(text)

    def flush(self) -> None:
        self.out.flush()


# ----------------------------------------------------------------------------- one lane


class Uncallable(Exception):
    """The code verify imported cannot be called the way verify read it."""


def _check_arguments(function: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        raise Uncallable(f"cannot call {name}{signature}: {error}") from None


def _annotation(function: Any, annotation: Any) -> Any:
    """A parameter's annotation as an object: a string one looked up in the function's module."""
    if isinstance(annotation, str):
        return getattr(sys.modules.get(function.__module__), annotation.split("[")[0].split(".")[-1].strip(), None)
    return None if annotation is inspect.Parameter.empty else annotation


def _mapping_keys(function: Any, parameter: str) -> Any:
    """The keys of the module-level mapping ``function`` indexes with ``parameter`` (``JUDGE_PROMPT_MAP[judge_type]``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name) and node.slice.id == parameter:
            mapping = function.__globals__.get(node.value.id)
            if isinstance(mapping, dict) and mapping:
                return next(iter(mapping))
    return None


def _fill(target: Any, name: str, roles: dict[str, Any], owner: str) -> Any:
    """Call ``target`` (a class) with a value for every parameter a role fits; the others keep their defaults."""
    init = target.__init__ if isinstance(target, type) else target
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError) as error:
        raise Uncallable(f"cannot build {owner}: {error}") from None
    fields = {f.name: f for f in dataclasses.fields(target)} if dataclasses.is_dataclass(target) else {}
    kwargs: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is parameter.empty
        value = roles.get(parameter.name, ...)
        if value is ... and callable(roles.get("*")):
            value = roles["*"](parameter, init, required)
        if value is not ...:
            kwargs[parameter.name] = value
        elif required:
            kind = "field" if parameter.name in fields else "parameter"
            raise Uncallable(f"cannot build {owner}: no value for its required {kind} {parameter.name!r}")
    try:
        return target(**kwargs)
    except Exception as error:  # noqa: BLE001 - the code under test could not be set up
        raise Uncallable(f"cannot build {owner}({', '.join(kwargs)}): {type(error).__name__}: {error}") from None


def _config_value(model_field: str, model: str):
    """The roles of a judge config's fields: its model field gets verify's model, a timeout LITELLM_DEFAULT_TIMEOUT."""

    def value(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        name = parameter.name.lower()
        if name == model_field:
            return model
        if "timeout" in name:
            return float(os.environ.get("LITELLM_DEFAULT_TIMEOUT") or 600)  # as a launcher passing both would
        if not required:
            return ...
        if "temperature" in name:
            return 0.0
        if "seed" in name:
            return 0
        if "max" in name and ("token" in name or "length" in name):
            return 32768 if "context" in name else 512
        return ...

    return value


def _judge_instance(module: Any, qualname: str, model_path: list[str], model: str) -> Any:
    """An instance of the class holding a judge method, built by parameter name, its config carrying ``model``."""
    cls = module
    for part in qualname.split(".")[:-1]:
        cls = getattr(cls, part, None)
    owner = qualname.rsplit(".", 1)[0]
    if not isinstance(cls, type):
        raise Uncallable(f"{owner} is not a class of {module.__name__}")
    if len(model_path) == 1:  # self.model: an __init__ parameter of that name carries it
        return _fill(cls, owner, {model_path[0]: model}, owner)
    holder, field_name = model_path[0], model_path[-1]

    def role(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        if parameter.name == holder or "config" in parameter.name:
            config = _annotation(init, parameter.annotation) or _config_class(module, field_name)
            if not isinstance(config, type):
                raise Uncallable(f"cannot build {owner}: no config class for {parameter.name!r} (none in {module.__name__} has {field_name!r})")
            return _fill(config, config.__name__, {"*": _config_value(field_name, model)}, config.__name__)
        if not required:
            return ...
        key = _mapping_keys(init, parameter.name)
        return ... if key is None else key

    return _fill(cls, owner, {"*": role}, owner)


def _config_class(module: Any, field_name: str) -> Any:
    """The class of ``module`` with a field ``field_name`` (the judge config), when no annotation names it."""
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            if field_name in getattr(value, "__annotations__", {}) or field_name in getattr(value, "__dataclass_fields__", {}):
                return value
    return None


class Missing(Exception):
    """What a step calls is not there."""


def _function(modules: dict[str, Any], support: Any, step: dict[str, Any]) -> Any:
    """What to call for a step (a function of no arguments, returning a value or an awaitable); raise Uncallable or Missing."""
    if step["op"] == "ensure":
        if support is None:
            raise Missing("no support module (litellm_utils.py: what `llmfix apply` adds); the connection check is missing")
        helper, args, kwargs = _callable(modules, step["helper"])
        return lambda: support.ensure_connection(helper, *args, **kwargs)
    function, args, kwargs = _callable(modules, step)
    return lambda: function(*args, **kwargs)


def _callable(modules: dict[str, Any], call: dict[str, Any]) -> tuple[Any, list[Any], dict[str, Any]]:
    """(the function a call names, bound to an instance for a judge method; its arguments)."""
    module = modules[call["module"]]
    name, args, kwargs = call["name"], call.get("args") or [], call.get("kwargs") or {}
    if "." in name:
        function = getattr(_judge_instance(module, name, call.get("model_path") or [], call.get("model")), name.rsplit(".", 1)[1])
    else:
        function = getattr(module, name, None)
        if function is None:
            raise Missing(f"{name} not defined in {module.__name__}")
    _check_arguments(function, name, args, kwargs)
    return function, args, kwargs


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
        result: dict[str, Any] = {"outcome": "raised", "error": _error(error)}
    else:
        result = {"outcome": "returned", "type": type(value).__name__, "value": _jsonable(value)}
    result["seconds"] = round(time.monotonic() - start, 3)
    return result


async def _run_step(step: dict[str, Any], modules: dict[str, Any], support: Any, collector: _Collector, printed: _Printed, events: _Events) -> None:
    label = step["label"]
    _current_step.set(label)
    result: dict[str, Any] = {"event": "step", "label": label, "op": step["op"], "function": step.get("name") or "ensure_connection", "model": step.get("model")}
    start = time.monotonic()
    repeat = int(step.get("repeat", 1))
    try:
        make = _function(modules, support, step)
    except Missing as error:
        result.update(outcome="missing", error={"type": "MissingFunction", "message": str(error)})
    except Uncallable as error:
        result.update(outcome="uncallable", error={"type": "TypeError", "message": str(error)})
    else:
        sync = step["op"] == "call" and not step.get("is_async", True)
        calls = []
        for number in range(1, repeat + 1):
            if number == repeat:
                await asyncio.sleep(float(step.get("pause", 0)))
            if repeat > 1:
                _current_call.set(number)
            calls.append(await _call_once(make, sync))
        result.update({k: v for k, v in calls[-1].items() if k != "seconds"})
        if repeat > 1:
            result["calls"] = calls
    result["seconds"] = round(time.monotonic() - start, 3)
    result["warnings"] = [{k: v for k, v in r.items() if k != "step"} for r in collector.warnings if r["step"] == label]
    result["printed"] = [line for owner, line in printed.lines if owner == label][:20]
    events.emit(**result)


def _report(support: Any, events: _Events) -> None:
    """What the support module's ``health()`` gives in this process."""
    event: dict[str, Any] = {"event": "report", "label": "report", "op": "report", "function": "health"}
    function = getattr(support, "health", None)
    if function is None:
        where = "no support module (litellm_utils.py: what `llmfix apply` adds)" if support is None else f"health not defined in {support.__name__}"
        event.update(outcome="missing", error={"type": "MissingFunction", "message": where})
    else:
        try:
            value = function()
        except Exception as error:  # noqa: BLE001 - what the checkout raises is the observation
            event.update(outcome="raised", error=_error(error))
        else:
            event.update(outcome="returned", type=type(value).__name__, value=_jsonable(value))
    events.emit(**event)


async def _run_steps(lane: dict[str, Any], modules: dict[str, Any], support: Any, printed: _Printed, events: _Events, imported: float) -> None:
    events.emit(event="lane", setup=round(time.monotonic() - imported, 3))
    collector = _Collector(lane.get("keep_lines"))
    root = logging.getLogger()
    root.addHandler(collector)
    if lane.get("keep_lines"):
        root.setLevel(min(root.level, logging.INFO))  # as a training script that logs at INFO
    steps = lane["steps"]
    if lane.get("concurrent", True):
        await asyncio.gather(*(_run_step(s, modules, support, collector, printed, events) for s in steps))
    else:
        for step in steps:
            await asyncio.create_task(_run_step(step, modules, support, collector, printed, events))
    if lane.get("keep_lines"):
        events.emit(event="lines", records=collector.lines)
    if lane.get("report"):
        _report(support, events)


def _import(loader: Any, checkout: dict[str, Any], judges: bool) -> tuple[dict[str, Any], Any, dict[str, list[str]]]:
    """(the checkout's modules by name, its support module or None, what was stubbed per judge module)."""
    root, stubbed = checkout["import_root"], {}
    modules = {dotted: loader.import_checkout_module(root, dotted) for dotted in checkout["modules"]}
    for dotted in checkout["judge_modules"] if judges else []:
        stubs = loader.Stubs(dotted.split(".", 1)[0])
        try:
            modules[dotted] = loader.import_checkout_module(root, dotted, stubs)
        finally:
            stubbed[dotted] = stubs.stubbed
    try:
        support = loader.import_checkout_module(root, checkout["support"])
    except loader.CheckoutImportError as error:
        if error.kind != "checkout-module" or error.missing != checkout["support"]:
            raise
        support = None
    return modules, support, stubbed


def _probe(loader: Any, checkout: dict[str, Any], events: _Events) -> None:
    """Import everything once: a helper module that fails is fatal, a judge module that fails skips the judges."""
    fields: dict[str, Any] = {"python": sys.executable, "tenacity": importlib.util.find_spec("tenacity") is not None}
    try:
        modules, support, stubbed = _import(loader, {**checkout, "judge_modules": []}, False)
    except loader.CheckoutImportError as error:
        events.emit(event="import-error", **error.to_json())
        return
    judges: dict[str, Any] = {}
    for dotted in checkout["judge_modules"]:
        stubs = loader.Stubs(dotted.split(".", 1)[0])
        try:
            loader.import_checkout_module(checkout["import_root"], dotted, stubs)
        except loader.CheckoutImportError as error:
            judges[dotted] = {**error.to_json(), "stubbed": stubs.stubbed}
        else:
            judges[dotted] = {"stubbed": stubs.stubbed}
    events.emit(event="probe", **fields, modules=sorted(modules), support=support is not None, judges=judges)


def _lane_child(lane: dict[str, Any], job: dict[str, Any], loader: Any) -> None:
    """Body of one fork. Never returns: ends with ``os._exit``."""
    code = 0
    try:
        out = job["out_dir"]
        checkout = job["checkouts"][lane["checkout"]]
        _redirect_output(os.path.join(out, f"case-{lane['file']}.log"))
        events = _Events(os.path.join(out, f"case-{lane['file']}.jsonl"))
        os.environ.clear()
        os.environ.update(lane["env"])
        if lane.get("probe"):
            _probe(loader, checkout, events)
            os._exit(0)
        printed = _Printed(sys.stdout, (checkout["modules"] + checkout["judge_modules"])[0].split(".", 1)[0])
        sys.stdout = printed
        started = time.monotonic()
        try:
            modules, support, _ = _import(loader, checkout, bool(lane.get("judge")))
        except loader.CheckoutImportError as error:
            events.emit(event="import-error", **error.to_json())
            os._exit(3)
        asyncio.run(_run_steps(lane, modules, support, printed, events, started))
    except BaseException as error:  # noqa: BLE001 - report, never hang the parent
        try:
            events.emit(event="crash", error=_error(error))
        except Exception:  # noqa: BLE001
            pass
        code = 4
    try:
        sys.stdout.flush()
    finally:
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


def _fork(lane: dict[str, Any], job: dict[str, Any], loader: Any, reaper: Any) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        reaper.die_with_parent(signal.SIGKILL, parent)
        _lane_child(lane, job, loader)
    return pid


def _supervise(pending: list[dict[str, Any]], job: dict[str, Any], loader: Any, reaper: Any, events: _Events, max_parallel: int) -> None:
    """Fork the lanes, at most ``max_parallel`` at a time; reap them; SIGKILL any past its limit."""
    pending = list(pending)
    running: dict[int, tuple[dict[str, Any], float]] = {}
    killed: set[int] = set()
    while pending or running:
        while pending and len(running) < max_parallel:
            lane = pending.pop(0)
            running[_fork(lane, job, loader, reaper)] = (lane, time.monotonic())
        now = time.monotonic()
        for pid, (lane, start) in running.items():
            if pid not in killed and now - start > float(lane["limit"]):
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
        lane, start = running.pop(pid)
        events.emit(event="case-end", file=lane["file"], seconds=round(time.monotonic() - start, 3),
                    killed=pid in killed, exit=os.waitstatus_to_exitcode(status), cpu=round(usage.ru_utime + usage.ru_stime, 3))


def _ready(out: str, index: int) -> bool:
    """The checkout's probe imported its helper modules."""
    try:
        with open(os.path.join(out, f"case-probe-{index}.jsonl"), encoding="utf-8") as handle:
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
    events.emit(event="litellm-imported", seconds=round(time.monotonic() - start, 3), version=getattr(litellm, "version", None),
                python=sys.executable, tenacity=importlib.util.find_spec("tenacity") is not None)
    job = json.load(sys.stdin)
    if not job.get("cases") and not job.get("checkouts"):
        return 0
    start = time.monotonic()
    _warm_up(job, litellm)
    events.emit(event="warmed-up", seconds=round(time.monotonic() - start, 3))
    max_parallel = int(job.get("max_parallel", 32))
    probes = [{"file": f"probe-{index}", "checkout": index, "probe": True, "env": checkout["probe_env"], "steps": [], "limit": job.get("import_limit", 60)}
              for index, checkout in enumerate(job["checkouts"])]
    _supervise(probes, job, loader, reaper, events, max_parallel)
    ready = {index for index in range(len(job["checkouts"])) if _ready(out, index)}
    _supervise([c for c in job["cases"] if c["checkout"] in ready], job, loader, reaper, events, max_parallel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
