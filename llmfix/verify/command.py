"""``llmfix verify PATH [--live] [--scenario NAME]... [--json]``.

Exit 0 when every case passes (skips allowed) or there is nothing to verify, 1 when a
case fails, 2 when verify could not run. Importing this module is cheap: litellm, libcst
and the mock endpoints load only when the command runs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@click.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--live", is_flag=True, help="Harmless calls (precheck, one tiny completion, one rubric) with your real endpoint, key and proxies.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME", help="Run only these scenarios (name, number or case id; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def verify_command(path: Path, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> None:
    """Drive the checkout's (patched) LiteLLM helpers and rubric generator through injected faults.

    \b
    Scenarios: 1 healthy, 2 transient, 3 persistent-500, 4 rate-limit, 5 fallback,
    6 hang, 7 empty, 8 precheck, 9 proxy. --live: precheck, completion, rubric.
    Exit 0 all passed (or nothing to verify), 1 a case failed, 2 could not run.
    """
    from llmfix.errors import LlmfixError

    try:
        code = _verify(path, live, scenario_names, as_json)
    except LlmfixError as error:
        click.echo(f"llmfix: error: {error}", err=True)
        code = EXIT_ERROR
    click.get_current_context().exit(code)


def _verify(path: Path, live: bool, scenario_names: tuple[str, ...], as_json: bool) -> int:
    from llmfix.verify import runner, scenarios

    settings = scenarios.Settings(tenacity=importlib.util.find_spec("tenacity") is not None)
    env = None
    if live:
        from llmfix.verify import live as live_mode

        env = live_mode.live_env()
    if path.exists():
        child = runner.start_child(settings, env)  # litellm imports while we analyse and set up
    else:
        child = None
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

        available = live_mode.scenarios(env)
    else:
        available = scenarios.build(settings, checkout.modules.get("rubric_utils"))
    try:
        chosen = scenarios.select(available, scenario_names)
    except ValueError as error:
        raise BadInput(str(error)) from None
    result = runner.run(checkout, chosen, settings, live_env=env, child=child)
    code = EXIT_FAILED if result.failed else EXIT_OK
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
    if "run_utils" in checkout.modules:
        names = ", ".join(f"{name} ({kind})" for kind, name in checkout.helpers.items())
        lines.append(f"  helpers:   {checkout.modules['run_utils']}: {names}")
    if checkout.generator:
        lines.append(f"  generator: {checkout.modules['rubric_utils']}: {checkout.generator}")
    if env is not None:
        from llmfix.verify import live as live_mode

        lines += live_mode.header(env)
    else:
        lines.append(
            f"  settings:  LITELLM_NUM_RETRIES={settings.retries}, LITELLM_DEFAULT_TIMEOUT={settings.timeout:g}"
            f" ({settings.hang_timeout:g} in 6), LITELLM_PRECHECK_TIMEOUT={settings.precheck_timeout:g};"
            " mock endpoints on 127.0.0.1, dummy key"
        )
    return lines
