"""guards: before/after pairs for helpers and the rubric generator."""

from llmfix.codemods import ALREADY_PRESENT, APPLIED, NOT_APPLICABLE
from llmfix.codemods.guards import GuardsTransform

HELPER_WARNING = 'logging.getLogger(__name__).warning("{name}: LiteLLM returned no message content; returning an empty string")'


def test_helper_return_gets_a_guard(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm

        def run_litellm(model_name, msgs, **chat_kwargs):
            try:
                response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
            except:
                return ""
            return response.choices[0].message.content
        """,
        f"""\
        import litellm
        import logging

        def run_litellm(model_name, msgs, **chat_kwargs):
            try:
                response = litellm.completion(messages=msgs, model=model_name, **chat_kwargs)
            except:
                return ""
            if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
                {HELPER_WARNING.format(name="run_litellm")}
                return ""
            return response.choices[0].message.content
        """,
        APPLIED,
    )


def test_wrapper_of_a_raw_helper_is_guarded(check_transform):
    outcome = check_transform(
        GuardsTransform,
        """\
        import logging
        import litellm

        async def raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)

        async def run(m, **kw):
            try:
                resp = await raw(m, **kw)
            except Exception:
                return ""
            return resp.choices[0].message.content
        """,
        f"""\
        import logging
        import litellm

        async def raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)

        async def run(m, **kw):
            try:
                resp = await raw(m, **kw)
            except Exception:
                return ""
            if not resp.choices or resp.choices[0].message is None or resp.choices[0].message.content is None:
                {HELPER_WARNING.format(name="run")}
                return ""
            return resp.choices[0].message.content
        """,
        APPLIED,
    )
    assert "run()" in outcome.reason and "raw()" not in outcome.reason


def test_existing_full_guard_is_recognised(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm
        def f(m, **kw):
            try:
                response = litellm.completion(model=m, **kw)
            except Exception:
                return ""
            if (
                not response.choices
                or response.choices[0].message is None
                or response.choices[0].message.content is None
            ):
                return ""
            return response.choices[0].message.content
        """,
        None,
        ALREADY_PRESENT,
    )


def test_guard_without_content_check_is_completed(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import litellm
        def f(m, **kw):
            try:
                response = litellm.completion(model=m, **kw)
            except Exception:
                return ""
            if not response.choices or response.choices[0].message is None:
                return ""
            return response.choices[0].message.content
        """,
        """\
        import litellm
        def f(m, **kw):
            try:
                response = litellm.completion(model=m, **kw)
            except Exception:
                return ""
            if not response.choices or response.choices[0].message is None:
                return ""
            return response.choices[0].message.content or ""
        """,
        APPLIED,
    )


GENERATOR = """\
import os
from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async

async def make_rubrics(question, model_name=os.environ.get("RUBRIC_GENERATION_MODEL", "gpt-4.1")):
    prompt = question
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        obj = extract_json_from_response(resp)
    except Exception as e:
        print(f"Response: {resp}")
        return None
    return obj

async def score(question, model_name="gpt-4.1"):
    resp = await run_litellm_async(model_name=model_name, user_prompt=question)
    obj = extract_json_from_response(resp)
    return float(obj["score"]) if obj else 0.0
"""


def test_generator_guard_and_binding(check_transform):
    outcome = check_transform(
        GuardsTransform,
        GENERATOR,
        GENERATOR.replace(
            "from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async\n",
            "from open_instruct.rubrics.run_utils import extract_json_from_response, run_litellm_async\nimport logging\n",
        ).replace(
            """\
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
""",
            """\
    resp = None
    try:
        resp = await run_litellm_async(model_name=model_name, user_prompt=prompt)
        if not resp:
            logging.getLogger(__name__).warning(
                "Rubric generation got an empty response from model %s; returning None", model_name
            )
            return None
""",
        ),
        APPLIED,
    )
    # the judge returns a score, not the parsed object: it is not the generator
    assert "make_rubrics()" in outcome.reason and "score()" not in outcome.reason


def test_generator_with_hand_written_guard(check_transform):
    check_transform(
        GuardsTransform,
        """\
        async def gen(q, model_name="m"):
            resp = await call(model_name, q)
            if resp is None or not resp.strip():
                return None
            obj = extract_json_from_response(resp)
            return obj
        """,
        None,
        ALREADY_PRESENT,
    )


def test_nothing_to_guard(check_transform):
    check_transform(GuardsTransform, "def f():\n    return 1\n", None, NOT_APPLICABLE)


def test_call_outside_any_try_gets_the_later_contract(check_transform):
    check_transform(
        GuardsTransform,
        """\
        import logging
        import litellm

        async def run(m, msgs, **kw):
            # the call
            async with SEM:
                response = await litellm.acompletion(messages=msgs, model=m, **kw)
            if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
                return ""
            return response.choices[0].message.content
        """,
        """\
        import logging
        import litellm

        async def run(m, msgs, **kw):
            # the call
            try:
                async with SEM:
                    response = await litellm.acompletion(messages=msgs, model=m, **kw)
            except Exception as error:
                logging.getLogger(__name__).warning("run: LiteLLM call failed (%s); returning an empty string", error)
                return ""
            if not response.choices or response.choices[0].message is None or response.choices[0].message.content is None:
                return ""
            return response.choices[0].message.content
        """,
        APPLIED,
    )


def test_raw_helper_that_returns_the_response_keeps_raising(check_transform):
    """A helper that hands back the response object re-raises by design: only readers of content are guarded."""
    check_transform(
        GuardsTransform,
        """\
        import litellm
        async def run_raw(m, **kw):
            return await litellm.acompletion(model=m, **kw)
        """,
        None,
        NOT_APPLICABLE,
    )
