"""Shared machinery for the three transforms that rewrite one LiteLLM default.

``retries``, ``fallbacks`` and ``timeout`` all do the same thing to a different
key: in every :class:`~llmfix.codemods.analysis.defaults.DefaultsGroup`, the key's default
line gets an env-driven default (or is inserted when missing), unless the line
already reads the transform's environment variable.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
from llmfix.codemods._base import (
    Edits,
    Outcome,
    PlannedTransform,
    Sites,
    parse_expression,
    parse_statement,
)
from llmfix.codemods.analysis.defaults import (
    DefaultLine,
    DefaultsGroup,
    defaults_groups,
    overriding_assignments,
)
from llmfix.codemods.analysis.nodes import module_functions, reads_env


class Unpatchable(Exception):
    """The site exists but its shape is not one the transform can edit safely."""


class KeyDefaultTransform(PlannedTransform):
    """Make ``d[KEY]``'s default env-driven in every helper's defaults."""

    KEY: ClassVar[str]
    ENV_VAR: ClassVar[str]

    def default_source(self, group: DefaultsGroup, line: DefaultLine | None, tree: cst.Module) -> str:
        """Source of the new default expression; raise :class:`Unpatchable` to refuse."""
        raise NotImplementedError

    def prepare(self, tree: cst.Module, groups: list[DefaultsGroup], edits: Edits) -> None:
        """Hook run once before the sites are patched (e.g. to add a module helper)."""

    def plan(self, tree: cst.Module, edits: Edits) -> Outcome:
        groups = defaults_groups(tree)
        functions = module_functions(tree)
        sites = Sites()
        pending: list[tuple[DefaultsGroup, DefaultLine | None, str]] = []
        for group in groups:
            where = group.describe()
            line = group.line_for(self.KEY)
            if self._passed_explicitly(group):
                sites.missing.append(
                    f"{where}: `{self.KEY}` is passed to litellm explicitly, so no default can reach the call"
                )
                continue
            if overriding_assignments(group.function, group.dict_name, self.KEY):
                sites.missing.append(
                    f"{where}: `{group.dict_name}[{self.KEY!r}]` is assigned unconditionally; expected "
                    f"`{group.dict_name}[{self.KEY!r}] = {group.dict_name}.get({self.KEY!r}, ...)`"
                )
                continue
            if line is not None and reads_env(line.default, self.ENV_VAR, functions):
                sites.present.append(f"{where} reads {self.ENV_VAR}")
                continue
            try:
                source = self.default_source(group, line, tree)
            except Unpatchable as problem:
                sites.missing.append(f"{where}: {problem}")
                continue
            pending.append((group, line, source))
        if sites.missing or not pending:
            return sites.outcome(f"no LiteLLM call helper with a **kwargs splat sets `{self.KEY}`")
        self.prepare(tree, groups, edits)
        for group, line, source in pending:
            self._patch_site(tree, group, line, source, edits)
            verb = "default now" if line is not None else "default added:"
            sites.applied.append(f"{group.describe()} {self.KEY} {verb} {self.ENV_VAR}")
        return sites.outcome("")

    def _passed_explicitly(self, group: DefaultsGroup) -> bool:
        return any(self.KEY in call.explicit_keys for call in group.calls if call.function is group.function)

    def _patch_site(
        self, tree: cst.Module, group: DefaultsGroup, line: DefaultLine | None, source: str, edits: Edits
    ) -> None:
        edits.need_import("os")
        if line is not None:
            edits.replace_node(line.default, parse_expression(source, tree))
            return
        d = group.dict_name
        new_line = parse_statement(f'{d}["{self.KEY}"] = {d}.get("{self.KEY}", {source})\n', tree)
        if group.insert_after:
            edits.insert_after(group.anchor, [new_line])
        else:
            edits.insert_before(group.anchor, [new_line])
