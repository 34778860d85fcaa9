"""A transform added as one module: tests/plugins/llmfix_max_tokens.py, loaded with LLMFIX_PLUGINS.

Its declaration alone gives it a line in ``llmfix list``, an ``explain`` text, a
``--max-tokens`` flag on apply/check/diff (validated by the plugin's own parser), a
``[tool.llmfix]`` key, and examples that hold when run like llmfix runs transforms;
nothing else in llmfix names it. The CLI part runs in one real interpreter (the flags
exist only when the plugin is registered before the commands are built), every call in it
through the console entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support import CATALOG, REPO, copy_fixture, support_module, target_file

PLUGINS = REPO / "tests" / "plugins"
NAME = "drtulu-canonical"

PROBE = r"""
import contextlib, io, json, sys
from llmfix.cli import run

results = []
for args in json.loads(sys.argv[1]):
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = ["llmfix", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run()
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 2
    results.append({"args": args, "code": code, "out": out.getvalue(), "err": err.getvalue()})
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Every CLI call of this module, made in one interpreter with the plugin loaded; by purpose."""
    base = tmp_path_factory.mktemp("plugin")
    flagged, configured = copy_fixture(NAME, base / "flagged"), copy_fixture("upstream-main-split", base / "configured")
    pyproject = configured / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + '\n[tool.llmfix]\nonly = ["max_tokens"]\nmax_tokens = 1024\n', encoding="utf-8")
    calls = {
        "list": ["list"],
        "explain": ["explain", "max_tokens"],
        **{f"help {c}": [c, "--help"] for c in ("apply", "check", "diff")},
        "refused": ["apply", str(flagged), "--only", "max_tokens", "--max-tokens", "many"],
        "applied": ["apply", str(flagged), "--only", "max_tokens", "--max-tokens", "2048"],
        "checked": ["check", str(flagged), "--only", "max_tokens", "--max-tokens", "2048"],
        "configured": ["apply", str(configured)],
    }
    env = {**os.environ, "LLMFIX_PLUGINS": "llmfix_max_tokens", "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGINS), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(calls.values()))], capture_output=True, text=True, env=env, cwd=base, timeout=300)
    assert done.returncode == 0, done.stderr
    results = dict(zip(calls, json.loads(done.stdout.splitlines()[-1]), strict=True))
    return results, {"flagged": flagged, "configured": configured}


def test_the_plugin_is_listed_explained_and_has_its_flag(cli):
    results, _ = cli
    assert results["list"]["code"] == 0, results["list"]["err"]
    assert results["list"]["out"].splitlines()[-1].split()[0] == "max_tokens"
    assert "LITELLM_MAX_TOKENS" in results["explain"]["out"]
    for command in ("apply", "check", "diff"):
        assert "--max-tokens" in results[f"help {command}"]["out"]


def test_the_plugin_patches_and_its_flag_is_validated(cli):
    results, roots = cli
    refused = results["refused"]
    assert refused["code"] == 2 and "not a token count" in refused["err"] and len(refused["err"].strip().splitlines()) == 1
    assert results["applied"]["code"] == 0, results["applied"]["err"]
    run_utils = target_file(NAME, roots["flagged"], "run_utils").read_text(encoding="utf-8")
    assert run_utils.count('int(os.environ.get("LITELLM_MAX_TOKENS", "2048"))') == len(CATALOG[NAME]["helpers"])
    assert results["checked"]["code"] == 0, results["checked"]["out"]


def test_the_plugin_reads_its_key_from_the_checkouts_config(cli):
    results, roots = cli
    assert results["configured"]["code"] == 0, results["configured"]["err"]
    assert '"LITELLM_MAX_TOKENS", "1024"' in target_file("upstream-main-split", roots["configured"], "run_utils").read_text(encoding="utf-8")




def test_a_transform_that_needs_no_support_writes_no_support_module(cli):
    results, roots = cli
    assert results["applied"]["code"] == 0, results["applied"]["err"]  # --only max_tokens
    assert "litellm_utils" not in target_file(NAME, roots["flagged"], "run_utils").read_text(encoding="utf-8")
    assert not support_module(NAME, roots["flagged"]).exists()


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    import llmfix_max_tokens  # noqa: F401  (registers itself)

    from llmfix.codemods import registry

    yield registry.get("max_tokens")
    registry.unregister("max_tokens")


def test_the_plugins_examples_hold_when_llmfix_runs_them(registered, tmp_path):
    """Each example, planned by llmfix as a module of open_instruct.rubrics at upstream's 119 columns; twice."""
    from llmfix.config import CommandSettings
    from llmfix.discovery import Target
    from llmfix.planning import plan_text

    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 119\n", encoding="utf-8")
    path = tmp_path / "open_instruct" / "rubrics" / "run_utils.py"
    path.parent.mkdir(parents=True)
    assert registered.EXAMPLES
    for example in registered.EXAMPLES:
        settings = CommandSettings({"only": ["max_tokens"], **example.options})
        path.write_text(example.before, encoding="utf-8")
        first = plan_text(Target(path, tmp_path), example.before, settings)
        assert first.outcomes["max_tokens"].status == example.status, example.title
        assert first.patched == (example.after if example.after is not None else example.before), example.title
        second = plan_text(Target(path, tmp_path), first.patched, settings)
        assert not second.changed, example.title
