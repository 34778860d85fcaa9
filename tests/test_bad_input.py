"""Bad input and drift: one clear line on stderr, exit 2, no file changed."""

from __future__ import annotations

import stat

import pytest

from support import copy_fixture, run_cli, snapshot, target_files


def assert_one_line_error(result, *words):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 1 and lines[0].startswith("llmfix: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


@pytest.fixture
def checkout(tmp_path):
    return copy_fixture("drtulu-canonical", tmp_path)


def run_utils(root):
    return target_files("drtulu-canonical", root)[0]


def test_missing_path(tmp_path):
    result = run_cli("apply", tmp_path / "nope")
    assert_one_line_error(result, "no such file")
    assert len(result.stderr.strip().splitlines()) == 1


def test_directory_without_targets(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.py").write_text("print(1)\n")
    assert_one_line_error(run_cli("apply", tmp_path / "empty"), "no open-instruct")


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"import litellm\ndef f(:\n", "syntax error"),
        (b"import litellm\nx = '\xff\xfe'\n", "not UTF-8"),
        (b"litellm\x00\x01\x02", "binary"),
    ],
)
def test_unreadable_target_changes_nothing(checkout, content, word):
    rubric = target_files("drtulu-canonical", checkout)[1]
    rubric.write_bytes(content)
    before = snapshot(checkout)
    for command in ("apply", "check", "diff"):
        result = run_cli(command, checkout)
        assert_one_line_error(result, word)
        assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(checkout) == before


def test_read_only_target_changes_nothing(checkout):
    """Even as root (which ignores permission bits) a file without write bits is left alone."""
    path = run_utils(checkout)
    path.chmod(0o444)
    before = snapshot(checkout)
    assert_one_line_error(run_cli("apply", checkout), "read-only")
    assert snapshot(checkout) == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_symlinked_target_is_refused(checkout, tmp_path):
    path = run_utils(checkout)
    real = tmp_path / "real_run_utils.py"
    real.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(real)
    before = real.read_bytes()
    assert_one_line_error(run_cli("apply", checkout), "symbolic link")
    assert real.read_bytes() == before


def test_drift_is_exit_2_and_names_transform_file_and_function(checkout):
    path = run_utils(checkout)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('chat_kwargs.get("num_retries", 5)', 'chat_kwargs.get("num_retries", RETRIES)', 1), encoding="utf-8")
    before = snapshot(checkout)
    result = run_cli("apply", checkout)
    assert_one_line_error(result, "retries", "run_utils.py", "run_litellm()", "RETRIES")
    assert snapshot(checkout) == before
    assert run_cli("check", checkout).returncode == 2


def test_unknown_transform_name(checkout):
    assert_one_line_error(run_cli("apply", checkout, "--only", "retries,bogus"), "bogus")


def test_usage_errors_are_one_line_with_exit_2():
    result = run_cli("apply")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
