"""The fault scenarios: each a build function registered by :func:`unit`, building its cases for a checkout, its judges in
cases of their own (``<n>j``, ``<n>k``); the help, the fix order and the tests come from :func:`units`."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from llmfix.errors import BadInput
from llmfix.verify.analysis import GENERATOR, HELPER, JUDGE, Checkout
from llmfix.verify.cases import BASICS, CALL, Case, Endpoint, Evaluator, Observation, Problem, Settings, Step, StepResult, each

__all__ = ["BASICS", "Case", "Endpoint", "Evaluator", "Observation", "Problem", "Scenario", "Settings", "Step", "StepResult",
           "Unit", "build", "each", "fix_order", "select", "unit", "units"]
REGISTRY: list[Unit] = []


@dataclass(frozen=True)
class Unit:
    """A scenario: its number, name, summary, the transforms it proves (the main one first) and its build function."""

    NUMBER: int
    NAME: str
    SUMMARY: str
    FIXES: tuple[str, ...]
    build: Callable[[Scenario], list[Case]]


def unit(number: int, name: str, fixes: tuple[str, ...], summary: str) -> Callable[[Callable[[Scenario], list[Case]]], Unit]:
    """Register the decorated build function as scenario ``number``."""

    def register(build: Callable[[Scenario], list[Case]]) -> Unit:
        REGISTRY.append(Unit(number, name, summary, fixes, build))
        return REGISTRY[-1]

    return register


class Scenario:
    """One scenario's cases for a checkout, and what its build function builds them from: the settings and the callable functions."""

    def __init__(self, of: Unit, settings: Settings, checkout: Checkout | None = None) -> None:
        self.NUMBER, self.NAME, self.settings = of.NUMBER, of.NAME, settings
        self.targets = checkout.callable if checkout else []
        self.judges = checkout.judges if checkout else []
        self.cases = of.build(self)

    def id(self, letter: str = "") -> str:
        return f"{self.NUMBER}{letter}"

    @staticmethod
    def model(case_id: str, label: str) -> str:
        """The model verify passes for a step: the mock keys its counts on it."""
        return f"openai/verify-{case_id}-{label.replace('.', '-')}"

    def callers(self, letter: str = "", kinds: tuple[str, ...] = (HELPER, GENERATOR), label: str = "") -> list[Step]:
        """One step per callable function (of ``kinds``) for case ``letter``, in checkout order; ``label`` suffixes the labels."""
        return [Step(t.name + label, CALL, t, self.model(self.id(letter), t.name) if t.controls_model else None) for t in self.targets if t.kind in kinds]

    def generators(self, letter: str = "", label: str = "") -> list[Step]:
        return self.callers(letter, (GENERATOR,), label)

    def judge_bound(self, per_attempt: float = 0.0) -> float:
        return self.settings.judge_bound(self.judges[0] if self.judges else None, per_attempt)

    def case(self, letter: str, title: str, expected: str, steps: list[Step], evaluate: Evaluator, limit: float, **more: object) -> Case:
        """A case of this scenario (``more``: the other :class:`Case` fields)."""
        return Case(self.id(letter), self.NAME, title, expected, steps, evaluate, limit, **more)  # type: ignore[arg-type]

    def judge_case(self, letter: str, make: Callable[[list[Step]], Case]) -> list[Case]:
        """``[make(steps)]`` with a step per callable judge (skipped with the reason when verify cannot call it); ``[]`` without a judge."""
        if not self.judges:
            return []
        case = make(self.callers(letter, (JUDGE,)))
        if not case.steps:
            case.skip_reason = f"judge {self.judges[0].name} cannot run: {self.judges[0].reason}"
        return [case]

    def with_judge(self, case: Callable[[str, list[Step]], Case]) -> list[Case]:
        """``case(letter, steps)`` for the helpers and generators (``<n>``), then for the judges (``<n>j``) when the checkout has one."""
        return [case("", self.callers()), *self.judge_case("j", lambda steps: case("j", steps))]

    @staticmethod
    def outcomes(steps: list[Step], helper: str, generator: str, judge: str = "score") -> str:
        """The EXPECTED column: what each step should give, in order (``text, text, rubric dict``)."""
        return ", ".join(judge if s.is_judge else generator if s.is_generator else helper for s in steps if s.op == CALL) or "-"


def units() -> list[Unit]:
    """Every scenario of this package, by number (importing the modules registers them)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return sorted(REGISTRY, key=lambda u: u.NUMBER)


def fix_order() -> tuple[str, ...]:
    """The fixes the scenarios prove (tests hold them to the transforms' names), in the order llmfix runs the transforms, then ``basics``."""
    from llmfix.codemods import TRANSFORM_NAMES  # libcst: not for --help

    proven = {fix for u in units() for fix in u.FIXES}
    return (*(name for name in TRANSFORM_NAMES if name in proven), BASICS)


def build(settings: Settings, checkout: Checkout | None = None) -> list[Scenario]:
    return [Scenario(u, settings, checkout) for u in units()]


def select(scenarios: list[Scenario], names: tuple[str, ...], strict: bool = True) -> list[Scenario]:
    """The scenarios named (by name or number) or holding a named case id; all when ``names`` is empty.
    ``strict``: a name none of them knows is bad input; else it is left out (another checkout may know it)."""
    if not names:
        return scenarios
    wanted = {n.strip().lower() for value in names for n in value.split(",")}
    known = {s.NAME for s in scenarios} | {str(s.NUMBER) for s in scenarios} | {c.id for s in scenarios for c in s.cases}
    if "" in wanted or (strict and wanted - known):
        unknown = ", ".join(sorted(wanted - known - {""})) or "(an empty name)"
        raise BadInput(f"unknown scenario {unknown}; choose from {', '.join(s.NAME for s in scenarios)}")
    chosen = [s for s in scenarios if {s.NAME, str(s.NUMBER)} & wanted]
    for scenario in scenarios:
        cases = [c for c in scenario.cases if c.id in wanted]
        if cases and scenario not in chosen:
            chosen.append(copy.copy(scenario))
            chosen[-1].cases = cases
    return sorted(chosen, key=lambda s: s.NUMBER)
