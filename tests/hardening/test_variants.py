"""Property-based: drifted variants of every fixture family patch correctly, or not at all.

For each fixture file (one per TARGETS.md family; see fixtures/catalog.json) hypothesis
draws variants (variant_strategies.py) and variant_checks.check() asserts: planning never
raises; the patched text compiles and reads no new undefined name; each transform ends as
the unmutated fixture does (applied / already-present / not-applicable), and the change is
really in the resulting tree; anchor-missing edits nothing; a second apply changes nothing.

    python -m pytest tests/hardening/test_variants.py -q                       # dev profile
    HYPOTHESIS_PROFILE=thorough python -m pytest tests/hardening -q            # 500 per file
"""

from __future__ import annotations

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
