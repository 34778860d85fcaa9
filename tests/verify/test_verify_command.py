"""The verify command line: exit codes, one-line errors, JSON, progress, --python, several checkouts, the loader.

The ``llmfix verify`` processes this module looks at run at the same time (``cli_runs``),
each reading its output as it streams.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from verify_support import MISSING_MODULE, analyse, processes_naming

from llmfix.verify import command, runner, scenarios

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def llmfix(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmfix", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


def test_missing_path_is_one_line_exit_2(tmp_path):
    done = llmfix("verify", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no such file" in done.stderr and "Traceback" not in done.stderr


def test_no_helpers_is_nothing_to_verify_exit_0():
    done = llmfix("verify", str(FIXTURES / "no-helpers"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["nothing_to_verify"] is True


def test_unknown_scenario_is_bad_input():
    done = llmfix("verify", str(FIXTURES / "drtulu-canonical"), "--scenario", "sunny")
    assert done.returncode == 2 and done.stderr.startswith("llmfix: error: unknown scenario sunny")
    assert done.stdout == "" and done.stderr.count("\n") == 1  # refused before anything is printed


def test_importing_the_command_is_cheap():
    code = "import sys, llmfix.verify.command; print(sorted(m for m in ('litellm', 'libcst', 'llmfix.mockllm') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stderr


class Streamed:
    """A ``llmfix verify`` process: its stdout lines with the second each arrived, its stderr, its exit code."""

    def __init__(self, args: list[str], cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "llmfix", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def wait(self, timeout: float = 300) -> Streamed:
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()  # stdout is the reader thread's
        self.process.wait(timeout)
        self._reader.join(timeout)
        return self

    @property
    def stdout(self) -> str:
        return "\n".join(line for _, line in self.lines)

    @property
    def returncode(self) -> int:
        return self.process.returncode


def python_wrapper(path: Path, used: Path) -> Path:
    """A ``python`` that notes its arguments in ``used``, then runs this interpreter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho \"$@\" >> {used}\nexec {sys.executable} \"$@\"\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def used(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture(scope="module")
def cli_runs(checkout_copy, hand_checkout, verify_checkouts, tmp_path_factory) -> dict[str, Streamed]:
    """The command lines this module checks, run at the same time (the streaming one started first, on its own)."""
    base = tmp_path_factory.mktemp("cli")
    drtulu = str(checkout_copy("drtulu-canonical", True))
    several = base / "several"
    for name, source in (("judge", hand_checkout("judge", "patched")), ("old", hand_checkout("old", "unpatched"))):
        shutil.copytree(source, several / name)
    wrapper = python_wrapper(base / "python-wrapper", base / "python-used")
    other_wrapper = python_wrapper(base / "other" / "python-wrapper", base / "other-used")
    configured = _configured_checkout(base / "configured")
    (base / "tmp").mkdir()
    runs = {"stream": Streamed(["verify", drtulu, "--scenario", "healthy,empty,precheck"])}
    while not runs["stream"].lines and runs["stream"].process.poll() is None:
        time.sleep(0.02)
    runs.update({
        "json": Streamed(["verify", drtulu, "--scenario", "healthy", "--scenario", "7c,8b", "--json"]),
        "several": Streamed(["verify", str(several), "--scenario", "healthy,7a"]),
        # with a TMPDIR of its own, and tinyproxy (9b): what a finished verify leaves behind can be checked
        "python": Streamed(["verify", drtulu, "--python", str(wrapper), "--scenario", "healthy,9b"], env={**os.environ, "TMPDIR": str(base / "tmp")}),
        "missing-dependency": Streamed(["verify", str(verify_checkouts["fixture/drtulu-canonical/missing-module"]), "--python", str(other_wrapper),
                                        "--scenario", "healthy"]),
        # no PATH: the checkout around the current folder, whose [tool.llmfix] python names the interpreter
        "configured": Streamed(["verify", "--scenario", "healthy", "--json"], cwd=configured),
    })
    if os.path.exists("/usr/bin/python3"):
        runs["no-litellm"] = Streamed(["verify", drtulu, "--python", "/usr/bin/python3", "--scenario", "healthy"])
    for run in runs.values():
        run.wait()
    runs["python"].used = used(base / "python-used")  # type: ignore[attr-defined]
    runs["missing-dependency"].python = str(other_wrapper)  # type: ignore[attr-defined]
    runs["python"].tmp = base / "tmp"  # type: ignore[attr-defined]
    runs["configured"].used = used(configured / "used")  # type: ignore[attr-defined]
    return runs


def _configured_checkout(checkout: Path) -> Path:
    """A patched copy of drtulu-canonical whose pyproject.toml names a wrapper python; the folder to run verify in (inside the checkout)."""
    shutil.copytree(FIXTURES / "drtulu-canonical", checkout)
    inside = next(checkout.rglob("rubric_utils.py")).parent
    root = next(parent for parent in inside.parents if parent.name == "open-instruct")
    python_wrapper(root / "venv-bin" / "python", inside / "used")
    (root / "pyproject.toml").write_text('[tool.llmfix]\npython = "venv-bin/python"\n', encoding="utf-8")
    assert llmfix("apply", str(checkout)).returncode == 0  # apply reads the same table
    return inside


def test_the_first_line_comes_at_once_then_a_line_per_scenario_as_it_ends(cli_runs):
    """The first line streams out before the child has set anything up (the 1 s figure is bench/verify_time.py's)."""
    run = cli_runs["stream"]
    assert run.returncode == 0, run.stdout + run.stderr
    first_at, first = run.lines[0]
    assert first.startswith("verifying ") and "against the scenarios chosen (healthy,empty,precheck)" in first, first
    progress = [
        (at, line) for at, line in run.lines if line.startswith("   ") and len(line.split()) > 2 and line.split()[1] in ("healthy", "empty", "precheck")
    ]
    assert progress and first_at < progress[0][0] / 2, run.lines[:3]  # long before the first scenario ends
    assert sorted(line.split()[1] for _, line in progress) == ["empty", "healthy", "precheck"], run.lines
    table_at = next(at for at, line in run.lines if line.startswith("ID "))
    assert all(at <= table_at for at, _ in progress) and all(" pass " in line for _, line in progress)


def test_patched_checkout_json_exit_0(cli_runs):
    done = cli_runs["json"]
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [c["id"] for c in report["cases"] if not c["id"].endswith("j")] == ["1", "7c", "8b"]  # (1j when the fixture has a judge)
    assert all(c["status"] == "pass" for c in report["cases"])
    assert [(h["name"], h["async"], h["contract"]) for h in report["checkout"]["helpers"]] == [
        ("run_chatopenai", False, "raises"), ("run_litellm", False, "swallows"), ("run_litellm_async", True, "swallows")]
    assert [g["name"] for g in report["checkout"]["generators"]] == ["generate_instance_wise_adaptive_rubrics"]
    assert report["settings"]["LITELLM_NUM_RETRIES"] == 2 and report["not_exercised"] == []
    assert isinstance(report["checkout"]["judges"], list)  # the new entries
    assert done.stderr.startswith("verifying ")  # the progress lines go to stderr with --json


def test_a_folder_of_checkouts_is_verified_checkout_by_checkout(cli_runs):
    done = cli_runs["several"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "2 checkouts: 1 passed, 1 failed"
    tables = [line for line in done.stdout.splitlines() if line.startswith("llmfix verify ")]
    assert [Path(line.split()[-1]).name for line in tables] == ["judge", "old"]
    assert any(line.startswith("  judge: ") and "1 healthy" in line for line in done.stdout.splitlines())  # progress, per checkout


def test_python_runs_the_child_with_the_training_environments_interpreter(cli_runs):
    done = cli_runs["python"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "child.py" in done.used  # type: ignore[attr-defined]
    assert "with " in done.lines[0][1] and "python-wrapper" in done.lines[0][1]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="checks /proc")
def test_a_finished_verify_leaves_no_process_and_no_folder(cli_runs):
    """(The killed ones: test_cleanup.py.) This run started tinyproxy and the child's forks, in a TMPDIR of its own."""
    done, tmp = cli_runs["python"], cli_runs["python"].tmp  # type: ignore[attr-defined]
    assert any(line.startswith("9b ") and line.rstrip().endswith("pass") for _, line in done.lines), done.stdout
    assert not processes_naming(str(tmp)) and not any(tmp.iterdir()), sorted(p.name for p in tmp.iterdir())


def test_no_path_verifies_the_checkout_around_the_current_folder_with_its_configured_python(cli_runs):
    """Like every other command: no PATH is the checkout the current folder lies in; its `[tool.llmfix] python = ...`
    (relative to its pyproject.toml) is --python's default."""
    done = cli_runs["configured"]
    assert done.returncode == 0, done.stderr  # healthy passes patched or not; the checkout was found from inside it
    assert "rl/open-instruct against" in done.stderr.splitlines()[0]
    assert [g["name"] for g in json.loads(done.stdout)["checkout"]["generators"]] == ["generate_instance_wise_adaptive_rubrics"]
    assert "child.py" in done.used  # type: ignore[attr-defined]


def test_a_missing_dependency_names_the_package_and_the_way_out(cli_runs):
    done = cli_runs["missing-dependency"]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("llmfix: error: cannot import open_instruct.search_rewards.utils.run_utils") and MISSING_MODULE in error
    assert "--python" in error and f"pip install {MISSING_MODULE}" in error
    assert f"not installed for {done.python};" in error  # type: ignore[attr-defined]  # --python's, as given, not verify's own


def test_a_python_without_litellm_says_so(cli_runs):
    if "no-litellm" not in cli_runs:
        pytest.skip("no /usr/bin/python3 here")
    done = cli_runs["no-litellm"]
    assert done.returncode == 2, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error == ("llmfix: error: verify runs the checkout's code with /usr/bin/python3, which has no litellm; "
                     "install it there or pass --python <the training environment's python>")


def test_python_that_does_not_run_is_bad_input(tmp_path):
    done = llmfix("verify", str(FIXTURES / "drtulu-canonical"), "--python", str(tmp_path / "nope"))
    assert done.returncode == 2 and done.stderr.startswith(f"llmfix: error: --python {tmp_path / 'nope'}: cannot run it"), done.stderr


def test_a_failed_case_is_exit_1_and_names_the_fix(monkeypatch):
    """Exit-code wiring, with the run itself replaced (no child, no litellm)."""
    checkout = analyse(FIXTURES / "drtulu-canonical")
    [case] = [c for s in scenarios.select(scenarios.build(scenarios.Settings(), checkout), ("7c",)) for c in s.cases]
    outcome = runner.CaseOutcome(case, "fail", [("guards", "run_litellm raised IndexError on choices: []")])
    monkeypatch.setattr(command, "analyse_all", lambda path: [checkout])
    monkeypatch.setattr(runner, "run_many", lambda *a, **k: [runner.RunResult(checkout, scenarios.Settings(), [outcome], 1.0)])
    done = CliRunner().invoke(command.verify_command, ["x", "--scenario", "7c"])
    assert done.exit_code == 1
    assert "guards    run_litellm raised IndexError on choices: [] [7c]" in done.output
    assert "0 passed, 1 failed" in done.output


def test_a_function_not_exercised_is_exit_1_with_its_reason(monkeypatch):
    """Every case passed, but one helper could not be called: exit 1, a "not exercised" line, no missing fix."""
    checkout = analyse(FIXTURES / "drtulu-canonical")
    [case] = [c for s in scenarios.select(scenarios.build(scenarios.Settings(), checkout), ("1",)) for c in s.cases if c.id == "1"]
    reason = "cannot call run_judge(model_name, rubric_id): no value for required parameter 'rubric_id'"
    result = runner.RunResult(checkout, scenarios.Settings(), [runner.CaseOutcome(case, "pass")], 1.0, not_exercised=[("run_judge", reason)])
    monkeypatch.setattr(command, "analyse_all", lambda path: [checkout])
    monkeypatch.setattr(runner, "run_many", lambda *a, **k: [result])
    done = CliRunner().invoke(command.verify_command, ["x", "--scenario", "1"])
    assert done.exit_code == 1
    assert f"not exercised: run_judge: {reason}" in done.output and "missing fixes" not in done.output
    assert "1 passed, 0 failed, 1 function not exercised" in done.output


@pytest.mark.parametrize("args", [[""], ["   "], ["{fixture}", "--scenario", ""], ["{fixture}", "--scenario", "healthy,"]])
def test_empty_path_or_scenario_is_one_line_exit_2(args):
    done = llmfix("verify", *(a.format(fixture=FIXTURES / "drtulu-canonical") for a in args))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("llmfix: error:") and "empty" in done.stderr, done.stderr
    assert done.stdout == ""


def test_help_lists_every_scenario_unit_and_says_it_imports_the_code():
    done = llmfix("verify", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "verify imports the checkout's code and runs it" in text and "--python" in text
    for unit in scenarios.units():
        assert f"{unit.NUMBER} {unit.NAME}" in text


LOADER_PROBE = """
import sys
sys.path.insert(0, {verify!r})
import loader
module = loader.import_checkout_module({root!r}, "open_instruct.rubrics.rubric_utils")
package = sys.modules["open_instruct.rubrics"]
print(module.generate_instance_wise_evolving_rubrics.__name__, hasattr(package, "DEFAULT_SCORE_DTYPE"), "litellm" in sys.modules)
try:
    loader.import_checkout_module({root!r}, "open_instruct.rubrics.not_there")
except loader.CheckoutImportError as error:
    print(error.kind, error.missing)
"""


def test_loader_imports_by_absolute_name_without_package_init():
    root = str(FIXTURES / "upstream-main-split")
    code = LOADER_PROBE.format(verify=str(REPO / "llmfix" / "verify"), root=root)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "generate_instance_wise_evolving_rubrics False False"  # __init__ (numpy, re-exports) never ran
    assert second == "checkout-module open_instruct.rubrics.not_there"


def test_live_proxy_case_is_skipped_with_a_reason_without_tinyproxy(monkeypatch, checkout_copy):
    """No tinyproxy binary: 9b is reported as skipped, naming why (no child is needed for that)."""
    monkeypatch.setattr("llmfix.proxy.tinyproxy_path", lambda: None)
    checkout = analyse(checkout_copy("drtulu-canonical", True))
    chosen = scenarios.select(scenarios.build(scenarios.Settings(), checkout), ("9b",))
    [result] = runner.run_many([(checkout, chosen)], scenarios.Settings())
    assert result.error is None, result.error
    [outcome] = result.outcomes
    assert outcome.status == "skip" and "tinyproxy not found" in outcome.reason
    assert not result.failed


def test_child_environment_is_clean_and_filled_in(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-real-key")
    monkeypatch.setenv("https_proxy", "http://corp:3128")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    base = runner.base_env(scenarios.Settings())
    assert "https_proxy" not in base and base["OPENAI_API_KEY"] == runner.DUMMY_KEY and base["PATH"] == "/usr/bin:/bin"
    env = runner.resolve_env(base, {"LITELLM_FALLBACK_MODELS": '[{"api_base": "$fallback"}]', "SSL_CERT_FILE": "$proxied_ca", "X": None},
                             {"mock": "http://127.0.0.1:1/v1", "fallback": "http://127.0.0.1:2/v1", "proxied_ca": None})
    assert env["OPENAI_API_BASE"] == "http://127.0.0.1:1/v1"
    assert env["LITELLM_FALLBACK_MODELS"] == '[{"api_base": "http://127.0.0.1:2/v1"}]'
    assert "SSL_CERT_FILE" not in env and "X" not in env
    assert runner.resolve_env({"PW": "a$$b$mockery"}, {}, {})["PW"] == "a$$b$mockery"  # live: a user's $ is left alone


def test_a_bad_configured_python_is_one_line_exit_2(tmp_path):
    checkout = tmp_path / "c"
    shutil.copytree(FIXTURES / "drtulu-canonical", checkout)
    (checkout / "pyproject.toml").write_text("[tool.llmfix]\npython = 3\n", encoding="utf-8")
    done = llmfix("verify", str(checkout))
    assert done.returncode == 2 and "python must be the path of a Python interpreter" in done.stderr, done.stderr
