"""apply/diff/check never import litellm (it costs seconds); --help stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support import copy_fixture

PROBE = """
import sys
from llmfix.cli import main
code = main(sys.argv[1:], standalone_mode=False)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("litellm", "openai", "httpx"))
print("HEAVY", heavy)
"""


@pytest.mark.parametrize("command", ["apply", "diff", "check"])
def test_file_commands_do_not_import_litellm(tmp_path, command):
    root = copy_fixture("drtulu-canonical", tmp_path)
    result = subprocess.run([sys.executable, "-c", PROBE, command, str(root)], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_help_imports_no_transform_machinery():
    probe = "import sys\nfrom llmfix.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'litellm') or m.startswith('llmfix.codemods')))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in result.stdout, result.stdout + result.stderr


def test_every_package_folder_is_installed():
    """pyproject.toml lists packages by hand (codemods/ installs as llmfix.codemods): none may be missing."""
    import tomllib

    from support import REPO

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in (("llmfix", "llmfix"), ("codemods", "llmfix.codemods")):
        for init in (REPO / top).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / top).parts
            found.add(".".join((name, *relative)))
    assert found == listed
