"""What must hold for any variant llmfix patches, checked on the resulting code.

The checks read the patched text with Python's own ``ast`` and ``symtable``
(not with the codemods' matchers), so a transform that reports ``applied``
without making the change, or makes it in one helper and not another, fails.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass
from pathlib import Path

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.discovery import Target
from llmfix.planning import FilePlan, Options, plan_text

DONE = (APPLIED, ALREADY_PRESENT)
ENV_VARS = {"num_retries": "LITELLM_NUM_RETRIES", "fallbacks": "LITELLM_FALLBACK_MODELS", "timeout": "LITELLM_DEFAULT_TIMEOUT"}
KEY_OF = {"retries": "num_retries", "fallbacks": "fallbacks", "timeout": "timeout"}
ENSURE = "ensure_litellm_connection"
MODULE_DUNDERS = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__path__", "__annotations__"}


def plan(path: Path, root: Path, source: str) -> FilePlan:
    options = Options()
    return plan_text(Target(path, root), source, options)


# --------------------------------------------------------------------------
# generic: undefined names
# --------------------------------------------------------------------------


def undefined_names(source: str) -> set[str]:
    """Global names read somewhere that neither the module nor builtins bind."""
    table = symtable.symtable(source, "<variant>", "exec")
    bound = set(dir(builtins)) | MODULE_DUNDERS
    for symbol in table.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            bound.add(symbol.get_name())
    missing = {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.get_name() not in bound}

    def visit(scope: symtable.SymbolTable) -> None:
        for child in scope.get_children():
            for symbol in child.get_symbols():
                if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in bound:
                    missing.add(symbol.get_name())
            visit(child)

    visit(table)
    return missing


# --------------------------------------------------------------------------
# structure of the patched module
# --------------------------------------------------------------------------


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _mentions(node: ast.AST, text: str) -> bool:
    return any(_string(n) == text for n in ast.walk(node))


def _calls_named(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(n, ast.Call)
        and ((isinstance(n.func, ast.Name) and n.func.id == name) or (isinstance(n.func, ast.Attribute) and n.func.attr == name))
        for n in ast.walk(node)
    )


@dataclass
class Default:
    function: ast.AST
    dict_name: str
    key: str
    value: ast.AST
    line: int


def default_lines(function: ast.AST) -> list[Default]:
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "get"
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id == target.value.id
                and len(value.args) == 2
                and _string(target.slice) is not None
                and _string(value.args[0]) == _string(target.slice)
            ):
                found.append(Default(function, target.value.id, _string(target.slice), value.args[1], node.lineno))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "setdefault"
                and isinstance(call.func.value, ast.Name)
                and len(call.args) == 2
                and _string(call.args[0]) is not None
            ):
                found.append(Default(function, call.func.value.id, _string(call.args[0]), call.args[1], node.lineno))
    return found


class Module:
    """The patched module, read with ast."""

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source)
        self.functions: dict[str, ast.AST] = {}
        self.all_functions: list[ast.AST] = []
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = stmt
                self.all_functions.append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.all_functions.extend(s for s in stmt.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))

    def litellm_calls(self) -> list[tuple[ast.AST, ast.Call, str]]:
        """(function, call, splatted dict) for each LiteLLM completion call with **d (not a 1-token probe)."""
        found = []
        for function in self.all_functions:
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("completion", "acompletion")
                    and isinstance(node.func.value, ast.Name)
                ):
                    splats = [k.value.id for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name)]
                    probe = any(k.arg == "max_tokens" and isinstance(k.value, ast.Constant) and k.value.value == 1 for k in node.keywords)
                    if splats and not probe:
                        found.append((function, node, splats[0]))
        return found

    def callers(self, function: ast.AST) -> list[tuple[ast.AST, str]]:
        """(caller, splatted dict) for module functions calling ``function`` with **d."""
        found = []
        for caller in self.all_functions:
            if caller is function:
                continue
            for node in ast.walk(caller):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name:
                    found.extend((caller, k.value.id) for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name))
        return found

    def defaults_reaching(self, function: ast.AST, dict_name: str, key: str, depth: int = 0) -> list[Default] | None:
        """The default lines for ``key`` on every path of ``dict_name`` into ``function``'s call; None: a path has none."""
        own = [d for d in default_lines(function) if d.dict_name == dict_name and d.key == key]
        if own:
            return own
        for node in ast.walk(function):  # d = helper(...) where the helper sets the defaults
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == dict_name for t in node.targets)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id in self.functions
            ):
                lines = [d for d in default_lines(self.functions[node.value.func.id]) if d.key == key]
                if lines:
                    return lines
        kwarg = function.args.kwarg
        if depth < 2 and kwarg is not None and kwarg.arg == dict_name:
            callers = self.callers(function)
            if callers:
                found = []
                for caller, splat in callers:
                    lines = self.defaults_reaching(caller, splat, key, depth + 1)
                    if lines is None:
                        return None
                    found.extend(lines)
                return found
        return None


def _reads_env(value: ast.AST, key: str, module: Module) -> bool:
    if _mentions(value, ENV_VARS[key]):
        return True
    for node in ast.walk(value):  # through a module helper (the fallbacks helper)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in module.functions:
            if _mentions(module.functions[node.func.id], ENV_VARS[key]):
                return True
    return False


def check_key_default(module: Module, transform: str) -> list[str]:
    """Every LiteLLM call's dict gets an env-driven default for the transform's key."""
    key = KEY_OF[transform]
    problems = []
    calls = module.litellm_calls()
    if not calls:
        problems.append(f"{transform}: no LiteLLM call left in the module")
    for function, call, splat in calls:
        lines = module.defaults_reaching(function, splat, key)
        if lines is None:
            problems.append(f"{transform}: {function.name}(): no `{key}` default reaches the call on line {call.lineno}")
            continue
        for line in lines:
            if not _reads_env(line.value, key, module):
                problems.append(f"{transform}: {line.function.name}() line {line.line}: `{key}` default does not read {ENV_VARS[key]}")
    for function in module.all_functions:  # no stale default left anywhere
        for line in default_lines(function):
            if line.key == key and line.dict_name in {s for _, _, s in calls} | _helper_dicts(module) and not _reads_env(line.value, key, module):
                problems.append(f"{transform}: {function.name}() line {line.line}: stale `{key}` default")
    return problems


def _helper_dicts(module: Module) -> set[str]:
    names = set()
    for function, _, splat in module.litellm_calls():
        for line in module.defaults_reaching(function, splat, "num_retries") or []:
            names.add(line.dict_name)
    return names


def _choices_reads(function: ast.AST) -> list[tuple[ast.stmt, str]]:
    found = []
    for stmt in ast.walk(function):
        if isinstance(stmt, (ast.Return, ast.Assign, ast.Expr)):
            for node in ast.walk(stmt):
                if (
                    isinstance(node, ast.Subscript)
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "choices"
                    and isinstance(node.value.value, ast.Name)
                ):
                    found.append((stmt, node.value.value.id))
                    break
    return found


def helper_functions(module: Module) -> list[ast.AST]:
    helpers = {id(f): f for f, _, _ in module.litellm_calls()}
    names = {f.name for f in helpers.values()}
    for function in module.all_functions:
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names for n in ast.walk(function)):
            helpers.setdefault(id(function), function)
    return list(helpers.values())


def _is_guard(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.If)
        and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.test))
        and any(isinstance(n, ast.Return) for s in node.body for n in ast.walk(s))
    )


def check_helper_guards(module: Module) -> list[str]:
    problems = []
    for function in helper_functions(module):
        reads = _choices_reads(function)
        if not reads:
            continue
        stmt, name = reads[-1] if isinstance(reads[-1][0], ast.Return) else reads[0]
        first = min(s.lineno for s, _ in reads)
        guards = [
            g for g in ast.walk(function)
            if _is_guard(g, name) and g.lineno <= first and any(isinstance(n, ast.Attribute) and n.attr == "choices" for n in ast.walk(g.test))
        ]
        if not guards:
            problems.append(f"guards: {function.name}(): `{name}.choices[...]` read on line {first} with no guard before it")
            continue
        null_safe = any(any(isinstance(n, ast.Attribute) and n.attr == "content" for n in ast.walk(g.test)) for g in guards)
        or_empty = isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.BoolOp) and isinstance(stmt.value.op, ast.Or)
        if not (null_safe or or_empty):
            problems.append(f"guards: {function.name}(): a null content still reaches the caller")
    return problems


def generator_site(module: Module, name: str) -> tuple[ast.AST, ast.Assign, ast.stmt] | None:
    """(generator, ``resp = await ...`` line, the body statement holding it)."""
    function = module.functions.get(name)
    if function is None:
        return None
    parsed_of = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and _calls_named(node, "extract_json_from_response"):
            parsed_of.update(a.id for a in node.args if isinstance(a, ast.Name))
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in parsed_of
            and isinstance(node.value, ast.Await)
            and isinstance(node.value.value, ast.Call)
        ):
            top = next(s for s in function.body if any(n is node for n in ast.walk(s)))
            return function, node, top
    return None


def check_generator_guard(module: Module, generator: str) -> list[str]:
    site = generator_site(module, generator)
    if site is None:
        return [f"guards: generator {generator}() not found"]
    function, await_line, top = site
    name = await_line.targets[0].id
    parse_lines = [
        n.lineno for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(getattr(n, "func", None), (ast.Name, ast.Attribute))
        and _calls_named(n, "extract_json_from_response") and any(isinstance(a, ast.Name) and a.id == name for a in n.args)
    ]
    guards = [g for g in ast.walk(function) if _is_guard(g, name) and await_line.lineno < g.lineno < min(parse_lines)]
    problems = []
    if not guards:
        problems.append(f"guards: {generator}(): `{name}` is parsed with no empty-response guard after the await")
    if isinstance(top, ast.Try):
        index = function.body.index(top)
        bound = any(
            isinstance(s, (ast.Assign, ast.AnnAssign))
            and any(isinstance(t, ast.Name) and t.id == name for t in (s.targets if isinstance(s, ast.Assign) else [s.target]))
            for s in function.body[:index]
        )
        if not bound:
            problems.append(f"guards: {generator}(): `{name}` is not bound before the try (its handler may read it)")
    return problems


def check_precheck_defined(module: Module) -> list[str]:
    problems = []
    for name in (ENSURE, "check_litellm_connection"):
        function = module.functions.get(name)
        if not isinstance(function, ast.AsyncFunctionDef):
            problems.append(f"precheck: async {name}() is not defined at module level")
    return problems


def check_precheck_awaited(module: Module, generator: str) -> list[str]:
    site = generator_site(module, generator)
    if site is None:
        return [f"precheck: generator {generator}() not found"]
    function, _, top = site
    index = function.body.index(top)
    awaited = any(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Await) and _calls_named(s.value, ENSURE)
        for s in function.body[:index]
    )
    if not awaited:
        return [f"precheck: {generator}() does not await {ENSURE}() in its body before the request"]
    return []


# --------------------------------------------------------------------------
# the whole property
# --------------------------------------------------------------------------


def check(path: Path, root: Path, source: str, expected: dict[str, str], generator: str | None) -> FilePlan:
    """Every property for one variant; AssertionError lists what broke."""
    compile(source, str(path), "exec", dont_inherit=True)  # the variant itself is valid
    result = plan(path, root, source)  # never raises
    statuses = {name: o.status for name, o in result.outcomes.items()}
    problems = [
        f"{name}: {status} ({result.outcomes[name].reason}); the fixture gives {expected[name]}"
        for name, status in statuses.items()
        if status != expected[name]
    ]
    stepped = {name for name, _ in result.steps}
    for name, status in statuses.items():
        if status in (ANCHOR_MISSING, NOT_APPLICABLE, ALREADY_PRESENT) and name in stepped:
            problems.append(f"{name}: {status} but the transform changed the text")
        if status == APPLIED and name not in stepped:
            problems.append(f"{name}: applied but the text did not change")
    if any(s == ANCHOR_MISSING for s in statuses.values()):
        assert not problems, "\n".join(problems)
        assert result.drifted, "anchor-missing must stop the write"
        return result
    patched = result.patched
    compile(patched, str(path), "exec", dont_inherit=True)
    new_undefined = undefined_names(patched) - undefined_names(source)
    if new_undefined:
        problems.append(f"the patch reads undefined names: {sorted(new_undefined)}")
    module = Module(patched)
    for name in ("retries", "fallbacks", "timeout"):
        if statuses[name] in DONE:
            problems += check_key_default(module, name)
    if statuses["guards"] in DONE:
        problems += check_helper_guards(module)
        if generator and generator_site(Module(source), generator):
            problems += check_generator_guard(module, generator)
    if statuses["precheck"] in DONE:
        if module.litellm_calls():
            problems += check_precheck_defined(module)
        if generator and generator_site(Module(source), generator):
            problems += check_precheck_awaited(module, generator)
    again = plan(path, root, patched)
    if again.patched != patched:
        problems.append("a second apply changed the text")
    for name, outcome in again.outcomes.items():
        if outcome.status not in (ALREADY_PRESENT, NOT_APPLICABLE):
            problems.append(f"second apply: {name} is {outcome.status} ({outcome.reason})")
    assert not problems, "\n".join(problems)
    return result
