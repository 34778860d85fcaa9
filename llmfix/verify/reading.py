"""Read a checkout's target files with libcst (a module of its own: importing :mod:`.analysis` costs no libcst)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst

from llmfix.codemods.analysis.generator import find_generators
from llmfix.codemods.analysis.helpers import content_helpers, direct_calls, error_contract, find_litellm_calls, llm_call_of
from llmfix.codemods.analysis.nodes import callee_name, dotted_name, first_positional, keyword_arg, qualname, string_value, swallowing_try
from llmfix.codemods.analysis.tree import find_all
from llmfix.codemods.judge import retry_layer
from llmfix.errors import BadInput
from llmfix.verify import binding
from llmfix.verify.analysis import EITHER, GENERATOR, HELPER, JUDGE, PACKAGE_DIR, RAISES, SUPPORT, SWALLOWS, Checkout, Target, import_location
from llmfix.verify.binding import Parameter, Uncallable


def _parameters(function: Any, method: bool = False) -> tuple[Parameter, ...]:
    """The parameters of a libcst FunctionDef, in order, with their default's source (a method's ``self`` left out)."""
    params, code = function.params, libcst.Module(body=[]).code_for_node

    def one(param: Any, kind: str) -> Parameter:
        return Parameter(param.name.value, kind, None if param.default is None else code(param.default))

    found = [one(p, binding.POSITIONAL_ONLY) for p in params.posonly_params] + [one(p, binding.POSITIONAL) for p in params.params]
    found = found[1:] if method else found
    if isinstance(params.star_arg, libcst.Param):
        found.append(Parameter(params.star_arg.name.value, binding.VAR_POSITIONAL))
    found += [one(p, binding.KEYWORD_ONLY) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        found.append(Parameter(params.star_kwarg.name.value, binding.VAR_KEYWORD))
    return tuple(found)


def _string_constants(module: Any) -> dict[str, str]:
    """The module-level ``NAME = "literal"`` assignments."""
    return {small.targets[0].target.value: string_value(small.value) for statement in module.body
            for small in (statement.body if isinstance(statement, libcst.SimpleStatementLine) else [])
            if isinstance(small, libcst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, libcst.Name)
            and string_value(small.value) is not None}


def _model_source(parameters: tuple[Parameter, ...], model: Any, constants: dict[str, str]) -> tuple[str | None, str | None]:
    """(parameter that carries the model, literal model) for a function whose call passes ``model``."""
    names = [p.name for p in parameters if p.kind not in (binding.VAR_POSITIONAL, binding.VAR_KEYWORD)]
    named = next((n for n in names if n in binding.MODEL_NAMES), None)
    if model is None:
        return named, None  # the model travels in **kwargs (or nowhere): the named parameter, if any
    literal = string_value(model) if isinstance(model, libcst.SimpleString) else constants.get(model.value) if isinstance(model, libcst.Name) else None
    if literal is not None and not (hasattr(model, "value") and model.value in names):
        return None, literal
    mentioned = [n for n in names if n in {name.value for name in find_all(model, libcst.Name)}]
    return ((named if named in mentioned else mentioned[0]) if mentioned else None), None


def _judges(module: Any, dotted: str, constants: dict[str, str]) -> list[Target]:
    """The functions holding a LiteLLM call with explicit arguments: what the ``judge`` transform patches."""
    found: list[Target] = []
    for site in direct_calls(module):
        name = qualname(module, site.function)
        if any(t.name == name for t in found):
            continue
        parameters = _parameters(site.function, "." in name)
        parts = (dotted_name(site.model) or "").split(".")
        path = tuple(parts[1:]) if "." in name and len(parts) > 1 and parts[0] == "self" else ()  # self.verifier_config.llm_judge_model
        model_parameter, literal = (None, None) if path else _model_source(parameters, site.model, constants)
        contract = SWALLOWS if swallowing_try(site.function, site.call) is not None else RAISES
        layer = retry_layer(site.function, site.call)
        target = Target(JUDGE, name, dotted, site.is_async, contract, parameters, model_parameter, literal, model_path=path,
                        attempts=(layer[1] or 3) if layer else 1)
        if name.count(".") > 1:
            target.reason = f"cannot call {target.signature}: it is nested in {name.rsplit('.', 1)[0]}"
        found.append(target)
    return found


def _targets_of(module: Any, dotted: str) -> tuple[list[Target], list[Target], dict[str, str]]:
    """(targets, raw helpers (returning the response object), generator name -> the helper it awaits)."""
    constants, content = _string_constants(module), content_helpers(module)
    raw_targets: list[Target] = []
    for call in find_litellm_calls(module):
        name = call.function.name.value
        if name not in {f.name.value for f in content} and all(t.name != name for t in raw_targets):
            raw_targets.append(Target(HELPER, name, dotted, call.is_async, error_contract(module, call.function), _parameters(call.function)))
    targets: list[Target] = []
    for function in content:
        parameters, call = _parameters(function), llm_call_of(module, function)
        model = keyword_arg(call, *binding.MODEL_NAMES) or first_positional(call) if call is not None else None  # model=, model_name= or the first argument
        callee = callee_name(call) if call is not None else None
        wraps = (callee,) if callee and any(t.name == callee for t in raw_targets) else ()
        targets.append(Target(HELPER, function.name.value, dotted, function.asynchronous is not None, error_contract(module, function),
                              parameters, *_model_source(parameters, model, constants), wraps))
    sites = find_generators(module)
    for site in sites:
        parameters = _parameters(site.function)
        targets.append(Target(GENERATOR, site.function.name.value, dotted, True, site.contract, parameters, *_model_source(parameters, site.model, constants)))
    for target, function in zip(targets, [*content, *(s.function for s in sites)]):
        if not any(statement is function for statement in module.body):
            target.reason = f"cannot call {target.signature}: it is a method, and verify calls module-level helpers only"
    awaited = {site.function.name.value: callee_name(site.helper_call) or "" for site in sites}
    return targets + _judges(module, dotted, constants), raw_targets, awaited


def _support_import(module: Any) -> str | None:
    """``open_instruct.rubrics.litellm_utils`` for a module holding ``from open_instruct.rubrics import litellm_utils``."""
    for statement in module.body:
        for small in statement.body if isinstance(statement, libcst.SimpleStatementLine) else []:
            names = small.names if isinstance(small, libcst.ImportFrom) and small.module is not None else ()
            if not isinstance(names, libcst.ImportStar) and any(dotted_name(alias.name) == SUPPORT for alias in names):
                return f"{dotted_name(small.module)}.{SUPPORT}"
    return None


def checkout(root: Path, files: list[Path]) -> Checkout:
    checkout = Checkout(root, root)
    found, raw_helpers, awaited, imported = [], [], {}, []
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
        if targets or raw:
            checkout.modules.append(dotted)
            found += targets
            awaited.update(waits)
            raw_helpers += raw
    helpers = {t.name: t for t in found if t.kind == HELPER}
    driven = {name for t in helpers.values() for name in t.raw}
    for raw_helper in (r for r in raw_helpers if r.name not in driven):
        raw_helper.reason = f"{raw_helper.name} returns the response object and no helper that reads the text calls it"
        found.append(raw_helper)
    for target in found:
        if target.kind == GENERATOR and target.contract == RAISES:  # no try of its own: it fails the way the helper it awaits does
            helper = helpers.get(awaited.get(target.name, ""))
            target.contract = helper.contract if helper is not None else EITHER
        if target.reason is None:
            try:
                target.binding = binding.bind(target.parameters, target.model_parameter)
            except Uncallable as error:
                target.reason = f"cannot call {target.signature}: {error}"
    order = {HELPER: 0, GENERATOR: 1, JUDGE: 2}
    checkout.targets = sorted(found, key=lambda t: (order[t.kind], checkout.modules.index(t.module)))
    first = [m for kind in order for m in checkout.modules if any(t.module == m and t.kind == kind for t in found)]
    checkout.modules = list(dict.fromkeys(first + checkout.modules))
    checkout.support = imported[0] if imported else f"{checkout.modules[0].rsplit('.', 1)[0] if checkout.modules else PACKAGE_DIR}.{SUPPORT}"
    return checkout
