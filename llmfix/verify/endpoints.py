"""Where a verify run's cases send their requests: the mock endpoints, tinyproxy, and each lane's environment
(``$placeholders`` filled with the lane's scope of the endpoints, ``/scope/<checkout>-<case>-<lane>/v1``)."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from contextlib import ExitStack
from typing import Any

from llmfix.proxy import ProxyUnavailable, Tinyproxy, closed_port, tinyproxy_path
from llmfix.verify.cases import Case, Settings, Step
from llmfix.verify.reaper import Reaper

KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT", "USER", "LOGNAME")
DUMMY_KEY = "sk-llmfix-verify-dummy"
PLACEHOLDERS = ("mock", "fallback", "dead_base", "dead_proxy", "proxied_base", "proxied_ca", "proxy")


def base_env(settings: Settings) -> dict[str, str]:
    """The child's environment: a few process basics and verify's own settings, nothing of the user's LLM setup."""
    return {**{name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ},
            "PYTHONDONTWRITEBYTECODE": "1",  # leave no __pycache__ in the checkout
            "PYTHONUNBUFFERED": "1", "OPENAI_API_BASE": "$mock", "OPENAI_API_KEY": DUMMY_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_NUM_RETRIES": str(settings.retries), "LITELLM_DEFAULT_TIMEOUT": f"{settings.timeout:g}", "LITELLM_FALLBACK_MODELS": "",
            "LITELLM_PRECHECK_TIMEOUT": f"{settings.precheck_timeout_passing:g}"}


def resolve_env(base: dict[str, str], overrides: dict[str, str | None], resources: dict[str, str | None]) -> dict[str, str]:
    """``base`` updated with ``overrides``, verify's own ``$name`` placeholders filled from ``resources`` (a user's
    ``$`` stays); a value that is just a placeholder whose resource is None is dropped, like an override of None."""
    env: dict[str, str] = {}
    for name, value in {**base, **overrides}.items():
        if value is None or (value.startswith("$") and value[1:] in resources and resources[value[1:]] is None):
            continue
        for key in sorted(PLACEHOLDERS, key=len, reverse=True):
            if f"${key}" in value and resources.get(key) is not None:
                value = value.replace(f"${key}", str(resources[key]))
        env[name] = value
    return env


class Endpoints:
    """The mock servers and the proxy of a run (shared by every checkout and case), stopped together."""

    def __init__(self, stack: ExitStack, reaper: Reaper, want_proxy: bool) -> None:
        from llmfix.mockllm import MockLLM  # aiohttp: only when cases run

        self.primary = self.proxied = stack.enter_context(MockLLM())
        self.fallback = stack.enter_context(MockLLM())
        self.proxy: Tinyproxy | None = None
        self.proxy_missing = "no proxy started"
        self.notes: list[str] = []
        self.fixed: dict[str, str | None] = {"dead_base": f"http://127.0.0.1:{closed_port()}/v1", "dead_proxy": f"http://127.0.0.1:{closed_port()}",
                                             "proxied_ca": None, "proxy": None}
        if not want_proxy:
            return
        proxy = Tinyproxy()
        try:
            proxy.start()
        except ProxyUnavailable as error:
            self.proxy_missing = str(error) if tinyproxy_path() else "tinyproxy not found on PATH (apt-get install tinyproxy)"
            return
        reaper.watch_folder(str(proxy.folder))
        stack.callback(proxy.stop)
        self.proxy, self.fixed["proxy"] = proxy, proxy.url
        try:
            import trustme  # optional: without it the proxied case runs over plain HTTP
        except ImportError:
            self.notes.append("9b ran over plain HTTP through the proxy; install trustme to exercise CONNECT + TLS")
            return
        ca = trustme.CA()  # a TLS mock signed by a throwaway CA: the production CONNECT path
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        folder = tempfile.mkdtemp(prefix="llmfix-verify-ca-")
        reaper.watch_folder(folder)
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        ca.cert_pem.write_to_path(os.path.join(folder, "ca.pem"))
        self.proxied = stack.enter_context(MockLLM(tls=context))
        self.fixed["proxied_ca"] = os.path.join(folder, "ca.pem")

    def server(self, case: Case) -> Any:
        return self.proxied if case.server == "proxied" else self.primary

    def resources(self, scope: str) -> dict[str, str | None]:
        """The placeholder values for one lane: the scoped endpoint URLs and the run-wide ones."""
        return {**self.fixed, "mock": self.primary.scope(scope).base_url, "fallback": self.fallback.scope(scope).base_url,
                "proxied_base": self.proxied.scope(scope).base_url}

    def prepare(self, case: Case, scope: str, settings: Settings) -> None:
        server = self.server(case)
        server.retry_after = settings.retry_after
        lane = server.scope(scope)
        lane.each, lane.default = list(case.endpoint.each), case.endpoint.then
        lane.content, self.fallback.scope(scope).content = case.answers

    def counts(self, case: Case, lanes: list[tuple[str, list[Step]]]) -> tuple[dict[str, int], dict[str, list[str]], dict[str, int]]:
        """Attempts, models and connection checks (one-token requests) per step of the lanes (scope, steps), as each scope saw them."""
        attempts: dict[str, int] = {}
        models: dict[str, list[str]] = {}
        probes: dict[str, int] = {}
        for scope, steps in lanes:
            lane = self.server(case).scope(scope)
            seen, bodies = lane.keys, [(r["key"], r["body"]) for r in lane.requests if isinstance(r.get("body"), dict)]
            checks = [key for key, body in bodies if 1 in (body.get("max_tokens"), body.get("max_completion_tokens"))]
            for step in steps:
                key = step.key if step.key else (seen[0] if seen else None)  # a fixed model's first request is its own
                attempts[step.label] = lane.attempts(key) if key else 0
                models[step.label] = [key] if key in seen else []
                probes[step.label] = checks.count(key) if key else 0
        return attempts, models, probes
