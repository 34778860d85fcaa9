"""What a launcher script (``train_dr_tulu.sh`` and friends) exports, read without running a shell: ``export``,
assignments (exported when the name came from the environment, after ``export A`` or under ``set -a``), ``A=1 cmd``,
``unset``, quotes, continuations, comments, ``;``/``&&``/``||``, ``$VAR``/``${VAR:-default}``. ``$(...)`` and ``$1``
stay unresolved (marked); control flow is read straight through. Then check 6b on what they export, and the key they
give the job: a key this shell lacks but a launcher exports is not "not set" (the probe uses it too)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import NamedTuple

from llmfix.doctor.env import EnvView
from llmfix.doctor.findings import LAYER, OK, WARN, Finding
from llmfix.doctor.redact import redact_key

RUBRIC_FLAG = "--apply_adaptive_rubric_reward"
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=(.*)", re.DOTALL)
UNRESOLVED = "\x00"  # marks a value that holds $(...), `...`, $1 and the like
_EXPANSION = re.compile(
    r"\\([$`])"  # escaped inside double quotes
    r"|\$\{(?P<braced>[^}]*)\}"
    r"|\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\$(?P<special>[0-9@*#?$!-])"
    r"|(?P<cmd>\$\(.*?\)|`[^`]*`)",
    re.DOTALL,
)
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])(.*))?\Z", re.DOTALL)  # ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:=word}...


def relevant(name: str) -> bool:
    """Variables that change how the helpers reach the LLM."""
    upper = name.upper()
    prefixes = ("OPENAI_", "OPENROUTER_", "RUBRIC_", "LITELLM_", "SSL_", "DISABLE_AIOHTTP")
    return upper.endswith("_PROXY") or upper.startswith(prefixes) or upper in ("OR_API_KEY", "REQUESTS_CA_BUNDLE", "AIOHTTP_TRUST_ENV")


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
    unset: set[str] = field(default_factory=set)  # variables of the caller's environment it unsets
    flag: tuple[str, int] | None = None  # (value, line) of --apply_adaptive_rubric_reward
    sourced: list[tuple[str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def exports(self) -> dict[str, Assignment]:
        """Assignments that reach a child process (the training job)."""
        return {n: a for n, a in self.assignments.items() if a.exported}

    def unexported(self) -> list[Assignment]:
        return [a for a in self.assignments.values() if not a.exported and relevant(a.name)]

    def overlay(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment the launcher's commands run with: ``env`` plus its exports, minus unsets."""
        return {**{k: v for k, v in env.items() if k not in self.unset}, **{name: a.value.replace(UNRESOLVED, "") for name, a in self.exports().items()}}


def find_launchers(root: Path) -> list[Path]:
    """``*.sh`` directly at the checkout root, sorted by name."""
    try:
        return sorted(p for p in root.glob("*.sh") if p.is_file())
    except OSError:
        return []


def flag_enabled(value: str) -> bool | None:
    """True/False for a parsed --apply_adaptive_rubric_reward value; None when unknown."""
    v = value.strip().lower()
    return True if v in ("(no value: true)", "true", "1", "yes", "y", "t") else False if v in ("false", "0", "no", "n", "f") else None


def parse_launcher(path: Path, env: Mapping[str, str] | None = None) -> Launcher:
    """Parse one script. ``env`` is the environment the script would start with."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return Launcher(path, problems=[f"cannot read {path.name}: {exc.strerror}"])
    return parse_source(source, Launcher(path), env or {})


def parse_source(source: str, launcher: Launcher, env: Mapping[str, str]) -> Launcher:
    parser = _Parser(launcher, env)
    for words in _lex(source):
        parser.command(words)
    return launcher


class _Word(NamedTuple):
    parts: list[tuple[str, str]]  # (kind, text): kind "raw", "double" (both expanded) or "single" (literal)
    line: int


def _lex(source: str) -> Iterator[list[_Word]]:
    """Commands as lists of words: split at newlines, ``;``, ``|`` and ``&`` (``&&``, ``||``), comments dropped."""
    i, n, line, start_line = 0, len(source), 1, 1
    words: list[_Word] = []
    parts: list[tuple[str, str]] = []
    quoted = False  # any part quoted (so an empty word still counts)
    while i < n or words or parts or quoted:  # past the end, one last newline ends the last command
        c = source[i] if i < n else "\n"
        if c == "\\" and source.startswith("\n", i + 1):  # a line continuation
            i, line = i + 2, line + 1
        elif c in " \t\r\n;|&":
            if parts or quoted:
                words.append(_Word(parts, start_line))
            parts, quoted = [], False
            if c in "\n;|&":  # the end of a command (an empty one changes nothing)
                yield words
                words = []
            line += c == "\n" and i < n
            i += 2 if source.startswith(("&&", "||"), i) else 1
        elif c == "#" and not parts and not quoted:  # a comment, up to the end of the line
            j = source.find("\n", i)
            i = n if j < 0 else j
        else:  # one piece of a word
            start_line, m = start_line if parts or quoted else line, _PART.match(source, i)
            i = m.end()
            if m["single"] is not None or m["double"] is not None:
                text = m["single"] if m["single"] is not None else _DOUBLE_ESCAPE.sub(lambda e: _UNESCAPE.get(e[1], e[1]), m["double"])
                parts.append(("single" if m["single"] is not None else "double", text))
                line, quoted = line + text.count("\n"), True
            else:
                parts.append(("single", m["escaped"]) if m["escaped"] is not None else ("raw", m["raw"]))


_PART = re.compile(  # one piece of a word: '...', "...", \x, or a raw run ($(...), ${...}, `...`, plain text, a lone $ or #)
    r"""'(?P<single>[^']*)'?|"(?P<double>(?:\\.|[^"\\])*\\?)"?|\\(?P<escaped>.)"""
    r"""|(?P<raw>\$\((?:[^()]|\([^()]*\)?)*\)?|\$\{[^}]*\}?|`[^`]*`?|[^ \t\r\n;&|'"\\$`#]+|.)""",
    re.DOTALL,
)
_DOUBLE_ESCAPE = re.compile(r'\\([\n"\\$`])')  # inside "...": \$ and \` stay escaped for expansion
_UNESCAPE = {"\n": "", "$": "\\$", "`": "\\`"}


class _Parser:
    """The shell state while a script is read: variables, exported names, ``set -a``."""

    def __init__(self, launcher: Launcher, env: Mapping[str, str]) -> None:
        self.launcher, self.env, self.vars = launcher, dict(env), dict(env)  # vars: the shell's variables as the script runs
        self.exported, self.allexport = set(env), False

    def assigned(self, m: re.Match[str]) -> str:
        """What ``NAME=value`` (or ``NAME+=value``, appending) assigns."""
        return self.vars.get(m.group(1), "") + m.group(3) if m.group(2) else m.group(3)

    def expand(self, word: _Word) -> str:
        """The word's text: single-quoted parts as they are, each run of the others expanded as one."""
        runs = groupby(word.parts, key=lambda part: part[0] == "single")
        return "".join("".join(t for _, t in run) if literal else _EXPANSION.sub(self._expansion, "".join(t for _, t in run)) for literal, run in runs)

    def _expansion(self, m: re.Match[str]) -> str:
        if m.group(1) or m.group("name"):
            return m.group(1) or self.vars.get(m.group("name"), "")
        braced = _BRACED.match(m.group("braced") or "")
        if braced is None:  # $1, $(...), `...`, ${#X}, ${X:0:2} and the like
            return UNRESOLVED
        name, op, default = braced.groups()
        value = self.vars.get(name, "")
        empty = value == "" if op and op.startswith(":") else name not in self.vars
        return _EXPANSION.sub(self._expansion, default) if op and empty else value

    def command(self, words: list[_Word]) -> None:
        texts = [self.expand(w) for w in words]
        prefix: list[tuple[str, str, int]] = []  # the leading NAME=value words
        for word, text in zip(words, texts):
            m = ASSIGN.match(text) if word.parts and word.parts[0][0] == "raw" and ASSIGN.match(word.parts[0][1]) else None  # unquoted NAME=
            if not m:
                break
            prefix.append((m.group(1), self.assigned(m), word.line))
        k, rest = len(prefix), texts[len(prefix) :]
        if not rest:
            for name, value, line in prefix:
                self._assign(name, value, line, self.allexport or name in self.exported)
            return
        for name, value, line in prefix:
            if relevant(name) or name not in self.launcher.assignments:
                self.launcher.assignments.setdefault(name, Assignment(name, value, line, True, scope="command"))
        cmd = rest[0]
        if cmd in ("export", "declare", "typeset") and (cmd == "export" or "-x" in rest[1:]):
            self._export(rest[1:], words[k + 1 :])
        elif cmd == "unset":
            self._unset(rest[1:])
        elif cmd == "set":
            self._set(rest[1:])
        elif cmd in ("source", ".") and len(rest) > 1:
            self.launcher.sourced.append((rest[1].replace(UNRESOLVED, "…"), words[k].line))
        else:
            self._find_flag(rest, [w.line for w in words[k:]])

    def _assign(self, name: str, value: str, line: int, exported: bool) -> None:
        self.vars[name] = value
        self.launcher.unset.discard(name)
        self.launcher.assignments[name] = Assignment(name, value, line, exported)

    def _export(self, args: list[str], words: list[_Word]) -> None:
        for arg, word in zip(args, words):
            m = ASSIGN.match(arg) if not arg.startswith("-") else None
            if m:
                self.exported.add(m.group(1))
                self._assign(m.group(1), self.assigned(m), word.line, True)
            elif NAME.fullmatch(arg):
                self.exported.add(arg)
                if arg in self.vars:
                    self._assign(arg, self.vars[arg], word.line, True)

    def _unset(self, args: list[str]) -> None:
        for arg in filter(NAME.fullmatch, args):
            self.vars.pop(arg, None)
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

    def _find_flag(self, args: list[str], lines: list[int]) -> None:
        for idx, arg in enumerate(args):
            if arg == RUBRIC_FLAG:
                nxt = args[idx + 1] if idx + 1 < len(args) else ""
                value = "" if not nxt or nxt.startswith("-") else nxt
                self.launcher.flag = (value.replace(UNRESOLVED, "…") or "(no value: true)", lines[idx])
            elif arg.startswith(RUBRIC_FLAG + "="):
                self.launcher.flag = (arg.split("=", 1)[1].replace(UNRESOLVED, "…"), lines[idx])


CHECK = "launcher"


def _shown(name: str, a: Assignment) -> str:
    """One export as the detail shows it, a secret's value as a short prefix."""
    value = redact_key(a.shown) if any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD")) else a.shown
    return f"line {a.line}: {'export ' if a.scope == 'script' else ''}{name}={value}" + (" (for one command)" if a.scope == "command" else "")


def check(launcher: Launcher, source: str) -> list[Finding]:
    """What ``launcher`` exports and how it sets the flag; ``source``: the name findings carry."""
    exports = {n: a for n, a in launcher.exports().items() if relevant(n)}
    detail = [_shown(n, a) for n, a in sorted(exports.items(), key=lambda x: x[1].line)] + [f"unset {n}" for n in sorted(launcher.unset) if relevant(n)]
    detail += [f"line {line}: sources {what} (not followed)" for what, line in launcher.sourced]
    findings = [Finding(CHECK, WARN, problem, "", "launcher-unreadable", source, LAYER["launcher"]) for problem in launcher.problems]
    flag = "no --apply_adaptive_rubric_reward flag: adaptive rubrics off unless the config enables them"
    if launcher.flag is not None:
        value, line = launcher.flag
        state = {True: "rubric generation calls the LLM during training", False: "adaptive rubrics off", None: "value not understood"}
        flag = f"--apply_adaptive_rubric_reward {value} (line {line}): {state[flag_enabled(value)]}"
    summary = f"exports {', '.join(sorted(exports)) or 'no LLM-related variables'}; {flag}"
    findings.append(Finding(CHECK, OK, summary, source=source, layer=LAYER["launcher"], detail=detail))
    for a in launcher.unexported():
        summary, fix = f"line {a.line} sets {a.name} without exporting it: the training job does not see it", f"write `export ` in front of line {a.line}"
        findings.append(Finding(CHECK, WARN, summary, f"{fix} of {source} (or add `export {a.name}` after it)", "launcher-unexported", source, LAYER["config"]))
    why = "comes from a command substitution or argument; the doctor cannot check its value"
    unresolved = [f"line {a.line}: {n} {why}" for n, a in exports.items() if a.unresolved]
    return findings + [Finding(CHECK, WARN, summary, "", "launcher-unresolved", source, LAYER["launcher"]) for summary in unresolved]


class Launched(NamedTuple):
    """One launcher script, the name its findings carry, and the job's environment (None: no LLM-related change)."""

    launcher: Launcher
    source: str
    view: EnvView | None

    @property
    def gives_key(self) -> bool:
        return self.view is not None and bool(self.view.endpoint.key) and self.view.endpoint.key_source in self.launcher.exports()


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def settle_key(findings: list[Finding], main: EnvView, launched: list[Launched]) -> list[Finding]:
    """The shell's "key is not set" findings, told again when launchers export the key."""
    givers = [item for item in launched if item.gives_key]
    if not givers or main.endpoint.key:
        return findings
    others, var = [item.source for item in launched if not item.gives_key], main.endpoint.key_variable
    lines = [f"{g.source} (line {g.launcher.exports()[g.view.endpoint.key_source].line})" for g in givers]  # type: ignore[union-attr,index]
    one = len(givers) == 1
    summary = f"{var} is not set in this shell, but {_names(lines)} {'exports' if one else 'export'} it: "
    summary += f"the training job started by {'it' if one else 'them'} has the key"
    if others:
        summary += f"; {_names(others)} {'does' if len(others) == 1 else 'do'} not set it: a job started there fails with 'Missing credentials'"
    fix = f"export {var}=... in {_names(others)} too (or in this shell)" if others else ""
    told, missing = WARN if others else OK, (main.source, "key-missing")
    return [Finding(f.check, told, summary, fix, "key-from-launcher", f.source, f.layer) if (f.source, f.cause) == missing else f for f in findings]
