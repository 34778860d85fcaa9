"""Check 7: one ``litellm.acompletion(max_tokens=1, num_retries=0, timeout=T)`` in a worker thread, with ``os.environ``
swapped for the job's; the root cause is named from the exception chain under LiteLLM's "Connection error."."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmfix.doctor import causes
from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import FAIL, LAYER, OK, WARN, Finding
from llmfix.doctor.redact import redact_url

PROBE_TIMEOUT = 4.0
_GRACE = 2.0
_ENV_LOCK = threading.Lock()
_SSL_NOISE = re.compile(r" ssl:(<[^>]*>|True|False|default)")
_GLOBALS = ("api_base", "api_key", "openai_key", "aclient_session")  # module globals a host program may have set
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "openai")


@dataclass
class ProbeResult:
    seconds: float = 0.0
    import_seconds: float = 0.0
    chain: list[dict[str, Any]] = field(default_factory=list)  # the exception chain, outermost first
    error: str = ""  # the probe itself could not run (litellm missing, crashed)
    phase: str = "starting"  # starting, importing litellm, calling, done


def exception_chain(exc: BaseException | None, limit: int = 20) -> list[dict[str, Any]]:
    """Outermost first, following ``__cause__`` then ``__context__``."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(out) < limit:
        seen.add(id(exc))
        status, err = getattr(exc, "status_code", None), getattr(exc, "errno", None)
        kind, message = f"{type(exc).__module__}.{type(exc).__qualname__}".replace("builtins.", ""), redact_url(_SSL_NOISE.sub("", str(exc)))[:500]
        out.append(dict(type=kind, message=message, status_code=status if isinstance(status, int) else None, errno=err if isinstance(err, int) else None))
        exc = exc.__cause__ or exc.__context__
    return out


@contextlib.contextmanager
def _as_the_job(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` swapped for ``env`` (and LiteLLM's loggers quiet) until the block ends."""
    target = {**{str(k): str(v) for k, v in env.items()}, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with _ENV_LOCK:
        saved, levels = dict(os.environ), {name: logging.getLogger(name).level for name in _LOGGERS}
        os.environ.clear()
        os.environ.update(target)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            os.environ.clear()
            os.environ.update(saved)


async def _call(litellm: Any, model: str, timeout: float) -> Any:
    messages = [{"role": "user", "content": "Reply with one word: ok"}]
    try:
        return await asyncio.wait_for(litellm.acompletion(model=model, messages=messages, max_tokens=1, num_retries=0, timeout=timeout), timeout + _GRACE)
    finally:  # leave nothing for LiteLLM's atexit handlers (seconds at exit): its queued logging, its clients
        with contextlib.suppress(Exception):  # litellm's internal API: best effort
            from litellm.litellm_core_utils import logging_worker  # loaded by now

            await asyncio.wait_for(logging_worker.GLOBAL_LOGGING_WORKER.stop(discard_pending=True, timeout=0.5), 1.0)
        with contextlib.suppress(Exception):
            from litellm.llms.custom_httpx import async_client_cleanup  # loaded by now

            await asyncio.wait_for(async_client_cleanup.close_litellm_async_clients(), 1.0)


class LiveProbe:
    """The probe in ``view``'s environment, started at once in its own thread; ``finding(...)`` collects it."""

    def __init__(self, view: EnvView, timeout: float = PROBE_TIMEOUT) -> None:
        self.view, self.timeout, self.result, self._started = view, timeout, ProbeResult(), time.monotonic()
        self._thread = threading.Thread(target=self._target, args=(dict(view.env),), name="doctor-live-probe", daemon=True)
        self._thread.start()

    def _target(self, env: dict[str, str]) -> None:
        try:
            with _as_the_job(env):
                self._run(self.result)
        except BaseException as exc:  # noqa: BLE001 - never let the thread die silently
            self.result.error = f"probe crashed: {type(exc).__name__}: {redact_url(str(exc))}"

    def _run(self, result: ProbeResult) -> None:
        start, result.phase = time.monotonic(), "importing litellm"
        try:
            import litellm  # seconds to import: only the live probe needs it, in its own thread
        except Exception as exc:  # noqa: BLE001 - ImportError, or a broken install
            result.error = f"litellm cannot be imported: {type(exc).__name__}: {redact_url(str(exc))}"
            return
        result.import_seconds = time.monotonic() - start
        for name in _LOGGERS:  # after the import: litellm may configure its loggers on import
            logging.getLogger(name).setLevel(logging.CRITICAL)
        litellm.suppress_debug_info = True
        # Globals a host program may have set would override the env, as they would not in the training job.
        saved = {n: getattr(litellm, n) for n in _GLOBALS if hasattr(litellm, n)}
        for n in saved:
            setattr(litellm, n, None)
        with contextlib.suppress(AttributeError):
            litellm.in_memory_llm_clients_cache.flush_cache()
        start, result.phase = time.monotonic(), "calling"
        try:
            asyncio.run(_call(litellm, self.view.probe_model, self.timeout))
        except Exception as exc:  # noqa: BLE001 - whatever the call raised is the finding
            result.chain = exception_chain(exc)
        finally:
            for n, v in saved.items():
                setattr(litellm, n, v)
        result.seconds, result.phase = time.monotonic() - start, "done"

    def finding(self, deadline: float, say: Callable[[str], None], failed_checks: set[str]) -> Finding:
        """The probe's verdict by ``deadline`` (``time.monotonic()``), telling ``say`` what it does meanwhile;
        ``failed_checks``: the checks that FAIL in the probe's environment."""
        result, view, model = self.result, self.view, self.view.probe_model
        while self._thread.is_alive() and time.monotonic() < deadline:
            say(f"live probe ({model}): {result.phase}")
            self._thread.join(min(0.25, max(deadline - time.monotonic(), 0.0)))
        error, took = result.error, time.monotonic() - self._started
        if self._thread.is_alive():
            why = f"still importing litellm after {took:.0f} s (a slow or busy machine)" if result.phase == "importing litellm" else ""
            error = f"the probe did not finish: {why or f'no answer within {took:.0f} s ({result.phase})'}"
        if error:
            fix = "pip install litellm" if "cannot be imported" in error else "run again; or skip the probe with --offline"
            return Finding(CHECK, WARN, f"live probe not run: {error}", fix, "probe-unavailable", view.source, LAYER["probe"])
        if not result.chain:
            summary = f"one-token completion with {model} answered in {result.seconds:.2f} s (litellm import {result.import_seconds:.1f} s)"
            return Finding(CHECK, OK, summary, source=view.source, layer=LAYER["probe"])
        cause = classify(result.chain)
        known, lines = causes.CAUSES[cause], [(str(item["message"]).splitlines() or [""])[0] for item in result.chain]
        detail = [f"{i * '  '}{item['type']}: {line[:160]}" for i, (item, line) in enumerate(zip(result.chain, lines))]
        call = f"acompletion({model}, max_tokens=1, num_retries=0, timeout={self.timeout:g})"
        summary = f"{call} failed after {result.seconds:.1f} s: {known.words} [LiteLLM said: {lines[0][:120] if lines and lines[0] else '?'}]"
        owner = causes.OWNER.get(known.where, "endpoint")
        caused_by = owner if owner in failed_checks else ""
        return Finding(CHECK, FAIL, summary, causes.fix(cause, view), cause, view.source, known.layer + 0.5, detail, caused_by)


CHECK = "live-probe"
Chain = list[dict[str, Any]]

# Without a proxy error: (cause, exception type names, message texts, HTTP statuses); the first that matches names it.
_CHAIN_CAUSES = (
    ("tls-verify", ("SSLCertVerificationError", "ClientConnectorCertificateError"), ("CERTIFICATE_VERIFY_FAILED",), ()),
    ("tls-error", ("ssl.SSLError", "ClientSSLError", "ClientConnectorSSLError"), (), ()),
    ("dns", ("gaierror", "ClientConnectorDNSError"), (), ()),
    ("connect-refused", ("ConnectionRefusedError",), (), ()),  # or errno 111 anywhere
    ("connect-timeout", ("ConnectTimeout", "ConnectionTimeoutError"), (), ()),
    ("timeout", ("Timeout",), (), ()),
    ("connection-reset", ("ConnectionResetError", "ServerDisconnectedError", "RemoteProtocolError", "ClientOSError"), (), ()),
    ("key-missing", (), ("Missing credentials", "api_key client option must be set", "OPENAI_API_KEY environment variable"), ()),
    ("provider-unknown", (), ("LLM Provider NOT provided",), ()),
    ("connection-reset", ("APIConnectionError",), (), ()),
    ("auth", ("AuthenticationError", "PermissionDeniedError"), (), (401, 403)),  # the endpoint answered
    ("model-unknown", ("NotFoundError",), (), (404,)),
    ("bad-request", ("BadRequestError",), (), (400,)),
    ("rate-limited", ("RateLimitError",), (), (429,)),
)
_STATUS_IN_TEXT = re.compile(r"(?:^|[ ,:=(])(40[0-9]|50[0-9])(?:$|[ ,:;)])")


def _typed(chain: Chain, *names: str) -> dict[str, Any] | None:
    """The outermost error whose type contains one of ``names``."""
    return next((item for item in chain if any(n in item.get("type", "") for n in names)), None)


def _says(chain: Chain, *texts: str) -> bool:
    return any(t.lower() in str(item.get("message", "")).lower() for item in chain for t in texts)


def _proxy_cause(chain: Chain, proxy_item: dict[str, Any]) -> str:
    """What went wrong with the proxy, the chain having a proxy error in it."""
    root = chain[-1]
    if "gaierror" in root.get("type", "") or _typed(chain, "DNSError"):
        return "proxy-dns"
    if "ConnectionRefused" in root.get("type", "") or root.get("errno") == 111:
        return "proxy-refused"
    if _typed(chain, "Timeout"):
        return "proxy-timeout"
    item = _typed(chain, "ClientHttpProxyError") or proxy_item
    found = _STATUS_IN_TEXT.search(str(item.get("message", "")))
    status = item["status_code"] if isinstance(item.get("status_code"), int) else int(found.group(1)) if found else 0
    return "proxy-error" if not status else "proxy-auth" if status == 407 else "proxy-upstream" if status >= 500 else "proxy-rejected"


def classify(chain: Chain) -> str:
    """The root cause of a failed LiteLLM call, from its exception chain (pure)."""
    proxy_item = _typed(chain, "ProxyConnectionError", "ProxyError")
    if proxy_item:
        return _proxy_cause(chain, proxy_item)
    refused = any(item.get("errno") == 111 for item in chain)
    status = next((s for s in (item.get("status_code") for item in chain) if isinstance(s, int) and 100 <= s < 600), None)
    for cause, types, texts, statuses in _CHAIN_CAUSES:
        if _typed(chain, *types) or _says(chain, *texts) or status in statuses or (cause == "connect-refused" and refused):
            unknown = _says(chain, "not a valid model", "model_not_found", "does not exist", "invalid model") and _says(chain, "model")
            return "model-unknown" if cause == "bad-request" and unknown else cause
    return "server-error" if status is not None and status >= 500 else "unknown"
