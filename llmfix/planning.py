"""Plan what the selected transforms do to each target: one parse per file.

The transforms run one after another on the same libcst tree; the text after
each step is kept so a diff can be split per transform. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from llmfix.codemods import ANCHOR_MISSING, APPLIED, TRANSFORMS, Outcome, PlannedTransform
from llmfix.discovery import Target
from llmfix import sourcetext
from llmfix.errors import BadInput


@dataclass(frozen=True)
class Options:
    """User choices: which transforms, and the defaults they bake in."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    retries: int = 10
    fallbacks: tuple[str, ...] = ()
    timeout: float | None = None

    def selected(self) -> list[type[PlannedTransform]]:
        names = [t.NAME for t in TRANSFORMS]
        for name in (*self.only, *self.skip):
            if name not in names:
                raise BadInput(f"unknown transform {name!r}; choose from {', '.join(names)}")
        return [t for t in TRANSFORMS if (not self.only or t.NAME in self.only) and t.NAME not in self.skip]

    def instantiate(self, transform: type[PlannedTransform]) -> PlannedTransform:
        if transform.NAME == "retries":
            return transform(retries=self.retries)  # type: ignore[call-arg]
        if transform.NAME == "fallbacks":
            return transform(fallbacks=list(self.fallbacks) or None)  # type: ignore[call-arg]
        if transform.NAME == "timeout":
            return transform(timeout=self.timeout)  # type: ignore[call-arg]
        return transform()


@dataclass
class FilePlan:
    """One target: its text before, after each transform, and the outcomes."""

    target: Target
    original: str
    steps: list[tuple[str, cst.Module]] = field(default_factory=list)  # (transform, tree after it)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    _texts: dict[int, str] = field(default_factory=dict, repr=False)

    def text_after(self, index: int) -> str:
        """The text after step ``index`` (rendered once, on demand)."""
        if index < 0:
            return self.original
        if index not in self._texts:
            self._texts[index] = self.steps[index][1].code
        return self._texts[index]

    def step_texts(self) -> list[tuple[str, str, str]]:
        """(transform, text before, text after) for each transform that changed the file."""
        return [(name, self.text_after(i - 1), self.text_after(i)) for i, (name, _) in enumerate(self.steps)]

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


def plan_source(target: Target, source: str, transforms: Sequence[PlannedTransform]) -> FilePlan:
    """Run the transforms on ``source``; the tree comes from a single parse."""
    plan = FilePlan(target, source)
    tree = parse(target, source)
    for transform in transforms:
        updated, plan.outcomes[transform.NAME] = transform.apply(tree)
        if updated is not tree:
            tree = updated
            plan.steps.append((transform.NAME, tree))
    if plan.changed:
        _check_compiles(target, plan.patched)
    return plan


def _check_compiles(target: Target, text: str) -> None:
    try:
        compile(text, str(target.path), "exec", dont_inherit=True)
    except SyntaxError as error:  # a transform bug: never write such a file
        raise BadInput(f"{target.path}: patched text does not compile ({error.msg}); nothing written") from None


def plan_text(target: Target, source: str, options: Options) -> FilePlan:
    """What the selected transforms make of ``source`` (the text of ``target``, or another version of it)."""
    return plan_source(target, source, [options.instantiate(s) for s in options.selected()])


def plan_targets(targets: Sequence[Target], options: Options) -> list[FilePlan]:
    return [plan_text(t, read_source(t), options) for t in targets]
