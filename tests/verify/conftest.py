"""Checkouts for the verify tests and the runs on them, each made once per session.

``verify_checkouts`` copies every checkout :data:`verify_support.RUNS` names into a session temp folder
(patching the fixtures with ``llmfix apply``, in process, and editing the mutants and
variants); ``verify_runs`` verifies them all in one ``runner.run_many`` (one verify child,
one litellm import, every case in parallel) the first time a test asks, and every test
reads its results. ``checkout_copy`` and ``hand_checkout`` give the copies to the tests that
run the command line themselves. verify only reads a checkout, so the copies are shared.

Safe under pytest-xdist: every server is on a free port, every copy under the worker's own
temp folder, and ``verify_runs`` is computed by one worker, the others reading its results.
"""

from __future__ import annotations

import fcntl
import importlib.util
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from verify_support import CHECKOUTS, FIXTURES, RUNS, Run

from llmfix.verify import runner, scenarios
from llmfix.verify.analysis import analyse


def _edit(root: Path, edits) -> None:
    for relative, old, new in edits:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        if old:
            assert old in text, f"{relative}: {old!r} not found (the edit no longer applies)"
            text = text.replace(old, new)
        else:
            text += new
        path.write_text(text, encoding="utf-8")


def _patch(root: Path, skip: tuple[str, ...] = ()) -> None:
    from llmfix import workflow
    from llmfix.config import CommandSettings

    workflow.apply([root], CommandSettings({"skip": list(skip)} if skip else {}), force=True)


def _build(run: Run, destination: Path) -> Path:
    # a fixture, or a hand-written shape (checkouts/<shape>/unpatched); a patched copy is what llmfix apply writes
    shutil.copytree(FIXTURES / run.name if run.source == "fixture" else CHECKOUTS / run.name / "unpatched", destination)
    if run.edit_before_patching:
        _edit(destination, run.edits)
    if run.patched:
        _patch(destination, run.skip)
    if not run.edit_before_patching:
        _edit(destination, run.edits)
    return destination


@pytest.fixture(scope="session")
def verify_checkouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every checkout of :data:`RUNS`, by key (``fixture/<name>/patched``, ``<shape>/<kind>``, ``mutant/<name>``, ...)."""
    base = tmp_path_factory.mktemp("verify-checkouts")
    return {key: _build(run, base / key.replace("/", "--") / run.name) for key, run in RUNS.items()}


@pytest.fixture(scope="session")
def settings() -> scenarios.Settings:
    return scenarios.Settings.for_this_machine(tenacity=importlib.util.find_spec("tenacity") is not None)


def _run_all(checkouts: dict[str, Path], settings: scenarios.Settings) -> dict[str, runner.RunResult]:
    jobs = []
    for key, run in RUNS.items():
        checkout = analyse(checkouts[key])
        jobs.append((checkout, scenarios.select(scenarios.build(settings, checkout), run.scenarios)))
    return dict(zip(RUNS, runner.run_many(jobs, settings, max_parallel=32)))


@pytest.fixture(scope="session")
def verify_runs(verify_checkouts: dict[str, Path], settings: scenarios.Settings, tmp_path_factory: pytest.TempPathFactory,
                worker_id: str) -> dict[str, runner.RunResult]:
    """Every run of :data:`RUNS`, by key: one ``run_many``, the cases of all checkouts in parallel.

    Under pytest-xdist the first worker to ask computes them and the others read its results
    (pickled, without the cases' evaluators: every problem is already in them).
    """
    if worker_id == "master":
        return _run_all(verify_checkouts, settings)
    shared = tmp_path_factory.getbasetemp().parent  # this session's, the same for every worker
    with open(shared / "verify-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "verify-runs.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        results = _run_all(verify_checkouts, settings)
        for result in results.values():
            for outcome in result.outcomes:
                outcome.case.evaluate = None  # type: ignore[assignment]  # a closure: not picklable, no longer needed
        done.write_bytes(pickle.dumps(results))
        return results


@pytest.fixture(scope="session")
def checkout_copy(verify_checkouts: dict[str, Path]) -> Callable[[str, bool], Path]:
    """``checkout_copy(fixture, patched)``: the session's copy of ``fixtures/<fixture>``, patched by ``llmfix apply`` or not."""
    return lambda name, patched: verify_checkouts[f"fixture/{name}/{'patched' if patched else 'unpatched'}"]


@pytest.fixture(scope="session")
def hand_checkout(verify_checkouts: dict[str, Path]) -> Callable[[str, str], Path]:
    """``hand_checkout(shape, "patched" | "unpatched")``: the session's copy of ``checkouts/<shape>/unpatched``, patched by apply or not."""
    return lambda shape, kind: verify_checkouts[f"{shape}/{kind}"]
