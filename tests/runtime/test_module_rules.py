"""The support module's own rules, checked once on the text llmfix writes into a checkout.

It imports only the standard library at module level and reaches litellm only through importlib,
inside the functions that need it (importing it must not import litellm); it passes upstream
open-instruct's ruff configuration and ruff format, and DR Tulu's black; it is a fixed point of both
formatters; it is Python 3.10 code.
"""

from __future__ import annotations

import ast
import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmfix.codemods import support
from llmfix.codemods.runtime import litellm_utils

SOURCE = Path(litellm_utils.__file__)


def tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} is missing: pip install -e '.[test]'"
    return str(path)


# upstream open-instruct's pyproject.toml: line 119, py310, F E W I SIM UP B PLC0415, B905 and E501 ignored
RUFF_CHECK = [
    *("check", "--isolated", "--no-cache", "--line-length", "119", "--target-version", "py310"),
    *("--select", "F,E,W,I,SIM,UP,B,PLC0415", "--ignore", "B905,E501"),
    *("--config", 'lint.isort.known-first-party = ["open_instruct", "mason"]'),
    *("--config", "lint.isort.case-sensitive = false", "--config", "lint.isort.split-on-trailing-comma = false"),
]
RUFF_FORMAT = [
    *("format", "--isolated", "--no-cache", "--line-length", "119", "--target-version", "py310"),
    *("--config", "format.skip-magic-trailing-comma = true", "--config", 'format.quote-style = "double"'),
]
BLACK = ["--line-length", "119", "--target-version", "py310", "--quiet"]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module as a checkout gets it (llmfix's header on top), in a folder no tool config reaches."""
    path = tmp_path_factory.mktemp("checkout") / support.FILE_NAME
    path.write_text(support.text(), encoding="utf-8")
    return path


def run_tool(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_the_checkout_copy_is_the_module_under_a_header(written):
    text = written.read_text(encoding="utf-8")
    assert text.endswith(SOURCE.read_text(encoding="utf-8"))
    assert all(line.startswith("# ") for line in text[: -len(SOURCE.read_text(encoding="utf-8"))].splitlines())


def test_only_the_standard_library_at_module_level():
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"), feature_version=(3, 10))
    top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    roots = {alias.name.split(".")[0] for node in top if isinstance(node, ast.Import) for alias in node.names}
    roots |= {node.module.split(".")[0] for node in top if isinstance(node, ast.ImportFrom) and node.module}
    assert roots <= sys.stdlib_module_names, roots - sys.stdlib_module_names
    assert all(isinstance(node, ast.Import) or node.level == 0 for node in top)  # nothing relative: it stands alone
    nested = [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert nested == [node.lineno for node in top], "import statements below the top"


def test_litellm_only_through_importlib_inside_functions():
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"), feature_version=(3, 10))
    inside = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
    ]
    assert calls, "litellm is reached through importlib.import_module"
    for call in calls:
        assert id(call) in inside, f"line {call.lineno}: import_module outside a function"
        (argument,) = call.args
        assert isinstance(argument, ast.Constant) and argument.value.split(".")[0] == "litellm"


IMPORT_ALONE = r"""
import importlib.util, json, sys
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("open_instruct.rubrics.litellm_utils", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
new = set(sys.modules) - before
print(json.dumps(sorted(name for name in new if name.split(".")[0] not in sys.stdlib_module_names)))
"""


def test_importing_it_imports_neither_litellm_nor_anything_else(written):
    done = run_tool(sys.executable, "-I", "-c", IMPORT_ALONE, str(written))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_upstream_ruff_rules(written):
    done = run_tool(tool("ruff"), *RUFF_CHECK, str(written))
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_with_skip_magic_trailing_comma(written):
    done = run_tool(tool("ruff"), *RUFF_FORMAT, "--check", "--diff", str(written))
    assert done.returncode == 0, done.stdout + done.stderr


def test_black_119_py310(written):
    done = run_tool(tool("black"), *BLACK, "--check", "--diff", str(written))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("order", [("ruff", "black"), ("black", "ruff")])
def test_a_fixed_point_of_both_formatters(tmp_path, written, order):
    copy = tmp_path / written.name
    shutil.copy(written, copy)
    for name in order:
        command = [tool("ruff"), *RUFF_FORMAT] if name == "ruff" else [tool("black"), *BLACK]
        done = run_tool(*command, str(copy))
        assert done.returncode == 0, done.stdout + done.stderr
    assert copy.read_text(encoding="utf-8") == written.read_text(encoding="utf-8")


def test_python_310_syntax():
    ast.parse(support.text(), filename=support.FILE_NAME, feature_version=(3, 10))
    compile(support.text(), support.FILE_NAME, "exec", dont_inherit=True)


def python_310() -> str | None:
    """A working Python 3.10 interpreter on this machine, if there is one."""
    for candidate in (shutil.which("python3.10"), *sorted(glob.glob("/root/.pyenv/versions/3.10*/bin/python3.10"))):
        if (
            candidate
            and run_tool(candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 10)").returncode == 0
        ):
            return candidate
    return None


ON_310 = r"""
import asyncio, importlib.util, os, sys
spec = importlib.util.spec_from_file_location("litellm_utils", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
os.environ.update(LITELLM_NUM_RETRIES="3", LITELLM_FALLBACK_MODELS='[{"model": "b", "api_key": "k"}]', LITELLM_PRECHECK="warn")
assert m.from_env("LITELLM_NUM_RETRIES", 10) == 3 and m.check_settings() == "warn"
assert m.fallback_models([], "a") == [{"model": "b", "api_key": "k"}]
assert m.redact("http://u:p@h:1") == "http://u:***@h:1" and m.route().startswith("endpoint ")
assert m.response_text(None) == ""

@m.track_calls
async def helper(model_name):
    return "ok"

assert asyncio.run(helper("a")) == "ok" and m.health()["helper"]["a"]["ok"] == 1
print("ok")
"""


def test_it_runs_on_python_310_when_one_is_installed(written):
    interpreter = python_310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter here (the syntax check above still holds)")
    done = run_tool(interpreter, "-I", "-c", ON_310, str(written))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
