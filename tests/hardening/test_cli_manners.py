"""CLI manners: --version, -q/-v on apply/check/revert, list and explain from the registry, no colour codes,
click's shell completion."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading

import pytest
from support import REPO, copy_fixture, invoke, support_module

from llmfix import __version__
from llmfix.codemods import TRANSFORM_NAMES, registry

LLMFIX = [sys.executable, "-c", "import sys; sys.argv[0] = 'llmfix'; from llmfix.cli import run; run()"]


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"llmfix, version {__version__}"


@pytest.mark.parametrize("command", ["apply", "check", "revert"])
def test_quiet_and_verbose_exist(command):
    help_text = invoke(command, "--help").stdout
    assert "-q, --quiet" in help_text and "-v, --verbose" in help_text


def test_quiet_prints_only_the_summary_and_verbose_lists_every_transform(tmp_path):
    root = copy_fixture("upstream-autumn2025-defaults", tmp_path)
    quiet = invoke("check", root, "-q")
    assert quiet.exit_code == 1 and len(quiet.stdout.strip().splitlines()) == 1
    normal = invoke("check", root)
    verbose = invoke("check", root, "-v")
    assert "not-applicable" in verbose.stdout and "not-applicable" not in normal.stdout
    assert len(verbose.stdout.splitlines()) > len(normal.stdout.splitlines()) > 1

    applied = invoke("apply", root, "-q")
    assert applied.exit_code == 0 and applied.stdout.strip().splitlines() == [applied.stdout.strip()]
    # the three target files (run_utils, rubric_utils, ground_truth_utils) and the support module apply creates
    assert applied.stdout.startswith("patched 4 file(s)")
    assert support_module("upstream-autumn2025-defaults", root).is_file()

    reverted_quiet = invoke("revert", root, "-q")
    assert reverted_quiet.stdout.strip() == "reverted 4 file(s)"
    assert not support_module("upstream-autumn2025-defaults", root).exists()
    again = invoke("revert", root, "-v")
    assert "nothing recorded to revert" in again.stdout and again.stdout.strip().endswith("nothing to revert")


def test_list_prints_every_registered_transform_in_order():
    result = invoke("list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TRANSFORM_NAMES)
    for line, transform in zip(lines, registry.transforms(), strict=True):
        assert line.split(None, 1)[1].strip() == transform.SUMMARY


def test_list_json_carries_each_transforms_options():
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)["transforms"]
    assert [t["name"] for t in listed] == list(TRANSFORM_NAMES)
    for entry, transform in zip(listed, registry.transforms(), strict=True):
        assert entry["summary"] == transform.SUMMARY
        assert [o["flag"] for o in entry["options"]] == [o.flag for o in transform.OPTIONS]


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
def test_explain_shows_the_documentation_and_every_example(name):
    transform = registry.get(name)
    result = invoke("explain", name)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{name}: {transform.SUMMARY}\n")
    assert transform.description() in result.stdout
    for number, example in enumerate(transform.EXAMPLES, 1):
        assert f"Example {number}: {example.title} ({example.status}" in result.stdout
    for option in transform.OPTIONS:
        assert f"option {option.flag} {option.metavar}: {option.help}" in result.stdout


def test_explain_an_unknown_transform_is_one_line_and_exit_2():
    result = invoke("explain", "nope")
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "'nope'" in line and ", ".join(TRANSFORM_NAMES) in line


def _on_a_terminal(args, env) -> str:
    """Run with stdout and stderr on a pseudo-terminal; return what it printed."""
    primary, secondary = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # read while the child writes, so a full pty buffer never blocks it
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(args, stdout=secondary, stderr=secondary, stdin=subprocess.DEVNULL, env=env, timeout=120)
    finally:
        os.close(secondary)
    reader.join(timeout=30)
    os.close(primary)
    assert done.returncode in (0, 1)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("no_color", [None, "1"])
def test_the_file_commands_print_no_colour_codes_even_on_a_terminal(tmp_path, no_color):
    root = copy_fixture("drtulu-canonical", tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1"}
    env.pop("NO_COLOR", None)
    if no_color:
        env["NO_COLOR"] = no_color
    commands = (
        ["check", str(root)],
        ["diff", str(root)],
        ["diff", "--stat", str(root)],
        ["apply", str(root)],
        ["revert", str(root)],
        ["list"],
        ["explain", "guards"],
    )
    for args in commands:
        output = _on_a_terminal([*LLMFIX, *args], env)
        assert output.strip(), args
        assert "\x1b[" not in output, args


def test_shell_completion_is_clicks(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "_LLMFIX_COMPLETE": "bash_source"}
    script = subprocess.run(LLMFIX, env=env, capture_output=True, text=True, timeout=60)
    assert script.returncode == 0
    assert "_llmfix_completion" in script.stdout and "complete -o nosort -F _llmfix_completion llmfix" in script.stdout
    env.update({"_LLMFIX_COMPLETE": "bash_complete", "COMP_WORDS": "llmfix ap", "COMP_CWORD": "1"})
    words = subprocess.run(LLMFIX, env=env, capture_output=True, text=True, timeout=60)
    assert "plain,apply" in words.stdout.splitlines()
    env.update({"COMP_WORDS": "llmfix diff --m", "COMP_CWORD": "2"})
    options = subprocess.run(LLMFIX, env=env, capture_output=True, text=True, timeout=60)
    assert "plain,--markdown" in options.stdout.splitlines()
