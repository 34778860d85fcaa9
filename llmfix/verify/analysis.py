"""Find what verify drives in each checkout: the LiteLLM helpers, the rubric generators, the LLM judges.

Runs in the parent, with libcst (the child only imports and calls by name). Names and
signatures differ between open-instruct versions, so everything comes from structure,
through ``llmfix.codemods.analysis``:

- ``content_helpers``: the helpers that return the response text, sync and async (in the
  split shape the wrapper; the raw helper it awaits is driven through it);
- ``find_generators``: the rubric generators;
- ``direct_calls``: the functions the ``judge`` transform patches, a LiteLLM call with
  explicit arguments (``LMJudgeVerifier.async_call``); a method is called on an instance
  the child builds, with a config carrying verify's model;
- ``error_contract`` / ``.contract``: whether a failed call raises or is swallowed.

For each function verify works out how to call it (:mod:`.binding`, by parameter name)
and where its model comes from: a parameter verify fills, an attribute path from ``self``
(``self.verifier_config.llm_judge_model``), or a literal in the call (``model_name="gpt-4.1"``),
which verify cannot change and learns from what the mock endpoint saw.

A folder holding several checkouts gives one :class:`Checkout` each, as ``llmfix check`` sees them.
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
SUPPORT = "litellm_utils"  # the support module llmfix writes beside run_utils.py
HELPER, GENERATOR, JUDGE = "helper", "generator", "judge"
RAISES, SWALLOWS, EITHER = "raises", "swallows", "either"  # EITHER: verify cannot tell, accepts both


@dataclass
class Target:
    """One function verify calls (or says why it cannot)."""

    kind: str  # helper | generator | judge
    name: str  # the qualified name: ``run_litellm``, ``LMJudgeVerifier.async_call``
    module: str  # dotted module name
    is_async: bool
    contract: str  # raises | swallows | either
    parameters: tuple[Parameter, ...]
    model_parameter: str | None = None  # the parameter that reaches the call as its model
    model_literal: str | None = None  # the model the call passes when no parameter reaches it
    raw: tuple[str, ...] = ()  # raw helpers (returning the response object) driven through this one
    model_path: tuple[str, ...] = ()  # a judge method's model, from self: ("verifier_config", "llm_judge_model")
    attempts: int = 1  # a judge's own retry loop: how many times it calls LiteLLM
    binding: Binding | None = None
    reason: str | None = None  # why verify cannot call it; None when it can

    @property
    def signature(self) -> str:
        return binding.signature(self.name, self.parameters)

    @property
    def is_method(self) -> bool:
        return "." in self.name

    @property
    def controls_model(self) -> bool:
        """True when verify chooses the model (a parameter, or the judge's config, reaches the call)."""
        return self.model_parameter is not None or bool(self.model_path)

    @property
    def callable(self) -> bool:
        return self.binding is not None and self.reason is None

    def describe(self) -> str:
        kind = ("async" if self.is_async else "sync") if self.kind == HELPER else self.kind
        model = f"; model {self.model_literal!r} fixed in the call" if self.model_literal else ""
        if self.model_path:
            model = f"; model in self.{'.'.join(self.model_path)}"
        elif not self.controls_model and not self.model_literal:
            model = "; model chosen inside the function"
        raw = f"; drives {', '.join(self.raw)}" if self.raw else ""
        return f"{self.name} ({kind}, {self.contract}{model}{raw})"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "module": self.module, "async": self.is_async, "contract": self.contract,
            "signature": self.signature, "model_parameter": self.model_parameter, "model_literal": self.model_literal,
            "drives": list(self.raw), "arguments": sorted(self.binding.names) if self.binding else None, "not_exercised": self.reason,
            **({"model_path": ".".join(self.model_path), "attempts": self.attempts} if self.kind == JUDGE else {}),
        }


@dataclass
class Checkout:
    """What to import and call. ``import_root`` is the folder holding ``open_instruct/``."""

    path: Path
    import_root: Path | None = None
    modules: list[str] = field(default_factory=list)  # dotted names, helper modules first
    files: dict[str, Path] = field(default_factory=dict)  # dotted name -> file
    targets: list[Target] = field(default_factory=list)
    support: str | None = None  # the support module the patched code imports (or would)

    @property
    def empty(self) -> bool:
        return not self.targets

    def of_kind(self, *kinds: str) -> list[Target]:
        return [t for t in self.targets if t.kind in kinds]

    @property
    def helpers(self) -> list[Target]:
        return self.of_kind(HELPER)

    @property
    def generators(self) -> list[Target]:
        return self.of_kind(GENERATOR)

    @property
    def judges(self) -> list[Target]:
        return self.of_kind(JUDGE)

    @property
    def judge_modules(self) -> list[str]:
        """Modules that hold judges only: imported with missing third-party packages stubbed."""
        others = {t.module for t in self.targets if t.kind != JUDGE}
        return [m for m in self.modules if m not in others and any(t.module == m for t in self.judges)]

    @property
    def callable(self) -> list[Target]:
        return [t for t in self.targets if t.callable]

    @property
    def not_exercised(self) -> list[Target]:
        """The helpers and generators verify cannot call (a judge it cannot call has its cases skipped)."""
        return [t for t in self.targets if not t.callable and t.kind != JUDGE]

    def target(self, name: str) -> Target:
        return next(t for t in self.targets if t.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "import_root": str(self.import_root) if self.import_root else None,
            "modules": self.modules,
            "helpers": [t.to_json() for t in self.helpers],
            "generators": [t.to_json() for t in self.generators],
            "judges": [t.to_json() for t in self.judges],
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


def _parameters(function: Any, method: bool = False) -> tuple[Parameter, ...]:
    """The parameters of a libcst FunctionDef, in order, with their default's source (a method's ``self`` left out)."""
    import libcst

    module = libcst.Module(body=[])
    params = function.params

    def one(param: Any, kind: str) -> Parameter:
        default = None if param.default is None else module.code_for_node(param.default)
        return Parameter(param.name.value, kind, default)

    found = [one(p, binding.POSITIONAL_ONLY) for p in params.posonly_params]
    found += [one(p, binding.POSITIONAL) for p in params.params]
    if method and found:
        found = found[1:]
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
        for small in statement.body if isinstance(statement, libcst.SimpleStatementLine) else []:
            if isinstance(small, libcst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, libcst.Name):
                value = _literal(small.value, {})
                if value is not None:
                    constants[small.targets[0].target.value] = value
    return constants


def _names_in(node: Any) -> set[str]:
    import libcst

    from llmfix.codemods.analysis.tree import find_all

    return {name.value for name in find_all(node, libcst.Name)}


def _model_argument(call: Any) -> Any:
    """What a call passes as its model: ``model=`` / ``model_name=``, else its first positional argument."""
    from llmfix.codemods.analysis.nodes import first_positional, keyword_arg

    return keyword_arg(call, *binding.MODEL_NAMES) or first_positional(call)


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


def _self_path(model: Any) -> tuple[str, ...]:
    """``("verifier_config", "llm_judge_model")`` for ``self.verifier_config.llm_judge_model``; () otherwise."""
    from llmfix.codemods.analysis.nodes import dotted_name

    parts = (dotted_name(model) or "").split(".")
    return tuple(parts[1:]) if len(parts) > 1 and parts[0] == "self" else ()


def _judges(module: Any, dotted: str, constants: dict[str, str]) -> list[Target]:
    """The functions holding a LiteLLM call with explicit arguments: what the ``judge`` transform patches."""
    from llmfix.codemods.analysis.helpers import direct_calls
    from llmfix.codemods.analysis.nodes import qualname, swallowing_try
    from llmfix.codemods.judge import retry_layer

    found: list[Target] = []
    for site in direct_calls(module):
        name = qualname(module, site.function)
        if any(t.name == name for t in found):
            continue
        method = "." in name
        parameters = _parameters(site.function, method)
        path = _self_path(site.model) if method else ()
        model_parameter, literal = (None, None) if path else _model_source(parameters, site.model, constants)
        contract = SWALLOWS if swallowing_try(site.function, site.call) is not None else RAISES
        layer = retry_layer(site.function, site.call)
        target = Target(JUDGE, name, dotted, site.is_async, contract, parameters, model_parameter, literal,
                        model_path=path, attempts=(layer[1] or 3) if layer else 1)
        if name.count(".") > 1:
            target.reason = f"cannot call {target.signature}: it is nested in {name.rsplit('.', 1)[0]}"
        found.append(target)
    return found


def _targets_of(module: Any, dotted: str) -> tuple[list[Target], list[Target], dict[str, str]]:
    """(targets, raw helpers (returning the response object), generator name -> the helper it awaits)."""
    from llmfix.codemods.analysis.generator import find_generators
    from llmfix.codemods.analysis.helpers import (
        content_helpers,
        error_contract,
        find_litellm_calls,
        llm_call_of,
    )
    from llmfix.codemods.analysis.nodes import callee_name

    constants = _string_constants(module)
    content = content_helpers(module)
    content_names = {f.name.value for f in content}
    raw_targets: list[Target] = []
    for call in find_litellm_calls(module):
        name = call.function.name.value
        if name not in content_names and all(t.name != name for t in raw_targets):
            raw_targets.append(Target(HELPER, name, dotted, call.is_async, error_contract(module, call.function), _parameters(call.function)))
    targets: list[Target] = []
    for function in content:
        parameters = _parameters(function)
        call = llm_call_of(module, function)
        model_parameter, literal = _model_source(parameters, _model_argument(call) if call is not None else None, constants)
        callee = callee_name(call) if call is not None else None
        wraps = (callee,) if callee and any(t.name == callee for t in raw_targets) else ()
        targets.append(Target(HELPER, function.name.value, dotted, function.asynchronous is not None, error_contract(module, function),
                              parameters, model_parameter, literal, wraps))
    awaited: dict[str, str] = {}
    sites = find_generators(module)
    for site in sites:
        parameters = _parameters(site.function)
        model_parameter, literal = _model_source(parameters, site.model, constants)
        targets.append(Target(GENERATOR, site.function.name.value, dotted, True, site.contract, parameters, model_parameter, literal))
        awaited[site.function.name.value] = callee_name(site.helper_call) or ""
    for target, function in zip(targets, [*content, *(s.function for s in sites)]):
        if not any(statement is function for statement in module.body):
            target.reason = f"cannot call {target.signature}: it is a method, and verify calls module-level helpers only"
    return targets + _judges(module, dotted, constants), raw_targets, awaited


def _support_import(module: Any) -> str | None:
    """``open_instruct.rubrics.litellm_utils`` for a module holding ``from open_instruct.rubrics import litellm_utils``."""
    import libcst

    from llmfix.codemods.analysis.nodes import dotted_name

    for statement in module.body:
        for small in statement.body if isinstance(statement, libcst.SimpleStatementLine) else []:
            if isinstance(small, libcst.ImportFrom) and not isinstance(small.names, libcst.ImportStar):
                if any(dotted_name(alias.name) == SUPPORT for alias in small.names) and small.module is not None:
                    return f"{dotted_name(small.module)}.{SUPPORT}"
    return None


def _bind(target: Target) -> None:
    try:
        target.binding = binding.bind(target.parameters, target.model_parameter)
    except Uncallable as error:
        target.reason = f"cannot call {target.signature}: {error}"


def _checkout(root: Path, files: list[Path]) -> Checkout:
    import libcst

    checkout = Checkout(root, root)
    raw_helpers: list[Target] = []
    awaited: dict[str, str] = {}
    found: list[Target] = []
    imported: list[str] = []
    for path in files:
        try:
            module = libcst.parse_module(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"{path}: cannot read: {error}") from None
        except libcst.ParserSyntaxError as error:
            raise BadInput(f"{path}: not valid Python: {str(error).splitlines()[0]}") from None
        dotted = import_location(path)[1]
        targets, raw, waits = _targets_of(module, dotted)
        imported += [name for name in [_support_import(module)] if name]
        if not targets and not raw:
            continue
        checkout.modules.append(dotted)
        checkout.files[dotted] = path
        found += targets
        awaited.update(waits)
        raw_helpers += raw
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
    order = {HELPER: 0, GENERATOR: 1, JUDGE: 2}
    checkout.targets = sorted(found, key=lambda t: (order[t.kind], checkout.modules.index(t.module)))
    first = [m for kind in (HELPER, GENERATOR, JUDGE) for m in checkout.modules if any(t.module == m and t.kind == kind for t in found)]
    checkout.modules = list(dict.fromkeys(first + checkout.modules))
    home = checkout.modules[0].rsplit(".", 1)[0] if checkout.modules else PACKAGE_DIR
    checkout.support = imported[0] if imported else f"{home}.{SUPPORT}"
    return checkout


def analyse_all(path: Path) -> list[Checkout]:
    """Every checkout under ``path`` (one, or each of a folder holding several), in path order."""
    from llmfix.discovery import discover

    groups: dict[Path, list[Path]] = {}
    for target_file in discover([path]):
        groups.setdefault(import_location(target_file.path)[0], []).append(target_file.path)
    return [_checkout(root, files) for root, files in sorted(groups.items())]


def analyse(path: Path) -> Checkout:
    """The one checkout at ``path`` (BadInput when it holds several: see :func:`analyse_all`)."""
    found = analyse_all(path)
    if len(found) > 1:
        raise BadInput(f"{path} holds {len(found)} checkouts ({', '.join(str(c.path) for c in found)}); name one")
    return found[0]
