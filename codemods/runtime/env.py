"""Numeric settings from the environment."""

import os

__all__ = []


def _litellm_env_number(name, default):
    """The number in environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
