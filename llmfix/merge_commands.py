"""The merge commands: merge, install-merge-driver, and the driver git runs (merge-file, hidden)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmfix import exit_codes
from llmfix.commands import command_settings, one_line_errors, selection_options


def _path_argument(function):
    return click.argument("path", required=False, default=".", type=click.Path())(function)


@click.command("merge")
@click.argument("ref")
@_path_argument
@selection_options
@one_line_errors
def merge_command(ref: str, path: str, **flags) -> int:
    """Merge REF (like `git merge`) with llmfix's change taken out of git's way, then put back and committed.

    In a git repository with no uncommitted changes: llmfix's change is taken out
    of run_utils.py and rubric_utils.py for the merge, `llmfix apply` runs on the
    merged code (PATH, default: the current folder), and the merge is committed
    with the patched files and llmfix's record. Exit 0 merged; 1 the merge stopped
    on conflicts between your own edits and upstream's (resolve them, `git add`,
    `llmfix apply PATH`, then `git commit -a`); 2 nothing merged, or apply failed.
    """
    from llmfix.errors import BadInput
    from llmfix.merging import merge

    if not path.strip():
        raise BadInput("empty PATH: name a checkout folder")
    report = merge(ref, Path(path), command_settings(flags))
    if report.git_output:
        click.echo(report.git_output)
    taken = [f.path for f in report.files if f.taken_out]
    if taken:
        click.echo(f"llmfix took its change out of {', '.join(taken)} for the merge")
    for merged in report.files:
        if merged.note:
            click.echo(f"llmfix: {merged.path}: merged as git would: {merged.note}", err=True)
    if report.conflicted:
        click.echo(f"llmfix: the merge stopped on conflicts in {', '.join(report.conflicted)} (your edits against {ref}'s; none on llmfix's lines)", err=True)
        click.echo(f"llmfix: resolve them, `git add` them, run `llmfix apply {path}`, then `git commit -a`", err=True)
        return exit_codes.PENDING
    applied = sum(1 for p in report.plans if p.changed) + len(report.replanned)
    if report.plans:
        click.echo(f"llmfix re-applied to {applied} file(s)" if applied else "llmfix: every fix already present")
    if report.committed:
        click.echo(f"committed {report.committed[:12]}")
    elif report.up_to_date:
        click.echo("nothing to commit")
    return exit_codes.OK


@click.command("install-merge-driver")
@_path_argument
@one_line_errors
def install_merge_driver_command(path: str) -> int:
    """Make a plain `git merge`/`git pull` take llmfix's change out of the way and put it back.

    Writes `merge=llmfix` entries for run_utils.py and rubric_utils.py to the
    repository's .gitattributes and the driver to its git config (.git/config).
    The driver updates .llmfix/state.json in the work tree: commit it after the merge.
    """
    from llmfix.errors import BadInput
    from llmfix.merging import install_driver

    if not path.strip():
        raise BadInput("empty PATH: name a folder of the repository")
    report = install_driver(Path(path))
    attributes = report.attributes.relative_to(report.top).as_posix()
    click.echo(f"{attributes}: {'merge=llmfix added for run_utils.py and rubric_utils.py (commit it)' if report.attributes_changed else 'already set up'}")
    click.echo(f".git/config: merge driver {'set to' if report.config_changed else 'already'} {report.command}")
    hook = report.hook.relative_to(report.top).as_posix() if report.hook.is_relative_to(report.top) else str(report.hook)
    if report.hook_state == "foreign":
        click.echo(f"{hook}: a hook of your own is there, left alone; add this line to it: {sys.executable} -m llmfix.merge_commands after-merge")
    else:
        click.echo(f"{hook}: {'written' if report.hook_state == 'written' else 'already there'} (after a merge: the record follows moved files, new code is patched)")
    click.echo("after each merge, commit what llmfix changed (git status shows it: .llmfix/state.json, newly patched files)")
    return exit_codes.OK


@click.command("merge-file", hidden=True)
@click.option("--take-out-only", is_flag=True, help="Only take llmfix's change out (llmfix merge applies afterwards).")
@click.option("--label", default=None, help="The conflict label of theirs.")
@click.option("--report", "report_file", type=click.Path(), default=None, help="Append what was done, as a JSON line.")
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("marker_size", type=int)
@click.argument("relpath")
def merge_file_command(take_out_only: bool, label: str | None, report_file: str | None, base: str, ours: str, theirs: str, marker_size: int, relpath: str) -> None:
    """git's merge driver (%O %A %B %L %P): exit 0 merged cleanly, 1 conflicts left in OURS."""
    from llmfix.merging import drive, merge_in_place, report_to

    try:
        merged = drive(Path(base), Path(ours), Path(theirs), marker_size, relpath, put_back=not take_out_only, label=label)
    except Exception as error:  # noqa: BLE001 - a driver must still leave git a merge: git's own
        click.echo(f"llmfix: {relpath}: merged as git would: {type(error).__name__}: {error}", err=True)
        sys.exit(merge_in_place(Path(base), Path(ours), Path(theirs), marker_size, label))
    if report_file:
        report_to(Path(report_file), merged)
    if merged.note:
        click.echo(f"llmfix: {relpath}: {merged.note}", err=True)
    if merged.reapplied:
        click.echo(f"llmfix: {relpath}: merged, llmfix's change put back; .llmfix/state.json updated: commit it", err=True)
    sys.exit(1 if merged.conflicts else 0)


@click.command("after-merge", hidden=True)
@one_line_errors
def after_merge_command() -> int:
    """The post-merge hook: the record follows moved files, then apply patches what upstream brought."""
    from llmfix.merging import after_merge, repository_top

    plans = after_merge(repository_top(Path.cwd()))
    changed = [p.target.relpath for p in plans if p.changed]
    if changed:
        click.echo(f"llmfix: patched {', '.join(changed)} after the merge: review and commit (git commit -a)", err=True)
    return exit_codes.OK


@click.group(hidden=True)
def git_side() -> None:
    """What git runs: the merge driver and the post-merge hook."""


git_side.add_command(merge_file_command)
git_side.add_command(after_merge_command)

if __name__ == "__main__":  # git runs ``python -m llmfix.merge_commands merge-file|after-merge ...``
    git_side(prog_name="llmfix")
