"""Files keep their owner, group, mode, extended attributes, ACL, byte-order mark and line endings through apply and revert."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess

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
    run_utils, rubric, *_ = target_files(name, root)  # the catalog may list the judge file too
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


def _user_xattrs_or_skip(path) -> None:
    if not hasattr(os, "setxattr"):
        pytest.skip("this platform has no os.setxattr")
    try:
        os.setxattr(path, "user.llmfix-probe", b"1")
        os.removexattr(path, "user.llmfix-probe")
    except OSError as error:
        if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            pytest.skip(f"the temporary folder's file system does not take user.* extended attributes ({error.strerror})")
        raise


def _xattrs(path) -> dict[str, bytes]:
    return {name: os.getxattr(path, name) for name in sorted(os.listxattr(path)) if name.startswith("user.")}


def test_user_extended_attributes_survive_apply_and_revert(tmp_path):
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)
    _user_xattrs_or_skip(files[0])
    for path in files:
        os.setxattr(path, "user.origin", b"upstream " + path.name.encode())
        os.setxattr(path, "user.checksum.sha256", b"\x00\xffbinary")
    expected = {path: _xattrs(path) for path in files}
    assert invoke("apply", root).exit_code == 0
    assert {path: _xattrs(path) for path in files} == expected
    assert invoke("revert", root).exit_code == 0
    assert {path: _xattrs(path) for path in files} == expected


@pytest.mark.skipif(shutil.which("setfacl") is None or shutil.which("getfacl") is None, reason="needs setfacl/getfacl (Debian package acl)")
def test_a_posix_acl_survives_apply_and_revert(tmp_path):
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)

    def acl(path) -> str:
        return subprocess.run(["getfacl", "--omit-header", "--numeric", str(path)], capture_output=True, text=True, check=True).stdout

    for path in files:
        path.chmod(0o640)
        set_acl = subprocess.run(["setfacl", "-m", f"u:{UNUSED_UID}:rw-,g:{UNUSED_GID}:r--", str(path)], capture_output=True, text=True)
        if set_acl.returncode != 0:
            pytest.skip(f"the temporary folder's file system does not take ACLs: {set_acl.stderr.strip()}")
    expected = {path: acl(path) for path in files}
    assert all(f"user:{UNUSED_UID}:rw-" in text for text in expected.values())
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in files}
    assert invoke("apply", root).exit_code == 0
    assert {path: acl(path) for path in files} == expected
    assert {path: stat.S_IMODE(path.stat().st_mode) for path in files} == modes
    assert invoke("revert", root).exit_code == 0
    assert {path: acl(path) for path in files} == expected
    assert {path: stat.S_IMODE(path.stat().st_mode) for path in files} == modes


def test_a_user_attribute_that_cant_be_copied_fails_the_write_and_changes_nothing(tmp_path, monkeypatch):
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)
    _user_xattrs_or_skip(files[0])
    os.setxattr(files[1], "user.origin", b"upstream")
    before = {path: path.read_bytes() for path in files}
    real = os.setxattr

    def refusing(target, name, *args, **kwargs):
        if name.startswith("user."):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        return real(target, name, *args, **kwargs)

    monkeypatch.setattr(os, "setxattr", refusing)
    result = invoke("apply", root)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "user.origin" in result.stderr and "nothing was changed" in result.stderr
    assert {path: path.read_bytes() for path in files} == before
    assert not list(root.rglob("*.llmfix-tmp"))
    assert _xattrs(files[1]) == {"user.origin": b"upstream"}


@pytest.mark.skipif(os.geteuid() != 0, reason="trusted.* attributes need root")
def test_an_attribute_the_user_may_not_set_is_skipped(tmp_path, monkeypatch):
    """A trusted.* (or security.*) attribute the user lacks the privilege for is not copied, and the write goes on."""
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)
    _user_xattrs_or_skip(files[0])
    try:
        os.setxattr(files[0], "trusted.llmfix-test", b"1")
    except OSError as error:
        pytest.skip(f"the temporary folder's file system does not take trusted.* attributes ({error.strerror})")
    os.setxattr(files[0], "user.origin", b"upstream")
    real = os.setxattr

    def unprivileged(target, name, *args, **kwargs):
        if name.startswith("trusted."):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        return real(target, name, *args, **kwargs)

    monkeypatch.setattr(os, "setxattr", unprivileged)
    assert invoke("apply", root).exit_code == 0
    assert _xattrs(files[0]) == {"user.origin": b"upstream"}
    assert "trusted.llmfix-test" not in os.listxattr(files[0])
