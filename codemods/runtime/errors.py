"""What the exception chain of a failed LiteLLM call says.

LiteLLM reports every transport failure as ``InternalServerError ...
Connection error.``; only the ``__cause__``/``__context__`` chain below it
tells a refused connection from a reset, DNS, TLS or a proxy's answer. The
root cause is the innermost link that says something: a socket's error if
there is one, else the most specific (a bare Exception or RuntimeError only
wraps, or happened meanwhile). Retrying helps after a dropped connection, a
timeout, HTTP 408, 409, 429 and 5xx (from the endpoint, or a proxy's answer
to the tunnel), at least Retry-After later; it cannot help after a refused
connection, a DNS or TLS failure, any other status, or anything unknown.
"""

import asyncio
import socket
import ssl

from llmfix.codemods.runtime.redact import _redact_credentials

__all__ = []


def _litellm_exception_chain(error):
    """``error`` and its causes, outermost first."""
    chain = []
    while error is not None and error not in chain and len(chain) < 20:
        chain.append(error)
        context = error.__context__
        if error.__suppress_context__ and not isinstance(context, OSError):
            context = None  # hidden by ``from None``, unless a socket's error
        error = error.__cause__ or context
    return chain


def _litellm_cause(error):
    """The root cause of ``error``: ``Type: message``, one line, redacted."""
    chain = _litellm_exception_chain(error)
    told = [link for link in chain if str(link).strip()] or chain
    sockets = [link for link in told if isinstance(link, OSError)]
    specific = [e for e in told if type(e) not in (Exception, RuntimeError)]
    root = (sockets or specific or told)[-1]
    message = (str(root).strip().splitlines() or [""])[0]
    message = _redact_credentials(message[:2000])[:200]
    name = type(root).__name__
    return f"{name}: {message}" if message else name


def _litellm_retry_wait(error):
    """None when retrying ``error`` is pointless, else the least wait (s)."""
    chain = _litellm_exception_chain(error)
    refused = (ConnectionRefusedError, socket.gaierror, ssl.SSLError)
    dropped = (ConnectionError, TimeoutError, asyncio.TimeoutError)
    if any(isinstance(link, refused) for link in chain):
        return None
    if any(isinstance(link, dropped) for link in chain):
        return 0.0
    status = None
    for link in chain:  # the innermost HTTP status wins
        code = getattr(link, "status_code", getattr(link, "status", None))
        if isinstance(code, int) and 100 <= code < 600:
            status = code
    if status is None or (status < 500 and status not in (408, 409, 429)):
        return None
    for link in chain:  # the first Retry-After header, in ms or s
        headers = getattr(getattr(link, "response", None), "headers", None)
        headers = headers or getattr(link, "headers", None) or {}
        for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1)):
            try:
                return max(float(headers.get(name)) * unit, 0.0)
            except (TypeError, ValueError):
                continue
    return 0.0
