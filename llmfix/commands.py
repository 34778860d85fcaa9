"""The file commands: apply, diff, check, revert, list."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from llmfix.cli import EXIT_ERROR, EXIT_OK, EXIT_PENDING, paths_argument
from llmfix.errors import BadInput, LlmfixError
from llmfix.planning import Options


def one_line_errors(function: Callable[..., int]) -> Callable[..., Any]:
    """Turn llmfix's errors into one line on stderr and exit 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = function(*args, **kwargs)
        except LlmfixError as error:
            click.echo(f"llmfix: error: {error}", err=True)
            code = EXIT_ERROR
        click.get_current_context().exit(code)

    return wrapper


def _split_names(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--only/--skip and the defaults the transforms bake in."""
    decorators = [
        click.option("--only", multiple=True, metavar="NAMES", help="Run only these transforms (comma-separated)."),
        click.option("--skip", multiple=True, metavar="NAMES", help="Leave these transforms out (comma-separated)."),
        click.option("--retries", type=click.IntRange(0, 100), default=10, show_default=True, help="Baked-in retry default (never lowers a larger one)."),
        click.option("--fallback", "fallbacks", multiple=True, metavar="MODEL", help="Baked-in fallback model (repeatable)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Baked-in timeout in seconds (default: the file's, else 600)."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def make_options(only: tuple[str, ...], skip: tuple[str, ...], retries: int, fallbacks: tuple[str, ...], timeout: float | None) -> Options:
    return Options(_split_names(only), _split_names(skip), retries, tuple(fallbacks), timeout)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
verbosity = [
    click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary."),
    click.option("-v", "--verbose", is_flag=True, help="Also list transforms that did not apply."),
]


def with_verbosity(function: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(verbosity):
        function = decorator(function)
    return function


def _print_report(command: str, plans: list, code: int, as_json: bool, quiet: bool, verbose: bool, dry_run: bool = False) -> None:
    from llmfix import report

    if as_json:
        click.echo(report.to_json(command, plans, code))
    elif quiet:
        click.echo(report.to_text(command, plans, dry_run=dry_run).splitlines()[-1])
    else:
        click.echo(report.to_text(command, plans, verbose=verbose, dry_run=dry_run))


@click.command("apply")
@paths_argument
@click.option("--dry-run", is_flag=True, help="Plan and report; write nothing.")
@click.option("--force", is_flag=True, help="Patch even files with uncommitted changes llmfix did not make (git).")
@selection_options
@json_option
@with_verbosity
@one_line_errors
def apply_command(paths, dry_run, force, only, skip, retries, fallbacks, timeout, as_json, quiet, verbose) -> int:
    """Patch the LiteLLM helpers (run_utils.py) and the rubric generator (rubric_utils.py).

    In a git checkout, files with uncommitted changes llmfix did not make are
    refused (exit 2) unless --force, so the diff a reviewer sees is llmfix's alone.
    """
    from llmfix import workflow

    options = make_options(only, skip, retries, fallbacks, timeout)
    plans = workflow.apply(paths, options, dry_run=dry_run, force=force)
    _print_report("apply", plans, EXIT_OK, as_json, quiet, verbose, dry_run)
    return EXIT_OK


@click.command("check")
@paths_argument
@selection_options
@json_option
@with_verbosity
@one_line_errors
def check_command(paths, only, skip, retries, fallbacks, timeout, as_json, quiet, verbose) -> int:
    """Exit 0 when every selected fix is present, 1 when apply would change something."""
    from llmfix import workflow

    plans = workflow.check(paths, make_options(only, skip, retries, fallbacks, timeout))
    code = EXIT_PENDING if any(p.pending for p in plans) else EXIT_OK
    _print_report("check", plans, code, as_json, quiet, verbose)
    return code


@click.command("diff")
@paths_argument
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), help="Write <checkout>.diff into this folder instead of printing.")
@click.option("--stat", is_flag=True, help="Summarise added/removed lines per file and per transform.")
@click.option("--markdown", is_flag=True, help="A PR-ready summary: one section per transform, its diff folded.")
@selection_options
@one_line_errors
def diff_command(paths, output, stat, markdown, only, skip, retries, fallbacks, timeout) -> int:
    """Show, as a git-style unified diff, what apply would do. Writes nothing unless --output."""
    from llmfix import diffing, workflow

    if stat and markdown:
        raise BadInput("--stat and --markdown are two views of the diff; choose one")
    plans = workflow.plan_paths(paths, make_options(only, skip, retries, fallbacks, timeout))
    if markdown:
        from llmfix.markdown import render_markdown

        text = render_markdown(plans)
    else:
        text = diffing.render_stat(plans) if stat else diffing.plan_diff(plans)
    if output is None:
        click.echo(text, nl=False)
        return EXIT_OK
    output.mkdir(parents=True, exist_ok=True)
    roots = sorted({p.target.root for p in plans})
    name = roots[0].name if len(roots) == 1 else "llmfix"
    destination = output / f"{name}.{'stat' if stat else 'md' if markdown else 'diff'}"
    destination.write_text(text, encoding="utf-8", newline="")
    click.echo(f"wrote {destination}")
    return EXIT_OK


@click.command("revert")
@paths_argument
@with_verbosity
@one_line_errors
def revert_command(paths, quiet, verbose) -> int:
    """Undo what llmfix applied (byte for byte when the file is untouched since)."""
    from llmfix import workflow

    results = workflow.revert(paths)
    reverted = [t for t, changed in results if changed]
    if not quiet:
        for target, changed in results:
            if changed or verbose:
                click.echo(f"{target.relpath}: {'reverted' if changed else 'nothing recorded to revert'}")
    click.echo(f"reverted {len(reverted)} file(s)" if reverted else "nothing to revert")
    return EXIT_OK


@click.command("list")
def list_command() -> None:
    """List the transforms, one line each."""
    from llmfix.codemods import TRANSFORMS

    for transform in TRANSFORMS:
        click.echo(f"{transform.NAME:<10} {transform.SUMMARY}")
