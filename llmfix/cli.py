"""The ``llmfix`` command line: exit 0 success, 1 pending changes or a problem found, 2 an error (no file changed).

Commands are imported only when run, so ``--help`` stays fast and apply/diff/check never import litellm.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

import click

from llmfix import __version__
from llmfix.discovery import Here
from llmfix.errors import RegistryError
from llmfix.exit_codes import ERROR as EXIT_ERROR
from llmfix.exit_codes import OK as EXIT_OK

# name -> (module, attribute, one-line help); imported on first use only
COMMANDS = {
    "apply": ("llmfix.commands", "apply_command", "Patch the LiteLLM helpers and the rubric generator."),
    "diff": ("llmfix.commands", "diff_command", "Show the unified diff apply would make."),
    "check": ("llmfix.commands", "check_command", "Exit 1 when apply would change something (for CI)."),
    "revert": ("llmfix.commands", "revert_command", "Undo what llmfix applied."),
    "list": ("llmfix.commands", "list_command", "List the transforms, one line each."),
    "explain": ("llmfix.commands", "explain_command", "Say what a transform does and why, with examples."),
    "verify": ("llmfix.verify.command", "verify_command", "Drive the patched helpers through injected faults."),
    "doctor": ("llmfix.doctor.command", "doctor_command", "Say why LLM calls fail, most likely cause first."),
    "merge": ("llmfix.merge_run", "merge_command", "Merge upstream with llmfix's change out of git's way, then re-apply."),
    "install-merge-driver": ("llmfix.merging", "install_merge_driver_command", "Make git merge/pull carry llmfix's change."),
}
HIDDEN = {  # what git runs: the merge driver and the post-merge hook (llmfix install-merge-driver)
    "merge-file": ("llmfix.merging", "merge_file_command", ""),
    "after-merge": ("llmfix.merging", "after_merge_command", ""),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they run, not at startup."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = COMMANDS.get(name) or HIDDEN.get(name)
        return getattr(importlib.import_module(found[0]), found[1]) if found else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmfix")
def main() -> None:
    """Make open-instruct's LiteLLM calls survive a bad network.

    \b
    llmfix apply     patch the checkout around this folder (or PATH)
    llmfix diff      review the change
    llmfix check     gate CI (exit 1 when a fix is missing)
    llmfix verify    prove the patched code against injected faults
    llmfix doctor    name the real cause of "Connection error."
    """


def run() -> None:
    """Console entry point: any unexpected error is one line on stderr and exit 2."""
    gc.set_threshold(10_000, 20, 100)  # libcst builds ~100k lasting objects on import and a tree's worth per file: collect less often
    try:
        code = main(standalone_mode=False)
    except click.ClickException as error:
        click.echo(f"llmfix: error: {error.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("llmfix: aborted", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("llmfix: interrupted", err=True)
        sys.exit(EXIT_ERROR)
    except RegistryError as error:  # a plugin that can't load, or two transforms that can't be ordered
        click.echo(f"llmfix: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as error:  # noqa: BLE001 - the contract is one line, never a traceback
        if os.environ.get("LLMFIX_DEBUG"):
            raise
        click.echo(f"llmfix: internal error: {type(error).__name__}: {error} (set LLMFIX_DEBUG=1 for details)", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _paths(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[Path, ...]:
    if any(not path.strip() for path in value):
        raise click.BadParameter("an empty path")
    return tuple(Path(path) for path in value) or (Here("."),)


def paths_argument(function):
    """``PATH...``, the checkout containing the current folder when none is given (as ruff does)."""
    return click.argument("paths", nargs=-1, required=False, type=click.Path(), callback=_paths)(function)
