"""``llmfix verify PATH [--python PY] [--live] [--scenario NAME]... [--json]``; importing it loads no litellm, libcst or mock."""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from llmfix.discovery import checkout_here
from llmfix.errors import BadInput, LlmfixError
from llmfix.exit_codes import ERROR as EXIT_ERROR
from llmfix.exit_codes import OK as EXIT_OK
from llmfix.exit_codes import PENDING as EXIT_FAILED
from llmfix.verify import report, runner, scenarios
from llmfix.verify.analysis import analyse_all

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
NOTHING = "nothing to verify: no LiteLLM helper, rubric generator or LLM judge under {}"

HELP = f"""Drive the checkout's (patched) LiteLLM helpers, rubric generators and LLM judges through injected faults.

verify imports the checkout's code and runs it, in a child process, against
mock endpoints on 127.0.0.1: run it with the Python of the environment the
training job uses (--python), which has the packages that code imports.

\b
Scenarios: {", ".join(f"{unit.NUMBER} {unit.NAME}" for unit in scenarios.units())}.
--live: precheck, completion, rubric with your own endpoint.
Exit 0 all passed (or nothing to verify), 1 a case failed or a function
could not be called, 2 could not run.
"""


def _path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path:
    if value is None:  # like every other command: the checkout around (or the one below) this folder
        return checkout_here(Path.cwd()) or Path(".")
    if not value.strip():
        raise click.BadParameter("empty path; name a checkout or a file", ctx, param)
    return Path(value)


@click.command("verify", help=HELP)
@click.argument("path", required=False, callback=_path)
@click.option(
    "--python",
    "python",
    metavar="PATH",
    help="The interpreter to import and run the checkout's code with (the training environment's; default: [tool.llmfix] python, else llmfix's own).",
)
@click.option("--live", is_flag=True, help="Harmless calls (precheck, one tiny completion, one rubric) with your real endpoint, key and proxies.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME", help="Run only these scenarios (name, number or case id; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def verify_command(path: Path, python: str | None, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> None:
    with _stop_signals_interrupt():
        try:
            code = _verify(path, python, live, scenario_names, as_json)
        except LlmfixError as error:
            click.echo(f"llmfix: error: {error}", err=True)
            code = EXIT_ERROR
    click.get_current_context().exit(code)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end verify like Ctrl-C does, so the cleanup (``finally``) runs; a second signal
    during the cleanup is ignored, so the cleanup itself is not cut short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interpreter(python: str | None) -> tuple[str | None, bool]:
    """(the interpreter to run the child with, whether it has tenacity); BadInput when it does not run."""
    if python is None:
        return None, importlib.util.find_spec("tenacity") is not None
    code = "import importlib.util, sys; print(sys.executable); print(importlib.util.find_spec('tenacity') is not None)"
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BadInput(f"--python {python}: cannot run it: {getattr(error, 'strerror', None) or error}") from None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        raise BadInput(f"--python {python}: not a working Python interpreter ({(done.stderr.strip().splitlines() or ['no output'])[-1]})")
    return python, lines[1] == "True"


def _verify(path: Path, python: str | None, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> int:
    names = [part.strip().lower() for value in scenario_names for part in value.split(",")]
    known = [unit.NAME for unit in scenarios.units()]
    if "" in names or any(name not in known and not re.fullmatch(r"\d+[a-z]*", name) for name in names):  # a case id: 7c
        unknown = ", ".join(n for n in names if n not in known) or "(an empty name)"
        raise BadInput(f"unknown scenario {unknown}; choose from {', '.join(known)}")
    if python is None:
        from llmfix.config import configured_python  # reads [tool.llmfix]; its package loads libcst, so only here

        python = configured_python(path if path.is_dir() else path.parent)
    python, tenacity = _interpreter(python)
    settings = scenarios.Settings.for_this_machine(tenacity=tenacity)
    say = Progress(as_json)
    against = f"{len(known)} scenarios" if not scenario_names else f"the scenarios chosen ({','.join(scenario_names)})"
    say.line(f"verifying {path} against {'the live calls' if live else against}"
             f" (the checkout's code runs in a child process{f' with {python}' if python else ''})...")
    if live:
        from llmfix.verify import live as live_calls  # the codemods (libcst): only for --live
    env = live_calls.live_env() if live else None
    child = runner.Child(settings, env, python) if path.exists() else None  # litellm imports while we analyse and set up
    try:
        found = analyse_all(path)
        checkouts = [c for c in found if c.targets]
        empty = [NOTHING.format(c.path) for c in found if not c.targets]
        if not checkouts:
            message = empty[0] if len(empty) == 1 else NOTHING.format(path)
            click.echo(json.dumps({"command": "verify", "exit_code": EXIT_OK, "nothing_to_verify": True, "message": message}) if as_json else message)
            return EXIT_OK
        several = len(found) > 1
        jobs = []
        for index, checkout in enumerate(checkouts):
            available = live_calls.scenarios(env, checkout) if env is not None else scenarios.build(settings, checkout)
            jobs.append((checkout, scenarios.select(available, scenario_names, strict=not several)))
            say.expect(index, f"{checkout.path.name}: " if several else "", checkout, jobs[-1][1])
        if several and scenario_names and not any(s.cases for _, chosen in jobs for s in chosen):
            scenarios.select(scenarios.build(settings, checkouts[0]), scenario_names)  # a name no checkout knows: strict selection's error
        results = runner.run_many(jobs, settings, env, child=child, progress=say)
    finally:
        if child is not None:
            child.close()
    if not several and results[0].error:
        raise runner.VerifyError(results[0].error)
    codes = [EXIT_ERROR if r.error else EXIT_OK if r.ok else EXIT_FAILED for r in results]
    text = report.render(path, results, codes, empty, settings, live_calls.header(env) if env is not None else None, as_json, several)
    click.echo(live_calls.scrub(text, env) if env is not None else text)
    return max(codes)


class Progress:
    """What verify prints while it runs: a first line at once, then a line per scenario as it finishes (stderr with --json)."""

    def __init__(self, as_json: bool) -> None:
        self.err, self.started = as_json, time.monotonic()
        self.scenarios: dict[tuple[int, str], tuple[str, int, list[runner.CaseOutcome]]] = {}  # (prefix + number, cases, outcomes so far)

    def line(self, text: str) -> None:
        click.echo(text, err=self.err)
        (sys.stderr if self.err else sys.stdout).flush()

    def expect(self, index: int, prefix: str, checkout: object, chosen: list[scenarios.Scenario]) -> None:
        self.scenarios.update(((index, s.NAME), (f"{prefix}{s.NUMBER:>2}", len(s.cases), [])) for s in chosen)
        functions = [t.name for t in checkout.targets]  # type: ignore[attr-defined]
        self.line(f"  {prefix}{len(functions)} function{'s' if len(functions) != 1 else ''} ({', '.join(functions)}), "
                  f"{sum(len(s.cases) for s in chosen)} cases")

    def __call__(self, index: int, outcome: runner.CaseOutcome) -> None:
        shown, cases, done = self.scenarios[(index, outcome.case.scenario)]
        done.append(outcome)
        if len(done) != cases:
            return
        counts = runner.tally(done)
        status = "FAIL" if counts["fail"] else "skip" if counts["skip"] == len(done) else "pass"
        detail = ", ".join(f"{n} {word}" for word, n in (("passed", counts["pass"]), ("failed", counts["fail"]), ("skipped", counts["skip"])) if n)
        self.line(f"  {shown} {outcome.case.scenario:<17} {status:<4}  {detail}  [{time.monotonic() - self.started:5.1f}s]")
