"""The harness's check can fail: each property catches a transform that breaks it."""

from __future__ import annotations

import libcst as cst
import pytest
from harness import check, shadowed_support_reads, undefined_names

from llmfix.codemods import registry
from llmfix.codemods.building import statement
from llmfix.codemods.transform import ALREADY_PRESENT, APPLIED, Outcome, Transform

SOURCE = "import litellm\n\n\ndef run(model_name, **kw):\n    return litellm.completion(model=model_name, **kw)\n"


class _Fake(Transform):
    ORDER = 1000
    SUMMARY = "a transform that breaks one property"
    LINE = "litellm_utils.noted = 1\n"
    UNDO = True
    STABLE = True

    def plan(self, file, edits):
        function = next(s for s in file.module.body if isinstance(s, cst.FunctionDef))
        if self.STABLE and "litellm_utils.noted" in file.code(function):
            return Outcome(ALREADY_PRESENT, "there")
        edits.insert_before(function.body.body[0], [statement(self.LINE, file)])
        edits.need_support()
        return Outcome(APPLIED, "changed")

    def undo(self, file, edits, noted):
        if self.UNDO:
            for function in (s for s in file.module.body if isinstance(s, cst.FunctionDef)):
                edits.remove(function.body.body[0])
        return []


@pytest.fixture
def fake():
    made = []

    def make(name, **attributes):
        made.append(name)
        return type(f"Fake{len(made)}", (_Fake,), {"NAME": name, **attributes})

    yield make
    for name in made:
        registry.unregister(name)


def _patched(line: str) -> str:
    return SOURCE.replace("import litellm\n", "import litellm\n\nfrom open_instruct.rubrics import litellm_utils\n").replace(
        "    return", f"    {line}    return"
    )


def test_the_fake_passes_when_it_breaks_nothing(fake):
    check(fake("fake-good"), SOURCE, _patched(_Fake.LINE), APPLIED)


def test_a_second_run_that_changes_the_code_is_caught(fake):
    with pytest.raises(AssertionError, match="a second run changed the code"):
        check(fake("fake-unstable", STABLE=False), SOURCE, _patched(_Fake.LINE), APPLIED)


def test_a_change_revert_does_not_take_out_is_caught(fake):
    transform = fake("fake-no-undo", UNDO=False)
    with pytest.raises(AssertionError, match="revert did not give the input back"):
        check(transform, SOURCE, _patched(_Fake.LINE), APPLIED)


def test_the_expected_text_is_compared_exactly(fake):
    with pytest.raises(AssertionError):
        check(fake("fake-expected"), SOURCE, _patched(_Fake.LINE).replace("noted = 1", "noted = 2"), APPLIED)


def test_an_undefined_name_is_caught(fake):
    line = "litellm_utils.noted = missing_name\n"
    with pytest.raises(AssertionError, match="reads undefined names: \\['missing_name'\\]"):
        check(fake("fake-undefined", LINE=line), SOURCE, _patched(line), APPLIED)


def test_undefined_names_sees_module_and_function_reads():
    assert undefined_names("import os\n\ndef f():\n    return os.environ, _missing\n") == {"_missing"}
    assert undefined_names("x = y\n") == {"y"}


def test_a_support_read_through_a_local_of_the_same_name_is_counted():
    local = "def f(litellm_utils=None):\n    return litellm_utils.from_env('X', 1)\n"
    assert shadowed_support_reads(local) == {"f": 1}
    assert shadowed_support_reads("from p import litellm_utils\n\ndef f():\n    return litellm_utils.from_env('X', 1)\n") == {}
