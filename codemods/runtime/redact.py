"""Credentials out of any text; the endpoint and proxies as may be shown."""

import os
import re

__all__ = []

_LITELLM_PROXY_VARIABLES = (
    "https_proxy",  # the lower-case spelling wins when both are set
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)

# user:password@ or token@ after a scheme, or user:password@ at the start of
# a word (a proxy URL without a scheme). A password may hold / # ? and @:
# it runs to the last @ in the same word that starts a host name. Bounded
# lengths keep the search linear in the text.
_LITELLM_URL_USERINFO = r"""(?x)
    (?P<start> \b[A-Za-z][A-Za-z0-9+.-]*:// | (?<![^\s'"(<\[{,;=]) )
    (?P<user> [^\s/?#:'"()<>\[\]{}]{0,1024} )
    (?P<password> :(?!//) (?:[^\s:]|:(?!//)){0,256} )?
    @ (?= \[[0-9A-Fa-f:.]+\] | [A-Za-z0-9] )
    """

# ?api_key=..., &token=..., ;sig=... (any case): the value is replaced.
_LITELLM_SECRET_PARAMETER = r"""(?xi)
    (?P<name> [?&;]
      (?: (?:x-)?api[-_]?key | key | (?:access|refresh|auth|id)?[-_]?token
        | (?:client[-_])?secret | password | passwd | sig | signature ) = )
    [^&;#\s'"]+
    """


def _redact_userinfo(match):
    """The replacement for one userinfo match (see _LITELLM_URL_USERINFO)."""
    start = match.group("start")
    if match.group("password") is not None:
        return f"{start}{match.group('user')}:***@"
    if start:
        return f"{start}***@"
    return match.group(0)


def _redact_credentials(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ***."""
    if "@" in text:
        text = re.sub(_LITELLM_URL_USERINFO, _redact_userinfo, text)
    return re.sub(_LITELLM_SECRET_PARAMETER, r"\g<name>***", text)


def _litellm_proxy_settings():
    """The proxy variables that are set, credentials redacted."""
    names = [n for n in _LITELLM_PROXY_VARIABLES if os.environ.get(n)]
    shown = [f"{n}={_redact_credentials(os.environ[n])}" for n in names]
    return ", ".join(shown) or "none set"


def _litellm_endpoint():
    """The base URL LiteLLM uses, and where it comes from (redacted)."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
        url = os.environ.get(name, "").strip()
        if url:
            return f"{_redact_credentials(url)} ({name})"
    return "https://api.openai.com/v1 (default)"


def _litellm_route():
    """Where calls go: the endpoint and the proxy variables (redacted)."""
    proxies = _litellm_proxy_settings()
    return f"endpoint {_litellm_endpoint()}, proxy variables: {proxies}"


def _litellm_via_proxy():
    """The proxy (redacted) that carries calls to the endpoint, else None."""
    scheme, _, rest = _litellm_endpoint().partition("://")
    host = rest.split("/")[0].split(" ")[0].rpartition("@")[2]
    if host.rfind(":") > host.rfind("]"):
        host = host.rsplit(":", 1)[0]
    host = host.lower()
    bypass = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    for entry in bypass.split(","):
        entry = entry.strip().lower()
        domain = entry.lstrip("*.")
        if entry == "*" or (domain and f".{host}".endswith(f".{domain}")):
            return None
    for name in (f"{scheme}_proxy", "all_proxy"):
        proxy = os.environ.get(name) or os.environ.get(name.upper())
        if proxy:
            return _redact_credentials(proxy)
    return None
