"""With OPENAI_API_BASE and OPENAI_BASE_URL unset, LiteLLM uses https://api.openai.com/v1:
the doctor names it as the default and never tells the user to fix a variable that is unset.

No test leaves the machine: name resolution of anything but loopback fails here, as it does
on a machine without DNS, and the loopback guard (conftest) catches any connection."""

from __future__ import annotations

import json
import re
import socket

import pytest
from click.testing import CliRunner
from doctor_support import cli_env, make_env

from llmfix.doctor.command import doctor_command

pytestmark = pytest.mark.usefixtures("litellm_imported")
UNSET = ("OPENAI_API_BASE", "OPENAI_BASE_URL")


@pytest.fixture
def no_dns(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost", "::1"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


BLAME = re.compile(r"\b(in|of|check|fix|from)( the (host name|port|path|scheme))?( in| of)? (?P<var>OPENAI_API_BASE|OPENAI_BASE_URL)\b"
                   r"|(?P<var2>OPENAI_API_BASE|OPENAI_BASE_URL) (uses|points|ends)")


def _blames_an_unset_variable(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if BLAME.search(line)]


@pytest.mark.parametrize("args", [[], ["--json"]], ids=["text", "json"])
def test_default_endpoint_is_named_as_the_default(no_dns, args):
    result = CliRunner().invoke(doctor_command, args, env=cli_env(make_env(None)))
    assert result.exit_code == 1, result.output
    out = result.stdout
    if "--json" in args:
        findings = json.loads(out)["findings"]
        endpoint = next(f for f in findings if f["check"] == "endpoint")
        assert endpoint["cause"] == "dns" and endpoint["status"] == "FAIL"
        out = "\n".join(f"{f['summary']}\n{f['fix']}\n" + "\n".join(f.get("detail", [])) for f in findings)
    assert "https://api.openai.com/v1 (LiteLLM's default; OPENAI_API_BASE is unset)" in out
    assert "fix the host name in OPENAI_API_BASE" not in out
    assert not _blames_an_unset_variable(out), _blames_an_unset_variable(out)
