"""What a retries Change says restores the old default does, measured against a failing endpoint.

The source and its patched text run as ``open_instruct.rubrics.run_utils`` beside the support
module (as ``llmfix apply`` lays them out); one call against an endpoint that always answers
500 makes as many requests after the patch, with the Change's ``restore`` settings, as before.
"""

from __future__ import annotations

import importlib
import sys

import pytest
from harness import run_transform

from llmfix.codemods import support
from llmfix.codemods.retries import RetriesTransform

SOURCE = """\
import litellm


def run_litellm(model_name, **kw):
    {line}return litellm.completion(model=model_name, messages=[{{"role": "user", "content": "hi"}}], timeout=5, **kw)
"""


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A folder holding ``open_instruct/rubrics/`` with the support module; yields a loader for run_utils texts."""
    package = tmp_path / "open_instruct" / "rubrics"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / support.FILE_NAME).write_text(support.text(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(text: str):
        for name in [n for n in sys.modules if n == "open_instruct" or n.startswith("open_instruct.")]:
            del sys.modules[name]
        (package / "run_utils.py").write_text(text, encoding="utf-8")
        importlib.invalidate_caches()
        return importlib.import_module("open_instruct.rubrics.run_utils")

    yield load
    for name in [n for n in sys.modules if n == "open_instruct" or n.startswith("open_instruct.")]:
        del sys.modules[name]


def _attempts(module, mock_llm, model: str) -> int:
    with pytest.raises(Exception):  # noqa: B017 - without tenacity a failed sync call with retries raises a plain Exception
        module.run_litellm(f"openai/{model}")
    return mock_llm.attempts(model)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('kw["num_retries"] = kw.get("num_retries", 1)\n    ', id="a literal"),
        pytest.param("", id="none set"),  # the OpenAI SDK's own 2 retries
    ],
)
def test_the_restoring_setting_gives_back_the_old_number_of_requests(checkout, mock_llm, monkeypatch, line):
    monkeypatch.setenv("OPENAI_API_BASE", mock_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.delenv("LITELLM_NUM_RETRIES", raising=False)
    mock_llm.default = "500"
    before = SOURCE.format(line=line)
    run = run_transform(RetriesTransform, before)
    (change,) = run.outcome.changes
    old = _attempts(checkout(before), mock_llm, "before")
    for variable, value in change.restore:
        monkeypatch.setenv(variable, value)
    assert _attempts(checkout(run.output), mock_llm, "after") == old
