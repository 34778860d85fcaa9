"""Insert the runtime support the patched helpers call, as one contiguous block.

The support is ordinary Python in :mod:`llmfix.codemods.runtime` (linted and tested
there). A transform asks for a runtime module by name (``edits.need_runtime("precheck")``);
this module reads the modules' sources, keeps what their ``__all__`` lists plus the
private definitions those use (across modules), and adapts the text to the target: the
module's own logger for ``logger``, its spelling of ``litellm`` (an alias, or a lazy
``litellm = _get_litellm()`` at the top of each function that needs it), stdlib modules
under the names the file leaves free, the file's quote style, indentation and newline.
The block goes before the first LiteLLM helper (the same place whichever transforms run;
the helpers' decorators run at import), else before the module's first function or class, after a comment that says where it
comes from; definitions the file already has are not inserted again.

The support is handled as text (read with :mod:`ast` and :mod:`tokenize`, which cost a
fraction of a libcst parse) and enters the tree as one verbatim node: patching a file
never parses llmfix's own support code with libcst.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import libcst as cst
from libcst._nodes.internal import CodegenState

from llmfix.codemods.analysis.helpers import find_litellm_calls
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.analysis.tree import walk
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import ImportNeed

RUNTIME_DIR = Path(__file__).with_name("runtime")
RUNTIME_PACKAGE = "llmfix.codemods.runtime"
BANNER = "# LiteLLM call support, added by llmfix."
PRECHECK_TARGETS = "_litellm_precheck_targets"
FALLBACKS_PARSER = "_fallback_models_from_env"
STDLIB_RENAMED = ("os", "json", "re", "asyncio", "time", "threading", "contextvars", "sys", "inspect", "functools", "collections", "math", "logging", "socket", "ssl")


# --------------------------------------------------------------------------- reading the runtime modules


@dataclass(frozen=True)
class Segment:
    """One top-level statement of a runtime module, as text (its comments included, blank lines not)."""

    names: tuple[str, ...]
    text: str  # with "\n" newlines and four-space indentation, ending in a newline
    blank_before: int  # blank lines above it (and above its comments) in its module
    is_definition: bool  # a def or class
    references: frozenset[str]
    litellm_functions: tuple[tuple[int, str], ...]  # (line index to insert before, indentation) of functions using litellm


@dataclass
class RuntimeModule:
    name: str
    exports: list[str]
    definitions: dict[str, Segment]  # top-level name -> its segment, in source order
    imports: list[str]  # stdlib modules (and "litellm") it imports plainly
    requires: dict[str, list[str]] = field(default_factory=dict)  # runtime module -> names it imports from it


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _assigned(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _litellm_functions(node: ast.stmt, start: int) -> tuple[tuple[int, str], ...]:
    """Where a lazy ``litellm = loader()`` goes in each function of ``node`` that uses litellm."""
    found = []
    functions = [node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    if isinstance(node, ast.ClassDef):
        functions = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for function in functions:
        if not any(isinstance(n, ast.Name) and n.id == "litellm" for n in ast.walk(function)):
            continue
        first = function.body[0]
        line = (first.end_lineno or 0) if _is_docstring(first) else first.lineno - 1  # 0-based: after the docstring
        found.append((line - start, " " * first.col_offset))
    return tuple(found)


@lru_cache(maxsize=None)
def load(name: str) -> RuntimeModule:
    """One runtime module, read into exports, definitions (as text), imports and requirements."""
    source = (RUNTIME_DIR / f"{name}.py").read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    module = RuntimeModule(name, [], {}, [])
    previous_end = 0
    for index, node in enumerate(tree.body):
        if index == 0 and _is_docstring(node):
            previous_end = node.end_lineno or 0
            continue
        if isinstance(node, ast.Import):
            module.imports += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").startswith(RUNTIME_PACKAGE + "."):
                module.requires.setdefault(node.module.rsplit(".", 1)[1], []).extend(a.name for a in node.names)  # type: ignore[union-attr]
        elif _assigned(node) == ["__all__"]:
            module.exports = list(ast.literal_eval(node.value))  # type: ignore[union-attr]
        elif _assigned(node) == ["logger"]:
            pass
        else:
            start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
            comments = 0
            while start - comments - 1 >= previous_end and lines[start - comments - 1].lstrip().startswith("#"):
                comments += 1
            first = start - comments
            blank = 0
            while first - blank - 1 >= previous_end and not lines[first - blank - 1].strip():
                blank += 1
            names = [node.name] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else _assigned(node)
            segment = Segment(
                tuple(names),
                "".join(lines[first : node.end_lineno]),
                blank,
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
                frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name)),
                _litellm_functions(node, first),
            )
            for defined in names:
                module.definitions[defined] = segment
        previous_end = node.end_lineno or previous_end
    return module


def _modules() -> list[str]:
    return sorted(p.stem for p in RUNTIME_DIR.glob("*.py") if not p.stem.startswith("_"))


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


def _only_the_model(segment: Segment) -> Segment:
    """``_litellm_precheck_targets`` for a file without the fallbacks parser: just the model."""
    node = ast.parse(segment.text).body[-1]
    assert isinstance(node, ast.FunctionDef)
    lines = segment.text.splitlines(keepends=True)
    keep = node.body[0].end_lineno if _is_docstring(node.body[0]) else node.body[0].lineno - 1
    body_indent = " " * node.body[0].col_offset
    text = "".join(lines[: keep or 0]) + f"{body_indent}return [{node.args.args[0].arg}]\n"
    references = frozenset(n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name))
    return Segment(segment.names, text, segment.blank_before, True, references, ())


def selected_statements(names: Sequence[str], fallbacks: bool = True) -> list[tuple[str, Segment]]:
    """(name, segment) of every runtime definition ``names`` need, in block order.

    Without ``fallbacks`` (the fallbacks transform is off and the file has no parser), the
    precheck checks the model alone, and the parser is not pulled in.
    """
    return list(_selected(tuple(names), fallbacks))


@lru_cache(maxsize=64)
def _selected(names: tuple[str, ...], fallbacks: bool) -> tuple[tuple[str, Segment], ...]:
    modules = _order(names)
    known: dict[str, Segment] = {}
    for module in modules:
        known.update(module.definitions)
    if not fallbacks and PRECHECK_TARGETS in known:
        known[PRECHECK_TARGETS] = _only_the_model(known[PRECHECK_TARGETS])
    wanted: set[str] = set()
    stack = [export for module in modules if module.name in names for export in module.exports]
    while stack:
        name = stack.pop()
        if name in wanted or name not in known:
            continue
        wanted.add(name)
        stack.extend(known[name].references & set(known))
    chosen: list[tuple[str, Segment]] = []
    seen: set[int] = set()
    for module in modules:
        for name in module.definitions:
            segment = known[name]
            if name in wanted and id(segment) not in seen:
                seen.add(id(segment))
                chosen.append((name, segment))
    return tuple(chosen)


def has_fallbacks(file: FileContext, names: Sequence[str]) -> bool:
    """True when the fallbacks parser is in the file or goes into the block with ``names``."""
    return FALLBACKS_PARSER in module_bindings(file.module) or any(FALLBACKS_PARSER in load(m).exports for m in names)


# --------------------------------------------------------------------------- adapting the text to the target


def _litellm_spelling(file: FileContext) -> tuple[str | None, str | None, bool]:
    """(module-level name of litellm, lazy binding line, whether ``import litellm`` must be added)."""
    bound = module_bindings(file.module)
    aliases = [name for name, how in bound.items() if how == "import litellm"]
    if "litellm" in aliases:
        return "litellm", None, False
    if aliases:
        return aliases[0], None, False
    for call in find_litellm_calls(file.module):
        if call.litellm_binding is not None:
            loader = call.litellm_binding.body[0].value  # type: ignore[attr-defined]
            return None, f"litellm = {cst.Module([]).code_for_node(loader)}", False
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
    for stdlib in STDLIB_RENAMED:
        spelled = file.module_name(stdlib)
        if spelled != stdlib:
            renames[stdlib] = spelled
    return tuple(sorted(renames.items())), lazy, file.style.quote, file.module.default_indent, file.module.default_newline


def _requote(value: str, quote: str) -> str:
    """A one-line string literal in ``quote`` when that needs no escaping, else as it is."""
    prefix = value[: len(value) - len(value.lstrip("rRbBuUfF"))]
    body = value[len(prefix):]
    if body[:3] in ('"""', "'''") or body[:1] == quote or len(body) < 2:
        return value
    inner = body[1:-1]
    if quote in inner or body[:1] in inner or "\\" in inner:
        return value
    return f"{prefix}{quote}{inner}{quote}"


def _retokened(text: str, renames: dict[str, str], quote: str) -> str:
    """``text`` with free names renamed (never attributes, keyword arguments or parameters) and strings requoted."""
    edits: list[tuple[int, int, int, str]] = []  # (row, start col, end col, new text)
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in (tokenize.NL, tokenize.COMMENT)]
    depth = 0
    for index, token in enumerate(tokens):
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        if token.type == tokenize.NAME and token.string in renames:
            previous = tokens[index - 1].string if index else ""
            following = tokens[index + 1].string if index + 1 < len(tokens) else ""
            if previous == "." or (following == "=" and depth > 0) or previous in ("def", "class"):
                continue
            edits.append((token.start[0], token.start[1], token.end[1], renames[token.string]))
        elif token.type == tokenize.STRING and quote != '"' and token.start[0] == token.end[0]:
            requoted = _requote(token.string, quote)
            if requoted != token.string:
                edits.append((token.start[0], token.start[1], token.end[1], requoted))
    if not edits:
        return text
    lines = text.splitlines(keepends=True)
    for row, start, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(lines)


def _string_lines(text: str) -> set[int]:
    """Line numbers (1-based) that lie inside a multi-line string: their indentation is content."""
    inside: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    return inside


def _reindented(text: str, indent: str) -> str:
    if indent == "    ":
        return text
    inside = _string_lines(text)
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, 1):
        if number in inside:
            continue
        spaces = len(line) - len(line.lstrip(" "))
        lines[number - 1] = indent * (spaces // 4) + " " * (spaces % 4) + line[spaces:]
    return "".join(lines)


def _with_lazy_litellm(segment: Segment, binding: str) -> str:
    lines = segment.text.splitlines(keepends=True)
    for line, indent in sorted(segment.litellm_functions, reverse=True):
        lines.insert(line, f"{indent}{binding}\n")
    return "".join(lines)


_BLOCKS: dict[tuple, str] = {}


def block_text(file: FileContext, segments: Sequence[Segment]) -> str:
    """The support segments adapted to ``file`` and spaced as black spaces them, as one text (cached)."""
    adaptation = _adaptation(file)
    key = (tuple(id(s) for s in segments), adaptation)
    if key in _BLOCKS:
        return _BLOCKS[key]
    renames, lazy, quote, indent, newline = adaptation
    parts: list[str] = []
    for index, segment in enumerate(segments):
        text = _with_lazy_litellm(segment, lazy) if lazy else segment.text
        text = _retokened(text, dict(renames), quote)
        if index:
            previous = segments[index - 1]
            blank = 2 if segment.is_definition or previous.is_definition else segment.blank_before
            parts.append("\n" * blank)
        parts.append(text)
    text = _reindented("".join(parts), indent)
    if newline != "\n":
        text = text.replace("\n", newline)
    if len(_BLOCKS) > 64:
        _BLOCKS.clear()
    _BLOCKS[key] = text
    return text


# --------------------------------------------------------------------------- the block in the tree


@dataclass(frozen=True)
class VerbatimBlock(cst.BaseSmallStatement):
    """llmfix's support block as one node: its text is written out as it is.

    ``names`` are the top-level names it defines (the tree can't see them inside the text).
    """

    text: str = ""
    names: tuple[str, ...] = ()
    semicolon: cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT

    def _visit_and_replace_children(self, visitor: object) -> VerbatimBlock:
        return self

    def _codegen_impl(self, state: CodegenState, default_semicolon: bool = False) -> None:
        state.add_token(self.text)


def block_names(tree: cst.Module) -> set[str]:
    """The names the support blocks in ``tree`` define."""
    found: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, VerbatimBlock):
                    found.update(small.names)
    return found


def _defined_names(statement: cst.BaseStatement) -> list[str]:
    """The top-level names a (libcst) statement of the target defines."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    if isinstance(statement, cst.SimpleStatementLine):
        names = []
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names += [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.append(small.target.value)
            elif isinstance(small, VerbatimBlock):
                names += list(small.names)
        return names
    return []


def _references(statement: cst.CSTNode) -> set[str]:
    return {n.value for n in walk(statement) if isinstance(n, cst.Name)}


def _is_main_guard(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.If):
        return False
    test = statement.test
    return isinstance(test, cst.Comparison) and any(
        isinstance(n, cst.SimpleString) and n.evaluated_value == "__main__" for n in walk(test)
    ) and any(isinstance(n, cst.Name) and n.value == "__name__" for n in walk(test))


def _uses_support_at_import(statement: cst.BaseStatement, names: set[str]) -> bool:
    """A definition whose decorators call the support (they run when the module is imported)."""
    return any(_references(d) & names for d in getattr(statement, "decorators", ()))


def _first_definition(file: FileContext, body: Sequence[cst.BaseStatement], names: set[str]) -> int:
    """Where the block goes: before the first LiteLLM helper (whatever the transforms do to it, so the
    place never moves between them; the helpers' decorators run at import and need the support defined),
    else before the first definition whose decorators use it, else before the first function or class,
    after the imports and module setup; at the end if there is none, but before ``if __name__ == "__main__":``."""
    from llmfix.codemods.analysis.helpers import content_helpers

    helpers = {c.function.name.value for c in find_litellm_calls(file.module)} | {f.name.value for f in content_helpers(file.module)}
    for index, statement in enumerate(body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value in helpers:
            return index
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
    missing: list[Segment] = []
    for name, segment in chosen:
        if name not in present and all(segment is not s for s in missing):
            missing.append(segment)
    if not missing:
        return tree.with_changes(body=body)
    code = block_text(file, missing).rstrip(file.module.default_newline)
    runtime_names = {name for name, _ in chosen}
    existing = [i for i, s in enumerate(body) if set(_defined_names(s)) & runtime_names]
    leading = [cst.EmptyLine(), cst.EmptyLine()]
    if not existing:
        leading.append(cst.EmptyLine(comment=cst.Comment(BANNER)))
    block = cst.SimpleStatementLine([VerbatimBlock(code, tuple(n for s in missing for n in s.names))], leading_lines=leading)
    position = existing[-1] + 1 if existing else _first_definition(file, body, runtime_names)
    if position < len(body):
        following = body[position]
        body[position] = following.with_changes(leading_lines=_two_blank_lines(following.leading_lines))  # type: ignore[union-attr]
    body[position:position] = [block]
    return tree.with_changes(body=body)


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
    chosen = [segment for _, segment in selected_statements(names, has_fallbacks(file, names))]
    used: set[str] = set().union(*(s.references for s in chosen)) if chosen else set()
    needs: list[ImportNeed] = []
    for module in _order(names):
        for imported in module.imports:
            if imported == "litellm":
                _, _, add = _litellm_spelling(file)
                if add and "litellm" in used:
                    needs.append(ImportNeed("litellm"))
                continue
            if imported.split(".")[0] in used:
                spelled = file.module_name(imported)
                need = ImportNeed(imported, asname=None if spelled == imported else spelled)
                if need not in needs:
                    needs.append(need)
    return needs


_TOP_LEVEL_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)|^(_?[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)


@lru_cache(maxsize=1)
def _top_level_names() -> dict[str, tuple[str, bool]]:
    """name -> (module, is a function or class) for every top-level definition of the runtime modules.

    Read from the sources with a regular expression (top-level code starts in column 0):
    recognising llmfix's own code must not cost reading every runtime module.
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
    bound = set(module_bindings(tree)) | block_names(tree)
    used = {n.value for n in walk(tree) if isinstance(n, cst.Name)}
    return (used & runtime_names()) - bound


def missing_imports(tree: cst.Module) -> list[ImportNeed]:
    """The plain imports the support defined in ``tree`` uses that ``tree`` does not make."""
    bound = module_bindings(tree)
    present = (set(bound) | block_names(tree)) & runtime_names()
    needs: list[ImportNeed] = []
    for name in sorted(present):
        module = load(module_defining(name) or "")
        segment = module.definitions.get(name)
        if segment is None:
            continue
        for imported in module.imports:
            top = imported.split(".")[0]
            if top in segment.references and top != "litellm" and top not in bound and ImportNeed(imported) not in needs:
                needs.append(ImportNeed(imported))
    return needs


def uses_logger(names: Sequence[str]) -> bool:
    """True when the support for ``names`` logs (the file then needs a module logger)."""
    return any("logger" in segment.references for _, segment in selected_statements(names))


def defined_by_runtime(names: Sequence[str]) -> set[str]:
    """Every top-level name the support for ``names`` defines (for recognising it in a file)."""
    return {name for name, _ in selected_statements(names)}
