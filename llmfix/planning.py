"""Plan what the selected transforms do to a checkout, and what revert does; nothing is written here.

Every transform plans on the file's one tree and their edits are applied together. The support module
the patched files call is planned with them: written when missing, rewritten when llmfix's copy changed,
kept (and said) when someone edited it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from llmfix import sourcetext
from llmfix.codemods import support
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.analysis.tree import walk
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import EditConflict, Edits, apply_edits
from llmfix.codemods.notes import BadNote
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import ConfigError
from llmfix.codemods.style.imports import remove_import
from llmfix.codemods.transform import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, Outcome
from llmfix.config import CommandSettings, settings_for
from llmfix.discovery import Target, package_root
from llmfix.errors import BadInput
from llmfix.record import Record

SUPPORT = "support"  # the name the support module's outcome goes by (and its import's notes)
BLANK_FACT = "blank lines after the support import"  # what placing the import added to the next line
EDITED = "edited"  # its status when someone changed it by hand
_SUPPORT_IMPORT = re.compile(rf"^from ([A-Za-z_][\w.]*) import [^\n]*\b{support.NAME}\b", re.MULTILINE)


@dataclass
class FilePlan:
    """One file: its text before and after the selected transforms, their outcomes and (until released) the tree and
    each transform's edits. The support module is a plan too: ``original`` is ``""`` when the file does not exist yet."""

    target: Target
    original: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    context: FileContext | None = field(default=None, repr=False)
    parts: list[tuple[str, Edits]] = field(default_factory=list, repr=False)  # (transform, its edits)
    final: str | None = field(default=None, repr=False)  # the text apply writes; None: the original
    exists: bool = True
    support: bool = False  # the support module's plan
    delete: bool = False  # a support module's plan: llmfix's copy goes (the patched files import another)
    moved_from: str | None = None  # the record's key of the notes the file was patched with, when not its own path
    _notes: dict[str, dict[str, object]] | None = field(default=None, repr=False)

    @property
    def steps(self) -> list[str]:
        """The transforms that change the file, in order (none once released)."""
        if self.support:
            return [SUPPORT] if self.changed else []
        return [name for name, edits in self.parts if edits]

    def release(self) -> None:
        """Keep the result (text, notes, outcomes) and let the trees go: a large batch holds one tree at a time."""
        if self.context is not None:
            self._notes = self.notes()
            self.context, self.parts = None, []

    def step_texts(self) -> list[tuple[str, str, str]]:
        """(transform, text before, text after) for each transform that changed the file."""
        steps, changing = self.steps, [edits for _, edits in self.parts if edits]
        middle = [apply_edits(self.context, changing[: i + 1]).code for i in range(len(steps) - 1)]  # type: ignore[arg-type]
        texts = [self.original, *middle, self.patched]
        return [(name, texts[i], texts[i + 1]) for i, name in enumerate(steps)]

    @property
    def patched(self) -> str:
        return self.original if self.final is None else self.final

    @property
    def changed(self) -> bool:
        return self.patched != self.original

    @property
    def uses_support(self) -> bool:
        return any(edits.support for _, edits in self.parts)

    def notes(self) -> dict[str, dict[str, object]]:
        if self._notes is not None:
            return self._notes
        found = {name: edits.notes for name, edits in self.parts if edits.notes}
        blank = self.context.facts.get(BLANK_FACT) if self.context is not None else None
        return {**found, SUPPORT: {"blank": blank}} if blank else found

    @property
    def drifted(self) -> list[str]:
        return [f"{name}: {o.reason}" for name, o in self.outcomes.items() if o.status == ANCHOR_MISSING]

    @property
    def pending(self) -> bool:
        return any(o.status == APPLIED for o in self.outcomes.values())

    def to_json(self) -> dict:
        transforms = {name: o.to_json() for name, o in self.outcomes.items()}
        return {"path": self.target.relpath, "root": str(self.target.root), "changed": self.changed, "transforms": transforms}


def parse(path: Path, source: str) -> cst.Module:
    """libcst's tree of ``source``; BadInput (one line) for a syntax error, a merge conflict or too deep code."""
    sourcetext.check_nesting(path, source)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        conflict = sourcetext.conflict_marker_line(source)
        if conflict is not None:
            raise BadInput(f"{path}: unresolved merge conflict at line {conflict} (run `git mergetool` or edit, then re-run)") from None
        raise BadInput(f"{path}:{error.raw_line}:{error.raw_column}: syntax error: {error.message}") from None
    except RecursionError:
        raise BadInput(f"{path}: code nested too deeply for llmfix's parser; nothing written") from None


@contextlib.contextmanager
def analysing(path: Path) -> Iterator[None]:
    """BadInput for code deeper than the analysis can walk: the nesting check reads CPython's tree, where a long ``and``
    chain or thousands of implicitly joined strings are flat, but libcst nests them."""
    try:
        yield
    except RecursionError:
        raise BadInput(f"{path}: code nested too deeply for llmfix's analysis; nothing written") from None


def dotted_module_name(path: Path) -> str | None:
    """How the checkout imports ``path``: ``open_instruct.x.y`` from the parent of its topmost ``open_instruct``."""
    root = package_root(path := path.absolute())
    return ".".join(path.relative_to(root).with_suffix("").parts) if root is not None else None


def support_target(targets: Sequence[Target]) -> Target:
    """Where the support module goes: beside the LiteLLM helpers (run_utils.py), else beside the first target."""
    home = next((t for t in targets if t.path.name == "run_utils.py"), targets[0])
    return Target(home.path.with_name(support.FILE_NAME), home.root)


def imported_support(source: str) -> str | None:
    """The support module ``source`` imports (``from P import litellm_utils`` gives ``P.litellm_utils``); None: none."""
    found = _SUPPORT_IMPORT.search(source)
    return f"{found.group(1)}.{support.NAME}" if found else None


def module_path(checkout: Path, module: str) -> Path:
    return checkout.joinpath(*module.split(".")).with_suffix(".py")


def llmfix_copy(path: Path, record: Record) -> str | None:
    """The text of the support module at ``path`` when it is a copy llmfix wrote (this version's or the record's)."""
    try:
        text = sourcetext.decode(path.read_bytes(), path) if path.is_file() and not path.is_symlink() else None
    except (OSError, BadInput):
        return None
    return text if text is not None and support.digest(text) in (record.support, support.digest(support.text())) else None


def _context(target: Target, module: cst.Module, source: str, support_module: str, noted: dict | None = None) -> FileContext:
    try:
        style = Style.for_file(module, target.path, source)
    except ConfigError as error:
        raise BadInput(str(error)) from None
    return FileContext(module, style, dotted_module_name(target.path) or target.path.stem, support_module, noted=noted or {})


def _check_compiles(path: Path, text: str) -> None:
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:  # a transform bug: never write such a file
        raise BadInput(f"{path}: patched text does not compile ({error.msg}); nothing written") from None
    except RecursionError:
        raise BadInput(f"{path}: too deeply nested to check; nothing written") from None


def _finish(plan: FilePlan) -> FilePlan:
    try:
        tree = apply_edits(plan.context, [e for _, e in plan.parts]) if plan.steps else None  # type: ignore[arg-type]
    except EditConflict as error:
        raise BadInput(f"{plan.target.path}: {error}; nothing written") from None
    text = tree.code if tree is not None else plan.original  # rendered once: a render costs as much as a parse
    if tree is not None and f"{support.NAME}." not in text and f"{support.NAME}." in plan.original:  # all taken off
        blank = plan.context.noted.get(SUPPORT, {}).get("blank", 0)  # type: ignore[union-attr]
        text = remove_import(plan.context, tree, blank if blank in (0, 1, 2) else 0).code  # type: ignore[arg-type]
    plan.final = text if plan.steps else None
    if plan.changed:
        _check_compiles(plan.target.path, plan.patched)
    return plan


def plan_file(
    target: Target, source: str, settings: Settings, support_module: str, module: cst.Module | None = None, noted: dict | None = None
) -> FilePlan:
    """What the selected transforms make of ``source`` (the text of ``target``; ``noted``: the record's notes of it)."""
    file = _context(target, module if module is not None else parse(target.path, source), source, support_module, noted)
    plan = FilePlan(target, source, context=file)
    for transform in settings.instantiate():
        edits = Edits()
        outcome = transform.plan(file, edits)
        plan.outcomes[transform.NAME] = outcome
        plan.parts.append((transform.NAME, edits if outcome.status != ANCHOR_MISSING else Edits()))
    if f"{support.NAME}." in source and not plan.uses_support and _calls_support_unbound(file.module):
        edits = Edits()  # llmfix's calls without their import (a merge took the line out): put it back
        edits.need_support()
        plan.parts.append((SUPPORT, edits))
        plan.outcomes[SUPPORT] = Outcome(APPLIED, f"the file calls {support.NAME} without importing it: import added")
    return _finish(plan)


def _calls_support_unbound(module: cst.Module) -> bool:
    """True when the module calls the support module without binding its name."""
    return support.NAME not in module_bindings(module) and any(
        isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == support.NAME for n in walk(module)
    )


def _support_plan(targets: Sequence[Target], plans: Sequence[FilePlan], record: Record, force: bool) -> FilePlan | None:
    """The support module's plan: None when no file calls it."""
    home = support_target(targets)
    calls = any(p.uses_support for p in plans) or any(support.NAME in p.original for p in plans)
    try:
        current = sourcetext.decode(home.path.read_bytes(), home.path) if home.path.exists() else None
    except (OSError, BadInput):
        current = None if not home.path.exists() else ""
    if not calls and current is None:
        return None
    wanted = support.text()
    plan = FilePlan(home, current or "", final=wanted, exists=current is not None, support=True)
    if current == wanted:
        plan.outcomes[SUPPORT] = Outcome(ALREADY_PRESENT, f"{support.FILE_NAME} is llmfix's current copy")
    elif current is None:
        plan.outcomes[SUPPORT] = Outcome(APPLIED, f"{support.FILE_NAME} written (the support the patched code calls)")
    elif force or support.digest(current) == record.support:
        plan.outcomes[SUPPORT] = Outcome(APPLIED, f"{support.FILE_NAME} rewritten: llmfix's copy changed")
    else:
        plan.final = current
        plan.outcomes[SUPPORT] = Outcome(EDITED, f"{support.FILE_NAME} was edited since llmfix wrote it; kept (`llmfix apply --force` rewrites it)")
    return plan


def plan_checkout(
    texts: Sequence[tuple[Target, str]],
    settings: Settings,
    record: Record | None = None,
    trees: Sequence[cst.Module] | None = None,
    force: bool = False,
) -> list[FilePlan]:
    """Plans for one checkout's files (their texts, and trees if parsed already), then its support module's if called."""
    if not texts:
        return []
    targets = [t for t, _ in texts]
    record = record or Record(targets[0].checkout)
    module = dotted_module_name(support_target(targets).path) or support.NAME
    plans = []
    for i, (target, source) in enumerate(texts):
        with analysing(target.path):
            moved = _moved(target, source, module, record, settings)
            noted = record.notes_for(record.key_for(target.record_path) or target.record_path)
            plans.append(moved or plan_file(target, source, settings, module, trees[i] if trees else None, noted))
    extra = _support_plan(targets, plans, record, force)
    old = {imported_support(p.original) for p in plans if p.moved_from} - {imported_support(p.original) for p in plans if not p.moved_from}
    return [*plans, *([extra] if extra is not None else []), *_old_copies(targets[0], old - {None, module}, record)]


def _old_copies(beside: Target, modules: set[str | None], record: Record) -> list[FilePlan]:
    """Plans removing llmfix's copies of the support module the moved files imported (someone's edited copy stays)."""
    plans = []
    for module in sorted(m for m in modules if m):
        path = module_path(beside.checkout, module)
        text = llmfix_copy(path, record)
        if text is not None:
            plan = FilePlan(Target(path, beside.root), text, final="", support=True, delete=True)
            plan.outcomes[SUPPORT] = Outcome(APPLIED, f"llmfix's copy removed: the patched files import {module} no more")
            plans.append(plan)
    return plans


def _moved(target: Target, source: str, module: str, record: Record, settings: Settings) -> FilePlan | None:
    """The plan of a file patched where it no longer is (its import names llmfix's support module elsewhere, as after a
    plain ``git merge`` of an upstream that moved the file): the change taken out and made afresh; None otherwise."""
    imported = imported_support(source)
    if imported is None or imported == module:
        return None
    key = record.key_for(target.record_path)
    if key is None and llmfix_copy(module_path(target.checkout, imported), record) is None:
        return None  # a module of the same name that is not llmfix's: the transforms say so
    reverted, blocked = plan_undo([(target, source)], record)
    if blocked:
        return None
    plan = plan_file(target, reverted[target], settings, module)
    plan.original, plan.moved_from = source, key or target.record_path
    plan.outcomes[SUPPORT] = Outcome(APPLIED, f"the file imported llmfix's {imported}: made afresh with {module}")
    return plan  # compiled already: the text differs from either the reverted one (checked by plan_file) or the source


def plan_undo(texts: Sequence[tuple[Target, str]], record: Record) -> tuple[dict[Target, str], dict[Target, list[str]]]:
    """Each file's text with llmfix's change taken out, and the files that can't be (with why)."""
    targets = [t for t, _ in texts]
    home = (dotted_module_name(support_target(targets).path) if targets else None) or support.NAME
    reverted, blocked = {}, {}
    for target, source in texts:  # undone where its import says it was patched (a merge may have moved the file)
        with analysing(target.path):
            file = _context(target, parse(target.path, source), source, imported_support(source) or home)
            file.recorded = record.raw is not None or bool(record.notes)
            parts, problems = [], []
            noted = record.notes_for(record.key_for(target.record_path) or target.record_path)
            for transform in Settings.build().instantiate():
                edits = Edits()
                try:
                    problems += transform.undo(file, edits, noted.get(transform.NAME, {}))  # type: ignore[arg-type]
                except BadNote as error:
                    raise BadInput(f"{record.path}: {target.record_path}: {error}; nothing written") from None
                parts.append(edits)
            if problems:
                blocked[target] = problems
                continue
            try:
                tree = apply_edits(file, parts)
            except EditConflict as error:
                raise BadInput(f"{target.path}: {error}; nothing written") from None
            if f"{support.NAME}." not in (text := tree.code) and support.NAME in text:
                blank = noted.get(SUPPORT, {}).get("blank", 0)
                if not isinstance(blank, int) or isinstance(blank, bool) or not 0 <= blank <= 2:
                    raise BadInput(f"{record.path}: {target.record_path}: support: {blank!r} is not a count of blank lines; nothing written")
                text = remove_import(file, cst.parse_module(text), blank).code
            if text != source:
                _check_compiles(target.path, text)
            reverted[target] = text
    return reverted, blocked


def plan_text(target: Target, source: str, options: Settings | CommandSettings) -> FilePlan:
    """What the selected transforms make of ``source`` (the text of ``target``, or another version of it)."""
    settings = settings_for(options, target.path.parent)
    return plan_checkout([(target, source)], settings)[0]
