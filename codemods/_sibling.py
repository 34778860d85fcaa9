"""Reach a runtime name from the rubric generator's module: where its helper comes from.

The generator calls a helper defined in run_utils.py (``from ...run_utils import
run_litellm_async``, ``ru.run_litellm_async``, or its own module). A runtime name the
generator needs (``ensure_litellm_connection``, ``_litellm_tracked``) is reached the
same way, and imported only when that module defines it after the same run (the
checkout's files are planned together; see :class:`~llmfix.codemods.context.CheckoutFacts`).
"""

from __future__ import annotations

import libcst as cst

from llmfix.codemods.analysis.generator import GeneratorSite
from llmfix.codemods.analysis.nodes import dotted_name, module_functions
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits


class Unreachable(Exception):
    """The name can't be reached safely; the message says why."""


def resolve_import(file: FileContext, node: cst.ImportFrom) -> str:
    """The dotted name ``node`` imports from, relative imports resolved against this file."""
    module = dotted_name(node.module) or ""
    if not node.relative:
        return module
    base = (file.dotted_name or "").split(".")[: -len(node.relative)] if file.dotted_name else []
    return ".".join([*base, module] if module else base)


def _defines(file: FileContext, module: str, name: str) -> bool:
    defined = file.checkout.lookup(module)
    return defined is not None and name in defined


def _module_of(how: str) -> str | None:
    """The module a binding names: ``import a.b`` -> ``a.b``; ``from a import b`` -> ``a.b`` (a submodule)."""
    if how.startswith("import "):
        return how[len("import "):]
    if how.startswith("from ") and " import " in how:
        package, _, member = how[len("from "):].partition(" import ")
        return f"{package}.{member}" if package and not package.startswith(".") else None
    return None


def reach(file: FileContext, site: GeneratorSite, name: str, edits: Edits) -> cst.BaseExpression:
    """An expression for ``name`` in the generator's module, importing it beside the helper if needed.

    Raises :class:`Unreachable` when the helper's module won't define ``name``.
    """
    func = site.helper_call.func
    bound = module_bindings(file.module)
    if isinstance(func, cst.Attribute):
        owner = dotted_name(func.value)
        how = bound.get((owner or "").split(".")[0], "")
        source = _module_of(how)
        if source is None or not _defines(file, source, name):
            raise Unreachable(f"can't tell that `{file.code(func.value)}` will define {name}")
        return cst.Attribute(value=func.value.deep_clone(), attr=cst.Name(name))
    if not isinstance(func, cst.Name):
        raise Unreachable(f"can't tell where the awaited `{file.code(func)}` comes from")
    if func.value in module_functions(file.module) or name in module_functions(file.module):
        return cst.Name(name)  # the helper lives here: so does the runtime support
    if bound.get(name, "").startswith("from ") and _defines(file, bound[name].split(" ")[1], name):
        return cst.Name(name)  # imported already (a line a merge kept)
    for statement in file.module.body:
        for small in getattr(statement, "body", ()) if isinstance(statement, cst.SimpleStatementLine) else ():
            if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                continue
            imported = {(a.asname.name.value if a.asname else dotted_name(a.name)) for a in small.names}  # type: ignore[union-attr]
            if func.value not in imported:
                continue
            source = resolve_import(file, small)
            if not _defines(file, source, name):
                raise Unreachable(
                    f"{name} would be imported from {source}, which does not define it after this run "
                    "(patch the whole checkout, with its run_utils.py)"
                )
            if name not in imported:
                edits.need_import(dotted_name(small.module) or "", name, len(small.relative))
            return cst.Name(name)
    raise Unreachable(f"can't tell where `{func.value}` is imported from")
