"""Files keep their owner, group, mode, byte-order mark and line endings through apply and revert."""

from __future__ import annotations

import os
import stat

import pytest

from support import CATALOG, copy_fixture, invoke, target_files

UNUSED_UID, UNUSED_GID = 54321, 54322


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_group_and_mode_are_kept_and_the_record_belongs_to_the_checkout_owner(tmp_path):
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)
    os.chown(root, UNUSED_UID, UNUSED_GID)
    for path in files:
        os.chown(path, UNUSED_UID, UNUSED_GID)
        path.chmod(0o640)
    assert invoke("apply", root).exit_code == 0
    for path in files:
        info = path.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (UNUSED_UID, UNUSED_GID, 0o640), path.name
    for path in [root / ".llmfix", *(root / ".llmfix").iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == (UNUSED_UID, UNUSED_GID), path.name
    assert invoke("revert", root).exit_code == 0
    for path in files:
        info = path.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (UNUSED_UID, UNUSED_GID, 0o640), path.name


def test_a_byte_order_mark_and_crlf_line_endings_are_kept(tmp_path):
    name = next(n for n in sorted(CATALOG) if "crlf:run_utils" in CATALOG[n]["noise"])  # run_utils.py has CRLF line endings
    root = copy_fixture(name, tmp_path)
    run_utils, rubric = target_files(name, root)
    originals = {}
    for path in (run_utils, rubric):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        originals[path] = path.read_bytes()
    assert b"\r\n" in originals[run_utils]
    assert invoke("apply", root).exit_code == 0
    for path in (run_utils, rubric):
        data = path.read_bytes()
        assert data != originals[path] and data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b"\xef\xbb\xbf")
    patched = run_utils.read_bytes()
    assert patched.count(b"\n") == patched.count(b"\r\n")  # every line, llmfix's included, ends in CRLF
    assert invoke("check", root).exit_code == 0
    assert invoke("apply", root).exit_code == 0 and {p: p.read_bytes() for p in originals} != originals
    assert invoke("revert", root).exit_code == 0
    assert {p: p.read_bytes() for p in originals} == originals
