"""The reference in docs/ holds together: its links resolve, the commands it shows exist, and the
variables the support module reads are all documented."""

from __future__ import annotations

import re

import pytest
from support import REPO

from llmfix.cli import COMMANDS

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of ``text``."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target, anchor in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
            broken.append(f"{target}#{anchor}: no such heading")
    assert broken == []


def code_lines(text: str) -> list[str]:
    """The lines inside the fenced code blocks of a Markdown text."""
    inside, lines = False, []
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def test_every_command_the_docs_show_exists():
    shown = set()
    for page in PAGES:
        for line in code_lines(page.read_text(encoding="utf-8")):  # a command: llmfix first, or after && or ;
            shown.update(re.findall(r"(?:^\s*(?:\$ )?|&& |; )llmfix ([a-z][a-z-]*)", line))
    assert shown, "the docs show no llmfix command"
    assert sorted(shown - set(COMMANDS)) == []


def test_every_variable_the_support_module_reads_is_documented():
    runtime = (REPO / "codemods" / "runtime" / "litellm_utils.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\b(LITELLM_[A-Z_]+)\b", runtime))
    documented = (REPO / "docs" / "environment.md").read_text(encoding="utf-8")
    assert read and sorted(name for name in read if name not in documented) == []
