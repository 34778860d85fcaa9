"""The live probe: one tiny ``litellm.acompletion`` made the way the patched helper makes it.

``max_tokens=1, num_retries=0, timeout=T``, model/base/key/proxies all from the environment,
exactly as ``run_litellm_async`` would. litellm is imported here only, lazily, with
``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first (its import otherwise fetches a remote cost
map). The probe runs in a worker thread so the other checks run while litellm imports
(2-8 s), and under the env mapping the doctor was given: ``os.environ`` is swapped for that
mapping for the duration of the call (LiteLLM reads proxies, base URL, key and CA bundle from
it) and restored afterwards. LiteLLM's client cache is flushed first so an earlier probe's
client, proxy and TLS choices are not reused.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from llmfix.doctor.redact import redact_url

PROBE_TIMEOUT = 4.0
_GRACE = 2.0
_ENV_LOCK = threading.Lock()
_SSL_NOISE = re.compile(r" ssl:(<[^>]*>|True|False|default)")
_GLOBALS = ("api_base", "api_key", "openai_key", "aclient_session")
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "openai")


@dataclass
class ProbeResult:
    model: str
    ok: bool = False
    seconds: float = 0.0
    import_seconds: float = 0.0
    content: str | None = None
    chain: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # the probe itself could not run (litellm missing, did not finish)
    phase: str = "starting"  # starting, importing litellm, calling, done

    @property
    def ran(self) -> bool:
        return not self.error


def exception_chain(exc: BaseException | None, limit: int = 20) -> list[dict[str, Any]]:
    """Outermost first, following ``__cause__`` then ``__context__``."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(out) < limit:
        seen.add(id(exc))
        status = getattr(exc, "status_code", None)
        err = getattr(exc, "errno", None)
        out.append(
            {
                "type": f"{type(exc).__module__}.{type(exc).__qualname__}".replace("builtins.", ""),
                "message": redact_url(_SSL_NOISE.sub("", str(exc)))[:500],
                "status_code": status if isinstance(status, int) else None,
                "errno": err if isinstance(err, int) else None,
            }
        )
        exc = exc.__cause__ or exc.__context__
    return out


class _Environ:
    """Swap os.environ for a mapping, and put it back."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.target = {str(k): str(v) for k, v in dict(env).items()}
        self.target["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        self.saved: dict[str, str] | None = None

    def __enter__(self) -> None:
        _ENV_LOCK.acquire()
        self.saved = dict(os.environ)
        if self.saved != self.target:
            os.environ.clear()
            os.environ.update(self.target)

    def __exit__(self, *exc: object) -> None:
        try:
            if self.saved is not None and dict(os.environ) != self.saved:
                os.environ.clear()
                os.environ.update(self.saved)
        finally:
            _ENV_LOCK.release()


def _quiet() -> dict[str, int]:
    levels = {}
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.CRITICAL)
    return levels


def _restore_loggers(levels: dict[str, int]) -> None:
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _run(env: Mapping[str, str], model: str, timeout: float, result: ProbeResult) -> None:
    with _Environ(env):
        levels = _quiet()
        try:
            start = time.monotonic()
            result.phase = "importing litellm"
            try:
                import litellm
            except Exception as exc:  # ImportError, or a broken install
                result.error = f"litellm cannot be imported: {type(exc).__name__}: {redact_url(str(exc))}"
                return
            result.import_seconds = time.monotonic() - start
            _quiet()  # litellm may have configured its loggers on import
            litellm.suppress_debug_info = True
            # Module globals a host program may have set would override the env, as they
            # would not in the training job: neutralise them for the call.
            saved_globals = {n: getattr(litellm, n) for n in _GLOBALS if hasattr(litellm, n)}
            for n in saved_globals:
                setattr(litellm, n, None)
            cache = getattr(litellm, "in_memory_llm_clients_cache", None)
            if cache is not None and hasattr(cache, "flush_cache"):
                cache.flush_cache()
            start = time.monotonic()
            result.phase = "calling"

            async def call() -> Any:
                try:
                    return await asyncio.wait_for(
                        litellm.acompletion(
                            model=model,
                            messages=[{"role": "user", "content": "Reply with one word: ok"}],
                            max_tokens=1,
                            num_retries=0,
                            timeout=timeout,
                        ),
                        timeout + _GRACE,
                    )
                finally:
                    await _cleanup()

            try:
                response = asyncio.run(call())
            except Exception as exc:
                response = None
                result.chain = exception_chain(exc)
            finally:
                for n, v in saved_globals.items():
                    setattr(litellm, n, v)
            if not result.chain:
                result.ok = True
                try:
                    result.content = response.choices[0].message.content
                except (AttributeError, IndexError, TypeError):
                    result.content = None
            result.seconds = time.monotonic() - start
            result.phase = "done"
        finally:
            _restore_loggers(levels)


async def _cleanup() -> None:
    """Leave nothing for LiteLLM's atexit handlers (they would add seconds to the exit):
    drop the queued logging callbacks of the probe call and close its HTTP clients."""
    try:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.stop(discard_pending=True, timeout=0.5), 1.0)
    except Exception:  # an internal API: best effort only
        pass
    try:
        from litellm.llms.custom_httpx.async_client_cleanup import close_litellm_async_clients

        await asyncio.wait_for(close_litellm_async_clients(), 1.0)
    except Exception:
        pass


class LiveProbe:
    """Start with ``start()``, collect with ``result(deadline)``."""

    def __init__(self, env: Mapping[str, str], model: str, timeout: float = PROBE_TIMEOUT) -> None:
        self.env = dict(env)
        self.model = model
        self.timeout = timeout
        self._result = ProbeResult(model)
        self._thread = threading.Thread(target=self._target, name="doctor-live-probe", daemon=True)
        self._started = 0.0

    def _target(self) -> None:
        try:
            _run(self.env, self.model, self.timeout, self._result)
        except BaseException as exc:  # never let the thread die silently
            self._result.error = f"probe crashed: {type(exc).__name__}: {redact_url(str(exc))}"

    def start(self) -> LiveProbe:
        self._started = time.monotonic()
        self._thread.start()
        return self

    @property
    def phase(self) -> str:
        """What the probe is doing: starting, importing litellm, calling, done."""
        return self._result.phase

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when the probe has finished."""
        self._thread.join(max(seconds, 0.0))
        return not self._thread.is_alive()

    def result(self, wait: float) -> ProbeResult:
        self._thread.join(max(wait, 0.0))
        if self._thread.is_alive():
            took = time.monotonic() - self._started
            if self._result.phase == "importing litellm":
                why = f"still importing litellm after {took:.0f} s (a slow or busy machine)"
            else:
                why = f"no answer within {took:.0f} s ({self._result.phase})"
            return ProbeResult(self.model, error=f"the probe did not finish: {why}")
        return self._result
