"""Bad input: one clear line on stderr, exit 2, no file changed.

In-process (``invoke``), except the two cases that need the real console entry point
(``llmfix`` as installed turns every error, click's usage errors included, into one line).
"""

from __future__ import annotations

import json
import shutil
import stat

import pytest
from support import RECORD, checkout_root, copy_fixture, invoke, run_cli, snapshot, target_file

NAME = "drtulu-canonical"


def assert_one_line_error(result, *words):
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmfix: error:"), result.stderr
    for word in words:
        assert word in result.stderr


@pytest.fixture
def checkout(tmp_path):
    return copy_fixture(NAME, tmp_path)


def test_the_console_entry_point_makes_every_error_one_line(tmp_path):
    assert_one_line_error(run_cli("apply", tmp_path / "nope", cwd=tmp_path), "no such file")
    usage = run_cli("apply", "--retries", cwd=tmp_path)  # a flag without its value: click's usage error
    assert usage.returncode == 2 and len(usage.stderr.strip().splitlines()) == 1 and "Traceback" not in usage.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_directory_without_targets(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.py").write_text("print(1)\n")
    assert_one_line_error(invoke("apply", tmp_path / "empty"), "no open-instruct")


@pytest.mark.parametrize(
    ("content", "word"),
    [(b"import litellm\ndef f(:\n", "syntax error"), (b"import litellm\nx = '\xff\xfe'\n", "not UTF-8"), (b"litellm\x00\x01\x02", "binary")],
    ids=["syntax-error", "not-utf8", "binary"],
)
def test_an_unreadable_target_changes_nothing(checkout, content, word):
    target_file(NAME, checkout, "rubric_utils").write_bytes(content)
    before = snapshot(checkout)
    for command in ("apply", "check", "diff"):
        assert_one_line_error(invoke(command, checkout), word)
    assert snapshot(checkout) == before


def test_a_read_only_target_changes_nothing(checkout):
    """Even as root (which ignores permission bits) a file without write bits is left alone."""
    path = target_file(NAME, checkout, "run_utils")
    path.chmod(0o444)
    before = snapshot(checkout)
    assert_one_line_error(invoke("apply", checkout), "read-only")
    assert snapshot(checkout) == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_symlinked_target_is_refused(checkout, tmp_path):
    path = target_file(NAME, checkout, "run_utils")
    real = tmp_path / "real_run_utils.py"
    real.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(real)
    before = real.read_bytes()
    assert_one_line_error(invoke("apply", checkout), "symbolic link")
    assert real.read_bytes() == before


def test_an_unknown_transform_name(checkout):
    assert_one_line_error(invoke("apply", checkout, "--only", "retries,bogus"), "bogus")


@pytest.mark.parametrize(
    ("record", "word"),
    [
        ("{not json", "not JSON"),
        ('{"version": 9, "support": null, "notes": {}}', "not a version 1 record"),
        ('{"version": 1, "support": null, "notes": {"../outside.py": {}}}', "not a Python file inside the checkout"),
        ('{"version": 1, "support": null, "notes": {"a.py": {"retries": {"f": "x" }}}}'.replace('"x" ', '"' + "x" * 300 + '"'), "not a note llmfix writes"),
        ('{"version": 1, "support": "__import__(\'os\')", "notes": {}}', "not a SHA-256 digest"),
    ],
    ids=["not-json", "version", "path-outside", "long-note", "support-not-digest"],
)
@pytest.mark.parametrize("command", ["apply", "check", "revert"])
def test_a_malformed_record_is_refused_before_any_file_is_touched(checkouts, tmp_path, record, word, command):
    root = tmp_path / NAME
    shutil.copytree(checkouts.patched(NAME).copy, root, symlinks=True)
    (checkout_root(NAME, root) / RECORD).write_text(record, encoding="utf-8")
    before = snapshot(root)
    assert_one_line_error(invoke(command, root), "llmfix's record is unreadable", word)
    assert snapshot(root) == before


def test_a_record_of_an_earlier_llmfix_is_refused(checkout):
    folder = checkout_root(NAME, checkout) / ".llmfix"
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"version": 2, "files": {}}), encoding="utf-8")
    before = snapshot(checkout)
    assert_one_line_error(invoke("apply", checkout), "patched by an earlier llmfix")
    assert snapshot(checkout) == before
