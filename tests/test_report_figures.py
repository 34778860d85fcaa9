"""Every figure llmfix prints twice agrees: `diff --stat` per file is the sum of its transforms' lines
and equals git's own count of the same change; a dry run speaks in the conditional."""

from __future__ import annotations

import re

import pytest
from support import PATCHABLE, copy_fixture, invoke

FILE_LINE = re.compile(r"^ (?P<path>\S+) \| \+(?P<added>\d+) -(?P<removed>\d+)")
TRANSFORM_LINE = re.compile(r"^ {5}(?P<name>\S+) +\+(?P<added>\d+) -(?P<removed>\d+)$")


@pytest.mark.parametrize("name", PATCHABLE)
def test_stat_per_file_is_the_sum_of_its_transforms(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    result = invoke("diff", "--stat", root)
    assert result.exit_code == 0, result.output
    files: dict[str, list[int]] = {}
    sums: dict[str, list[int]] = {}
    current = None
    for line in result.output.splitlines():
        if (found := FILE_LINE.match(line)) is not None:
            current = found["path"]
            files[current] = [int(found["added"]), int(found["removed"])]
        elif (found := TRANSFORM_LINE.match(line)) is not None and current is not None:
            total = sums.setdefault(current, [0, 0])
            total[0] += int(found["added"])
            total[1] += int(found["removed"])
    assert files, result.output
    for path, counts in sums.items():
        assert counts == files[path], (path, counts, files[path])
    totals = re.search(r"(\d+) file\(s\) changed, (\d+) insertion\(s\)\(\+\), (\d+) deletion\(s\)\(-\)", result.output)
    assert totals is not None and int(totals[2]) == sum(a for a, _ in files.values()) and int(totals[3]) == sum(r for _, r in files.values())


def test_a_dry_run_speaks_in_the_conditional(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    result = invoke("apply", "--dry-run", root)
    assert result.exit_code == 0
    assert "would patch" in result.output and "would be applied" in result.output
    assert " fix(es) applied" not in result.output
