"""``llmfix list PATH``: every LiteLLM call site in a checkout's target files, and what llmfix does to each.

A helper's call hands on ``**kwargs``, a judge's passes explicit arguments only, a one-token call is a
connection check (left alone); a reference that is not a call (``functools.partial(litellm.completion)``)
is left alone too: llmfix can't tell how it will be called, and never guesses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from llmfix import planning, sourcetext
from llmfix.codemods.analysis.helpers import COMPLETION_ATTRS, completion_calls, helper_functions, is_probe, litellm_names
from llmfix.codemods.analysis.nodes import dotted_name, qualname
from llmfix.discovery import discover


@dataclass(frozen=True)
class CallSite:
    path: str  # relative to the folder the user named
    line: int
    function: str
    kind: str  # helper, judge, probe, unresolved
    action: str  # what llmfix does to it, or why it leaves it alone


ACTIONS = {
    "helper": "retries, fallbacks and timeout from the environment, empty-answer guard, health (and its callers' precheck)",
    "judge": "timeout and fallbacks from the environment, retries only without a retry layer, health (the judge transform)",
    "probe": "left alone: a one-token call is a connection check",
    "unresolved": "left alone: LiteLLM's completion function is used as a value here, so llmfix can't tell how it is called",
}


def _references(module: cst.Module) -> list[cst.CSTNode]:
    """Every reference to LiteLLM's completion functions (imports aside): ``ll.acompletion``, ``acompletion``."""
    modules, direct = litellm_names(module)
    found, stack = [], [module]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        if isinstance(node, cst.Attribute) and node.attr.value in COMPLETION_ATTRS and dotted_name(node.value) in modules:
            found.append(node)
        elif isinstance(node, cst.Name) and node.value in direct:
            found.append(node)
        stack.extend(node.children)
    return found


def call_sites(paths: Sequence[str | Path]) -> list[CallSite]:
    """Every LiteLLM call site in the target files under ``paths``, in file and line order."""
    sites = []
    for target in discover(list(paths)):
        module = planning.parse(target.path, sourcetext.decode(sourcetext.read_source_bytes(target.path), target.path))
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        helpers = {id(f) for f in helper_functions(module)}
        called: set[int] = set()
        for call in completion_calls(module):
            called.add(id(call.call.func))
            kind = "probe" if is_probe(call.call) else "helper" if call.splat is not None or id(call.function) in helpers else "judge"
            line = positions[call.call].start.line
            sites.append(CallSite(target.relpath, line, f"{qualname(module, call.function)}()", kind, ACTIONS[kind]))
        for node in (n for n in _references(module) if id(n) not in called):
            sites.append(CallSite(target.relpath, positions[node].start.line, "", "unresolved", ACTIONS["unresolved"]))
    return sorted(sites, key=lambda s: (s.path, s.line))
