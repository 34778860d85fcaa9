"""Pure parts: classification of exception chains, budgets, redaction, env reading, ranking,
the checkout verdict, and the import/offline-time contracts of the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from doctor_support import REPO, cli_env

from llmfix.doctor import env as envmod
from llmfix.doctor.checks.checkout import interpret
from llmfix.doctor.checks.environment import route
from llmfix.doctor.checks.litellm_setup import budget, budget_findings
from llmfix.doctor.checks.live import classify
from llmfix.doctor.command import doctor_command
from llmfix.doctor.findings import FAIL, OK, WARN, Finding, rank
from llmfix.doctor.redact import redact_key, redact_url
from llmfix.doctor.runner import run_doctor


def chain(*items):
    return [{"type": t, "message": m, "status_code": s, "errno": e} for t, m, s, e in items]


CONN = ("litellm.exceptions.InternalServerError", "litellm.InternalServerError: OpenAIException - Connection error.", 500, None)
API = ("openai.APIConnectionError", "Connection error.", None, None)


@pytest.mark.parametrize(
    "items, cause",
    [
        ((CONN, API, ("httpx.ProxyError", "Cannot connect to host", None, None),
          ("aiohttp.client_exceptions.ClientProxyConnectionError", "Cannot connect", None, 111),
          ("ConnectionRefusedError", "[Errno 111] Connect call failed", None, 111)), "proxy-refused"),
        ((CONN, API, ("httpx.ProxyError", "x", None, None), ("socket.gaierror", "Name or service not known", None, -2)), "proxy-dns"),
        ((CONN, API, ("httpx.ProxyError", "503, message='Service Unavailable'", None, None),
          ("aiohttp.client_exceptions.ClientHttpProxyError", "503, message='Service Unavailable'", 503, None)), "proxy-upstream"),
        ((CONN, API, ("aiohttp.client_exceptions.ClientHttpProxyError", "407, message='Proxy Authentication Required'", 407, None)), "proxy-auth"),
        ((CONN, API, ("httpx.ConnectError", "x", None, None), ("ConnectionRefusedError", "refused", None, 111)), "connect-refused"),
        ((CONN, API, ("aiohttp.client_exceptions.ClientConnectorDNSError", "x", None, -2), ("socket.gaierror", "x", None, -2)), "dns"),
        ((CONN, API, ("ssl.SSLCertVerificationError", "[SSL: CERTIFICATE_VERIFY_FAILED]", None, 1)), "tls-verify"),
        ((("litellm.exceptions.Timeout", "litellm.Timeout: APITimeoutError", 408, None), ("httpx.ReadTimeout", "t", None, None)), "timeout"),
        ((("litellm.exceptions.AuthenticationError", "Incorrect API key provided.", 401, None),), "auth"),
        ((("litellm.exceptions.NotFoundError", "The model `x` does not exist", 404, None),), "model-unknown"),
        ((("litellm.exceptions.BadRequestError", "litellm.BadRequestError: LLM Provider NOT provided.", 400, None),), "provider-unknown"),
        ((("litellm.exceptions.InternalServerError", "The server had an error", 500, None),
          ("openai.InternalServerError", "Error code: 500", 500, None)), "server-error"),
        ((("litellm.exceptions.InternalServerError", "Missing credentials. Please pass an `api_key`", 500, None),), "key-missing"),
        ((("litellm.exceptions.RateLimitError", "Rate limit reached", 429, None),), "rate-limited"),
        ((("ValueError", "something else", None, None),), "unknown"),
    ],
)
def test_classify(items, cause):
    assert classify(chain(*items)) == cause


def test_budget_matches_targets_facts():
    b = budget(5, 600)
    assert b.outage == 0.5 + 1 + 2 + 4 + 8  # "5 retries span about 14 s" after jitter
    assert b.attempts == 6 and 3600 < b.seconds < 3700  # "about an hour"
    assert budget(10, 60, fallbacks=1).attempts == 22
    assert budget(2, 10, tenacity_layer=True).attempts == 9  # the tenacity layer re-runs SDK retries


def test_the_worst_case_is_reported():
    """What the budget says reaches the report: an unpatched helper at the default timeout hangs about an hour."""
    env = {"OPENAI_API_BASE": "http://127.0.0.1:9/v1", "LITELLM_DEFAULT_TIMEOUT": "600"}
    (f,) = [f for f in run_doctor(env=env, offline=True).findings if f.check == "litellm" and "worst case" in f.summary]
    assert "patched helper: worst case" in f.summary and "11 attempts" in f.summary  # 10 retries, llmfix's default
    assert any("unpatched DR Tulu async helper: 5 retries" in line and "6 attempts" in line for line in f.detail)


def test_redaction():
    assert redact_key("sk-or-v1-abcdef0123456789") == "sk-or-v1-ab…"
    assert redact_key("sk-proj-abcdefghijklmnop") == "sk-proj-ab…"
    assert redact_key("abc") == "…"
    assert redact_url("http://alice:s3cret@proxy:3128") == "http://alice:***@proxy:3128"
    assert "s3cret" not in redact_url("user:s3cret@proxy:3128")


def test_endpoint_precedence():
    assert envmod.endpoint_for_model({}, "gpt-4.1").base_url == "https://api.openai.com/v1"
    ep = envmod.endpoint_for_model({"OPENAI_API_BASE": "http://a/v1", "OPENAI_BASE_URL": "http://b/v1"}, "gpt-4.1")
    assert (ep.base_url, ep.base_source, ep.shadowed) == ("http://b/v1", "OPENAI_BASE_URL", ("OPENAI_API_BASE", "http://a/v1"))
    assert envmod.endpoint_for_model({"OR_API_KEY": "k"}, "openrouter/openai/gpt-4.1").key_source == "OR_API_KEY"


@pytest.mark.parametrize("name, raw", [("LITELLM_DEFAULT_TIMEOUT", "nan"), ("LITELLM_DEFAULT_TIMEOUT", "0"), ("LITELLM_NUM_RETRIES", "200"),
                                       ("LITELLM_NUM_RETRIES", "-1"), ("LITELLM_PRECHECK_TIMEOUT", "inf")])
def test_a_value_the_patched_code_rejects_is_a_problem(name, raw, monkeypatch):
    """The doctor accepts exactly what the support module's from_env accepts: a value it raises on is named."""
    from llmfix.codemods.runtime import litellm_utils

    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError):
        litellm_utils.from_env(name, None)
    assert [f.fix for f in budget_findings({name: raw}, None) if f.cause == "bad-setting"] == [f"export {name}=<a valid value>  (or unset it)"]


def _budget_detail(env: dict[str, str]) -> str:
    findings = budget_findings(env, None)
    assert not [f for f in findings if f.cause == "bad-setting"], [f.summary for f in findings]
    return "\n".join(findings[-1].detail)


def test_a_value_the_patched_code_accepts_is_taken():
    detail = _budget_detail({"LITELLM_NUM_RETRIES": "100", "LITELLM_DEFAULT_TIMEOUT": "0.5", "LITELLM_PRECHECK_TIMEOUT": "7"})
    assert "patched helper: LITELLM_NUM_RETRIES=100, LITELLM_DEFAULT_TIMEOUT=0.5," in detail and "timeout 7 s (from LITELLM_PRECHECK_TIMEOUT)" in detail


def test_retry_settings_parse():
    findings = budget_findings({"LITELLM_NUM_RETRIES": "x", "LITELLM_FALLBACK_MODELS": '[{"model": "m", "api_base": "http://f"}, "n"]'}, None)
    assert [f.fix.split("=")[0] for f in findings if f.cause == "bad-setting"] == ["export LITELLM_NUM_RETRIES"]
    assert "10 retries (llmfix default)" in findings[-1].detail[0]  # the bad value is not used
    assert "LITELLM_FALLBACK_MODELS: 2 fallback(s)" in findings[-1].detail[0]
    assert "fallbacks without their own api_base (n) go to" in "\n".join(findings[-1].detail)  # m has its own
    assert "LITELLM_FALLBACK_MODELS: 0 fallback(s)" in _budget_detail({"LITELLM_FALLBACK_MODELS": ""})


def test_model_routes():
    assert route("openai/gpt-4.1-mini").sent == "gpt-4.1-mini"
    assert route("openai/openai/gpt-4.1-mini").sent == "openai/gpt-4.1-mini"
    assert route("openrouter/openai/gpt-4.1-mini").route == "openrouter"
    assert route("gpt-4.1").route == "openai"
    assert route("Qwen/Qwen3-8B").route == "unknown"
    assert route("anthropic/claude-x").route == "anthropic"


def test_rank_cause_before_symptom_and_status_order():
    f = [
        Finding("models", OK, "fine", layer=40),
        Finding("endpoint", FAIL, "unreachable", layer=23, caused_by="proxy"),
        Finding("litellm", WARN, "tenacity", layer=50),
        Finding("key", FAIL, "missing", layer=30),
        Finding("proxy", FAIL, "dead", layer=10),
    ]
    assert [x.check for x in rank(f)] == ["proxy", "key", "endpoint", "litellm", "models"]


def test_checkout_verdicts(tmp_path):
    pending = {"command": "check", "pending": True, "files": [
        {"path": "run_utils.py", "transforms": {"retries": {"status": "pending", "reason": ""},
                                                "guards": {"status": "already-present", "reason": ""}}}]}
    f = interpret(tmp_path, (1, json.dumps(pending), ""))
    assert (f.status, f.cause) == (WARN, "checkout-unpatched") and "retries" in f.summary
    done = {"command": "check", "pending": False, "files": [
        {"path": "run_utils.py", "transforms": {"retries": {"status": "already-present", "reason": ""}}}]}
    assert interpret(tmp_path, (0, json.dumps(done), "")).status == OK
    f = interpret(tmp_path, (1, "", "No module named llmfix.__main__"))
    assert (f.status, f.cause) == (WARN, "check-unavailable") and "No module named" in f.summary


def test_the_checkout_check_reads_the_real_check_json(tmp_path):
    """The doctor asks `llmfix check --json`; the statuses it reads are the ones check writes."""
    import shutil

    shutil.copytree(Path(__file__).resolve().parents[2] / "fixtures" / "upstream-main-split", tmp_path / "c")
    done = subprocess.run([sys.executable, "-m", "llmfix", "check", str(tmp_path / "c"), "--json"], capture_output=True, text=True, timeout=120, check=False)
    f = interpret(tmp_path / "c", (done.returncode, done.stdout, done.stderr))
    assert f.cause == "checkout-unpatched" and "retries" in f.summary and "0 fix(es)" not in f.summary


def test_command_import_does_not_import_litellm():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import llmfix.doctor.command"],
                         capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    modules = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert not [m for m in modules if m == "litellm" or m.startswith("litellm.")]  # llmfix's litellm_utils is fine


def test_offline_run_is_quiet():
    env = {"OPENAI_API_BASE": "https://blackholed.invalid/v1", "OPENAI_API_KEY": "sk-or-v1-abcdefabcdef",
           "https_proxy": "http://10.255.255.1:3128", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    report = run_doctor(env=env, offline=True)
    assert not any(f.check == "live-probe" for f in report.findings)


def test_cli_offline_json_exit_codes(tmp_path):
    env = {"OPENAI_API_BASE": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-x-123456789", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    result = CliRunner().invoke(doctor_command, ["--offline", "--json"], env=cli_env(env))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [f["status"] for f in data["findings"]] == sorted((f["status"] for f in data["findings"]), key=["FAIL", "WARN", "OK"].index)
    result = CliRunner().invoke(doctor_command, ["--offline", "--json"], env=cli_env({**env, "OPENAI_API_BASE": "api.example.com/v1"}))
    assert result.exit_code == 1
    assert json.loads(result.output)["findings"][0]["cause"] == "base-url"
    result = CliRunner().invoke(doctor_command, ["--offline", "--model", " "], env=cli_env(env))
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize("env", [{}, {"OPENAI_API_BASE": "http://llm.example:8000/v1", "https_proxy": "http://p.example:3128"}],
                         ids=["default-endpoint", "set"])
def test_every_cause_has_a_fix_for_the_environment_at_hand(env):
    """The causes table is written once for the checks and the live probe: each fix formats for any
    environment, and none names a base URL variable that is unset."""
    from llmfix.doctor import causes
    from llmfix.doctor.env import EnvView

    view = EnvView(env, "environment", True, None, {})
    for cause in causes.CAUSES:
        fix = causes.fix(cause, view)
        assert fix and "{" not in fix and "None" not in fix, (cause, fix)
        if not env:
            assert "in OPENAI_API_BASE" not in fix and "check OPENAI_API_BASE" not in fix, (cause, fix)
