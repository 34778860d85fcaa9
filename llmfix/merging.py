"""Carry llmfix's change across merges, so that a merge never conflicts on llmfix's lines.

For each target file both sides changed, git runs the driver (``merge=llmfix``): llmfix's change is
taken out of ours (with the record's notes, else the base's) and the rest merged by ``git merge-file``,
so a conflict can only be the user's edit against upstream's; else git's own merge is the result.
Installed (``install-merge-driver``), the driver puts llmfix's change back and a post-merge hook runs
:func:`reapply`, which makes it afresh on merged code. The driver's command lines are fixed texts (git
substitutes only ``%O %A %B %L`` and the quoted ``%P``); the interpreter and report file reach it by
environment. The installed driver and hook run ``llmfix`` from PATH; without it git merges as it would.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from llmfix import exit_codes, planning, record, sourcetext
from llmfix.codemods import registry, support
from llmfix.commands import one_line_errors
from llmfix.config import CommandSettings, settings_for
from llmfix.discovery import JUDGE_FILE, PACKAGE_DIR, PRUNED_DIRS, TARGET_NAMES, Target, discover
from llmfix.errors import BadInput, Drift, LlmfixError
from llmfix.gitguard import first_line, git, git_out, repository_top
from llmfix.lock import checkout_locks
from llmfix.planning import FilePlan
from llmfix.writing import PendingWrite, ensure_state_dir, remove_state_dir, write_group

DRIVER = "llmfix"
ATTRIBUTE_LINES = (*(f"**/{name} merge={DRIVER}" for name in TARGET_NAMES), f"**/{PACKAGE_DIR}/{JUDGE_FILE} merge={DRIVER}")
REPORT_ENV = "LLMFIX_MERGE_REPORT"  # set by ``llmfix merge``: the driver only takes out, and reports there
PYTHON_ENV = "LLMFIX_PYTHON"  # the interpreter ``llmfix merge`` runs the driver with
DRIVER_PYTHON = sys.executable
RUN_DRIVER = f'"${PYTHON_ENV}" -c "import sys; sys.path.pop(0); from llmfix.cli import run; run()" merge-file %O %A %B %L %P'
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


def git_path(top: Path, name: str) -> Path:
    """``name`` in the repository's git folder (a linked worktree's own or the common one, as git says)."""
    return (top / git_out(["rev-parse", "--git-path", name], top)).resolve()


def merge_texts(top: Path, ours: bytes, base: bytes, theirs: bytes, marker_size: int, labels: Sequence[str]) -> tuple[bytes, int]:
    """``git merge-file`` of the three texts, in the repository's conflict style: (merged bytes, conflicts)."""
    with tempfile.TemporaryDirectory(prefix="llmfix-merge-") as folder:
        paths = [Path(folder, name) for name in ("ours", "base", "theirs")]
        for path, data in zip(paths, (ours, base, theirs)):
            path.write_bytes(data)
        label_args = [part for label in labels for part in ("-L", label)]
        done = git(["merge-file", "-p", f"--marker-size={marker_size}", *label_args, *map(str, paths)], top)
    if not 0 <= done.returncode <= 127:
        raise LlmfixError(f"git merge-file failed: {first_line(done.stderr)}")
    return done.stdout, done.returncode


# the driver: one file
@dataclass
class FileMerge:
    """What the driver did with one file."""

    path: str  # relative to the repository top
    taken_out: bool = False  # llmfix's change was taken out of ours for the merge
    conflicts: int = 0
    reapplied: bool = False
    note: str | None = None  # why llmfix's part was skipped: the file was merged as git would
    overrides: list[str] = field(default_factory=list)


def target_at(top: Path, relpath: str) -> Target:
    """The target file at ``relpath`` of the repository, with its checkout as root."""
    path = top / relpath
    return Target(path, Target(path, path.parent).checkout)


def undo(target: Target, text: str, notes: dict) -> tuple[str, list[str]]:
    """``text`` without llmfix's change, undone where its support import says it was patched; and what blocks that."""
    found = re.search(rf"^from ([A-Za-z_][\w.]*) import [^\n]*\b{support.NAME}\b", text, re.MULTILINE)
    where = target.checkout.joinpath(*found.group(1).split("."), target.path.name) if found else target.path
    ours = Target(where, target.root)
    reverted, blocked = planning.plan_undo([(ours, text)], record.Record(target.checkout, notes={ours.record_path: notes}))
    return reverted.get(ours, text), blocked.get(ours, [])


def take_out(target: Target, ours: str, base: str, known: record.Record, options: CommandSettings) -> str:
    """``ours`` without llmfix's change, undone with the record's notes, else the base's; LlmfixError when neither can."""
    if support.NAME not in ours:
        return ours
    key = known.key_for(target.record_path, gone_only=False)
    clean, blocked = undo(target, ours, known.notes[key] if key else planning.plan_text(target, base, options).notes())
    if blocked and key:
        clean, blocked = undo(target, ours, planning.plan_text(target, base, options).notes())
    if blocked:
        raise LlmfixError(f"llmfix's change can't be taken out ({'; '.join(blocked)})")
    return clean


def drive(top: Path, ours: bytes, base: bytes, theirs: bytes, marker_size: int, relpath: str, put_back: bool) -> tuple[bytes, FileMerge]:
    """The merge of one file, and what was done; never worse than git's own merge of the three."""
    branch = [value for key, value in os.environ.items() if key.startswith("GITHEAD_") and value]  # git's name of the merged branch
    labels, options, result = ("HEAD", "merge base", branch[0] if len(branch) == 1 else "theirs"), CommandSettings(), FileMerge(relpath)
    target, known, clean = target_at(top, relpath), None, None
    try:
        known = record.load(target.checkout)
        text = sourcetext.decode(ours, target.path)
        clean = take_out(target, text, sourcetext.decode(base, target.path), known, options)
        result.taken_out = clean != text
        merged, result.conflicts = merge_texts(top, sourcetext.encode(clean, ours), base, theirs, marker_size, labels)
    except Exception as error:  # noqa: BLE001 - whatever fails, git's own merge is the result
        result.note, clean = f"merged as git would: {error}", None
    if clean is None or result.conflicts:
        own, conflicts = merge_texts(top, ours, base, theirs, marker_size, labels)
        if clean is None or conflicts < result.conflicts:
            merged, result.conflicts, result.taken_out = own, conflicts, False
            result.note = result.note or "merged as git would: that leaves fewer conflicts than with llmfix's change taken out"
    if put_back and known is not None and result.taken_out:
        try:
            merged = _put_back(target, merged, known, result, options)
        except Exception as error:  # noqa: BLE001 - the merged text stands; apply says what is wrong
            result.note = f"merged without llmfix's change, which could not be put back ({error}): run `llmfix apply`"
    return merged, result


def _put_back(target: Target, merged: bytes, known: record.Record, result: FileMerge, options: CommandSettings) -> bytes:
    """llmfix's change on a cleanly merged text, and the file's notes replaced in the work tree's record."""
    before = known.notes.get(known.key_for(target.record_path, gone_only=False) or "", {})
    renote(known, target, None)
    if result.conflicts:  # the work file holds none of llmfix's lines: no note may claim it
        save(target.checkout, known)
        return merged
    text = sourcetext.decode(merged, target.path)
    plan = planning.plan_checkout([(target, text), *_sibling(target)], settings_for(options, target.path.parent), known)[0]
    if plan.drifted:
        raise LlmfixError("; ".join(plan.drifted))
    renote(known, target, plan)
    save(target.checkout, known)
    result.reapplied, result.overrides = True, overrides(target, before, plan)
    return sourcetext.encode(plan.patched, merged)


def _sibling(target: Target) -> list[tuple[Target, str]]:
    """The checkout's other target file as the work tree has it, placed beside ``target`` (imports between them resolve)."""
    other = next((name for name in TARGET_NAMES if name != target.path.name), None)
    beside = target.path.with_name(other or "")
    found = [beside] if other and beside.is_file() else []
    if other and not found:
        try:
            found = [t.path for t in discover([target.checkout]) if t.path.name == other]
        except BadInput:
            pass
    try:
        return [(Target(beside, target.root), sourcetext.decode(found[0].read_bytes(), found[0]))] if len(found) == 1 else []
    except (OSError, BadInput):
        return []


def renote(known: record.Record, target: Target, plan: FilePlan | None, keep: bool = False) -> None:
    """Replace the file's notes (under its path, or the key of its path before a move) with ``plan``'s (``keep``: add them)."""
    for key in {known.key_for(target.record_path, gone_only=False), target.record_path} - {None} if not keep else ():
        known.forget(key)  # type: ignore[arg-type]
    for name, notes in (plan.notes() if plan is not None else {}).items():
        known.add_notes(target.record_path, name, notes)


def save(checkout: Path, known: record.Record, writes: Sequence[PendingWrite] = ()) -> None:
    """Write the files and the record as one group."""
    new = known.to_bytes()
    writes = [*writes, *([PendingWrite(known.path, known.raw, new)] if new != known.raw else [])]
    if not writes:
        return
    with checkout_locks([checkout]):
        ensure_state_dir(checkout)
        write_group(checkout, writes, "merge")
    if new is None:
        remove_state_dir(checkout)


# re-apply after a merge
def overrides(target: Target, before: dict, plan: FilePlan) -> list[str]:
    """Each default upstream changed that llmfix's patch overrides: the helper, upstream's old and new value, what llmfix keeps."""
    found, transforms = [], {t.NAME: t for t in registry.transforms()}
    for name, keyed in plan.notes().items():
        env_var, option = getattr(transforms.get(name), "ENV_VAR", None), getattr(transforms.get(name), "KEY", name)
        for key, note in keyed.items():
            old = before.get(name, {}).get(key)
            if env_var is None or not isinstance(note, list) or not isinstance(old, list) or old[0] == note[0]:
                continue
            kept = _kept(plan.patched, key.split("#")[0].split(":")[0], env_var)
            if kept is not None and kept != note[0]:
                found.append(
                    f"{target.relpath}: {key}(): upstream changed the {option} default from {old[0]!r} to {note[0]!r};"
                    f" llmfix keeps {kept!r} ({env_var} sets it at run time)"
                )
    return found


def _kept(text: str, qualname: str, env_var: str) -> object:
    """The value the patched function ``qualname`` bakes in for ``env_var`` (None: none found)."""
    name = qualname.rsplit(".", 1)[-1]
    for function in ast.walk(ast.parse(text)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name != name:
            continue
        for call in ast.walk(function):
            ours = isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) == support.NAME
            if ours and len(call.args) == 2 and isinstance(call.args[0], ast.Constant) and call.args[0].value == env_var:
                try:
                    return ast.literal_eval(call.args[1])
                except ValueError:
                    return None
    return None


@dataclass
class Reapplied:
    checkout: Path
    plans: list[FilePlan] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # files written or removed, llmfix's record among them
    overrides: list[str] = field(default_factory=list)


def reapply(checkout: Path, targets: Sequence[Target], options: CommandSettings) -> Reapplied:
    """Take llmfix's change out of each target and make it afresh, support module and notes included; one group write."""
    known = record.load(checkout)
    for target in targets:
        key = known.key_for(target.record_path)
        if key not in (None, target.record_path):  # a file the merge moved
            known.notes[target.record_path] = known.notes.pop(key)  # type: ignore[arg-type]
    before, old_support = copy.deepcopy(known.notes), known.support
    data = {t: t.path.read_bytes() for t in targets}
    texts = {t: sourcetext.decode(d, t.path) for t, d in data.items()}
    undone = {t: undo(t, texts[t], known.notes.get(t.record_path, {})) for t in targets}
    plans = planning.plan_checkout([(t, undone[t][0]) for t in targets], settings_for(options, targets[0].path.parent), known)
    problems = [f"{p.target.relpath}: {d}" for p in plans for d in p.drifted]
    if problems:
        raise Drift("anchor missing, nothing written:\n  " + "\n  ".join(problems))
    done, writes = Reapplied(checkout, plans), []
    for plan in plans:
        if plan.context is None:
            writes += _support_writes(checkout, plan, known, old_support)
            continue
        done.overrides += overrides(plan.target, before.get(plan.target.record_path, {}), plan)
        renote(known, plan.target, plan, keep=bool(undone[plan.target][1]))  # a file not taken out keeps its notes
        if plan.patched != texts[plan.target]:
            writes.append(PendingWrite(plan.target.path, data[plan.target], sourcetext.encode(plan.patched, data[plan.target])))
    for key in [k for k in known.notes if not (checkout / k).is_file()]:
        known.forget(key)
    save(checkout, known, writes)
    done.written = [w.path for w in writes] + ([known.path] if known.to_bytes() != known.raw else [])
    return done


def reapply_all(path: Path, options: CommandSettings) -> list[Reapplied]:
    """:func:`reapply` in each checkout under ``path`` (none when there is none)."""
    try:
        targets = discover([path])
    except BadInput:
        return []
    return [reapply(c, [t for t in targets if t.checkout == c], options) for c in sorted({t.checkout for t in targets})]


def _support_writes(checkout: Path, plan: FilePlan, known: record.Record, old_digest: str | None) -> list[PendingWrite]:
    """The support module written where the plan puts it; llmfix's copies elsewhere in the package removed."""
    home = plan.target.path
    writes = [PendingWrite(home, home.read_bytes() if plan.exists else None, plan.patched.encode("utf-8"))] if plan.changed else []
    if plan.outcomes[planning.SUPPORT].status != planning.EDITED:
        known.support = support.digest(plan.patched)
    former = record.Record(checkout, support=old_digest)
    for folder, dirs, files in os.walk(checkout / PACKAGE_DIR):
        dirs[:] = [d for d in dirs if d not in PRUNED_DIRS]
        stray = Path(folder, support.FILE_NAME)
        if support.FILE_NAME in files and stray != home and planning.llmfix_copy(stray, former) is not None:
            writes.append(PendingWrite(stray, stray.read_bytes(), None))
    return writes


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
    stale = {k: v for k, v in wanted.items() if git(["config", "--local", "--get", k], top).stdout.decode("utf-8", "surrogateescape").removesuffix("\n") != v}
    for key, value in stale.items():
        git_out(["config", "--local", key, value], top)
    attributes = top / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.is_file() else ""
    missing = [line for line in ATTRIBUTE_LINES if line not in {existing.strip() for existing in text.splitlines()}]
    if missing:
        attributes.write_text(text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(missing) + "\n", encoding="utf-8")
    click.echo(f".gitattributes: {'merge=llmfix added for the target files (commit it)' if missing else 'already set up'}")
    click.echo(f".git/config: merge driver {'set' if stale else 'already set'}: it runs `llmfix merge-file` from PATH")
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
    report = os.environ.get(REPORT_ENV)
    merged, result = drive(Path.cwd(), *data, marker_size, relpath, put_back=not report)
    Path(ours).write_bytes(merged)
    try:
        if report:
            with open(report, "a", encoding="utf-8") as file:
                file.write(json.dumps(asdict(result)) + "\n")
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
    for done in reapply_all(top, CommandSettings()):
        for line in done.overrides:
            click.echo(f"llmfix: {line}", err=True)
        if done.written:
            names = " ".join(sorted(shlex.quote(p.resolve().relative_to(top).as_posix()) for p in done.written))
            click.echo(f"llmfix: re-applied after the merge: review, then commit: git add -A {names}; git commit", err=True)
    return exit_codes.OK
