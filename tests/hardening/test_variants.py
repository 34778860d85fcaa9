"""Property-based: drifted variants of every fixture family patch correctly, or not at all.

For each fixture file (one per TARGETS.md family; see fixtures/catalog.json) hypothesis
draws variants (variant_strategies.py) and variant_checks.check() asserts: planning never
raises; the patched text compiles and reads no new undefined name; each transform ends as
the unmutated fixture does (applied / already-present / not-applicable), and the change is
really in the resulting tree (read with ast, per transform: e.g. each helper's num_retries
default is ``litellm_utils.from_env("LITELLM_NUM_RETRIES", N)``, the generator awaits
``litellm_utils.ensure_connection(...)`` before its first request, outside any try);
anchor-missing edits nothing; a second apply changes nothing; revert gives the variant's
bytes back.

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
        helper_dir = next(iter(texts)).parent
        assert (helper_dir / "litellm_utils.py").is_file() == (after != texts), "a support module without a patch, or the reverse"
        assert invoke("revert", root).exit_code == 0
        assert {p: p.read_bytes() for p in texts} == texts
        assert not (helper_dir / "litellm_utils.py").exists(), "revert left the support module"

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


def _check_inside_try(text: str) -> str:
    line = "    await litellm_utils.ensure_connection(run_litellm_async, model_name=model_name, user_prompt=prompt)\n"
    return text.replace(line + "    try:\n", "    try:\n    " + line, 1)


def _last(old: str, new: str) -> Callable[[str], str]:
    """Replace the last occurrence (run_litellm_async's line in drtulu-canonical)."""
    return lambda text: new.join(text.rsplit(old, 1))


RUN_CALL = "    resp = litellm.completion(model=model_name, messages=msgs, **chat_kwargs)"
NEW_FALLBACKS = '"fallbacks", litellm_utils.fallback_models([], model_name)'
SABOTAGE = [
    ("retries", "run_utils", lambda t: t.replace('"LITELLM_NUM_RETRIES", 10)', '"LITELLM_NUM_RETRIES", 5)', 1), "a new retries line bakes 5.0, expected 10"),
    ("retries", "run_utils", _last('"LITELLM_NUM_RETRIES", 10)', '"LITELLM_NUM_RETRIES", 5)'), "baked as 5.0, expected max(10, the literal 5.0)"),
    ("retries", "run_utils", lambda t: t.replace('from_env("LITELLM_NUM_RETRIES"', 'from_env("RETRIES"', 1), "does not read LITELLM_NUM_RETRIES"),
    ("retries", "run_utils", lambda t: t.replace('litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)', "10", 1), "does not read LITELLM_NUM_RETRIES"),
    (
        "fallbacks",
        "run_utils",
        lambda t: t.replace(NEW_FALLBACKS, '"fallbacks", litellm_utils.fallback_models(["gpt-4.1-mini"], model_name)', 1),
        "no model may be added unasked",
    ),
    (
        "fallbacks",
        "run_utils",
        lambda t: t.replace(NEW_FALLBACKS, '"fallbacks", litellm_utils.fallback_models([], "gpt-4.1")', 1),
        "not a local of the function",
    ),
    (
        "fallbacks",
        "run_utils",
        lambda t: t.replace('fallback_models(["gpt-4.1-mini"], model_name)', "fallback_models([], model_name)", 1),
        "expected the site's own list ['gpt-4.1-mini']",
    ),
    ("timeout", "run_utils", lambda t: t.replace('"LITELLM_DEFAULT_TIMEOUT", 600)', '"LITELLM_DEFAULT_TIMEOUT", 60)', 1), "expected 600.0"),
    (
        "guards",
        "run_utils",
        lambda t: t.replace('        litellm_utils.log_failure("run_litellm")\n', "", 1),
        "does not start with litellm_utils.log_failure('run_litellm')",
    ),
    ("guards", "run_utils", lambda t: t.replace("litellm_utils.response_text(response)", "response.choices[0].message.content", 1), "with no guard"),
    (
        "guards",
        "run_utils",
        lambda t: t.replace("litellm_utils.response_text(response)", 'litellm_utils.response_text(response, "run")', 1),
        "does not pass just the response",
    ),
    ("guards", "run_utils", _try_around(RUN_CALL), "a try was added or removed"),
    (
        "guards",
        "run_utils",
        lambda t: t.replace(
            'print(f"Error in run_litellm_async: {e}")', 'litellm_utils.log_failure("run_litellm_async")\n        print(f"Error in run_litellm_async: {e}")', 1
        ),
        "logs it twice",
    ),
    (
        "guards",
        "rubric_utils",
        lambda t: t.replace('"Empty rubric response from model %s", model_name', '"Empty rubric response from model %s", "gpt-4.1"', 1),
        "naming the model the call uses",
    ),
    ("guards", "rubric_utils", lambda t: t.replace("    resp = None\n", "", 1), "not bound before the try"),
    (
        "precheck",
        "rubric_utils",
        lambda t: t.replace("ensure_connection(run_litellm_async, model_name=model_name", 'ensure_connection(run_litellm_async, model_name="gpt-4.1"', 1),
        "does not make the call the generator makes (`model_name=`)",
    ),
    (
        "precheck",
        "rubric_utils",
        lambda t: t.replace("ensure_connection(run_litellm_async,", "ensure_connection(run_litellm,", 1),
        "does not check through the helper the generator awaits",
    ),
    (
        "precheck",
        "rubric_utils",
        lambda t: t.replace("    await litellm_utils.ensure_connection(", "    litellm_utils.ensure_connection(", 1),
        "does not await litellm_utils.ensure_connection()",
    ),
    ("precheck", "rubric_utils", _check_inside_try, "(it is inside the try)"),
    ("health", "run_utils", lambda t: t.replace("@litellm_utils.track_calls\ndef run_litellm(", "def run_litellm(", 1), "run_litellm() is not decorated"),
    ("health", "rubric_utils", lambda t: t.replace("track_calls(raise_on_degraded=True)", "track_calls", 1), "raise_on_degraded=True"),
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


def test_the_support_import_check_catches_another_package():
    from variant_checks import Module, check_support_import, support_package

    path, root = _paths("drtulu-canonical", "run_utils")
    patched = plan(path, root, base("drtulu-canonical", "run_utils")[0]).patched
    package = support_package(path)
    assert package == "open_instruct.search_rewards.utils"
    assert check_support_import(Module(patched), package) == []
    broken = patched.replace(f"from {package} import litellm_utils", "from open_instruct import litellm_utils")
    assert check_support_import(Module(broken), package)


def test_the_revert_property_catches_a_revert_that_leaves_something(monkeypatch):
    import variant_checks

    name, kind = "drtulu-canonical", "run_utils"
    source, statuses = base(name, kind)
    path, root = _paths(name, kind)
    check(path, root, source, statuses, None)
    monkeypatch.setattr(variant_checks, "revert", lambda path, root, result: result.patched)
    with pytest.raises(AssertionError, match="revert did not give the variant's bytes back"):
        check(path, root, source, statuses, None)


def test_the_local_name_check_catches_code_reading_a_shadowed_module():
    from variant_checks import Module, check_local_names_untouched

    before = "import os\n\n\ndef f(**kw):\n    litellm_utils = kw.pop('u', None)\n    return litellm_utils\n"
    after = before.replace("    return litellm_utils\n", "    kw['timeout'] = litellm_utils.from_env('T', 1)\n    return litellm_utils\n")
    assert check_local_names_untouched(Module(before), Module(before)) == []
    assert check_local_names_untouched(Module(before), Module(after))
