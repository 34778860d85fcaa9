"""Shape checks for the fixture checkouts indexed by fixtures/catalog.json.

The codemod tests trust the catalog (paths, families, generator and helper
names, noise), so these tests keep the catalog and the fixture bytes in sync.
They only parse the fixtures; nothing is imported or executed.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CATALOG: dict = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
NAMES = sorted(CATALOG)
KINDS = ("run_utils", "rubric_utils")

LAYOUTS = {"drtulu", "upstream-mid2025", "upstream-autumn2025", "upstream-main"}
R_FAMILIES = {"R-canonical", "R-old-bare", "R-old-defaults", "R-bare-except", "R-lazy", "R-split", "R-guarded", "R-none"}
G_FAMILIES = {"G-canonical", "G-old", "G-old-try", "G-typed", "G-renamed", "G-none"}
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


# --------------------------------------------------------------------------- helpers


def _path(name: str, kind: str) -> Path:
    return FIXTURES / name / CATALOG[name]["files"][kind]


def _raw(name: str, kind: str) -> bytes:
    return _path(name, kind).read_bytes()


def _tree(name: str, kind: str) -> ast.Module:
    return ast.parse(_raw(name, kind), filename=str(_path(name, kind)))


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions by name."""
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _is_litellm_call(node: ast.AST) -> bool:
    """`litellm.completion(..., **x)` or `litellm.acompletion(..., **x)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("completion", "acompletion")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "litellm"
        and any(kw.arg is None for kw in node.keywords)
    )


def _litellm_calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if _is_litellm_call(n)]


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
    entry = CATALOG[name]
    root = (FIXTURES / name / entry["root_subdir"]).resolve()
    rel = (FIXTURES / name / entry["files"][kind]).resolve().relative_to(root)
    return ".".join(rel.with_suffix("").parts)


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
    for name in CATALOG:
        assert (FIXTURES / name).is_dir()


@pytest.mark.parametrize("name", NAMES)
def test_catalog_entry_is_well_formed(name):
    entry = CATALOG[name]
    assert set(entry) == {"layout", "root_subdir", "files", "families", "generator", "helpers", "noise"}
    assert entry["layout"] in LAYOUTS
    assert entry["families"]["run_utils"] in R_FAMILIES
    assert entry["families"]["rubric_utils"] in G_FAMILIES
    root = (FIXTURES / name / entry["root_subdir"]).resolve()
    assert (root / "open_instruct" / "__init__.py").is_file()
    for kind in KINDS:
        file = (FIXTURES / name / entry["files"][kind]).resolve()
        assert file.is_relative_to(root / "open_instruct"), file
        assert file.name == f"{kind}.py"
    for tag in entry["noise"]:
        what, _, kind = tag.partition(":")
        assert what in NOISE_TAGS and kind in KINDS, tag


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


@pytest.mark.parametrize("name", NAMES)
def test_helpers_are_exactly_the_litellm_callers(name):
    funcs = _functions(_tree(name, "run_utils"))
    callers = {fname for fname, func in funcs.items() if _litellm_calls(func)}
    assert callers == set(CATALOG[name]["helpers"])
    for helper in CATALOG[name]["helpers"]:
        assert helper in funcs


@pytest.mark.parametrize("name", NAMES)
def test_generator_is_the_only_function_returning_parsed_json(name):
    generator = CATALOG[name]["generator"]
    funcs = _functions(_tree(name, "rubric_utils"))
    returning = {fname for fname, func in funcs.items() if _returns_parsed_object(func)}
    if generator is None:
        assert not GENERATOR_NAMES & set(funcs)
        assert returning == set()
        return
    assert generator in GENERATOR_NAMES
    assert isinstance(funcs.get(generator), ast.AsyncFunctionDef)
    assert returning == {generator}
    # Judges that must not be mistaken for the generator.
    assert isinstance(funcs.get("_score_property_async"), ast.AsyncFunctionDef)
    assert isinstance(funcs.get("_score_property"), ast.FunctionDef)


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOG[n]["generator"]])
def test_rubric_utils_imports_helpers_absolutely(name):
    wanted = _module_for(name, "run_utils")
    imports = [
        n for n in _tree(name, "rubric_utils").body if isinstance(n, ast.ImportFrom) and n.module == wanted
    ]
    assert imports, f"no `from {wanted} import ...`"
    assert imports[0].level == 0
    assert {"extract_json_from_response", "run_litellm", "run_litellm_async"} <= {a.name for a in imports[0].names}


# --------------------------------------------------------------------------- families

DEFAULT_RETRIES = "chat_kwargs['num_retries'] = chat_kwargs.get('num_retries', 5)"


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


@pytest.mark.parametrize("name", NAMES)
def test_run_utils_family_markers(name):
    family = CATALOG[name]["families"]["run_utils"]
    tree = _tree(name, "run_utils")
    funcs = _functions(tree)
    if family == "R-none":
        assert "litellm" not in _src(tree)
        assert {"run_chatopenai", "run_azure_openai"} <= set(funcs)
        return
    sync, async_ = funcs["run_litellm"], funcs["run_litellm_async"]
    assert [a.arg for a in sync.args.args] == ["model_name", "user_prompt", "system_prompt"]
    assert [a.arg for a in async_.args.args] == ["model_name", "user_prompt", "system_prompt", "messages"]
    assert sync.args.kwarg.arg == async_.args.kwarg.arg == "chat_kwargs"
    s, a = _src(sync), _src(async_)
    if family in ("R-canonical", "R-bare-except"):
        assert {"import litellm", "import jsonlines", "from openai import AzureOpenAI"} <= {
            _src(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
        }
        assert "LITELLM_MAX_CONCURRENT_CALLS" in _src(tree)
        assert any(isinstance(n, ast.AsyncWith) for n in ast.walk(async_))
        assert DEFAULT_RETRIES in s and DEFAULT_RETRIES in a
        assert "chat_kwargs.get('fallbacks', ['gpt-4.1-mini'])" in s
        assert "chat_kwargs.get('fallbacks', [])" in a
        assert "timeout" not in s and "'LITELLM_DEFAULT_TIMEOUT', '600'" in a
        assert _has_bare_except(sync)
        assert _has_bare_except(async_) == (family == "R-bare-except")
        assert _has_except_exception(async_) == (family == "R-canonical")
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
        assert not any(isinstance(n, ast.Import) and _src(n) == "import litellm" for n in tree.body)
        for func in (sync, async_):
            assert "litellm = _get_litellm()" in _src(func)
            assert _has_except_exception(func) and not _has_bare_except(func)
        assert "str | None" in _raw(name, "run_utils").decode("utf-8")
    elif family in ("R-split", "R-guarded"):
        defaults, raw = _src(funcs["_apply_async_chat_defaults"]), funcs["run_litellm_async_raw"]
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
            assert ".content is None" in _src(sync) + a
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
    assert [a.arg for a in gen.args.args] == ["question", "response_list", "existing_rubrics", "model_name"]
    default = _src(gen.args.defaults[-1])
    body = _src(gen)
    assert "await run_litellm_async(model_name=model_name, user_prompt=prompt)" in body
    assert "obj = extract_json_from_response(resp)" in body
    tries = [n for n in gen.body if isinstance(n, ast.Try)]
    if family == "G-renamed":
        assert generator == "generate_instance_wise_evolving_rubrics"
        assert {"_generate_instance_wise_evolving_rubrics", "update_ground_truths_with_evolving_rubrics"} <= set(funcs)
    else:
        assert generator == "generate_instance_wise_adaptive_rubrics"
    if family in ("G-canonical", "G-renamed") and default != "None":
        assert default == "os.environ.get('RUBRIC_GENERATION_MODEL', 'gpt-4.1')"
        handler = tries[0].handlers[0] if tries else None
        # the handler that reads `resp`, unbound when the awaited call raised
        assert handler and any(isinstance(n, ast.Name) and n.id == "resp" for n in ast.walk(handler))
        assert _src(gen.body[-1]) == "return obj"
    elif family in ("G-typed", "G-renamed"):
        assert default == "None"
        assert "if model_name is None:" in body
        assert tries and any(_src(n) == "return obj" for n in tries[0].body)
    elif family == "G-old":
        assert default == "'gpt-4.1'" and not tries
    elif family == "G-old-try":
        assert default == "'gpt-4.1'" and tries
    else:
        pytest.fail(family)


# --------------------------------------------------------------------------- noise


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
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
    calls = _litellm_calls(tree)
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
