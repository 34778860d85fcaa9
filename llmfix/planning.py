"""Plan what the selected transforms do to each target: one parse and one analysis per file.

Every transform plans on the same tree; their edits are applied together. The text
after each transform's share (for a diff split per transform) is rendered only when
asked for. The files of one checkout are planned together, the LiteLLM helpers' file
first, so rubric_utils.py knows what run_utils.py will define; a checkout whose files
would import a name another one does not define is refused. Nothing is written here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from llmfix.codemods.analysis.helpers import find_litellm_calls
from llmfix.codemods.analysis.nodes import dotted_name
from llmfix.codemods import runtime_block
from llmfix.codemods.analysis.scopes import module_bindings
from llmfix.codemods.context import CheckoutFacts, FileContext
from llmfix.codemods.edits import EditConflict, Edits, apply_edits
from llmfix.codemods.settings import Settings
from llmfix.codemods.style import Style
from llmfix.codemods.style.config import ConfigError
from llmfix.codemods.transform import ANCHOR_MISSING, APPLIED, Outcome
from llmfix.config import CommandSettings, settings_for
from llmfix.discovery import Target
from llmfix import sourcetext
from llmfix.errors import BadInput, Drift

PACKAGE_DIR = "open_instruct"

Options = CommandSettings  # the name the workflow and the git guard know it by


@dataclass
class FilePlan:
    """One target: its text before, after each transform, and the outcomes."""

    target: Target
    original: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    context: FileContext | None = field(default=None, repr=False)
    tree: cst.Module | None = field(default=None, repr=False)  # the patched tree, when planned
    parts: list[tuple[str, Edits]] = field(default_factory=list, repr=False)  # (transform, its edits)
    _texts: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def steps(self) -> list[str]:
        """The transforms that change the file, in order."""
        return [name for name, edits in self.parts if edits]

    def text_after(self, index: int) -> str:
        """The text after the first ``index + 1`` changing transforms (rendered once, on demand)."""
        if index < 0 or self.context is None:
            return self.original
        if index not in self._texts:
            changing = [edits for _, edits in self.parts if edits][: index + 1]
            self._texts[index] = apply_edits(self.context, changing).code
        return self._texts[index]

    def step_texts(self) -> list[tuple[str, str, str]]:
        """(transform, text before, text after) for each transform that changed the file."""
        return [(name, self.text_after(i - 1), self.text_after(i)) for i, name in enumerate(self.steps)]

    @property
    def patched(self) -> str:
        return self.text_after(len(self.steps) - 1)

    @property
    def changed(self) -> bool:
        return self.patched != self.original

    @property
    def drifted(self) -> list[str]:
        return [f"{name}: {o.reason}" for name, o in self.outcomes.items() if o.status == ANCHOR_MISSING]

    @property
    def pending(self) -> bool:
        return any(o.status == APPLIED for o in self.outcomes.values())

    def to_json(self) -> dict:
        return {
            "path": self.target.relpath,
            "root": str(self.target.root),
            "changed": self.changed,
            "transforms": {name: o.to_json() for name, o in self.outcomes.items()},
        }


def read_source(target: Target) -> str:
    """The file's text, exactly (newlines untouched, a byte-order mark set aside); BadInput when it isn't Python text."""
    try:
        data = target.path.read_bytes()
    except OSError as error:
        raise BadInput(f"{target.path}: cannot read: {error.strerror}") from None
    return sourcetext.decode(data, target.path)


def parse(target: Target, source: str) -> cst.Module:
    """libcst's tree of ``source``; BadInput (one line) for a syntax error, a merge conflict or too deep code."""
    sourcetext.check_nesting(target.path, source)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        conflict = sourcetext.conflict_marker_line(source)
        if conflict is not None:
            raise BadInput(
                f"{target.path}: unresolved merge conflict at line {conflict} (run `git mergetool` or edit, then re-run)"
            ) from None
        raise BadInput(f"{target.path}:{error.raw_line}:{error.raw_column}: syntax error: {error.message}") from None
    except RecursionError:
        raise BadInput(f"{target.path}: code nested too deeply for llmfix's parser; nothing written") from None


def dotted_module_name(path: Path) -> str | None:
    """How the checkout imports ``path``: ``open_instruct.x.y`` from the parent of its topmost ``open_instruct``."""
    path = path.absolute()
    for parent in reversed(path.parents):
        if parent.name == PACKAGE_DIR:
            return ".".join(path.relative_to(parent.parent).with_suffix("").parts)
    return None


def _context(target: Target, module: cst.Module, facts: CheckoutFacts) -> FileContext:
    try:
        style = Style.for_file(module, target.path)
    except ConfigError as error:
        raise BadInput(str(error)) from None
    return FileContext(module, style, dotted_module_name(target.path) or target.path.stem, facts, owned_lines=_owned_lines(target))


def _owned_lines(target: Target) -> Counter[str]:
    """The lines llmfix's record says it added to ``target``, with how often (none without a readable record)."""
    from llmfix.errors import LlmfixError
    from llmfix.state import fold_in_legacy, load_state

    try:
        state = load_state(target.checkout)
        fold_in_legacy(state, [(target.root, target.path)])  # what llmfix 0.1 recorded where the user pointed it
        records = state.files.get(target.record_path, [])
    except (LlmfixError, OSError, ValueError):
        return Counter()
    return Counter(line[1:].strip() for record in records for hunk in record.hunks for line in hunk.lines if line.startswith("+"))


def _plan_file(target: Target, source: str, module: cst.Module, settings: Settings, facts: CheckoutFacts) -> FilePlan:
    file = _context(target, module, facts)
    plan = FilePlan(target, source, context=file)
    for transform in settings.instantiate():
        edits = Edits()
        outcome = transform.plan(file, edits)
        plan.outcomes[transform.NAME] = outcome
        plan.parts.append((transform.NAME, edits if outcome.status != ANCHOR_MISSING else Edits()))
    try:
        patched = apply_edits(file, [edits for _, edits in plan.parts])
        patched = _restore_support(file, plan, patched)
    except EditConflict as error:
        raise BadInput(f"{target.path}: {error}; nothing written") from None
    plan.tree = patched
    plan._texts[len(plan.steps) - 1] = patched.code if plan.steps else source
    facts.publish(file.dotted_name or target.path.stem, set(module_bindings(patched)) | runtime_block.block_names(patched))
    if plan.changed:
        _check_compiles(target, plan.patched)
    return plan


def _restore_support(file: FileContext, plan: FilePlan, patched: cst.Module) -> cst.Module:
    """Put back runtime support the helpers call but the file lost, and the imports the support uses.

    A merge resolved in upstream's favour can take the block (or one of its imports) and keep
    the calls: the file would raise NameError at run time.
    """
    from llmfix.codemods import registry

    if not find_litellm_calls(file.module) or not runtime_block.mentions_support(plan.original):
        return patched
    missing = runtime_block.unbound_support(patched)
    imports = runtime_block.missing_imports(patched)
    if not missing and not imports:
        return patched
    modules = {runtime_block.module_defining(name) for name in missing} - {None}
    for transform in reversed(registry.transforms()):
        owned = modules & set(transform.RUNTIME)
        if transform.NAME in plan.outcomes and (owned or (imports and transform.RUNTIME)):
            edits = dict(plan.parts)[transform.NAME]
            edits.need_runtime(*sorted(owned))
            for need in imports:
                edits.need_import(need.module, asname=need.asname)
            why = f"runtime support its code calls was missing ({', '.join(sorted(missing))})" if owned else (
                f"imports the runtime support uses were missing ({', '.join(n.module for n in imports)})"
            )
            if plan.outcomes[transform.NAME].status != APPLIED:
                plan.outcomes[transform.NAME] = Outcome(APPLIED, f"{why}: restored")
            modules -= owned
            imports = []
    return apply_edits(file, [edits for _, edits in plan.parts])


def plan_checkout(targets: Sequence[tuple[Target, str]], settings: Settings, modules: Sequence[cst.Module] | None = None) -> list[FilePlan]:
    """Plans for the files of one checkout (given with their texts, and their trees if parsed already)."""
    facts = CheckoutFacts()
    trees = modules if modules is not None else [parse(target, source) for target, source in targets]
    parsed = [(target, source, tree) for (target, source), tree in zip(targets, trees)]
    order = sorted(range(len(parsed)), key=lambda i: not find_litellm_calls(parsed[i][2]))
    plans: dict[int, FilePlan] = {}
    for index in order:
        target, source, module = parsed[index]
        plans[index] = _plan_file(target, source, module, settings, facts)
    result = [plans[i] for i in range(len(parsed))]
    _check_imports(result, facts)
    return result


def _check_imports(plans: Sequence[FilePlan], facts: CheckoutFacts) -> None:
    """Refuse a checkout whose files would import, from each other, a name that isn't there."""
    from llmfix.codemods._sibling import resolve_import

    problems = []
    for plan in plans:
        if plan.context is None:
            continue
        tree = plan.tree if plan.tree is not None else plan.context.module
        for statement in tree.body:
            for small in getattr(statement, "body", ()) if isinstance(statement, cst.SimpleStatementLine) else ():
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                source = resolve_import(plan.context, small)
                defined = facts.defines.get(source)
                if defined is None and "." not in source:
                    defined = facts.lookup(source)  # a sys.path import: from run_utils import ...
                if defined is None or source == plan.context.dotted_name:
                    continue
                for alias in small.names:
                    name = dotted_name(alias.name) or ""
                    if name not in defined:
                        problems.append(f"{plan.target.relpath} imports {name} from {source}, which does not define it")
    if problems:
        raise Drift("imports that would not resolve, nothing written:\n  " + "\n  ".join(problems))


def _check_compiles(target: Target, text: str) -> None:
    try:
        compile(text, str(target.path), "exec", dont_inherit=True)
    except SyntaxError as error:  # a transform bug: never write such a file
        raise BadInput(f"{target.path}: patched text does not compile ({error.msg}); nothing written") from None
    except RecursionError:
        raise BadInput(f"{target.path}: too deeply nested to check; nothing written") from None


def plan_text(target: Target, source: str, options: Settings | CommandSettings) -> FilePlan:
    """What the selected transforms make of ``source`` (the text of ``target``, or another version of it).

    The other target files of its checkout are planned with it, as they are on disk.
    """
    from llmfix.discovery import discover

    try:
        siblings = [t for t in discover([target.root]) if t.path.resolve() != target.path.resolve()]
    except BadInput:
        siblings = []
    settings = settings_for(options, target.path.parent)
    group = plan_checkout([(target, source), *((t, read_source(t)) for t in siblings)], settings)
    return group[0]


def plan_targets(targets: Sequence[Target], options: Settings | CommandSettings) -> list[FilePlan]:
    """Plans for every target, each checkout's files planned together (with that checkout's settings)."""
    by_root: dict[Path, list[int]] = defaultdict(list)
    for index, target in enumerate(targets):
        by_root[target.root].append(index)
    plans: dict[int, FilePlan] = {}
    for indices in by_root.values():
        settings = settings_for(options, targets[indices[0]].path.parent)
        group = plan_checkout([(targets[i], read_source(targets[i])) for i in indices], settings)
        plans.update(zip(indices, group))
    return [plans[i] for i in range(len(targets))]
