"""The runtime modules follow the rules the inserter relies on.

R1 standard library and litellm only, plain imports at the top, ``litellm`` only as a
bare global with attribute access inside functions, sibling imports as
``from llmfix.codemods.runtime.<module> import <name>``; R2 one module logger and
%-style log calls; R3 public names as documented, the rest ``_``-prefixed, specific
and unique across the package, ``__all__`` in source order; R4 lines <= 79 and a fixed
point of every formatter configuration a target may run (real ruff and black), clean
under upstream's ruff rules and stricter ones a target may add, Python 3.10 syntax,
builtin annotations only.
"""

from __future__ import annotations

import ast
import builtins
import dis
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import llmfix.codemods.runtime as runtime_package

RUNTIME = Path(runtime_package.__file__).parent
MODULES = sorted(p for p in RUNTIME.glob("*.py") if p.name != "__init__.py")
SIBLING = "llmfix.codemods.runtime."
# the public API the README documents, by module
DOCUMENTED = {
    "precheck": {"LiteLLMConnectionError", "check_litellm_connection", "ensure_litellm_connection"},
    "health": {"LiteLLMDegradedError", "litellm_health"},
}
PUBLIC = set().union(*(names for stem, names in DOCUMENTED.items() if (RUNTIME / f"{stem}.py").exists()))
BUILTIN_ANNOTATIONS = {"str", "bool", "int", "float", "dict", "list", "tuple", "set", "bytes", "object"}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
LOGGER_LINE = "logger = logging.getLogger(__name__)"


def tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} is missing: pip install -e '.[test]'"
    return str(path)


RUFF_FORMAT = [tool("ruff"), "format", "--isolated", "--diff"]
SKIP_COMMA = ["--config", "format.skip-magic-trailing-comma = true"]
FORMATTERS = {
    "ruff-79": [*RUFF_FORMAT, "--line-length", "79"],
    "ruff-88": [*RUFF_FORMAT, "--line-length", "88"],
    "ruff-88-skip-magic-trailing-comma": [*RUFF_FORMAT, "--line-length", "88", *SKIP_COMMA],
    "ruff-119": [*RUFF_FORMAT, "--line-length", "119"],
    "ruff-119-skip-magic-trailing-comma": [*RUFF_FORMAT, "--line-length", "119", *SKIP_COMMA],
    "black-88": [tool("black"), "--check", "--diff", "-q", "-l", "88"],
    "black-119-py310": [tool("black"), "--check", "--diff", "-q", "-l", "119", "--target-version", "py310"],
}
# upstream open-instruct's ruff configuration (pyproject.toml), with our package first-party
RUFF_CHECK = [
    tool("ruff"), "check", "--isolated", "--no-cache", "--line-length", "119", "--target-version", "py310",
    "--select", "F,E,W,I,SIM,UP,B,PLC0415", "--ignore", "B905,E501",
    "--config", 'lint.isort.known-first-party = ["llmfix"]',
    "--config", "lint.isort.case-sensitive = false",
    "--config", "lint.isort.split-on-trailing-comma = false",
]


# rules a stricter target may add: RET501 (no `return None` as the only return), B905 (zip
# strict=), comprehensions, PLW (loop variables not overwritten), ...
STRICTER = ["RET", "C4", "PIE", "RUF", "ISC", "Q", "RSE", "G", "LOG", "PLE", "PLW", "T20", "B905"]


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The modules in a directory with no configuration a tool could pick up."""
    folder = tmp_path_factory.mktemp("runtime-style")
    return [Path(shutil.copy(module, folder / module.name)) for module in MODULES]


def test_the_package_has_its_modules():
    names = {m.stem for m in MODULES}
    assert {"redact", "env", "errors", "fallbacks", "responses", "precheck", "health"} <= names


@pytest.mark.parametrize("formatter", FORMATTERS)
def test_fixed_point_of_every_formatter(formatter, copies):
    result = subprocess.run([*FORMATTERS[formatter], *map(str, copies)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_upstream_ruff_rules(copies):
    result = subprocess.run([*RUFF_CHECK, *map(str, copies)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stricter_ruff_rules(copies):
    command = [arg.replace("B905,", "") for arg in RUFF_CHECK] + ["--extend-select", ",".join(STRICTER)]
    result = subprocess.run([*command, *map(str, copies)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- ast checks


def parse(module: Path) -> ast.Module:
    return ast.parse(module.read_text(encoding="utf-8"), str(module), feature_version=(3, 10))


def top_level_names(tree: ast.Module) -> list[str]:
    """Names bound at module level, in source order (imports excluded)."""
    names = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def declared_all(tree: ast.Module) -> list[str]:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and [getattr(t, "id", None) for t in stmt.targets] == ["__all__"]:
            assert isinstance(stmt.value, ast.List), "__all__ must be a list literal"
            return [ast.literal_eval(e) for e in stmt.value.elts]
    raise AssertionError("no __all__")


def function_bodies(tree: ast.AST) -> set[int]:
    """ids of every node inside a function body (not decorators or defaults)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else [node.body]
            for stmt in body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_r1_imports(module):
    tree = parse(module)
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    leading = 0
    while leading < len(body) and isinstance(body[leading], (ast.Import, ast.ImportFrom)):
        leading += 1
    head = set(map(id, body[:leading]))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        assert id(node) in head, f"line {node.lineno}: imports belong at the top"
        assert all(alias.asname is None for alias in node.names), f"line {node.lineno}: no aliases"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert "." not in alias.name, f"line {node.lineno}: plain `import x` only"
                assert alias.name in sys.stdlib_module_names or alias.name == "litellm", alias.name
        else:
            assert node.level == 0 and node.module.startswith(SIBLING), f"line {node.lineno}: no `from x import y`"
            sibling = RUNTIME / f"{node.module[len(SIBLING):]}.py"
            assert sibling.exists(), node.module
            defined = top_level_names(parse(sibling))
            for alias in node.names:
                assert alias.name in defined, f"{alias.name} is not defined in {sibling.name}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_r1_litellm_is_a_bare_global_used_inside_functions(module):
    tree = parse(module)
    inside = function_bodies(tree)
    parent = parents(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "litellm":
            where = f"line {node.lineno}"
            assert isinstance(node.ctx, ast.Load), f"{where}: litellm is never rebound"
            assert id(node) in inside, f"{where}: litellm is used inside functions only"
            up = parent[id(node)]
            assert isinstance(up, ast.Attribute) and up.value is node, f"{where}: only as litellm.<attribute>"
        elif isinstance(node, ast.arg):
            assert node.arg != "litellm", f"line {node.lineno}: litellm is never a parameter"
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            assert "litellm" not in node.names
        elif isinstance(node, ast.alias) and node.name == "litellm":
            pass  # the top-level `import litellm`


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_r2_logging_through_the_module_logger(module):
    tree = parse(module)
    source = module.read_text(encoding="utf-8")
    uses_logger = any(isinstance(n, ast.Name) and n.id == "logger" for n in ast.walk(tree))
    assert source.count(LOGGER_LINE) == (1 if uses_logger else 0)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "print":
            raise AssertionError(f"line {node.lineno}: no print, log through the logger")
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "logger" for t in node.targets):
            assert ast.unparse(node) == LOGGER_LINE and node in tree.body, f"line {node.lineno}: logger is not rebound"
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id == "logging":
            assert node.func.attr == "getLogger", f"line {node.lineno}: log through `logger`, not logging.*"
        if isinstance(owner, ast.Name) and owner.id == "logger":
            assert node.func.attr in LOG_METHODS, node.func.attr
            message = node.args[1 if node.func.attr == "log" else 0]
            assert isinstance(message, ast.Constant) and isinstance(message.value, str), (
                f"line {node.lineno}: the message is a constant %-style format"
            )
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                assert not any(isinstance(n, ast.JoinedStr) for n in ast.walk(arg)), f"line {node.lineno}: no f-string"


def test_r3_top_level_names():
    seen: dict[str, str] = {}
    for module in MODULES:
        tree = parse(module)
        names = top_level_names(tree)
        for name in names:
            if name in ("logger", "__all__"):
                continue
            assert name not in seen, f"{name} is defined in {seen.get(name)} and {module.name}"
            seen[name] = module.name
            if name in PUBLIC:
                continue
            specific = r"_[a-z]+(_[a-z0-9]+)+|_[A-Z][A-Z0-9]*(_[A-Z0-9]+)+|_(LiteLLM|[A-Z][a-z0-9]+)([A-Z][a-z0-9]+)+"
            assert re.fullmatch(specific, name), f"{module.name}: {name} is not _specific_like_this"
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for name in top_level_names(ast.Module(body=[stmt], type_ignores=[])):
                    state = re.fullmatch(r"_[A-Z][A-Z0-9_]*", name)
                    assert name in ("logger", "__all__") or state, f"{module.name}: module state {name} is _UPPER_CASE"
    assert PUBLIC <= set(seen), PUBLIC - set(seen)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_r3_all_lists_what_the_target_gets_in_source_order(module):
    tree = parse(module)
    names = top_level_names(tree)
    exported = declared_all(tree)
    assert all(name in names for name in exported), set(exported) - set(names)
    assert exported == sorted(exported, key=names.index), "__all__ is in source order"
    public = [n for n in names if not n.startswith("_") and n != "logger"]
    assert set(public) <= set(exported), "every public name is exported"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_r4_lines_syntax_and_annotations(module):
    source = module.read_text(encoding="utf-8")
    for number, line in enumerate(source.splitlines(), 1):
        assert len(line) <= 79, f"{module.name}:{number} is {len(line)} characters"
    tree = parse(module)  # Python 3.10 grammar
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            assert isinstance(annotation, ast.Name) and annotation.id in BUILTIN_ANNOTATIONS, ast.unparse(annotation)


# --------------------------------------------------------------------------- one namespace


def dependency_order() -> list[Path]:
    """Modules with each one's sibling imports before it."""
    needs = {}
    for module in MODULES:
        tree = parse(module)
        needs[module] = {RUNTIME / f"{n.module[len(SIBLING):]}.py" for n in tree.body if isinstance(n, ast.ImportFrom)}
    order: list[Path] = []
    while len(order) < len(MODULES):
        ready = [m for m in MODULES if m not in order and needs[m] <= set(order)]
        assert ready, "the runtime modules import each other in a cycle"
        order += ready
    return order


def as_inserted(module: Path) -> str:
    """The module as the inserter leaves it: no sibling imports, no logger line."""
    tree = parse(module)
    keep = [s for s in tree.body if not isinstance(s, ast.ImportFrom) and ast.unparse(s) != LOGGER_LINE]
    return ast.unparse(ast.Module(body=keep, type_ignores=[]))


def global_loads(code: types.CodeType) -> set[str]:
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_loads(const)
    return names


def test_all_modules_share_one_namespace():
    """Concatenated as in a target (one namespace, the target's logger): every global any
    runtime function reads is defined there, a builtin or an imported module."""
    source = "\n\n".join(as_inserted(m) for m in dependency_order())
    namespace: dict[str, object] = {"__name__": "target_run_utils"}
    exec(compile("import logging\nlogger = logging.getLogger(__name__)\n" + source, "<target>", "exec"), namespace)
    assert PUBLIC <= set(namespace)
    for name, value in namespace.items():
        code = getattr(value, "__code__", None)
        codes = [code] if code is not None else [getattr(v, "__code__", None) for v in vars(value).values()] if isinstance(value, type) else []
        for code in filter(None, codes):
            missing = {n for n in global_loads(code) if n not in namespace and not hasattr(builtins, n)}
            assert not missing, f"{name} reads undefined globals {missing}"


def test_the_names_llmfix_reads_from_the_sources_are_the_parsed_ones():
    """runtime_block finds its own names with a regular expression (no parse); it must agree with libcst."""
    from llmfix.codemods import runtime_block

    parsed = {name for module in runtime_block._modules() for name in runtime_block.load(module).definitions}
    assert runtime_block.runtime_names() == parsed
