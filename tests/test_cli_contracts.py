"""The CLI's contracts: --json everywhere, dry runs that say "would", exit codes CI can trust,
options that shape the patch, paths that name a file or a whole tree, and a light --help.

Everything runs in-process (``invoke``) except what needs a real interpreter: the
libcst recipe the README gives, and what ``--help`` imports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from support import CATALOG, FIXTURES, REPO, copy_fixture, invoke, snapshot, support_module, target_file

from llmfix.codemods import TRANSFORM_NAMES as TRANSFORMS

NAME = "upstream-main-split"


def patched_text(name: str, root, kinds=("run_utils", "rubric_utils")) -> str:
    """Upstream target files after apply, together (by default the helpers' and the generator's)."""
    return "".join(target_file(name, root, kind).read_text(encoding="utf-8") for kind in kinds)


def test_every_file_command_speaks_json(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    for args in (["list"], ["diff", root], ["check", root], ["apply", root, "--dry-run"], ["apply", root], ["revert", root, "--dry-run"], ["revert", root]):
        result = invoke(*args, "--json")
        assert json.loads(result.stdout)["command"] == args[0], args
        assert result.exit_code in (0, 1), (args, result.stderr)


def test_dry_runs_say_would_and_write_nothing(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    before = snapshot(root)
    text = invoke("apply", root, "--dry-run").stdout
    assert "would apply" in text and "would patch" in text and " applied " not in text
    report = json.loads(invoke("apply", root, "--dry-run", "--json").stdout)
    statuses = {o["status"] for f in report["files"] for o in f["transforms"].values()}
    assert "applied" not in statuses and "pending" in statuses
    assert snapshot(root) == before
    assert invoke("apply", root).exit_code == 0
    patched = snapshot(root)
    revert = invoke("revert", root, "--dry-run")
    assert revert.exit_code == 0 and re.search(r"would revert \d+ file\(s\)", revert.stdout), revert.stdout
    assert snapshot(root) == patched


def test_diff_exit_code_is_1_while_changes_are_pending(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    assert invoke("diff", root, "--exit-code").exit_code == 1
    assert invoke("diff", root).exit_code == 0
    assert invoke("apply", root).exit_code == 0
    quiet = invoke("diff", root, "--exit-code")
    assert quiet.exit_code == 0 and quiet.stdout == ""


def test_stat_lists_only_the_files_that_change(tmp_path):
    root = copy_fixture(NAME, tmp_path)
    rubric_utils = target_file(NAME, root, "rubric_utils")
    assert invoke("apply", root, "--only", "guards").exit_code == 0
    stat = invoke("diff", root, "--stat").stdout
    assert "run_utils.py |" in stat and "rubric_utils.py |" in stat  # retries etc. pending in run_utils, precheck in rubric_utils
    assert invoke("apply", root).exit_code == 0
    lines = rubric_utils.read_text(encoding="utf-8").splitlines(keepends=True)
    rubric_utils.write_text("".join(line for line in lines if "ensure_connection(" not in line), encoding="utf-8")
    result = invoke("diff", root, "--stat")
    assert result.exit_code == 0, result.stderr
    changed = [line for line in result.stdout.splitlines() if " | " in line]
    assert len(changed) == 1 and "rubric_utils.py |" in changed[0], result.stdout
    assert "1 file(s) changed" in result.stdout


def test_diff_output_writes_one_file_and_nothing_else(tmp_path):
    root = copy_fixture("upstream-mid2025", tmp_path)
    before = snapshot(root)
    result = invoke("diff", root, "--output", tmp_path / "out")
    assert result.exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["upstream-mid2025.diff"]
    assert (tmp_path / "out" / "upstream-mid2025.diff").read_bytes() == invoke("diff", root).stdout_bytes
    assert snapshot(root) == before


@pytest.mark.parametrize("kind", ["run_utils", "rubric_utils"])
def test_naming_one_target_file_patches_its_whole_checkout(tmp_path, kind):
    root = copy_fixture(NAME, tmp_path)
    assert invoke("check", target_file(NAME, root, kind)).exit_code == 1
    assert invoke("apply", target_file(NAME, root, kind)).exit_code == 0
    assert invoke("check", root).exit_code == 0
    assert support_module(NAME, root).exists()
    assert "litellm_utils.ensure_connection(" in target_file(NAME, root, "rubric_utils").read_text(encoding="utf-8")


# What each transform leaves in run_utils.py and rubric_utils.py (and nothing else does there).
MARKERS = {
    "retries": "LITELLM_NUM_RETRIES",
    "fallbacks": "litellm_utils.fallback_models(",
    "timeout": 'litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT"',
    "guards": "litellm_utils.response_text(",
    "precheck": "litellm_utils.ensure_connection(",
    "health": "@litellm_utils.track_calls",
}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--retries", "25"], ['litellm_utils.from_env("LITELLM_NUM_RETRIES", 25)']),
        (["--fallback", "a/b", "--fallback", "c"], ['litellm_utils.fallback_models(["a/b", "c"]']),
        (["--timeout", "30"], ['litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 30)']),
    ],
)
def test_option_values_are_baked_into_the_patch(tmp_path, options, expected):
    root = copy_fixture("drtulu-canonical", tmp_path)
    assert invoke("apply", root, *options).exit_code == 0
    text = patched_text("drtulu-canonical", root)
    for snippet in expected:
        assert snippet in text


@pytest.mark.parametrize("transform", [t for t in TRANSFORMS if t in MARKERS])
def test_only_and_skip_select_transforms(tmp_path, transform):
    only, skip = copy_fixture("drtulu-canonical", tmp_path / "only"), copy_fixture("drtulu-canonical", tmp_path / "skip")
    assert invoke("apply", only, "--only", transform).exit_code == 0
    assert invoke("apply", skip, "--skip", transform).exit_code == 0
    only_text, skip_text = patched_text("drtulu-canonical", only), patched_text("drtulu-canonical", skip)
    assert [t for t, marker in MARKERS.items() if marker in only_text] == [transform]
    assert [t for t, marker in MARKERS.items() if marker not in skip_text] == [transform]
    assert invoke("check", only, "--only", transform).exit_code == 0
    assert invoke("check", skip, "--skip", transform).exit_code == 0


def test_only_and_skip_select_the_judge(checkouts, tmp_path):
    """The LLM judge (ground_truth_utils.py) is one transform: alone it changes only that file, skipped it leaves it as it was."""
    name = "drtulu-canonical"
    judge = target_file(name, checkouts.pristine(name), "ground_truth_utils").relative_to(checkouts.pristine(name)).as_posix()
    only, skip = copy_fixture(name, tmp_path / "only"), copy_fixture(name, tmp_path / "skip")
    pristine = snapshot(checkouts.pristine(name))
    assert invoke("apply", only, "--only", "judge").exit_code == 0
    assert invoke("apply", skip, "--skip", "judge").exit_code == 0
    changed = {path for path, data in snapshot(only).items() if pristine.get(path) != data}
    assert judge in changed and not any(Path(p).name in ("run_utils.py", "rubric_utils.py") for p in changed)
    assert snapshot(skip)[judge] == pristine[judge]
    assert snapshot(checkouts.patched(name).copy)[judge] != pristine[judge]


def test_list_names_every_transform():
    lines = invoke("list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TRANSFORMS)


def test_discovery_finds_a_checkout_buried_in_a_large_tree(tmp_path):
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
    assert found == sorted(f"vendor/a/b/dr-tulu/{rel}" for rel in CATALOG["drtulu-canonical"]["files"].values())


def test_the_libcst_recipe_works_from_the_users_own_checkout(tmp_path):
    """The documented `python -m libcst.tool codemod -x ...` line, from the user's checkout: a file with no support
    module beside it is skipped, unchanged and with the reason; once `llmfix apply` wrote it, the recipe works."""
    root = copy_fixture(NAME, tmp_path)
    run_utils = target_file(NAME, root, "run_utils")
    pristine = run_utils.read_bytes()
    command = [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x", "llmfix.codemods.retries.RetriesCommand", "--retries", "12", str(run_utils)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run_utils.read_bytes() == pristine
    assert "litellm_utils.py, which is not beside the file" in done.stdout + done.stderr
    assert invoke("apply", root, "--skip", "retries").exit_code == 0  # writes the support module, not the retries
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = run_utils.read_text(encoding="utf-8")
    assert 'litellm_utils.from_env("LITELLM_NUM_RETRIES", 12)' in text
    assert compile(text, str(run_utils), "exec")


def test_help_imports_no_transform_machinery():
    probe = (
        "import sys\nfrom llmfix.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'litellm') or m.startswith('llmfix.codemods')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in result.stdout, result.stdout + result.stderr


def test_every_package_folder_is_installed():
    """pyproject.toml lists packages by hand (codemods/ installs as llmfix.codemods): none may be missing."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in (("llmfix", "llmfix"), ("codemods", "llmfix.codemods")):
        for init in (REPO / top).rglob("__init__.py"):
            found.add(".".join((name, *init.parent.relative_to(REPO / top).parts)))
    assert found == listed
