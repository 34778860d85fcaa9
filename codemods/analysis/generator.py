"""The rubric generator: an async function that awaits a call, parses the text with
``extract_json_from_response`` and returns the parsed object."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from llmfix.codemods.analysis.nodes import (
    all_functions,
    callee_name,
    first_positional,
    is_name,
    iter_statements,
    keyword_arg,
    single_small,
    swallowing_try,
    top_statement,
)
from llmfix.codemods.analysis.tree import find_all, per_module

JSON_PARSER = "extract_json_from_response"


@dataclass
class GeneratorSite:
    """``resp = await helper(...)`` whose result is parsed and returned."""

    function: cst.FunctionDef
    await_line: cst.SimpleStatementLine
    result_name: str
    helper_call: cst.Call
    top: cst.BaseStatement  # the function-body statement holding the await

    @property
    def model(self) -> cst.BaseExpression | None:
        return keyword_arg(self.helper_call, "model_name", "model") or first_positional(self.helper_call)

    @property
    def contract(self) -> str:
        """``swallows`` when a failed awaited call ends in the generator's own handler, else ``raises``."""
        return "swallows" if swallowing_try(self.function, self.await_line) is not None else "raises"


def _is_json_parse_of(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Call) and callee_name(node) == JSON_PARSER and any(is_name(a.value, name) for a in node.args)


def _returns_parsed(func: cst.FunctionDef, result_name: str) -> bool:
    """True when ``func`` returns what the JSON parser made of ``result_name``."""
    parsed_names = set()
    for stmt in iter_statements(func.body):
        small = single_small(stmt)
        if isinstance(small, cst.Assign) and _is_json_parse_of(small.value, result_name):
            parsed_names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
    returned = [ret.value for ret in find_all(func.body, cst.Return) if ret.value is not None]
    return any(_is_json_parse_of(value, result_name) or (isinstance(value, cst.Name) and value.value in parsed_names) for value in returned)


@per_module
def find_generators(module: cst.Module) -> list[GeneratorSite]:
    """Async functions that await a call, parse its text as JSON and return the result."""
    sites = []
    for func in all_functions(module):
        if func.asynchronous is None:
            continue
        for stmt in iter_statements(func.body):
            small = single_small(stmt)
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
                continue
            if not (isinstance(small.value, cst.Await) and isinstance(small.value.expression, cst.Call)):
                continue
            name = small.targets[0].target.value
            if _returns_parsed(func, name):
                top = top_statement(func, stmt)
                assert top is not None
                sites.append(GeneratorSite(func, stmt, name, small.value.expression, top))  # type: ignore[arg-type]
                break
    return sites
