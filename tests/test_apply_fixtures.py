"""apply/check/diff/revert on every fixture checkout, against the golden patches.

``patches/NAME.diff`` is exactly what ``llmfix diff fixtures/NAME`` prints (refresh and
review with ``python tests/refresh_patches.py``): the hunks of the upstream target files
and the support module ``litellm_utils.py`` as a new file. The golden pins every byte
the patch writes (CRLF, missing final newlines, non-ASCII, quote styles, line length),
so nothing here re-checks what the patch looks like. Per fixture, on a fresh copy:

- ``llmfix diff`` prints the golden; ``check`` exits 1 and writes nothing;
- ``apply`` writes exactly the golden (the real ``git apply`` of it onto another fresh
  copy gives the same bytes) plus llmfix's record folder ``.llmfix/`` at the checkout root;
- every file apply wrote compiles and imports the support module it calls; a second
  ``apply`` changes no byte; ``check`` exits 0;
- ``revert`` gives back every byte: the files, and the absence of ``litellm_utils.py``
  and ``.llmfix/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ALL_FIXTURES, CATALOG, PATCHABLE, PATCHES, RECORD, checkout_root, copy_fixture, git, invoke, snapshot, support_module, unbound_support_uses

RECORD_FOLDER = {".llmfix/record.json", ".llmfix/.gitignore"}


@dataclass
class Lifecycle:
    """One fixture taken through diff, check, apply, apply, check, revert (snapshots in between)."""

    name: str
    copy: Path
    pristine: dict[str, bytes]
    diff: str
    check_before: tuple[int, dict[str, bytes]]
    applied: dict[str, bytes]
    second_apply: tuple[int, dict, dict[str, bytes]]
    check_after: tuple[int, str]
    reverted: tuple[int, str, dict[str, bytes]]

    def record_folder(self) -> str:
        """``.llmfix`` relative to the copy (it sits at the checkout root, ``root_subdir``)."""
        return (Path(CATALOG[self.name]["root_subdir"]) / ".llmfix").as_posix().removeprefix("./")


def run_lifecycle(name: str, tmp_path: Path) -> Lifecycle:
    copy = copy_fixture(name, tmp_path / "work")
    pristine = snapshot(copy)
    diff = invoke("diff", copy)
    assert diff.exit_code == 0, diff.stderr
    check = invoke("check", copy)
    check_before = (check.exit_code, snapshot(copy))
    first = invoke("apply", copy)
    assert first.exit_code == 0, first.stderr
    applied = snapshot(copy)
    second = invoke("apply", copy, "--json")
    second_apply = (second.exit_code, json.loads(second.stdout), snapshot(copy))
    after = invoke("check", copy)
    reverted = invoke("revert", copy)
    return Lifecycle(
        name, copy, pristine, diff.stdout_bytes.decode("utf-8"), check_before, applied, second_apply,
        (after.exit_code, after.stdout), (reverted.exit_code, reverted.stdout + reverted.stderr, snapshot(copy)),
    )  # fmt: skip


@pytest.fixture(scope="module")
def lifecycles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Lifecycle]:
    cache: dict[str, Lifecycle] = {}

    def get(name: str) -> Lifecycle:
        if name not in cache:
            cache[name] = run_lifecycle(name, tmp_path_factory.mktemp(name))
        return cache[name]

    return get  # type: ignore[return-value]


def golden(name: str) -> str:
    return (PATCHES / f"{name}.diff").read_bytes().decode("utf-8")


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_diff_is_the_golden_patch(lifecycles, name):
    assert lifecycles(name).diff == golden(name), "codemod output changed: review, then run python tests/refresh_patches.py"


@pytest.mark.parametrize("name", PATCHABLE)
def test_check_exits_1_before_apply_and_writes_nothing(lifecycles, name):
    run = lifecycles(name)
    code, after = run.check_before
    assert code == 1
    assert after == run.pristine


@pytest.mark.parametrize("name", PATCHABLE)
def test_apply_writes_exactly_the_golden_patch_and_the_record(lifecycles, name, tmp_path):
    run = lifecycles(name)
    expected = copy_fixture(name, tmp_path)
    patch = tmp_path / "golden.diff"
    patch.write_bytes((PATCHES / f"{name}.diff").read_bytes())
    git(expected, "-c", "core.autocrlf=false", "apply", "--whitespace=nowarn", str(patch))
    folder = run.record_folder()
    written = {path: data for path, data in run.applied.items() if not path.startswith(folder + "/")}
    assert written == snapshot(expected)
    assert {path.removeprefix(folder + "/") for path in run.applied if path.startswith(folder + "/")} == {p.removeprefix(".llmfix/") for p in RECORD_FOLDER}
    record = json.loads(run.applied[f"{folder}/record.json"])
    assert record["version"] == 1 and len(record["support"]) == 64


@pytest.mark.parametrize("name", PATCHABLE)
def test_every_file_apply_writes_compiles_and_imports_what_it_calls(lifecycles, name):
    run = lifecycles(name)
    changed = [path for path, data in run.applied.items() if path.endswith(".py") and run.pristine.get(path) != data]
    assert support_module(name, Path(".")).as_posix().removeprefix("./") in changed
    for path in changed:
        compile(run.applied[path], path, "exec", dont_inherit=True)
        assert unbound_support_uses(run.applied[path]) == [], f"{path} calls litellm_utils without importing it"


@pytest.mark.parametrize("name", PATCHABLE)
def test_a_second_apply_changes_nothing_and_check_passes(lifecycles, name):
    run = lifecycles(name)
    code, report, after = run.second_apply
    assert code == 0
    assert [f["path"] for f in report["files"] if f["changed"]] == []
    assert {o["status"] for f in report["files"] for o in f["transforms"].values()} <= {"already-present", "not-applicable"}
    assert after == run.applied
    check_code, check_output = run.check_after
    assert check_code == 0, check_output


@pytest.mark.parametrize("name", PATCHABLE)
def test_revert_gives_back_every_byte(lifecycles, name):
    run = lifecycles(name)
    code, output, after = run.reverted
    assert code == 0, output
    assert after == run.pristine  # so no litellm_utils.py and no .llmfix/ either


def test_a_checkout_without_helpers_is_left_alone(tmp_path):
    name = "no-helpers"
    root = copy_fixture(name, tmp_path)
    before = snapshot(root)
    assert golden(name) == ""
    result = invoke("apply", root)
    assert result.exit_code == 0 and "nothing to patch" in result.stdout
    assert invoke("check", root).exit_code == 0
    assert snapshot(root) == before
    assert not support_module(name, root).exists() and not (checkout_root(name, root) / RECORD).exists()
