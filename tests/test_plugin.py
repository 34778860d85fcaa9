"""A transform added as one module: tests/plugins/llmfix_max_tokens.py, loaded with LLMFIX_PLUGINS.

Its declaration alone gives it a line in ``llmfix list``, an ``explain`` text, a
``--max-tokens`` flag on apply/check/diff, a ``[tool.llmfix]`` key, and examples the
same runner checks as the built-in ones; nothing else in llmfix names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import CATALOG, REPO, copy_fixture, target_files

PLUGINS = REPO / "tests" / "plugins"


def llmfix(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LLMFIX_PLUGINS": "llmfix_max_tokens", "PYTHONPATH": f"{PLUGINS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-m", "llmfix", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_the_plugin_is_listed_explained_and_has_its_flag():
    listed = llmfix("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1].split()[0] == "max_tokens"
    assert "LITELLM_MAX_TOKENS" in llmfix("explain", "max_tokens").stdout
    for command in ("apply", "check", "diff"):
        assert "--max-tokens" in llmfix(command, "--help").stdout


def test_the_plugin_patches_and_its_flag_is_validated(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    refused = llmfix("apply", str(root), "--only", "max_tokens", "--max-tokens", "many")
    assert refused.returncode == 2 and "not a token count" in refused.stderr
    done = llmfix("apply", str(root), "--only", "max_tokens", "--max-tokens", "2048")
    assert done.returncode == 0, done.stderr
    run_utils = target_files("drtulu-canonical", root)[0].read_text(encoding="utf-8")
    assert run_utils.count('int(os.environ.get("LITELLM_MAX_TOKENS", "2048"))') == len(CATALOG["drtulu-canonical"]["helpers"])
    assert llmfix("check", str(root), "--only", "max_tokens", "--max-tokens", "2048").returncode == 0


def test_the_plugin_reads_its_key_from_the_checkouts_config(tmp_path):
    root = copy_fixture("upstream-main-split", tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n[tool.llmfix]\nonly = [\"max_tokens\"]\nmax_tokens = 1024\n", encoding="utf-8")
    assert llmfix("apply", str(root)).returncode == 0
    assert '"LITELLM_MAX_TOKENS", "1024"' in target_files("upstream-main-split", root)[0].read_text(encoding="utf-8")


@pytest.fixture
def registered():
    sys.path.insert(0, str(PLUGINS))
    from llmfix.codemods import registry

    import llmfix_max_tokens  # noqa: F401  (registers itself)

    yield registry.get("max_tokens")
    registry.unregister("max_tokens")
    sys.path.remove(str(PLUGINS))


def test_the_plugins_examples_pass_the_same_runner(registered):
    from transforms.test_examples import test_example

    for example in registered.EXAMPLES:
        test_example(registered, example)
