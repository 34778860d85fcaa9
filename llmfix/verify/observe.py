"""What the verify child keeps of a lane: its events, each step's warnings, log lines and printed lines. Standard library only."""

from __future__ import annotations

import contextvars
import dataclasses
import io
import json
import logging
import os
import sys
from typing import Any

TEXT_LIMIT = 600

current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("llmfix_verify_step", default=None)
current_call: contextvars.ContextVar[int | None] = contextvars.ContextVar("llmfix_verify_call", default=None)  # of a repeated step, from 1


class Events:
    """Append-only JSON-lines file, flushed per line."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")

    def emit(self, **fields: Any) -> None:
        self._file.write(json.dumps(fields, default=repr) + "\n")
        self._file.flush()


def json_lines(text: str) -> list[Any]:
    """The JSON values of the lines of ``text`` that parse (a line being written does not)."""
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


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
    parts = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(parts) < 10:
        seen.add(id(error))
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
    """``sys.stdout`` in a fork: passes everything on and keeps each line the checkout's own code printed
    (not litellm's notices), with the step that printed it."""

    def __init__(self, out: Any, package: str) -> None:
        self.out = out
        self.package = package
        self.lines: list[tuple[str, str]] = []

    def write(self, text: str) -> int:
        self.out.write(text)
        step = current_step.get()
        printer = str(sys._getframe(1).f_globals.get("__name__", ""))
        if step and printer.split(".", 1)[0] == self.package:
            self.lines += [(step, short(line)) for line in text.splitlines() if line.strip()]
        return len(text)

    def flush(self) -> None:
        self.out.flush()
