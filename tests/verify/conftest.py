"""Checkouts for the verify tests and the runs on them, each made once per session.

``verify_checkouts`` copies a checkout :data:`verify_support.RUNS` names into a session temp
folder the first time a test asks for it (patching the fixtures with ``llmfix apply``, in
process, and editing the mutants and variants). ``verify_runs`` verifies a group of them
(:data:`verify_support.GROUPS`) in one ``runner.run_many`` the first time a test asks for one
of its runs. ``checkout_copy`` and ``hand_checkout`` give the copies to the tests that run the
command line themselves. verify only reads a checkout, so the copies are shared.

Safe under pytest-xdist: every server is on a free port, every copy under the worker's own
temp folder, and each group is computed by one worker, the others reading its results.
"""

from __future__ import annotations

import fcntl
import importlib.util
import pickle
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from verify_support import CHECKOUTS, FIXTURES, RUNS, Run, analyse

from llmfix.verify import runner, scenarios


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


class Checkouts(dict):
    """Every checkout of :data:`RUNS`, by key (``fixture/<name>/patched``, ``<shape>/<kind>``, ``mutant/<name>``, ...), built when first asked for."""

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, key: str) -> Path:
        self[key] = _build(RUNS[key], self.base / key.replace("/", "--") / RUNS[key].name)
        return self[key]


@pytest.fixture(scope="session")
def verify_checkouts(tmp_path_factory: pytest.TempPathFactory) -> Checkouts:
    return Checkouts(tmp_path_factory.mktemp("verify-checkouts"))


@pytest.fixture(scope="session")
def settings() -> scenarios.Settings:
    return scenarios.Settings.for_this_machine(tenacity=importlib.util.find_spec("tenacity") is not None)


class Runs(Mapping):
    """Every run of :data:`RUNS`, by key; a group's runs are computed (one ``run_many``) when one of them is first asked for.

    Under pytest-xdist the first worker to ask for a group computes it and the others read its
    results (pickled, without the cases' evaluators: every problem is already in them).
    """

    def __init__(self, checkouts: Checkouts, settings: scenarios.Settings, shared: Path | None) -> None:
        self.checkouts, self.settings, self.shared = checkouts, settings, shared
        self.done: dict[str, dict[str, runner.RunResult]] = {}

    def __getitem__(self, key: str) -> runner.RunResult:
        group = RUNS[key].group
        if group not in self.done:
            self.done[group] = self._shared(group) if self.shared else self._run(group)
        return self.done[group][key]

    def __iter__(self) -> Iterator[str]:
        return iter(RUNS)

    def __len__(self) -> int:
        return len(RUNS)

    def _run(self, group: str) -> dict[str, runner.RunResult]:
        keys = [key for key, run in RUNS.items() if run.group == group]
        jobs = []
        for key in keys:
            checkout = analyse(self.checkouts[key])
            jobs.append((checkout, scenarios.select(scenarios.build(self.settings, checkout), RUNS[key].scenarios)))
        results = dict(zip(keys, runner.run_many(jobs, self.settings, max_parallel=32)))
        for result in results.values():
            for outcome in result.outcomes:
                outcome.case.evaluate = None  # type: ignore[assignment]  # a closure: not picklable, no longer needed
        return results

    def _shared(self, group: str) -> dict[str, runner.RunResult]:
        assert self.shared is not None
        with open(self.shared / f"verify-runs-{group}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = self.shared / f"verify-runs-{group}.pickle"
            if done.exists():
                return pickle.loads(done.read_bytes())
            results = self._run(group)
            done.write_bytes(pickle.dumps(results))
            return results


@pytest.fixture(scope="session")
def verify_runs(verify_checkouts: Checkouts, settings: scenarios.Settings, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Runs:
    shared = None if worker_id == "master" else tmp_path_factory.getbasetemp().parent  # this session's, the same for every worker
    return Runs(verify_checkouts, settings, shared)


@pytest.fixture(scope="session")
def checkout_copy(verify_checkouts: Checkouts) -> Callable[[str, bool], Path]:
    """``checkout_copy(fixture, patched)``: the session's copy of ``fixtures/<fixture>``, patched by ``llmfix apply`` or not."""
    return lambda name, patched: verify_checkouts[f"fixture/{name}/{'patched' if patched else 'unpatched'}"]


@pytest.fixture(scope="session")
def hand_checkout(verify_checkouts: Checkouts) -> Callable[[str, str], Path]:
    """``hand_checkout(shape, "patched" | "unpatched")``: the session's copy of ``checkouts/<shape>/unpatched``, patched by apply or not."""
    return lambda shape, kind: verify_checkouts[f"{shape}/{kind}"]
