"""An LLM judge module for checkouts whose fixture has no ``ground_truth_utils.py``: DR Tulu's, lent
from the drtulu-canonical fixture. That is ``LMJudgeVerifier`` as DR Tulu forks and upstream from
mid 2025 to Feb 2026 have it: ``from litellm import acompletion`` at the top;
``async_call`` loops ``max_retries = 3`` times around a direct ``acompletion(...)`` with
explicit arguments and no timeout, logs a warning per failed attempt, sleeps
``retry_delay * 2**attempt`` between attempts, and after the last one logs an error and
returns ``VerificationResult(score=0.0, ...)``: an unreachable judge hands out zeros.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import CATALOG, FIXTURES

FILE = "ground_truth_utils.py"
DONOR = "drtulu-canonical"  # the fixture whose judge module is lent to a fixture without one


def relative(name: str) -> str:
    """Where the judge module lives in fixture ``name`` (``open_instruct/`` under the checkout root)."""
    entry = CATALOG[name]
    return entry["files"].get("ground_truth_utils") or (Path(entry["root_subdir"]) / "open_instruct" / FILE).as_posix()


def present(name: str) -> bool:
    """True when the fixture ships its own ground_truth_utils.py."""
    return "ground_truth_utils" in CATALOG[name]["files"] or (FIXTURES / name / relative(name)).is_file()


def write(checkout: Path, name: str) -> Path:
    """Add the judge module to a copy of fixture ``name`` (unless the fixture has one); its path."""
    path = checkout / relative(name)
    if not path.exists():
        path.write_bytes((FIXTURES / DONOR / relative(DONOR)).read_bytes())
    return path
