"""Hypothesis strategies: drifted variants of the fixture files.

A variant is the fixture source rewritten by a random selection of the drift real
forks show, each step a libcst rewrite that keeps the module valid Python and
keeps its meaning for the code llmfix patches:

- unrelated functions (and a class, a constant) that mention litellm, at any
  position after the imports;
- unrelated LiteLLM defaults added (both spellings) or removed;
- the default lines of a helper reordered;
- extra branches (if/elif/else, for, while, try) before the LiteLLM call or the
  awaited helper call, in the function body or right before the call's line;
- locals and the ``**kwargs`` dict renamed (including a lazily bound ``litellm``);
- calls wrapped over several lines (or wrapped calls joined onto one);
- quote styles switched (plain, triple-quoted and f-strings);
- comments and blank lines almost anywhere (own lines, end of lines, block
  headers, inside wrapped calls);
- a helper binding ``os`` itself (``os = kwargs.pop("os", None)``), so new code
  must reach the module under another name;
- the indentation unit changed (two spaces, a tab).

Every step is drawn from hypothesis, so failing variants shrink towards the
fewest, smallest mutations.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import keyword
import random
import re
from collections.abc import Callable

import libcst as cst
from hypothesis import note, reject
from hypothesis import strategies as st

from llmfix.codemods import support
from llmfix.codemods.analysis.defaults import default_line
from llmfix.codemods.analysis.tree import find_all, iter_children, rebuild, walk

# Names the transforms bring into a module (the support module's, a logger's); a rename must never
# produce one. (A helper's local named like the support module is a known product bug, kept as a
# strict xfail in tests/transforms/test_transform_retries.py.)
RESERVED = {support.NAME, "litellm", "logger", "LOGGER", "_logger"}
RESERVED |= set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)

NEW_NAMES = (
    "kw", "kwargs", "opts", "options", "params", "extra", "llm_kwargs", "completion_kwargs", "call_kwargs",
    "req", "out", "result", "res", "reply", "completion", "r", "answer", "data", "payload", "parsed", "text",
    "raw", "x", "tmp", "llm", "lm", "client", "mod", "resp2", "obj2", "err", "exc", "error", "chat_kwargs",
    "request_kwargs", "response", "resp", "msgs", "messages_", "prompt_text", "_kw",
)

UNRELATED_DEFAULTS = (
    ('{d}["seed"] = {d}.get("seed", 1234)\n', "seed"),
    ('{d}["n"] = {d}.get("n", 1)\n', "n"),
    ("{d}['user'] = {d}.get('user', 'rubric-generation')\n", "user"),
    ('{d}.setdefault("stop", None)\n', "stop"),
    ('{d}.setdefault("logprobs", False)\n', "logprobs"),
    ('{d}["response_format"] = {d}.get(\n    "response_format", {{"type": "json_object"}}\n)\n', "response_format"),
)
PATCHED_KEYS = ("num_retries", "fallbacks", "timeout")

UNRELATED_FUNCTIONS = (
    '''
def litellm_version():
    """The installed litellm version (for logs)."""
    from importlib import metadata

    return metadata.version("litellm")
''',
    '''
def describe_litellm_failure(error):
    # litellm wraps transport errors: show the chain
    cause = error.__cause__ or error.__context__
    return f"litellm: {error} (cause: {cause!r})"
''',
    '''
def count_prompt_tokens(model_name, text):
    import litellm

    return litellm.token_counter(model=model_name, text=text)
''',
    '''
async def litellm_ping(model_name):
    import litellm

    response = await litellm.acompletion(model=model_name, messages=[{"role": "user", "content": "hi"}], max_tokens=1)
    return bool(response.choices)
''',
    '''
class LiteLLMCallStats:
    """Counts litellm calls and empty answers."""

    def __init__(self):
        self.calls = 0
        self.empty = 0

    def record(self, response):
        self.calls += 1
        if response is None or not response.choices:
            self.empty += 1
''',
    '''
LITELLM_LOG_PREFIX = "litellm"
''',
    '''
def litellm_models(provider="openai"):
    import litellm

    return [name for name in litellm.model_list if name.startswith(provider)]
''',
    '''
def litellm_completion_text(response):
    """Text of a litellm response (None-safe)."""
    if response is None:
        return ""
    return response.choices[0].message.content or ""
''',
)

BRANCHES = (
    'if {p} is None:\n    raise ValueError("{p} is required")\n',
    "if not isinstance({p}, str):\n    {p} = str({p})\n",
    "for _attempt in range(1):\n    pass\n",
    "while False:\n    break\n",
    "try:\n    _probe = len(str({p}))\nexcept Exception:\n    _probe = 0\n",
    'if {p} == "":\n    return {ret}\nelif {p} == "-":\n    pass\nelse:\n    _mode = "normal"\n',
    'if __debug__ and {p} == "debug":\n    print("calling with", {p})\n',
)

COMMENTS = (
    "# litellm.completion(**chat_kwargs)",
    "# chat_kwargs['num_retries'] = 3",
    "# TODO: timeout?",
    "# noqa: E501",
    "# type: ignore",
    "# ✓ non-ascii comment — with a dash",
    "# return response.choices[0].message.content",
    "# resp = await run_litellm_async(model_name=model_name)",
    "#",
    "# fmt: off",
)


# --------------------------------------------------------------------------
# small tree helpers
# --------------------------------------------------------------------------


def _parse_statements(source: str, module: cst.Module) -> list[cst.BaseStatement]:
    """Statements of a 4-space template, parsed with the module's indentation and newline."""
    if module.default_indent != "    ":
        source = re.sub(r"^((?:    )+)", lambda found: module.default_indent * (len(found.group(1)) // 4), source, flags=re.M)
    if module.default_newline != "\n":
        source = source.replace("\n", module.default_newline)
    return list(cst.parse_module(source, config=module.config_for_parsing).body)


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
    return isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))


def _import_position(tree: cst.Module) -> int:
    """Index in ``tree.body`` just after the leading docstring and imports."""
    position = 0
    for index, stmt in enumerate(tree.body):
        if _is_import_line(stmt) or (index == 0 and _is_docstring(stmt)):
            position = index + 1
        elif index > position:
            break
    return position


def _edit(tree: cst.Module, replace=None, before=None, after=None) -> cst.Module:
    new = rebuild(tree, replace or {}, before or {}, after or {})
    assert isinstance(new, cst.Module)
    return new


def _rebuild_with(node: cst.CSTNode, edits: dict[int, Callable[[cst.CSTNode], cst.CSTNode]]) -> cst.CSTNode:
    """Rebuild only the paths to edited nodes; each edit gets the node with its children already rebuilt."""
    hot: set[int] = set()

    def mark(current: cst.CSTNode) -> bool:
        found = id(current) in edits
        for child in iter_children(current):
            if mark(child):
                found = True
        if found:
            hot.add(id(current))
        return found

    def build(current):
        if id(current) not in hot:
            return current
        changes = {}
        for field in dataclasses.fields(current):
            value = getattr(current, field.name)
            if isinstance(value, cst.CSTNode):
                new = build(value)
                if new is not value:
                    changes[field.name] = new
            elif isinstance(value, (list, tuple)) and any(isinstance(v, cst.CSTNode) for v in value):
                items = [build(v) if isinstance(v, cst.CSTNode) else v for v in value]
                if any(a is not b for a, b in zip(items, value)):
                    changes[field.name] = type(value)(items)
        updated = current.with_changes(**changes) if changes else current
        edit = edits.get(id(current))
        return edit(updated) if edit is not None else updated

    mark(node)
    return build(node)


def _functions(tree: cst.Module) -> list[cst.FunctionDef]:
    """Module-level functions and methods of module-level classes, in source order."""
    found = []
    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef):
            found.append(stmt)
        elif isinstance(stmt, cst.ClassDef):
            found.extend(s for s in stmt.body.body if isinstance(s, cst.FunctionDef))
    return found


def _all_names(tree: cst.Module) -> set[str]:
    return {n.value for n in find_all(tree, cst.Name)}


def _blocks(tree: cst.Module) -> list[cst.CSTNode]:
    return [tree] + [n for n in walk(tree) if isinstance(n, cst.IndentedBlock)]


def _is_completion_call(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("completion", "acompletion")


def _call_statements(func: cst.FunctionDef) -> list[cst.BaseStatement]:
    """Statements (at any depth) holding a LiteLLM call or an awaited call."""
    found = []
    for block in [n for n in walk(func.body) if isinstance(n, cst.IndentedBlock)]:
        for stmt in block.body:
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                _is_completion_call(n) or isinstance(n, cst.Await) for n in walk(stmt)
            ):
                found.append(stmt)
    return found


def _under(node_types: tuple[type, ...], tree: cst.Module) -> set[int]:
    """ids of every node below a node of the given types."""
    inside: set[int] = set()
    for outer in walk(tree):
        if isinstance(outer, node_types):
            inside.update(id(n) for n in walk(outer) if n is not outer)
    return inside


# --------------------------------------------------------------------------
# the mutations
# --------------------------------------------------------------------------


def add_unrelated_functions(tree: cst.Module, draw) -> cst.Module:
    chosen = draw(st.lists(st.sampled_from(range(len(UNRELATED_FUNCTIONS))), max_size=3, unique=True))
    if not chosen:
        return tree
    start = _import_position(tree)
    positions = list(range(start, len(tree.body) + 1))
    body = list(tree.body)
    for index in chosen:
        statements = _parse_statements(UNRELATED_FUNCTIONS[index].lstrip("\n"), tree)
        statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        at = draw(st.sampled_from(positions))
        body[at:at] = statements
        positions = list(range(start, len(body) + 1))
    return tree.with_changes(body=body)


def _default_runs(tree: cst.Module) -> list[list[cst.SimpleStatementLine]]:
    """Runs of consecutive default lines on one dict, per block."""
    runs = []
    for block in _blocks(tree):
        current: list = []
        current_dict = None
        for stmt in list(block.body):
            line = default_line(stmt)
            if line is not None and (current_dict is None or line.dict_name == current_dict):
                current.append(stmt)
                current_dict = line.dict_name
                continue
            if len(current) > 0:
                runs.append(current)
            current, current_dict = ([stmt], line.dict_name) if line is not None else ([], None)
        if current:
            runs.append(current)
    return runs


def change_defaults(tree: cst.Module, draw) -> cst.Module:
    """Add and remove unrelated default lines."""
    runs = _default_runs(tree)
    if not runs:
        return tree
    remove: set[int] = set()
    after: dict[int, list] = {}
    for run in runs:
        dict_name = default_line(run[0]).dict_name
        keys = {default_line(s).key for s in run}
        removable = [s for s in run if default_line(s).key not in PATCHED_KEYS]
        for stmt in removable:
            if draw(st.booleans()):
                remove.add(id(stmt))
        additions = draw(st.lists(st.sampled_from(range(len(UNRELATED_DEFAULTS))), max_size=2, unique=True))
        for index in additions:
            template, key = UNRELATED_DEFAULTS[index]
            if key in keys:
                continue
            anchor = draw(st.sampled_from(run))
            after.setdefault(id(anchor), []).extend(_parse_statements(template.format(d=dict_name), tree))
    tree = _edit(tree, after=after)
    if not remove:
        return tree
    edits = {}
    for block in _blocks(tree):
        if any(id(stmt) in remove for stmt in block.body):
            edits[id(block)] = lambda b: b.with_changes(body=[x for x in b.body if id(x) not in remove])
    # a block keeps a statement: the runs we drop from also hold the patched keys or other code
    return _rebuild_with(tree, edits)


def reorder_defaults(tree: cst.Module, draw) -> cst.Module:
    runs = [r for r in _default_runs(tree) if len(r) > 1]
    replace = {}
    for run in runs:
        order = draw(st.permutations(range(len(run))))
        for stmt, index in zip(run, order):
            new = run[index]
            if new is not stmt:
                replace[id(stmt)] = new
    return _edit(tree, replace=replace) if replace else tree


def add_branches(tree: cst.Module, draw) -> cst.Module:
    before: dict[int, list] = {}
    for func in _functions(tree):
        targets = _call_statements(func)
        if not targets or not draw(st.booleans()):
            continue
        params = [p.name.value for p in func.params.params if p.name.value not in ("self", "cls")]
        if not params:
            continue
        param = draw(st.sampled_from(params))
        template = draw(st.sampled_from(BRANCHES))
        ret = "None" if "extract_json_from_response" in cst.Module([]).code_for_node(func) else '""'
        inner = draw(st.sampled_from(targets))
        top = next(s for s in func.body.body if any(n is inner for n in walk(s)))
        anchor = draw(st.sampled_from([top, inner]))
        # a function-body insert keeps the body's indentation; the inner one the inner block's
        before.setdefault(id(anchor), []).extend(_parse_statements(template.format(p=param, ret=ret), tree))
    return _edit(tree, before=before) if before else tree


def _renames(func: cst.FunctionDef, mapping: dict[str, str]) -> dict[int, cst.CSTNode]:
    """Replacement Name nodes for ``mapping`` in ``func`` (not attributes, keywords or imports)."""
    fixed: set[int] = set()
    names = []
    for node in walk(func):
        if isinstance(node, cst.Attribute):
            fixed.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            fixed.add(id(node.keyword))
        elif isinstance(node, cst.ImportAlias):
            fixed.update(id(n) for n in walk(node))
        elif isinstance(node, cst.Name) and node.value in mapping:
            names.append(node)
    return {id(n): n.with_changes(value=mapping[n.value]) for n in names if id(n) not in fixed and n is not func.name}


def _local_names(func: cst.FunctionDef) -> list[str]:
    """Names the function binds itself (its **kwargs/*args too), not its other params."""
    params = {p.name.value for p in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params)}
    declared = set()
    imported = set()
    bound = []
    for node in walk(func.body):
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            declared.update(n.name.value for n in node.names)
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                imported.add(alias.evaluated_alias or alias.evaluated_name.split(".")[0])
        elif isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            bound.append(node.target.value)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)) and isinstance(node.target, cst.Name):
            bound.append(node.target.value)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None and isinstance(node.name.name, cst.Name):
            bound.append(node.name.name.value)
        elif isinstance(node, cst.AsName) and isinstance(node.name, cst.Name):
            bound.append(node.name.value)
        elif isinstance(node, (cst.For, cst.CompFor)):
            bound.extend(n.value for n in find_all(node.target, cst.Name))
    star = [p.name.value for p in (func.params.star_kwarg, func.params.star_arg) if isinstance(p, cst.Param)]
    names = []
    for name in star + bound:
        if name not in names and name not in params and name not in declared and name not in imported:
            names.append(name)
    return names


def rename_locals(tree: cst.Module, draw) -> cst.Module:
    taken = _all_names(tree) | RESERVED
    replace = {}
    for func in _functions(tree):  # nested functions are renamed with their outer function
        names = _local_names(func)
        if not names:
            continue
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=min(4, len(names))))
        mapping = {}
        for old in chosen:
            new = draw(
                st.sampled_from(NEW_NAMES) | st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True)
            )
            if new in taken or new in mapping.values() or not new.isidentifier():
                continue
            mapping[old] = new
        if mapping:
            taken |= set(mapping.values())
            replace.update(_renames(func, mapping))
    return _edit(tree, replace=replace) if replace else tree


def _newline_ws(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True, last_line=cst.SimpleWhitespace(indent)
    )


def _wrap(call: cst.Call, trailing_comma: bool) -> cst.Call:
    args = list(call.args)
    if any(isinstance(a.value, cst.GeneratorExp) and not a.value.lpar for a in args):
        trailing_comma = False  # f(x for x in y,) is a syntax error
    new_args = []
    for i, arg in enumerate(args):
        last = i == len(args) - 1
        if not last or trailing_comma:
            comma = cst.Comma(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=_newline_ws("" if last else "    "))
            new_args.append(arg.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace("")))
        else:
            new_args.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=_newline_ws("")))
    return call.with_changes(args=new_args, whitespace_before_args=_newline_ws("    "))


def _join(call: cst.Call) -> cst.Call:
    args = list(call.args)
    new_args = []
    for i, arg in enumerate(args):
        last = i == len(args) - 1
        comma = cst.MaybeSentinel.DEFAULT if last else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        new_args.append(arg.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace("")))
    return call.with_changes(args=new_args, whitespace_before_args=cst.SimpleWhitespace(""))


def rewrap_calls(tree: cst.Module, draw) -> cst.Module:
    in_fstring = _under((cst.FormattedString,), tree)
    calls = [c for c in find_all(tree, cst.Call) if c.args and id(c) not in in_fstring]
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    share = draw(st.sampled_from([0.0, 0.1, 0.3, 1.0]))
    edits: dict[int, Callable] = {}
    for call in calls:
        if rng.random() >= share:
            continue
        multi = any(isinstance(n, cst.ParenthesizedWhitespace) for n in iter_children(call)) or any(
            isinstance(a.comma, cst.Comma) and isinstance(a.comma.whitespace_after, cst.ParenthesizedWhitespace) for a in call.args
        )
        if multi and rng.random() < 0.5:
            edits[id(call)] = _join
        else:
            edits[id(call)] = functools.partial(_wrap, trailing_comma=rng.random() < 0.5)
    return _rebuild_with(tree, edits) if edits else tree


def _swap_simple(node: cst.SimpleString) -> cst.SimpleString | None:
    value = node.value
    prefix_len = len(value) - len(value.lstrip("rRbBuUfF"))
    prefix, body = value[:prefix_len], value[prefix_len:]
    for old, new in (('"""', "'''"), ("'''", '"""'), ('"', "'"), ("'", '"')):
        if body.startswith(old) and body.endswith(old) and len(body) >= 2 * len(old):
            inner = body[len(old) : -len(old)]
            if '"' in inner or "'" in inner or "\\" in inner:
                return None
            return node.with_changes(value=prefix + new + inner + new)
    return None


def switch_quotes(tree: cst.Module, draw) -> cst.Module:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    share = draw(st.sampled_from([0.0, 0.5, 1.0]))
    in_fstring = _under((cst.FormattedString,), tree)
    replace = {}
    for node in walk(tree):
        if rng.random() >= share or id(node) in in_fstring:
            continue
        if isinstance(node, cst.SimpleString):
            new = _swap_simple(node)
            if new is not None:
                replace[id(node)] = new
        elif isinstance(node, cst.FormattedString) and node.end in ('"', "'"):
            inner = tree.code_for_node(node)[len(node.start) : -len(node.end)]
            if '"' in inner or "'" in inner or "\\" in inner:
                continue
            quote = "'" if node.end == '"' else '"'
            replace[id(node)] = node.with_changes(start=node.start[:-1] + quote, end=quote)
    return _edit(tree, replace=replace) if replace else tree


def add_comments(tree: cst.Module, draw) -> cst.Module:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    share = draw(st.sampled_from([0.0, 0.05, 0.2, 0.6]))

    def comment() -> cst.Comment:
        return cst.Comment(rng.choice(COMMENTS))

    def with_comment(ws):
        return ws.with_changes(whitespace=cst.SimpleWhitespace("  "), comment=comment())

    edits: dict[int, Callable] = {}
    for node in walk(tree):
        if rng.random() >= share:
            continue
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            extra = [cst.EmptyLine()] if rng.random() < 0.5 else []
            extra += [cst.EmptyLine(comment=comment())] if rng.random() < 0.7 else []
            if extra:
                edits[id(node)] = lambda n, extra=extra: n.with_changes(leading_lines=[*n.leading_lines, *extra])
            if isinstance(node, cst.SimpleStatementLine) and node.trailing_whitespace.comment is None and rng.random() < 0.5:
                edits[id(node.trailing_whitespace)] = with_comment
        elif isinstance(node, cst.IndentedBlock) and node.header.comment is None:
            edits[id(node.header)] = with_comment
        elif isinstance(node, cst.ParenthesizedWhitespace) and node.first_line.comment is None:
            edits[id(node.first_line)] = with_comment
    return _rebuild_with(tree, edits) if edits else tree


def reindent(tree: cst.Module, draw) -> cst.Module:
    unit = draw(st.sampled_from(["    ", "    ", "  ", "\t"]))
    if unit == tree.default_indent:
        return tree
    if any(isinstance(n, cst.IndentedBlock) and n.indent is not None for n in walk(tree)):
        return tree
    return tree.with_changes(default_indent=unit)


SHADOWS = (
    'os = {d}.pop("os", None)  # the caller\'s platform, not the module\n',
    "os = None\n",
)


def shadow_os(tree: cst.Module, draw) -> cst.Module:
    """A LiteLLM helper that binds ``os`` itself (where it did not use the module ``os``)."""
    before: dict[int, list] = {}
    for func in _functions(tree):
        if not any(_is_completion_call(n) for n in walk(func)) or any(n.value == "os" for n in find_all(func, cst.Name)):
            continue
        star = func.params.star_kwarg
        if not isinstance(star, cst.Param) or not draw(st.booleans()):
            continue
        body = list(func.body.body)
        first = 1 if body and _is_docstring(body[0]) and len(body) > 1 else 0
        template = draw(st.sampled_from(SHADOWS))
        before.setdefault(id(body[first]), []).extend(_parse_statements(template.format(d=star.name.value), tree))
    return _edit(tree, before=before) if before else tree


MUTATIONS: tuple[tuple[str, Callable], ...] = (
    ("unrelated-functions", add_unrelated_functions),
    ("unrelated-defaults", change_defaults),
    ("reorder-defaults", reorder_defaults),
    ("extra-branches", add_branches),
    ("rename-locals", rename_locals),
    ("rewrap-calls", rewrap_calls),
    ("quotes", switch_quotes),
    ("comments", add_comments),
    ("shadow-os", shadow_os),
    ("indent", reindent),
)


@functools.lru_cache(maxsize=None)
def _parsed(source: str) -> cst.Module:
    return cst.parse_module(source)


@st.composite
def variants(draw, source: str) -> tuple[str, list[str]]:
    """(variant source, the mutations applied) for one fixture file."""
    tree = _parsed(source)
    applied = []
    for name, mutation in MUTATIONS:
        if draw(st.booleans()):
            new = mutation(tree, draw)
            if new is not tree:
                applied.append(name)
                tree = new
    code = tree.code
    try:  # the mutations keep the module valid; a bug in one must not pass as a bug in llmfix
        compile(code, "<variant>", "exec", dont_inherit=True)
    except SyntaxError as error:
        note(f"invalid variant from {applied}: {error}")
        reject()
    return code, applied
