"""The file commands: apply, diff, check, revert, list, explain.

Their transform flags come from the transforms' declared options (validated by the option itself).
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from llmfix import exit_codes
from llmfix.cli import paths_argument
from llmfix.codemods import registry
from llmfix.codemods.settings import Settings, SettingsError
from llmfix.codemods.transform import Option
from llmfix.config import CommandSettings
from llmfix.errors import BadInput, LlmfixError


def one_line_errors(function: Callable[..., int]) -> Callable[..., Any]:
    """Turn llmfix's errors into one line on stderr and exit 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = function(*args, **kwargs)
        except LlmfixError as error:
            click.echo(f"llmfix: error: {error}", err=True)
            code = exit_codes.ERROR
        click.get_current_context().exit(code)

    return wrapper


class _OptionValue(click.ParamType):
    """A transform option's value, checked by the option's own ``parse`` (the text is kept)."""

    def __init__(self, option: Option) -> None:
        self.option = option
        self.name = option.metavar.lower()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            self.option.parse(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return str(value)


def _names_option(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """--only/--skip's values; an empty name is bad input."""
    if any(not value.strip() for value in values):
        raise click.BadParameter("an empty transform name; choose from " + ", ".join(registry.names()))
    return tuple(values)


def selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--only/--skip and one flag per option any transform declares."""
    for _, option in reversed(registry.options()):
        option_flag = click.option(option.flag, option.name, type=_OptionValue(option), multiple=option.multiple, metavar=option.metavar, help=option.help)
        function = option_flag(function)
    for flag, what in (("--skip", "Leave these transforms out"), ("--only", "Run only these transforms")):
        function = click.option(flag, multiple=True, metavar="NAMES", callback=_names_option, help=f"{what} (comma-separated).")(function)
    return function


def command_settings(kwargs: dict[str, Any]) -> CommandSettings:
    """The transform flags given on the command line (popped from ``kwargs``)."""
    flags: dict[str, Any] = {}
    for name in ("only", "skip", *(option.name for _, option in registry.options())):
        value = kwargs.pop(name, None)
        if value not in (None, (), []):
            flags[name] = list(value) if isinstance(value, tuple) else value
    try:
        Settings.build(flags=flags)  # the flags alone, before any file is read
    except SettingsError as error:
        raise BadInput(str(error)) from None
    return CommandSettings(flags)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")


def with_verbosity(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("-v", "--verbose", is_flag=True, help="Also list transforms that did not apply.")(function)
    return click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary.")(function)


def _workflow():
    """:mod:`llmfix.workflow`, what its imports built frozen (never scanned again)."""
    from llmfix import workflow  # libcst's import (1/4 s) stays off `llmfix list`, `explain` and --help

    gc.freeze()
    return workflow


def _print_report(command: str, plans: list, code: int, as_json: bool, quiet: bool, verbose: bool, dry_run: bool = False) -> None:
    from llmfix import report  # libcst's import (1/4 s) stays off `llmfix list`, `explain` and --help

    click.echo(report.to_json(command, plans, code, dry_run) if as_json else report.to_text(command, plans, verbose, dry_run, quiet))


@click.command("apply")
@paths_argument
@click.option("--dry-run", is_flag=True, help="Plan and report what would change; write nothing.")
@click.option("--force", is_flag=True, help="Patch even files with uncommitted changes llmfix did not make (git).")
@selection_options
@json_option
@with_verbosity
@one_line_errors
def apply_command(paths, dry_run, force, as_json, quiet, verbose, **flags) -> int:
    """Patch the LiteLLM helpers, the rubric generator and the LLM judge; write the support module.

    With no PATH, the checkout around the current folder is patched.

    The files of one checkout are written together or not at all. In a git checkout,
    files with uncommitted changes llmfix did not make are refused (exit 2) unless
    --force, so the diff a reviewer sees is llmfix's alone. Flags override the
    checkout's [tool.llmfix] settings.
    """
    plans = _workflow().apply(paths, command_settings(flags), dry_run=dry_run, force=force)
    _print_report("apply", plans, exit_codes.OK, as_json, quiet, verbose, dry_run)
    return exit_codes.OK


@click.command("check")
@paths_argument
@selection_options
@json_option
@with_verbosity
@one_line_errors
def check_command(paths, as_json, quiet, verbose, **flags) -> int:
    """Exit 0 when every selected fix is present, 1 when apply would change something."""
    plans = _workflow().plan_paths(paths, command_settings(flags))
    code = exit_codes.PENDING if any(p.pending for p in plans) else exit_codes.OK
    _print_report("check", plans, code, as_json, quiet, verbose)
    return code


def _output_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is not None and not value.strip():
        raise click.BadParameter("an empty folder name")
    return Path(value) if value is not None else None


@click.command("diff")
@paths_argument
@click.option("--output", callback=_output_folder, metavar="DIR", help="Write <checkout>.diff (or .md, .stat) into this folder instead of printing.")
@click.option("--stat", is_flag=True, help="Added/removed lines and hunks per changed file and per transform.")
@click.option(
    "--markdown",
    is_flag=True,
    help="A PR description: per function what changes, the callers it reaches, how to restore the old behaviour, the test plan.",
)
@click.option("--exit-code", "exit_code", is_flag=True, help="Exit 1 when there are changes (like git diff --exit-code).")
@selection_options
@json_option
@one_line_errors
def diff_command(paths, output, stat, markdown, exit_code, as_json, **flags) -> int:
    """Show, as a git-style unified diff, what apply would do. Writes nothing unless --output."""
    from llmfix import report  # libcst's import (1/4 s) stays off `llmfix list`, `explain` and --help

    if sum((stat, markdown, as_json)) > 1:
        raise BadInput("--stat, --markdown and --json are views of the same diff; choose one")
    plans = _workflow().plan_paths(paths, command_settings(flags))
    suffix = "md" if markdown else "stat" if stat else "json" if as_json else "diff"
    text = report.diff_view(plans, suffix)
    code = exit_codes.PENDING if exit_code and any(p.changed for p in plans) else exit_codes.OK
    if output is None:
        click.echo(text, nl=False)
        return code
    output.mkdir(parents=True, exist_ok=True)
    roots = sorted({p.target.root for p in plans})
    name = roots[0].name if len(roots) == 1 else "llmfix"
    destination = output / f"{name}.{suffix}"
    destination.write_text(text, encoding="utf-8", newline="")
    click.echo(f"wrote {destination}")
    return code


@click.command("revert")
@paths_argument
@click.option("--dry-run", is_flag=True, help="Say what would be reverted; write nothing.")
@json_option
@with_verbosity
@one_line_errors
def revert_command(paths, dry_run, as_json, quiet, verbose) -> int:
    """Undo what llmfix applied: byte for byte when a file is untouched since, else edit by edit.

    llmfix's edits are found by their structure in the code as it is now; a file where one
    can't be found unambiguously (edited, or changed by an upstream merge) is left as it is and named, with the command that gets upstream's
    version back; the other files are reverted. Exit 0 all reverted (or nothing to
    revert), 1 some files left patched, 2 nothing could be reverted.
    """
    report = _workflow().revert_files(paths, dry_run=dry_run)
    code = (exit_codes.PENDING if report.reverted else exit_codes.ERROR) if report.blocked else exit_codes.OK
    verb = "would revert" if dry_run else "reverted"
    if as_json:
        files = [{"path": t.relpath, "root": str(t.root), "reverted": t in report.reverted, "blocked": report.blocked_lines(t)} for t in report.targets]
        click.echo(json.dumps({"command": "revert", "dry_run": dry_run, "exit_code": code, "files": files, "kept": report.kept}, indent=2))
        return code
    if not quiet:
        for target in report.targets:
            if target in report.reverted:
                click.echo(f"{target.relpath}: {verb}")
            elif verbose and target not in report.blocked:
                click.echo(f"{target.relpath}: nothing recorded to revert")
        for line in report.kept:
            click.echo(line)
    if report.blocked:
        click.echo("\n".join(report.blocked_lines()), err=True)
    summary = f"{verb} {len(report.reverted)} file(s)" if report.reverted else "nothing to revert" if not report.blocked else "nothing reverted"
    if report.blocked:
        summary += f"; {len(report.blocked)} file(s) left as they are (see above)"
    click.echo(summary)
    return code


@click.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@one_line_errors
def list_command(paths, as_json: bool) -> int:
    """List the transforms, one line each; with PATH, every LiteLLM call site there and what llmfix does to it."""
    if paths:
        from llmfix.callsites import call_sites  # libcst's import stays off the plain list

        sites = call_sites(paths)
        if as_json:
            click.echo(json.dumps({"command": "list", "call_sites": [asdict(s) for s in sites]}, indent=2))
        for site in sites if not as_json else ():
            click.echo(f"{site.path}:{site.line} {site.function or '(a reference)'} [{site.kind}]: {site.action}")
    elif as_json:
        click.echo(json.dumps({"command": "list", "transforms": [_transform_json(t) for t in registry.transforms()]}, indent=2))
    else:
        for transform in registry.transforms():
            click.echo(f"{transform.NAME:<10} {transform.SUMMARY}")
    return exit_codes.OK


def _transform_json(transform) -> dict[str, Any]:
    options = [{"flag": o.flag, "help": o.help, "default": list(o.default) if isinstance(o.default, tuple) else o.default} for o in transform.OPTIONS]
    return {"name": transform.NAME, "summary": transform.SUMMARY, "options": options}


@click.command("explain")
@click.argument("name")
@one_line_errors
def explain_command(name: str) -> int:
    """Say what a transform does and why, with its before/after examples (the ones the tests run)."""
    import difflib  # only `explain` needs it

    try:
        transform = registry.get(name)
    except KeyError:
        raise BadInput(f"unknown transform {name!r}; choose from {', '.join(registry.names())}") from None
    lines = [f"{transform.NAME}: {transform.SUMMARY}", "", transform.documentation(), ""]
    lines += [f"option {option.flag} {option.metavar}: {option.help}" for option in transform.OPTIONS] + ([""] if transform.OPTIONS else [])
    for number, example in enumerate(transform.EXAMPLES, 1):
        flags = " ".join(f"--{k} {v}" for k, v in example.options.items())
        shown = example.before
        if example.after is not None:  # a no-op example shows the unchanged code
            shown = "".join(difflib.unified_diff(example.before.splitlines(True), example.after.splitlines(True), "before", "after", n=2))
        lines += [f"Example {number}: {example.title} ({example.status}{', ' + flags if flags else ''})", ""]
        lines += ["    " + line if line else "" for line in shown.splitlines()] + [""]
    click.echo("\n".join(lines).rstrip() + "\n")
    return exit_codes.OK
