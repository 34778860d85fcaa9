"""Find what verify drives in a checkout: module names, helper names, the generator.

Runs in the parent, with libcst (the child only imports and calls by name). Names differ
between open-instruct versions, so they come from structure: ``content_helpers`` (the
helpers that return the response text; in the split shape the wrapper, not the raw call)
and ``find_generators`` (the rubric generator), both from ``llmfix.codemods.analysis``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmfix.errors import BadInput

PACKAGE_DIR = "open_instruct"


@dataclass
class Checkout:
    """What to import and call. ``import_root`` is the folder holding ``open_instruct/``."""

    path: Path
    import_root: Path | None = None
    modules: dict[str, str] = field(default_factory=dict)  # role (run_utils | rubric_utils) -> dotted name
    files: dict[str, Path] = field(default_factory=dict)
    helpers: dict[str, str] = field(default_factory=dict)  # sync | async -> function name
    generator: str | None = None

    @property
    def empty(self) -> bool:
        return not self.helpers and not self.generator

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "import_root": str(self.import_root) if self.import_root else None,
            "modules": self.modules,
            "helpers": self.helpers,
            "generator": self.generator,
        }


def import_location(path: Path) -> tuple[Path, str]:
    """(sys.path entry, dotted module name) for a file: the parent of its topmost ``open_instruct``."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if parent.name == PACKAGE_DIR:
            relative = path.relative_to(parent.parent).with_suffix("")
            return parent.parent, ".".join(relative.parts)
    return path.parent, path.stem


def analyse(path: Path) -> Checkout:
    """Discover the target files under ``path`` and name what verify will call."""
    import libcst

    from llmfix.codemods.analysis.generator import find_generators
    from llmfix.codemods.analysis.helpers import content_helpers
    from llmfix.discovery import discover

    checkout = Checkout(path)
    roots: set[Path] = set()
    for target in discover([path]):
        try:
            source = target.path.read_text(encoding="utf-8")
            module = libcst.parse_module(source)
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"{target.path}: cannot read: {error}") from None
        except libcst.ParserSyntaxError as error:
            raise BadInput(f"{target.path}: not valid Python: {str(error).splitlines()[0]}") from None
        helpers = content_helpers(module)
        generators = find_generators(module)
        if not helpers and not generators:
            continue
        root, dotted = import_location(target.path)
        roots.add(root)
        if helpers:
            if "run_utils" in checkout.modules:
                raise BadInput(f"{path}: more than one checkout with LiteLLM helpers; name one checkout")
            checkout.modules["run_utils"], checkout.files["run_utils"] = dotted, target.path
            for function in helpers:
                kind = "sync" if function.asynchronous is None else "async"
                checkout.helpers.setdefault(kind, function.name.value)
        if generators:
            if "rubric_utils" in checkout.modules:
                raise BadInput(f"{path}: more than one checkout with a rubric generator; name one checkout")
            checkout.modules["rubric_utils"], checkout.files["rubric_utils"] = dotted, target.path
            checkout.generator = generators[0].function.name.value
    if len(roots) > 1:
        raise BadInput(f"{path}: the helper and generator files live in different checkouts ({', '.join(sorted(map(str, roots)))})")
    checkout.import_root = roots.pop() if roots else None
    return checkout
