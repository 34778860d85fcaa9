"""redact: URL credentials, key parameters and key fields become ***; the rest of the text stays; linear time."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time

import pytest
from runtime_support import PASSWORD

from llmfix.codemods.runtime import litellm_utils
from llmfix.codemods.runtime.litellm_utils import redact

SECRET = "sk-or-v1-0123456789abcdef0123456789abcdef"


def jwt(length: int) -> str:
    """A JWT-shaped token of exactly ``length`` characters (header.payload.signature, base64url)."""
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    signature = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
    claims = json.dumps({"sub": "svc-rubrics", "aud": "proxy.corp", "scope": "egress " * 40}).encode()
    payload = base64.urlsafe_b64encode(claims).decode().rstrip("=")[: length - len(header) - len(signature) - 2]
    token = f"{header}.{payload}.{signature}"
    assert len(token) == length
    return token


JWT = jwt(327)
LONG_TOKEN = ("tok-" + "a1B2c3D4e5-F6g7_H8" * 300)[:5000]


def leaked(secret: str, text: str) -> list[str]:
    """Pieces of ``secret`` (8 characters or more) that ``text`` still shows."""
    size = min(8, len(secret))
    return [secret[i : i + size] for i in range(len(secret) - size + 1) if secret[i : i + size] in text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # user:password@ after a scheme: the user stays, the password goes
        (f"http://alice:{PASSWORD}@127.0.0.1:3128", "http://alice:***@127.0.0.1:3128"),
        (
            f"HTTPS_PROXY=https://alice:{PASSWORD}@proxy.corp:3128 ok",
            "HTTPS_PROXY=https://alice:***@proxy.corp:3128 ok",
        ),
        (f"socks5h://alice:{PASSWORD}@[::1]:1080", "socks5h://alice:***@[::1]:1080"),
        (
            f"proxy 'http://alice:{PASSWORD}@proxy.corp:3128': refused",
            "proxy 'http://alice:***@proxy.corp:3128': refused",
        ),
        (f'{{"https": "http://alice:{PASSWORD}@proxy.corp:3128"}}', '{"https": "http://alice:***@proxy.corp:3128"}'),
        # a token alone before @
        (f"https://{SECRET}@openrouter.ai/api/v1", "https://***@openrouter.ai/api/v1"),
        (f"git+https://{SECRET}@github.com/org/repo.git", "git+https://***@github.com/org/repo.git"),
        (f"https://https://{SECRET}@h.example", "https://***@h.example"),  # "://" again: no user before it
        # passwords holding / # ? @
        ("http://alice:pa/ss@proxy.corp:3128", "http://alice:***@proxy.corp:3128"),
        ("http://alice:pa#ss@proxy.corp:3128", "http://alice:***@proxy.corp:3128"),
        ("http://alice:pa?ss@proxy.corp:3128", "http://alice:***@proxy.corp:3128"),
        ("http://alice:pa@ss@proxy.corp:3128", "http://alice:***@proxy.corp:3128"),
        ("http://alice:a/b#c?d@e@proxy.corp:3128/v1 next", "http://alice:***@proxy.corp:3128/v1 next"),
        # no scheme
        (f"alice:{PASSWORD}@proxy.corp:3128", "alice:***@proxy.corp:3128"),
        (f"https_proxy=alice:{PASSWORD}@proxy.corp:3128", "https_proxy=alice:***@proxy.corp:3128"),
        (f"via (alice:{PASSWORD}@proxy.corp:3128)", "via (alice:***@proxy.corp:3128)"),
        ("alice:pa#ss@proxy.corp:3128", "alice:***@proxy.corp:3128"),
        ("alice:pa@ss@proxy.corp:3128", "alice:***@proxy.corp:3128"),
    ],
)
def test_url_userinfo(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key={SECRET}",
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key=***",
        ),
        (f"http://127.0.0.1:8000/v1?api_key={SECRET}&model=m", "http://127.0.0.1:8000/v1?api_key=***&model=m"),
        (f"/v1beta/models/gemini:generateContent?key={SECRET}", "/v1beta/models/gemini:generateContent?key=***"),
        (f"wss://h.example/ws?access_token={SECRET}#top", "wss://h.example/ws?access_token=***#top"),
        (
            f"https://apim.example/chat?subscription-key={SECRET} failed",
            "https://apim.example/chat?subscription-key=*** failed",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbC%2Bd%3D&se=2030-01-01",
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=***&se=2030-01-01",
        ),
        (f"GET /v1/models?API_KEY={SECRET} HTTP/1.1", "GET /v1/models?API_KEY=*** HTTP/1.1"),
    ],
)
def test_key_query_parameters(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LITELLM_FALLBACK_MODELS="
            + json.dumps([{"model": "openai/x", "api_base": "http://127.0.0.1:8001/v1", "api_key": SECRET}]),
            'LITELLM_FALLBACK_MODELS=[{"model": "openai/x", "api_base": "http://127.0.0.1:8001/v1", "api_key": "***"}]',
        ),
        (json.dumps({"api_key": 'a"b\\c' + SECRET, "n": 1}), '{"api_key": "***", "n": 1}'),
        (f"{{'api_key': '{SECRET}', 'model': 'm'}}", "{'api_key': '***', 'model': 'm'}"),
        (
            f'{{"apiKey":"{SECRET}","token": "{SECRET}", "password" : "{PASSWORD}"}}',
            '{"apiKey":"***","token": "***", "password" : "***"}',
        ),
    ],
)
def test_key_fields_in_json_and_reprs(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "bob@example.com wrote",
        "git@github.com:org/repo.git",
        "http://127.0.0.1:8000/v1/chat/completions",
        "https://openrouter.ai/api/v1?model=openai/gpt-4.1-mini&n=2#part",
        "Error code: 500 - {'error': {'message': 'The server had an error', 'type': 'server_error'}}",
        "model=openai/gpt-4.1-mini at 12:30",
        "LiteLLM health, last 300 s: run_litellm_async openai/gpt-4.1: 3 failed, 7 ok",
        '{"model": "openai/x", "api_base": "http://127.0.0.1:8001/v1"}',
        "",
    ],
)
def test_text_without_credentials_is_unchanged(text):
    assert redact(text) == text


def test_a_327_character_jwt_as_a_proxy_password():
    for text, expected in [
        (f"http://svc:{JWT}@proxy.corp:3128", "http://svc:***@proxy.corp:3128"),
        (f"https_proxy=svc:{JWT}@proxy.corp:3128", "https_proxy=svc:***@proxy.corp:3128"),
        (f"https://{JWT}@proxy.corp:3128", "https://***@proxy.corp:3128"),
    ]:
        assert redact(text) == expected
        assert not leaked(JWT, redact(text))


def test_a_5000_character_token():
    started = time.process_time()
    for text in [
        f"https://{LONG_TOKEN}@openrouter.ai/api/v1",
        f"http://alice:{LONG_TOKEN}@proxy.corp:3128",
        f"alice:{LONG_TOKEN}@proxy.corp:3128",
        f"https://h.example/v1?api_key={LONG_TOKEN}&n=1",
        json.dumps({"model": "m", "api_key": LONG_TOKEN}),
    ]:
        shown = redact(text)
        assert "***" in shown and not leaked(LONG_TOKEN, shown), shown[:120]
    assert time.process_time() - started < 0.5


def test_a_5000_character_token_in_plain_text_or_after_bearer():
    texts = {"bearer": f"Authorization: Bearer {LONG_TOKEN}", "plain": f"the proxy answered {LONG_TOKEN} twice"}
    results = timed_redaction({name: (text, len(text)) for name, text in texts.items()})
    assert all(seconds < CPU_LIMIT for seconds, _, _ in results.values()), results
    assert results["bearer"][2] == "Authorization: Bearer ***" and results["plain"][1]


def test_redaction_is_idempotent():
    text = f"http://alice:{PASSWORD}@proxy.corp:3128 and ?api_key={SECRET} and {{'api_key': '{SECRET}'}}"
    once = redact(text)
    assert redact(once) == once


def test_authorization_fields_and_bearer_tokens():
    for name in ("Authorization", "Proxy-Authorization", "authorization"):
        assert redact(f"{{'{name}': 'Bearer {SECRET}'}}") == f"{{'{name}': '***'}}"
    assert redact(f"-H 'Authorization: Bearer {SECRET}'") == "-H 'Authorization: Bearer ***'"


def test_an_api_errors_code_stays_readable():
    error = (
        "Error code: 429 - {'error': {'message': 'Rate limit reached.', 'type': 'requests', 'param': None, "
        "'code': 'rate_limit_exceeded'}}"
    )
    assert redact(error) == error
    assert redact(f"/callback?code={SECRET}&state=1") == "/callback?code=***&state=1"  # an OAuth code stays hidden


def test_password_with_an_apostrophe():
    assert redact("http://alice:it's-Secr3t@proxy.corp:3128") == "http://alice:***@proxy.corp:3128"


def test_password_with_a_slash_without_a_scheme():
    assert redact("https_proxy=alice:pa/Secr3t@proxy.corp:3128") == "https_proxy=alice:***@proxy.corp:3128"


def test_credentials_after_another_at_sign():
    assert "Secr3t" not in redact("bob@corp:Secr3t@proxy.corp:3128")


# --------------------------------------------------------------------------- time: linear in the text's length

# The texts are redacted one after the other in a child process, each given CPU_LIMIT seconds of CPU time (not of
# the clock, which other processes sharing the cores would stretch): the kernel stops the child at the first text
# over its limit, so a quadratic or exponential pattern (minutes on these texts) costs CPU_LIMIT and no more.
CPU_LIMIT = 0.75
TIMED = r"""
import importlib.util, json, signal, sys, time
spec = importlib.util.spec_from_file_location("litellm_utils", sys.argv[1])  # the very file under test
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for name, (unit, size) in json.loads(sys.argv[3]).items():
    text = (unit * (size // len(unit) + 1))[:size]
    signal.setitimer(signal.ITIMER_PROF, float(sys.argv[2]))  # SIGPROF ends the process: no handler
    started = time.process_time()
    shown = module.redact(text)
    seconds = time.process_time() - started
    signal.setitimer(signal.ITIMER_PROF, 0)
    print(json.dumps([name, seconds, shown == text, shown[:200]]), flush=True)
"""


def timed_redaction(texts: dict[str, tuple[str, int]]) -> dict[str, tuple[float, bool, str]]:
    """For each text (``unit`` repeated to ``size`` characters): redact()'s CPU seconds, whether the text came
    back unchanged, and the start of what came back. The text that ran out of CPU_LIMIT, and those after it,
    give inf."""
    command = [sys.executable, "-I", "-S", "-c", TIMED, litellm_utils.__file__, str(CPU_LIMIT), json.dumps(texts)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)  # stdlib only: no site-packages
    assert done.returncode in (0, -signal.SIGPROF), done.stderr[-2000:]
    results = dict.fromkeys(texts, (float("inf"), False, ""))
    for line in done.stdout.splitlines():
        name, *result = json.loads(line)
        results[name] = tuple(result)
    return results


MEGABYTE = 1_000_000


def test_one_megabyte_of_ordinary_text_takes_well_under_a_second():
    texts = {
        "prose": "The quick brown fox jumps over the lazy dog, then naps. ",
        "one long word": "a",
        "a log": "2025-01-01 12:00:00 WARNING litellm_utils: LiteLLM answer from gpt-4.1 has no choices\n",
        "emails": "bob@example.com, ",
        "minified JSON": '{"model":"gpt-4.1","api_base":"http://127.0.0.1:8000/v1","n":1},',
        "a query string": "?a=1&b=2;c=3",
        "base64": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/w==",
        "colons": "a:b:c:d:",
    }
    results = timed_redaction({name: (unit, MEGABYTE) for name, unit in texts.items()})
    assert all(seconds < CPU_LIMIT for seconds, _, _ in results.values()), results
    assert all(unchanged for _, unchanged, _ in results.values()), results  # nothing in them is a credential


def test_one_megabyte_of_adversarial_text_takes_well_under_a_second():
    texts = {
        "dotted": "a.",
        "hyphenated": "a-",
        "commas": ",",
        "bangs": "!",
        "schemes": "a://",
        "a list of URLs": "http://h.example/x,",
        "assignments": "=a:",
    }
    results = timed_redaction({name: (unit, MEGABYTE) for name, unit in texts.items()})
    assert all(seconds < CPU_LIMIT and unchanged for seconds, unchanged, _ in results.values()), results


def test_backslashes_in_an_unterminated_key_field_take_well_under_a_second():
    text = '"api_key": "' + "\\" * 40
    (seconds, _, _) = timed_redaction({"backslashes": (text, len(text))})["backslashes"]
    assert seconds < CPU_LIMIT
