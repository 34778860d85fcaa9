"""In the verify child: import a checkout's modules as training does (no package ``__init__``, missing third-party packages
of a judge's module stubbed) and build a judge's instance by parameter name. Standard library only."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.abc
import importlib.machinery
import inspect
import os
import sys
import textwrap
import types
from typing import Any

NEVER_STUBBED = ("litellm",)


class CheckoutImportError(Exception):
    """Importing a checkout module failed; ``missing`` names an absent module, if that was why."""

    def __init__(self, module: str, message: str, missing: str | None = None, kind: str = "import") -> None:
        super().__init__(message)
        self.module, self.missing, self.kind = module, missing, kind

    def to_json(self) -> dict[str, Any]:
        return {"module": self.module, "missing": self.missing, "kind": self.kind, "message": str(self)}


class Uncallable(Exception):
    """The code verify imported cannot be called the way verify read it."""


class PackageWithoutInit(importlib.abc.MetaPathFinder):
    """Finds the checkout's packages (``top`` and below) without executing their ``__init__``."""

    def __init__(self, import_root: str, top: str) -> None:
        self.import_root, self.top = import_root, top

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        directory = os.path.join(self.import_root, *fullname.split("."))
        if (fullname != self.top and not fullname.startswith(self.top + ".")) or not os.path.isdir(directory):
            return None  # not the checkout's, or a plain module: the normal path finder loads it from the parent's __path__
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
        setattr(self, name, _placeholder(f"{self.__name__}.{name}"))
        return getattr(self, name)


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
        if "." not in fullname:
            if _importer().split(".", 1)[0] != self.own:
                return None
            self.stubbed.append(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StubModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # type: ignore[attr-defined]


def import_checkout_module(import_root: str, dotted: str, stubs: Stubs | None = None) -> Any:
    """Import ``dotted`` from the checkout at ``import_root``; raise :class:`CheckoutImportError`. With ``stubs``,
    missing third-party packages are stubbed during this import (``stubs.stubbed`` names them)."""
    if import_root not in sys.path:
        sys.path.insert(0, import_root)
    if not any(isinstance(f, PackageWithoutInit) and f.import_root == import_root for f in sys.meta_path):
        sys.meta_path.insert(0, PackageWithoutInit(import_root, dotted.split(".", 1)[0]))
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


# ----------------------------------------------------------------------------- what a step calls


def check_arguments(function: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        raise Uncallable(f"cannot call {name}{signature}: {error}") from None


def _mapping_key(function: Any, parameter: str) -> Any:
    """The first key of the module-level mapping ``function`` indexes with ``parameter`` (``JUDGE_PROMPT_MAP[judge_type]``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return ...
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name) and node.slice.id == parameter:
            mapping = function.__globals__.get(node.value.id)
            if isinstance(mapping, dict) and mapping:
                return next(iter(mapping))
    return ...


def _fill(target: type, owner: str, value_of: Any) -> Any:
    """``target(...)`` with ``value_of(parameter, __init__, required)`` for each parameter (``...``: keep its default)."""
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError) as error:
        raise Uncallable(f"cannot build {owner}: {error}") from None
    fields = {f.name for f in dataclasses.fields(target)} if dataclasses.is_dataclass(target) else set()
    kwargs: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is parameter.empty
        value = value_of(parameter, target.__init__, required)
        if value is not ...:
            kwargs[parameter.name] = value
        elif required:
            raise Uncallable(f"cannot build {owner}: no value for its required {'field' if parameter.name in fields else 'parameter'} {parameter.name!r}")
    try:
        return target(**kwargs)
    except Exception as error:  # noqa: BLE001 - the code under test could not be set up
        raise Uncallable(f"cannot build {owner}({', '.join(kwargs)}): {type(error).__name__}: {error}") from None


def _config_value(model_field: str, model: str) -> Any:
    """The values of a judge config's fields: its model field verify's model, a timeout LITELLM_DEFAULT_TIMEOUT's value."""

    def value(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        name = parameter.name.lower()
        if name == model_field:
            return model
        if "timeout" in name:
            return float(os.environ.get("LITELLM_DEFAULT_TIMEOUT") or 600)  # as a launcher passing both would
        if not required or not any(word in name for word in ("temperature", "seed", "max")):
            return ...
        if "temperature" in name or "seed" in name:
            return 0.0 if "temperature" in name else 0
        return (32768 if "context" in name else 512) if "token" in name or "length" in name else ...

    return value


def _config_class(module: Any, init: Any, parameter: inspect.Parameter, field_name: str) -> Any:
    """The judge config's class: the parameter's annotation, else the module's class with a field ``field_name``."""
    annotation = parameter.annotation
    if isinstance(annotation, str):
        annotation = getattr(sys.modules.get(init.__module__), annotation.split("[")[0].split(".")[-1].strip(), None)
    if isinstance(annotation, type):
        return annotation
    for value in vars(module).values():
        fields = {*getattr(value, "__annotations__", {}), *getattr(value, "__dataclass_fields__", {})} if isinstance(value, type) else set()
        if field_name in fields and value.__module__ == module.__name__:
            return value
    return None


def instance(module: Any, qualname: str, model_path: list[str], model: str) -> Any:
    """An instance of the class holding a judge method, built by parameter name, its config carrying ``model``."""
    cls = module
    for part in qualname.split(".")[:-1]:
        cls = getattr(cls, part, None)
    owner = qualname.rsplit(".", 1)[0]
    if not isinstance(cls, type):
        raise Uncallable(f"{owner} is not a class of {module.__name__}")
    if len(model_path) == 1:  # self.model: an __init__ parameter of that name carries it
        return _fill(cls, owner, lambda parameter, init, required: model if parameter.name == model_path[0] else ...)
    holder, field_name = model_path[0], model_path[-1]

    def value(parameter: inspect.Parameter, init: Any, required: bool) -> Any:
        if parameter.name == holder or "config" in parameter.name:
            config = _config_class(module, init, parameter, field_name)
            if config is None:
                raise Uncallable(f"cannot build {owner}: no config class for {parameter.name!r} (none in {module.__name__} has {field_name!r})")
            return _fill(config, config.__name__, _config_value(field_name, model))
        return _mapping_key(init, parameter.name) if required else ...

    return _fill(cls, owner, value)
