"""`llmfix doctor [PATH] [--offline] [--model NAME] [--python PATH] [--json]`; importing it loads no check and no litellm."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import click

from llmfix.discovery import checkout_here
from llmfix.doctor.findings import render_json, render_text
from llmfix.doctor.redact import redact_url
from llmfix.errors import BadInput
from llmfix.exit_codes import ERROR as EXIT_ERROR


class Progress:
    """Once the doctor has been quiet for ``after`` seconds, a line on stderr saying what it does
    (``llmfix doctor: live probe: importing litellm… 3 s``), rewritten as the step changes, erased by ``close()``."""

    def __init__(self, stream: TextIO, after: float = 1.0, tick: float = 0.25) -> None:
        self.stream, self.after, self.tick, self.step, self._shown = stream, after, tick, "starting", ""
        self._stop, self._started = threading.Event(), time.monotonic()
        self._thread = threading.Thread(target=self._run, name="doctor-progress", daemon=True)
        self._thread.start()

    def __call__(self, step: str) -> None:
        self.step = redact_url(step)  # one string, replaced whole: safe across threads

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            line = f"llmfix doctor: {self.step}… {time.monotonic() - self._started:.0f} s"
            if time.monotonic() - self._started >= self.after and line != self._shown:
                self._write(f"\r\x1b[K{line}", line)

    def _write(self, text: str, shown: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
            self._shown = shown
        except (OSError, ValueError):  # a closed terminal must not break the run
            self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        if self._shown:
            self._write("\r\x1b[K", "")


@click.command(name="doctor")
@click.argument("path", required=False, type=click.Path(path_type=str))
@click.option("--offline", is_flag=True, help="No network at all: check settings, launchers and the checkout only.")
@click.option("--model", metavar="NAME", help="Model to check and probe (default: RUBRIC_GENERATION_MODEL or gpt-4.1).")
@click.option("--python", metavar="PATH", help="The interpreter the training job runs: its litellm version and tenacity are checked (llmfix's own are not).")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"findings": [...]} in rank order.')
def doctor_command(path: str | None, offline: bool, model: str | None, python: str | None, as_json: bool) -> None:
    """Say why LLM calls fail: proxy, endpoint, key, models, LiteLLM, checkout, live probe.

    Findings are ranked, most likely root cause first, each with the line to change.
    Exit 0 healthy (warnings allowed), 1 problems found, 2 could not run.
    """
    from llmfix.doctor import runner  # every check: off the path of `llmfix --help`

    if path is None:  # like every other command: the checkout around (or the one below) this folder, if any
        here = checkout_here(Path.cwd())
        path = None if here is None else str(here)
    progress = Progress(sys.stderr) if not as_json and _is_terminal(sys.stderr) else None
    try:
        try:
            report = runner.run_doctor(path, offline=offline, model=model, python=python, progress=progress)
        finally:  # the progress line is gone before anything else is printed
            if progress is not None:
                progress.close()
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - a bug must not end in a traceback for the user
        bad_input = isinstance(exc, (BadInput, KeyboardInterrupt))
        click.echo(redact_url(f"llmfix doctor: {str(exc) or 'interrupted' if bad_input else f'could not run: {type(exc).__name__}: {exc}'}"), err=True)
        sys.exit(EXIT_ERROR)
    click.echo(render_json(report) if as_json else render_text(report, color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    if "litellm" in sys.modules and sys.stdout is sys.__stdout__ and os.environ.get("LLMFIX_DOCTOR_SLOW_EXIT") != "1":
        try:  # once litellm is imported, a normal exit spends ~3 s tearing it down: the report is out
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(report.exit_code)
    sys.exit(report.exit_code)


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
