"""One analysed file, shared by every transform that plans on it: its one parse, its style, the support module's
dotted name, and the facts transforms hand to later ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods.analysis.scopes import binds_name, module_bindings
from llmfix.codemods.analysis.tree import module_walk
from llmfix.codemods.style import Style


@dataclass
class FileContext:
    module: cst.Module
    style: Style
    dotted_name: str | None = None  # how other modules import this file, when known
    support_module: str = ""  # the support module's dotted name (empty: beside this file)
    facts: dict[str, Any] = field(default_factory=dict)
    noted: dict[str, dict[str, object]] = field(default_factory=dict)  # llmfix's record of the file: transform -> notes
    recorded: bool = True  # False: revert has no record of the checkout, only the code, to go by

    def __post_init__(self) -> None:
        module_walk(self.module)  # walked first, so every analysis's walk of a function is a slice of it
        if not self.support_module:
            package = (self.dotted_name or "").rpartition(".")[0]
            self.support_module = f"{package}.{support.NAME}" if package else support.NAME

    def support_clash(self, function: cst.FunctionDef | None = None) -> str | None:
        """Why the file (or ``function``) can't call the support module by its name (it binds the name otherwise), else None."""
        if function is not None and binds_name(function, support.NAME):
            return f"{function.name.value}() binds `{support.NAME}` itself, the name of llmfix's support module"
        how = module_bindings(self.module).get(support.NAME)
        package, _, name = self.support_module.rpartition(".")
        if how is None or how == (f"from {package} import {name}" if package else f"import {name}"):
            return None
        return f"the file already binds `{support.NAME}` ({how}), the name of llmfix's support module"

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

