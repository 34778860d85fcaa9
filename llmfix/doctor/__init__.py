"""llmfix doctor: say why LLM calls fail, most likely cause first, with the line to change. The Python entry
point, ``from llmfix.doctor import run_doctor``, is loaded on first use (``import llmfix.doctor`` stays cheap)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name != "run_doctor":
        raise AttributeError(name)
    from llmfix.doctor import runner  # every check: only when run_doctor is used

    return runner.run_doctor
