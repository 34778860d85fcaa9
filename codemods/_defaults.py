"""What retries, fallbacks and timeout share: make one LiteLLM option's default env-driven in every defaults group.

A replaced default is noted (its literal and its statement's digest), an inserted one as ``None``, so undo can put
the literal back or remove the line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from llmfix.codemods import notes, support
from llmfix.codemods.analysis.defaults import DefaultLine, DefaultsGroup, KeyAssignment, defaults_groups, key_assignments
from llmfix.codemods.analysis.nodes import module_functions, qualname, reads_env
from llmfix.codemods.analysis.tree import indent_of, rebuild
from llmfix.codemods.building import call, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.style.wrap import fit, wrapped
from llmfix.codemods.transform import Change, Outcome, Sites, Transform


class Unpatchable(Exception):
    """The site exists but its shape is not one the transform can edit safely."""


@dataclass
class Site:
    """One place a default is set: a group, and the node whose value is the default (if any)."""

    group: DefaultsGroup
    line: DefaultLine | None
    default: cst.BaseExpression | None  # the current default expression (a line's, or a hand-written assignment's)
    statement: cst.SimpleStatementLine | None


class KeyDefaultTransform(Transform):
    """Make ``d[KEY]``'s default env-driven in every helper's defaults."""

    KEY: ClassVar[str]
    ENV_VAR: ClassVar[str]
    OPTION: ClassVar[str]  # the option that sets the baked-in default
    SUPPORT: ClassVar[str | None] = None  # the support function the new default calls (None: it calls none)
    EXPECTED: ClassVar[str] = "a literal"  # the literal defaults it can make env-driven, in words

    # -- what subclasses say ------------------------------------------------

    def new_default(self, file: FileContext, site: Site) -> cst.BaseExpression:
        """The env-driven default expression for ``site``; raise :class:`Unpatchable` to refuse."""
        raise NotImplementedError

    def baked(self, file: FileContext, expression: cst.BaseExpression) -> object | None:
        """The baked-in value of an env-driven default llmfix wrote (None: not llmfix's shape)."""
        return None

    def literal_value(self, expression: cst.BaseExpression) -> object | None:
        """The value of a literal default this transform can make env-driven (None: not one)."""
        return None

    def ours(self, expression: cst.BaseExpression | None) -> bool:
        """True when ``expression`` is the default llmfix writes (a call of the support function)."""
        return expression is not None and self.SUPPORT is not None and support.is_call(expression, self.SUPPORT)

    def wanted(self, file: FileContext, site: Site) -> object:
        """The value the option asks for at ``site`` (compared with :meth:`baked`)."""
        return self.option(self.OPTION)

    def reads_variable(self, file: FileContext, expression_: cst.BaseExpression, functions) -> bool:
        """True when ``expression_`` already takes the default from the transform's variable."""
        return reads_env(expression_, self.ENV_VAR, functions)

    def outdated(self, baked: object, wanted: object) -> bool:
        """True when an explicitly given option should replace what a patched file bakes in."""
        return baked != wanted

    def change(self, file: FileContext, site: Site, new: cst.BaseExpression) -> Change | None:
        """The behaviour change at ``site`` in words, for the PR summary (None: none to mention)."""
        return None

    def literal(self, file: FileContext, site: Site) -> object | None:
        """The site's own literal default (upstream's); None when it has none or it is llmfix's."""
        if site.default is None or self.baked(file, site.default) is not None:
            return None
        value = self.literal_value(site.default)
        if value is None:
            raise Unpatchable(f"the {self.KEY} default is `{file.code(site.default)}`; expected {self.EXPECTED}")
        return value

    def before(self, file: FileContext, site: Site) -> object | None:
        """The default at ``site`` before this patch: its literal, or the value llmfix baked in."""
        literal = self.literal(file, site)
        return literal if literal is not None or site.default is None else self.baked(file, site.default)

    # -- the shared plan ------------------------------------------------------

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        sites = Sites()
        functions = module_functions(file.module)
        pending = [found for group in defaults_groups(file.module) for found in self._sites_of(file, group, functions, sites)]
        clashes = {file.support_clash(site.group.function) for site, action in pending if action != "update"} - {None}
        for clash in sorted(clashes):  # type: ignore[type-var]
            sites.missing.append(f"{clash}; apply the rest with `--skip {self.NAME}`")
        if sites.missing or not pending:
            return sites.outcome(f"no LiteLLM call helper with a **kwargs splat sets `{self.KEY}`")
        for site, action in pending:
            self._patch(file, site, action, edits, sites)
        return sites.outcome("")

    def _sites_of(self, file: FileContext, group: DefaultsGroup, functions, sites: Sites):
        where = group.where
        skip_hint = f"; apply the rest with `--skip {self.NAME}`"
        if any(self.KEY in call.explicit_keys for call in group.calls if call.function is group.function):
            sites.missing.append(f"{where}: `{self.KEY}=` is passed to the LiteLLM call as a keyword, so no default can reach it{skip_hint}")
            return
        assignments = key_assignments(group.function, group.dict_name, self.KEY)
        unguarded = [a for a in assignments if not a.guarded]
        if unguarded:
            code = file.code(unguarded[0].statement.body[0]).strip()
            sites.missing.append(
                f"{where}: `{code}` sets `{self.KEY}` whatever the caller passed (not a default); expected "
                f"`{group.dict_name}[{self.KEY!r}] = {group.dict_name}.get({self.KEY!r}, ...)`{skip_hint}"
            )
            return
        line = group.line_for(self.KEY)
        if line is not None and id(line.statement) in group.in_branch and not self.reads_variable(file, line.default, functions):
            line = None  # set for some models only: that branch keeps its own, a new line after the ``if`` covers the rest
        if line is None and assignments:
            yield from self._hand_written(file, group, assignments, functions, sites)
            return
        site = Site(group, line, line.default if line else None, line.statement if line else None)
        if line is not None and self.reads_variable(file, line.default, functions):
            baked = self.baked(file, line.default)
            explicit = self.settings.sources.get(self.OPTION, "default") != "default"  # a flag or [tool.llmfix] asks
            if explicit and baked is not None and self.outdated(baked, self.wanted(file, site)):
                yield site, "update"
            elif file.noted and self._rewrapped(file, group, site) is not None:
                yield site, "rewrap"
            else:
                sites.present.append(f"{where} reads {self.ENV_VAR}")
            return
        try:
            self.new_default(file, site)
        except Unpatchable as problem:
            sites.missing.append(f"{where}: {problem}{skip_hint}")
            return
        yield site, "replace" if line is not None else "insert"

    def _hand_written(self, file: FileContext, group: DefaultsGroup, assignments: list[KeyAssignment], functions, sites: Sites):
        for assignment in assignments:
            site = Site(group, None, assignment.value, assignment.statement)
            if self.reads_variable(file, assignment.value, functions):
                sites.present.append(f"{group.where} sets `{self.KEY}` by hand when absent, from {self.ENV_VAR}")
                continue
            try:
                self.new_default(file, site)
            except Unpatchable:
                sites.present.append(f"{group.where} sets `{self.KEY}` by hand when absent (kept as written)")
                continue
            yield site, "replace"

    def _rewrapped(self, file: FileContext, group: DefaultsGroup, site: Site) -> cst.BaseStatement | None:
        """llmfix's line laid out as a fresh apply would lay it out now, when that differs (the line length changed since):
        a line llmfix added, or one that was upstream's one-line statement (the record's digest says which)."""
        statement, default = site.statement, site.default
        if not isinstance(statement, cst.SimpleStatementLine) or default is None or not self.ours(default):
            return None
        noted = file.noted.get(self.NAME, {}).get(self._note_key(file, group, statement), ())
        if noted is not None:  # a replaced default: only when upstream had the statement on one line
            try:
                upstream, expected = _upstream(statement, default, noted, file.style.quote)
            except ValueError:
                return None
            if notes.digest(notes.joined(upstream) or upstream) != expected:
                return None
        line = fit(notes.joined(statement) or statement, file.module, indent_of(file.module, statement) or "", file.style.line_length)
        if notes.statement_code(line) == notes.statement_code(statement):
            return None
        return line.with_changes(leading_lines=statement.leading_lines)  # type: ignore[union-attr]

    def _patch(self, file: FileContext, site: Site, action: str, edits: Edits, sites: Sites) -> None:
        if action == "rewrap":
            edits.replace_node(site.statement, self._rewrapped(file, site.group, site))  # type: ignore[arg-type]
            sites.applied.append(f"{site.group.where} {self.KEY} line wrapped to the line length ({file.style.line_length})")
            return
        new = self.new_default(file, site)
        if self.SUPPORT is not None:
            edits.need_support()
        where = site.group.where
        if action == "insert":
            d, key, anchor = site.group.dict_name, string(self.KEY, file.style.quote), site.group.anchor
            target = cst.Subscript(cst.Name(d), [cst.SubscriptElement(cst.Index(key))])
            built = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], call(f"{d}.get", key, new))])
            line = fit(built, file.module, indent_of(file.module, anchor) or "", file.style.line_length)
            (edits.insert_after if site.group.insert_after else edits.insert_before)(anchor, [line])
            edits.note(self._note_key(file, site.group), None)
            sites.applied.append(f"{where} {self.KEY} default added: {self.ENV_VAR}")
        else:
            assert site.default is not None and site.statement is not None
            edits.replace_node(site.statement, self._refit(file, site.statement, site.default, new))
            if action != "update":
                edits.note(self._note_key(file, site.group, site.statement), [notes.literal_value(site.default), notes.digest(site.statement)])
            hand = " (hand-written, when absent)" if site.line is None else ""
            if action == "update":
                source = "[tool.llmfix]" if self.settings.sources.get(self.OPTION) == "config" else "the command line"
                sites.applied.append(
                    f"{where} bakes in {self.KEY} {_shown(self.baked(file, site.default))}; {source} asks for "
                    f"{_shown(self.wanted(file, site))}: updated"
                )
            else:
                sites.applied.append(f"{where} {self.KEY} default{hand} now {self.ENV_VAR}")
        described = self.change(file, site, new)
        if described:
            sites.changes.append(described)

    # -- revert ----------------------------------------------------------------

    def _defaults_of(self, group: DefaultsGroup) -> list[tuple[cst.BaseStatement, cst.BaseExpression]]:
        """(statement, default) of every place ``group`` sets the key, in source order."""
        line = group.line_for(self.KEY)
        found = [(line.statement, line.default)] if line is not None else []
        return found + [(a.statement, a.value) for a in key_assignments(group.function, group.dict_name, self.KEY) if a.guarded]

    def _note_key(self, file: FileContext, group: DefaultsGroup, statement: cst.BaseStatement | None = None) -> str:
        """The function's name; ``name#N`` for its N-th place that sets the key (a hand-written one)."""
        index = next((i for i, (s, _) in enumerate(self._defaults_of(group)) if s is statement), 0)
        name = qualname(file.module, group.function)
        return name if index == 0 else f"{name}#{index}"

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        """Put back each default llmfix replaced (from the notes), remove each line it added."""
        problems = []
        for group in defaults_groups(file.module):
            for stmt, default in self._defaults_of(group):
                if not self.ours(default):
                    continue
                key = self._note_key(file, group, stmt)
                if key not in noted:
                    problems.append(f"{key}(): llmfix's record does not say what the {self.KEY} default was before")
                elif noted[key] is None:
                    edits.remove(stmt)
                else:
                    try:
                        expected = _upstream(stmt, default, noted[key], file.style.quote)[1]
                    except ValueError as error:
                        raise notes.BadNote(f"{key}: {self.KEY}: {error}") from None
                    build = lambda quote, stmt=stmt, default=default, note=noted[key]: _upstream(stmt, default, note, quote)[0]  # noqa: E731
                    edits.replace_node(stmt, notes.restored(stmt, build, expected, file.style.quote))
        return problems

    @staticmethod
    def _refit(file: FileContext, stmt: cst.SimpleStatementLine, old: cst.BaseExpression, new: cst.BaseExpression) -> cst.SimpleStatementLine:
        """``stmt`` with ``old`` replaced by ``new``; a statement the file wrapped keeps its wrapping, a one-line one is now
        llmfix's line, wrapped like one even when upstream's was already long (else ``_rewrapped`` would ask to wrap it)."""
        original = notes.statement_code(stmt)
        if "\n" in original.strip("\r\n"):
            return rebuild(stmt, {id(old): new}, {}, {})  # type: ignore[return-value]  # the file's own wrapping: keep it
        old_text, built = notes.statement_code(old), rebuild(stmt, {id(old): new}, {}, {})
        if original.count(old_text) == 1:  # the cheap way: the line's text with the default's text swapped
            text = original.rstrip("\r\n").replace(old_text, notes.statement_code(new))
        else:
            text = notes.statement_code(built).rstrip("\r\n")
        line = wrapped(file.module, text, indent_of(file.module, stmt) or "", file.style.line_length, built)
        return line.with_changes(leading_lines=stmt.leading_lines)  # type: ignore[return-value]


def _upstream(statement: cst.BaseStatement, default: cst.BaseExpression, noted: object, quote: str) -> tuple[cst.BaseStatement, str]:
    """The statement with the noted literal back in place of llmfix's ``default``, and the noted digest (ValueError: not a note llmfix writes)."""
    try:
        literal, expected = noted  # type: ignore[misc]
    except TypeError as error:
        raise notes.BadNote(str(error)) from None
    return rebuild(statement, {id(default): notes.literal_node(literal, quote)}, {}, {}), notes.check_digest(expected)  # type: ignore[return-value]


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)
