"""Find what verify drives in a checkout: every LiteLLM helper and every rubric generator.

Runs in the parent, with libcst (the child only imports and calls by name). Names and
signatures differ between open-instruct versions, so everything comes from structure,
through ``llmfix.codemods.analysis``:

- ``content_helpers``: the helpers that return the response text, sync and async (in the
  split shape the wrapper; the raw helper it awaits is driven through it);
- ``find_generators``: the rubric generators;
- ``error_contract`` / ``.contract``: whether a failed call raises or is swallowed.

For each function verify works out how to call it (:mod:`.binding`, by parameter name)
and where its model comes from: a parameter verify fills (then every call gets a model
name of verify's own), or a literal in the call (``model_name="gpt-4.1"``), which verify
cannot change and learns from what the mock endpoint saw.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.errors import BadInput
from llmfix.verify import binding
from llmfix.verify.binding import Binding, Parameter, Uncallable

PACKAGE_DIR = "open_instruct"
HELPER, GENERATOR = "helper", "generator"
RAISES, SWALLOWS, EITHER = "raises", "swallows", "either"  # EITHER: verify cannot tell, accepts both


@dataclass
class Target:
    """One function verify calls (or says why it cannot)."""

    kind: str  # helper | generator
    name: str
    module: str  # dotted module name
    is_async: bool
    contract: str  # raises | swallows | either
    parameters: tuple[Parameter, ...]
    model_parameter: str | None = None  # the parameter that reaches the call as its model
    model_literal: str | None = None  # the model the call passes when no parameter reaches it
    raw: tuple[str, ...] = ()  # raw helpers (returning the response object) driven through this one
    binding: Binding | None = None
    reason: str | None = None  # why verify cannot call it; None when it can

    @property
    def signature(self) -> str:
        return binding.signature(self.name, self.parameters)

    @property
    def controls_model(self) -> bool:
        """True when verify chooses the model (a parameter reaches the call)."""
        return self.model_parameter is not None

    @property
    def callable(self) -> bool:
        return self.binding is not None and self.reason is None

    def describe(self) -> str:
        kind = ("async" if self.is_async else "sync") if self.kind == HELPER else "generator"
        model = f"; model {self.model_literal!r} fixed in the call" if self.model_literal else ""
        if not self.controls_model and not self.model_literal:
            model = "; model chosen inside the function"
        raw = f"; drives {', '.join(self.raw)}" if self.raw else ""
        return f"{self.name} ({kind}, {self.contract}{model}{raw})"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "module": self.module,
            "async": self.is_async,
            "contract": self.contract,
            "signature": self.signature,
            "model_parameter": self.model_parameter,
            "model_literal": self.model_literal,
            "drives": list(self.raw),
            "arguments": sorted(self.binding.names) if self.binding else None,
            "not_exercised": self.reason,
        }


@dataclass
class Checkout:
    """What to import and call. ``import_root`` is the folder holding ``open_instruct/``."""

    path: Path
    import_root: Path | None = None
    modules: list[str] = field(default_factory=list)  # dotted names, helper modules first
    files: dict[str, Path] = field(default_factory=dict)  # dotted name -> file
    targets: list[Target] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.targets

    @property
    def helpers(self) -> list[Target]:
        return [t for t in self.targets if t.kind == HELPER]

    @property
    def generators(self) -> list[Target]:
        return [t for t in self.targets if t.kind == GENERATOR]

    @property
    def callable(self) -> list[Target]:
        return [t for t in self.targets if t.callable]

    @property
    def not_exercised(self) -> list[Target]:
        return [t for t in self.targets if not t.callable]

    @property
    def precheck_module(self) -> str | None:
        """Where ``ensure_litellm_connection`` belongs: the first module with a helper."""
        helpers = self.helpers
        return helpers[0].module if helpers else (self.modules[0] if self.modules else None)

    def target(self, name: str) -> Target:
        return next(t for t in self.targets if t.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "import_root": str(self.import_root) if self.import_root else None,
            "modules": self.modules,
            "helpers": [t.to_json() for t in self.helpers],
            "generators": [t.to_json() for t in self.generators],
            "not_exercised": [{"name": t.name, "signature": t.signature, "reason": t.reason} for t in self.not_exercised],
        }


def import_location(path: Path) -> tuple[Path, str]:
    """(sys.path entry, dotted module name) for a file: the parent of its topmost ``open_instruct``."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if parent.name == PACKAGE_DIR:
            relative = path.relative_to(parent.parent).with_suffix("")
            return parent.parent, ".".join(relative.parts)
    return path.parent, path.stem


# ----------------------------------------------------------------------------- libcst reading


def _parameters(function: Any) -> tuple[Parameter, ...]:
    """The parameters of a libcst FunctionDef, in order, with their default's source."""
    import libcst

    module = libcst.Module(body=[])
    params = function.params

    def one(param: Any, kind: str) -> Parameter:
        default = None if param.default is None else module.code_for_node(param.default)
        return Parameter(param.name.value, kind, default)

    found = [one(p, binding.POSITIONAL_ONLY) for p in params.posonly_params]
    found += [one(p, binding.POSITIONAL) for p in params.params]
    if isinstance(params.star_arg, libcst.Param):
        found.append(Parameter(params.star_arg.name.value, binding.VAR_POSITIONAL))
    found += [one(p, binding.KEYWORD_ONLY) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        found.append(Parameter(params.star_kwarg.name.value, binding.VAR_KEYWORD))
    return tuple(found)


def _literal(node: Any, constants: dict[str, str]) -> str | None:
    """A string literal's value, or the value of a module-level ``NAME = "literal"``."""
    import libcst

    if isinstance(node, libcst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, libcst.Name):
        return constants.get(node.value)
    return None


def _string_constants(module: Any) -> dict[str, str]:
    import libcst

    constants: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, libcst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, libcst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, libcst.Name):
                value = _literal(small.value, {})
                if value is not None:
                    constants[small.targets[0].target.value] = value
    return constants


def _names_in(node: Any) -> set[str]:
    import libcst

    found: set[str] = set()

    class Names(libcst.CSTVisitor):
        def visit_Name(self, name: libcst.Name) -> None:
            found.add(name.value)

    node.visit(Names())
    return found


def _model_argument(call: Any) -> Any:
    """What a call passes as its model: ``model=`` / ``model_name=``, else its first positional argument."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in binding.MODEL_NAMES:
            return arg.value
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def _model_source(parameters: tuple[Parameter, ...], model: Any, constants: dict[str, str]) -> tuple[str | None, str | None]:
    """(parameter that carries the model, literal model) for a function whose call passes ``model``."""
    names = [p.name for p in parameters if p.kind not in (binding.VAR_POSITIONAL, binding.VAR_KEYWORD)]
    named = next((n for n in names if n in binding.MODEL_NAMES), None)
    if model is None:
        return named, None  # the model travels in **kwargs (or nowhere): the named parameter, if any
    literal = _literal(model, constants)
    if literal is not None and not (hasattr(model, "value") and model.value in names):
        return None, literal
    mentioned = [n for n in names if n in _names_in(model)]
    if mentioned:
        return (named if named in mentioned else mentioned[0]), None
    return None, None


def _bind(target: Target) -> None:
    try:
        target.binding = binding.bind(target.parameters, target.model_parameter)
    except Uncallable as error:
        target.reason = f"cannot call {target.signature}: {error}"


def _module_level(module: Any, function: Any) -> bool:
    return any(statement is function for statement in module.body)


def _targets_of(module: Any, dotted: str) -> tuple[list[Target], list[Target], dict[str, str]]:
    """(targets, raw helpers (returning the response object), generator name -> the helper it awaits)."""
    from llmfix.codemods.analysis.generator import find_generators
    from llmfix.codemods.analysis.helpers import (
        content_helpers,
        error_contract,
        find_litellm_calls,
        llm_call_of,
    )

    constants = _string_constants(module)
    targets: list[Target] = []
    content = content_helpers(module)
    content_names = {f.name.value for f in content}
    raw_targets: list[Target] = []
    for call in find_litellm_calls(module):
        name = call.function.name.value
        if name not in content_names and all(t.name != name for t in raw_targets):
            raw_targets.append(Target(HELPER, name, dotted, call.is_async, error_contract(module, call.function), _parameters(call.function)))
    for function in content:
        parameters = _parameters(function)
        call = llm_call_of(module, function)
        model_parameter, literal = _model_source(parameters, _model_argument(call) if call is not None else None, constants)
        wraps = ()
        if call is not None and not _is_litellm_call(call):
            callee = _callee(call)
            if any(t.name == callee for t in raw_targets):
                wraps = (callee,)
        target = Target(HELPER, function.name.value, dotted, function.asynchronous is not None, error_contract(module, function),
                        parameters, model_parameter, literal, wraps)
        targets.append(target)
    awaited: dict[str, str] = {}
    for site in find_generators(module):
        function = site.function
        parameters = _parameters(function)
        model_parameter, literal = _model_source(parameters, site.model, constants)
        targets.append(Target(GENERATOR, function.name.value, dotted, True, site.contract, parameters, model_parameter, literal))
        callee = _callee(site.helper_call)
        if callee:
            awaited[function.name.value] = callee
    for target, function in zip(targets, [*content, *(s.function for s in find_generators(module))]):
        if not _module_level(module, function):
            target.reason = f"cannot call {target.signature}: it is a method, and verify calls module-level functions only"
    return targets, raw_targets, awaited


def _is_litellm_call(call: Any) -> bool:
    import libcst

    return isinstance(call.func, libcst.Attribute) and call.func.attr.value in ("completion", "acompletion")


def _callee(call: Any) -> str | None:
    import libcst

    func = call.func
    if isinstance(func, libcst.Name):
        return func.value
    if isinstance(func, libcst.Attribute):
        return func.attr.value
    return None


def analyse(path: Path) -> Checkout:
    """Discover the target files under ``path`` and name what verify will call, and how."""
    import libcst

    from llmfix.discovery import discover

    checkout = Checkout(path)
    roots: set[Path] = set()
    raw_helpers: list[Target] = []
    awaited: dict[str, str] = {}
    found: list[Target] = []
    for target_file in discover([path]):
        try:
            source = target_file.path.read_text(encoding="utf-8")
            module = libcst.parse_module(source)
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"{target_file.path}: cannot read: {error}") from None
        except libcst.ParserSyntaxError as error:
            raise BadInput(f"{target_file.path}: not valid Python: {str(error).splitlines()[0]}") from None
        root, dotted = import_location(target_file.path)
        targets, raw, waits = _targets_of(module, dotted)
        if not targets and not raw:
            continue
        roots.add(root)
        checkout.modules.append(dotted)
        checkout.files[dotted] = target_file.path
        found += targets
        awaited.update(waits)
        raw_helpers += raw
    if len(roots) > 1:
        raise BadInput(f"{path}: the helper and generator files live in different checkouts ({', '.join(sorted(map(str, roots)))})")
    checkout.import_root = roots.pop() if roots else None
    helpers = {t.name: t for t in found if t.kind == HELPER}
    driven = {name for t in helpers.values() for name in t.raw}
    for raw_helper in raw_helpers:
        if raw_helper.name not in driven:
            raw_helper.reason = f"{raw_helper.name} returns the response object and no helper that reads the text calls it"
            found.append(raw_helper)
    for target in found:
        if target.kind == GENERATOR and target.contract == RAISES:
            helper = helpers.get(awaited.get(target.name, ""))
            # a generator without a try of its own fails the way the helper it awaits does
            target.contract = helper.contract if helper is not None else EITHER
        if target.reason is None:
            _bind(target)
    checkout.targets = sorted(found, key=lambda t: (t.kind != HELPER, checkout.modules.index(t.module)))
    helper_modules = [m for m in checkout.modules if any(t.module == m for t in checkout.helpers)]
    checkout.modules = helper_modules + [m for m in checkout.modules if m not in helper_modules]
    return checkout
