"""How long the default ``llmfix verify`` takes on a patched drtulu-canonical copy.

Runs ``python -m llmfix verify --json`` three times (a fresh process each, as a user would)
and prints the wall-clock median, each run, when its first line came (goal: within 1 s), the
child's litellm import time and the slowest case. Goal: under 30 s.

    python bench/verify_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL = 30.0
FIRST_LINE_GOAL = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmfix-bench-verify-") as tmp:
        checkout = Path(tmp) / "drtulu-canonical"
        shutil.copytree(REPO / "fixtures" / "drtulu-canonical", checkout)
        subprocess.run([sys.executable, "-m", "llmfix", "apply", str(checkout)], check=True, capture_output=True, cwd=tmp)
        runs, firsts = [], []
        for index in range(args.runs):
            start = time.monotonic()
            child = subprocess.Popen(
                [sys.executable, "-m", "llmfix", "verify", str(checkout), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp
            )
            first_line = child.stderr.readline()  # the progress lines go to stderr with --json
            first = time.monotonic() - start
            stdout, stderr = child.communicate()
            done = subprocess.CompletedProcess(child.args, child.returncode, stdout, first_line + stderr)
            wall = time.monotonic() - start
            if done.returncode != 0:
                print(f"run {index + 1}: exit {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            report = json.loads(done.stdout)
            slowest = max(report["cases"], key=lambda c: c["seconds"] or 0)
            runs.append((wall, report["startup_seconds"], slowest))
            firsts.append(first)
            print(
                f"run {index + 1}: {wall:.1f}s wall, first line at {first:.2f}s, litellm import + warm-up {report['startup_seconds']:.1f}s, "
                f"slowest case {slowest['id']} {slowest['scenario']} ({slowest['case']}) {slowest['seconds']:.1f}s"
            )
    median = statistics.median(w for w, _, _ in runs)
    slowest = max((r[2] for r in runs), key=lambda c: c["seconds"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    first = statistics.median(firsts)
    print(f"first line: median {first:.2f}s (goal < {FIRST_LINE_GOAL:.0f}s: {'met' if first < FIRST_LINE_GOAL else 'NOT met'})")
    print(
        f"median {median:.1f}s over {len(runs)} runs (goal < {GOAL:.0f}s: {'met' if median < GOAL else 'NOT met'}); "
        f"slowest scenario: {slowest['scenario']} [{slowest['id']}] {slowest['seconds']:.1f}s; load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
