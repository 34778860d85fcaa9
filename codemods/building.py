"""Build new code from fixed templates whose ``__name__`` holes are filled with libcst nodes, so no value from the user
or the target is ever parsed as code; templates use four-space indentation and come out in the module's own."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import libcst as cst

from llmfix.codemods.analysis.tree import rebuild, walk
from llmfix.codemods.context import FileContext

_HOLE = re.compile(r"^__(\w+)__$")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string(value: str, quote: str = '"') -> cst.SimpleString:
    """A string literal for ``value`` in ``quote`` (the other quote when that avoids escapes)."""
    if quote in value and ({'"', "'"} - {quote}).pop() not in value:
        quote = '"' if quote == "'" else "'"
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif not char.isprintable():
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return cst.SimpleString(f"{quote}{''.join(out)}{quote}")


def integer(value: int) -> cst.Integer:
    return cst.Integer(str(int(value)))


def number(value: float) -> cst.Integer | cst.Float:
    """``600`` for 600.0, ``0.5`` for 0.5; finite values only."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return integer(int(value)) if value == int(value) else cst.Float(repr(float(value)))


def format_number(value: float) -> str:
    """The text :func:`number` would write (for messages and env-var defaults)."""
    return str(int(value)) if value == int(value) else repr(float(value))


def _fill(tree: cst.CSTNode, nodes: dict[str, cst.CSTNode]) -> cst.CSTNode:
    """``tree`` with each ``__name__`` hole replaced by its node (a path-only rebuild)."""
    if not nodes:
        return tree
    holes: dict[int, cst.CSTNode] = {}
    for node in walk(tree):
        if isinstance(node, cst.Name):
            hole = _HOLE.match(node.value)
            if hole and hole.group(1) in nodes:
                holes[id(node)] = nodes[hole.group(1)]
    used = {h for h in nodes if any(v is nodes[h] for v in holes.values())}
    missing = set(nodes) - used
    assert not missing, f"template has no hole for {sorted(missing)}"
    return rebuild(tree, holes, {}, {})


@lru_cache(maxsize=512)
def _parsed_statements(template: str, indent: str, newline: str) -> cst.Module:
    """``template`` parsed in the module's indentation and newline."""
    if indent != "    ":
        template = re.sub(r"^((?:    )+)", lambda found: indent * (len(found.group(1)) // 4), template, flags=re.M)
    return cst.parse_module(template.replace("\n", newline), config=cst.PartialParserConfig(default_indent=indent, default_newline=newline))


_parsed_expression = lru_cache(maxsize=512)(cst.parse_expression)


def names(**values: str) -> dict[str, cst.CSTNode]:
    """Holes filled with plain names (identifiers llmfix chose or found in the file)."""
    return {hole: cst.parse_expression(value) if "." in value else cst.Name(value) for hole, value in values.items()}


def statements(template: str, file: FileContext, **nodes: cst.CSTNode) -> list[cst.BaseStatement]:
    module = _parsed_statements(template, file.module.default_indent, file.module.default_newline)
    filled = _fill(module, nodes)
    assert isinstance(filled, cst.Module)
    return list(filled.body)


def statement(template: str, file: FileContext, **nodes: cst.CSTNode) -> cst.BaseStatement:
    (single,) = statements(template, file, **nodes)
    return single


def call(function: str, *args: cst.BaseExpression | cst.Arg) -> cst.Call:
    """``a.b(arg, ...)`` built directly (no template to parse or fill: patching a thousand helpers stays cheap)."""
    head, *rest = function.split(".")
    callee: cst.BaseExpression = cst.Name(head)
    for part in rest:
        callee = cst.Attribute(callee, cst.Name(part))
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    built = [arg if isinstance(arg, cst.Arg) else cst.Arg(arg) for arg in args]
    return cst.Call(callee, [arg.with_changes(comma=spaced if i < len(built) - 1 else cst.MaybeSentinel.DEFAULT) for i, arg in enumerate(built)])


def expression(template: str, file: FileContext, **nodes: cst.CSTNode) -> cst.BaseExpression:
    filled = _fill(_parsed_expression(template), nodes)
    assert isinstance(filled, cst.BaseExpression)
    return filled
