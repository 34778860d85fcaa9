"""Every string the doctor prints (text and --json: findings, details, launcher lines, fix
hints) goes through the one redaction function. Long secrets are planted in the environment
and in launcher scripts (exported and not), and no piece of any of them may appear."""

from __future__ import annotations

import json
import random
import string

import pytest
from click.testing import CliRunner
from doctor_support import cli_env, make_env

from llmfix.doctor.command import doctor_command
from llmfix.proxy import closed_port

pytestmark = pytest.mark.usefixtures("litellm_imported")
_B64URL = string.ascii_letters + string.digits + "-_"


def _random(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice(_B64URL) for _ in range(n))


def jwt_like(seed: int, length: int = 327) -> str:
    """A JWT-shaped token (three base64url parts joined by dots) of exactly ``length`` chars."""
    rnd = random.Random(seed)
    head, sig = _random(rnd, 36), _random(rnd, 43)
    return f"{head}.{_random(rnd, length - len(head) - len(sig) - 2)}.{sig}"


def secrets(seed: int) -> dict[str, str]:
    rnd = random.Random(seed)
    return {"jwt": jwt_like(seed), "fallback": _random(rnd, 40), "sub": _random(rnd, 32), "apikey": _random(rnd, 32)}


def planted(s: dict[str, str], export: str = "export ") -> dict[str, str]:
    """The LLM settings, each carrying one of the secrets in ``s``."""
    base = f"http://127.0.0.1:{closed_port()}/v1"
    fallbacks = json.dumps([{"model": "openai/gpt-4.1-mini", "api_base": base, "api_key": s["fallback"]}])
    return {
        "https_proxy": f"http://alice:{s['jwt']}@127.0.0.1:{closed_port()}",
        "http_proxy": f"http://alice:{s['jwt']}@127.0.0.1:{closed_port()}",
        "OPENAI_API_BASE": f"{base}?subscription-key={s['sub']}&api-key={s['apikey']}",
        "OPENAI_BASE_URL": f"{base}/chat/completions?api-key={s['apikey']}",
        "LITELLM_FALLBACK_MODELS": fallbacks,
    }


def script(settings: dict[str, str], export: str) -> str:
    """Exported (``export NAME=...``), or assigned without export after an ``unset``, so the
    doctor reports each line with a fix that repeats the value."""
    first = [] if export else [f"unset {' '.join(settings)}"]
    lines = ["#!/bin/bash", *first] + [f"{export}{name}='{value}'" for name, value in settings.items()]
    return "\n".join(lines + ["python open_instruct/grpo_fast.py --apply_adaptive_rubric_reward true", ""])


def leaked(output: str, secret: str, window: int = 12) -> str | None:
    """The first piece of ``secret`` (``window`` characters long) found in ``output``."""
    return next((secret[i : i + window] for i in range(len(secret) - window + 1) if secret[i : i + window] in output), None)


@pytest.fixture
def checkout(tmp_path):
    shell, exported, unexported = secrets(1), secrets(2), secrets(3)
    (tmp_path / "train.sh").write_text(script(planted(exported), "export "))
    (tmp_path / "other.sh").write_text(script(planted(unexported), ""))
    env = make_env(None, **planted(shell))
    return tmp_path, env, [*shell.values(), *exported.values(), *unexported.values()]


@pytest.mark.parametrize("args", [[], ["--json"], ["--offline"], ["--offline", "--json"]], ids=["text", "json", "offline", "offline-json"])
@pytest.mark.parametrize("with_path", [False, True], ids=["env", "checkout"])
def test_no_piece_of_a_secret_in_any_output(checkout, args, with_path):
    path, env, planted_secrets = checkout
    argv = ([str(path)] if with_path else []) + args
    result = CliRunner().invoke(doctor_command, argv, env=cli_env(env))
    assert result.exit_code in (0, 1), result.output
    if "--json" in args:
        json.loads(result.stdout)
    assert "***" in result.output  # the secrets were there to be shown, and were redacted
    if with_path and "--json" in args:
        causes = {f["cause"] for f in json.loads(result.stdout)["findings"] if "cause" in f}
        assert "launcher-unexported" in causes
    for secret in planted_secrets:
        assert leaked(result.output, secret) is None, f"{leaked(result.output, secret)!r} of a secret in:\n{result.output}"
