"""llmfix doctor: say why LLM calls fail, most likely cause first, with the line to change.

Python entry point: ``run_doctor(path=None, *, env=None, offline=False, model=None, python=None,
progress=None) -> Report`` (imported lazily so ``import llmfix.doctor`` stays cheap).
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_doctor", "DoctorInputError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from llmfix.doctor import runner  # every check: loaded only when run_doctor is asked for

        return getattr(runner, name)
    raise AttributeError(name)
