"""``llmfix explain NAME``: a transform's documentation and its examples (the ones the tests run), as text."""

from __future__ import annotations

import difflib

from llmfix.codemods.transform import Example, Transform


def example_diff(example: Example) -> str:
    """The example as a unified diff (or the unchanged code, for a no-op example)."""
    if example.after is None:
        return example.before
    lines = difflib.unified_diff(example.before.splitlines(keepends=True), example.after.splitlines(keepends=True), "before", "after", n=2)
    return "".join(lines)


def render(transform: type[Transform]) -> str:
    lines = [f"{transform.NAME}: {transform.SUMMARY}", "", transform.documentation(), ""]
    for option in transform.OPTIONS:
        lines.append(f"option {option.flag} {option.metavar}: {option.help}")
    if transform.OPTIONS:
        lines.append("")
    for number, example in enumerate(transform.EXAMPLES, 1):
        flags = " ".join(f"--{k} {v}" for k, v in example.options.items())
        lines.append(f"Example {number}: {example.title} ({example.status}{', ' + flags if flags else ''})")
        lines.append("")
        lines.extend("    " + line if line else "" for line in example_diff(example).splitlines())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
