"""No call site gets more requests than llmfix says: each retry-layer shape against a real endpoint that always fails.

The judge transform adds ``num_retries`` only where no retry layer exists (a hand loop, a
tenacity-style ``@retry``); its behaviour change states how many requests a dead endpoint
gets. Here each shape is patched, imported with the support module beside it, and called
through real litellm against MockLLM answering 429 with a 1 ms ``retry-after-ms`` (the OpenAI
SDK honours a positive server delay; a zero one falls back to its 0.5 s, 1 s, 2 s ... back-off);
the endpoint's request count must be the stated number, and the unpatched code's count the
stated "before".
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
import textwrap
import uuid

import libcst as cst
import pytest

from llmfix.codemods import support
from llmfix.codemods.context import FileContext
from llmfix.codemods.edits import Edits, apply_edits
from llmfix.codemods.judge import JudgeTransform
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style

RETRY_LIKE = '''
import functools


def stop_after_attempt(attempts):
    return attempts


def retry(stop):
    """A tenacity-shaped decorator: the call again, up to ``stop`` attempts in all."""
    def decorate(function):
        @functools.wraps(function)
        async def again(*args, **kwargs):
            for attempt in range(stop):
                try:
                    return await function(*args, **kwargs)
                except Exception:
                    if attempt == stop - 1:
                        raise
        return again
    return decorate
'''

SHAPES = {
    "hand loop of 3": '''
        from litellm import acompletion


        async def judge(model):
            for attempt in range(3):
                try:
                    response = await acompletion(model=model, messages=[{"role": "user", "content": "x"}])
                    return response.choices[0].message.content
                except Exception:
                    if attempt == 2:
                        return "0.0"
            return "0.0"
        ''',
    "tenacity-style retry of 2": '''
        from litellm import acompletion

        from {package}.retrying import retry, stop_after_attempt


        @retry(stop=stop_after_attempt(2))
        async def judge(model):
            response = await acompletion(model=model, messages=[{"role": "user", "content": "x"}])
            return response.choices[0].message.content
        ''',
    "no retry layer": '''
        import litellm


        async def judge(model):
            response = await litellm.acompletion(model=model, messages=[{"role": "user", "content": "x"}])
            return response.choices[0].message.content
        ''',
    "its own num_retries=1": '''
        import litellm


        async def judge(model):
            response = await litellm.acompletion(model=model, messages=[{"role": "user", "content": "x"}], num_retries=1)
            return response.choices[0].message.content
        ''',
}


def _patched(source: str, package: str) -> tuple[str, str]:
    """(patched source, the stated requests ``after`` and ``before`` text)."""
    module = cst.parse_module(source)
    file = FileContext(module, Style.for_module(module), dotted_name=f"{package}.judges")
    edits = Edits()
    outcome = JudgeTransform(Settings.build(flags={"only": ["judge"]})).plan(file, edits)
    (change,) = outcome.changes
    return apply_edits(file, [edits]).code, change.text


def _stated(text: str) -> tuple[int, int]:
    """(requests after, requests before) from the behaviour change's words."""
    after = int(re.search(r"a dead endpoint gets (\d+) requests", text).group(1))
    before = re.search(r"instead of (\d+) requests", text)
    return after, int(before.group(1)) if before else after


def _count(folder, monkeypatch, mock_llm, source: str, package: str) -> int:
    """Requests the endpoint gets from one call of ``judge`` in ``source`` (imported as ``package.judges``)."""
    (folder / package).mkdir(parents=True)
    for name, text in (("__init__.py", ""), ("retrying.py", RETRY_LIKE), (support.FILE_NAME, support.text()), ("judges.py", source)):
        (folder / package / name).write_text(text)
    monkeypatch.syspath_prepend(str(folder))
    mock_llm.reset()
    mock_llm.retry_after = 0.001  # every retry still made, after a 1 ms server-directed wait
    mock_llm.plan("m", ["429"] * 100)
    try:
        asyncio.run(importlib.import_module(f"{package}.judges").judge("openai/m"))
    except Exception:
        pass  # a layer that gives up raises or returns its default: either way, count what reached the endpoint
    finally:
        for name in [n for n in sys.modules if n.startswith(package)]:
            del sys.modules[name]
    return mock_llm.attempts("m")


@pytest.mark.parametrize("shape", SHAPES)
def test_the_endpoint_gets_exactly_the_stated_requests(shape, tmp_path, monkeypatch, mock_llm):
    monkeypatch.setenv("OPENAI_API_BASE", mock_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LITELLM_NUM_RETRIES", "2")  # the patched default of a call without a retry layer, kept small
    package = f"retry_layer_{uuid.uuid4().hex[:8]}"
    source = textwrap.dedent(SHAPES[shape]).lstrip().replace("{package}", package)
    patched, said = _patched(source, package)
    after, before = _stated(said)
    assert _count(tmp_path / "before", monkeypatch, mock_llm, source, package) == before, said
    if "num_retries=litellm_utils" in patched:  # no layer: retries from the environment, 1 + LITELLM_NUM_RETRIES requests
        assert after == 1 + 10 and before == 1 + 2, said
        after = 1 + 2
    assert _count(tmp_path / "after", monkeypatch, mock_llm, patched, package) == after, said
