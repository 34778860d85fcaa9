"""Shared fixtures: the mock OpenAI endpoint (plain and TLS), tinyproxy, a dead proxy.

Everything here stays on 127.0.0.1. The environment is scrubbed of proxy variables at
session start so a developer's own proxy cannot leak into the tests; a test that needs
one sets it with ``monkeypatch.setenv``.
"""

from __future__ import annotations

import os

# Must precede any litellm import: otherwise litellm fetches its model-cost map from the net.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import ssl  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

import pytest  # noqa: E402
import trustme  # noqa: E402

from llmfix.mockllm import MockLLM  # noqa: E402
from llmfix.proxy import ProxyUnavailable, Tinyproxy, closed_port  # noqa: E402

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup``, the tests sharing a module-scoped fixture run on one worker.

    Such a fixture (a batch of verify runs, the upstream suites, the fixtures' imports) is set up
    once per worker that runs one of its tests: split over two workers, it is paid twice. A test
    already in a group keeps it (xdist would join the names into a third group). The groups
    are collected first.
    """
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group") is not None:
            continue
        if any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    # The groups first: their setups are the long ones, and started last they would run alone at the end.
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Drop the developer's proxy settings before any test runs."""
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture
def mock_llm() -> Iterator[MockLLM]:
    """A fresh plain-HTTP MockLLM on 127.0.0.1."""
    with MockLLM() as server:
        yield server


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throwaway certificate authority for the TLS fixtures."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PEM file holding the test CA (for SSL_CERT_FILE / httpx ``verify=``)."""
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_mock_llm(tls_ca: trustme.CA) -> Iterator[MockLLM]:
    """A MockLLM serving HTTPS with a cert for 127.0.0.1 and localhost signed by ``tls_ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with MockLLM(tls=context) as server:
        yield server


@pytest.fixture
def tinyproxy() -> Iterator[Tinyproxy]:
    """A running tinyproxy; fails (never skips) when the binary is missing."""
    try:
        proxy = Tinyproxy()
        proxy.start()
    except ProxyUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def dead_proxy_url() -> str:
    """A proxy URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{closed_port()}"


@pytest.fixture(autouse=True)
def _fresh_litellm_clients() -> Iterator[None]:
    """Forget litellm's cached SDK clients after each test.

    Measured with litellm 1.110.2: the proxy env (http(s)_proxy, no_proxy) and SSL_CERT_FILE
    are read only when litellm builds an SDK client. Clients are cached in
    ``litellm.in_memory_llm_clients_cache`` for an hour, keyed on api_key hash, api_base,
    timeout, max_retries (and, for async calls, the running event loop). So an env change is
    ignored by a later call with the same key in the same loop, and by any later sync call;
    ``flush_cache()`` makes the next call build a fresh client. Sync clients are closed here
    first (they keep pooled sockets); async ones can only be closed on their own loop, so
    async tests should ``await litellm.close_litellm_async_clients()`` before their loop ends.
    Nothing is imported here: litellm is only reset when a test already imported it.
    """
    yield
    litellm = sys.modules.get("litellm")
    openai = sys.modules.get("openai")
    if litellm is None or openai is None:
        return
    cache = litellm.in_memory_llm_clients_cache
    for client in list(cache.cache_dict.values()):
        if isinstance(client, openai.OpenAI):
            client.close()
    cache.flush_cache()


@pytest.fixture(scope="session")
def checkouts(tmp_path_factory: pytest.TempPathFactory):
    """Shared read-only pristine and patched copies of the fixture checkouts (see support.Checkouts).

    Under xdist the patched ones are made once for all workers, in the run's temp folder (each
    worker's own is a child of it).
    """
    from support import Checkouts

    run = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None
    return Checkouts(tmp_path_factory.mktemp("checkouts"), run / "patched-checkouts" if run else None)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the figures tests left in support.SUMMARY (the footprint per fixture, for one)."""
    support = sys.modules.get("support")
    for title, lines in sorted(getattr(support, "SUMMARY", {}).items()):
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)


_FIXTURES_DIGEST: dict[str, str] = {}


def _fixtures_digest() -> str:
    """One digest of every file of the repository's checkouts: fixtures/ and tests/**/checkouts/ (paths and bytes)."""
    import hashlib

    repo = Path(__file__).resolve().parent.parent
    folders = [repo / "fixtures", *sorted((repo / "tests").glob("**/checkouts"))]
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def pytest_configure(config: pytest.Config) -> None:
    """Remember the repository's checkouts as they are: tests work on copies, never on them (checked at the end)."""
    _FIXTURES_DIGEST["start"] = _fixtures_digest()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "start" in _FIXTURES_DIGEST and _fixtures_digest() != _FIXTURES_DIGEST["start"]:
        session.config.get_terminal_writer().line("\nfixtures/ or tests/**/checkouts/ changed during the run: a test wrote to them instead of a copy", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
