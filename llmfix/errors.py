"""The errors llmfix reports as one line on stderr with exit code 2."""

from __future__ import annotations


class LlmfixError(Exception):
    """Any failure that ends a command with exit 2 and no file changed."""


class BadInput(LlmfixError):
    """A path, flag or file llmfix can't work with."""


class Drift(LlmfixError):
    """The code is there but not in a shape a transform can safely edit."""


class WriteFailed(LlmfixError):
    """Writing the patched files failed; every file was left as it was."""


class RegistryError(LlmfixError):
    """A plugin that can't be imported, two transforms claiming a name, or an order that can't hold."""
