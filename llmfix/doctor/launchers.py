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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

RUBRIC_FLAG = "--apply_adaptive_rubric_reward"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=(.*)", re.S)
UNRESOLVED = "\x00"  # marks a value that holds $(...), `...`, $1 and the like


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


# ----------------------------------------------------------------------------- lexing


@dataclass
class _Word:
    text: str
    line: int
    quoted: bool = False  # any part quoted (so an empty word still counts)
    has_assign_shape: bool = False  # NAME= prefix was unquoted


def _lex(source: str) -> Iterator[list[_Word] | None]:
    """Yield commands as word lists (expansion markers kept for the expander). None never yielded."""
    i, n, line = 0, len(source), 1
    words: list[_Word] = []
    parts: list[tuple[str, str]] = []  # (kind, text): kind in raw/single/double
    start_line = 1
    quoted = False

    def end_word() -> None:
        nonlocal parts, quoted
        if parts or quoted:
            raw0 = parts[0][1] if parts and parts[0][0] == "raw" else ""
            words.append(_Word(_encode(parts), start_line, quoted, bool(_ASSIGN.match(raw0))))
        parts, quoted = [], False

    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n and source[i + 1] == "\n":
            i += 2
            line += 1
            continue
        if c in " \t\r":
            end_word()
            i += 1
            continue
        if c == "\n" or c == ";" or source.startswith("&&", i) or source.startswith("||", i) or c in "|&":
            end_word()
            if words:
                yield words
            words = []
            if c == "\n":
                line += 1
            i += 2 if source.startswith(("&&", "||"), i) else 1
            continue
        if c == "#" and not parts and not quoted:
            while i < n and source[i] != "\n":
                i += 1
            continue
        if not parts and not quoted:
            start_line = line
        if c == "'":
            j = source.find("'", i + 1)
            j = n if j < 0 else j
            text = source[i + 1 : j]
            line += text.count("\n")
            parts.append(("single", text))
            quoted = True
            i = j + 1
            continue
        if c == '"':
            j, buf = i + 1, []
            while j < n and source[j] != '"':
                if source[j] == "\\" and j + 1 < n and source[j + 1] in '"\\$`\n':
                    if source[j + 1] != "\n":
                        buf.append("\\" + source[j + 1] if source[j + 1] in "$`" else source[j + 1])
                    j += 2
                    continue
                buf.append(source[j])
                j += 1
            text = "".join(buf)
            line += text.count("\n")
            parts.append(("double", text))
            quoted = True
            i = j + 1
            continue
        if c == "\\" and i + 1 < n:
            parts.append(("single", source[i + 1]))
            i += 2
            continue
        if c == "$" and source.startswith("$(", i):
            depth, j = 0, i + 1
            while j < n:
                if source[j] == "(":
                    depth += 1
                elif source[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            parts.append(("raw", source[i : j + 1]))
            i = j + 1
            continue
        if c == "$" and source.startswith("${", i):
            j = source.find("}", i)
            j = n - 1 if j < 0 else j
            parts.append(("raw", source[i : j + 1]))
            i = j + 1
            continue
        if c == "`":
            j = source.find("`", i + 1)
            j = n - 1 if j < 0 else j
            parts.append(("raw", source[i : j + 1]))
            i = j + 1
            continue
        # a run of plain characters
        j = i
        while j < n and source[j] not in " \t\r\n;&|'\"\\$`#":
            j += 1
        if j == i:  # a lone $ or a # inside a word
            j = i + 1
        parts.append(("raw", source[i:j]))
        i = j
    end_word()
    if words:
        yield words


# Parts are encoded into one string with private-use separators so the expander can tell
# single-quoted (literal) text from text that undergoes expansion.
_S, _E = "\ue000", "\ue001"


def _encode(parts: list[tuple[str, str]]) -> str:
    return "".join(f"{_S}{t}{_E}" if kind == "single" else t for kind, t in parts)


_EXPANSION = re.compile(
    r"\\([$`])"  # escaped inside double quotes
    r"|\$\{(?P<braced>[^}]*)\}"
    r"|\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\$(?P<special>[0-9@*#?$!-])"
    r"|(?P<cmd>\$\(.*?\)|`[^`]*`)",
    re.S,
)


def _expand(text: str, lookup) -> str:
    out: list[str] = []
    for literal, chunk in _split_literal(text):
        out.append(chunk if literal else _expand_chunk(chunk, lookup))
    return "".join(out)


def _split_literal(text: str) -> Iterator[tuple[bool, str]]:
    while text:
        start = text.find(_S)
        if start < 0:
            yield False, text
            return
        if start:
            yield False, text[:start]
        end = text.find(_E, start)
        yield True, text[start + 1 : end]
        text = text[end + 1 :]


def _expand_chunk(chunk: str, lookup) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        if m.group("name"):
            return lookup(m.group("name"))
        if m.group("special") is not None or m.group("cmd"):
            return UNRESOLVED
        braced = m.group("braced")
        nm = _NAME.match(braced)
        if not nm:
            return UNRESOLVED
        name, rest = nm.group(0), braced[nm.end() :]
        value = lookup(name)
        if not rest:
            return value
        for op in (":-", ":=", "-", "="):
            if rest.startswith(op):
                default = _expand_chunk(rest[len(op) :], lookup)
                empty = value == "" if op.startswith(":") else value == "" and not lookup_is_set(lookup, name)
                return default if empty else value
        return UNRESOLVED

    return _EXPANSION.sub(repl, chunk)


def lookup_is_set(lookup, name: str) -> bool:
    return getattr(lookup, "is_set", lambda _n: True)(name)


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
    vars_ = _Vars(env)
    exported_names = set(env)
    allexport = False
    for words in _lex(source):
        texts = [_expand(w.text, vars_) for w in words]
        # Leading NAME=value words
        k = 0
        prefix: list[tuple[str, str, int]] = []
        while k < len(words) and words[k].has_assign_shape:
            m = _ASSIGN.match(texts[k])
            if not m:
                break
            name, plus, value = m.groups()
            if plus:
                value = vars_(name) + value
            prefix.append((name, value, words[k].line))
            k += 1
        rest = texts[k:]
        if not rest:
            for name, value, line in prefix:
                vars_.shell[name] = value
                vars_.unset.discard(name)
                launcher.unset.discard(name)
                exported = allexport or name in exported_names
                launcher.assignments[name] = Assignment(name, value, line, exported)
            continue
        cmd, line = rest[0], words[k].line
        if prefix:
            for name, value, pline in prefix:
                if relevant(name) or name not in launcher.assignments:
                    launcher.assignments.setdefault(name, Assignment(name, value, pline, True, scope="command"))
        if cmd in ("export", "declare", "typeset") and (cmd == "export" or "-x" in rest[1:]):
            for idx, arg in enumerate(rest[1:], start=k + 1):
                if arg.startswith("-"):
                    continue
                m = _ASSIGN.match(arg) if words[idx].has_assign_shape or "=" in arg else None
                if m:
                    name, plus, value = m.groups()
                    if plus:
                        value = vars_(name) + value
                    vars_.shell[name] = value
                elif _NAME.fullmatch(arg):
                    name, value = arg, vars_(arg)
                    if not vars_.is_set(name):
                        exported_names.add(name)
                        continue
                else:
                    continue
                exported_names.add(name)
                vars_.unset.discard(name)
                launcher.unset.discard(name)
                launcher.assignments[name] = Assignment(name, value, words[idx].line, True)
            continue
        if cmd == "unset":
            for arg in rest[1:]:
                if _NAME.fullmatch(arg):
                    vars_.shell.pop(arg, None)
                    vars_.unset.add(arg)
                    launcher.assignments.pop(arg, None)
                    exported_names.discard(arg)
                    if arg in env:
                        launcher.unset.add(arg)
            continue
        if cmd == "set":
            for arg in rest[1:]:
                if arg.startswith("-") and "a" in arg[1:] and not arg.startswith("--"):
                    allexport = True
                elif arg.startswith("+") and "a" in arg[1:]:
                    allexport = False
                elif arg == "allexport":
                    pass
            if "-o" in rest and "allexport" in rest:
                allexport = True
            continue
        if cmd in ("source", ".") and len(rest) > 1:
            launcher.sourced.append((rest[1].replace(UNRESOLVED, "…"), line))
            continue
        launcher.commands.append((line, rest))
        _find_flag(launcher, rest, [w.line for w in words[k:]])
    return launcher


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
