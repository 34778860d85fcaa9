"""The merge commands: merge, install-merge-driver, and what git runs (merge-file, after-merge; hidden).

The installed driver and hook run ``llmfix`` from PATH (a recreated virtualenv keeps working);
without it the driver says so and merges as git would, and the hook says so.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from llmfix import exit_codes, merge_run
from llmfix.commands import command_settings, one_line_errors, selection_options
from llmfix.config import CommandSettings
from llmfix.discovery import discover
from llmfix.errors import BadInput
from llmfix.merging import ATTRIBUTE_LINES, DRIVER, REPORT_ENV, drive, git, git_out, git_path, reapply, report_to, repository_top

HOOK_MARK = "# written by llmfix install-merge-driver"
NOT_ON_PATH = "llmfix is not on PATH (its virtualenv not active, moved or recreated?)"
INSTALLED_DRIVER = (  # git's shell runs it; %P arrives single-quoted, so it stays outside double quotes
    "if command -v llmfix >/dev/null 2>&1; then llmfix merge-file %O %A %B %L %P; s=$?; [ $s -le 1 ] && exit $s; "
    'echo "llmfix merge driver: llmfix failed (exit $s) on" %P "- merged as git would" >&2; '
    f'else echo "llmfix merge driver: {NOT_ON_PATH}; merged" %P "as git would: run \'llmfix apply\' once it is back" >&2; fi; '
    "exec git merge-file --marker-size=%L -L HEAD -L base -L theirs %A %O %B"
)
HOOK = f"""#!/bin/sh
{HOOK_MARK}: after a merge, llmfix re-applies its change to what the merge brought
[ -n "$LLMFIX_MERGE_REPORT" ] && exit 0
command -v llmfix >/dev/null 2>&1 || {{ echo "llmfix post-merge hook: {NOT_ON_PATH}; run 'llmfix apply' once it is back" >&2; exit 0; }}
exec llmfix after-merge
"""


@click.command("merge")
@click.argument("ref", required=False)
@click.argument("path", required=False, default=".", type=click.Path())
@click.option("--abort", is_flag=True, help="Undo an interrupted `llmfix merge`, or abort the merge in progress.")
@selection_options
@one_line_errors
def merge_command(ref: str | None, path: str, abort: bool, **flags) -> int:
    """Merge REF (like `git merge`) with llmfix's change taken out of git's way, then put back and committed.

    In a git repository with no uncommitted changes: llmfix's change is taken out
    of the target files for the merge, re-applied to the merged code (PATH, default:
    the current folder), and the merge is committed with the patched files and
    llmfix's record. Exit 0 merged; 1 the merge stopped on conflicts (resolve them,
    `git add`, `llmfix apply PATH`, then `git commit`); 2 nothing merged, or
    re-applying failed. A run that was killed is undone by the next `llmfix merge`,
    or by `llmfix merge --abort [PATH]`.
    """
    if abort:
        for line in merge_run.abort(Path(ref if ref is not None and path == "." else path)):
            click.echo(f"llmfix: {line}")
        return exit_codes.OK
    if not ref:
        raise BadInput("name the REF to merge (or --abort)")
    if not path.strip():
        raise BadInput("empty PATH: name a checkout folder")
    report = merge_run.merge(ref, Path(path), command_settings(flags))
    for line in report.recovered:
        click.echo(f"llmfix: {line}", err=True)
    if report.git_output:
        click.echo(report.git_output)
    taken = [f.path for f in report.files if f.taken_out]
    if taken:
        click.echo(f"llmfix took its change out of {', '.join(taken)} for the merge")
    for merged in report.files:
        if merged.note:
            click.echo(f"llmfix: {merged.path}: {merged.note}", err=True)
    for line in (line for done in report.reapplied for line in done.overrides):
        click.echo(f"llmfix: {line}")
    if report.conflicted:
        _say_conflicts(report, path)
        return exit_codes.PENDING
    written = sum(len(done.written) for done in report.reapplied)
    if report.reapplied:
        click.echo(f"llmfix re-applied its change: {written} file(s) written" if written else "llmfix: every fix already present")
    click.echo(f"committed {report.committed[:12]}" if report.committed else "nothing to commit")
    return exit_codes.OK


def _say_conflicts(report, path: str) -> None:
    """Which conflicts are the user's edits against upstream's (llmfix's lines out of the way), which are git's own."""
    clear = {f.path for f in report.files if f.taken_out}
    ours = [name for name in report.conflicted if name in clear]
    other = [name for name in report.conflicted if name not in clear]
    if ours:
        click.echo(
            f"llmfix: the merge stopped on conflicts in {', '.join(ours)}: your edits against {report.ref}'s (llmfix's lines were out of the way)",
            err=True,
        )
    if other:
        click.echo(f"llmfix: the merge stopped on conflicts in {', '.join(other)} (git's own merge)", err=True)
    click.echo(f"llmfix: resolve them, `git add` them, run `llmfix apply {path}`, then `git commit` (or `llmfix merge --abort`)", err=True)


@click.command("install-merge-driver")
@click.argument("path", required=False, default=".", type=click.Path())
@one_line_errors
def install_merge_driver_command(path: str) -> int:
    """Make a plain `git merge`/`git pull` take llmfix's change out of the way and put it back.

    Writes `merge=llmfix` entries for the target files to the repository's
    .gitattributes, the driver to its git config (.git/config) and a post-merge
    hook. Both run `llmfix` from PATH (so a recreated virtualenv keeps working);
    without it, git merges as it would and says why. The driver updates
    .llmfix/record.json in the work tree: commit it after the merge.
    """
    if not path.strip():
        raise BadInput("empty PATH: name a folder of the repository")
    if not Path(path).exists():
        raise BadInput(f"{path}: no such file or directory")
    top = repository_top(Path(path))
    wanted = {f"merge.{DRIVER}.name": "llmfix: merge with llmfix's change taken out, then put back", f"merge.{DRIVER}.driver": INSTALLED_DRIVER}
    config_changed = False
    for key, value in wanted.items():
        current = git(["config", "--local", "--get", key], top)
        if current.returncode != 0 or current.stdout.decode("utf-8", "surrogateescape").removesuffix("\n") != value:
            git_out(["config", "--local", key, value], top)
            config_changed = True
    attributes = top / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.is_file() else ""
    missing = [line for line in ATTRIBUTE_LINES if line not in {existing.strip() for existing in text.splitlines()}]
    if missing:
        attributes.write_text(text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(missing) + "\n", encoding="utf-8")
    click.echo(f".gitattributes: {'merge=llmfix added for the target files (commit it)' if missing else 'already set up'}")
    click.echo(f".git/config: merge driver {'set' if config_changed else 'already set'}: it runs `llmfix merge-file` from PATH")
    hook = git_path(top, "hooks/post-merge")
    shown = hook.relative_to(top).as_posix() if hook.is_relative_to(top) else str(hook)
    current = hook.read_text(encoding="utf-8", errors="replace") if hook.is_file() else None
    if current is not None and HOOK_MARK not in current:
        click.echo(f"{shown}: a hook of your own is there, left alone; add this line to it: llmfix after-merge")
    else:
        if current != HOOK:
            hook.parent.mkdir(parents=True, exist_ok=True)
            hook.write_text(HOOK, encoding="utf-8")
            hook.chmod(0o755)
        click.echo(f"{shown}: {'written' if current != HOOK else 'already there'} (after a merge, llmfix re-applies to what it brought)")
    click.echo("after each merge, commit what llmfix changed (git status shows it: .llmfix/record.json, patched files)")
    return exit_codes.OK


@click.command("merge-file", hidden=True)
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("marker_size", type=int)
@click.argument("relpath")
def merge_file_command(base: str, ours: str, theirs: str, marker_size: int, relpath: str) -> None:
    """git's merge driver (%O %A %B %L %P): exit 0 merged cleanly, 1 conflicts left in OURS."""
    try:
        data = [Path(name).read_bytes() for name in (ours, base, theirs)]
    except OSError as error:
        click.echo(f"llmfix: {relpath}: can't read git's copy: {error}", err=True)
        sys.exit(2)
    merged, result = drive(Path.cwd(), *data, marker_size, relpath, put_back=not os.environ.get(REPORT_ENV))
    Path(ours).write_bytes(merged)
    try:
        report_to(os.environ.get(REPORT_ENV), result)
    except OSError as error:
        click.echo(f"llmfix: {relpath}: could not report to llmfix merge: {error.strerror}", err=True)
    for line in [*([result.note] if result.note else []), *result.overrides]:
        click.echo(f"llmfix: {relpath}: {line}", err=True)
    if result.reapplied:
        click.echo(f"llmfix: {relpath}: merged, llmfix's change put back; .llmfix/record.json updated: commit it", err=True)
    sys.exit(1 if result.conflicts else 0)


@click.command("after-merge", hidden=True)
@one_line_errors
def after_merge_command() -> int:
    """The post-merge hook: re-apply llmfix to what the merge brought."""
    top = repository_top(Path.cwd())
    try:
        targets = discover([top])
    except BadInput:
        return exit_codes.OK  # no checkout here: nothing to do
    for checkout in sorted({t.checkout for t in targets}):
        done = reapply(checkout, [t for t in targets if t.checkout == checkout], CommandSettings())
        for line in done.overrides:
            click.echo(f"llmfix: {line}", err=True)
        if done.written:
            names = " ".join(sorted(shlex.quote(p.resolve().relative_to(top).as_posix()) for p in done.written))
            click.echo(f"llmfix: re-applied after the merge: review, then commit: git add -A {names}; git commit", err=True)
    return exit_codes.OK
