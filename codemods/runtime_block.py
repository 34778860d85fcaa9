"""Insert the runtime support the patched helpers call, as one contiguous block.

The support is ordinary Python in :mod:`llmfix.codemods.runtime` (linted and tested
there). A transform asks for a runtime module by name (``edits.need_runtime("precheck")``);
this module reads the modules' sources, keeps what their ``__all__`` lists plus the
private definitions those use (across modules), and adapts them to the target with
libcst: the module's own logger for ``logger``, its spelling of ``litellm`` (an alias,
or a lazy ``litellm = _get_litellm()`` at the top of each function that needs it),
stdlib modules under the names the file leaves free, and the file's quote style. The
block goes before the module's first function or class (after its imports and setup:
the decorators the helpers get run at import time), after a comment that says where it
comes from; definitions the file already has are not
inserted again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import libcst as cst

from llmfix.codemods.analysis.helpers import find_litellm_calls
from llmfix.codemods.analysis.nodes import dotted_name
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.analysis.tree import walk
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import ImportNeed

RUNTIME_DIR = Path(__file__).with_name("runtime")
RUNTIME_PACKAGE = "llmfix.codemods.runtime"
BANNER = "# LiteLLM call support, added by llmfix."
PRECHECK_TARGETS = "_litellm_precheck_targets"
FALLBACKS_PARSER = "_fallback_models_from_env"


@dataclass
class RuntimeModule:
    name: str
    exports: list[str]
    definitions: dict[str, cst.BaseStatement]  # top-level name -> statement, in source order
    imports: list[str]  # stdlib modules (and "litellm") it imports plainly
    requires: dict[str, list[str]] = field(default_factory=dict)  # runtime module -> names it imports from it


def _defined_names(statement: cst.BaseStatement) -> list[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    if isinstance(statement, cst.SimpleStatementLine):
        names = []
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names += [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.append(small.target.value)
        return names
    return []


@lru_cache(maxsize=None)
def load(name: str) -> RuntimeModule:
    """One runtime module, parsed and sorted into exports, definitions, imports and requirements."""
    module = cst.parse_module((RUNTIME_DIR / f"{name}.py").read_text(encoding="utf-8"))
    exports: list[str] = []
    definitions: dict[str, cst.BaseStatement] = {}
    imports: list[str] = []
    requires: dict[str, list[str]] = {}
    for statement in module.body:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
        if isinstance(small, cst.Import):
            imports += [dotted_name(alias.name) or "" for alias in small.names]
        elif isinstance(small, cst.ImportFrom):
            source = dotted_name(small.module) or ""
            if source.startswith(RUNTIME_PACKAGE + "."):
                requires.setdefault(source.rsplit(".", 1)[1], []).extend(
                    dotted_name(a.name) or "" for a in small.names  # type: ignore[union-attr]
                )
        elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            continue  # the module docstring
        else:
            names = _defined_names(statement)
            if names == ["__all__"]:
                value = small.value  # type: ignore[union-attr]
                exports = [e.value.evaluated_value for e in value.elements]  # type: ignore[attr-defined]
            elif names == ["logger"]:
                continue
            else:
                for defined in names:
                    definitions[defined] = statement
    return RuntimeModule(name, exports, definitions, imports, requires)


def _order(names: Iterable[str]) -> list[RuntimeModule]:
    """The modules ``names`` and what they require, dependencies first."""
    ordered: list[RuntimeModule] = []

    def visit(name: str) -> None:
        if any(m.name == name for m in ordered):
            return
        module = load(name)
        for required in module.requires:
            visit(required)
        ordered.append(module)

    for name in names:
        visit(name)
    return ordered


_REFERENCES: dict[int, tuple[cst.CSTNode, frozenset[str]]] = {}


def _references(statement: cst.CSTNode) -> frozenset[str]:
    """The names ``statement`` mentions (cached: runtime statements are loaded once)."""
    hit = _REFERENCES.get(id(statement))
    if hit is not None and hit[0] is statement:
        return hit[1]
    found = frozenset(n.value for n in walk(statement) if isinstance(n, cst.Name))
    if len(_REFERENCES) > 4096:
        _REFERENCES.clear()
    _REFERENCES[id(statement)] = (statement, found)
    return found


def selected_statements(names: Sequence[str], fallbacks: bool = True) -> list[tuple[str, cst.BaseStatement]]:
    return list(_selected(tuple(names), fallbacks))


@lru_cache(maxsize=64)
def _selected(names: tuple[str, ...], fallbacks: bool) -> tuple[tuple[str, cst.BaseStatement], ...]:
    """(name, statement) of every runtime definition ``names`` need, in block order.

    Without ``fallbacks`` (the fallbacks transform is off and the file has no parser), the
    precheck checks the model alone, and the parser is not pulled in.
    """
    modules = _order(names)
    known: dict[str, cst.BaseStatement] = {}
    for module in modules:
        known.update(module.definitions)
    if not fallbacks and isinstance(known.get(PRECHECK_TARGETS), cst.FunctionDef):
        known[PRECHECK_TARGETS] = _only_the_model(known[PRECHECK_TARGETS])  # type: ignore[arg-type]
    wanted: set[str] = set()
    stack = [export for module in modules if module.name in names for export in module.exports]
    while stack:
        name = stack.pop()
        if name in wanted or name not in known:
            continue
        wanted.add(name)
        stack.extend(_references(known[name]) & set(known))
    chosen: list[tuple[str, cst.BaseStatement]] = []
    seen: set[int] = set()
    for module in modules:
        for name in module.definitions:
            statement = known[name]
            if name in wanted and id(statement) not in seen:
                seen.add(id(statement))
                chosen.append((name, statement))
    return tuple(chosen)


def has_fallbacks(file: FileContext, names: Sequence[str]) -> bool:
    """True when the fallbacks parser is in the file or goes into the block with ``names``."""
    return FALLBACKS_PARSER in module_bindings(file.module) or any(FALLBACKS_PARSER in load(m).exports for m in names)


# --------------------------------------------------------------------------- adapting to the target


class _Rename(cst.CSTTransformer):
    """Rename free uses of module-level names (never attributes, keywords or parameters)."""

    def __init__(self, renames: dict[str, str]) -> None:
        super().__init__()
        self.renames = renames
        self._skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self._skip.add(id(node.name))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if id(original) in self._skip or original.value not in self.renames:
            return updated
        return updated.with_changes(value=self.renames[original.value])


class _Quotes(cst.CSTTransformer):
    """Single-line strings in the file's quote style, where that needs no escaping."""

    def __init__(self, quote: str) -> None:
        super().__init__()
        self.quote = quote

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        return updated.with_changes(value=_requote(updated.value, self.quote))

    def leave_FormattedString(self, original: cst.FormattedString, updated: cst.FormattedString) -> cst.FormattedString:
        text = cst.Module([]).code_for_node(updated)
        other = '"' if self.quote == "'" else "'"
        if updated.start.endswith(other) and len(updated.end) == 1 and self.quote not in text and other not in text[len(updated.start):-1]:
            return updated.with_changes(start=updated.start[:-1] + self.quote, end=self.quote)
        return updated


def _requote(value: str, quote: str) -> str:
    prefix = value[: len(value) - len(value.lstrip("rRbBuU"))]
    body = value[len(prefix):]
    if body[:3] in ('"""', "'''") or body[:1] == quote:
        return value
    inner = body[1:-1]
    if quote in inner or body[:1] in inner or "\\" in inner:
        return value
    return f"{prefix}{quote}{inner}{quote}"


class _LazyLiteLLM(cst.CSTTransformer):
    """Put ``litellm = <loader>()`` first in every function that uses ``litellm``."""

    def __init__(self, binding: cst.BaseStatement) -> None:
        super().__init__()
        self.binding = binding

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        uses = any(isinstance(n, cst.Name) and n.value == "litellm" for n in walk(original.body))
        if not uses:
            return updated
        body = list(updated.body.body)
        first = body[0] if body else None
        docstring = (
            isinstance(first, cst.SimpleStatementLine)
            and bool(first.body)
            and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
        )
        body.insert(1 if docstring else 0, self.binding.deep_clone())
        return updated.with_changes(body=updated.body.with_changes(body=body))


def _litellm_spelling(file: FileContext) -> tuple[str | None, cst.BaseStatement | None, bool]:
    """(module-level name of litellm, lazy binding statement, whether ``import litellm`` must be added)."""
    bound = module_bindings(file.module)
    aliases = [name for name, how in bound.items() if how == "import litellm"]
    if "litellm" in aliases:
        return "litellm", None, False
    if aliases:
        return aliases[0], None, False
    for call in find_litellm_calls(file.module):
        if call.litellm_binding is not None:
            loader = call.litellm_binding.body[0].value  # type: ignore[attr-defined]
            text = f"litellm = {cst.Module([]).code_for_node(loader)}\n"
            return None, cst.parse_statement(text), False
    return "litellm", None, "litellm" not in bound


def _adaptation(file: FileContext) -> tuple[tuple[tuple[str, str], ...], str | None, str, str, str]:
    """What adapting the support to ``file`` depends on: renames, lazy litellm binding, quote, indent, newline."""
    renames: dict[str, str] = {}
    logger = file.logger_name()
    if logger != "logger":
        renames["logger"] = logger
    name, lazy, _ = _litellm_spelling(file)
    if name and name != "litellm":
        renames["litellm"] = name
    for stdlib in ("os", "json", "re", "asyncio", "time", "threading", "contextvars", "sys", "inspect", "functools", "collections", "math", "logging", "socket", "ssl"):
        spelled = file.module_name(stdlib)
        if spelled != stdlib:
            renames[stdlib] = spelled
    lazy_text = cst.Module([]).code_for_node(lazy) if lazy is not None else None
    return tuple(sorted(renames.items())), lazy_text, file.style.quote, file.module.default_indent, file.module.default_newline


_BLOCKS: dict[tuple, tuple[list[cst.BaseStatement], list[cst.BaseStatement]]] = {}


def _adapted_block(file: FileContext, statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """The support statements adapted to ``file``, spaced, in its indentation and newline (cached)."""
    adaptation = _adaptation(file)
    key = (tuple(id(s) for s in statements), adaptation)
    hit = _BLOCKS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], statements)):
        return list(hit[1])
    renames, lazy_text, quote, indent, newline = adaptation
    lazy = cst.parse_statement(lazy_text) if lazy_text else None
    out = []
    for statement in statements:
        if renames:
            statement = statement.visit(_Rename(dict(renames)))  # type: ignore[assignment]
        if lazy is not None:
            statement = statement.visit(_LazyLiteLLM(lazy))  # type: ignore[assignment]
        if quote != '"':
            statement = statement.visit(_Quotes(quote))  # type: ignore[assignment]
        out.append(statement)
    block = _spaced(_to_module_style(indent, newline, file.module.config_for_parsing, out))
    if len(_BLOCKS) > 64:
        _BLOCKS.clear()
    _BLOCKS[key] = (list(statements), block)
    return list(block)


def _only_the_model(function: cst.FunctionDef) -> cst.FunctionDef:
    """``_litellm_precheck_targets`` for a file without the fallbacks parser: just the model."""
    body = list(function.body.body)
    keep = body[:1] if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr) else []
    param = function.params.params[0].name.value
    keep.append(cst.parse_statement(f"return [{param}]\n"))
    return function.with_changes(body=function.body.with_changes(body=keep))


def _comments(statement: cst.BaseStatement) -> list[cst.EmptyLine]:
    return [line for line in statement.leading_lines if line.comment is not None]  # type: ignore[union-attr]


def _is_main_guard(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.If):
        return False
    test = statement.test
    return isinstance(test, cst.Comparison) and any(
        isinstance(n, cst.SimpleString) and n.evaluated_value == "__main__" for n in walk(test)
    ) and any(isinstance(n, cst.Name) and n.value == "__name__" for n in walk(test))


def _to_module_style(indent: str, newline: str, config: cst.PartialParserConfig, statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Re-parse in the module's indentation and newline (the runtime modules use 4 spaces and \\n)."""
    if indent == "    " and newline == "\n":
        return list(statements)
    text = cst.Module(statements).code
    if indent != "    ":
        text = re.sub(r"^((?:    )+)", lambda m: indent * (len(m.group(1)) // 4), text, flags=re.M)
    if newline != "\n":
        text = text.replace("\n", newline)
    return list(cst.parse_module(text, config=config).body)


def place(file: FileContext, tree: cst.Module, names: Sequence[str], removed: Sequence[str]) -> cst.Module:
    """``tree`` with the runtime support ``names`` need, minus what it already defines."""
    if not names:
        return tree
    chosen = selected_statements(names, has_fallbacks(file, names))
    body = list(tree.body)
    if removed:
        stale: set[str] = set()
        for module in removed:
            stale |= set(OLD_NAMES.get(module, ())) | {name for name, _ in selected_statements([module])}
        body = [s for s in body if not (set(_defined_names(s)) & stale)]
    present = {name for statement in body for name in _defined_names(statement)}
    missing: list[cst.BaseStatement] = []
    for name, statement in chosen:
        if name not in present and all(statement is not s for s in missing):
            missing.append(statement)
    if not missing:
        return tree.with_changes(body=body)
    block = _adapted_block(file, missing)
    block[0] = block[0].with_changes(
        leading_lines=[cst.EmptyLine(), cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(BANNER)), *_comments(block[0])]
    )
    runtime_names = {name for name, _ in chosen}
    existing = [i for i, s in enumerate(body) if set(_defined_names(s)) & runtime_names]
    if existing:
        position = existing[-1] + 1
        block[0] = block[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    else:
        position = _first_definition(body, runtime_names)
    if position < len(body):
        following = body[position]
        body[position] = following.with_changes(leading_lines=_two_blank_lines(following.leading_lines))  # type: ignore[union-attr]
    body[position:position] = block
    return tree.with_changes(body=body)


def _uses_support_at_import(statement: cst.BaseStatement, names: set[str]) -> bool:
    """A definition whose decorators call the support (they run when the module is imported)."""
    decorators = getattr(statement, "decorators", ())
    return any(_references(d) & names for d in decorators)


def _first_definition(body: Sequence[cst.BaseStatement], names: set[str]) -> int:
    """Where the block goes: before the first top-level definition whose decorators use it
    (they run at import), else before the first function or class, after the imports and
    module setup; at the end if there is none, but before ``if __name__ == "__main__":``."""
    for index, statement in enumerate(body):
        if _uses_support_at_import(statement, names):
            return index
    for index, statement in enumerate(body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return index
    position = len(body)
    while position > 0 and _is_main_guard(body[position - 1]):
        position -= 1
    return position


def _two_blank_lines(leading: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """``leading`` with exactly two blank lines before its comments (black's rule around definitions)."""
    lines = list(leading)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return [cst.EmptyLine(), cst.EmptyLine(), *lines]


def _spaced(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Two blank lines before and after every definition of the block; other lines as written."""
    out: list[cst.BaseStatement] = []
    for index, statement in enumerate(statements):
        previous = statements[index - 1] if index else None
        is_definition = isinstance(statement, (cst.FunctionDef, cst.ClassDef))
        after_definition = isinstance(previous, (cst.FunctionDef, cst.ClassDef))
        if index and (is_definition or after_definition):
            statement = statement.with_changes(leading_lines=_two_blank_lines(statement.leading_lines))  # type: ignore[union-attr]
        out.append(statement)
    return out


# names an earlier llmfix inserted with its connection check, replaced when it is upgraded
OLD_NAMES: dict[str, tuple[str, ...]] = {
    "precheck": (
        "LiteLLMConnectionError",
        "_LITELLM_CONNECTION_CHECKS",
        "_LITELLM_PRECHECK_WARNED",
        "_PROXY_VARIABLES",
        "check_litellm_connection",
        "_litellm_connection_error",
        "_litellm_connection_report",
        "_diagnose_litellm_connection",
        "ensure_litellm_connection",
    ),
}


def imports_needed(file: FileContext, names: Sequence[str]) -> list[ImportNeed]:
    """The plain imports the inserted support uses that the file may lack."""
    if not names:
        return []
    chosen = [statement for _, statement in selected_statements(names, has_fallbacks(file, names))]
    used = set().union(*(_references(s) for s in chosen)) if chosen else set()
    needs: list[ImportNeed] = []
    for module in _order(names):
        for imported in module.imports:
            if imported == "litellm":
                spelled, lazy, add = _litellm_spelling(file)
                if add and "litellm" in used:
                    needs.append(ImportNeed("litellm"))
                continue
            if imported.split(".")[0] in used:
                spelled = file.module_name(imported)
                need = ImportNeed(imported, asname=None if spelled == imported else spelled)
                if need not in needs:
                    needs.append(need)
    return needs


def _modules() -> list[str]:
    return sorted(p.stem for p in RUNTIME_DIR.glob("*.py") if not p.stem.startswith("_"))


_TOP_LEVEL_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)|^(_?[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)


@lru_cache(maxsize=1)
def _top_level_names() -> dict[str, tuple[str, bool]]:
    """name -> (module, is a function or class) for every top-level definition of the runtime modules.

    Read from the sources with a regular expression (top-level code starts in column 0):
    recognising llmfix's own code must not cost a parse of every runtime module.
    """
    found: dict[str, tuple[str, bool]] = {}
    for module in _modules():
        for match in _TOP_LEVEL_DEFINITION.finditer((RUNTIME_DIR / f"{module}.py").read_text(encoding="utf-8")):
            name = match.group(1) or match.group(2)
            if name not in ("__all__", "logger"):
                found.setdefault(name, (module, match.group(1) is not None))
    return found


def runtime_names() -> frozenset[str]:
    """Every top-level name any runtime module defines."""
    return frozenset(_top_level_names())


def runtime_function_names() -> frozenset[str]:
    """Every function or class any runtime module defines: llmfix's own code, never a target helper."""
    return frozenset(name for name, (_, definition) in _top_level_names().items() if definition)


def module_defining(name: str) -> str | None:
    """The runtime module that defines ``name``."""
    found = _top_level_names().get(name)
    return found[0] if found else None


def mentions_support(source: str) -> bool:
    """A cheap text test: does ``source`` mention any runtime function (so it was patched before)?"""
    return any(name in source for name in runtime_function_names())


def unbound_support(tree: cst.Module) -> set[str]:
    """Runtime names ``tree`` uses without defining or importing them (say, after a merge dropped the block)."""
    bound = set(module_bindings(tree))
    used = {n.value for n in walk(tree) if isinstance(n, cst.Name)}
    return (used & runtime_names()) - bound


def uses_logger(names: Sequence[str]) -> bool:
    """True when the support for ``names`` logs (the file then needs a module logger)."""
    return any("logger" in _references(statement) for _, statement in selected_statements(names))


def defined_by_runtime(names: Sequence[str]) -> set[str]:
    """Every top-level name the support for ``names`` defines (for recognising it in a file)."""
    return {name for name, _ in selected_statements(names)}

