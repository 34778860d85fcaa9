"""The live probe: one ``litellm.acompletion(max_tokens=1, num_retries=0, timeout=T)`` made the way
the patched helper makes it, model, base, key and proxies all from the environment.

It runs in a worker thread (importing litellm takes 2-8 s while the other checks run), with
``os.environ`` swapped for the doctor's env mapping for the call (LiteLLM reads proxies, base URL,
key and CA bundle from it), ``LITELLM_LOCAL_MODEL_COST_MAP=True`` so the import fetches nothing,
and LiteLLM's client cache flushed so an earlier probe's client is not reused."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmfix.doctor.redact import redact_url

PROBE_TIMEOUT = 4.0
_GRACE = 2.0
_ENV_LOCK = threading.Lock()
_SSL_NOISE = re.compile(r" ssl:(<[^>]*>|True|False|default)")
_GLOBALS = ("api_base", "api_key", "openai_key", "aclient_session")  # module globals a host program may have set
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "openai")


@dataclass
class ProbeResult:
    model: str
    ok: bool = False
    seconds: float = 0.0
    import_seconds: float = 0.0
    chain: list[dict[str, Any]] = field(default_factory=list)  # the exception chain, outermost first
    error: str = ""  # the probe itself could not run (litellm missing, did not finish)
    phase: str = "starting"  # starting, importing litellm, calling, done


def exception_chain(exc: BaseException | None, limit: int = 20) -> list[dict[str, Any]]:
    """Outermost first, following ``__cause__`` then ``__context__``."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(out) < limit:
        seen.add(id(exc))
        status, err = getattr(exc, "status_code", None), getattr(exc, "errno", None)
        out.append({"type": f"{type(exc).__module__}.{type(exc).__qualname__}".replace("builtins.", ""),
                    "message": redact_url(_SSL_NOISE.sub("", str(exc)))[:500],
                    "status_code": status if isinstance(status, int) else None, "errno": err if isinstance(err, int) else None})
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


def _run(env: Mapping[str, str], model: str, timeout: float, result: ProbeResult) -> None:
    with _as_the_job(env):
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
            asyncio.run(_call(litellm, model, timeout))
        except Exception as exc:  # noqa: BLE001 - whatever the call raised is the finding
            result.chain = exception_chain(exc)
        finally:
            for n, v in saved.items():
                setattr(litellm, n, v)
        result.ok, result.seconds, result.phase = not result.chain, time.monotonic() - start, "done"


async def _call(litellm: Any, model: str, timeout: float) -> Any:
    try:
        return await asyncio.wait_for(litellm.acompletion(model=model, messages=[{"role": "user", "content": "Reply with one word: ok"}],
                                                          max_tokens=1, num_retries=0, timeout=timeout), timeout + _GRACE)
    finally:  # leave nothing for LiteLLM's atexit handlers (seconds at exit): its queued logging, its clients
        with contextlib.suppress(Exception):  # litellm's internal API: best effort
            from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER  # litellm is imported by now

            await asyncio.wait_for(GLOBAL_LOGGING_WORKER.stop(discard_pending=True, timeout=0.5), 1.0)
        with contextlib.suppress(Exception):
            from litellm.llms.custom_httpx.async_client_cleanup import close_litellm_async_clients  # litellm is imported by now

            await asyncio.wait_for(close_litellm_async_clients(), 1.0)


class LiveProbe:
    """Start with ``start()``, collect with ``result(seconds)``."""

    def __init__(self, env: Mapping[str, str], model: str, timeout: float = PROBE_TIMEOUT) -> None:
        self.env, self.model, self.timeout = dict(env), model, timeout
        self._result, self._started = ProbeResult(model), 0.0
        self._thread = threading.Thread(target=self._target, name="doctor-live-probe", daemon=True)

    def _target(self) -> None:
        try:
            _run(self.env, self.model, self.timeout, self._result)
        except BaseException as exc:  # noqa: BLE001 - never let the thread die silently
            self._result.error = f"probe crashed: {type(exc).__name__}: {redact_url(str(exc))}"

    def start(self) -> LiveProbe:
        self._started = time.monotonic()
        self._thread.start()
        return self

    @property
    def phase(self) -> str:
        return self._result.phase

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when the probe has finished."""
        self._thread.join(max(seconds, 0.0))
        return not self._thread.is_alive()

    def result(self, wait: float) -> ProbeResult:
        if self.wait(wait):
            return self._result
        took = time.monotonic() - self._started
        why = (f"still importing litellm after {took:.0f} s (a slow or busy machine)" if self._result.phase == "importing litellm"
               else f"no answer within {took:.0f} s ({self._result.phase})")
        return ProbeResult(self.model, error=f"the probe did not finish: {why}")
