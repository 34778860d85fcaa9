"""What the exception chain of a failed LiteLLM call says.

LiteLLM reports every transport failure as ``InternalServerError ...
Connection error.``; only the ``__cause__``/``__context__`` chain below it
tells a refused connection from a reset, DNS, TLS or a proxy's answer.
"""

import asyncio
import socket
import ssl

from llmfix.codemods.runtime.redact import _redact_credentials

__all__ = []

# Anywhere in the chain: retrying is pointless (refused, DNS, TLS) ...
_LITELLM_UNRETRYABLE = (ConnectionRefusedError, socket.gaierror, ssl.SSLError)
# ... or worth another attempt (a dropped connection, a timeout).
_LITELLM_RETRYABLE = (ConnectionError, TimeoutError, asyncio.TimeoutError)
_LITELLM_RETRY_STATUSES = (408, 409, 429)  # and every 5xx


def _litellm_exception_chain(error):
    """``error`` and what caused it, outermost first.

    A context hidden with ``raise ... from None`` is followed only when it is
    an OSError: HTTP libraries hide the socket's error that way.
    """
    chain = []
    while error is not None and error not in chain and len(chain) < 20:
        chain.append(error)
        hidden = error.__cause__ is None and error.__suppress_context__
        if hidden and not isinstance(error.__context__, OSError):
            break
        error = error.__cause__ or error.__context__
    return chain


def _litellm_cause(error):
    """The root cause of ``error``: ``Type: message``, one line, redacted.

    The innermost link that says something: the socket's error if there is
    one, else the most specific (a bare Exception or RuntimeError only wraps
    or happened meanwhile).
    """
    chain = _litellm_exception_chain(error)
    told = [link for link in chain if str(link).strip()] or chain
    sockets = [link for link in told if isinstance(link, OSError)]
    generic = (Exception, RuntimeError)
    specific = [link for link in told if type(link) not in generic]
    root = (sockets or specific or told)[-1]
    lines = str(root).strip().splitlines()
    message = _redact_credentials(lines[0][:2000])[:200] if lines else ""
    name = type(root).__name__
    return f"{name}: {message}" if message else name


def _litellm_retry_after(chain):
    """Seconds from the first Retry-After header in ``chain``, else None."""
    for link in chain:
        headers = getattr(getattr(link, "response", None), "headers", None)
        headers = headers or getattr(link, "headers", None)
        if not hasattr(headers, "get"):
            continue
        for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return max(float(headers.get(name)) * unit, 0.0)
            except (TypeError, ValueError):
                continue
    return None


def _litellm_retry_wait(error):
    """None when retrying ``error`` is pointless, else the least wait (s).

    Transient: a dropped connection, a timeout, HTTP 408, 409, 429 and 5xx
    (from the endpoint or from a proxy's tunnel answer); wait at least its
    Retry-After. Definitive: a refused connection, DNS and TLS failures,
    every other HTTP status (401, 403, 404, ...), anything unrecognised.
    """
    chain = _litellm_exception_chain(error)
    if any(isinstance(link, _LITELLM_UNRETRYABLE) for link in chain):
        return None
    if any(isinstance(link, _LITELLM_RETRYABLE) for link in chain):
        return 0.0
    for link in reversed(chain):
        status = getattr(link, "status_code", getattr(link, "status", None))
        if isinstance(status, int) and 100 <= status < 600:
            if status in _LITELLM_RETRY_STATUSES or status >= 500:
                return _litellm_retry_after(chain) or 0.0
            return None
    return None
