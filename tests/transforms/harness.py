"""Run one transform on a source text the way ``llmfix apply`` does, and the one check every case gets.

:func:`run_transform` builds the :class:`FileContext` apply builds for a module of the
package ``open_instruct.rubrics`` (so the support import is ``from open_instruct.rubrics
import litellm_utils``), plans the transform alone, and applies its edits. :func:`check`
asserts, for a (source, expected, status) case:

(a) the output is the expected text (the input when nothing is expected to change);
(b) a second run on the output changes nothing and reports already-present or
    not-applicable (an anchor-missing case stays anchor-missing, unchanged);
(c) the transform's ``undo()`` with the notes of the first run, then the removal of the
    support import once nothing calls the support module, gives the input back byte
    for byte, as ``llmfix revert`` does (not for a source that holds llmfix's code already,
    ``litellm_utils`` or a row marked ``patched``: what it was before is in an earlier record);
(d) the output compiles, reads no undefined global name, and reads the support module
    only where that name is the module (not a local of the same name).

A table row is a :func:`row`: the case, plus what the outcome's reason and its
:class:`~llmfix.codemods.transform.Change` texts must say.
"""

from __future__ import annotations

import ast
import builtins
import symtable
import textwrap
from dataclasses import dataclass, field

import libcst as cst
import pytest

from llmfix.codemods import support
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import RepoStyle
from llmfix.codemods.style.imports import remove_import
from llmfix.codemods.transform import ALREADY_PRESENT, ANCHOR_MISSING, NOT_APPLICABLE, Outcome
from llmfix.planning import BLANK_FACT

BLANK_NOTE = "blank lines the support import added (the record keeps them as llmfix's own support note)"

DOTTED_NAME = "open_instruct.rubrics.run_utils"
LINE_LENGTH = 119  # upstream open-instruct's, and the one EXAMPLES are shown at
MODULE_DUNDERS = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__annotations__"}


@dataclass
class Run:
    output: str
    outcome: Outcome
    notes: dict[str, object]


def _settings(transform_class, options: dict) -> Settings:
    """The transform alone, unless ``options`` select more (``only=["judge", "health"]``)."""
    return Settings.build(flags={"only": [transform_class.NAME], **options})


def context(source: str, line_length: int | None = None, dotted_name: str = DOTTED_NAME) -> FileContext:
    module = cst.parse_module(source)
    repo = RepoStyle(line_length=line_length or LINE_LENGTH)
    return FileContext(module, Style.for_module(module, repo), dotted_name=dotted_name)


def run_transform(transform_class, source: str, line_length: int | None = None, dotted_name: str = DOTTED_NAME, **options) -> Run:
    """One run of ``transform_class`` on ``source``; ``options`` are flag values (``retries=12``)."""
    file = context(source, line_length, dotted_name)
    edits = Edits()
    outcome = transform_class(_settings(transform_class, options)).plan(file, edits)
    if outcome.status == ANCHOR_MISSING:  # apply writes nothing for it
        return Run(source, outcome, {})
    text = apply_edits(file, [edits]).code
    blank = file.facts.get(BLANK_FACT)
    return Run(text, outcome, {**edits.notes, **({BLANK_NOTE: blank} if blank else {})})


def undo(transform_class, patched: str, notes: dict[str, object], line_length: int | None = None, dotted_name: str = DOTTED_NAME, **options) -> str:
    """``patched`` with the change taken out as ``llmfix revert`` does: the undo of each selected
    transform (``notes`` are the one under test's), then the support import."""
    file = context(patched, line_length, dotted_name)
    notes = dict(notes)
    blank = notes.pop(BLANK_NOTE, 0)
    parts = []
    for transform in _settings(transform_class, options).instantiate():
        edits = Edits()
        problems = transform.undo(file, edits, notes if transform.NAME == transform_class.NAME else {})
        assert not problems, problems
        parts.append(edits)
    text = apply_edits(file, parts).code
    if f"{support.NAME}." not in text and support.NAME in text:
        text = remove_import(file, cst.parse_module(text), blank).code
    return text


def undefined_names(source: str) -> set[str]:
    """Global names the code reads that neither the module nor builtins bind."""
    table = symtable.symtable(source, "<source>", "exec")
    bound = set(dir(builtins)) | MODULE_DUNDERS
    bound |= {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    missing = {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.get_name() not in bound}
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        missing |= {s.get_name() for s in scope.get_symbols() if s.is_referenced() and s.is_global() and s.get_name() not in bound}
        stack.extend(scope.get_children())
    return missing


def shadowed_support_reads(source: str) -> dict[str, int]:
    """Per function binding ``litellm_utils`` itself: how many ``litellm_utils.<name>`` it reads."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            own = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
            own |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            if support.NAME in own:
                found[node.name] = sum(
                    isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == support.NAME for n in ast.walk(node)
                )
    return found


def check(
    transform_class,
    source: str,
    expected: str | None,
    status: str,
    line_length: int | None = None,
    dotted_name: str = DOTTED_NAME,
    patched: bool = False,
    **options,
) -> Run:
    """Properties (a) to (d) for one case; ``expected`` None: the output is the input; ``patched``: the
    source holds llmfix's code already (no revert to check). Returns the first run."""
    where = dict(line_length=line_length, dotted_name=dotted_name)
    first = run_transform(transform_class, source, **where, **options)
    assert first.outcome.status == status, first.outcome.reason
    # (a)
    assert first.output == (source if expected is None else expected)
    # (b)
    second = run_transform(transform_class, first.output, **where, **options)
    assert second.output == first.output, "a second run changed the code"
    if status == ANCHOR_MISSING:
        assert second.outcome.status == ANCHOR_MISSING, second.outcome.reason
    else:
        assert second.outcome.status in (ALREADY_PRESENT, NOT_APPLICABLE), second.outcome.reason
    # (c)
    if not patched and support.NAME not in source:
        assert undo(transform_class, first.output, first.notes, **where, **options) == source, "revert did not give the input back"
    # (d)
    compile(first.output, "<patched>", "exec", dont_inherit=True)
    assert not undefined_names(first.output), f"reads undefined names: {sorted(undefined_names(first.output))}"
    assert shadowed_support_reads(first.output) == shadowed_support_reads(source), f"{support.NAME}.<name> read through a local {support.NAME}"
    return first


# --------------------------------------------------------------------------
# table rows
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Says:
    """What one :class:`Change` must say: a substring of its text, not another, and its facts."""

    text: str
    restore: tuple[tuple[str, str], ...] | None = None  # None: not checked
    old: object = "unchecked"
    absent: str | None = None


@dataclass
class Row:
    source: str
    expected: str | None
    status: str
    options: dict = field(default_factory=dict)
    reason: tuple[str, ...] = ()  # substrings of the outcome's reason
    changes: tuple[Says, ...] | None = None  # one per Change, in order (None: not checked)

    def check(self, transform_class) -> Run:
        first = check(transform_class, self.source, self.expected, self.status, **self.options)
        for part in self.reason:
            assert part in first.outcome.reason, f"{part!r} not in {first.outcome.reason!r}"
        if self.changes is not None:
            said = first.outcome.changes
            assert len(said) == len(self.changes), [c.text for c in said]
            for change, says in zip(said, self.changes):
                assert says.text in change.text, f"{says.text!r} not in {change.text!r}"
                assert says.absent is None or says.absent not in change.text, f"{says.absent!r} in {change.text!r}"
                assert says.restore is None or change.restore == says.restore, change.restore
                assert says.old == "unchecked" or change.old == says.old, change.old
        return first


def dedent(text: str | None) -> str | None:
    return None if text is None else textwrap.dedent(text).lstrip("\n")


def row(id: str, source: str, expected: str | None, status: str, *, reason=(), changes=None, xfail: str | None = None, **options):
    """One table row as a pytest param; ``source``/``expected`` may be indented (they are dedented)."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    reason = (reason,) if isinstance(reason, str) else tuple(reason)
    value = Row(dedent(source), dedent(expected), status, options, reason, None if changes is None else tuple(changes))
    return pytest.param(value, id=id, marks=marks)
