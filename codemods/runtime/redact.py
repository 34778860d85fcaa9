"""Credentials out of any text; where LiteLLM's calls go, as may be shown.

``_redact_credentials`` replaces the password (or bare token) of every URL in
a text, and the value of secret query parameters, by ``***``. The endpoint is
OPENAI_BASE_URL, else OPENAI_API_BASE, else OpenAI's; its proxy is the one
the proxy variables name for its scheme (else all_proxy; the lower-case
spelling first), unless no_proxy covers its host.
"""

import os
import re

__all__ = []

_LITELLM_PROXY_VARIABLES = (  # the lower-case spelling wins when both are set
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)
# user:password@ or token@ after a scheme, user:password@ at a word's start;
# a password may hold / # ? and @ (it ends at the last @ before a host name).
_LITELLM_URL_USERINFO = r"""(?x)
    (?P<start> \b[A-Za-z][A-Za-z0-9+.-]*:// | (?<![^\s'"(<\[{,;=]) )
    (?P<user> [^\s/?#:'"()<>\[\]{}]{0,1024} )
    (?P<password> :(?!//) (?:[^\s:]|:(?!//)){0,256} )?
    @ (?= \[[0-9A-Fa-f:.]+\] | [A-Za-z0-9] )
    """
# ?api_key=..., &access_token=..., ;sig=... (any case): the value goes.
_LITELLM_SECRET_PARAMETER = r"""(?xi)
    (?P<name> [?&;] (?: (?:x-)?api[-_]?key | key | [\w-]*token | [\w-]*secret
      | passw(?:or)?d | sig(?:nature)? ) = ) [^&;#\s'"]+
    """


def _redact_credentials(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ***."""

    def userinfo(match):  # user:***@, ***@ after a scheme, else as it is
        start = match.group("start")
        if match.group("password") is not None:
            return f"{start}{match.group('user')}:***@"
        return f"{start}***@" if start else match.group(0)

    text = re.sub(_LITELLM_URL_USERINFO, userinfo, text)
    return re.sub(_LITELLM_SECRET_PARAMETER, r"\g<name>***", text)


def _litellm_endpoint():
    """The base URL LiteLLM calls, and the variable that set it."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip(), name
    return "https://api.openai.com/v1", "default"


def _litellm_proxy():
    """The proxy (redacted) that carries calls to the endpoint, else None."""
    scheme, _, rest = _litellm_endpoint()[0].lower().partition("://")
    host = re.sub(r"^.*@|:\d*$", "", rest.split("/")[0])  # no user, no port
    bypass = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    for entry in bypass.replace(" ", "").lower().split(","):
        suffix = "." + entry.lstrip("*.")
        if entry == "*" or (entry and f".{host}".endswith(suffix)):
            return None
    for name in (f"{scheme}_proxy", "all_proxy"):
        proxy = os.environ.get(name) or os.environ.get(name.upper())
        if proxy:
            return _redact_credentials(proxy)
    return None


def _litellm_route():
    """Where calls go: ``endpoint URL (VARIABLE), proxy URL``, redacted."""
    url, source = _litellm_endpoint()
    proxy = _litellm_proxy() or "none"
    return f"endpoint {_redact_credentials(url)} ({source}), proxy {proxy}"
