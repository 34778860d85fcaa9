"""Import a checkout's modules in the verify child as training does: by absolute name, from its root.

A finder first on ``sys.meta_path`` hands out the checkout's packages without running their
``__init__.py`` (which import numpy and more). :class:`Stubs`, last on ``sys.meta_path``, gives
each missing third-party package the checkout imports (a judge's module pulls in torch, ray...)
a stub whose every attribute is a placeholder class. Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
from typing import Any

NEVER_STUBBED = ("litellm",)


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


class _StubClass(type):
    """The type of placeholder classes: any attribute of one is another placeholder class."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(f"{cls.__qualname__}.{name}")


def _placeholder(name: str) -> type:
    return _StubClass(name.rsplit(".", 1)[-1], (), {"__qualname__": name, "__getattr__": lambda self, attr: _placeholder(f"{name}().{attr}")})


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


def _importer() -> str:
    """The module whose import statement is being run (the first frame outside the import machinery)."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen") or frame.f_globals.get("__name__") == "importlib"):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "")) if frame is not None else ""


class Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: a stub for every missing third-party package (and its submodules)
    that the checkout's own code imports (an optional import inside a library is left to fail)."""

    def __init__(self, own: str) -> None:
        self.own = own
        self.stubbed: list[str] = []

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        top = fullname.split(".", 1)[0]
        if top == self.own or top in NEVER_STUBBED or top in getattr(sys, "stdlib_module_names", ()):
            return None
        if "." in fullname and top not in self.stubbed:
            return None  # a missing submodule of an installed package is an error of its own
        if "." not in fullname and _importer().split(".", 1)[0] != self.own:
            return None
        if "." not in fullname:
            self.stubbed.append(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StubModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # type: ignore[attr-defined]


def install(import_root: str, top: str) -> None:
    """Put the checkout root on ``sys.path`` and the no-``__init__`` finder first on ``sys.meta_path``."""
    if import_root not in sys.path:
        sys.path.insert(0, import_root)
    if not any(isinstance(f, PackageWithoutInit) and f.import_root == import_root for f in sys.meta_path):
        sys.meta_path.insert(0, PackageWithoutInit(import_root, top))


def import_checkout_module(import_root: str, dotted: str, stubs: Stubs | None = None) -> Any:
    """Import ``dotted`` from the checkout at ``import_root``; raise :class:`CheckoutImportError`. With ``stubs``,
    missing third-party packages are stubbed during this import (``stubs.stubbed`` names them)."""
    install(import_root, dotted.split(".", 1)[0])
    if stubs is not None:
        sys.meta_path.append(stubs)
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
    finally:
        if stubs is not None:
            sys.meta_path.remove(stubs)
