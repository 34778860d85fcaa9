"""Never show a secret: short key prefixes, and URLs or any text without credentials."""

from __future__ import annotations

from llmfix.codemods.runtime.litellm_utils import redact

_KEY_PREFIXES = ("sk-or-v1-", "sk-proj-", "sk-ant-", "sk-svcacct-", "sk-")


def redact_key(key: str | None) -> str:
    """``sk-or-v1-abcdef...`` -> ``sk-or-v1-ab…``; at most 2 secret characters are shown."""
    if key is None:
        return "(unset)"
    key = key.strip()
    if not key:
        return "(empty)"
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix) + 6:
            return f"{key[: len(prefix) + 2]}…"
    if len(key) <= 8:
        return "…" if len(key) < 4 else f"{key[:1]}…"
    return f"{key[:2]}…"


def redact_url(url: str | None) -> str:
    """``url`` (or any text) with every credential in it as ``***``: llmfix's one redaction (the code it inserts uses it too)."""
    return redact(url) if url else ""
