"""Doctor test helpers: a loopback-only guard, short network timeouts, env builders."""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from llmfix.doctor import netprobe

_violations: list[str] = []
_guard_on = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _guard_on or event != "socket.connect":
        return
    try:
        address = args[1]
        if isinstance(address, tuple) and address:
            host = address[0]
            if not ipaddress.ip_address(host).is_loopback:
                _violations.append(f"{host}:{address[1] if len(address) > 1 else '?'}")
    except (ValueError, TypeError, IndexError):
        pass


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail any doctor test that connects to a non-loopback address (in this process)."""
    global _guard_on
    _violations.clear()
    _guard_on = True
    try:
        yield
    finally:
        _guard_on = False
    assert not _violations, f"test left loopback: {_violations}"


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep hang/blackhole cases short; the defaults are exercised by the timing test."""
    monkeypatch.setattr(netprobe, "HTTP_TIMEOUT", 1.5)
    monkeypatch.setattr(netprobe, "CONNECT_TIMEOUT", 1.5)
    monkeypatch.setattr(netprobe, "TLS_TIMEOUT", 1.5)
    monkeypatch.setattr(netprobe, "TCP_TIMEOUT", 1.5)


@pytest.fixture(scope="session")
def litellm_imported() -> None:
    """Import litellm once, up front, so no probe races its 3-12 s first import against the
    doctor's online time budget (and no teardown sees a half-imported module)."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: F401
