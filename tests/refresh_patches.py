"""Regenerate patches/<fixture>.diff from the current codemods.

    python tests/refresh_patches.py

Review the change to patches/ like any other: it is what the codemods now do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def fixture_names() -> list[str]:
    return sorted(json.loads((REPO / "fixtures" / "catalog.json").read_text(encoding="utf-8")))


def main() -> int:
    for name in fixture_names():
        subprocess.run(
            [sys.executable, "-m", "llmfix", "diff", str(REPO / "fixtures" / name), "--output", str(REPO / "patches")],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
