"""What verify drives in a checkout (helpers, rubric generators, LLM judges), found by structure, never by name:
each function's kind, error contract, how to call it (:mod:`.binding`) and where its model comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmfix.discovery import discover
from llmfix.verify.binding import Binding, Parameter, signature

PACKAGE_DIR = "open_instruct"
SUPPORT = "litellm_utils"  # the support module llmfix writes beside run_utils.py
HELPER, GENERATOR, JUDGE = "helper", "generator", "judge"
RAISES, SWALLOWS, EITHER = "raises", "swallows", "either"  # EITHER: verify cannot tell, accepts both


@dataclass
class Target:
    """One function verify calls (or says why it cannot)."""

    kind: str  # helper | generator | judge
    name: str  # the qualified name: ``run_litellm``, ``LMJudgeVerifier.async_call``
    module: str  # dotted module name
    is_async: bool
    contract: str  # raises | swallows | either
    parameters: tuple[Parameter, ...]
    model_parameter: str | None = None  # the parameter that reaches the call as its model
    model_literal: str | None = None  # the model the call passes when no parameter reaches it
    raw: tuple[str, ...] = ()  # raw helpers (returning the response object) driven through this one
    model_path: tuple[str, ...] = ()  # a judge method's model, from self: ("verifier_config", "llm_judge_model")
    attempts: int = 1  # a judge's own retry loop: how many times it calls LiteLLM
    binding: Binding | None = None
    reason: str | None = None  # why verify cannot call it; None when it can

    @property
    def signature(self) -> str:
        return signature(self.name, self.parameters)

    @property
    def controls_model(self) -> bool:
        """True when verify chooses the model (a parameter, or the judge's config, reaches the call)."""
        return self.model_parameter is not None or bool(self.model_path)

    @property
    def callable(self) -> bool:
        return self.binding is not None and self.reason is None

    def describe(self) -> str:
        kind = ("async" if self.is_async else "sync") if self.kind == HELPER else self.kind
        model = f"; model {self.model_literal!r} fixed in the call" if self.model_literal else ""
        if self.model_path:
            model = f"; model in self.{'.'.join(self.model_path)}"
        elif not self.controls_model and not self.model_literal:
            model = "; model chosen inside the function"
        raw = f"; drives {', '.join(self.raw)}" if self.raw else ""
        return f"{self.name} ({kind}, {self.contract}{model}{raw})"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "module": self.module, "async": self.is_async, "contract": self.contract,
                "signature": self.signature, "model_parameter": self.model_parameter, "model_literal": self.model_literal, "drives": list(self.raw),
                "arguments": sorted(self.binding.kwargs) if self.binding else None, "not_exercised": self.reason,
                **({"model_path": ".".join(self.model_path), "attempts": self.attempts} if self.kind == JUDGE else {})}


@dataclass
class Checkout:
    """What to import and call. ``import_root`` is the folder holding ``open_instruct/``."""

    path: Path
    import_root: Path | None = None
    modules: list[str] = field(default_factory=list)  # dotted names, helper modules first
    targets: list[Target] = field(default_factory=list)
    support: str | None = None  # the support module the patched code imports (or would)

    def of_kind(self, kind: str) -> list[Target]:
        return [t for t in self.targets if t.kind == kind]

    @property
    def judges(self) -> list[Target]:
        return self.of_kind(JUDGE)

    @property
    def judge_modules(self) -> list[str]:
        """Modules that hold judges only: imported with missing third-party packages stubbed."""
        others = {t.module for t in self.targets if t.kind != JUDGE}
        return [m for m in self.modules if m not in others and any(t.module == m for t in self.judges)]

    @property
    def callable(self) -> list[Target]:
        return [t for t in self.targets if t.callable]

    @property
    def not_exercised(self) -> list[Target]:
        """The helpers and generators verify cannot call (a judge it cannot call has its cases skipped)."""
        return [t for t in self.targets if not t.callable and t.kind != JUDGE]

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "import_root": str(self.import_root) if self.import_root else None, "modules": self.modules,
                **{f"{kind}s": [t.to_json() for t in self.of_kind(kind)] for kind in (HELPER, GENERATOR, JUDGE)},
                "not_exercised": [{"name": t.name, "signature": t.signature, "reason": t.reason} for t in self.not_exercised]}


def import_location(path: Path) -> tuple[Path, str]:
    """(sys.path entry, dotted module name) for a file: the parent of its topmost ``open_instruct``."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if parent.name == PACKAGE_DIR:
            return parent.parent, ".".join(path.relative_to(parent.parent).with_suffix("").parts)
    return path.parent, path.stem


def analyse_all(path: Path) -> list[Checkout]:
    """Every checkout under ``path`` (one, or each of a folder holding several), in path order."""
    from llmfix.verify import reading  # libcst: not when the command is imported

    groups: dict[Path, list[Path]] = {}
    for target_file in discover([path]):
        groups.setdefault(import_location(target_file.path)[0], []).append(target_file.path)
    return [reading.checkout(root, files) for root, files in sorted(groups.items())]

