"""The root causes the doctor names, one table for the checks and the live probe: each one's causal layer, what it
means and its fix, written for the environment at hand (for LiteLLM's default base URL, blaming no variable)."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import LAYER

PROXY_HINT = "export https_proxy=http://PROXY:PORT"
DEFAULT_TAIL = "; if your endpoint is not {base}: export {var}=https://HOST/v1"

OWNER = {"proxy": "proxy", "key": "key", "model": "models", "probe": "live-probe"}  # the check a layer's causes belong to, else endpoint


class Cause(NamedTuple):
    where: str  # its causal layer (a key of LAYER)
    words: str
    fix: str

    @property
    def layer(self) -> float:
        return LAYER[self.where]


_RESTART_PROXY = "start the proxy or correct {pvar}; if {host} is reachable without it: unset {pvar}, or {bypass}"
CAUSES = {
    "proxy-refused": Cause("proxy", "the proxy refused the connection (nothing listens at the proxy address)", _RESTART_PROXY),
    "proxy-error": Cause("proxy", "the connection through the proxy failed", _RESTART_PROXY),
    "proxy-dns": Cause("proxy", "the proxy's host name does not resolve", "fix the host in {pvar}, or bypass it: {bypass}"),
    "proxy-timeout": Cause("proxy", "the proxy did not answer in time", "check the proxy, or bypass it: {bypass}"),
    "proxy-rejected": Cause("proxy", "the proxy rejected the tunnel to the endpoint", "ask for {host}:443 to be allowed through the proxy, or {bypass}"),
    "proxy-auth": Cause("proxy", "the proxy wants credentials (407)", "put credentials in the proxy URL: export {pvar}=http://USER:PASSWORD@{phost}:PORT"),
    "proxy-scheme": Cause("proxy", "LiteLLM cannot use a proxy of that scheme", "export {pvar}=http://PROXYHOST:PORT  (an HTTP proxy)"),
    "proxy-upstream": Cause(
        "tcp",
        "the proxy works but could not reach the endpoint (it answered the tunnel with 5xx)",
        "check {var} (host and port); from a machine without the proxy: curl {base}/models",
    ),
    "dns": Cause("dns", "the endpoint's host name does not resolve (DNS)", "fix the host name in {var}, or your DNS (a proxy may be needed: {hint})"),
    "connect-refused": Cause(
        "tcp",
        "the endpoint refused the connection (nothing listens on that port)",
        "nothing listens at {host}:{port}: start the server or fix the port in {var}",
    ),
    "connect-timeout": Cause(
        "tcp",
        "connecting to the endpoint timed out (blackholed or filtered)",
        "{host}:{port} does not answer: a firewall may need a proxy ({hint}), or fix {var}",
    ),
    "connect-error": Cause("tcp", "the connection to the endpoint failed", "check {var}"),
    "tls-verify": Cause(
        "tls",
        "the endpoint's TLS certificate is not trusted (certificate verify failed)",
        "export SSL_CERT_FILE=/path/to/ca-bundle.pem  (the CA that signed it; e.g. your corporate proxy's CA)",
    ),
    "tls-error": Cause("tls", "the TLS handshake with the endpoint failed", "check that {var} uses the right scheme (http vs https) and port"),
    "connection-reset": Cause("http", "the endpoint dropped the connection", "check that {var} points at an OpenAI-compatible server (scheme and port)"),
    "timeout": Cause(
        "http",
        "the endpoint accepted the request but did not answer in time (timeout)",
        "the endpoint hangs: check the server; meanwhile keep LITELLM_DEFAULT_TIMEOUT short (e.g. export LITELLM_DEFAULT_TIMEOUT=60)",
    ),
    "server-error": Cause(
        "http",
        "the endpoint answered with a server error (5xx)",
        "the endpoint is failing: retry later, or configure a fallback with its own api_base in LITELLM_FALLBACK_MODELS",
    ),
    "rate-limited": Cause("http", "the endpoint is rate limiting (429)", "wait, or raise your rate limit (retries obey Retry-After)"),
    "base-url-path": Cause(
        "http", "the server answers, but not as an OpenAI base URL (404)", "check the path of {var} (OpenAI-compatible bases usually end in /v1)"
    ),
    "http-status": Cause("http", "the endpoint answered with an unexpected status", "check {var}"),
    "auth": Cause("key", "the endpoint rejected the API key (401: invalid or expired)", "export {kvar}=<a valid key>  (check it at the provider's key page)"),
    "key-missing": Cause("key", "no API key is set", "export {kvar}=...  (see key)"),
    "model-unknown": Cause("model", "the endpoint does not know the model (404 / unknown model)", "use a model id the endpoint serves (see models)"),
    "provider-unknown": Cause("model", "LiteLLM cannot tell which provider the model name belongs to", "prefix the model with openai/ (see models)"),
    "bad-request": Cause("model", "the endpoint rejected the request (400)", "see the error text; check the model name and {var}"),
    "unknown": Cause("probe", "an error the doctor does not recognise", "see the exception chain in the detail"),
}
CAUSES["dns-timeout"] = CAUSES["dns"]._replace(words="resolving the endpoint's host name timed out")
# The fixes when the base URL is LiteLLM's default: they blame no variable (a cause not here keeps its own fix).
DEFAULT_FIXES = {
    "proxy-upstream": "ask for it to be allowed through the proxy",
    "dns": "{host} does not resolve from here: check your DNS, or reach it through a proxy ({hint})",
    "connect-refused": "{host}:{port} refuses connections from here: a firewall may need a proxy ({hint})",
    "connect-timeout": "{host}:{port} does not answer: a firewall may need a proxy ({hint})",
    "connect-error": "check your network",
    "tls-error": "something between here and the endpoint breaks TLS (an intercepting proxy?)",
    "connection-reset": "something between here and the endpoint drops the connection (a proxy may be needed)",
    "base-url-path": "something answers in the endpoint's place (an intercepting proxy?)",
    "http-status": "see the status above",
    "bad-request": "see the error text; check the model name",
}
DEFAULT_FIXES["dns-timeout"] = DEFAULT_FIXES["dns"]


def fix(cause: str, view: EnvView) -> str:
    ep, proxy_host = view.endpoint, urlsplit(view.choice.proxy or "").hostname or "PROXYHOST"
    bypass = f"export no_proxy={ep.host}  (or append {ep.host} to your existing no_proxy)"
    facts = dict(var=ep.base_variable, kvar=ep.key_variable, host=ep.host, port=ep.port, base=ep.base_url.strip(), hint=PROXY_HINT, bypass=bypass)
    facts.update(pvar=view.choice.variable or "the proxy variable", phost=proxy_host)
    if view.is_default and cause in DEFAULT_FIXES:
        return (DEFAULT_FIXES[cause] + DEFAULT_TAIL).format(**facts)
    return CAUSES[cause].fix.format(**facts)
