"""Never show a secret: short key prefixes and proxy URLs without passwords."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

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
    """Drop the password (and mask the user) from a URL's userinfo; leave the rest."""
    if not url:
        return url or ""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        netloc = parts.netloc
    except ValueError:
        return "(unparseable URL)"
    if "@" not in netloc:
        return url
    userinfo, _, hostport = netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    masked = f"{user[:2]}…:***" if ":" in userinfo else f"{user[:2]}…"
    rebuilt = urlunsplit((parts.scheme, f"{masked}@{hostport}", parts.path, parts.query, parts.fragment))
    return rebuilt if "://" in url else rebuilt.split("://", 1)[1]
