"""precheck: the check it adds to run_utils.py and the await it adds to the generator.

The check's own behaviour (retrying a blip, caching, the report) is tested on the
runtime module (tests/runtime/test_precheck.py); here: that the block lands adapted to
the file (its litellm spelling), and where and how the generator awaits it.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import sys

import pytest

from harness import run_transform, undefined_names
from llmfix.codemods import ALREADY_PRESENT, ANCHOR_MISSING, APPLIED, NOT_APPLICABLE
from llmfix.codemods.precheck import PrecheckTransform
from llmfix.proxy import closed_port

ENSURE = "ensure_litellm_connection"
RUN_UTILS_MODULE = "open_instruct.rubrics.run_utils"
DEFINES = {RUN_UTILS_MODULE: (ENSURE, "extract_json_from_response", "run_litellm_async")}

# what the runtime support of precheck imports, and the logger it logs to (the file had none)
HEAD = """\
import asyncio
import logging
import os
import re
import socket
import ssl
import time

import litellm

logger = logging.getLogger(__name__)
"""

RUN_UTILS = """\
import litellm


async def run_litellm_async(model_name, **chat_kwargs):
    return await litellm.acompletion(model=model_name, **chat_kwargs)


def later():
    pass
"""


def _functions(source: str) -> dict[str, ast.AST]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _order(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def test_run_utils_gains_the_check_before_its_first_definition(check_transform):
    outcome = check_transform(
        PrecheckTransform,
        RUN_UTILS,
        f"{HEAD}\n\n__RUNTIME__\n\n\n" + RUN_UTILS.split("\n\n\n", 1)[1],
        APPLIED,
    )
    new, _ = run_transform(PrecheckTransform, RUN_UTILS)
    functions = _functions(new)
    for name in (ENSURE, "check_litellm_connection"):
        assert isinstance(functions[name], ast.AsyncFunctionDef), name
    assert isinstance(functions["LiteLLMConnectionError"], ast.ClassDef)
    order = _order(new)
    assert order.index(ENSURE) < order.index("run_litellm_async") < order.index("later")
    assert [c.restore for c in outcome.changes] == [(("LITELLM_PRECHECK", "0"),)]


@pytest.mark.parametrize("local", ["litellm", "llm"], ids=["same name", "renamed local"])
def test_a_lazily_imported_litellm_is_bound_the_same_way_in_the_check(local):
    """R-lazy: every inserted function that uses litellm binds it with the file's own loader first."""
    source = f"""\
def _get_litellm():
    import litellm

    return litellm


async def run_litellm_async(model_name, **chat_kwargs):
    {local} = _get_litellm()
    return await {local}.acompletion(model=model_name, **chat_kwargs)
"""
    new, outcome = run_transform(PrecheckTransform, source)
    assert outcome.status == APPLIED
    assert not undefined_names(new)
    assert "import litellm\n" not in new.split("def _get_litellm", 1)[0]  # no module-level import added
    users = [
        f for name, f in _functions(new).items()
        if name not in ("_get_litellm", "run_litellm_async") and any(isinstance(n, ast.Name) and n.id == "litellm" for n in ast.walk(f))
    ]
    assert users, "the check calls litellm somewhere"
    for function in users:
        body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert ast.unparse(body[0]) == "litellm = _get_litellm()", function.name
    again, second = run_transform(PrecheckTransform, new)
    assert again == new and second.status == ALREADY_PRESENT


def test_an_aliased_litellm_module_is_called_by_its_alias():
    source = RUN_UTILS.replace("import litellm\n", "import litellm as ll\n").replace("await litellm.", "await ll.")
    new, outcome = run_transform(PrecheckTransform, source)
    assert outcome.status == APPLIED
    assert not undefined_names(new)
    tree = ast.parse(new)
    assert not any(isinstance(n, ast.Name) and n.id == "litellm" for n in ast.walk(tree))
    assert any(isinstance(n, ast.Attribute) and n.attr == "acompletion" and isinstance(n.value, ast.Name) and n.value.id == "ll" for n in ast.walk(_functions(new)["_litellm_probe"]))


def test_an_aliased_completion_function_gets_the_module_imported():
    source = RUN_UTILS.replace("import litellm\n", "from litellm import acompletion as ac\n").replace("await litellm.acompletion(", "await ac(")
    new, outcome = run_transform(PrecheckTransform, source)
    assert outcome.status == APPLIED
    assert "import litellm\nfrom litellm import acompletion as ac\n" in new
    assert not undefined_names(new)


def _load(tmp_path, source: str, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _ensure(module, model: str) -> None:
    async def main() -> None:
        import litellm

        try:
            await module.ensure_litellm_connection(model)
        finally:
            await litellm.close_litellm_async_clients()

    asyncio.run(main())


@pytest.fixture
def llm_env(monkeypatch):
    for name in ("OPENAI_BASE_URL", "LITELLM_FALLBACK_MODELS", "LITELLM_PRECHECK", "LITELLM_PRECHECK_TIMEOUT", "LITELLM_PRECHECK_RECHECK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("LITELLM_PRECHECK_TIMEOUT", "5")
    monkeypatch.setenv("LITELLM_PRECHECK", "1")  # unset, the check is off under pytest
    return monkeypatch


@pytest.mark.parametrize(
    "source",
    [
        RUN_UTILS.replace("import litellm\n", "import litellm as ll\n").replace("await litellm.", "await ll."),
        RUN_UTILS.replace("import litellm\n", "def _get_litellm():\n    import litellm\n\n    return litellm\n").replace(
            "    return await litellm.", "    llm = _get_litellm()\n    return await llm."
        ),
    ],
    ids=["alias", "lazy"],
)
def test_the_inserted_check_runs_against_a_real_endpoint(tmp_path, mock_llm, llm_env, source):
    """The adapted block, imported from the patched file, checks a live endpoint and refuses a dead one."""
    new, _ = run_transform(PrecheckTransform, source)
    llm_env.setenv("OPENAI_API_BASE", mock_llm.base_url)
    module = _load(tmp_path, new, "patched_alive")
    _ensure(module, "openai/precheck-alive")
    assert mock_llm.attempts("precheck-alive") == 1

    llm_env.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{closed_port()}/v1")
    module = _load(tmp_path, new, "patched_dead")
    with pytest.raises(module.LiteLLMConnectionError) as raised:
        _ensure(module, "openai/precheck-dead")
    assert "openai/precheck-dead" in str(raised.value) and "ConnectionRefusedError" in str(raised.value)


GENERATOR = """\
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async


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


def test_generator_awaits_the_check_outside_its_try_and_extends_the_import(check_transform):
    check_transform(
        PrecheckTransform,
        GENERATOR,
        GENERATOR.replace("import extract_json_from_response,", f"import {ENSURE}, extract_json_from_response,").replace(
            '        model_name = "gpt-4.1"\n    try:', f'        model_name = "gpt-4.1"\n    await {ENSURE}(model_name)\n    try:'
        ),
        APPLIED,
        siblings=DEFINES,
    )


def test_an_exploded_import_keeps_its_layout(check_transform):
    before = GENERATOR.replace(
        "from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async\n",
        "from open_instruct.rubrics.run_utils import (\n    extract_json_from_response,\n    run_litellm_async,\n)\n",
    )
    check_transform(
        PrecheckTransform,
        before,
        before.replace("import (\n", f"import (\n    {ENSURE},\n").replace(
            '        model_name = "gpt-4.1"\n    try:', f'        model_name = "gpt-4.1"\n    await {ENSURE}(model_name)\n    try:'
        ),
        APPLIED,
        siblings=DEFINES,
    )


def test_g_old_checks_the_literal_model_of_its_call(check_transform):
    """G-old: no model parameter; the check names the model the call passes."""
    module = "open_instruct.search_rewards.utils.run_utils"
    check_transform(
        PrecheckTransform,
        f"""\
        from {module} import extract_json_from_response, run_litellm_async


        async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
            prompt = question
            resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
            obj = extract_json_from_response(resp)
            return obj
        """,
        f"""\
        from {module} import {ENSURE}, extract_json_from_response, run_litellm_async


        async def generate_instance_wise_adaptive_rubrics(question, response_list, existing_rubrics=None):
            prompt = question
            await {ENSURE}("gpt-4.1")
            resp = await run_litellm_async(model_name="gpt-4.1", user_prompt=prompt)
            obj = extract_json_from_response(resp)
            return obj
        """,
        APPLIED,
        siblings={module: (ENSURE,)},
    )


def test_a_stale_check_is_pointed_at_the_model_the_call_uses(check_transform):
    """After a merge renamed the model variable, the check must follow it."""
    outcome = check_transform(
        PrecheckTransform,
        f"""\
        from {RUN_UTILS_MODULE} import {ENSURE}, extract_json_from_response, run_litellm_async


        async def generate(question, judge="gpt-4.1"):
            await {ENSURE}(model_name)
            resp = await run_litellm_async(model_name=judge, user_prompt=question)
            return extract_json_from_response(resp)
        """,
        f"""\
        from {RUN_UTILS_MODULE} import {ENSURE}, extract_json_from_response, run_litellm_async


        async def generate(question, judge="gpt-4.1"):
            await {ENSURE}(judge)
            resp = await run_litellm_async(model_name=judge, user_prompt=question)
            return extract_json_from_response(resp)
        """,
        APPLIED,
        siblings=DEFINES,
    )
    assert "stale" in outcome.reason


def test_a_generator_whose_helper_module_will_not_define_the_check_is_anchor_missing(check_transform):
    """Patched alone, or with a run_utils.py that keeps no check: importing it would break the module."""
    for siblings in (None, {RUN_UTILS_MODULE: ("extract_json_from_response", "run_litellm_async")}):
        outcome = check_transform(PrecheckTransform, GENERATOR, None, ANCHOR_MISSING, siblings=siblings)
        assert RUN_UTILS_MODULE in outcome.reason and "does not define it" in outcome.reason
        assert outcome.reason.endswith("apply the rest with `--skip precheck`")


def test_a_call_whose_import_a_merge_dropped_gets_it_back(check_transform):
    source = f"""\
        from {RUN_UTILS_MODULE} import extract_json_from_response, run_litellm_async


        async def generate(question, model_name="gpt-4.1"):
            await {ENSURE}(model_name)
            resp = await run_litellm_async(model_name=model_name, user_prompt=question)
            return extract_json_from_response(resp)
        """
    check_transform(PrecheckTransform, source, source.replace("import extract_json", f"import {ENSURE}, extract_json"), APPLIED, siblings=DEFINES)
    outcome = check_transform(PrecheckTransform, source, None, ANCHOR_MISSING)
    assert "does not import it" in outcome.reason


def test_a_module_imported_whole_is_used_for_the_check(check_transform):
    check_transform(
        PrecheckTransform,
        """\
        import pkg.run_utils as ru


        async def gen(q, model_name="m"):
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        f"""\
        import pkg.run_utils as ru


        async def gen(q, model_name="m"):
            await ru.{ENSURE}(model_name)
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        APPLIED,
        siblings={"pkg.run_utils": (ENSURE,)},
    )


def test_a_module_imported_from_its_package_is_used_for_the_check(check_transform):
    check_transform(
        PrecheckTransform,
        """\
        from pkg import run_utils as ru


        async def gen(q, model_name="m"):
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        f"""\
        from pkg import run_utils as ru


        async def gen(q, model_name="m"):
            await ru.{ENSURE}(model_name)
            resp = await ru.run_litellm_async(model_name, q)
            return ru.extract_json_from_response(resp)
        """,
        APPLIED,
        siblings={"pkg.run_utils": (ENSURE,)},
    )


def test_an_existing_import_is_reused_after_a_merge(check_transform):
    check_transform(
        PrecheckTransform,
        f"""\
        from pkg.run_utils import extract_json_from_response, run_litellm_async
        from pkg.run_utils import {ENSURE}


        async def gen(q, model_name="m"):
            resp = await run_litellm_async(model_name, q)
            return extract_json_from_response(resp)
        """,
        f"""\
        from pkg.run_utils import extract_json_from_response, run_litellm_async
        from pkg.run_utils import {ENSURE}


        async def gen(q, model_name="m"):
            await {ENSURE}(model_name)
            resp = await run_litellm_async(model_name, q)
            return extract_json_from_response(resp)
        """,
        APPLIED,
        siblings={"pkg.run_utils": (ENSURE,)},
    )


def test_a_generator_next_to_its_helper_calls_the_check_by_name(check_transform):
    """One file holding both: the check is defined there, nothing to import."""
    source = """\
import litellm


async def run_litellm_async(model_name, user_prompt, **chat_kwargs):
    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content


async def generate(question, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name, question)
    return extract_json_from_response(resp)
"""
    body = source.split("\n\n\n", 1)[1]
    check_transform(
        PrecheckTransform,
        source,
        f"{HEAD}\n\n__RUNTIME__\n\n\n" + body.replace("    resp = await", f"    await {ENSURE}(model_name)\n    resp = await"),
        APPLIED,
    )


def test_a_call_without_a_model_is_anchor_missing(check_transform):
    outcome = check_transform(
        PrecheckTransform,
        f"""\
        from {RUN_UTILS_MODULE} import extract_json_from_response, run_litellm_async


        async def generate(question):
            resp = await run_litellm_async()
            return extract_json_from_response(resp)
        """,
        None,
        ANCHOR_MISSING,
        siblings=DEFINES,
    )
    assert "passes no model name" in outcome.reason


def test_no_helper_no_generator(check_transform):
    check_transform(PrecheckTransform, "import os\n", None, NOT_APPLICABLE)
