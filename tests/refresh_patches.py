"""Regenerate patches/<fixture>.diff from the current codemods.

    python tests/refresh_patches.py

Each golden is exactly what ``llmfix diff fixtures/NAME`` prints, byte for byte: the
upstream target files' hunks, then the support module (``litellm_utils.py``) as a
``new file mode`` hunk. ``.llmfix/record.json`` is not part of it: ``llmfix diff`` does
not show the record, and tests/test_apply_fixtures.py checks what apply writes there.
The diff is taken of a temporary copy named like the fixture, so the paths are the
fixture's own; a golden whose fixture left the catalog is deleted.

Review the change to patches/ like any other: it is what the codemods now do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import ALL_FIXTURES, PATCHES, copy_fixture, invoke  # noqa: E402


def golden(name: str) -> bytes:
    """``llmfix diff`` of a fresh copy of the fixture, as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        result = invoke("diff", copy_fixture(name, Path(folder)))
        if result.exit_code != 0:
            raise SystemExit(f"llmfix diff {name} failed: {result.stderr}")
        return result.stdout_bytes


def main() -> int:
    PATCHES.mkdir(exist_ok=True)
    for name in ALL_FIXTURES:
        path = PATCHES / f"{name}.diff"
        data = golden(name)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote {path}")
    for stale in sorted(set(PATCHES.glob("*.diff")) - {PATCHES / f"{n}.diff" for n in ALL_FIXTURES}):
        stale.unlink()
        print(f"deleted {stale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
