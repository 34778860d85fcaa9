"""Shape checks for the fixture checkouts indexed by fixtures/catalog.json.

The codemod tests trust the catalog (paths, families, generator and helper
names, noise, history, style), so these tests keep the catalog and the fixture
bytes in sync. They only parse the fixtures; nothing is imported or executed
(tests/test_fixture_*.py import, lint and run them).
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CATALOG: dict = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
NAMES = sorted(CATALOG)
KINDS = ("run_utils", "rubric_utils")

ENTRY_KEYS = {
    "chain",
    "date",
    "forked_from",
    "layout",
    "root_subdir",
    "files",
    "families",
    "generator",
    "helpers",
    "noise",
    "style",
    "upstream_tests",
    "sys_path_importers",
}
LAYOUTS = {"drtulu", "upstream-mid2025", "upstream-autumn2025", "upstream-main"}
R_FAMILIES = {
    "R-canonical",
    "R-chatopenai",
    "R-old-bare",
    "R-old-defaults",
    "R-bare-except",
    "R-lazy",
    "R-split",
    "R-guarded",
    "R-conditional-fallbacks",
    "R-aliased",
    "R-none",
}
G_FAMILIES = {"G-canonical", "G-old", "G-old-try", "G-typed", "G-renamed", "G-none"}
# ground_truth_utils.py (the LLM judge), optional: a family, or null where the checkout has none.
J_FAMILIES = {"J-direct", "J-direct-timeout", "J-lazy", "J-routed"}
# Families whose run_utils is R-canonical with one drift (DR Tulu forks).
CANONICAL_LIKE = {"R-canonical", "R-bare-except", "R-conditional-fallbacks", "R-aliased"}
NOISE_TAGS = {
    "crlf",
    "no-final-newline",
    "non-ascii",
    "trailing-whitespace",
    "single-quotes",
    "comment-in-call-args",
    "comment-after-defaults",
    "wrapped-call",
    "wrapped-guard",
}
# Noise that is checked both ways: claimed => present, not claimed => absent.
STRICT_NOISE = ("crlf", "no-final-newline", "non-ascii", "trailing-whitespace")
GENERATOR_NAMES = {"generate_instance_wise_adaptive_rubrics", "generate_instance_wise_evolving_rubrics"}
MAIN_CHAINS = {"upstream", "drtulu"}
RUFF_FROM = "2025-10"  # upstream carries its ruff config from autumn 2025 on


# --------------------------------------------------------------------------- helpers


def _path(name: str, kind: str) -> Path:
    return FIXTURES / name / CATALOG[name]["files"][kind]


def _checkout(name: str) -> Path:
    return FIXTURES / name / CATALOG[name]["root_subdir"]


def _raw(name: str, kind: str) -> bytes:
    return _path(name, kind).read_bytes()


def _tree(name: str, kind: str) -> ast.Module:
    return ast.parse(_raw(name, kind), filename=str(_path(name, kind)))


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions by name."""
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _function_order(tree: ast.Module) -> list[str]:
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _litellm_bindings(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names that mean the litellm module, and names bound to its completion functions.

    `litellm` itself always counts (also a local `litellm = _get_litellm()`), plus
    `import litellm as ll` and `from litellm import acompletion as ac`.
    """
    modules, functions = {"litellm"}, set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "litellm"}
        elif isinstance(node, ast.ImportFrom) and node.module == "litellm":
            functions |= {a.asname or a.name for a in node.names if a.name in ("completion", "acompletion")}
    return modules, functions


def _litellm_calls(tree: ast.AST, bindings: tuple[set[str], set[str]]) -> list[ast.Call]:
    """Calls of litellm's (a)completion with a `**` splat, however litellm is spelled."""
    modules, functions = bindings
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not any(kw.arg is None for kw in node.keywords):
            continue
        func = node.func
        by_module = (
            isinstance(func, ast.Attribute)
            and func.attr in ("completion", "acompletion")
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        )
        if by_module or (isinstance(func, ast.Name) and func.id in functions):
            calls.append(node)
    return calls


def _run_utils_calls(name: str) -> list[ast.Call]:
    tree = _tree(name, "run_utils")
    return _litellm_calls(tree, _litellm_bindings(tree))


def _returns_parsed_object(func: ast.AST) -> bool:
    """Does `func` return a name bound from `extract_json_from_response(...)`?"""
    parsed: set[str] = set()
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "extract_json_from_response"
        ):
            parsed.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return any(
        isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id in parsed
        for node in ast.walk(func)
    )


def _src(node: ast.AST) -> str:
    """Normalised source (ast.unparse uses single quotes), for substring checks."""
    return ast.unparse(node)


def _comments(name: str, kind: str) -> list[int]:
    """Line numbers of comment tokens."""
    text = _raw(name, kind).decode("utf-8")
    return [
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.COMMENT
    ]


def _noise(name: str) -> set[str]:
    return set(CATALOG[name]["noise"])


def _module_for(name: str, kind: str) -> str:
    """Dotted module name of a fixture file, relative to root_subdir."""
    rel = _path(name, kind).resolve().relative_to(_checkout(name).resolve())
    return ".".join(rel.with_suffix("").parts)


def _chains() -> dict[str, list[str]]:
    """Fixture names per chain, in catalog order."""
    chains: dict[str, list[str]] = {}
    for name, entry in CATALOG.items():
        chains.setdefault(entry["chain"], []).append(name)
    return chains


def _has_bare_except(func) -> bool:
    return any(isinstance(n, ast.ExceptHandler) and n.type is None for n in ast.walk(func))


def _has_except_exception(func) -> bool:
    return any(
        isinstance(n, ast.ExceptHandler) and isinstance(n.type, ast.Name) and n.type.id == "Exception"
        for n in ast.walk(func)
    )


def _has_try(func) -> bool:
    return any(isinstance(n, ast.Try) for n in ast.walk(func))


def _empty_guard(func) -> bool:
    return any(
        isinstance(n, ast.If) and "not response.choices" in _src(n.test) and ".message is None" in _src(n.test)
        for n in ast.walk(func)
    )


# --------------------------------------------------------------------------- catalog


def test_catalog_lists_every_fixture_checkout():
    # A checkout is a directory holding an open_instruct/ package somewhere below it;
    # other directories under fixtures/ (e.g. shared launchers) are not catalogued here.
    checkouts = {
        p.name
        for p in FIXTURES.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and any(p.rglob("open_instruct/__init__.py"))
    }
    assert checkouts == set(CATALOG)


@pytest.mark.parametrize("name", NAMES)
def test_catalog_entry_is_well_formed(name):
    entry = CATALOG[name]
    assert set(entry) == ENTRY_KEYS
    assert entry["layout"] in LAYOUTS
    assert entry["families"]["run_utils"] in R_FAMILIES
    assert entry["families"]["rubric_utils"] in G_FAMILIES
    judge = entry["families"]["ground_truth_utils"]
    assert judge is None or judge in J_FAMILIES
    assert ("ground_truth_utils" in entry["files"]) == (judge is not None)
    assert set(entry["files"]) <= {*KINDS, "ground_truth_utils"}
    assert re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", entry["date"]), entry["date"]
    root = _checkout(name).resolve()
    assert (root / "open_instruct" / "__init__.py").is_file()
    for kind in KINDS:
        file = (FIXTURES / name / entry["files"][kind]).resolve()
        assert file.is_relative_to(root / "open_instruct"), file
        assert file.name == f"{kind}.py"
    if judge is not None:
        judge_file = (FIXTURES / name / entry["files"]["ground_truth_utils"]).resolve()
        assert judge_file == root / "open_instruct" / "ground_truth_utils.py"
    for tag in entry["noise"]:
        what, _, kind = tag.partition(":")
        assert what in NOISE_TAGS and kind in entry["files"], tag
    assert len(entry["noise"]) == len(set(entry["noise"]))


def test_chains_are_in_catalog_order_by_date():
    """Within a chain, each version is strictly newer than the one before it."""
    chains = _chains()
    assert MAIN_CHAINS <= set(chains)
    for chain, names in chains.items():
        dates = [CATALOG[n]["date"] for n in names]
        assert dates == sorted(dates) and len(set(dates)) == len(dates), (chain, dates)
    # a chain's entries are contiguous in the catalog
    order = [CATALOG[n]["chain"] for n in CATALOG]
    assert [c for i, c in enumerate(order) if i == 0 or order[i - 1] != c] == list(chains)


@pytest.mark.parametrize("name", NAMES)
def test_forks_name_an_older_parent(name):
    entry = CATALOG[name]
    parent = entry["forked_from"]
    if entry["chain"] in MAIN_CHAINS:
        assert parent is None
        return
    assert len(_chains()[entry["chain"]]) >= 1
    if parent is not None:
        assert parent in CATALOG and CATALOG[parent]["chain"] in MAIN_CHAINS
        assert CATALOG[parent]["date"] < entry["date"]
        assert CATALOG[parent]["layout"] == entry["layout"]


def test_upstream_history_follows_the_layout_moves():
    names = _chains()["upstream"]
    layouts = [CATALOG[n]["layout"] for n in names]
    # search_rewards/ -> search_rewards/utils/ -> rubrics/, never back
    rank = {"upstream-mid2025": 0, "upstream-autumn2025": 1, "upstream-main": 2}
    assert [rank[layout] for layout in layouts] == sorted(rank[layout] for layout in layouts)
    assert set(layouts) == set(rank)
    families = [CATALOG[n]["families"]["run_utils"] for n in names]
    assert families[0] == "R-chatopenai" and CATALOG[names[0]]["date"] == "2025-06"
    assert families.index("R-split") < families.index("R-guarded")
    assert all(CATALOG[n]["layout"] == "drtulu" for n in _chains()["drtulu"])


@pytest.mark.parametrize("name", NAMES)
def test_layout_matches_paths(name):
    entry = CATALOG[name]
    parent = {
        "drtulu": "open_instruct/search_rewards/utils",
        "upstream-autumn2025": "open_instruct/search_rewards/utils",
        "upstream-mid2025": "open_instruct/search_rewards",
        "upstream-main": "open_instruct/rubrics",
    }[entry["layout"]]
    prefix = "" if entry["root_subdir"] == "." else entry["root_subdir"] + "/"
    for kind in KINDS:
        assert entry["files"][kind] == f"{prefix}{parent}/{kind}.py"
    if entry["layout"] == "drtulu":
        assert entry["root_subdir"] == "rl/open-instruct"
        # DR Tulu's utils/ is a namespace package.
        assert not (_path(name, "run_utils").parent / "__init__.py").exists()
    if entry["layout"] == "upstream-main":
        init = (_path(name, "run_utils").parent / "__init__.py").read_text(encoding="utf-8")
        assert "import numpy" in init and "from open_instruct.rubrics." in init


def test_utils_package_is_covered_both_ways():
    """Layout detection must not rely on utils/__init__.py: some checkouts have it, some don't."""
    has_init = {
        (_path(name, "run_utils").parent / "__init__.py").exists()
        for name in NAMES
        if _path(name, "run_utils").parent.name == "utils"
    }
    assert has_init == {True, False}


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_file_exists_and_compiles(name, kind):
    path = _path(name, kind)
    assert path.is_file(), path
    source = path.read_bytes()
    compile(source, str(path), "exec")
    ast.parse(source, filename=str(path), feature_version=(3, 10))


@pytest.mark.parametrize("name", NAMES)
def test_every_python_file_in_fixture_compiles(name):
    files = sorted((FIXTURES / name).rglob("*.py"))
    assert files
    for path in files:
        compile(path.read_bytes(), str(path), "exec")


@pytest.mark.parametrize("name", NAMES)
def test_run_utils_has_extract_json(name):
    func = _functions(_tree(name, "run_utils")).get("extract_json_from_response")
    assert isinstance(func, ast.FunctionDef)
    assert [a.arg for a in func.args.args] == ["response"]
    # "" gives None (an early return), None raises AttributeError (a `.strip()` on the argument)
    assert "response.strip()" in _src(func)


@pytest.mark.parametrize("name", NAMES)
def test_helpers_are_exactly_the_litellm_callers(name):
    tree = _tree(name, "run_utils")
    bindings = _litellm_bindings(tree)
    funcs = _functions(tree)
    callers = {fname for fname, func in funcs.items() if _litellm_calls(func, bindings)}
    assert callers == set(CATALOG[name]["helpers"])
    assert list(CATALOG[name]["helpers"]) == [f for f in _function_order(tree) if f in callers]


@pytest.mark.parametrize("name", NAMES)
def test_generator_is_the_only_function_returning_parsed_json(name):
    generator = CATALOG[name]["generator"]
    funcs = _functions(_tree(name, "rubric_utils"))
    returning = {fname for fname, func in funcs.items() if _returns_parsed_object(func)}
    # Judges that must not be mistaken for the generator.
    assert isinstance(funcs.get("_score_property"), ast.FunctionDef)
    if generator is None:
        assert not GENERATOR_NAMES & set(funcs)
        assert returning == set()
        return
    assert generator in GENERATOR_NAMES
    assert isinstance(funcs.get(generator), ast.AsyncFunctionDef)
    assert returning == {generator}
    assert isinstance(funcs.get("_score_property_async"), ast.AsyncFunctionDef)


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOG[n]["generator"]])
def test_rubric_utils_imports_helpers_absolutely(name):
    wanted = _module_for(name, "run_utils")
    imports = [
        n for n in _tree(name, "rubric_utils").body if isinstance(n, ast.ImportFrom) and n.module == wanted
    ]
    assert imports, f"no `from {wanted} import ...`"
    assert imports[0].level == 0
    assert {"extract_json_from_response", "run_litellm", "run_litellm_async"} <= {a.name for a in imports[0].names}


@pytest.mark.parametrize("name", NAMES)
def test_sys_path_importers(name):
    """`from run_utils import run_chatopenai`: a top-level import, from run_utils' own folder."""
    importers = CATALOG[name]["sys_path_importers"]
    if CATALOG[name]["date"] == "2025-06" and CATALOG[name]["chain"] == "upstream":
        assert importers
    for rel in importers:
        path = FIXTURES / name / rel
        assert path.parent == _path(name, "run_utils").parent
        tree = ast.parse(path.read_bytes())
        imports = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "run_utils"]
        assert imports and imports[0].level == 0
        assert "run_chatopenai" in {a.name for a in imports[0].names}
        assert not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("open_instruct") for n in tree.body)


LOGGER_SPELLINGS = {
    "LOGGER = logging.getLogger(__name__)",
    "logger = logging.getLogger(__name__)",
    "logger = logger_utils.setup_logger(__name__)",
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_target_module_already_has_a_logger(name, kind):
    assigned = {_src(n) for n in _tree(name, kind).body if isinstance(n, ast.Assign)}
    assert len(assigned & LOGGER_SPELLINGS) == 1


def test_every_logger_spelling_is_covered():
    assigned = {_src(n) for name in NAMES for kind in KINDS for n in _tree(name, kind).body if isinstance(n, ast.Assign)}
    assert LOGGER_SPELLINGS <= assigned


# --------------------------------------------------------------------------- families

DEFAULT_RETRIES = "chat_kwargs['num_retries'] = chat_kwargs.get('num_retries', 5)"


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOG[n]["families"]["run_utils"] != "R-none"])
def test_run_chatopenai_and_azure_sit_before_the_litellm_helpers(name):
    """R-chatopenai, in every version: system prompt second, temperature default, no try."""
    tree = _tree(name, "run_utils")
    bindings = _litellm_bindings(tree)
    funcs = _functions(tree)
    chat, azure = funcs["run_chatopenai"], funcs["run_azure_openai"]
    args = chat.args
    assert [a.arg for a in args.args] == ["model_name", "system_prompt", "user_prompt", "json_mode"]
    assert _src(args.defaults[-1]) == "False" and args.kwarg.arg == "chat_kwargs"
    body = _src(chat)
    assert "chat_kwargs['temperature'] = chat_kwargs.get('temperature', 0)" in body
    assert "if json_mode:" in body and "chat_kwargs['response_format']" in body
    assert not _has_try(chat)
    (call,) = _litellm_calls(chat, bindings)
    assert [(kw.arg, _src(kw.value)) for kw in call.keywords] == [
        ("model", "model_name"),
        ("messages", "msgs"),
        (None, "chat_kwargs"),
    ]
    assert _src(chat.body[-1]) == "return resp.choices[0].message.content"
    assert "AzureOpenAI" in _src(azure) and not _litellm_calls(azure, bindings)
    order = _function_order(tree)
    assert order.index("run_chatopenai") < order.index("run_azure_openai")
    if "run_litellm" in funcs:
        assert order.index("run_azure_openai") < order.index("run_litellm")


@pytest.mark.parametrize("name", NAMES)
def test_run_utils_family_markers(name):
    family = CATALOG[name]["families"]["run_utils"]
    tree = _tree(name, "run_utils")
    funcs = _functions(tree)
    imports = {_src(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    if family == "R-none":
        assert "litellm" not in _src(tree)
        assert {"run_chatopenai", "run_azure_openai"} <= set(funcs)
        return
    if family == "R-chatopenai":
        assert not {"run_litellm", "run_litellm_async"} & set(funcs)
        assert CATALOG[name]["helpers"] == ["run_chatopenai"]
        return
    sync, async_ = funcs["run_litellm"], funcs["run_litellm_async"]
    assert [a.arg for a in sync.args.args] == ["model_name", "user_prompt", "system_prompt"]
    assert [a.arg for a in async_.args.args] == ["model_name", "user_prompt", "system_prompt", "messages"]
    assert sync.args.kwarg.arg == async_.args.kwarg.arg == "chat_kwargs"
    s, a = _src(sync), _src(async_)
    if family in CANONICAL_LIKE:
        assert {"import jsonlines", "from openai import AzureOpenAI"} <= imports
        assert ("import litellm" in imports) == (family != "R-aliased")
        assert "LITELLM_MAX_CONCURRENT_CALLS" in _src(tree)
        assert any(isinstance(n, ast.AsyncWith) for n in ast.walk(async_))
        assert DEFAULT_RETRIES in s and DEFAULT_RETRIES in a
        assert "timeout" not in s and "'LITELLM_DEFAULT_TIMEOUT', '600'" in a
        assert _has_bare_except(sync)
        assert _has_bare_except(async_) == (family == "R-bare-except")
        assert _has_except_exception(async_) == (family != "R-bare-except")
        if family == "R-conditional-fallbacks":
            for func in (sync, async_):
                (outer,) = [n for n in func.body if isinstance(n, ast.If) and "'fallbacks' not in chat_kwargs" in _src(n.test)]
                nested = [n for n in outer.body if isinstance(n, ast.If)]
                assert nested and all("model_name" in _src(n.test) for n in nested)
                assert "chat_kwargs['fallbacks'] = " in _src(outer)
                assert "chat_kwargs.get('fallbacks'" not in _src(func)
        else:
            assert "chat_kwargs.get('fallbacks', ['gpt-4.1-mini'])" in s
            assert "chat_kwargs.get('fallbacks', [])" in a
        if family == "R-aliased":
            assert "import litellm as ll" in imports and "from litellm import acompletion as ac" in imports
            assert "ll.completion(" in s and "await ac(" in a
            # one helper has a local `os` that is not the module
            local_os = [
                f
                for f, func in funcs.items()
                if any(isinstance(t, ast.Name) and t.id == "os" for n in ast.walk(func) if isinstance(n, ast.Assign) for t in n.targets)
            ]
            assert local_os == ["run_litellm"]
            assert "os = chat_kwargs.pop('target_os', 'linux')" in s
            assert "import os" in imports and "os.environ" in a
    elif family == "R-old-bare":
        for key in ("num_retries", "fallbacks", "timeout"):
            assert f"'{key}'" not in s + a
        assert not _has_try(sync) and not _has_try(async_)
    elif family == "R-old-defaults":
        for body in (s, a):
            assert DEFAULT_RETRIES in body
            assert "chat_kwargs.get('fallbacks', ['gpt-4.1-mini'])" in body
            assert "'LITELLM_DEFAULT_TIMEOUT', '120'" in body
        assert not _has_try(sync) and not _has_try(async_)
    elif family == "R-lazy":
        assert "_get_litellm" in funcs and "logger = logging.getLogger(__name__)" in _src(tree)
        assert "import litellm" not in imports
        for func in (sync, async_, funcs["run_chatopenai"]):
            assert "litellm = _get_litellm()" in _src(func)
        for func in (sync, async_):
            assert _has_except_exception(func) and not _has_bare_except(func)
        assert "str | None" in _raw(name, "run_utils").decode("utf-8")
    elif family in ("R-split", "R-guarded"):
        defaults, raw = _src(funcs["_apply_async_chat_defaults"]), funcs["run_litellm_async_raw"]
        assert "import litellm" not in imports and "litellm = _get_litellm()" in _src(raw)
        assert "request_kwargs = dict(chat_kwargs)" in defaults
        assert "request_kwargs['num_retries'] = request_kwargs.get('num_retries', 5)" in defaults
        assert "request_kwargs.get('fallbacks', [])" in defaults
        assert "'LITELLM_DEFAULT_TIMEOUT', '600'" in defaults
        assert "if 'max_tokens' not in request_kwargs and 'max_completion_tokens' not in request_kwargs" in defaults
        assert not _has_try(raw) and "return response" in _src(raw)
        assert "_apply_async_chat_defaults(chat_kwargs)" in a and "await run_litellm_async_raw(" in a
        assert _has_try(async_)
        guarded = _empty_guard(sync), _empty_guard(async_)
        assert guarded == ((True, True) if family == "R-guarded" else (False, False))
        if family == "R-guarded":
            assert ".content is None" in a
    else:  # pragma: no cover - catalog validation rejects unknown families
        pytest.fail(family)


@pytest.mark.parametrize("name", NAMES)
def test_rubric_utils_family_markers(name):
    family = CATALOG[name]["families"]["rubric_utils"]
    generator = CATALOG[name]["generator"]
    funcs = _functions(_tree(name, "rubric_utils"))
    if family == "G-none":
        assert generator is None
        return
    gen = funcs[generator]
    params = [a.arg for a in gen.args.args]
    body = _src(gen)
    assert "obj = extract_json_from_response(resp)" in body
    tries = [n for n in gen.body if isinstance(n, ast.Try)]
    if family == "G-renamed":
        assert generator == "generate_instance_wise_evolving_rubrics"
        assert {"_generate_instance_wise_evolving_rubrics", "update_ground_truths_with_evolving_rubrics"} <= set(funcs)
    else:
        assert generator == "generate_instance_wise_adaptive_rubrics"
    if family in ("G-old", "G-old-try"):
        # no model parameter at all: the model is a literal in the awaited call
        assert params == ["question", "response_list", "existing_rubrics"]
        assert _src(gen.args.defaults[-1]) == "None"
        assert "await run_litellm_async(model_name='gpt-4.1', user_prompt=prompt)" in body
        if family == "G-old":
            assert not _has_try(gen)
        else:
            (only,) = gen.body
            assert isinstance(only, ast.Try) and any(_src(n) == "return obj" for n in only.body)
            (handler,) = only.handlers
            assert _src(handler.type) == "Exception"
            assert _src(handler.body[-1]) == "return None"
            assert len(handler.body) == 2 and "print(" in _src(handler.body[0])
        return
    assert params == ["question", "response_list", "existing_rubrics", "model_name"]
    assert "await run_litellm_async(model_name=model_name, user_prompt=prompt)" in body
    default = _src(gen.args.defaults[-1])
    if family in ("G-canonical", "G-renamed") and default != "None":
        assert default == "os.environ.get('RUBRIC_GENERATION_MODEL', 'gpt-4.1')"
        handler = tries[0].handlers[0] if tries else None
        # the handler that reads `resp`, unbound when the awaited call raised
        assert handler and any(isinstance(n, ast.Name) and n.id == "resp" for n in ast.walk(handler))
        assert _src(gen.body[-1]) == "return obj"
    elif family in ("G-typed", "G-renamed"):
        assert default == "None" and _src(gen.args.args[-1].annotation) == "str | None"
        assert "if model_name is None:" in body and "os.environ.get('RUBRIC_GENERATION_MODEL', 'gpt-4.1')" in body
        assert tries and any(_src(n) == "return obj" for n in tries[0].body)
        assert "logger." in body and "print(" not in body
    else:
        pytest.fail(family)


# --------------------------------------------------------------------------- style


def _toml(path: Path) -> dict:
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _pyprojects(name: str) -> list[Path]:
    return sorted((FIXTURES / name).rglob("pyproject.toml"))


@pytest.mark.parametrize("name", NAMES)
def test_style_entry_matches_the_checkout(name):
    entry = CATALOG[name]
    style = entry["style"]
    assert set(style) == {"tool", "config", "line_length", "clean"}
    lint_files = {p.name for p in (FIXTURES / name).rglob("*") if p.name in ("Makefile", ".flake8", "ruff.toml", "setup.cfg")}
    ruff_sections = [_toml(p).get("tool", {}) for p in _pyprojects(name)]
    if style["tool"] is None:
        assert style["config"] is None and style["clean"] is None and style["line_length"] == 88
        assert not lint_files and not any({"ruff", "black", "isort"} & set(t) for t in ruff_sections)
        return
    assert isinstance(style["clean"], bool)
    config = FIXTURES / name / style["config"]
    assert config.is_file()
    if style["tool"] == "ruff":
        assert style["config"] == "pyproject.toml" and not lint_files
        ruff = _toml(config)["tool"]["ruff"]
        assert ruff["line-length"] == style["line_length"] == 119 and ruff["target-version"] == "py310"
        lint = ruff["lint"]
        assert set(lint["select"]) == {"F", "E", "W", "I", "SIM", "UP", "B", "PLC0415"}
        assert set(lint["ignore"]) == {"B905", "E501"}
        assert lint["isort"] == {
            "known-first-party": ["open_instruct", "mason"],
            "case-sensitive": False,
            "split-on-trailing-comma": False,
        }
        assert ruff["format"] == {"quote-style": "double", "skip-magic-trailing-comma": True}
    elif style["tool"] == "black":
        assert style["config"] == "rl/open-instruct/Makefile" and style["line_length"] == 119
        makefile = config.read_text(encoding="utf-8")
        assert "black --line-length 119 --target-version py310" in makefile
        assert re.search(r"isort .*--profile black", makefile) and "flake8" in makefile
        flake8 = (config.parent / ".flake8").read_text(encoding="utf-8")
        assert {"E203", "E402", "E501", "W503"} <= set(re.findall(r"[EW]\d{3}", flake8))
        assert not any("ruff" in t for t in ruff_sections)
    else:
        pytest.fail(style["tool"])


@pytest.mark.parametrize("name", NAMES)
def test_style_follows_the_history(name):
    """Upstream: no lint config until autumn 2025, ruff from then on; DR Tulu: black via its Makefile."""
    entry = CATALOG[name]
    tool = entry["style"]["tool"]
    if entry["chain"] == "upstream":
        assert tool == ("ruff" if entry["date"] >= RUFF_FROM else None)
    if entry["layout"] == "drtulu":
        assert tool == "black"


def test_some_drtulu_checkout_is_black_clean():
    assert any(CATALOG[n]["style"] == {"tool": "black", "config": "rl/open-instruct/Makefile", "line_length": 119, "clean": True} for n in NAMES)


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOG[n]["style"]["clean"]])
def test_clean_checkouts_carry_no_formatter_noise(name):
    """Noise a formatter or linter would flag lives only in checkouts without a clean style."""
    flagged = {"crlf", "no-final-newline", "trailing-whitespace", "single-quotes"}
    assert not {tag.partition(":")[0] for tag in _noise(name)} & flagged


# --------------------------------------------------------------------------- upstream's own tests


def _test_classes(path: Path) -> dict[str, set[str]]:
    tree = ast.parse(path.read_bytes())
    return {
        n.name: {f.name for f in n.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    }


@pytest.mark.parametrize("name", NAMES)
def test_upstream_tests_are_where_upstream_keeps_them(name):
    entry = CATALOG[name]
    tests = entry["upstream_tests"]
    expected = {
        "upstream-autumn2025": (
            ["open_instruct/search_rewards/tests/test_run_utils.py"]
            if entry["families"]["run_utils"] == "R-old-defaults"
            else ["open_instruct/search_rewards/utils/test_run_utils.py", "open_instruct/search_rewards/utils/test_integration.py"]
        ),
        "upstream-main": ["open_instruct/rubrics/test_rubrics.py"],
    }
    if entry["chain"] != "upstream" or entry["date"] < RUFF_FROM:
        assert tests == []
        return
    assert tests == expected[entry["layout"]]
    found = {p.relative_to(FIXTURES / name).as_posix() for p in (FIXTURES / name).rglob("test_*.py")}
    assert found == set(tests)
    for rel in tests:
        text = (FIXTURES / name / rel).read_text(encoding="utf-8")
        # the one call that fails for real: a closed loopback port, no mocks
        assert "def _closed_port" in text and '"OPENAI_API_BASE"' in text and "class TestDeadEndpoint" in text
    if entry["layout"] == "upstream-main":
        classes = _test_classes(FIXTURES / name / tests[0])
        helpers = classes["TestRunLitellmAsyncHelpers"]
        assert {"test_wrapper_applies_existing_defaults", "test_raw_helper_preserves_exceptions"} <= helpers
        assert any("semaphore" in t for t in helpers)
        text = (FIXTURES / name / tests[0]).read_text(encoding="utf-8")
        assert 'kwargs["num_retries"], 5)' in text and 'kwargs["fallbacks"], [])' in text
        assert "AsyncMock" in text
    if entry["layout"] == "upstream-autumn2025" and entry["families"]["run_utils"] == "R-old-defaults":
        text = (FIXTURES / name / tests[0]).read_text(encoding="utf-8")
        assert 'mock.patch("litellm.completion"' in text and "call_args.kwargs" in text


# --------------------------------------------------------------------------- noise


@pytest.mark.parametrize(("name", "kind"), [(n, k) for n in NAMES for k in CATALOG[n]["files"]])
def test_byte_noise_matches_catalog(name, kind):
    data = _raw(name, kind)
    lines = data.decode("utf-8").splitlines()
    present = {
        "crlf": b"\r\n" in data,
        "no-final-newline": not data.endswith(b"\n"),
        "non-ascii": any(b > 0x7F for b in data),
        "trailing-whitespace": any(line != line.rstrip(" \t") for line in lines),
    }
    for what in STRICT_NOISE:
        assert present[what] == (f"{what}:{kind}" in _noise(name)), what
    if present["crlf"]:
        assert data.count(b"\n") == data.count(b"\r\n"), "mixed line endings"
    else:
        assert b"\r" not in data


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_structural_noise_is_really_there(name, kind):
    claimed = {tag.partition(":")[0] for tag in _noise(name) if tag.endswith(f":{kind}")}
    tree = _tree(name, kind)
    calls = _litellm_calls(tree, _litellm_bindings(tree))
    comments = _comments(name, kind)
    if "single-quotes" in claimed:
        text = _raw(name, kind).decode("utf-8")
        strings = [
            t.string.lstrip("rbfuRBFU")
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type == tokenize.STRING
        ]
        assert strings and all(s.startswith("'") for s in strings)
    if "wrapped-call" in claimed:
        assert any(c.end_lineno > c.lineno for c in calls)
    if "comment-in-call-args" in claimed:
        assert any(c.lineno < line <= c.end_lineno for c in calls for line in comments)
    if "comment-after-defaults" in claimed:
        default_lines = {
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Subscript)
            and isinstance(n.value, ast.Call)
            and _src(n.value.func).endswith("_kwargs.get")
        }
        last_lines = {
            n.end_lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign) and n.lineno in default_lines
        }
        assert any(line in default_lines or line - 1 in last_lines for line in comments)
    if "wrapped-guard" in claimed:
        guards = [
            n for n in ast.walk(tree) if isinstance(n, ast.If) and "not response.choices" in _src(n.test)
        ]
        assert any(g.test.end_lineno > g.test.lineno for g in guards)


def test_noise_is_spread_over_the_fixtures():
    """Every noise tag is carried by some fixture, and no fixture carries most of them."""
    used = {tag.partition(":")[0] for name in NAMES for tag in _noise(name)}
    assert used == NOISE_TAGS
    assert max(len(_noise(name)) for name in NAMES) < len(NOISE_TAGS)
