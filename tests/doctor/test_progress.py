"""The doctor's live checks take seconds: in a terminal, once it has been quiet for about a
second, a short progress line on stderr says what it is doing. Never in --json mode, never
when stderr is not a terminal. Run as a real process with stderr on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading

import pytest
from doctor_support import REPO, TEST_KEY

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")


def run_with_tty_stderr(args: list[str], base_url: str) -> tuple[int, str, str]:
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "RUBRIC_"))}
    env.update(OPENAI_API_BASE=base_url, OPENAI_API_KEY=TEST_KEY, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "llmfix", "doctor", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(5)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def test_progress_line_on_a_terminal(mock_llm):
    mock_llm.default = "hang"  # every network step waits for its timeout: seconds of silence
    code, out, err = run_with_tty_stderr([], mock_llm.base_url)
    assert code == 1, out + err
    assert out.startswith("llmfix doctor:")
    assert "llmfix doctor: " in err and "…" in err, repr(err)
    assert TEST_KEY not in err


@pytest.mark.usefixtures("litellm_imported")
@pytest.mark.parametrize("args", [["--json"], []], ids=["json", "text"])
def test_only_in_text_mode(mock_llm, monkeypatch, args):
    """In-process, stderr taken for a terminal: the progress line in text mode, nothing with --json."""
    from click.testing import CliRunner
    from doctor_support import cli_env, make_env

    from llmfix.doctor import command

    monkeypatch.setattr(command, "_is_terminal", lambda stream: True)
    mock_llm.default = "hang"  # the /models request waits 1.5 s (conftest): a second of silence
    result = CliRunner().invoke(command.doctor_command, args, env=cli_env(make_env(mock_llm.base_url)))
    assert result.exit_code == 1, result.output
    if "--json" in args:
        json.loads(result.stdout)
        assert result.stderr == ""
    else:
        assert "llmfix doctor: checking " in result.stderr and result.stderr.endswith("\r\x1b[K")
