"""Apply's work grows linearly with the number of helpers in one file.

Counted, not timed (timings belong to bench/helper_scaling.py): the Python function calls an
in-process ``llmfix apply`` makes on a file of N DR Tulu-style helpers, per helper, at two
sizes. Linear work gives the same count per helper at both; work that rescans the module for
each helper grows with N (an earlier apply was quadratic: 100 helpers 1.8 s, 1,000 138 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

from support import invoke

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.helper_scaling import checkout  # noqa: E402

SMALL, LARGE = 20, 80


def _calls_per_helper(root: Path, helpers: int) -> float:
    target = checkout(root / f"checkout-{helpers}", helpers)
    calls = 0

    def count(frame, event, arg):  # noqa: ARG001 - sys.setprofile's signature
        nonlocal calls
        if event in ("call", "c_call"):  # Python and builtin calls (a walk of the tree calls getattr per node)
            calls += 1

    sys.setprofile(count)
    try:
        result = invoke("apply", "-q", target.parents[2])
    finally:
        sys.setprofile(None)
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").count("@litellm_utils.track_calls") == helpers
    return calls / helpers


def test_apply_does_the_same_work_per_helper_at_four_times_the_helpers(tmp_path):
    invoke("apply", "-q", checkout(tmp_path / "warm-up", 2).parents[2])  # imports and caches out of the count
    small, large = _calls_per_helper(tmp_path, SMALL), _calls_per_helper(tmp_path, LARGE)
    assert large <= 1.25 * small, f"{small:.0f} calls per helper at {SMALL} helpers, {large:.0f} at {LARGE}: not linear"


def test_the_count_sees_a_module_rescanned_for_each_helper(tmp_path, monkeypatch):
    from llmfix.codemods.analysis import tree

    find = tree._span

    def rescanning(node):  # the quadratic shape: every lookup walks the whole module again
        for _, walked in tree.module_walk.cache.values():
            tree.ModuleWalk(walked.order[0])
        return find(node)

    invoke("apply", "-q", checkout(tmp_path / "warm-up", 2).parents[2])
    monkeypatch.setattr(tree, "_span", rescanning)
    small, large = _calls_per_helper(tmp_path, 4), _calls_per_helper(tmp_path, 16)  # small: the rescans are slow to count
    assert large > 2 * small, (small, large)
