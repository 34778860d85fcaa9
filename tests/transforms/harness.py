"""Run one transform on a source string, the way llmfix does (one parse, edits applied together),
and the generic checks every before/after pair gets."""

from __future__ import annotations

import builtins
import subprocess
import symtable
import sys
import tempfile

import libcst as cst

from llmfix.codemods import runtime_block
from llmfix.codemods.context import CheckoutFacts, FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import RepoStyle
from llmfix.codemods.transform import ANCHOR_MISSING

# the line length of these tests: generated lines stay on one line unless a test passes its own
WIDE = RepoStyle(line_length=200, line_length_source="tests")
RUNTIME_MARK = "__RUNTIME__"
MODULE_DUNDERS = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__annotations__"}


def run_transform(transform_class, source: str, siblings: dict | None = None, line_length: int | None = None, **options):
    """(new source, outcome) after one run of the transform on ``source``.

    ``siblings`` maps a module's dotted name to the names it defines after the run
    (what the checkout's other files publish); ``options`` are flag values.
    """
    settings = Settings.build(flags={**options, "only": [transform_class.NAME]})
    facts = CheckoutFacts()
    for module, names in (siblings or {}).items():
        facts.publish(module, set(names))
    module = cst.parse_module(source)
    repo = WIDE if line_length is None else RepoStyle(line_length=line_length)
    file = FileContext(module, Style.for_module(module, repo), dotted_name="target", checkout=facts)
    edits = Edits()
    outcome = transform_class(settings).plan(file, edits)
    if outcome.status == ANCHOR_MISSING:
        return source, outcome
    return apply_edits(file, [edits]).code, outcome


def runtime_span(code: str) -> tuple[int, int] | None:
    """(first, last) index in the module body of the runtime support block, None when there is none."""
    names = runtime_block.runtime_names()
    body = cst.parse_module(code).body
    found = [i for i, s in enumerate(body) if set(runtime_block._defined_names(s)) & names]
    return (found[0], found[-1]) if found else None


def mark_runtime(code: str) -> str:
    """``code`` with the runtime support block replaced by a ``__RUNTIME__`` line."""
    span = runtime_span(code)
    if span is None:
        return code
    module = cst.parse_module(code)
    body = list(module.body)
    marker = cst.parse_statement(f"{RUNTIME_MARK}\n").with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    body[span[0] : span[1] + 1] = [marker]
    return module.with_changes(body=body).code


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


def isort_clean(source: str, line_length: int = WIDE.line_length) -> bool:
    """True when ruff's isort rule (I001, its defaults) accepts the file's imports."""
    with tempfile.TemporaryDirectory() as folder:  # no project around: nothing is first-party
        done = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "I", "--line-length", str(line_length), "--stdin-filename", "target.py", "-"],
            input=source,
            capture_output=True,
            text=True,
            cwd=folder,
            timeout=60,
        )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0
