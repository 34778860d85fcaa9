"""Generated inputs: a 5,000-file checkout (1b) and a batch of target-file variants (1c).

Everything is seeded, so the same profile always builds the same bytes.
"""

from __future__ import annotations

import io
import random
import re
import sysconfig
import tokenize
from pathlib import Path

from bench.common import CANONICAL, CATALOG, FIXTURES

# ----------------------------------------------------------------------------- 1b


def _filler_sources(limit: int = 60) -> list[str]:
    """Ordinary Python text to fill the big checkout with: stdlib modules of 2 to 12 KB."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    picked = []
    for path in sorted(stdlib.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if 2_000 <= len(text) <= 12_000 and "litellm" not in text:
            picked.append(text)
        if len(picked) >= limit:
            break
    return picked


DECOY_RUN_UTILS = '''"""Unrelated helpers that happen to share a name and mention litellm."""

import subprocess


def run_litellm_proxy_cli(args):
    """Start the litellm proxy CLI (not an open-instruct helper)."""
    return subprocess.run(["litellm", *args], check=False)
'''


FILES_PER_FOLDER = 12  # about what real Python trees have (CPython's Lib/: ~10)


def big_checkout(root: Path, total_files: int, seed: int = 6) -> dict:
    """A monorepo-like tree of ``total_files`` .py files with an open-instruct checkout
    buried at ``vendor/research/rl-stack/third_party/rl/open-instruct``.

    About 80% of the files sit outside open_instruct (services, tools, and decoy
    ``run_utils.py`` files that mention litellm), 20% inside it (other modules of the
    package, next to the two targets).
    """
    rng = random.Random(seed)
    fillers = _filler_sources()
    base = root / "vendor" / "research" / "rl-stack" / "third_party"
    checkout = base / CATALOG[CANONICAL]["root_subdir"]
    package = checkout / "open_instruct"
    source_files = CATALOG[CANONICAL]["files"]
    fixture = FIXTURES / CANONICAL
    written = 0
    for rel in source_files.values():
        dest = base / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((fixture / rel).read_bytes())
        written += 1
    inside = total_files // 5
    decoys = 40
    outside = total_files - written - inside - decoys
    subpackages = ["data", "models", "rl", "eval", "search_rewards/scorers", "utils", "launch", "tools"]
    per_folder = FILES_PER_FOLDER
    for i in range(inside):
        index = i // per_folder
        folder = package / subpackages[index % len(subpackages)] / f"part{index // len(subpackages):02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module_{i:04d}.py").write_text(rng.choice(fillers), encoding="utf-8")
    for i in range(outside):
        index = i // per_folder
        folder = root / f"services/svc{index // 8:02d}/pkg{index % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{i:04d}.py").write_text(rng.choice(fillers), encoding="utf-8")
    for i in range(decoys):
        folder = root / f"tools/t{i:02d}/scripts"
        folder.mkdir(parents=True, exist_ok=True)
        name = "run_utils.py" if i % 2 == 0 else "rubric_utils.py"
        (folder / name).write_text(DECOY_RUN_UTILS, encoding="utf-8")
    count = sum(1 for _ in root.rglob("*.py"))
    folders = sum(1 for p in root.rglob("*") if p.is_dir()) + 1
    return {"root": root, "checkout": checkout, "py_files": count, "folders": folders, "targets": [base / r for r in source_files.values()]}


# ----------------------------------------------------------------------------- 1c

PATCHABLE = [name for name, entry in CATALOG.items() if entry["helpers"]]

# local names the families use, and what a fork might call them instead
RENAMES = {
    "msgs": ["messages_list", "chat_messages", "msg_list"],
    "response": ["completion_response", "reply", "llm_response"],
    "resp": ["raw_reply", "response_text", "out"],
    "obj": ["parsed", "rubric_obj", "result"],
    "prompt": ["prompt_text", "filled_prompt"],
    "request_kwargs": ["call_kwargs", "req_kwargs"],
    "e": ["err", "exc"],
}
DEFAULT_LINE = re.compile(r'^[ \t]*(\w+)\["\w+"\] = \1\.get\("\w+", .*\)[ \t]*(#.*)?$')
COMMENTS = [
    "keep in sync with the judge settings",
    "TODO(infra): revisit once the proxy is gone",
    "see the launcher for the env vars",
    "NOTE: callers may override these",
    "local tweak for our cluster",
    "per-call, not global",
]


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _rename(text: str, rng: random.Random) -> tuple[str, list[str]]:
    done = []
    for old, choices in RENAMES.items():
        if rng.random() < 0.6 and re.search(rf"\b{old}\b", text):
            new = rng.choice(choices)
            if re.search(rf"\b{new}\b", text):
                continue
            text = re.sub(rf"\b{old}\b", new, text)
            done.append(f"{old}->{new}")
    return text, done


def _reorder_defaults(text: str, rng: random.Random) -> tuple[str, int]:
    lines = text.splitlines(keepends=True)
    out, run, shuffled = [], [], 0

    def flush() -> None:
        nonlocal shuffled
        if len(run) > 1:
            before = list(run)
            rng.shuffle(run)
            shuffled += run != before
        out.extend(run)
        run.clear()

    for line in lines:
        if DEFAULT_LINE.match(line.rstrip("\r\n")):
            run.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "".join(out), shuffled


def _logical_line_starts(text: str) -> tuple[set[int], set[int]]:
    """1-based numbers of lines where a logical line starts, and where one ends (NEWLINE)."""
    starts, ends = set(), set()
    expect_start = True
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            continue
        if tok.type == tokenize.NEWLINE:
            ends.add(tok.start[0])
            expect_start = True
            continue
        if expect_start and tok.type != tokenize.ENDMARKER:
            starts.add(tok.start[0])
            expect_start = False
    return starts, ends


def _add_comments(text: str, rng: random.Random, count: int) -> tuple[str, int]:
    nl = _newline(text)
    starts, ends = _logical_line_starts(text.replace("\r\n", "\n"))
    lines = text.splitlines(keepends=True)
    chosen_before = set(rng.sample(sorted(starts), min(count, len(starts))))
    single = sorted(ln for ln in ends if ln in starts and "#" not in lines[ln - 1])
    chosen_after = set(rng.sample(single, min(count // 2, len(single))))
    out = []
    for number, line in enumerate(lines, 1):
        if number in chosen_before:
            indent = re.match(r"[ \t]*", line).group(0)
            out.append(f"{indent}# {rng.choice(COMMENTS)}{nl}")
        if number in chosen_after:
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            line = f"{body.rstrip()}  # {rng.choice(COMMENTS)}{ending}"
        out.append(line)
    return "".join(out), len(chosen_before) + len(chosen_after)


def vary(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """One variant of a target file: renamed locals, reordered default lines, extra comments."""
    notes = []
    text, renamed = _rename(text, rng)
    notes += renamed
    text, shuffled = _reorder_defaults(text, rng)
    if shuffled:
        notes.append(f"reordered:{shuffled}")
    text, added = _add_comments(text, rng, rng.randint(2, 8))
    notes.append(f"comments:{added}")
    compile(text, "<variant>", "exec", dont_inherit=True)
    return text, notes


def batch(root: Path, files: int, seed: int = 61) -> dict:
    """``files`` target files in ``files // 2`` checkouts (a run_utils.py and a rubric_utils.py each, no judge module),
    cycling through the patchable fixture families; only the target files are written."""
    rng = random.Random(seed)
    checkouts = []
    families: dict[str, int] = {}
    for i in range(files // 2):
        name = PATCHABLE[i % len(PATCHABLE)]
        checkout = root / f"v{i:03d}-{name}"
        for kind, rel in CATALOG[name]["files"].items():
            if kind not in ("run_utils", "rubric_utils"):
                continue  # the batch is two files a checkout: the judge module is 1a's and 1b's only
            source = (FIXTURES / name / rel).read_bytes().decode("utf-8")
            text, _ = vary(source, rng)
            dest = checkout / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(text.encode("utf-8"))
            family = CATALOG[name]["families"][kind]
            families[family] = families.get(family, 0) + 1
        checkouts.append(checkout)
    paths = sorted(root.rglob("*.py"))
    return {"root": root, "checkouts": checkouts, "files": paths, "families": families}
