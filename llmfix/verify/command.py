"""``llmfix verify PATH [--live] [--scenario NAME]... [--json]``.

Exit 0 when every case passes (skips allowed) and every LiteLLM helper and generator was
exercised, or when there is nothing to verify; 1 when a case fails or a function could not
be called; 2 when verify could not run. Importing this module is cheap: litellm, libcst
and the mock endpoints load only when the command runs.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from llmfix.exit_codes import ERROR as EXIT_ERROR
from llmfix.exit_codes import OK as EXIT_OK
from llmfix.exit_codes import PENDING as EXIT_FAILED
from llmfix.verify.scenarios import help_line

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

HELP = f"""Drive the checkout's (patched) LiteLLM helpers and rubric generators through injected faults.

\b
Scenarios: {help_line()}.
--live: precheck, completion, rubric with your own endpoint.
Exit 0 all passed (or nothing to verify), 1 a case failed or a function
could not be called, 2 could not run.
"""


def _path(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    if not value.strip():
        raise click.BadParameter("empty path; name a checkout or a file", ctx, param)
    return Path(value)


@click.command("verify", help=HELP)
@click.argument("path", callback=_path)
@click.option("--live", is_flag=True, help="Harmless calls (precheck, one tiny completion, one rubric) with your real endpoint, key and proxies.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME", help="Run only these scenarios (name, number or case id; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def verify_command(path: Path, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> None:
    from llmfix.errors import LlmfixError

    with _stop_signals_interrupt():
        try:
            code = _verify(path, live, scenario_names, as_json)
        except LlmfixError as error:
            click.echo(f"llmfix: error: {error}", err=True)
            code = EXIT_ERROR
    click.get_current_context().exit(code)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end verify like Ctrl-C does: the cleanup (``finally``) runs.

    A second signal during the cleanup is ignored, so the cleanup itself is not cut short.
    """
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


def _verify(path: Path, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> int:
    from llmfix.errors import BadInput
    from llmfix.verify import runner, scenarios

    settings = scenarios.Settings(tenacity=importlib.util.find_spec("tenacity") is not None)
    if any(not part.strip() for value in scenario_names for part in value.split(",")):
        raise BadInput(f"empty scenario name; choose from {', '.join(unit.NAME for unit in scenarios.units())}")
    env = None
    if live:
        from llmfix.verify import live as live_mode

        env = live_mode.live_env()
    child = runner.start_child(settings, env) if path.exists() else None  # litellm imports while we analyse and set up
    try:
        return _verify_with(path, settings, env, scenario_names, as_json, child)
    finally:
        if child is not None:
            child.close()


def _verify_with(path: Path, settings, env, scenario_names: tuple[str, ...], as_json: bool, child) -> int:
    from llmfix.errors import BadInput
    from llmfix.verify import report, runner, scenarios
    from llmfix.verify.analysis import analyse

    checkout = analyse(path)
    if checkout.empty:
        message = f"nothing to verify: no LiteLLM helper or rubric generator under {path}"
        click.echo(json.dumps({"command": "verify", "exit_code": EXIT_OK, "nothing_to_verify": True, "message": message}) if as_json else message)
        return EXIT_OK
    if env is not None:
        from llmfix.verify import live as live_mode

        available = live_mode.scenarios(env, checkout)
    else:
        available = scenarios.build(settings, checkout)
    try:
        chosen = scenarios.select(available, scenario_names)
    except ValueError as error:
        raise BadInput(str(error)) from None
    result = runner.run(checkout, chosen, settings, live_env=env, child=child)
    code = EXIT_OK if result.ok else EXIT_FAILED
    if as_json:
        text = report.to_json(result, code)
    else:
        text = report.to_text(result, _header(path, checkout, settings, env))
    if env is not None:
        text = live_mode.scrub(text, env)
    click.echo(text)
    return code


def _header(path: Path, checkout, settings, env) -> list[str]:
    lines = [f"llmfix verify{' --live' if env is not None else ''} {path}"]
    label = "functions:"
    for module in checkout.modules:
        targets = [t.describe() for t in checkout.targets if t.module == module]
        if targets:
            lines.append(f"  {label:<10} {module}: {', '.join(targets)}")
            label = ""
    if env is not None:
        from llmfix.verify import live as live_mode

        lines += live_mode.header(env)
    else:
        lines.append(
            f"  settings:  LITELLM_NUM_RETRIES={settings.retries}, LITELLM_DEFAULT_TIMEOUT={settings.timeout:g}"
            f" ({settings.hang_timeout:g} in hang), LITELLM_PRECHECK_TIMEOUT={settings.precheck_timeout_passing:g}"
            f" ({settings.precheck_timeout:g} where a failing check is timed),"
            f" LITELLM_PRECHECK_RECHECK={settings.recheck:g} in precheck-recheck; mock endpoints on 127.0.0.1, dummy key"
        )
        lines.append(
            f"             health-*: LITELLM_NUM_RETRIES=0 where calls fail, LITELLM_FAILURE_WINDOW={settings.failure_window},"
            f" LITELLM_MAX_FAILURE_RATE={settings.max_failure_rate:g} (unset in health-unset),"
            f" LITELLM_HEALTH_INTERVAL={settings.health_interval:g} where a summary line is expected"
        )
    return lines
