"""The two target files of a checkout are one unit: patched together, checked together.

rubric_utils.py imports from run_utils.py. A patch must never leave rubric_utils
importing a name run_utils does not define (an ImportError at training start), and
``check`` must fail on a pair whose imports don't resolve.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from support import CATALOG, copy_fixture, invoke, run_cli, target_files

NAME = "upstream-main-split"


def imports_resolve(run_utils: str, rubric_utils: str, module: str) -> list[str]:
    """Names rubric_utils imports from ``module`` that run_utils does not define."""
    defined = {n.name for n in ast.parse(run_utils).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    defined |= {t.id for n in ast.parse(run_utils).body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    defined |= {a.asname or a.name for n in ast.parse(run_utils).body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    wanted = [a.name for n in ast.parse(rubric_utils).body if isinstance(n, ast.ImportFrom) and n.module == module for a in n.names]
    return [name for name in wanted if name not in defined]


@pytest.mark.parametrize("which", ["run_utils", "rubric_utils"])
def test_naming_one_file_patches_its_whole_checkout(tmp_path, which):
    root = copy_fixture(NAME, tmp_path)
    run_utils, rubric_utils = (root / CATALOG[NAME]["files"][k] for k in ("run_utils", "rubric_utils"))
    assert invoke("apply", root / CATALOG[NAME]["files"][which]).exit_code == 0
    assert "ensure_litellm_connection" in run_utils.read_text(encoding="utf-8")
    assert "await ensure_litellm_connection(" in rubric_utils.read_text(encoding="utf-8")
    assert imports_resolve(run_utils.read_text(encoding="utf-8"), rubric_utils.read_text(encoding="utf-8"), "open_instruct.rubrics.run_utils") == []
    assert invoke("check", root).exit_code == 0


def test_check_fails_on_a_pair_whose_imports_dont_resolve(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    rubric_utils = root / CATALOG[NAME]["files"]["rubric_utils"]
    text = rubric_utils.read_text(encoding="utf-8")
    rubric_utils.write_text(text.replace("from open_instruct.rubrics.run_utils import ", "from open_instruct.rubrics.run_utils import ensure_litellm_connection, ", 1), encoding="utf-8")
    result = run_cli("check", root, "--only", "retries")
    assert result.returncode == 2
    assert "imports ensure_litellm_connection from open_instruct.rubrics.run_utils, which does not define it" in result.stderr


def test_a_run_utils_without_recognisable_helpers_never_gets_an_import_added(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    run_utils = root / CATALOG[NAME]["files"]["run_utils"]
    run_utils.write_text(
        "import litellm\n\n\ndef extract_json_from_response(text):\n    return None\n\n\n"
        "def run_litellm(model_name, user_prompt):\n    return ''\n\n\n"
        "async def run_litellm_async(model_name, user_prompt=None):\n    return ''\n",
        encoding="utf-8",
    )  # the names rubric_utils imports, but no LiteLLM call llmfix could patch
    result = run_cli("apply", root)
    assert result.returncode == 2, result.stdout
    assert "does not define it after this run" in result.stderr
    assert "ensure_litellm_connection" not in (root / CATALOG[NAME]["files"]["rubric_utils"]).read_text(encoding="utf-8")


def test_the_aliased_fork_is_patched_through_its_aliases(tmp_path):
    name = "drtulu-fork-aliases"
    root = copy_fixture(name, tmp_path)
    result = invoke("apply", root, "--json")
    assert result.exit_code == 0, result.stderr
    run_utils = target_files(name, root)[0].read_text(encoding="utf-8")
    tree = ast.parse(run_utils)
    helpers = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for helper in CATALOG[name]["helpers"]:
        source = ast.unparse(helpers[helper])
        assert "LITELLM_NUM_RETRIES" in source, helper
        assert "_fallback_models_from_env" in source, helper
        assert "LITELLM_DEFAULT_TIMEOUT" in source, helper


def test_a_local_os_is_never_used_for_the_environment(tmp_path):
    """In the fork, run_litellm binds ``os = chat_kwargs.pop("target_os", ...)``: the patch reads the environment through the module."""
    name = "drtulu-fork-aliases"
    root = copy_fixture(name, tmp_path)
    assert invoke("apply", root).exit_code == 0
    checkout = root / CATALOG[name]["root_subdir"]
    dotted = CATALOG[name]["files"]["run_utils"].removeprefix(CATALOG[name]["root_subdir"] + "/").removesuffix(".py").replace("/", ".")
    code = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(checkout)!r})\n"
        "import importlib\n"
        f"module = importlib.import_module({dotted!r})\n"
        "import litellm\n"
        "seen = {}\n"
        "def fake(**kwargs):\n"
        "    seen.update(kwargs)\n"
        "    raise RuntimeError('stop')\n"
        "module.ll.completion = fake\n"
        "print(repr(module.run_litellm('m', 'hi', target_os='windows')))\n"
        "print(seen.get('num_retries'), seen.get('timeout'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_NUM_RETRIES": "3", "PATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "3 600.0"
