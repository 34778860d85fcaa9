"""What must hold for any variant llmfix patches, checked on the resulting code.

The sites (LiteLLM helpers, their option defaults, the rubric generator, a judge's direct
call) are found in the variant with Python's own ``ast``, not with the codemods' matchers,
and each transform's change is then looked for in the patched tree, in the shapes of the
support-module design: every helper's ``num_retries`` default is a call of
``litellm_utils.from_env("LITELLM_NUM_RETRIES", N)``, the generator awaits
``litellm_utils.ensure_connection(...)`` before its first request and outside any try, and
so on. A transform that reports ``applied`` without making its change, or makes it in one
helper and not another, or makes it differently (a lowered retry count, a check that makes
another call than the generator's, a try added around a call that raises by design), fails.
Revert must give the variant's bytes back, and a second apply must change nothing.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE, TRANSFORM_NAMES, registry
from llmfix.config import CommandSettings
from llmfix.discovery import Target
from llmfix.planning import FilePlan, plan_text, plan_undo
from llmfix.record import Record

DONE = (APPLIED, ALREADY_PRESENT)
MODULE_DUNDERS = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__path__", "__annotations__"}
COMPLETIONS = ("completion", "acompletion")
JSON_PARSER = "extract_json_from_response"
SUPPORT = "litellm_utils"  # the support module, beside run_utils.py, called by name
LOGGER_FACTORIES = ("getLogger", "get_logger", "setup_logger")
LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
EMPTY_MESSAGE = "Empty rubric response from model %s"
FAILURE_MESSAGE = "Rubric generation with model %s failed: %s"
PROBE_PROMPTS = ("Reply with OK.",)
BROAD = ("Exception", "BaseException")

# the option each default-setting transform makes env-driven, and what it bakes in by default
KEY_OF = {"retries": "num_retries", "fallbacks": "fallbacks", "timeout": "timeout"}
ENV_OF = {"num_retries": "LITELLM_NUM_RETRIES", "fallbacks": "LITELLM_FALLBACK_MODELS", "timeout": "LITELLM_DEFAULT_TIMEOUT"}
DEFAULT_RETRIES = registry.get("retries").OPTIONS[0].default
DEFAULT_TIMEOUT = 600.0


def plan(path: Path, root: Path, source: str) -> FilePlan:
    """The plan ``llmfix apply`` makes for ``source`` as the text of ``path`` (no flags, the checkout's config)."""
    return plan_text(Target(path, root), source, CommandSettings())


def revert(path: Path, root: Path, result: FilePlan) -> str:
    """``result.patched`` reverted as ``llmfix revert`` does, from the record apply would write."""
    target = Target(path, root)
    record = Record(target.checkout)
    for transform, notes in result.notes().items():
        record.add_notes(target.record_path, transform, notes)
    reverted, blocked = plan_undo([(target, result.patched)], record)
    assert not blocked, f"revert is blocked: {blocked}"
    return reverted[target]


def support_package(path: Path) -> str:
    """The package the support module is imported from: the folder of ``path`` (run_utils.py's), dotted from ``open_instruct``."""
    parts = path.parent.parts
    return ".".join(parts[len(parts) - 1 - parts[::-1].index("open_instruct") :])


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
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        missing |= {s.get_name() for s in scope.get_symbols() if s.is_referenced() and s.is_global() and s.get_name() not in bound}
        stack.extend(scope.get_children())
    return missing


# --------------------------------------------------------------------------
# reading a module with ast
# --------------------------------------------------------------------------

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _number(node: ast.AST | None) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _mentions(node: ast.AST, text: str) -> bool:
    return any(_string(n) == text for n in ast.walk(node))


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and _callee(n) == name]


def _same(a: ast.AST | None, b: ast.AST | None) -> bool:
    return a is not None and b is not None and ast.dump(a) == ast.dump(b)


def _walk_own(function: Function):
    """The nodes of ``function``'s body, not descending into nested functions or classes."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)))


def _local_names(function: Function) -> set[str]:
    names = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    names |= {a.arg for a in (function.args.vararg, function.args.kwarg) if a is not None}
    for node in _walk_own(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    declared = {n for node in _walk_own(function) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    return names - declared


def _model_of(call: ast.Call) -> ast.AST | None:
    """The model a call passes: ``model_name=`` / ``model=``, else its first positional argument."""
    for keyword in call.keywords:
        if keyword.arg in ("model_name", "model"):
            return keyword.value
    return call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else None


def _is_broad(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(ast.unparse(k) in (*BROAD, "builtins.Exception") for k in kinds)


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    return any(n is inner for n in ast.walk(outer))


@dataclass
class Default:
    """One place ``dict_name[key]`` gets a default: a ``.get``/``setdefault`` line, or a hand-written one under ``if key not in d``."""

    function: Function
    dict_name: str
    key: str
    value: ast.AST
    line: int
    hand_written: bool = False


def _absent_test(test: ast.AST) -> tuple[str, str] | None:
    """(dict, key) for ``"key" not in d``."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn) and isinstance(test.comparators[0], ast.Name):
        key = _string(test.left)
        return (test.comparators[0].id, key) if key is not None else None
    return None


@lru_cache(maxsize=1024)
def default_lines(function: Function) -> list[Default]:
    """Every place ``function`` gives a dict key a default (cached: a check asks for each function's often)."""
    found = []
    guarded: dict[int, tuple[str, str]] = {}
    for node in _walk_own(function):
        if isinstance(node, ast.If) and (absent := _absent_test(node.test)) is not None:
            for inner in ast.walk(node):
                guarded.setdefault(id(inner), absent)
    for node in _walk_own(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and _string(target.slice) is not None):
                continue
            dict_name, key = target.value.id, _string(target.slice)
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "get"
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id == dict_name
                and len(value.args) == 2
                and _string(value.args[0]) == key
            ):
                found.append(Default(function, dict_name, key, value.args[1], node.lineno))
            elif guarded.get(id(node)) == (dict_name, key):
                found.append(Default(function, dict_name, key, value, node.lineno, hand_written=True))
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


@dataclass
class Call:
    """A LiteLLM completion call: with a ``**d`` splat (a helper's), or with explicit arguments only (``splat`` None)."""

    function: Function
    node: ast.Call
    splat: str | None


@dataclass
class Generator:
    """``resp = await helper(...)`` in the rubric generator: the statement, its call, and the body statement holding it."""

    function: Function
    await_line: ast.Assign
    call: ast.Call
    top: ast.stmt

    @property
    def result(self) -> str:
        return self.await_line.targets[0].id  # type: ignore[attr-defined]


@dataclass
class Module:
    """One module, read with ast: its functions, its LiteLLM helpers, its logger."""

    source: str
    tree: ast.Module = field(init=False)
    functions: dict[str, Function] = field(init=False)
    _cache: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.source)
        self.functions = {s.name: s for s in self.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}

    @property
    def bindings(self) -> dict[str, ast.stmt]:
        """Module-level name -> the statement binding it (the last one wins)."""
        found: dict[str, ast.stmt] = {}
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[stmt.name] = stmt
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias in stmt.names:
                    found[(alias.asname or alias.name).split(".")[0]] = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                    if isinstance(target, ast.Name):
                        found[target.id] = stmt
        return found

    def logger(self) -> str | None:
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call) and _callee(stmt.value) in LOGGER_FACTORIES:
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                if isinstance(target, ast.Name):
                    return target.id
        return None

    def _litellm_modules(self) -> tuple[set[str], set[str], set[str]]:
        """(names bound to litellm, names bound to its completion functions, module functions that import litellm)."""
        modules, direct = {"litellm"}, set()
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Import):
                modules |= {a.asname for a in stmt.names if a.name == "litellm" and a.asname}
            elif isinstance(stmt, ast.ImportFrom) and stmt.module == "litellm":
                direct |= {a.asname or a.name for a in stmt.names if a.name in COMPLETIONS}
        loaders = {
            name for name, f in self.functions.items()
            if any(isinstance(n, ast.Import) and any(a.name == "litellm" for a in n.names) for n in ast.walk(f))
        }
        return modules, direct, loaders

    def completion_calls(self) -> list[Call]:
        """Each LiteLLM completion call (``splat`` None for a call with explicit arguments), not a one-token probe."""
        if "calls" not in self._cache:
            self._cache["calls"] = self._find_completion_calls()
        return self._cache["calls"]

    def litellm_calls(self) -> list[Call]:
        """Each LiteLLM completion call with ``**d`` (a helper's)."""
        return [c for c in self.completion_calls() if c.splat is not None]

    def direct_calls(self) -> list[Call]:
        """Each LiteLLM completion call with explicit arguments only, outside the helpers (a judge's)."""
        helpers = {f.name for f in self.helpers()}
        return [c for c in self.completion_calls() if c.splat is None and c.function.name not in helpers]

    def _find_completion_calls(self) -> list[Call]:
        modules, direct, loaders = self._litellm_modules()
        found = []
        for function in self.functions.values():
            lazy = {
                t.id
                for n in _walk_own(function)
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and _callee(n.value) in loaders
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            local = {
                a.asname or a.name
                for n in ast.walk(function)
                if isinstance(n, ast.ImportFrom) and n.module == "litellm"
                for a in n.names
                if a.name in COMPLETIONS
            }
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                attribute = isinstance(node.func, ast.Attribute) and node.func.attr in COMPLETIONS and isinstance(node.func.value, ast.Name)
                if not ((attribute and (node.func.value.id in modules | lazy)) or (isinstance(node.func, ast.Name) and node.func.id in direct | local)):  # type: ignore[union-attr]
                    continue
                splats = [k.value.id for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name)]
                probe = any(k.arg == "max_tokens" and _number(k.value) == 1 for k in node.keywords)
                if not probe:
                    found.append(Call(function, node, splats[0] if splats else None))
        return found

    def helpers(self) -> list[Function]:
        """Functions calling LiteLLM, and the functions that call those and read the response's choices."""
        direct = {c.function.name: c.function for c in self.litellm_calls()}
        found = dict(direct)
        for function in self.functions.values():
            if function.name in found:
                continue
            calls_helper = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in direct for n in ast.walk(function))
            if calls_helper and _choices_reads(function):
                found[function.name] = function
        return [f for f in self.functions.values() if f.name in found]

    def callers(self, function: Function) -> list[tuple[Function, str]]:
        """(caller, splatted dict) for module functions calling ``function`` with **d."""
        found = []
        for caller in self.functions.values():
            if caller is function:
                continue
            for node in ast.walk(caller):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name:
                    found.extend((caller, k.value.id) for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name))
        return found

    def defaults_reaching(self, function: Function, dict_name: str, key: str, depth: int = 0) -> list[Default] | None:
        """The default lines for ``key`` on every path of ``dict_name`` into ``function``'s call; None: a path has none."""
        own = [d for d in default_lines(function) if d.dict_name == dict_name and d.key == key]
        if own:
            return own
        for node in _walk_own(function):  # d = helper(...) where the helper sets the defaults
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
                found: list[Default] = []
                for caller, splat in callers:
                    lines = self.defaults_reaching(caller, splat, key, depth + 1)
                    if lines is None:
                        return None
                    found.extend(lines)
                return found
        return None

    def generator(self, name: str | None) -> Generator | None:
        """The rubric generator ``name``: an async function that awaits a call, parses its text and returns it."""
        function = self.functions.get(name or "")
        if not isinstance(function, ast.AsyncFunctionDef):
            return None
        parsed: dict[str, set[str]] = {}  # awaited name -> names holding its parse
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _callee(node.value) == JSON_PARSER:
                for arg in node.value.args:
                    if isinstance(arg, ast.Name):
                        parsed.setdefault(arg.id, set()).update(t.id for t in node.targets if isinstance(t, ast.Name))
        returned = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value is not None:
                if isinstance(node.value, ast.Name):
                    returned.add(node.value.id)
                elif isinstance(node.value, ast.Call) and _callee(node.value) == JSON_PARSER:
                    returned |= {f"<parse of {a.id}>" for a in node.value.args if isinstance(a, ast.Name)}
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Await)
                and isinstance(node.value.value, ast.Call)
            ):
                name_ = node.targets[0].id
                if parsed.get(name_, set()) & returned or f"<parse of {name_}>" in returned:
                    top = next(s for s in function.body if _contains(s, node))
                    return Generator(function, node, node.value.value, top)
        return None


def _choices_reads(function: Function) -> list[tuple[ast.Attribute, str]]:
    """``r.choices[...].message.content`` reads in ``function``: (the read, ``r``)."""
    found = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "content"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "message"
            and isinstance(node.value.value, ast.Subscript)
            and isinstance(node.value.value.value, ast.Attribute)
            and node.value.value.value.attr == "choices"
            and isinstance(node.value.value.value.value, ast.Name)
        ):
            found.append((node, node.value.value.value.value.id))
    return found


def _guards_of(function: Function, name: str) -> list[ast.If]:
    """``if`` statements testing ``name.choices`` that return."""
    return [
        n for n in ast.walk(function)
        if isinstance(n, ast.If)
        and any(isinstance(a, ast.Attribute) and a.attr == "choices" and isinstance(a.value, ast.Name) and a.value.id == name for a in ast.walk(n.test))
        and any(isinstance(r, ast.Return) for s in n.body for r in ast.walk(s))
    ]


def _swallowing_tries(function: Function, module: Module) -> list[ast.Try]:
    """Tries whose body holds the helper's LiteLLM call (or its call of a helper) with a broad handler that does not re-raise."""
    targets = {"completion", "acompletion", *(c.function.name for c in module.litellm_calls())} - {function.name}
    found = []
    for node in _walk_own(function):
        if isinstance(node, ast.Try) and any(isinstance(c, ast.Call) and _callee(c) in targets for s in node.body for c in ast.walk(s)):
            if any(_is_broad(h) and not any(isinstance(r, ast.Raise) for s in h.body for r in ast.walk(s)) for h in node.handlers):
                found.append(node)
    return found


def _decorators(function: Function) -> list[ast.expr]:
    """``function``'s decorators that are the support module's ``track_calls`` (bare or called)."""
    return [d for d in function.decorator_list if _is_support(d.func if isinstance(d, ast.Call) else d, "track_calls")]


def _is_support(node: ast.AST | None, member: str | None = None) -> bool:
    """``litellm_utils.<member>`` (any member when None)."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == SUPPORT
        and (member is None or node.attr == member)
    )


def _support_call(node: ast.AST | None, member: str) -> bool:
    """A call of ``litellm_utils.<member>(...)``."""
    return isinstance(node, ast.Call) and _is_support(node.func, member)


def _support_calls(node: ast.AST, member: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if _support_call(n, member)]


def _reports(handler: ast.ExceptHandler) -> bool:
    """The handler already prints or logs (``print(...)``, ``x.warning(...)``, ...)."""
    return any(
        isinstance(n, ast.Call) and (_callee(n) == "print" or (isinstance(n.func, ast.Attribute) and n.func.attr in LOG_METHODS))
        for s in handler.body
        for n in ast.walk(s)
    )


def _swallows(handler: ast.ExceptHandler) -> bool:
    return _is_broad(handler) and not any(isinstance(r, ast.Raise) for s in handler.body for r in ast.walk(s))


# --------------------------------------------------------------------------
# each transform's change, in the patched tree
# --------------------------------------------------------------------------


def _reads_env(value: ast.AST, key: str) -> bool:
    """The default comes from the key's variable: through the support module, or a read written by hand."""
    if key == "fallbacks" and _support_call(value, "fallback_models"):
        return True
    if _support_call(value, "from_env"):
        return _string(value.args[0] if value.args else None) == ENV_OF[key]  # type: ignore[attr-defined]
    return _mentions(value, ENV_OF[key])


def _baked(value: ast.AST, key: str) -> object | None:
    """What a default llmfix wrote falls back to: ``litellm_utils.from_env(VAR, 10)`` -> 10.0; None: not llmfix's."""
    if key == "fallbacks":
        if _support_call(value, "fallback_models") and value.args and isinstance(value.args[0], (ast.List, ast.Tuple)):  # type: ignore[attr-defined]
            return [_string(e) for e in value.args[0].elts]  # type: ignore[attr-defined]
        return None
    if _support_call(value, "from_env") and len(value.args) == 2:  # type: ignore[attr-defined]
        return _number(value.args[1])  # type: ignore[attr-defined]
    return None


def _original_value(original: Module, line: Default) -> tuple[bool, object | None]:
    """(the site existed, its literal value) for the default ``line`` of the patched file, in the original."""
    function = original.functions.get(line.function.name)
    if function is None:
        return False, None
    same = [d for d in default_lines(function) if d.dict_name == line.dict_name and d.key == line.key and d.hand_written == line.hand_written]
    if not same:
        return False, None
    value = same[0].value if len(same) == 1 else None
    if value is None:
        return True, None
    if line.key == "fallbacks":
        return True, [_string(e) for e in value.elts] if isinstance(value, (ast.List, ast.Tuple)) else None
    return True, _number(value)


def check_key_default(original: Module, module: Module, transform: str, status: str) -> list[str]:
    """Every LiteLLM call's dict gets an env-driven default for the transform's key, baked as llmfix promises."""
    key = KEY_OF[transform]
    problems = []
    calls = module.litellm_calls()
    if not calls:
        problems.append(f"{transform}: no LiteLLM call left in the module")
    checked: set[int] = set()
    for call in calls:
        lines = module.defaults_reaching(call.function, call.splat, key)  # type: ignore[arg-type]
        if lines is None:
            problems.append(f"{transform}: {call.function.name}(): no `{key}` default reaches the call on line {call.node.lineno}")
            continue
        for line in lines:
            if id(line.value) in checked:
                continue
            checked.add(id(line.value))
            where = f"{transform}: {line.function.name}() line {line.line}"
            if not _reads_env(line.value, key):
                problems.append(f"{where}: `{key}` default `{ast.unparse(line.value)}` does not read {ENV_OF[key]}")
                continue
            if status != APPLIED:
                continue
            existed, before = _original_value(original, line)
            baked = _baked(line.value, key)
            if baked is None:
                continue  # an env read written by hand (or upstream's), left as it was
            if key == "num_retries" and before is not None and baked != max(float(DEFAULT_RETRIES), before):  # type: ignore[arg-type]
                problems.append(f"{where}: retries baked as {baked}, expected max({DEFAULT_RETRIES}, the literal {before})")
            if key == "num_retries" and not existed and baked != DEFAULT_RETRIES:
                problems.append(f"{where}: a new retries line bakes {baked}, expected {DEFAULT_RETRIES}")
            if key == "timeout" and before is not None and baked != before:
                problems.append(f"{where}: timeout baked as {baked}, expected the literal {before}")
            if key == "timeout" and not existed and baked != DEFAULT_TIMEOUT:
                problems.append(f"{where}: a new timeout line bakes {baked}, expected {DEFAULT_TIMEOUT}")
            if key == "fallbacks" and before is not None and baked != before:
                problems.append(f"{where}: fallbacks default {baked}, expected the site's own list {before}")
            if key == "fallbacks" and not existed and baked != []:
                problems.append(f"{where}: a new fallbacks line bakes {baked}: no model may be added unasked")
            if key == "fallbacks" and len(line.value.args) > 1:  # type: ignore[attr-defined]
                model = line.value.args[1]  # type: ignore[attr-defined]
                if not (isinstance(model, ast.Name) and model.id in _local_names(line.function)):
                    problems.append(f"{where}: the primary model passed to fallback_models is not a local of the function")
    splats = {c.splat for c in calls} | {d.dict_name for c in calls for d in module.defaults_reaching(c.function, c.splat, key) or []}  # type: ignore[arg-type]
    for function in module.functions.values():  # no stale default left anywhere
        for line in default_lines(function):
            if line.key == key and line.dict_name in splats and not _reads_env(line.value, key):
                problems.append(f"{transform}: {function.name}() line {line.line}: stale `{key}` default")
    return problems


def _handlers(function: Function, module: Module) -> list[ast.ExceptHandler]:
    return [h for t in _swallowing_tries(function, module) for h in t.handlers if _swallows(h)]


def check_helper_guards(original: Module, module: Module) -> list[str]:
    """Each helper reading the content reads it through ``response_text`` (or an existing full guard); its
    error contract is kept; a swallowing handler that said nothing logs the failure first."""
    problems = []
    for before in (f for f in original.helpers() if _choices_reads(f)):
        after = module.functions.get(before.name)
        if after is None:
            problems.append(f"guards: {before.name}() is gone")
            continue
        where = f"guards: {before.name}()"
        if sum(isinstance(n, ast.Try) for n in ast.walk(after)) != sum(isinstance(n, ast.Try) for n in ast.walk(before)):
            problems.append(f"{where}: a try was added or removed (the helper's error contract changed)")
        if sum(isinstance(n, ast.Raise) for n in ast.walk(after)) != sum(isinstance(n, ast.Raise) for n in ast.walk(before)):
            problems.append(f"{where}: a raise was added or removed (the helper's error contract changed)")
        for call in _support_calls(after, "response_text"):
            if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Name):
                problems.append(f"{where}: `{ast.unparse(call)}` does not pass just the response")
        for read, name in _choices_reads(after):
            guards = [g for g in _guards_of(after, name) if g.lineno < read.lineno]
            null_safe = any(any(isinstance(a, ast.Attribute) and a.attr == "content" for a in ast.walk(g.test)) for g in guards)
            or_empty = any(
                isinstance(r, ast.Return) and isinstance(r.value, ast.BoolOp) and isinstance(r.value.op, ast.Or) and r.value.values[0] is read
                for r in ast.walk(after)
            )
            if not guards:
                problems.append(f"{where}: `{name}.choices[...]` read on line {read.lineno} with no guard")
            elif not (null_safe or or_empty) and any(isinstance(r, ast.Return) and r.value is read for r in ast.walk(after)):
                problems.append(f"{where}: a null content still reaches the caller on line {read.lineno}")
        if not _choices_reads(after) and not _support_calls(after, "response_text"):
            problems.append(f"{where}: the content read vanished")
        old_handlers, new_handlers = _handlers(before, original), _handlers(after, module)
        if len(old_handlers) != len(new_handlers):
            problems.append(f"{where}: {len(old_handlers)} swallowing handlers became {len(new_handlers)}")
            continue
        for old, new in zip(old_handlers, new_handlers):
            first = new.body[0]
            logged = isinstance(first, ast.Expr) and _support_call(first.value, "log_failure")
            if _reports(old):
                if _support_calls(new, "log_failure"):
                    problems.append(f"{where}: the handler on line {new.lineno} already reported the error and now logs it twice")
            elif not logged or [_string(a) for a in first.value.args] != [before.name]:  # type: ignore[attr-defined]
                problems.append(f"{where}: the silent handler on line {new.lineno} does not start with {SUPPORT}.log_failure({before.name!r})")
    return problems


def _empty_guard(generator: Generator) -> ast.If | None:
    """The ``if not resp: ...; return None`` right after the await, in the same block."""
    for parent in ast.walk(generator.function):
        for field_name in ("body", "orelse", "finalbody"):
            block = getattr(parent, field_name, None)
            if isinstance(block, list) and any(s is generator.await_line for s in block):
                index = next(i for i, s in enumerate(block) if s is generator.await_line)
                following = block[index + 1] if index + 1 < len(block) else None
                return following if isinstance(following, ast.If) else None
    return None


def _warns(call: ast.Call, logger: str, message: str, *rest: ast.AST | None) -> bool:
    """``<logger>.warning(message, *rest)``."""
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "warning"
        and ast.unparse(call.func.value) == logger
        and [_string(call.args[0]) if call.args else None] == [message]
        and len(call.args) == 1 + len(rest)
        and all(_same(a, b) for a, b in zip(call.args[1:], rest))
    )


def check_generator_guard(original: Module, module: Module, name: str) -> list[str]:
    site, before = module.generator(name), original.generator(name)
    if site is None or before is None:
        return [f"guards: generator {name}() not found"]
    problems = []
    resp = site.result
    logger = module.logger() or f"{SUPPORT}.logger"  # the module's own logger, else the support module's
    model = _model_of(site.call) or ast.Constant("unknown")
    hand_guarded = _empty_guard(before) is not None
    guard = _empty_guard(site)
    if guard is None or not any(isinstance(n, ast.Name) and n.id == resp for n in ast.walk(guard.test)):
        problems.append(f"guards: {name}(): `{resp}` is parsed with no empty-response guard right after the await")
    elif not hand_guarded:
        if ast.unparse(guard.test) != f"not {resp}":
            problems.append(f"guards: {name}(): the guard tests `{ast.unparse(guard.test)}`, expected `not {resp}`")
        body = [ast.unparse(s) for s in guard.body]
        warning = guard.body[0].value if guard.body and isinstance(guard.body[0], ast.Expr) else None
        if not (isinstance(warning, ast.Call) and _warns(warning, logger, EMPTY_MESSAGE, model)) or body[1:] != ["return None"]:
            problems.append(f"guards: {name}(): the guard `{'; '.join(body)}` does not warn through {logger} naming the model the call uses, then return None")
    if isinstance(site.top, ast.Try):
        index = site.function.body.index(site.top)
        bound = any(
            isinstance(s, (ast.Assign, ast.AnnAssign))
            and any(isinstance(t, ast.Name) and t.id == resp for t in (s.targets if isinstance(s, ast.Assign) else [s.target]))
            for s in site.function.body[:index]
        )
        if not bound:
            problems.append(f"guards: {name}(): `{resp}` is not bound before the try (its handler may read it)")
        old_handlers = [h for h in before.top.handlers if _swallows(h)] if isinstance(before.top, ast.Try) else []
        new_handlers = [h for h in site.top.handlers if _swallows(h)]
        for old, new in zip(old_handlers, new_handlers):
            if _reports(old):
                continue
            first = new.body[0]
            error = ast.Name(new.name) if new.name else None
            if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call) and _warns(first.value, logger, FAILURE_MESSAGE, model, error)):
                problems.append(f"guards: {name}(): the silent handler on line {new.lineno} does not first warn through {logger} with the model and the error")
    return problems


def _probe(keyword: ast.keyword) -> bool:
    """A short probe standing for a prompt built after the check's place."""
    if keyword.arg == "messages":
        return isinstance(keyword.value, ast.List) and any(_string(n) in PROBE_PROMPTS for n in ast.walk(keyword.value))
    return "prompt" in (keyword.arg or "") and _string(keyword.value) in PROBE_PROMPTS


def check_precheck(module: Module, name: str) -> list[str]:
    """The generator awaits ``litellm_utils.ensure_connection(<its helper>, <its call's arguments>)`` in its body, before
    the statement holding its first request (so outside any try that swallows the failure)."""
    site = module.generator(name)
    if site is None:
        return [f"precheck: generator {name}() not found"]
    index = site.function.body.index(site.top)
    awaited = [
        s.value.value for s in site.function.body[:index]
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Await) and _support_call(s.value.value, "ensure_connection")
    ]
    if not awaited:
        inside = any(_support_calls(s, "ensure_connection") for s in site.function.body[index:])
        where = " (it is inside the try)" if inside else ""
        return [f"precheck: {name}() does not await {SUPPORT}.ensure_connection() in its body before the request{where}"]
    check, call = awaited[0], site.call
    problems = []
    if not check.args or not _same(check.args[0], call.func):
        problems.append(f"precheck: {name}(): `{ast.unparse(check)}` does not check through the helper the generator awaits ({ast.unparse(call.func)})")
    if [ast.dump(a) for a in check.args[1:]] != [ast.dump(a) for a in call.args]:
        problems.append(f"precheck: {name}(): `{ast.unparse(check)}` does not pass the positional arguments of `{ast.unparse(call)}`")
    ours = {k.arg: k for k in check.keywords}
    for keyword in call.keywords:
        mine = ours.pop(keyword.arg, None)
        if mine is None or not (_same(mine.value, keyword.value) or _probe(mine)):
            problems.append(f"precheck: {name}(): `{ast.unparse(check)}` does not make the call the generator makes (`{keyword.arg}=`)")
    if ours:
        problems.append(f"precheck: {name}(): the check passes {sorted(map(str, ours))}, which the generator's call does not")
    return problems


def check_health(original: Module, module: Module, generator: str | None) -> list[str]:
    problems = []
    for before in original.helpers():
        after = module.functions.get(before.name)
        found = _decorators(after) if after is not None else []
        if len(found) != 1 or not _is_support(found[0], "track_calls"):
            problems.append(f"health: {before.name}() is not decorated with @{SUPPORT}.track_calls exactly once")
    site = module.generator(generator) if generator else None
    if site is not None:
        found = _decorators(site.function)
        call = found[0] if len(found) == 1 else None
        keywords = [(k.arg, getattr(k.value, "value", None)) for k in getattr(call, "keywords", ())]
        if not (isinstance(call, ast.Call) and not call.args and keywords == [("raise_on_degraded", True)]):
            problems.append(f"health: {generator}() is not decorated with @{SUPPORT}.track_calls(raise_on_degraded=True) exactly once")
    return problems


def _retry_layer(function: Function, call: ast.Call) -> bool:
    """A tenacity ``@retry`` on the function, or a loop holding a try around the call."""
    if any((_callee(d) if isinstance(d, ast.Call) else getattr(d, "id", getattr(d, "attr", None))) == "retry" for d in function.decorator_list):
        return True
    return any(
        isinstance(loop, (ast.For, ast.While)) and any(isinstance(t, ast.Try) and _contains(t, call) for t in ast.walk(loop))
        for loop in ast.walk(function)
    )


def check_judge(original: Module, module: Module) -> list[str]:
    """Each direct call passes a timeout and fallbacks (its own, or the support module's), retries only without a retry
    layer; its function counts its outcomes."""
    problems = []
    for call in module.direct_calls():
        where = f"judge: {call.function.name}() line {call.node.lineno}"
        given = {k.arg: k.value for k in call.node.keywords}
        for key in ("timeout", "fallbacks"):
            if key not in given:
                problems.append(f"{where}: passes no `{key}=`")
        added = [k for k, v in given.items() if _support_call(v, "from_env") or _support_call(v, "fallback_models")]
        if "num_retries" in added and _retry_layer(call.function, call.node):
            problems.append(f"{where}: num_retries added inside a retry layer")
        if "num_retries" not in given and not _retry_layer(call.function, call.node):
            problems.append(f"{where}: no retry layer and no num_retries")
        decorated = _decorators(call.function)
        if len(decorated) != 1 or not isinstance(decorated[0], ast.Call):
            problems.append(f"{where}: its function is not decorated with @{SUPPORT}.track_calls(raise_on_degraded=True)")
    return problems


def check_support_import(module: Module, package: str) -> list[str]:
    """A module that calls the support module imports it by name, from beside run_utils.py, at module level."""
    if not any(_is_support(n) for n in ast.walk(module.tree)):
        return []
    bound = module.bindings.get(SUPPORT)
    if not (
        isinstance(bound, ast.ImportFrom)
        and bound.level == 0
        and bound.module == package
        and any(a.name == SUPPORT and a.asname is None for a in bound.names)
    ):
        shown = ast.unparse(bound) if bound is not None else "nothing"
        return [f"the module calls {SUPPORT} but binds it with `{shown}`, not `from {package} import {SUPPORT}`"]
    return []


def _attribute_reads(function: Function, name: str) -> int:
    return sum(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name for n in ast.walk(function))


def check_local_names_untouched(original: Module, module: Module) -> list[str]:
    """A function that binds ``os`` (or the support module's name, ``json``, ...) itself gets no new code reading that local as the module."""
    problems = []
    for name, before in original.functions.items():
        after = module.functions.get(name)
        if after is None:
            continue
        for shadowed in {"os", "json", "logging", "re", "time", SUPPORT} & _local_names(before):
            if _attribute_reads(after, shadowed) != _attribute_reads(before, shadowed):
                problems.append(f"{name}() binds `{shadowed}` itself, and the patch added `{shadowed}.<attribute>` reads to it")
    return problems


# --------------------------------------------------------------------------
# the whole property
# --------------------------------------------------------------------------


@dataclass
class Variant:
    """What a transform's check gets: the variant and its patched text, read with ast, and the plan's verdict."""

    original: Module
    patched: Module
    status: str
    generator: str | None  # the rubric generator's name, when the variant has one


def _key_default(transform: str):
    def check_transform(v: Variant) -> list[str]:
        return check_key_default(v.original, v.patched, transform, v.status)

    return check_transform


def _guards(v: Variant) -> list[str]:
    problems = check_helper_guards(v.original, v.patched)
    if v.generator:
        problems += check_generator_guard(v.original, v.patched, v.generator)
    return problems


# how each transform's change is found in the patched tree; every registered transform needs one
CHANGE_CHECKS = {
    "retries": _key_default("retries"),
    "fallbacks": _key_default("fallbacks"),
    "timeout": _key_default("timeout"),
    "guards": _guards,
    "precheck": lambda v: check_precheck(v.patched, v.generator) if v.generator else [],
    "health": lambda v: check_health(v.original, v.patched, v.generator),
    "judge": lambda v: check_judge(v.original, v.patched),
}


# variants that passed, by everything check() reads: hypothesis draws some texts more than once (its first
# derandomized example is the fixture itself, which test_the_fixture_itself_satisfies_the_properties checks too)
_PASSED: dict[tuple, FilePlan] = {}


def check(path: Path, root: Path, source: str, expected: dict[str, str], generator: str | None) -> FilePlan:
    """Every property for one variant; AssertionError lists what broke. A text that passed passes again unplanned."""
    key = (path, root, source, tuple(sorted(expected.items())), generator, revert)  # revert: a test swaps it
    if key not in _PASSED:
        _PASSED[key] = _check(path, root, source, expected, generator)
    return _PASSED[key]


def _check(path: Path, root: Path, source: str, expected: dict[str, str], generator: str | None) -> FilePlan:
    compile(source, str(path), "exec", dont_inherit=True)  # the variant itself is valid
    result = plan(path, root, source)  # never raises
    statuses = {name: o.status for name, o in result.outcomes.items()}
    assert tuple(statuses) == TRANSFORM_NAMES, f"planned {tuple(statuses)}, registered {TRANSFORM_NAMES}"
    assert set(CHANGE_CHECKS) == set(TRANSFORM_NAMES), f"no change check for {sorted(set(TRANSFORM_NAMES) - set(CHANGE_CHECKS))}"
    problems = [
        f"{name}: {status} ({result.outcomes[name].reason}); the fixture gives {expected[name]}"
        for name, status in statuses.items()
        if status != expected[name]
    ]
    stepped = set(result.steps)
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
    original, module = Module(source), Module(patched)
    has_generator = bool(generator) and original.generator(generator) is not None
    for name in TRANSFORM_NAMES:
        if statuses[name] in DONE:
            problems += CHANGE_CHECKS[name](Variant(original, module, statuses[name], generator if has_generator else None))
    problems += check_support_import(module, support_package(path))
    problems += check_local_names_untouched(original, module)
    again = plan(path, root, patched)
    if again.patched != patched:
        problems.append("a second apply changed the text")
    for name, outcome in again.outcomes.items():
        if outcome.status not in (ALREADY_PRESENT, NOT_APPLICABLE):
            problems.append(f"second apply: {name} is {outcome.status} ({outcome.reason})")
    if patched != source and revert(path, root, result) != source:
        problems.append("revert did not give the variant's bytes back")
    assert not problems, "\n".join(problems)
    return result
