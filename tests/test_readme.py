"""The README's commands run as written: the "Try it" line exits 0 from a clean clone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from support import REPO


def readme_block(name: str) -> str:
    """The lines inside the fenced block between ``<!-- NAME -->`` and ``<!-- /NAME -->``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(name)} -->\n```\w*\n(.*?)```\n<!-- /{re.escape(name)} -->", text, re.S)
    assert found, f"README.md lost its {name} block"
    return found.group(1)


def test_try_it_line_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block("readme:try")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "+++ b/" in result.stdout  # the diff was shown
    assert "all fixes present" in result.stdout


def test_ci_blocks_are_there() -> None:
    assert "pip install" in readme_block("ci:install")
    assert "pytest" in readme_block("ci:test")
