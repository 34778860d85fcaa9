"""Family 3: peak RSS of ``llmfix apply`` on the fixture (1a) and on the batch (1c).

Measured the way every timed run in bench/ is: a wrapper process runs ``llmfix apply``
as its only child and reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``. When the
speed benchmarks ran in the same session their apply runs are reused (the peak over
all of them); otherwise this module measures on its own.
"""

from __future__ import annotations

import shutil

from bench import generate
from bench.common import (
    CANONICAL,
    GOALS,
    Profile,
    Row,
    Scratch,
    llmfix_command,
    run_measured,
)
from bench.speed import floor_command


def run(profile: Profile, scratch: Scratch, speed: dict) -> dict:
    out: dict = {}
    if "1a" in speed:
        out["fixture"] = {"apply": speed["1a"]["apply"]["rss"], "floor": speed["1a"]["floor"]["rss"], "runs": speed["1a"]["apply"]["n"], "source": "1a runs"}
    else:
        peaks, floors = [], []
        for i in range(profile.reps_mem):
            copy = scratch.copy_fixture(CANONICAL, f"3-apply-{i}")
            peaks.append(run_measured([*llmfix_command(), "apply", copy]).maxrss_mib)
            floors.append(run_measured(floor_command(copy)).maxrss_mib)
        out["fixture"] = {"apply": max(peaks), "floor": max(floors), "runs": len(peaks), "source": "own runs"}
    if "1c" in speed:
        out["batch"] = {
            "apply": speed["1c"]["apply"]["rss"],
            "floor": speed["1c"]["floor"]["rss"],
            "files": speed["1c"]["files"],
            "runs": speed["1c"]["apply"]["n"],
            "source": "1c runs",
        }
    else:
        pristine = scratch.root / "3-pristine"
        files = len(generate.batch(pristine, profile.batch_files)["files"])
        work = scratch.root / "3-work"
        shutil.copytree(pristine, work)
        out["batch"] = {
            "apply": run_measured([*llmfix_command(), "apply", work]).maxrss_mib,
            "floor": run_measured(floor_command(pristine)).maxrss_mib,
            "files": files,
            "runs": 1,
            "source": "own run",
        }
    return out


def rows(r: dict) -> list[Row]:
    f, b = r["fixture"], r["batch"]
    return [
        Row("3", "peak RSS, `llmfix apply` on the fixture vs the floor process", f"{f['floor']:.0f} MiB", f"{f['apply']:.0f} MiB", f"{f['apply'] / f['floor']:.2f}x", "-", "-"),
        Row(
            "3",
            f"peak RSS, `llmfix apply` on the {b['files']}-file batch vs the floor process",
            f"{b['floor']:.0f} MiB",
            f"{b['apply']:.0f} MiB",
            f"{b['apply'] / b['floor']:.2f}x",
            GOALS["3"].text,
            GOALS["3"].status(b["apply"] / b["floor"]),
        ),
    ]
