"""A real checkout whose helpers set some defaults for some models only (a fork's ``if model_name.startswith("o1"):``):
llmfix's lines land where every model passes, the branch keeps its own value, ``check`` is then clean, a second
apply changes nothing and revert gives back every byte."""

from __future__ import annotations

import ast

from support import copy_fixture, run_cli, snapshot, target_files

FIXTURE = "drtulu-canonical"
O1 = '    if model_name.startswith("o1"):  # o1 takes no other temperature, and answers slowly\n'
EDITS = {
    "run_chatopenai": (  # its only default line moves into the branch
        '    chat_kwargs["temperature"] = chat_kwargs.get("temperature", 0)\n    if json_mode:',
        O1 + '        chat_kwargs["temperature"] = chat_kwargs.get("temperature", 1)\n    if json_mode:',
    ),
    "run_litellm": (  # a timeout for o1 only, after its other defaults
        "    # no timeout here: the judge prompts are short\n",
        O1 + '        chat_kwargs["timeout"] = chat_kwargs.get("timeout", 300)\n',
    ),
}


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == name)


def test_defaults_for_some_models_only_leave_every_model_covered(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path)
    run_utils = target_files(FIXTURE, root)[0]
    text = run_utils.read_text(encoding="utf-8")
    for old, new in EDITS.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    run_utils.write_text(text, encoding="utf-8")
    before = snapshot(root)

    applied = run_cli("apply", root)
    assert applied.returncode == 0, applied.stderr
    tree = ast.parse(run_utils.read_text(encoding="utf-8"))
    for name in EDITS:
        function = _function(tree, name)
        branch = next(s for s in function.body if isinstance(s, ast.If) and "o1" in ast.unparse(s.test))
        assert "litellm_utils" not in ast.unparse(branch), f"{name}: llmfix wrote into the o1 branch"
        top = [ast.unparse(s) for s in function.body]
        for key in ("num_retries", "timeout"):
            assert any(line.startswith(f"chat_kwargs['{key}'] = chat_kwargs.get('{key}', litellm_utils.from_env(") for line in top), (name, key, top)
    assert "chat_kwargs.get('timeout', 300)" in ast.unparse(_function(tree, "run_litellm"))  # the branch keeps its own

    assert run_cli("check", root).returncode == 0
    again = run_cli("apply", root)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    reverted = run_cli("revert", root)
    assert reverted.returncode == 0, reverted.stderr
    assert snapshot(root) == before
