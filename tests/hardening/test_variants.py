"""Property-based: drifted variants of every fixture family patch correctly, or not at all.

For each fixture file (one per TARGETS.md family; see fixtures/catalog.json) hypothesis
draws variants (variant_strategies.py) and variant_checks.check() asserts: planning never
raises; the patched text compiles and reads no new undefined name; each transform ends as
the unmutated fixture does (applied / already-present / not-applicable), and the change is
really in the resulting tree (read with ast, per transform); anchor-missing edits nothing; a second
apply changes nothing.

    python -m pytest tests/hardening/test_variants.py -q                       # dev profile
    HYPOTHESIS_PROFILE=thorough python -m pytest tests/hardening -q            # 500 per file
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from hypothesis_profiles import active_profile
from support import CATALOG, FIXTURES
from variant_checks import check, plan
from variant_strategies import variants

FILES = [
    pytest.param(name, kind, id=f"{entry['families'][kind]}:{name}")
    for name, entry in sorted(CATALOG.items())
    for kind in ("run_utils", "rubric_utils")
]


def _paths(name: str, kind: str):
    root = FIXTURES / name
    return root / CATALOG[name]["files"][kind], root


@lru_cache(maxsize=None)
def base(name: str, kind: str) -> tuple[str, dict[str, str]]:
    path, root = _paths(name, kind)
    source = path.read_bytes().decode("utf-8")
    return source, {n: o.status for n, o in plan(path, root, source).outcomes.items()}


@pytest.mark.parametrize(("name", "kind"), FILES)
def test_the_fixture_itself_satisfies_the_properties(name, kind):
    source, expected = base(name, kind)
    path, root = _paths(name, kind)
    check(path, root, source, expected, CATALOG[name]["generator"])


@pytest.mark.parametrize(("name", "kind"), FILES)
@active_profile()
@given(data=st.data())
def test_variants_patch_correctly_or_not_at_all(name, kind, data):
    source, expected = base(name, kind)
    path, root = _paths(name, kind)
    text, mutations = data.draw(variants(source), label="variant")
    note(f"mutations: {', '.join(mutations) or 'none'}")
    event(f"mutations: {len(mutations)}")
    check(path, root, text, expected, CATALOG[name]["generator"])


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_variant_checkouts_through_the_cli(name, tmp_path_factory):
    """A few whole checkouts (both files drifted) through apply, check, a second apply and revert."""
    from hypothesis import settings

    from support import invoke

    sources = {kind: base(name, kind)[0] for kind in ("run_utils", "rubric_utils")}
    profile = active_profile()

    @settings(profile, max_examples=max(2, profile.max_examples // 10))
    @given(variants(sources["run_utils"]), variants(sources["rubric_utils"]))
    def run(run_utils, rubric_utils):
        root = tmp_path_factory.mktemp(name)
        texts = {}
        for kind, (text, _) in (("run_utils", run_utils), ("rubric_utils", rubric_utils)):
            path = root / CATALOG[name]["files"][kind]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            texts[path] = text.encode("utf-8")
        first = invoke("apply", root)
        assert first.exit_code == 0, first.stderr
        after = {p: p.read_bytes() for p in texts}
        assert invoke("check", root).exit_code == 0
        second = invoke("apply", root)
        assert second.exit_code == 0 and {p: p.read_bytes() for p in texts} == after
        assert invoke("revert", root).exit_code == 0
        assert {p: p.read_bytes() for p in texts} == texts

    run()


# --------------------------------------------------------------------------
# the change checks can fail: each catches its transform's change undone or made wrong
# --------------------------------------------------------------------------


def _try_around(call_line: str) -> Callable[[str], str]:
    def wrap(text: str) -> str:
        indent = call_line[: len(call_line) - len(call_line.lstrip())]
        body = "\n".join(f"    {line}" for line in call_line.splitlines())
        return text.replace(call_line, f"{indent}try:\n{body}\n{indent}except Exception:\n{indent}    return \"\"", 1)

    return wrap


RUN_CALL = "    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)"
SABOTAGE = [
    ("retries", "run_utils", lambda t: t.replace('"LITELLM_NUM_RETRIES", "10"', '"LITELLM_NUM_RETRIES", "5"', 1), "bakes 5.0, expected 10"),
    ("retries", "run_utils", lambda t: t.replace('"LITELLM_NUM_RETRIES"', '"RETRIES"', 1), "does not read LITELLM_NUM_RETRIES"),
    ("fallbacks", "run_utils", lambda t: t.replace('"fallbacks", _fallback_models_from_env([], model_name)', '"fallbacks", _fallback_models_from_env(["gpt-4.1-mini"], model_name)', 1), "no model may be added unasked"),
    ("fallbacks", "run_utils", lambda t: t.replace('"fallbacks", _fallback_models_from_env([], model_name)', '"fallbacks", _fallback_models_from_env([], "gpt-4.1")', 1), "not a local of the function"),
    ("fallbacks", "run_utils", lambda t: t.replace('_fallback_models_from_env(["gpt-4.1-mini"], model_name)', '_fallback_models_from_env([], model_name)', 1), "expected the site's own list ['gpt-4.1-mini']"),
    ("timeout", "run_utils", lambda t: t.replace('"LITELLM_DEFAULT_TIMEOUT", "600"', '"LITELLM_DEFAULT_TIMEOUT", "60"', 1), "expected LiteLLM's 600.0"),
    ("guards", "run_utils", lambda t: t.replace('        _log_litellm_failure("run_litellm")\n', "", 1), "does not start with _log_litellm_failure('run_litellm')"),
    ("guards", "run_utils", lambda t: t.replace('_litellm_response_text(response, "run_litellm")', "response.choices[0].message.content", 1), "with no guard"),
    ("guards", "run_utils", lambda t: t.replace('_litellm_response_text(response, "run_litellm")', '_litellm_response_text(response, "run")', 1), "does not name the response and this helper"),
    ("guards", "run_utils", _try_around(RUN_CALL), "a try was added or removed"),
    ("guards", "rubric_utils", lambda t: t.replace('"Empty rubric response from model %s", model_name', '"Empty rubric response from model %s", "gpt-4.1"', 1), "does not name the model"),
    ("guards", "rubric_utils", lambda t: t.replace("    resp = None\n", "", 1), "not bound before the try"),
    ("precheck", "rubric_utils", lambda t: t.replace("ensure_litellm_connection(model_name)", 'ensure_litellm_connection("gpt-4.1")', 1), "does not check the model the call uses"),
    ("precheck", "rubric_utils", lambda t: t.replace("    await ensure_litellm_connection(model_name)\n", "", 1), "does not await ensure_litellm_connection()"),
    ("precheck", "run_utils", lambda t: t.replace("async def ensure_litellm_connection(", "async def _ensure_litellm_connection(", 1), "async ensure_litellm_connection() is not defined"),
    ("health", "run_utils", lambda t: t.replace('@_litellm_tracked("run_litellm")\n', "", 1), "run_litellm() is not decorated"),
    ("health", "rubric_utils", lambda t: t.replace(", raise_on_degraded=True)", ")", 1), "raise_on_degraded=True"),
]


@pytest.mark.parametrize(("transform", "kind", "sabotage", "expected"), SABOTAGE, ids=[f"{t}:{k}:{e}" for t, k, _, e in SABOTAGE])
def test_each_change_check_catches_a_wrong_patch(transform, kind, sabotage, expected):
    from variant_checks import CHANGE_CHECKS, Module, Variant

    name = "drtulu-canonical"
    source, statuses = base(name, kind)
    path, root = _paths(name, kind)
    patched = plan(path, root, source).patched
    broken = sabotage(patched)
    assert broken != patched, "the sabotage found nothing to break"
    generator = CATALOG[name]["generator"] if kind == "rubric_utils" else None
    assert CHANGE_CHECKS[transform](Variant(Module(source), Module(patched), statuses[transform], generator)) == []
    problems = CHANGE_CHECKS[transform](Variant(Module(source), Module(broken), statuses[transform], generator))
    assert any(expected in p for p in problems), problems


def test_the_local_name_check_catches_code_reading_a_shadowed_module():
    from variant_checks import Module, check_local_names_untouched

    before = "import os\n\n\ndef f(**kw):\n    os = kw.pop('os', None)\n    return os\n"
    after = before.replace("    return os\n", "    kw['timeout'] = float(os.environ.get('T', '1'))\n    return os\n")
    assert check_local_names_untouched(Module(before), Module(before)) == []
    assert check_local_names_untouched(Module(before), Module(after))
