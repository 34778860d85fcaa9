"""The fault scenarios: each a :class:`Scenario` subclass (defining one registers it) building its cases for a checkout,
its judges in cases of their own (``<n>j``, ``<n>k``); the help, the fix order and the tests come from :func:`units`."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Callable
from typing import ClassVar

from llmfix.errors import BadInput
from llmfix.verify.analysis import GENERATOR, HELPER, JUDGE, Checkout, Target
from llmfix.verify.cases import BASICS, CALL, Case, Endpoint, Evaluator, Observation, Problem, Settings, Step, StepResult, each

__all__ = ["BASICS", "Case", "Context", "Endpoint", "Evaluator", "Observation", "Problem", "Scenario", "Settings", "Step", "StepResult",
           "build", "each", "fix_order", "select", "units"]


class Context:
    """What a scenario builds its cases from: the settings and the checkout's callable functions."""

    def __init__(self, settings: Settings, checkout: Checkout | None) -> None:
        self.settings = settings
        self.targets: list[Target] = checkout.callable if checkout else []
        self.judges: list[Target] = checkout.judges if checkout else []

    @staticmethod
    def model(case_id: str, label: str) -> str:
        """The model verify passes for a step: the mock keys its counts on it."""
        return f"openai/verify-{case_id}-{label.replace('.', '-')}"

    def callers(self, case_id: str, kinds: tuple[str, ...] = (HELPER, GENERATOR), label: str = "") -> list[Step]:
        """One step per callable function (of ``kinds``), in checkout order; ``label`` suffixes the step labels."""
        return [Step(t.name + label, CALL, t, self.model(case_id, t.name) if t.controls_model else None) for t in self.targets if t.kind in kinds]

    def generators(self, case_id: str, label: str = "") -> list[Step]:
        return self.callers(case_id, (GENERATOR,), label)

    def judge_bound(self, per_attempt: float = 0.0) -> float:
        return self.settings.judge_bound(self.judges[0] if self.judges else None, per_attempt)

    def judge_case(self, case_id: str, make: Callable[[list[Step]], Case]) -> list[Case]:
        """``[make(steps)]`` with a step per callable judge (skipped with the reason when verify cannot call it); ``[]`` without a judge."""
        if not self.judges:
            return []
        steps = self.callers(case_id, (JUDGE,))
        case = make(steps)
        if not steps:
            case.skip_reason = f"judge {self.judges[0].name} cannot run: {self.judges[0].reason}"
        return [case]

    @staticmethod
    def outcomes(steps: list[Step], helper: str, generator: str, judge: str = "score") -> str:
        """The EXPECTED column: what each step should give, in order (``text, text, rubric dict``)."""
        return ", ".join(judge if s.is_judge else generator if s.is_generator else helper for s in steps if s.op == CALL) or "-"


class Scenario:
    """One scenario: subclass it and fill in the class attributes and :meth:`build`."""

    NUMBER: ClassVar[int]
    NAME: ClassVar[str]
    SUMMARY: ClassVar[str]
    FIXES: ClassVar[tuple[str, ...]] = ()  # transform names this scenario proves, the main one first
    registry: ClassVar[list[type[Scenario]]] = []

    def __init_subclass__(cls, register: bool = True, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if register:
            Scenario.registry.append(cls)

    def __init__(self, context: Context | None = None, cases: list[Case] | None = None) -> None:
        self.cases = cases if cases is not None else (self.build(context) if context is not None else [])

    def build(self, context: Context) -> list[Case]:
        raise NotImplementedError

    def case_id(self, letter: str = "") -> str:
        return f"{self.NUMBER}{letter}"

    def case(self, letter: str, title: str, expected: str, steps: list[Step], evaluate: Evaluator, limit: float, **more: object) -> Case:
        """A case of this scenario (``more``: the other :class:`Case` fields)."""
        return Case(self.case_id(letter), self.NAME, title, expected, steps, evaluate, limit, **more)  # type: ignore[arg-type]

    def with_judge(self, context: Context, case: Callable[[str, list[Step]], Case]) -> list[Case]:
        """``case`` for the helpers and generators (``<n>``), then for the judges (``<n>j``) when the checkout has one."""
        judged = self.case_id("j")
        return [case(self.case_id(), context.callers(self.case_id())), *context.judge_case(judged, lambda steps: case(judged, steps))]


def units() -> list[type[Scenario]]:
    """Every scenario class of this package, by number (importing the modules registers them)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return sorted({cls for cls in Scenario.registry if cls.__module__.startswith(f"{__name__}.")}, key=lambda c: c.NUMBER)


def fix_order() -> tuple[str, ...]:
    """The fixes the scenarios prove (tests hold them to the transforms' names), in the order llmfix runs the transforms, then ``basics``."""
    from llmfix.codemods import TRANSFORM_NAMES  # libcst: not for --help

    proven = {fix for unit in units() for fix in unit.FIXES}
    return (*(name for name in TRANSFORM_NAMES if name in proven), BASICS)


def build(settings: Settings, checkout: Checkout | None = None) -> list[Scenario]:
    context = Context(settings, checkout)
    return [unit(context) for unit in units()]


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
