"""One analysed file, shared by every transform that plans on it.

:class:`FileContext` holds the single parse of a file, its style (line length, quotes,
logger, import sections: :mod:`llmfix.codemods.style`), the facts transforms hand to
later ones (``facts``), and the :class:`CheckoutFacts` the other target files of the
same checkout publish (rubric_utils.py needs to know what run_utils.py will define).
The analyses in :mod:`llmfix.codemods.analysis` are cached per tree, and every
transform plans on this same tree, so each is computed once per file.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from llmfix.codemods.analysis.scopes import binds_name, module_bindings
from llmfix.codemods.style import Style

if TYPE_CHECKING:
    from llmfix.codemods.edits import Edits


@dataclass
class CheckoutFacts:
    """What the files of one checkout tell each other, filled in as each is planned.

    ``defines`` maps a module's dotted name (as other files import it) to the top-level
    names it defines after this run.
    """

    defines: dict[str, set[str]] = field(default_factory=dict)

    def publish(self, dotted: str, names: set[str]) -> None:
        self.defines[dotted] = set(names)

    def lookup(self, module: str) -> set[str] | None:
        """What ``module`` defines after this run: by its dotted name, or (a ``sys.path`` import
        such as ``from run_utils import ...``) by its last part when that is unambiguous."""
        if module in self.defines:
            return self.defines[module]
        tail = [names for dotted, names in self.defines.items() if dotted.rsplit(".", 1)[-1] == module]
        return tail[0] if len(tail) == 1 else None


@dataclass
class FileContext:
    module: cst.Module
    style: Style
    dotted_name: str | None = None  # how other modules import this file, when known
    checkout: CheckoutFacts = field(default_factory=CheckoutFacts)
    facts: dict[str, Any] = field(default_factory=dict)
    owned_lines: Mapping[str, int] = field(default_factory=dict)  # line llmfix wrote here (its record), stripped -> times

    def owns(self, node: cst.CSTNode) -> bool:
        """True when every line of ``node`` is one llmfix wrote (so llmfix may keep it up to date).

        A line the file holds more often than llmfix wrote it may be upstream's copy of the
        same text (a default llmfix added to one helper, another helper had already): not owned.
        """
        lines = [line.strip() for line in self.code(node).splitlines() if line.strip()]
        if not lines or not all(line in self.owned_lines for line in lines):
            return False
        held = self._line_counts
        return all(held[line] <= self.owned_lines[line] for line in lines)

    @functools.cached_property
    def _line_counts(self) -> collections.Counter[str]:
        return collections.Counter(line.strip() for line in self.module.code.splitlines())

    @classmethod
    def for_source(cls, source: str, **kwargs: Any) -> FileContext:
        """A context for a source text, with the style read from the text alone (tests, examples)."""
        module = cst.parse_module(source)
        return cls(module, Style.for_module(module), **kwargs)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def logger_name(self) -> str:
        """The module's own logger; the name a new one gets (``logger``) when it has none."""
        if self.style.logger:
            return self.style.logger
        bound = module_bindings(self.module)
        return next(name for name in ("logger", "LOGGER", "_logger") if name not in bound)

    def uses_logger(self, edits: Edits) -> str:
        """The logger name new code should call, asking for one to be created if the file has none."""
        if not self.style.logger:
            edits.need_logger(self.logger_name())
        return self.logger_name()

    def module_name(self, stdlib: str, function: cst.FunctionDef | None = None) -> str:
        """The name generated code should use for stdlib module ``stdlib`` (in ``function``, or at module level).

        Usually the module's own name; when the file binds that name to something else
        (a global ``os = ...``, or a local one in ``function``), an alias the import
        step will add (``import os as _os``).
        """
        bound = module_bindings(self.module)
        kind = bound.get(stdlib)
        clean_global = kind in (None, f"import {stdlib}")
        if clean_global and (function is None or not binds_name(function, stdlib)):
            return stdlib
        for name, how in bound.items():
            if how == f"import {stdlib}" and name != stdlib and (function is None or not binds_name(function, name)):
                return name
        return f"_{stdlib}"
