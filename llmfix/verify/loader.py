"""Import a checkout's own modules in the verify child, the way training imports them.

Training runs with the checkout root on ``sys.path`` and imports
``open_instruct.<...>.run_utils`` by its absolute name. This module does the same,
but never runs a package's ``__init__.py``: a finder placed first on
``sys.meta_path`` hands out every package directory of the checkout as an empty
namespace-like module whose ``__path__`` is that directory. So
``open_instruct/rubrics/__init__.py`` (which imports numpy and more in upstream
main) is skipped, while the two target modules and whatever sibling modules they
import themselves (``open_instruct.rubrics.scoring``) load normally.

Standard library only: this file runs inside the child, next to ``child.py``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any


class CheckoutImportError(Exception):
    """Importing a checkout module failed; ``missing`` names an absent module, if that was why."""

    def __init__(self, module: str, message: str, missing: str | None = None, kind: str = "import") -> None:
        super().__init__(message)
        self.module = module
        self.missing = missing
        self.kind = kind

    def to_json(self) -> dict[str, Any]:
        return {"module": self.module, "missing": self.missing, "kind": self.kind, "message": str(self)}


class PackageWithoutInit(importlib.abc.MetaPathFinder):
    """Finds the checkout's packages (``top`` and below) without executing their ``__init__``."""

    def __init__(self, import_root: str, top: str) -> None:
        self.import_root = import_root
        self.top = top

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.top and not fullname.startswith(self.top + "."):
            return None
        directory = os.path.join(self.import_root, *fullname.split("."))
        if not os.path.isdir(directory):
            return None  # a plain module: the normal path finder loads it from the parent's __path__
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [directory]
        return spec


def install(import_root: str, top: str) -> None:
    """Put the checkout root on ``sys.path`` and the no-``__init__`` finder first on ``sys.meta_path``."""
    if import_root not in sys.path:
        sys.path.insert(0, import_root)
    if not any(isinstance(f, PackageWithoutInit) and f.import_root == import_root for f in sys.meta_path):
        sys.meta_path.insert(0, PackageWithoutInit(import_root, top))


def import_checkout_module(import_root: str, dotted: str) -> Any:
    """Import ``dotted`` from the checkout at ``import_root``; raise :class:`CheckoutImportError`."""
    install(import_root, dotted.split(".", 1)[0])
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        kind = "checkout-module" if missing.split(".", 1)[0] == dotted.split(".", 1)[0] else "missing-module"
        raise CheckoutImportError(dotted, str(error), missing or None, kind) from None
    except SyntaxError as error:
        raise CheckoutImportError(dotted, f"SyntaxError: {error}", kind="syntax") from None
    except Exception as error:  # noqa: BLE001 - any import-time failure is a verify error, reported in one line
        raise CheckoutImportError(dotted, f"{type(error).__name__}: {error}") from None
