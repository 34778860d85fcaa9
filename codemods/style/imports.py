"""Add (and remove) the support module's import where isort and ruff's ``I`` rules would put it: in its section
(future, stdlib, third party, first party, local), or into an existing ``from`` import of its package."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst

from llmfix.codemods.analysis.nodes import dotted_name
from llmfix.codemods.context import FileContext
from llmfix.codemods.style.wrap import fits

SECTIONS = ("future", "stdlib", "third-party", "first-party", "local")


@dataclass(frozen=True)
class _Line:
    index: int  # in module.body
    section: int
    is_from: bool
    module: str


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and bool(statement.body) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
    return isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))


def section_of(module: str, level: int, file: FileContext) -> int:
    if level:
        return SECTIONS.index("local")
    top = module.split(".")[0]
    if top == "__future__":
        return SECTIONS.index("future")
    own = (file.dotted_name or "").split(".")[0]
    if top in file.style.repo.known_first_party or (own and top == own):
        return SECTIONS.index("first-party")
    if top in sys.stdlib_module_names:
        return SECTIONS.index("stdlib")
    return SECTIONS.index("third-party")


def _sort_key(name: str, file: FileContext) -> tuple[str, str]:
    return (name if file.style.repo.case_sensitive else name.lower(), name)


def _head(tree: cst.Module, file: FileContext) -> tuple[list[_Line], int]:
    """The import lines at the top of the module, and the index just after the docstring."""
    lines: list[_Line] = []
    start = 1 if tree.body and _is_docstring(tree.body[0]) else 0
    for index in range(start, len(tree.body)):
        statement = tree.body[index]
        if not _is_import_line(statement):
            break
        node = statement.body[0]  # type: ignore[union-attr]
        if isinstance(node, cst.Import):
            module, level = dotted_name(node.names[0].name) or "", 0
        else:
            module, level = dotted_name(node.module) or "", len(node.relative)
        lines.append(_Line(index, section_of(module, level, file), isinstance(node, cst.ImportFrom), module))
    return lines, start


def _asname(alias: cst.ImportAlias) -> str | None:
    return alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None


def _has_plain_import(tree: cst.Module, module: str) -> bool:
    return any(
        isinstance(small, cst.Import) and any(dotted_name(a.name) == module and _asname(a) is None for a in small.names)
        for statement in tree.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def _existing_from(tree: cst.Module, package: str) -> int | None:
    for index, statement in enumerate(tree.body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar) and not small.relative and dotted_name(small.module) == package:
            return index
    return None


def _imported_names(node: cst.ImportFrom) -> list[str]:
    assert not isinstance(node.names, cst.ImportStar)
    return [dotted_name(alias.name) or "" for alias in node.names]


def _name_key(name: str, file: FileContext) -> tuple:
    """isort's order of imported names: by type (CONSTANTS, Classes, the rest) unless the repo says not to, then by name."""
    rank = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return (rank if file.style.repo.order_by_type else 0, *_sort_key(name, file))


def _parsed(text: str, file: FileContext) -> cst.SimpleStatementLine:
    """An import line written with ``\n``, parsed as in the file."""
    parsed = cst.parse_statement(text.replace("\n", file.module.default_newline), config=file.module.config_for_parsing)
    assert isinstance(parsed, cst.SimpleStatementLine)
    return parsed


def _from_import(module: str, aliases: list[str], file: FileContext, exploded: bool = False) -> cst.SimpleStatementLine:
    head = f"from {module} import "
    one_line = head + ", ".join(aliases)
    if not exploded and fits(one_line, file.style.line_length):
        return _parsed(one_line + "\n", file)
    indent = file.module.default_indent
    return _parsed(head + "(\n" + "".join(f"{indent}{alias},\n" for alias in aliases) + ")\n", file)


def _alias_text(alias: cst.ImportAlias) -> str:
    asname = _asname(alias)
    return (dotted_name(alias.name) or "") + (f" as {asname}" if asname else "")


def _extend_from(tree: cst.Module, index: int, new_name: str, file: FileContext) -> cst.Module | None:
    """``tree`` with ``new_name`` added to the ``from`` import at ``index``; None if it has comments."""
    statement = tree.body[index]
    assert isinstance(statement, cst.SimpleStatementLine)
    node = statement.body[0]
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    if "#" in cst.Module([]).code_for_node(node):
        return None
    aliases = [_alias_text(a) for a in node.names]
    names = _imported_names(node)
    keys = [_name_key(n, file) for n in names]
    in_order = keys == sorted(keys)  # else the new name goes last
    aliases.insert(next((i for i, key in enumerate(keys) if in_order and key > _name_key(new_name, file)), len(names)), new_name)
    # isort keeps an import written one name per line with a trailing comma that way (unless told not to)
    exploded = (
        file.style.repo.split_on_trailing_comma and isinstance(node.rpar, cst.RightParen) and bool(node.names) and isinstance(node.names[-1].comma, cst.Comma)
    )
    new = _from_import(dotted_name(node.module) or "", aliases, file, exploded)
    new = new.with_changes(leading_lines=statement.leading_lines, trailing_whitespace=statement.trailing_whitespace)
    body = list(tree.body)
    body[index] = new
    return tree.with_changes(body=body)


def _insert(tree: cst.Module, package: str, name: str, file: FileContext) -> cst.Module:
    """``tree`` with ``from package import name`` (``import name`` when no package) in its section."""
    module = package or name
    lines, start = _head(tree, file)
    section = section_of(module, 0, file)
    key = (bool(package), *_sort_key(module, file))
    new = _from_import(package, [name], file) if package else _parsed(f"import {name}\n", file)
    body = list(tree.body)
    same = [line for line in lines if line.section == section]
    if same:
        later = next((line for line in same if (line.is_from, *_sort_key(line.module, file)) > key), None)
        if later is not None:
            anchor = body[later.index]
            # the new line takes the anchor's place (and its blank lines); its leading comments stay with it
            leading = anchor.leading_lines  # type: ignore[union-attr]
            blank_before = tuple(line for line in leading if line.comment is None)
            comments = tuple(line for line in leading if line.comment is not None)
            body[later.index] = anchor.with_changes(leading_lines=comments)  # type: ignore[union-attr]
            body.insert(later.index, new.with_changes(leading_lines=blank_before))
        else:
            body.insert(same[-1].index + 1, new)
        return tree.with_changes(body=body)
    before = [line for line in lines if line.section < section]
    if before:
        body.insert(before[-1].index + 1, new.with_changes(leading_lines=(cst.EmptyLine(),)))
        return tree.with_changes(body=body)
    after = [line for line in lines if line.section > section]
    position = after[0].index if after else start
    if position < len(body):  # what follows is set apart as isort and black want (noted, for revert)
        following = body[position]
        leading = tuple(following.leading_lines)  # type: ignore[union-attr]
        blank = next((i for i, line in enumerate(leading) if line.comment is not None), len(leading))
        wanted = 1 if after or isinstance(following, cst.SimpleStatementLine) else 2
        if blank < wanted:
            file.facts["blank lines after the support import"] = wanted - blank
            body[position] = following.with_changes(leading_lines=(cst.EmptyLine(),) * (wanted - blank) + leading)  # type: ignore[union-attr]
    body.insert(position, new.with_changes(leading_lines=(cst.EmptyLine(),) if position > 0 else ()))
    return tree.with_changes(body=body)


def add_support_import(file: FileContext, tree: cst.Module) -> cst.Module:
    """``tree`` importing the support module: added to an existing ``from`` import of its package, else a line of its own."""
    package, _, name = file.support_module.rpartition(".")
    if not package:
        return tree if _has_plain_import(tree, name) else _insert(tree, package, name, file)
    index = _existing_from(tree, package)
    if index is not None:
        if name in _imported_names(tree.body[index].body[0]):  # type: ignore[union-attr]
            return tree
        extended = _extend_from(tree, index, name, file)
        if extended is not None:
            return extended
    return _insert(tree, package, name, file)


def remove_import(file: FileContext, tree: cst.Module, added_blank: int = 0) -> cst.Module:
    """``tree`` without the support module's import, each way :func:`_insert` adds one undone: the line goes, its blank
    lines back to the next line when that is an import of its section (whose place it took), the ``added_blank`` lines
    it gave the next line too; a name added to an existing ``from`` import is taken out of it."""
    package, _, name = file.support_module.rpartition(".")
    body = list(tree.body)
    sections = {line.index: line.section for line in _head(tree, file)[0]}
    for index, statement in enumerate(body):
        if not _is_import_line(statement):
            continue
        node = statement.body[0]  # type: ignore[union-attr]
        from_package = isinstance(node, cst.ImportFrom) and not node.relative and dotted_name(node.module) == package
        if not (from_package and not isinstance(node.names, cst.ImportStar)) and not (isinstance(node, cst.Import) and not package):
            continue
        kept = [a for a in node.names if not (dotted_name(a.name) == name and a.asname is None)]  # type: ignore[union-attr]
        if len(kept) == len(node.names):  # type: ignore[arg-type]
            continue
        if not kept:
            blank = tuple(line for line in statement.leading_lines if line.comment is None)
            following = body[index + 1] if index + 1 < len(body) else None
            if blank and following is not None and sections.get(index + 1) == sections.get(index):
                body[index + 1] = following.with_changes(leading_lines=(*blank, *following.leading_lines))  # type: ignore[union-attr]
            elif added_blank and following is not None:
                body[index + 1] = following.with_changes(leading_lines=following.leading_lines[added_blank:])  # type: ignore[union-attr]
            del body[index]
        else:
            replacement = _from_import(package, [_alias_text(a) for a in kept], file, exploded="\n" in file.code(node))
            body[index] = replacement.with_changes(leading_lines=statement.leading_lines)
        return tree.with_changes(body=body)
    return tree
