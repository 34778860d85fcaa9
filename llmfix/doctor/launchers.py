"""Read what a launcher script (``train_dr_tulu.sh`` and friends) exports (pure, no shell run).

Understands the shell that launchers are written in: ``export A=1 B=2``, plain ``A=1``
(a shell variable: exported only when A already came from the environment, after
``export A`` or under ``set -a``), ``A=1 python train.py`` (an env prefix for one command),
``unset``, single/double quotes, ``\\`` line continuations, ``#`` comments, ``;``/``&&``/``||``
separated commands, and ``$VAR``/``${VAR}``/``${VAR:-default}`` expansion from earlier
assignments and the caller's environment. Command substitution and positional parameters
are left unresolved and marked as such. Control flow is read straight through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from llmfix.doctor.shellwords import ASSIGN, NAME, UNRESOLVED, Word, expand, lex

RUBRIC_FLAG = "--apply_adaptive_rubric_reward"


def relevant(name: str) -> bool:
    """Variables that change how the helpers reach the LLM."""
    upper = name.upper()
    return (
        upper.endswith("_PROXY")
        or upper.startswith(("OPENAI_", "OPENROUTER_", "RUBRIC_", "LITELLM_", "SSL_", "DISABLE_AIOHTTP"))
        or upper in ("OR_API_KEY", "REQUESTS_CA_BUNDLE", "AIOHTTP_TRUST_ENV")
    )


@dataclass
class Assignment:
    name: str
    value: str
    line: int
    exported: bool
    scope: str = "script"  # "script" or "command" (an env prefix of one command)

    @property
    def unresolved(self) -> bool:
        return UNRESOLVED in self.value

    @property
    def shown(self) -> str:
        return self.value.replace(UNRESOLVED, "…")


@dataclass
class Launcher:
    path: Path
    assignments: dict[str, Assignment] = field(default_factory=dict)
    unset: set[str] = field(default_factory=set)
    flag: tuple[str, int] | None = None  # (value, line) of --apply_adaptive_rubric_reward
    commands: list[tuple[int, list[str]]] = field(default_factory=list)
    sourced: list[tuple[str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def exports(self) -> dict[str, Assignment]:
        """Assignments that reach a child process (the training job)."""
        return {n: a for n, a in self.assignments.items() if a.exported}

    def unexported(self) -> list[Assignment]:
        return [a for a in self.assignments.values() if not a.exported and relevant(a.name)]

    def overlay(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment the launcher's commands run with: ``env`` plus its exports, minus unsets."""
        out = {k: v for k, v in env.items() if k not in self.unset}
        for name, assignment in self.exports().items():
            out[name] = assignment.value.replace(UNRESOLVED, "")
        return out


# ----------------------------------------------------------------------------- parsing


class _Vars:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.shell: dict[str, str] = {}
        self.unset: set[str] = set()

    def __call__(self, name: str) -> str:
        if name in self.shell:
            return self.shell[name]
        if name in self.unset:
            return ""
        return self.env.get(name, "")

    def is_set(self, name: str) -> bool:
        return name in self.shell or (name in self.env and name not in self.unset)


def parse_launcher(path: Path, env: Mapping[str, str] | None = None) -> Launcher:
    """Parse one script. ``env`` is the environment the script would start with."""
    launcher = Launcher(path)
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        launcher.problems.append(f"cannot read {path.name}: {exc.strerror}")
        return launcher
    parse_source(source, launcher, env or {})
    return launcher


def parse_source(source: str, launcher: Launcher, env: Mapping[str, str]) -> Launcher:
    parser = _Parser(launcher, env)
    for words in lex(source):
        parser.command(words)
    return launcher


class _Parser:
    """The shell state while a script is read: variables, exported names, ``set -a``."""

    def __init__(self, launcher: Launcher, env: Mapping[str, str]) -> None:
        self.launcher = launcher
        self.env = env
        self.vars = _Vars(env)
        self.exported = set(env)
        self.allexport = False

    def _prefix(self, words: list[Word], texts: list[str]) -> list[tuple[str, str, int]]:
        """The leading ``NAME=value`` words of a command."""
        prefix: list[tuple[str, str, int]] = []
        for word, text in zip(words, texts):
            m = ASSIGN.match(text) if word.has_assign_shape else None
            if not m:
                break
            name, plus, value = m.groups()
            prefix.append((name, self.vars(name) + value if plus else value, word.line))
        return prefix

    def command(self, words: list[Word]) -> None:
        texts = [expand(w.text, self.vars) for w in words]
        prefix = self._prefix(words, texts)
        k = len(prefix)
        rest = texts[k:]
        if not rest:
            for name, value, line in prefix:
                self._assign(name, value, line, self.allexport or name in self.exported)
            return
        cmd, line = rest[0], words[k].line
        for name, value, pline in prefix:
            if relevant(name) or name not in self.launcher.assignments:
                self.launcher.assignments.setdefault(name, Assignment(name, value, pline, True, scope="command"))
        if cmd in ("export", "declare", "typeset") and (cmd == "export" or "-x" in rest[1:]):
            self._export(rest[1:], words[k + 1 :])
        elif cmd == "unset":
            self._unset(rest[1:])
        elif cmd == "set":
            self._set(rest[1:])
        elif cmd in ("source", ".") and len(rest) > 1:
            self.launcher.sourced.append((rest[1].replace(UNRESOLVED, "…"), line))
        else:
            self.launcher.commands.append((line, rest))
            _find_flag(self.launcher, rest, [w.line for w in words[k:]])

    def _assign(self, name: str, value: str, line: int, exported: bool) -> None:
        self.vars.shell[name] = value
        self.vars.unset.discard(name)
        self.launcher.unset.discard(name)
        self.launcher.assignments[name] = Assignment(name, value, line, exported)

    def _export(self, args: list[str], words: list[Word]) -> None:
        for arg, word in zip(args, words):
            if arg.startswith("-"):
                continue
            m = ASSIGN.match(arg) if word.has_assign_shape or "=" in arg else None
            if m:
                name, plus, value = m.groups()
                value = self.vars(name) + value if plus else value
            elif NAME.fullmatch(arg):
                name, value = arg, self.vars(arg)
                if not self.vars.is_set(name):
                    self.exported.add(name)
                    continue
            else:
                continue
            self.exported.add(name)
            self._assign(name, value, word.line, True)

    def _unset(self, args: list[str]) -> None:
        for arg in args:
            if NAME.fullmatch(arg):
                self.vars.shell.pop(arg, None)
                self.vars.unset.add(arg)
                self.launcher.assignments.pop(arg, None)
                self.exported.discard(arg)
                if arg in self.env:
                    self.launcher.unset.add(arg)

    def _set(self, args: list[str]) -> None:
        for arg in args:
            if arg.startswith("-") and "a" in arg[1:] and not arg.startswith("--"):
                self.allexport = True
            elif arg.startswith("+") and "a" in arg[1:]:
                self.allexport = False
        if "-o" in args and "allexport" in args:
            self.allexport = True


def _find_flag(launcher: Launcher, args: list[str], lines: list[int]) -> None:
    for idx, arg in enumerate(args):
        line = lines[idx]
        if arg == RUBRIC_FLAG:
            nxt = args[idx + 1] if idx + 1 < len(args) else ""
            value = "" if not nxt or nxt.startswith("-") else nxt
            launcher.flag = (value.replace(UNRESOLVED, "…") or "(no value: true)", line)
        elif arg.startswith(RUBRIC_FLAG + "="):
            launcher.flag = (arg.split("=", 1)[1].replace(UNRESOLVED, "…"), line)


def find_launchers(root: Path) -> list[Path]:
    """``*.sh`` directly at the checkout root, sorted by name."""
    try:
        return sorted(p for p in root.glob("*.sh") if p.is_file())
    except OSError:
        return []


def flag_enabled(value: str) -> bool | None:
    """True/False for a parsed --apply_adaptive_rubric_reward value; None when unknown."""
    v = value.strip().lower()
    if v in ("(no value: true)", "true", "1", "yes", "y", "t"):
        return True
    if v in ("false", "0", "no", "n", "f"):
        return False
    return None
