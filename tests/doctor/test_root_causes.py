"""Each root cause, against real parts on 127.0.0.1, is named and ranked first.

The live probe runs real litellm in-process (imported once per session, ~3-9 s); the
network checks use short timeouts (see conftest)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from doctor_support import TEST_KEY, by_check, cli_env, closed_url, make_env

from llmfix.doctor import netprobe
from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import FAIL, OK
from llmfix.doctor.runner import run_doctor

PROBE_TIMEOUT = 1.5
pytestmark = pytest.mark.usefixtures("litellm_imported")


def doctor(env: dict[str, str], **kw):
    kw.setdefault("probe_timeout", PROBE_TIMEOUT)
    return run_doctor(env=env, **kw)


def first(report):
    return report.findings[0]


def probe(report):
    (f,) = by_check(report.findings, "live-probe")
    return f


def test_healthy_endpoint_exits_0(mock_llm):
    mock_llm.models = ["gpt-4.1", "gpt-4.1-mini"]
    report = doctor(make_env(mock_llm.base_url))
    assert report.exit_code == 0, [f.to_json() for f in report.findings if f.status == FAIL]
    assert probe(report).status == OK
    assert by_check(report.findings, "endpoint")[0].status == OK
    assert mock_llm.attempts("gpt-4.1") == 1  # exactly one tiny completion


def test_dead_proxy_is_ranked_before_the_endpoint_it_breaks(mock_llm, dead_proxy_url):
    report = doctor(make_env(mock_llm.base_url, http_proxy=dead_proxy_url))
    top = first(report)
    assert (top.check, top.status, top.cause) == ("proxy", FAIL, "proxy-refused")
    assert "http_proxy=" + dead_proxy_url in top.summary
    assert "no_proxy=127.0.0.1" in top.fix
    assert probe(report).cause == "proxy-refused"  # LiteLLM's "Connection error." unwrapped
    endpoint = by_check(report.findings, "endpoint")[0]
    assert endpoint.caused_by == "proxy"
    order = [f.check for f in report.findings]
    assert order.index("proxy") < order.index("endpoint")
    assert report.exit_code == 1


def test_no_proxy_bypasses_a_dead_proxy(mock_llm, dead_proxy_url):
    report = doctor(make_env(mock_llm.base_url, http_proxy=dead_proxy_url, no_proxy="localhost,127.0.0.1"))
    assert report.exit_code == 0
    assert "no_proxy entry '127.0.0.1'" in by_check(report.findings, "proxy")[0].summary


def test_live_proxy_carries_the_calls(mock_llm, tinyproxy):
    mock_llm.models = ["gpt-4.1"]
    report = doctor(make_env(mock_llm.base_url, http_proxy=tinyproxy.url))
    assert report.exit_code == 0, [f.to_json() for f in report.findings if f.status == FAIL]
    proxy = by_check(report.findings, "proxy")[0]
    assert proxy.status == OK and "goes through" in proxy.summary
    assert probe(report).status == OK
    assert "127.0.0.1" in tinyproxy.log_text()


def test_proxy_that_cannot_reach_the_endpoint(tinyproxy):
    report = doctor(make_env(closed_url("https"), https_proxy=tinyproxy.url))
    top = first(report)
    assert (top.check, top.cause) == ("endpoint", "proxy-upstream")
    assert by_check(report.findings, "proxy")[0].status == OK


def test_invalid_key_401(mock_llm):
    mock_llm.require_key = "sk-the-right-one"
    report = doctor(make_env(mock_llm.base_url))
    top = first(report)
    assert (top.check, top.cause) == ("key", "auth")
    assert "401" in top.summary
    assert TEST_KEY not in json.dumps([f.to_json() for f in report.findings])
    assert "sk-te…" in top.summary
    assert probe(report).cause == "auth"


def test_unknown_model_listed_by_models(mock_llm):
    mock_llm.models = ["gpt-4.1-mini"]
    report = doctor(make_env(mock_llm.base_url, RUBRIC_GENERATION_MODEL="gpt-4.1"))
    top = first(report)
    assert (top.check, top.cause) == ("models", "model-unknown")
    assert "'gpt-4.1'" in top.summary
    assert probe(report).cause == "model-unknown"


def test_unknown_model_seen_only_by_the_probe(mock_llm):
    mock_llm.plan("gpt-4.1", ["404"])  # /models lists nothing; chat says model_not_found
    report = doctor(make_env(mock_llm.base_url))
    top = first(report)
    assert (top.check, top.cause) == ("live-probe", "model-unknown")


def test_hanging_endpoint(mock_llm):
    mock_llm.default = "hang"  # accepts, reads, never answers (chat and /models)
    report = doctor(make_env(mock_llm.base_url))
    top = first(report)
    assert (top.check, top.cause) == ("endpoint", "timeout")
    assert probe(report).cause == "timeout"


def test_hang_on_chat_only_is_named_by_the_probe(mock_llm):
    mock_llm.plan("gpt-4.1", ["hang"])
    report = doctor(make_env(mock_llm.base_url))
    top = first(report)
    assert (top.check, top.cause) == ("live-probe", "timeout")
    assert "timeout=1.5" in top.summary


def test_server_error(mock_llm):
    mock_llm.default = "500"
    report = doctor(make_env(mock_llm.base_url))
    assert (first(report).check, first(report).cause) == ("endpoint", "server-error")


def test_closed_port():
    report = doctor(make_env(closed_url()))
    top = first(report)
    assert (top.check, top.cause) == ("endpoint", "connect-refused")
    assert probe(report).cause == "connect-refused"


def test_unresolvable_host():
    report = doctor(make_env("http://llm-endpoint.invalid/v1"))
    top = first(report)
    assert (top.check, top.cause) == ("endpoint", "dns")
    assert "llm-endpoint.invalid" in top.summary
    assert probe(report).cause == "dns"


def test_untrusted_tls_certificate(tls_mock_llm, monkeypatch):
    """A certificate is refused at once, so the probe and the handshake get long timeouts here: on a
    loaded machine a 1.5 s limit can expire before the handshake, and the cause would read as a timeout."""
    monkeypatch.setattr(netprobe, "TLS_TIMEOUT", 10.0)
    report = doctor(make_env(tls_mock_llm.base_url), probe_timeout=10.0)
    top = first(report)
    assert (top.check, top.cause) == ("endpoint", "tls-verify")
    assert "SSL_CERT_FILE" in top.fix
    assert probe(report).cause == "tls-verify"


def test_proxy_and_tls_trusted_through_ssl_cert_file(tls_mock_llm, tinyproxy, ca_bundle):
    tls_mock_llm.models = ["gpt-4.1"]
    env = make_env(tls_mock_llm.base_url, https_proxy=tinyproxy.url, SSL_CERT_FILE=str(ca_bundle))
    report = doctor(env)
    assert report.exit_code == 0, [f.to_json() for f in report.findings if f.status == FAIL]
    assert "CONNECT" in tinyproxy.log_text()
    assert probe(report).status == OK


def test_missing_key_offline():
    env = make_env(closed_url())
    del env["OPENAI_API_KEY"]
    report = run_doctor(env=env, offline=True)
    assert (first(report).check, first(report).cause) == ("key", "key-missing")


def test_launcher_exports_a_dead_proxy(tmp_path, mock_llm, dead_proxy_url):
    """The shell is healthy; the launcher the job runs with is not: its proxy ranks first."""
    (tmp_path / "train.sh").write_text(
        f"#!/bin/bash\nexport http_proxy={dead_proxy_url}\npython open_instruct/grpo_fast.py --apply_adaptive_rubric_reward true\n"
    )
    report = doctor(make_env(mock_llm.base_url), path=tmp_path)
    top = first(report)
    assert (top.source, top.check, top.cause) == ("train.sh", "proxy", "proxy-refused")
    assert probe(report).status == OK  # the probe uses the shell's own environment
    launcher = by_check(report.findings, "launcher", "train.sh")[0]
    assert "--apply_adaptive_rubric_reward true" in launcher.summary


# ----------------------------------------------------------------------------- the click command


def test_cli_dead_proxy_json(mock_llm, dead_proxy_url):
    env = make_env(mock_llm.base_url, http_proxy=dead_proxy_url)
    result = CliRunner().invoke(doctor_command, ["--json"], env=cli_env(env))
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert set(data) >= {"findings"}
    for f in data["findings"]:
        assert {"check", "status", "summary", "fix"} <= set(f)
        assert f["status"] in ("OK", "WARN", "FAIL")
    assert data["findings"][0]["check"] == "proxy" and data["findings"][0]["status"] == "FAIL"


def test_cli_healthy_text(mock_llm):
    env = make_env(mock_llm.base_url)
    result = CliRunner().invoke(doctor_command, [], env=cli_env(env))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("llmfix doctor:")
    assert "live-probe" in result.output and TEST_KEY not in result.output


def test_cli_bad_path_exit_2(tmp_path):
    result = CliRunner().invoke(doctor_command, [str(tmp_path / "missing"), "--offline"])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output  # CliRunner mixes stderr in
    assert "Traceback" not in result.output


def test_star_inside_no_proxy_list_does_not_bypass_for_async_calls(mock_llm, dead_proxy_url):
    """httpx would bypass on 'foo,*'; LiteLLM's async (aiohttp) path does not. The doctor
    follows the async path, proved by the real probe, and warns that the paths disagree."""
    report = doctor(make_env(mock_llm.base_url, http_proxy=dead_proxy_url, no_proxy="foo,*"))
    assert (first(report).check, first(report).cause) == ("proxy", "proxy-refused")
    assert probe(report).cause == "proxy-refused"
    assert any(f.cause == "proxy-rules-differ" for f in report.findings)


def test_model_option_is_checked_and_probed(mock_llm):
    mock_llm.models = ["gpt-4.1-mini"]
    report = doctor(make_env(mock_llm.base_url, RUBRIC_JUDGE_MODEL="gpt-4.1-mini"), model="openai/gpt-4.1-mini")
    assert report.exit_code == 0, [f.to_json() for f in report.findings if f.status == FAIL]
    assert mock_llm.attempts("gpt-4.1-mini") == 1  # the probe sent the --model id, prefix stripped
    assert any("--model 'openai/gpt-4.1-mini': LiteLLM sends 'gpt-4.1-mini'" in f.summary for f in by_check(report.findings, "models"))
