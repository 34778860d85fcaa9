"""Checkouts for the verify tests: copied, optionally patched or mutated, never edited in place.

``checkout_copy(name, patched)`` copies ``fixtures/<name>`` into a session temp folder and,
when asked, runs ``python -m llmfix apply`` on the copy. ``hand_checkout(shape, kind)``
copies one of the hand-written ``checkouts/<shape>/<patched|unpatched>``. ``shape_results``
runs verify once on all hand-written checkouts and their mutants. verify only reads a
checkout, so copies are shared by every test of the session.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from verify_support import MUTANTS, SHAPES, UNCALLABLE_HELPER, UTILS

from llmfix.verify import runner, scenarios
from llmfix.verify.analysis import analyse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CATALOG = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
WITH_HELPERS = [name for name, entry in CATALOG.items() if entry["helpers"]]


@pytest.fixture(scope="session")
def checkout_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, bool], Path]:
    made: dict[tuple[str, bool], Path] = {}
    base = tmp_path_factory.mktemp("verify-checkouts")
    # patch every fixture up front, all at once (one `llmfix apply` process each)
    applying = []
    for name in WITH_HELPERS:
        destination = base / "patched" / name
        shutil.copytree(FIXTURES / name, destination)
        command = [sys.executable, "-m", "llmfix", "apply", str(destination)]
        applying.append((command, subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        made[(name, True)] = destination
    for command, process in applying:
        output = process.communicate()[0].decode(errors="replace")
        assert process.returncode == 0, f"{' '.join(command)} failed: {output}"

    def make(name: str, patched: bool) -> Path:
        key = (name, patched)
        if key not in made:
            destination = base / ("patched" if patched else "unpatched") / name
            shutil.copytree(FIXTURES / name, destination)
            if patched:
                subprocess.run([sys.executable, "-m", "llmfix", "apply", str(destination)], check=True, capture_output=True, cwd=REPO)
            made[key] = destination
        return made[key]

    return make


CHECKOUTS = Path(__file__).resolve().parent / "checkouts"


@pytest.fixture(scope="session")
def hand_checkout(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """``hand_checkout(shape, "patched" | "unpatched")``: a copy of ``checkouts/<shape>/<kind>``.

    The checkouts under ``checkouts/`` are written by hand from TARGETS' descriptions: per
    shape one patched to llmfix's contract and one as it is in the wild.
    """
    base = tmp_path_factory.mktemp("hand-checkouts")

    def make(shape: str, kind: str) -> Path:
        destination = base / shape / kind
        if not destination.exists():
            shutil.copytree(CHECKOUTS / shape / kind, destination)
        return destination

    return make


@pytest.fixture(scope="session")
def settings() -> scenarios.Settings:
    return scenarios.Settings(tenacity=importlib.util.find_spec("tenacity") is not None)


def _mutate(source: Path, destination: Path, edits: tuple[tuple[str, str, str], ...]) -> Path:
    shutil.copytree(source, destination)
    for relative, old, new in edits:
        path = destination / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative}: {old!r} not found (the mutant no longer applies)"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return destination


@pytest.fixture(scope="session")
def shape_results(hand_checkout, settings, tmp_path_factory) -> dict[str, runner.RunResult]:
    """Every run, keyed ``<shape>/<kind>``, ``mutant/<name>`` and ``uncallable``."""
    keyed: list[tuple[str, Path, tuple[str, ...]]] = []
    for shape in SHAPES:
        for kind in ("patched", "unpatched"):
            keyed.append((f"{shape}/{kind}", hand_checkout(shape, kind), ()))
    base = tmp_path_factory.mktemp("mutants")
    for mutant in MUTANTS:
        keyed.append((f"mutant/{mutant.name}", _mutate(hand_checkout(mutant.shape, "patched"), base / mutant.name, mutant.edits), mutant.scenarios))
    uncallable = _mutate(hand_checkout("old", "patched"), base / "uncallable", ())
    run_utils = uncallable / UTILS / "run_utils.py"
    run_utils.write_text(run_utils.read_text(encoding="utf-8") + UNCALLABLE_HELPER, encoding="utf-8")
    keyed.append(("uncallable", uncallable, ("healthy",)))
    jobs = []
    for _, path, names in keyed:
        checkout = analyse(path)
        jobs.append((checkout, scenarios.select(scenarios.build(settings, checkout), names)))
    return dict(zip((key for key, _, _ in keyed), runner.run_many(jobs, settings, max_parallel=48)))


