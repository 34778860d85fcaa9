"""What every llmfix transform declares, once, and what it reports.

A transform is a class with a ``NAME`` in a module of its own; defining it registers it. Its module docstring is
its ``explain`` text; ``OPTIONS`` give its flags, libcst arguments and ``[tool.llmfix]`` keys; ``EXAMPLES`` are run
by the tests. :meth:`Transform.plan` never edits the tree: it returns an :class:`Outcome` and fills
:class:`~llmfix.codemods.edits.Edits`, applied with every other transform's on the same parse."""

from __future__ import annotations

import inspect
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from llmfix.codemods import registry

if TYPE_CHECKING:
    from llmfix.codemods.context import FileContext
    from llmfix.codemods.edits import Edits
    from llmfix.codemods.settings import Settings

APPLIED = "applied"
ALREADY_PRESENT = "already-present"
NOT_APPLICABLE = "not-applicable"
ANCHOR_MISSING = "anchor-missing"


@dataclass(frozen=True)
class Change:
    """A behaviour change a reviewer must know about, in plain words; ``restore``: the environment settings that bring
    the old behaviour back (``(("LITELLM_NUM_RETRIES", "5"),)``), which a PR summary lists for a test suite."""

    text: str
    restore: tuple[tuple[str, str], ...] = ()
    key: str | None = None  # the LiteLLM option whose default changed ("num_retries")
    old: Any = None  # its default before the patch (5), so tests that pin it can be found

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "restore": dict(self.restore), "key": self.key, "old": self.old}


@dataclass
class Outcome:
    """What a transform did (or would do) to one file, and why, and what it changes in behaviour."""

    status: str
    reason: str
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "changes": [c.to_json() for c in self.changes]}


class Sites:
    """Per-site results folded into one file-level :class:`Outcome`."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.present: list[str] = []
        self.missing: list[str] = []
        self.changes: list[Change] = []

    def outcome(self, nothing_found: str) -> Outcome:
        if self.missing:
            return Outcome(ANCHOR_MISSING, "; ".join(self.missing))
        if self.applied:
            extra = f" (already present: {'; '.join(self.present)})" if self.present else ""
            return Outcome(APPLIED, "; ".join(self.applied) + extra, self.changes)
        if self.present:
            return Outcome(ALREADY_PRESENT, "; ".join(self.present))
        return Outcome(NOT_APPLICABLE, nothing_found)


@dataclass(frozen=True)
class Option:
    """One setting a transform reads: a flag, a libcst command argument and a ``[tool.llmfix]`` key. ``parse`` turns one
    text value into the value (``ValueError``: a message for the user); with ``multiple`` it returns a list (``a,b``) and
    the value is their tuple. ``flag_name``: the flag's spelling when unlike the option's (``--fallback``)."""

    name: str
    help: str
    parse: Callable[[str], Any]
    default: Any = None
    metavar: str = "VALUE"
    multiple: bool = False
    flag_name: str | None = None

    @property
    def flag(self) -> str:
        return "--" + (self.flag_name or self.name).replace("_", "-")

    def coerce(self, value: Any) -> Any:
        """A value from a flag or a config file, validated; a tuple for ``multiple``."""
        items = value if self.multiple and isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise ValueError(f"{self.flag}: expected a {self.metavar.lower()}, got {item!r}")
        parsed = [self.parse(str(item)) for item in items]
        return tuple(part for one in parsed for part in one) if self.multiple else parsed[0]


@dataclass(frozen=True)
class Example:
    """A before/after pair (dedented here) for one transform run alone; ``after`` None: no change; ``options``: flag
    values (``{"retries": "12"}``). Shown at open-instruct's line length, 119, as a module of ``open_instruct.rubrics``."""

    title: str
    before: str
    after: str | None = None
    status: str = ALREADY_PRESENT
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", textwrap.dedent(self.before).lstrip("\n"))
        if self.after is not None:
            object.__setattr__(self, "after", textwrap.dedent(self.after).lstrip("\n"))

    @classmethod
    def change(cls, title: str, diff: str, status: str = APPLIED, options: Mapping[str, Any] | None = None) -> Example:
        """An example written as one diff: each line's first column is `` `` (both), ``-`` (before) or ``+`` (after)."""
        lines = textwrap.dedent(diff).lstrip("\n").splitlines()
        before = "".join(line[1:] + "\n" for line in lines if line[:1] != "+")
        return cls(title, before, "".join(line[1:] + "\n" for line in lines if line[:1] != "-"), status, options or {})

    def unchanged(self, title: str) -> Example:
        """This example's result, as an example where nothing changes."""
        return Example(title, self.after or self.before)


class Transform:
    """Base class: subclasses declare themselves and implement :meth:`plan`."""

    NAME: ClassVar[str]
    SUMMARY: ClassVar[str]
    ORDER: ClassVar[int]
    AFTER: ClassVar[tuple[str, ...]] = ()
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    EXAMPLES: ClassVar[tuple[Example, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "NAME" in cls.__dict__:
            registry.register(cls)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def option(self, name: str) -> Any:
        return self.settings.values[name]

    def plan(self, file: FileContext, edits: Edits) -> Outcome:
        raise NotImplementedError

    def undo(self, file: FileContext, edits: Edits, noted: dict[str, object]) -> list[str]:
        """Plan the edits that take this transform's change out of ``file`` (``noted``: what
        :meth:`plan` noted); the reasons a part can't be taken out (nothing written then)."""
        return []

    @classmethod
    def documentation(cls) -> str:
        """The module docstring: what the transform does and why (the ``explain`` text)."""
        return inspect.cleandoc(sys.modules[cls.__module__].__doc__ or cls.SUMMARY)

    @classmethod
    def description(cls) -> str:
        """The first paragraph of the documentation."""
        return cls.documentation().split("\n\n")[0]
