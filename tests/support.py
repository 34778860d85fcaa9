"""Helpers shared by the CLI-level tests: fixture copies, in-process CLI runs, git, and the
checkouts' own style tools (ruff, black) run once per checkout state."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from llmfix.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
PATCHES = REPO / "patches"
CATALOG: dict[str, dict] = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
ALL_FIXTURES = sorted(CATALOG)
PATCHABLE = sorted(name for name, entry in CATALOG.items() if entry["helpers"])
SUPPORT_MODULE = "litellm_utils.py"  # what apply writes beside run_utils.py
RECORD = ".llmfix/record.json"  # relative to the checkout root (root_subdir)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
# Figures a test wants shown after the run (section title -> lines); conftest prints them.
SUMMARY: dict[str, list[str]] = {}


def copy_fixture(name: str, destination: Path) -> Path:
    """A private copy of a fixture checkout (tests never touch fixtures/ itself)."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def invoke(*args: str) -> Result:
    """Run ``llmfix ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@dataclass
class EntryResult:
    exit_code: int
    stdout: str
    stderr: str


def run_entry(*args: str) -> EntryResult:
    """Run the console entry point (``llmfix ARGS`` as installed) in-process.

    Unlike :func:`invoke`, this goes through ``llmfix.cli.run``, which turns click's usage
    errors and unexpected exceptions into the one line the CLI promises.
    """
    import contextlib
    import io

    from llmfix.cli import run

    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ["llmfix", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run()
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 2)
    finally:
        sys.argv = argv
    return EntryResult(code, out.getvalue(), err.getvalue())


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m llmfix ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "llmfix", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes (to prove nothing changed)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def target_files(name: str, root: Path) -> list[Path]:
    """Every target file the catalog lists for the fixture (run_utils, rubric_utils, and any later ones)."""
    return [root / rel for rel in CATALOG[name]["files"].values()]


def target_file(name: str, root: Path, kind: str) -> Path:
    return root / CATALOG[name]["files"][kind]


def checkout_root(name: str, copy: Path) -> Path:
    """The folder holding ``open_instruct/`` in a copy of the fixture (where ``.llmfix/`` goes)."""
    return copy / CATALOG[name]["root_subdir"]


def support_module(name: str, copy: Path) -> Path:
    """Where apply writes the support module: beside run_utils.py."""
    return target_file(name, copy, "run_utils").with_name(SUPPORT_MODULE)


def unbound_support_uses(source: str | bytes) -> list[int]:
    """Lines that use ``litellm_utils`` in a module that never binds the name (a NameError waiting to happen)."""
    import ast

    tree = ast.parse(source)
    bound = any(
        (alias.asname or alias.name).split(".")[0] == "litellm_utils"
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    )
    used = sorted({n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "litellm_utils"})
    return [] if bound else used


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real git, with a fixed identity and no user or system config."""
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=120)
    if check:
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def git_init(repo: Path, message: str = "upstream") -> None:
    """Make ``repo`` a git repository whose one commit holds every file in it."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and everything reachable through ``__cause__``/``__context__``."""
    chain: list[BaseException] = []
    while exc is not None and all(exc is not seen for seen in chain):
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


# --------------------------------------------------------------------------- style tools
#
# Each checkout is checked with its own settings (fixtures/README.md, "Catalog fields"):
# upstream's ruff config read from its pyproject.toml; DR Tulu's Makefile (black at 119
# for py310, isort's black profile -- here ruff's isort rules at isort's 88 columns --
# and flake8 with .flake8, here ruff's E/F/W rules with the same ignores); a checkout
# without settings gets a ruff config like upstream's and no formatter.

UPSTREAM_LIKE = [
    "--isolated", "--line-length", "119", "--target-version", "py310",
    "--select", "F,E,W,I,SIM,UP,B,PLC0415", "--ignore", "B905,E501",
    "--config", 'lint.isort.known-first-party = ["open_instruct", "mason"]',
    "--config", "lint.isort.case-sensitive = false",
    "--config", "lint.isort.split-on-trailing-comma = false",
]  # fmt: skip
DRTULU_LINT = [
    "--isolated", "--line-length", "88", "--target-version", "py310",
    "--select", "I,E,F,W", "--ignore", "E203,E402,E501",  # W503: no ruff rule (and off in pycodestyle too)
    "--config", 'lint.isort.known-first-party = ["open_instruct"]',
]  # fmt: skip
BLACK = ["--line-length", "119", "--target-version", "py310"]


@dataclass(frozen=True)
class StyleReport:
    """What a checkout's own tools say about its Python files (paths relative to the checkout root)."""

    findings: Counter  # (path, rule) -> count
    unformatted: frozenset[str] | None  # files the formatter would change; None: the checkout has no formatter
    files: tuple[str, ...]


_STYLE_CACHE: dict[str, StyleReport] = {}


def python_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if not any(part.startswith(".") for part in p.relative_to(root).parts))


def _ruff() -> str:
    from ruff.__main__ import find_ruff_bin

    return os.fsdecode(find_ruff_bin())


_BLACK_CACHE: list[str] = []


def _black_cache() -> str:
    """A cache folder for black outside every checkout (black writes one; the checkouts are compared byte for byte)."""
    if not _BLACK_CACHE:
        import atexit
        import tempfile

        _BLACK_CACHE.append(tempfile.mkdtemp(prefix="llmfix-tests-black-cache-"))
        atexit.register(shutil.rmtree, _BLACK_CACHE[0], True)
    return _BLACK_CACHE[0]


def _tool(args: list[str], root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "BLACK_CACHE_DIR": _black_cache()}
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), f"{args[0]} crashed: {done.stdout}{done.stderr}"
    return done


def style_report(name: str, copy: Path) -> StyleReport:
    """Lint and format-check every Python file of the checkout at once, with its own settings.

    One run of each tool per checkout state: results are kept for the session by the
    content of the files and the checkout's config, so a text checked twice is checked once.
    """
    style = CATALOG[name]["style"]
    root = checkout_root(name, copy)
    files = python_files(root)
    key = hashlib.sha256(json.dumps(style, sort_keys=True).encode())
    for rel in [*files, "pyproject.toml"]:
        path = root / rel
        key.update(rel.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    digest = key.hexdigest()
    if digest in _STYLE_CACHE:
        return _STYLE_CACHE[digest]
    lint = {"ruff": [], "black": DRTULU_LINT, None: UPSTREAM_LIKE}[style["tool"]]
    checked = _tool([_ruff(), "check", "--no-cache", "--output-format", "json", *lint, *files], root)
    findings = Counter((Path(f["filename"]).resolve().relative_to(root.resolve()).as_posix(), f["code"]) for f in json.loads(checked.stdout or "[]"))
    unformatted: frozenset[str] | None = None
    if style["tool"] == "ruff":
        done = _tool([_ruff(), "format", "--no-cache", "--check", *files], root)
        unformatted = frozenset(m.group(1) for m in re.finditer(r"^Would reformat: (.+)$", done.stdout, re.M))
    elif style["tool"] == "black":
        done = _tool([sys.executable, "-m", "black", "--check", *BLACK, *files], root)
        unformatted = frozenset(m.group(1) for m in re.finditer(r"^would reformat (.+)$", done.stderr, re.M))
    if unformatted is not None:
        unformatted = frozenset(Path(p).resolve().relative_to(root.resolve()).as_posix() if Path(p).is_absolute() else p for p in unformatted)
    report = StyleReport(findings, unformatted, tuple(files))
    _STYLE_CACHE[digest] = report
    return report


# --------------------------------------------------------------------------- shared checkouts


@dataclass(frozen=True)
class Patched:
    """A fixture copy after ``llmfix apply`` (shared by the tests of a session: read it, never write it)."""

    name: str
    copy: Path  # the copy of fixtures/NAME
    stdout: str  # what apply printed

    @property
    def root(self) -> Path:
        return checkout_root(self.name, self.copy)


class Checkouts:
    """One pristine and one patched copy per fixture, made on first use and shared by the session.

    Tests that only read a checkout (lint it, run its tests, import it) share these;
    a test that changes files makes its own copy with :func:`copy_fixture`. Given ``shared``
    (a folder every xdist worker of the run sees), the workers share the patched copies too:
    the first to need one patches it under a lock, the others read it.
    """

    def __init__(self, base: Path, shared: Path | None = None) -> None:
        self.base = base
        self.shared = shared
        self._pristine: dict[str, Path] = {}
        self._patched: dict[str, Patched] = {}

    def pristine(self, name: str) -> Path:
        if name not in self._pristine:
            self._pristine[name] = copy_fixture(name, self.base / "pristine")
        return self._pristine[name]

    def patched(self, name: str) -> Patched:
        if name not in self._patched:
            self._patched[name] = _apply(name, self.base / "patched") if self.shared is None else self._shared_patched(name)
        return self._patched[name]

    def _shared_patched(self, name: str) -> Patched:
        import fcntl

        self.shared.mkdir(parents=True, exist_ok=True)
        said = self.shared / f"{name}.stdout"  # written once the copy is whole
        with open(self.shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not said.exists():
                said.write_text(_apply(name, self.shared).stdout, encoding="utf-8")
        return Patched(name, self.shared / name, said.read_text(encoding="utf-8"))


def _apply(name: str, destination: Path) -> Patched:
    """A copy of the fixture in ``destination`` after ``llmfix apply``."""
    copy = copy_fixture(name, destination)
    result = invoke("apply", copy)
    assert result.exit_code == 0, result.stderr
    return Patched(name, copy, result.stdout)
