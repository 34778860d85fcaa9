"""``llmfix merge REF``: git's merge with llmfix's change out of the way, then re-applied and committed; safe to kill.

Each phase is journalled in the git folder (``llmfix-merge.json``: HEAD, the ref, its commit, the
phase, the pids of llmfix and its git) before it starts: begin -> attributes (``merge=llmfix`` in
a block of ``info/attributes``) -> git-merge -> merged (block removed) -> reapply -> commit.
:func:`recover` (the next ``llmfix merge``, or ``--abort``) waits for a killed run's git, removes
the block and, unless the merge was committed, saves the work tree as ``refs/llmfix/interrupted-merge``,
resets to the pre-merge commit and removes the untracked files the merge added.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from llmfix import exit_codes, merging
from llmfix.codemods import support
from llmfix.commands import command_settings, one_line_errors, selection_options
from llmfix.config import CommandSettings
from llmfix.discovery import discover
from llmfix.errors import BadInput, LlmfixError
from llmfix.gitguard import first_line, git, git_out, operation_in_progress, repository_top
from llmfix.merging import FileMerge, Reapplied, git_path
from llmfix.planning import llmfix_copy
from llmfix.record import Record
from llmfix.safefiles import replace_file
from llmfix.writing import STATE_DIR, discard, remove_stale_temps

JOURNAL = "llmfix-merge.json"
GIT_OUTPUT = "llmfix-merge.out"
REPORT = "llmfix-merge.jsonl"
BACKUP_REF = "refs/llmfix/interrupted-merge"
BLOCK_START = "# llmfix merge: begin (llmfix removes this block when its merge ends)"
BLOCK_END = "# llmfix merge: end"
GIT_WAIT = 120.0  # how long recovery waits for a git the killed run left running
COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
GIT_LEFTOVER = re.compile(r"^\.merge_file_\w{6}$")  # a killed git's temp file for a merge driver


@dataclass
class MergeReport:
    """What ``llmfix merge`` did."""

    ref: str
    recovered: list[str] = field(default_factory=list)
    git_output: str = ""
    files: list[FileMerge] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)  # relative to the repository top
    reapplied: list[Reapplied] = field(default_factory=list)
    committed: str | None = None


class Journal:
    """The journal of one ``llmfix merge`` run."""

    def __init__(self, top: Path, data: dict) -> None:
        self.top, self.path, self.data = top, git_path(top, JOURNAL), data

    @classmethod
    def load(cls, top: Path) -> Journal | None:
        journal = cls(top, {})
        try:
            journal.data = json.loads(journal.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            journal.data = {}
        data = journal.data
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and COMMIT.match(data[k]) for k in ("head", "target")):
            raise BadInput(f"{journal.path}: not a journal llmfix wrote; remove it, then run this again")
        return journal

    def phase(self, name: str, **extra: object) -> None:
        """Journal ``name`` as the phase reached (the file is replaced whole)."""
        self.data.update(phase=name, **extra)
        replace_file(self.path, json.dumps(self.data).encode("utf-8"))

    def end(self) -> None:
        self.path.unlink(missing_ok=True)

    def run_git(self, phase: str, args: list[str], config: tuple[str, ...] = (), env: dict[str, str] | None = None) -> tuple[int, str]:
        """git in ``phase``, its pid journalled and its output in a file (a git whose llmfix is killed runs on): (exit code, output)."""
        self.phase(phase, git_pid=None)
        output = git_path(self.top, GIT_OUTPUT)
        command = ["git", *(part for pair in config for part in ("-c", pair)), *args]
        with open(output, "wb") as sink:
            try:
                process = subprocess.Popen(
                    command, cwd=self.top, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "LC_ALL": "C", **(env or {})}
                )
            except OSError as error:
                raise BadInput(f"cannot run git: {error.strerror}") from None
            self.phase(phase, git_pid=process.pid)
            code = process.wait()
        text = output.read_bytes().decode("utf-8", "replace").strip()
        output.unlink(missing_ok=True)
        return code, text


def merge(ref: str, path: Path, options: CommandSettings) -> MergeReport:
    """Merge ``ref`` into the current branch with llmfix's change kept out of git's way, then re-apply and commit."""
    if not ref.strip() or ref.startswith("-"):
        raise BadInput(f"{ref!r}: not a git revision")
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    top = repository_top(path)
    report = MergeReport(ref, recovered=recover(top))
    _require_clean(top)
    found = git(["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], top)
    if found.returncode != 0:
        raise BadInput(f"{ref}: not a commit git knows here")
    attributes = git_path(top, "info/attributes")
    head, target = git_out(["rev-parse", "HEAD"], top), found.stdout.decode().strip()
    journal = Journal(top, {"version": 1, "pid": os.getpid(), "head": head, "ref": ref, "target": target, "attributes": attributes.exists()})
    journal.phase("begin")
    reports = git_path(top, REPORT)
    reports.unlink(missing_ok=True)
    _add_block(attributes)
    journal.phase("attributes")
    config = (f"merge.{merging.DRIVER}.name=llmfix: merge with llmfix's change taken out", f"merge.{merging.DRIVER}.driver={merging.RUN_DRIVER}")
    driver_env = {merging.REPORT_ENV: str(reports), merging.PYTHON_ENV: merging.DRIVER_PYTHON}
    code, report.git_output = journal.run_git("git-merge", ["merge", "--no-commit", ref], config, driver_env)
    _remove_block(attributes, journal.data["attributes"])
    journal.phase("merged")
    report.files = [FileMerge(**json.loads(line)) for line in (reports.read_text(encoding="utf-8").splitlines() if reports.is_file() else []) if line.strip()]
    reports.unlink(missing_ok=True)
    merging_now = git_path(top, "MERGE_HEAD").exists()
    if code != 0 and not merging_now:
        journal.end()
        raise LlmfixError(f"git merge {ref} failed: {first_line(report.git_output.encode())}")
    report.conflicted = _settle_support(top, journal, sorted({n for n in git_out(["diff", "--name-only", "--diff-filter=U", "-z"], top).split("\0") if n}))
    if report.conflicted:
        _forget_taken_out(top, journal, report.files)
        journal.end()
        return report
    _reapply(top, path, options, journal, report, merging_now)
    journal.end()
    return report


def _reapply(top: Path, path: Path, options: CommandSettings, journal: Journal, report: MergeReport, merging_now: bool) -> None:
    """Re-apply to each checkout under ``path``, stage what changed and commit."""
    journal.phase("reapply")
    try:
        report.reapplied = merging.reapply_all(path, options)
    except LlmfixError as error:
        journal.end()
        raise LlmfixError(
            f"merged {report.ref} with llmfix's change taken out, but re-applying failed: {error}; fix that and run "
            f"`llmfix apply`, then `git commit`" + (" (or `llmfix merge --abort`)" if merging_now else "")
        ) from None
    written = [p for done in report.reapplied for p in done.written]
    if written:
        _stage(journal, [*written, *(d.checkout / STATE_DIR for d in report.reapplied if (d.checkout / STATE_DIR).is_dir())], "commit")
    if merging_now or written:
        message = ["--no-edit"] if merging_now else ["-m", f"Apply llmfix after merging {report.ref}"]
        code, output = journal.run_git("commit", ["commit", "-q", *message])
        if code != 0:
            raise LlmfixError(f"git commit failed: {first_line(output.encode())}; the merge is staged: commit it yourself")
        report.committed = git_out(["rev-parse", "HEAD"], top)


def _settle_support(top: Path, journal: Journal, conflicted: list[str]) -> list[str]:
    """Resolve git's "file location" conflict on llmfix's support module (upstream renamed its folder); the other conflicts."""
    settled = []
    for path in (top / name for name in conflicted if Path(name).name == support.FILE_NAME):
        known = merging.record.load(merging.target_at(top, path.relative_to(top).as_posix()).checkout)
        if llmfix_copy(path, known) is not None:
            settled.append(path)
    _stage(journal, settled, "merged")
    return [name for name in conflicted if top / name not in settled]


def _stage(journal: Journal, paths: list[Path], phase: str) -> None:
    """``git add`` the paths that exist, ``git rm --cached`` the others."""
    present, gone = [str(p) for p in paths if p.exists()], [str(p) for p in paths if not p.exists()]
    for command, names in ((["add", "-A", "--"], present), (["rm", "-q", "-r", "--cached", "--ignore-unmatch", "--"], gone)):
        code, output = journal.run_git(phase, [*command, *names]) if names else (0, "")
        if code != 0:
            raise LlmfixError(f"git {command[0]} failed: {first_line(output.encode())}")


def _forget_taken_out(top: Path, journal: Journal, files: list[FileMerge]) -> None:
    """A file llmfix's change was taken out of holds none of its lines now: its notes go (staged, so an abort restores them)."""
    records = []
    for merged in (f for f in files if f.taken_out):
        target = merging.target_at(top, merged.path)
        known = merging.record.load(target.checkout)
        merging.renote(known, target, None)
        merging.save(target.checkout, known)
        records.append(known.path)
    _stage(journal, sorted(set(records)), "merged")


def _require_clean(top: Path) -> None:
    marker = operation_in_progress(top)
    if marker is not None:
        raise BadInput(f"{top}: a git operation is in progress ({marker}); finish it, or abort it (`llmfix merge --abort` for a merge)")
    names = [line[3:] for line in git_out(["status", "--porcelain=v1", "--untracked-files=no"], top).splitlines()]
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise BadInput(f"{top}: uncommitted changes ({shown}); commit or stash them first")


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
    if abort:  # undo an interrupted llmfix merge, else abort the merge in progress
        top = repository_top(Path(ref if ref is not None and path == "." else path))
        said = recover(top)
        if not said and not git_path(top, "MERGE_HEAD").exists():
            said = ["no merge in progress: nothing to abort"]
        elif not said:
            done = git(["merge", "--abort"], top)
            if done.returncode != 0:
                raise LlmfixError(f"git merge --abort failed: {first_line(done.stdout + done.stderr)}")
            said = ["the merge in progress is aborted (git merge --abort)"]
        for line in said:
            click.echo(f"llmfix: {line}")
        return exit_codes.OK
    if not ref:
        raise BadInput("name the REF to merge (or --abort)")
    if not path.strip():
        raise BadInput("empty PATH: name a checkout folder")
    report = merge(ref, Path(path), command_settings(flags))
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
    if report.conflicted:  # which are the user's edits against upstream's (llmfix's lines out of the way), which git's own
        clear = {f.path for f in report.files if f.taken_out}
        ours, other = [n for n in report.conflicted if n in clear], [n for n in report.conflicted if n not in clear]
        if ours:
            where = f"conflicts in {', '.join(ours)}: your edits against {report.ref}'s"
            click.echo(f"llmfix: the merge stopped on {where} (llmfix's lines were out of the way)", err=True)
        if other:
            click.echo(f"llmfix: the merge stopped on conflicts in {', '.join(other)} (git's own merge)", err=True)
        click.echo(f"llmfix: resolve them, `git add` them, run `llmfix apply {path}`, then `git commit` (or `llmfix merge --abort`)", err=True)
        return exit_codes.PENDING
    written = sum(len(done.written) for done in report.reapplied)
    if report.reapplied:
        click.echo(f"llmfix re-applied its change: {written} file(s) written" if written else "llmfix: every fix already present")
    click.echo(f"committed {report.committed[:12]}" if report.committed else "nothing to commit")
    return exit_codes.OK


# recovery
def recover(top: Path) -> list[str]:
    """Bring back a repository a killed ``llmfix merge`` left (see the module docstring); what was done, in words."""
    journal = Journal.load(top)
    if journal is None:
        return []
    data = journal.data
    if isinstance(data.get("pid"), int) and data["pid"] != os.getpid() and _alive(data["pid"]):
        raise BadInput(f"{top}: an llmfix merge (pid {data['pid']}) is running here; run this again when it has ended")
    remove_stale_temps([git_path(top, name) for name in (JOURNAL, "info/attributes")])  # left by a kill while they were replaced
    said = _release_index(top, data.get("git_pid"))
    _remove_block(git_path(top, "info/attributes"), data.get("attributes") is not False)
    run = f"the interrupted `llmfix merge {data.get('ref')}`"
    head = git_out(["rev-parse", "HEAD"], top)
    parents = git_out(["rev-list", "--parents", "-n", "1", "HEAD"], top).split()[1:]
    if parents == [data["head"], data["target"]] or (data.get("phase") == "commit" and parents == [data["target"]] and head != data["target"]):
        said.append(f"{run} had committed {head[:12]}: kept")
    elif head in (data["head"], data["target"]):
        said += _roll_back(top, data, run)
    else:
        said.append(f"HEAD moved since {run}: the repository is left as it is")
    journal.end()
    return said


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _release_index(top: Path, pid: object) -> list[str]:
    """Wait for the git a killed run left running; remove the index lock a killed git left."""
    deadline = time.monotonic() + GIT_WAIT
    while isinstance(pid, int) and _alive(pid):
        if time.monotonic() > deadline:
            raise LlmfixError(f"git (pid {pid}), run by an interrupted llmfix merge, is still running; run this again when it has ended")
        time.sleep(0.05)
    lock, deadline = git_path(top, "index.lock"), time.monotonic() + 2.0
    while lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not lock.exists():
        return []
    if not isinstance(pid, int):
        raise LlmfixError(f"{lock} exists: if no git is running, remove it and run this again")
    lock.unlink()
    return [f"removed {lock}, left by a git killed with llmfix merge"]


def _roll_back(top: Path, data: dict, run: str) -> list[str]:
    """Save the work tree as a commit, then reset to the pre-merge commit and remove what the merge added."""
    changed = git(["status", "--porcelain=v1", "--untracked-files=no"], top).stdout or git_path(top, "MERGE_HEAD").exists()
    added = _added(top, data["target"])
    if changed or added or git_out(["rev-parse", "HEAD"], top) != data["head"]:
        _backup(top, run)
        git_out(["reset", "-q", "--hard", data["head"]], top)
    for path in added:
        path.unlink()
    if data.get("phase") in ("reapply", "commit"):  # the reset put back the files of the group write it left half done
        with contextlib.suppress(BadInput):
            for checkout in {t.checkout for t in discover([top])}:
                discard(checkout)
    if not (changed or added):
        return [f"{run} had changed nothing yet"]
    return [f"{run} is undone: HEAD, index and work tree are back at {data['head'][:12]} (the work tree it left is saved as {BACKUP_REF})"]


def _backup(top: Path, run: str) -> None:
    index = git_path(top, "llmfix-backup.index")
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        for args in (["read-tree", "HEAD"], ["add", "-A"]):
            if git(args, top, env=env).returncode != 0:
                raise LlmfixError(f"git {args[0]} failed while saving the work tree {run} left; nothing was changed")
        tree = git(["write-tree"], top, env=env).stdout.decode().strip()
        identity = ("user.name=llmfix", "user.email=llmfix@localhost")
        commit = git(["commit-tree", tree, "-p", "HEAD", "-m", f"The work tree {run} left"], top, config=identity).stdout.decode().strip()
        git_out(["update-ref", BACKUP_REF, commit], top)
    finally:
        index.unlink(missing_ok=True)


def _added(top: Path, merged: str) -> list[Path]:
    """The untracked files the merge added: copies of the merged commit's, llmfix's support module, a killed git's temp files."""
    names = [n for n in git_out(["ls-files", "-z", "--others", "--exclude-standard"], top).split("\0") if n]
    if not names:
        return []
    listed = git(["ls-tree", "-r", "-z", merged, "--", *names], top).stdout.decode("utf-8", "surrogateescape")
    blobs = {entry.split("\t", 1)[1]: entry.split()[2] for entry in listed.split("\0") if "\t" in entry}
    hashes = git_out(["hash-object", "--", *names], top).splitlines()
    ours = [top / n for n in names if Path(n).name == support.FILE_NAME and llmfix_copy(top / n, Record(top)) is not None]
    return [top / name for name, blob in zip(names, hashes) if blobs.get(name) == blob or GIT_LEFTOVER.match(name) or top / name in ours]


def _add_block(path: Path) -> None:
    text = _without_block(path.read_text(encoding="utf-8", errors="surrogateescape") if path.is_file() else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    block = "\n".join((BLOCK_START, *merging.ATTRIBUTE_LINES, BLOCK_END))
    replace_file(path, (text + ("\n" if text and not text.endswith("\n") else "") + block + "\n").encode("utf-8", "surrogateescape"))


def _remove_block(path: Path, existed: bool) -> None:
    text = path.read_text(encoding="utf-8", errors="surrogateescape") if path.is_file() else ""
    kept = _without_block(text)
    if kept != text and (kept or existed):
        replace_file(path, kept.encode("utf-8", "surrogateescape"))
    elif kept != text:
        path.unlink()


def _without_block(text: str) -> str:
    """``text`` without llmfix's block (a killed run may have left one)."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        inside = (inside or line.rstrip("\r\n") == BLOCK_START) and line.rstrip("\r\n") != BLOCK_END
        out += [] if inside or line.rstrip("\r\n") == BLOCK_END else [line]
    return "".join(out)
