"""The doctor never shows a proxy password or a URL credential, in text or JSON.

Every URL it shows, and every exception text of the live probe, goes through the
one redaction function llmfix also inserts into targets (llmfix.codemods.runtime.redact).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from doctor_support import by_check, cli_env, closed_url, make_env

from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import FAIL, render_json, render_text
from llmfix.doctor.runner import run_doctor
from llmfix.proxy import closed_port

PASSWORD = "Pr0xyPassw0rd"
PROBE_TIMEOUT = 1.5


def proxied(base_url: str, proxy: str) -> dict[str, str]:
    return make_env(base_url, http_proxy=proxy, https_proxy=proxy, HTTPS_PROXY=proxy)


def both_renderings(env: dict[str, str], offline: bool) -> tuple[str, str, object]:
    report = run_doctor(env=env, offline=offline, probe_timeout=PROBE_TIMEOUT)
    return render_text(report), render_json(report), report


@pytest.mark.parametrize("offline", [True, False], ids=["offline", "live-probe"])
def test_dead_proxy_with_password(offline, litellm_imported):
    proxy = f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}"
    text, data, report = both_renderings(proxied(closed_url(), proxy), offline)
    assert PASSWORD not in text and PASSWORD not in data
    assert "alice:***@127.0.0.1" in text  # shown, redacted
    if not offline:
        (probe,) = by_check(report.findings, "live-probe")
        assert probe.status == FAIL and probe.cause == "proxy-refused"


def test_password_in_the_probes_exception_chain(tinyproxy, litellm_imported):
    """A live proxy that answers the tunnel with an error: aiohttp puts the proxy URL,
    password and all, into its exception text (ClientHttpProxyError)."""
    proxy = tinyproxy.url.replace("http://", f"http://alice:{PASSWORD}@")
    text, data, report = both_renderings(proxied(closed_url("https"), proxy), offline=False)
    (probe,) = by_check(report.findings, "live-probe")
    assert any("ClientHttpProxyError" in line and "alice:***@127.0.0.1" in line for line in probe.detail)
    assert PASSWORD not in text and PASSWORD not in data


def test_proxy_without_scheme_and_base_url_with_credentials(litellm_imported):
    proxy = f"alice:{PASSWORD}@127.0.0.1:{closed_port()}"
    base = f"http://bob:Ba5eSecret@127.0.0.1:{closed_port()}/v1/chat/completions?api-key=K3ySecret"
    env = proxied(base, proxy)
    for offline in (True, False):
        text, data, _ = both_renderings(env, offline)
        for secret in (PASSWORD, "Ba5eSecret", "K3ySecret"):
            assert secret not in text and secret not in data


def test_cli_text_and_json(litellm_imported):
    env = proxied(closed_url(), f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}")
    for args in (["--offline"], ["--offline", "--json"], ["--json"], []):
        result = CliRunner().invoke(doctor_command, args, env=cli_env(env))
        assert result.exit_code == (0 if "--offline" in args else 1), result.output
        assert PASSWORD not in result.output and "alice:***@" in result.output
        if "--json" in args:
            json.loads(result.output)


def test_bearer_token_in_a_fallbacks_header_is_redacted(tmp_path):
    """A fallback object may carry its own headers; a launcher line shows the JSON as written."""
    token = "Bearer9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    fallbacks = '[{"model": "openai/x", "api_base": "http://127.0.0.1:9/v1", "extra_headers": {"Authorization": "Bearer ' + token + '"}}]'
    (tmp_path / "train.sh").write_text(f"export LITELLM_FALLBACK_MODELS='{fallbacks}'\n")
    result = CliRunner().invoke(doctor_command, [str(tmp_path), "--offline", "--json"], env=cli_env(make_env(None)))
    assert "LITELLM_FALLBACK_MODELS" in result.output
    assert token not in result.output
