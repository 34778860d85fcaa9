"""Redaction of credentials in any text, and the endpoint and proxies as shown."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from llmfix.codemods.runtime.redact import (
    _LITELLM_PROXY_VARIABLES,
    _litellm_endpoint,
    _litellm_proxy,
    _litellm_route,
    _redact_credentials,
)

CASES = [
    # userinfo: user:password and a bare token
    ("http://alice:Pr0xyPassw0rd@proxy:3128", "http://alice:***@proxy:3128"),
    ("https://tok3n-abcdef@gateway.example.com/v1", "https://***@gateway.example.com/v1"),
    ("socks5h://bob:s3cr3t@10.0.0.1:1080.", "socks5h://bob:***@10.0.0.1:1080."),
    ("http://u:p4ss@[::1]:8080/x", "http://u:***@[::1]:8080/x"),
    ("http://:p4ss@proxy", "http://:***@proxy"),
    # passwords holding / # ? and @: the host starts after the last @
    ("http://alice:Pr0/xy#Pa?ss@w0rd@proxy.corp:3128/path", "http://alice:***@proxy.corp:3128/path"),
    ("http://alice:a@b@c@proxy:3128", "http://alice:***@proxy:3128"),
    ("http://user@corp.example:pw@proxy:8080", "http://user@corp.example:***@proxy:8080"),
    # long ones: a JWT-sized token, a 250-character password
    ("https://eyJ" + "t" * 900 + "@gateway/v1", "https://***@gateway/v1"),
    ("http://alice:" + "p@ss/" * 50 + "@proxy:3128", "http://alice:***@proxy:3128"),
    # no scheme
    ("alice:Pr0xyPassw0rd@proxy:3128", "alice:***@proxy:3128"),
    ("https_proxy=alice:Pr0xyPassw0rd@proxy:3128", "https_proxy=alice:***@proxy:3128"),
    ('"alice:Pr0xyPassw0rd@proxy:3128"', '"alice:***@proxy:3128"'),
    # query parameters, any case
    ("https://x.openai.azure.com/openai?api-version=1&api-key=abc123&x=1",
     "https://x.openai.azure.com/openai?api-version=1&api-key=***&x=1"),
    ("https://h/v1?API_KEY=abc&Token=def#frag", "https://h/v1?API_KEY=***&Token=***#frag"),
    ("https://h/?key=k&access_token=t;sig=s&secret=x&password=y&apikey=z",
     "https://h/?key=***&access_token=***;sig=***&secret=***&password=***&apikey=***"),
    ("https://h/?keyboard=1&monkey=2&tokens=3", "https://h/?keyboard=1&monkey=2&tokens=3"),
    # several URLs in one text, as exception messages quote them
    ("400, message='Bad Gateway', url='http://alice:Pr0xyPassw0rd@127.0.0.1:39709'",
     "400, message='Bad Gateway', url='http://alice:***@127.0.0.1:39709'"),
    ("a http://a:b1@h1 and http://c:d2@h2, 'http://e:f3@h3','http://g:h4@h4' (http://i:j5@h5)",
     "a http://a:***@h1 and http://c:***@h2, 'http://e:***@h3','http://g:***@h4' (http://i:***@h5)"),
    ("http://a:b1@h1,http://c:d2@h2", "http://a:***@h1,http://c:***@h2"),
    # no credentials: unchanged
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("https://host/v1/users/me@example.com", "https://host/v1/users/me@example.com"),
    ("write to alice@example.com at 10:30", "write to alice@example.com at 10:30"),
    ("no_proxy=localhost,127.0.0.1,.corp.example", "no_proxy=localhost,127.0.0.1,.corp.example"),
    ("[Errno 111] Connect call failed ('127.0.0.1', 9)", "[Errno 111] Connect call failed ('127.0.0.1', 9)"),
    ("plain text, a ratio 3:4, a time 12:30", "plain text, a ratio 3:4, a time 12:30"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_redaction_table(text, expected):
    assert _redact_credentials(text) == expected
    assert _redact_credentials(expected) == expected  # idempotent


PASSWORDS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=30)
HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}", fullmatch=True)


@given(password=PASSWORDS, host=HOSTS, scheme=st.sampled_from(["http://", "https://", "socks5://", ""]))
def test_a_proxy_password_never_survives(password, host, scheme):
    assume("://" not in password and password[0] != "/")
    url = f"{scheme}alice:{password}@{host}:3128"
    shown = _redact_credentials(f"proxy {url} refused; url='{url}'")
    assert password not in shown.replace(f"alice:***@{host}:3128", "")


def test_proxy_variables_both_spellings():
    assert set(_LITELLM_PROXY_VARIABLES) == {
        f"{scheme}_proxy".upper() if upper else f"{scheme}_proxy"
        for scheme in ("http", "https", "all", "no")
        for upper in (False, True)
    }
    assert _LITELLM_PROXY_VARIABLES.index("https_proxy") < _LITELLM_PROXY_VARIABLES.index("HTTPS_PROXY")


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*_LITELLM_PROXY_VARIABLES, "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_endpoint_in_effect(clean_env):
    assert _litellm_endpoint() == ("https://api.openai.com/v1", "default")
    clean_env.setenv("OPENAI_API_BASE", " https://openrouter.ai/api/v1 ")
    assert _litellm_endpoint() == ("https://openrouter.ai/api/v1", "OPENAI_API_BASE")
    clean_env.setenv("OPENAI_BASE_URL", "https://gw.example/v1")
    assert _litellm_endpoint() == ("https://gw.example/v1", "OPENAI_BASE_URL")


def test_route_names_endpoint_and_proxy_redacted(clean_env):
    assert _litellm_route() == "endpoint https://api.openai.com/v1 (default), proxy none"
    clean_env.setenv("OPENAI_BASE_URL", "https://bob:S3cret@gw.example/v1?api-key=K3y")
    clean_env.setenv("https_proxy", "http://alice:Pr0xyPassw0rd@proxy:3128")
    assert _litellm_route() == (
        "endpoint https://bob:***@gw.example/v1?api-key=*** (OPENAI_BASE_URL), proxy http://alice:***@proxy:3128"
    )
    clean_env.setenv("NO_PROXY", "gw.example")
    assert _litellm_route().endswith(", proxy none")


@pytest.mark.parametrize(
    ("base", "env", "expected"),
    [
        ("https://api.example.com/v1", {"https_proxy": "http://a:pw@p:1"}, "http://a:***@p:1"),
        ("https://api.example.com/v1", {"HTTPS_PROXY": "http://p:2"}, "http://p:2"),
        ("https://api.example.com/v1", {"https_proxy": "http://p:1", "HTTPS_PROXY": "http://p:2"}, "http://p:1"),
        ("https://api.example.com/v1", {"http_proxy": "http://p:1"}, None),
        ("http://api.example.com/v1", {"http_proxy": "http://p:1"}, "http://p:1"),
        ("https://api.example.com/v1", {"all_proxy": "socks5://p:3"}, "socks5://p:3"),
        ("https://api.example.com/v1", {"https_proxy": "http://p:1", "no_proxy": "example.com"}, None),
        ("https://api.example.com/v1", {"https_proxy": "http://p:1", "no_proxy": ".example.com"}, None),
        ("https://api.example.com/v1", {"https_proxy": "http://p:1", "NO_PROXY": "*"}, None),
        ("https://api.example.com/v1", {"https_proxy": "http://p:1", "no_proxy": "ample.com"}, "http://p:1"),
        ("http://127.0.0.1:8000/v1", {"http_proxy": "http://p:1", "no_proxy": "localhost, 127.0.0.1"}, None),
        ("http://u:pw@Host.Example:80/v1", {"HTTP_PROXY": "http://p:1", "no_proxy": "*.example"}, None),
        ("http://[::1]:8000/v1", {"http_proxy": "http://p:1", "no_proxy": "[::1]"}, None),
    ],
)
def test_proxy_in_effect(clean_env, base, env, expected):
    clean_env.setenv("OPENAI_API_BASE", base)
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert _litellm_proxy() == expected
