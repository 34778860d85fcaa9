"""apply/check/diff on every fixture checkout: golden patches, idempotency, byte preservation."""

from __future__ import annotations

import json
import subprocess

import pytest

from support import ALL_FIXTURES, CATALOG, FIXTURES, PATCHABLE, PATCHES, copy_fixture, invoke, snapshot, target_files

from llmfix.codemods import TRANSFORM_NAMES as TRANSFORMS


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_diff_matches_the_golden_patch(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    result = invoke("diff", root)
    assert result.exit_code == 0, result.stderr
    golden = (PATCHES / f"{name}.diff").read_bytes().decode("utf-8")
    assert result.stdout_bytes.decode("utf-8") == golden, "codemod output changed: review, then run python tests/refresh_patches.py"


@pytest.mark.parametrize("name", PATCHABLE)
def test_apply_then_every_fix_is_present_and_a_second_apply_changes_no_byte(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    first = invoke("apply", root, "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    statuses = {t: o["status"] for f in report["files"] for t, o in f["transforms"].items() if o["status"] != "not-applicable"}
    assert set(statuses) == set(TRANSFORMS)
    assert "anchor-missing" not in statuses.values()
    after_first = snapshot(root)

    second = invoke("apply", root, "--json")
    assert second.exit_code == 0
    for file in json.loads(second.stdout)["files"]:
        assert not file["changed"]
        assert {o["status"] for o in file["transforms"].values()} <= {"already-present", "not-applicable"}
    assert snapshot(root) == after_first

    check = invoke("check", root)
    assert check.exit_code == 0, check.stdout


@pytest.mark.parametrize("name", PATCHABLE)
def test_check_reports_pending_fixes_with_exit_1_and_writes_nothing(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    before = snapshot(root)
    result = invoke("check", root, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["pending"] is True
    assert snapshot(root) == before


@pytest.mark.parametrize("name", PATCHABLE)
def test_only_edited_lines_change(name, tmp_path):
    """Outside the diff's own lines every byte survives: CRLF, no final newline, non-ASCII."""
    root = copy_fixture(name, tmp_path)
    originals = {p: p.read_bytes() for p in target_files(name, root)}
    assert invoke("apply", root).exit_code == 0
    for path, old in originals.items():
        new = path.read_bytes()
        old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
        # every original line not removed by the patch is still there, in order, byte for byte
        diff_lines = (PATCHES / f"{name}.diff").read_bytes().splitlines(keepends=True)
        removed = {line[1:] for line in diff_lines if line.startswith(b"-") and not line.startswith(b"---")}
        kept = [line for line in old_lines if line not in removed]
        iterator = iter(new_lines)
        assert all(any(line == candidate for candidate in iterator) for line in kept), path
        assert old.endswith(b"\n") == new.endswith(b"\n")
        if b"\r\n" in old:
            assert new.count(b"\n") == new.count(b"\r\n"), "CRLF file gained LF-only lines"


def test_no_helpers_checkout_says_there_is_nothing_to_patch(tmp_path):
    root = copy_fixture("no-helpers", tmp_path)
    result = invoke("apply", root)
    assert result.exit_code == 0
    assert "nothing to patch" in result.stdout
    assert not (root / ".llmfix").exists()


@pytest.mark.parametrize("name", PATCHABLE)
def test_git_applies_the_diff_forward_and_backward(name, tmp_path):
    root = copy_fixture(name, tmp_path)
    diff = invoke("diff", root).stdout_bytes.decode("utf-8")
    patch = tmp_path / "change.diff"
    patch.write_text(diff, encoding="utf-8", newline="")
    git = ["git", "-c", "core.autocrlf=false", "apply", "--check", "-v"]
    forward = subprocess.run([*git, str(patch)], cwd=root, capture_output=True, text=True)
    assert forward.returncode == 0, forward.stderr
    assert invoke("apply", root).exit_code == 0
    backward = subprocess.run([*git, "-R", str(patch)], cwd=root, capture_output=True, text=True)
    assert backward.returncode == 0, backward.stderr


def test_stat_counts_lines_per_file_and_per_transform(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    stat = invoke("diff", root, "--stat").stdout
    lines = stat.splitlines()
    assert any(line.strip().startswith("rl/open-instruct/open_instruct/search_rewards/utils/run_utils.py |") for line in lines)
    for transform in TRANSFORMS:
        assert any(line.strip().startswith(transform) for line in lines), transform
    assert "2 file(s) changed" in lines[-1]
    added = sum(int(line.split("|")[1].split()[0]) for line in lines if "|" in line)
    full = invoke("diff", root).stdout
    assert added == sum(1 for line in full.splitlines() if line.startswith("+") and not line.startswith("+++"))


def test_diff_output_writes_a_file_and_nothing_else(tmp_path):
    root = copy_fixture("upstream-mid2025", tmp_path)
    before = snapshot(root)
    result = invoke("diff", root, "--output", tmp_path / "out")
    assert result.exit_code == 0
    assert (tmp_path / "out" / "upstream-mid2025.diff").read_bytes().decode("utf-8") == invoke("diff", root).stdout_bytes.decode("utf-8")
    assert snapshot(root) == before


def test_target_file_paths_work_like_the_checkout(tmp_path):
    root = copy_fixture("upstream-main-split", tmp_path)
    files = target_files("upstream-main-split", root)
    assert invoke("check", *files).exit_code == 1
    assert invoke("apply", *files).exit_code == 0
    assert invoke("check", root).exit_code == 0


@pytest.mark.parametrize(
    ("options", "expected", "absent"),
    [
        (["--retries", "25"], '"LITELLM_NUM_RETRIES", "25"', None),
        (["--fallback", "a/b", "--fallback", "c"], '_fallback_models_from_env(["a/b", "c"]', None),
        (["--timeout", "30"], '"LITELLM_DEFAULT_TIMEOUT", "30"', None),
        (["--only", "retries,timeout"], "LITELLM_NUM_RETRIES", "ensure_litellm_connection"),
        (["--skip", "precheck"], "LITELLM_FALLBACK_MODELS", "ensure_litellm_connection"),
    ],
)
def test_options_shape_the_patch(tmp_path, options, expected, absent):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root, *options).exit_code == 0
    text = "".join(p.read_text(encoding="utf-8") for p in target_files("drtulu-canonical", root))
    assert expected in text
    if absent:
        assert absent not in text


def test_dry_run_writes_nothing(tmp_path):
    root = copy_fixture("drtulu-canonical", tmp_path)
    before = snapshot(root)
    result = invoke("apply", root, "--dry-run")
    assert result.exit_code == 0 and "would" in result.stdout
    assert snapshot(root) == before


def test_list_names_every_transform():
    lines = invoke("list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TRANSFORMS)


def test_catalog_covers_every_layout():
    assert {entry["layout"] for entry in CATALOG.values()} >= {"drtulu", "upstream-mid2025", "upstream-autumn2025", "upstream-main"}


def test_discovery_finds_a_checkout_buried_in_a_large_tree(tmp_path):
    import shutil

    from llmfix.discovery import discover

    for index in range(40):
        folder = tmp_path / f"pkg{index % 4}" / f"sub{index}"
        folder.mkdir(parents=True)
        (folder / "run_utils.py").write_text("import litellm  # a namesake outside open_instruct\n")
    venv = tmp_path / ".venv-x" / "lib" / "open_instruct" / "rubrics"
    venv.mkdir(parents=True)
    (venv / "run_utils.py").write_text("import litellm\n")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    shutil.copytree(FIXTURES / "upstream-main-split" / "open_instruct", tmp_path / "env" / "open_instruct")
    shutil.copytree(FIXTURES / "drtulu-canonical", tmp_path / "vendor" / "a" / "b" / "dr-tulu")
    found = sorted(t.relpath for t in discover([tmp_path]))
    assert found == [
        "vendor/a/b/dr-tulu/rl/open-instruct/open_instruct/search_rewards/utils/rubric_utils.py",
        "vendor/a/b/dr-tulu/rl/open-instruct/open_instruct/search_rewards/utils/run_utils.py",
    ]
