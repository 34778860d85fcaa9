"""precheck: the functions it adds to run_utils and the await it adds to the generator."""

import asyncio
import sys

import pytest

from llmfix.codemods import ALREADY_PRESENT, APPLIED, NOT_APPLICABLE
from llmfix.codemods.precheck import PrecheckTransform

from harness import run_transform

RUN_UTILS = """\
import litellm

async def run_litellm_async(model_name, **chat_kwargs):
    return await litellm.acompletion(model=model_name, **chat_kwargs)

def later():
    pass
"""


def test_run_utils_gains_the_check_after_the_last_helper():
    new, outcome = run_transform(PrecheckTransform, RUN_UTILS)
    assert outcome.status == APPLIED
    assert new.index("async def ensure_litellm_connection(") < new.index("def later():")
    assert new.index("async def run_litellm_async(") < new.index("async def check_litellm_connection(")
    for name in ("asyncio", "logging", "os", "re"):
        assert f"import {name}\n" in new
    assert "_fallback_models_from_env" not in new  # no fallbacks helper in this file
    again, second = run_transform(PrecheckTransform, new)
    assert again == new and second.status == ALREADY_PRESENT


def test_lazy_litellm_binding_is_copied_into_the_check():
    source = RUN_UTILS.replace("import litellm\n", "def _get_litellm():\n    import litellm\n    return litellm\n").replace(
        "    return await litellm", "    litellm = _get_litellm()\n    return await litellm"
    )
    new, _ = run_transform(PrecheckTransform, source)
    check = new[new.index("async def _litellm_connection_error") :]
    assert "    litellm = _get_litellm()\n" in check.split("try:")[0]


GENERATOR = """\
from open_instruct.search_rewards.utils.run_utils import (
    extract_json_from_response,
    run_litellm_async,
)

async def gen(question, model_name=None):
    if model_name is None:
        model_name = "gpt-4.1"
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=question)
        obj = extract_json_from_response(resp)
        return obj
    except Exception:
        return None
"""


def test_generator_awaits_the_check_outside_its_try(check_transform):
    check_transform(
        PrecheckTransform,
        GENERATOR,
        GENERATOR.replace(
            "    run_litellm_async,\n)\n",
            "    run_litellm_async,\n)\nfrom open_instruct.search_rewards.utils.run_utils import ensure_litellm_connection\n",
        ).replace(
            '        model_name = "gpt-4.1"\n    try:',
            '        model_name = "gpt-4.1"\n    await ensure_litellm_connection(model_name)\n    try:',
        ),
        APPLIED,
    )


def test_module_attribute_call_uses_the_same_module(check_transform):
    check_transform(
        PrecheckTransform,
        """\
        from pkg import run_utils as ru
        async def gen(q, model_name="m"):
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        """\
        from pkg import run_utils as ru
        async def gen(q, model_name="m"):
            await ru.ensure_litellm_connection(model_name)
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        APPLIED,
    )


def test_no_helper_no_generator(check_transform):
    check_transform(PrecheckTransform, "import os\n", None, NOT_APPLICABLE)


@pytest.fixture
def precheck_namespace(monkeypatch):
    """The inserted functions, run against a stand-in acompletion that counts calls."""
    new, _ = run_transform(PrecheckTransform, RUN_UTILS)
    calls = []

    class FakeLiteLLM:
        outcome = None

        @staticmethod
        async def acompletion(**kwargs):
            calls.append(kwargs)
            await asyncio.sleep(0.01)
            if FakeLiteLLM.outcome is not None:
                raise FakeLiteLLM.outcome

    monkeypatch.setitem(sys.modules, "litellm", FakeLiteLLM)  # the patched module's `import litellm`
    namespace: dict = {"__name__": "patched_run_utils"}
    exec(compile(new, "patched", "exec"), namespace)
    monkeypatch.delenv("LITELLM_PRECHECK", raising=False)
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("https_proxy", "http://user:secret@127.0.0.1:3128")
    return namespace, calls, FakeLiteLLM


def test_concurrent_callers_share_one_check(precheck_namespace):
    namespace, calls, _ = precheck_namespace

    async def main():
        await asyncio.gather(*(namespace["ensure_litellm_connection"]("m") for _ in range(5)))
        await namespace["ensure_litellm_connection"]("m")

    asyncio.run(main())
    assert len(calls) == 1
    assert calls[0]["max_tokens"] == 1 and calls[0]["num_retries"] == 0 and calls[0]["model"] == "m"


def test_failure_names_endpoint_proxy_and_model(precheck_namespace):
    namespace, calls, fake = precheck_namespace
    try:
        raise OSError("Connection refused")
    except OSError as root:
        try:
            raise RuntimeError("Connection error.") from root
        except RuntimeError as error:
            fake.outcome = error
    with pytest.raises(namespace["LiteLLMConnectionError"]) as raised:
        asyncio.run(namespace["ensure_litellm_connection"]("gpt-x"))
    message = str(raised.value)
    assert "'gpt-x'" in message and "http://127.0.0.1:9/v1" in message
    assert "https_proxy=http://***@127.0.0.1:3128" in message and "secret" not in message
    assert "root cause: OSError: Connection refused" in message


@pytest.mark.parametrize(("mode", "raises", "expected_calls"), [("0", False, 0), ("warn", False, 1), ("1", True, 1)])
def test_precheck_modes(precheck_namespace, monkeypatch, mode, raises, expected_calls):
    namespace, calls, fake = precheck_namespace
    fake.outcome = RuntimeError("down")
    monkeypatch.setenv("LITELLM_PRECHECK", mode)
    try:
        asyncio.run(namespace["ensure_litellm_connection"]("m"))
        raised = False
    except namespace["LiteLLMConnectionError"]:
        raised = True
    assert raised is raises
    assert len(calls) == expected_calls


def test_existing_import_is_reused_after_a_merge(check_transform):
    """A merge can keep llmfix's import line while upstream rewrote the generator."""
    check_transform(
        PrecheckTransform,
        """\
        from pkg.run_utils import extract_json_from_response, run_litellm_async
        from pkg.run_utils import ensure_litellm_connection
        async def gen(q, model_name="m"):
            resp = await run_litellm_async(model_name, q)
            return extract_json_from_response(resp)
        """,
        """\
        from pkg.run_utils import extract_json_from_response, run_litellm_async
        from pkg.run_utils import ensure_litellm_connection
        async def gen(q, model_name="m"):
            await ensure_litellm_connection(model_name)
            resp = await run_litellm_async(model_name, q)
            return extract_json_from_response(resp)
        """,
        APPLIED,
    )


def test_model_and_fallbacks_are_checked_at_once(monkeypatch):
    """A blackholed endpoint costs one timeout, not one per model: the checks overlap."""
    from llmfix.codemods.fallbacks import FallbacksTransform

    source = RUN_UTILS.replace("    return await litellm", '    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])\n    return await litellm')
    patched, _ = run_transform(FallbacksTransform, source)
    patched, _ = run_transform(PrecheckTransform, patched)
    started, sequential = [], []

    class OverlapOnly:
        """Every check waits until both have started; checked one after the other, they never would."""

        @staticmethod
        async def acompletion(**kwargs):
            started.append(kwargs["model"])
            for _ in range(200):
                if len(started) >= 2:
                    break
                await asyncio.sleep(0.01)
            else:
                sequential.append(kwargs["model"])
                raise TimeoutError("the other check never started")
            if kwargs["model"] == "primary":
                raise ConnectionError("blackholed")

    monkeypatch.setitem(sys.modules, "litellm", OverlapOnly)
    monkeypatch.setenv("LITELLM_FALLBACK_MODELS", "backup")
    monkeypatch.delenv("LITELLM_PRECHECK", raising=False)
    namespace: dict = {"__name__": "patched_run_utils"}
    exec(compile(patched, "patched", "exec"), namespace)
    asyncio.run(namespace["ensure_litellm_connection"]("primary"))  # the fallback answers: no raise
    assert sorted(started) == ["backup", "primary"]
    assert sequential == []
