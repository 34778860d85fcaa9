"""The rubric generator's part of the ``guards`` transform (and of its undo)."""

from __future__ import annotations

import libcst as cst

from llmfix.codemods import support
from llmfix.codemods.analysis.generator import GeneratorSite
from llmfix.codemods.analysis.nodes import (
    callee_name,
    is_broad_handler,
    is_name,
    iter_statements,
    qualname,
    single_small,
    string_value,
    swallowing_try,
)
from llmfix.codemods.analysis.tree import find_all, indent_of, module_walk
from llmfix.codemods.building import expression, statement, statements, string
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits
from llmfix.codemods.style.wrap import fit
from llmfix.codemods.transform import Change, Sites

EMPTY_WARNING = "Empty rubric response from model %s"
FAILURE_WARNING = "Rubric generation with model %s failed: %s"
WARNINGS = (EMPTY_WARNING, FAILURE_WARNING)
LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")


def reports_error(handler: cst.ExceptHandler) -> bool:
    """True when the handler already prints or logs (``print(...)``, ``x.warning(...)``, ...)."""
    return any(
        callee_name(call) == "print" or (isinstance(call.func, cst.Attribute) and call.func.attr.value in LOG_METHODS)
        for call in find_all(handler.body, cst.Call)
    )


def guard_tests(func: cst.FunctionDef, name: str) -> list[cst.If]:
    """``if`` statements that test ``name`` (or ``name.choices``) and return."""
    tests_name = lambda stmt: bool(find_all(stmt.test, cst.Name, lambda n: n.value == name))  # noqa: E731
    return [stmt for stmt in iter_statements(func.body) if isinstance(stmt, cst.If) and tests_name(stmt) and find_all(stmt.body, cst.Return)]


def _precedes(module: cst.Module, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """True when ``first`` comes before ``second`` in the same block."""
    walked = module_walk(module)
    return walked.parents.get(id(first)) == walked.parents.get(id(second)) and walked.position[id(first)] < walked.position[id(second)]


def plan_generator(file: FileContext, site: GeneratorSite, edits: Edits, sites: Sites) -> None:
    """The generator's guard before parsing, its result bound before its try, its silent handler made to speak."""
    where, name, done = f"{site.function.name.value}()", site.result_name, []
    if not any(_precedes(file.module, site.await_line, g) for g in guard_tests(site.function, name)):
        template = "if not __resp__:\n    __logger__.warning(__message__, __model__)\n    return None\n"
        guard = statements(template, file, resp=cst.Name(name), **_warning(file, site, edits, EMPTY_WARNING))
        indent = (indent_of(file.module, site.await_line) or "") + file.module.default_indent
        body = guard[0].body  # type: ignore[attr-defined]
        body = body.with_changes(body=[fit(s, file.module, indent, file.style.line_length) for s in body.body])
        edits.insert_after(site.await_line, [guard[0].with_changes(body=body)])
        done.append("empty-response guard added")
        sites.changes.append(Change(f"{where}: an empty answer returns None with a warning naming the model, before parsing"))
    if isinstance(site.top, cst.Try) and binding_before(site) is None:
        edits.insert_before(site.top, [statement(f"{name} = None\n", file)])
        edits.note(f"{qualname(file.module, site.function)}:bound", True)
        done.append(f"`{name}` bound before the try")
    _log_generator_failure(file, site, edits, done, sites)
    _update_stale_models(file, site, edits, done)
    if done:
        sites.applied.append(f"{where}: {', '.join(done)}")
    else:
        sites.present.append(f"{where} guards an empty response")

def _warning(file: FileContext, site: GeneratorSite, edits: Edits, message: str) -> dict[str, cst.CSTNode]:
    """The holes of a warning naming the generator's model: the module's logger (else the support module's), ``message``, the model."""
    model = site.model if site.model is not None else string("unknown", file.style.quote)
    if file.style.logger:
        logger: cst.BaseExpression = cst.Name(file.style.logger)
    else:
        edits.need_support()
        logger = expression(f"{support.NAME}.logger", file)
    return {"logger": logger, "message": string(message, file.style.quote), "model": model.deep_clone()}

def _update_stale_models(file: FileContext, site: GeneratorSite, edits: Edits, done: list[str]) -> None:
    """llmfix's warnings name the model the call uses; after a merge changed that expression, they follow."""
    model = site.model
    if model is None:
        return
    for call in find_all(site.function, cst.Call, lambda c: len(c.args) >= 2 and string_value(c.args[0].value) in WARNINGS):
        argument = call.args[1].value
        if file.code(argument).strip() != file.code(model).strip():
            edits.replace_node(argument, model.deep_clone())
            done.append(f"its warning named {file.code(argument).strip()}, the call now uses {file.code(model).strip()}: updated")

def _log_generator_failure(file: FileContext, site: GeneratorSite, edits: Edits, done: list[str], sites: Sites) -> None:
    """A generator whose handler swallows a failed call without a word says why, through its module's logger."""
    handling = swallowing_try(site.function, site.await_line)
    if handling is None:
        return
    for handler in handling.handlers:
        if not is_broad_handler(handler) or find_all(handler.body, cst.Raise) or reports_error(handler):
            continue
        named = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
        bound = named or "error"
        line = statement("__logger__.warning(__message__, __model__, __error__)\n", file, error=cst.Name(bound), **_warning(file, site, edits, FAILURE_WARNING))
        line = fit(line, file.module, indent_of(file.module, handler.body.body[0]) or "", file.style.line_length)
        if named is not None:
            edits.insert_before(handler.body.body[0], [line])
        else:  # bind the exception it catches: `except Exception:` -> `except Exception as error:`
            edits.replace_node(handler, _handler_with(handler, bound, line))
            edits.note(f"{qualname(file.module, site.function)}:handler", "bare" if handler.type is None else "unnamed")
        done.append("its swallowed failure logged with the model")
        sites.changes.append(Change(f"{site.function.name.value}(): a failed call still returns None, and now logs a warning naming the model and the error"))

def _handler_with(handler: cst.ExceptHandler, bound: str, line: cst.BaseStatement) -> cst.ExceptHandler:
    kind = handler.type if handler.type is not None else cst.Name("BaseException")
    body = handler.body.with_changes(body=[line, *handler.body.body])
    return handler.with_changes(type=kind, name=cst.AsName(cst.Name(bound)), whitespace_after_except=cst.SimpleWhitespace(" "), body=body)

def binding_before(site: GeneratorSite, to_none: bool = False) -> cst.BaseStatement | None:
    """The statement before the generator's try that binds its result (``to_none``: ``resp = None``, as llmfix writes it)."""
    for stmt in site.function.body.body[: site.function.body.body.index(site.top)]:
        small = single_small(stmt)
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target] if isinstance(small, cst.AnnAssign) else []
        if any(is_name(t, site.result_name) for t in targets) and (not to_none or isinstance(small, cst.Assign) and is_name(small.value, "None")):
            return stmt
    return None


def _logs(stmt: cst.BaseStatement, message: str, arguments: int = 1) -> bool:
    """``f(message, ...)`` with at least ``arguments`` arguments: one of llmfix's warnings."""
    small = single_small(stmt)
    call = small.value if isinstance(small, cst.Expr) else None
    return isinstance(call, cst.Call) and len(call.args) >= arguments and string_value(call.args[0].value) == message


def _is_failure_warning(stmt: cst.BaseStatement) -> bool:
    return _logs(stmt, FAILURE_WARNING, 2)


def _is_empty_guard(stmt: cst.If) -> bool:
    """llmfix's generator guard: ``if not resp:`` warning EMPTY_WARNING, then ``return None``."""
    body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
    if stmt.orelse is not None or len(body) != 2 or not isinstance(stmt.test, cst.UnaryOperation):
        return False
    returned = single_small(body[1])
    return _logs(body[0], EMPTY_WARNING) and isinstance(returned, cst.Return) and is_name(returned.value, "None")
