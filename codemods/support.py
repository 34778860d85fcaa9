"""The support module (llmfix's runtime) that is written whole beside the patched files, under a header naming its llmfix."""

from __future__ import annotations

import functools
from pathlib import Path

import libcst as cst

from llmfix import __version__
from llmfix.codemods.analysis.nodes import dotted_name
from llmfix.safefiles import digest as digest_bytes

NAME = "litellm_utils"
FILE_NAME = f"{NAME}.py"
SOURCE = Path(__file__).parent / "runtime" / FILE_NAME
HEADER = "# LiteLLM call support written by llmfix {version}: `llmfix apply` keeps it current, `llmfix revert` removes it.\n"


@functools.lru_cache(maxsize=1)
def text() -> str:
    """The module as llmfix writes it into a checkout."""
    return HEADER.format(version=__version__) + SOURCE.read_text(encoding="utf-8")


def digest(data: str) -> str:
    return digest_bytes(data.encode("utf-8"))


def is_call(node: cst.CSTNode, *names: str) -> bool:
    """True for a call of the support module's ``names`` (any name when none is given)."""
    if type(node) is not cst.Call:  # not isinstance: an ABC's is slow, and every node is asked
        return False
    prefix, _, member = (dotted_name(node.func) or "").rpartition(".")
    return prefix == NAME and (not names or member in names)
