"""llmfix reads and writes only inside the checkout, and only files of a sane size.

A folder on the way to a target that is a symbolic link out of the checkout
(``open_instruct/search_rewards/utils -> /elsewhere/utils``, or ``open_instruct``
itself) is refused by discovery: one line on stderr, exit 2, nothing written
inside or outside. A symlinked folder whose real path stays inside the checkout
is followed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import copy_fixture, run_cli, snapshot, target_files

FIXTURE = "upstream-sep2025"  # open_instruct/search_rewards/utils/{run_utils,rubric_utils}.py at the fixture root
DRTULU = "drtulu-canonical"  # rl/open-instruct/open_instruct/search_rewards/utils/...


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
