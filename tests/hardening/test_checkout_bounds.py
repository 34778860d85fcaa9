"""llmfix reads and writes only inside the checkout, and only files of a sane size.

A folder on the way to a target that is a symbolic link out of the checkout
(``open_instruct/search_rewards/utils -> /elsewhere/utils``, or ``open_instruct``
itself) is refused by discovery: one line on stderr, exit 2, nothing written
inside or outside. A symlinked folder whose real path stays inside the checkout
is followed. A target file larger than the cap is refused before its content
is read (a 1 GiB sparse ``run_utils.py`` never costs a gigabyte of memory).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import copy_fixture, run_cli, snapshot, target_files

FIXTURE = "upstream-sep2025"  # open_instruct/search_rewards/utils/{run_utils,rubric_utils}.py at the fixture root
DRTULU = "drtulu-canonical"  # rl/open-instruct/open_instruct/search_rewards/utils/...
MAX_SOURCE_BYTES = 8 * 1024 * 1024  # llmfix.sourcetext.MAX_SOURCE_BYTES


def assert_refused(result, *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def move_out(root: Path, relative: str, elsewhere: Path) -> Path:
    """Move ``root/relative`` to ``elsewhere`` and leave a symlink to it in its place."""
    inside = root / relative
    outside = elsewhere / inside.name
    elsewhere.mkdir(parents=True, exist_ok=True)
    shutil.move(inside, outside)
    inside.symlink_to(outside, target_is_directory=True)
    return outside


@pytest.mark.parametrize(
    ("fixture", "link"),
    [
        pytest.param(FIXTURE, "open_instruct/search_rewards/utils", id="the-helpers-folder"),
        pytest.param(FIXTURE, "open_instruct", id="the-package-itself"),
        pytest.param(DRTULU, "rl", id="a-folder-above-the-checkout-below-the-named-path"),
    ],
)
def test_a_symlinked_folder_leading_out_of_the_checkout_is_refused(tmp_path, fixture, link):
    root = copy_fixture(fixture, tmp_path / "repo")
    outside = move_out(root, link, tmp_path / "elsewhere")
    before_inside, before_outside = snapshot(root), snapshot(outside)
    commands = [["apply", root], ["revert", root], ["check", root], ["diff", root]]
    if link != "rl":  # a file named through a link above its checkout is the user's own way to it (as /tmp -> /private/tmp)
        commands.append(["apply", target_files(fixture, root)[0]])
    for args in commands:
        line = assert_refused(run_cli(*args), "outside the checkout")
        assert link.split("/")[-1] in line
        assert snapshot(root) == before_inside and snapshot(outside) == before_outside, args
    assert not (root / ".llmfix").exists() and not (outside / ".llmfix").exists()
    assert not (outside.parent / ".llmfix").exists()


def test_a_symlinked_folder_that_stays_inside_the_checkout_is_followed(tmp_path):
    root = copy_fixture(FIXTURE, tmp_path / "repo")
    utils = root / "open_instruct" / "search_rewards" / "utils"
    real = utils.with_name("real_utils")
    utils.rename(real)
    utils.symlink_to("real_utils", target_is_directory=True)  # relative, stays inside
    originals = {p.name: p.read_bytes() for p in real.iterdir()}
    applied = run_cli("apply", root)
    assert applied.returncode == 0, applied.stderr
    assert utils.is_symlink() and {p.name: p.read_bytes() for p in real.iterdir()} != originals
    reverted = run_cli("revert", root)
    assert reverted.returncode == 0, reverted.stderr
    assert utils.is_symlink() and {p.name: p.read_bytes() for p in real.iterdir()} == originals


def test_a_link_out_made_after_discovery_is_caught_by_the_write_path(tmp_path):
    """The write path checks again: a folder swapped for a link out between planning and writing."""
    from llmfix.errors import BadInput
    from llmfix.writing import PendingWrite, write_group

    root = copy_fixture(FIXTURE, tmp_path / "repo")
    path = target_files(FIXTURE, root)[0]
    old = path.read_bytes()
    outside = move_out(root, "open_instruct/search_rewards/utils", tmp_path / "elsewhere")
    with pytest.raises(BadInput, match="outside the checkout"):
        write_group(root, [PendingWrite(path, old, old + b"# new\n")], "apply")
    assert (outside / path.name).read_bytes() == old
    assert sorted(p.name for p in outside.iterdir()) == ["rubric_utils.py", "run_utils.py"]


# VmHWM, the peak of this process's own memory: ru_maxrss would carry the parent's peak over exec
# (a pytest worker that has run hundreds of tests starts the child already at its size).
PEAK_CHILD = """
import atexit, runpy, sys
peak_file = sys.argv.pop(1)
def peak():
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    open(peak_file, "w").write(line.split()[1])
atexit.register(peak)
sys.argv[0] = "llmfix"
runpy.run_module("llmfix", run_name="__main__", alter_sys=True)
"""


def run_measured(peak_file: Path, *args) -> tuple[subprocess.CompletedProcess, int]:
    """``llmfix ARGS`` in a child process, and that child's peak resident memory in bytes."""
    result = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(peak_file), *map(str, args)], capture_output=True, text=True, timeout=120)
    return result, int(peak_file.read_text()) * 1024  # VmHWM is in KiB


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read from Linux's /proc/self/status")
@pytest.mark.parametrize("named", ["checkout", "file"])
def test_a_huge_sparse_target_is_refused_before_it_is_read(tmp_path, named):
    root = copy_fixture(FIXTURE, tmp_path / "repo")
    run_utils = target_files(FIXTURE, root)[0]
    with open(run_utils, "r+b") as handle:
        handle.truncate(1 << 30)  # 1 GiB, sparse: the real text, then holes
    before = {p: p.stat().st_size for p in root.rglob("*.py")}
    for command in ("apply", "check", "diff", "revert"):
        result, peak = run_measured(tmp_path / f"peak-{command}", command, root if named == "checkout" else run_utils)
        assert_refused(result, "run_utils.py", f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB")
        assert peak < 256 * 1024 * 1024, f"{command}: peak memory {peak >> 20} MiB: the file was read"
    assert {p: p.stat().st_size for p in root.rglob("*.py")} == before
    assert not (root / ".llmfix").exists()


def test_a_target_just_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    from llmfix import sourcetext

    assert getattr(sourcetext, "MAX_SOURCE_BYTES", None) == MAX_SOURCE_BYTES
    root = copy_fixture(FIXTURE, tmp_path / "repo")
    rubric = target_files(FIXTURE, root)[1]
    text = rubric.read_bytes()
    padding = MAX_SOURCE_BYTES - len(text)
    rubric.write_bytes(text + b"#" * (padding - 1) + b"\n")  # exactly the cap
    assert len(rubric.read_bytes()) == MAX_SOURCE_BYTES
    result = run_cli("check", root)
    assert result.returncode in (0, 1), result.stderr
    rubric.write_bytes(text + b"#" * padding + b"\n")  # one byte over
    assert_refused(run_cli("check", root), "rubric_utils.py", "MiB")
