"""Package-level names imported on first use, so importing a package (or any module inside it)
does not import every module the package re-exports."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from types import ModuleType

__all__ = ["lazy_exports"]


class _LazyPackage(ModuleType):
    """A package whose exported names are imported when first asked for.

    Some exported names are also the names of submodules (guardrails' `check` and `enforce`,
    scan's `scan`). Importing such a submodule binds it on the package under that name, which
    on a lazy package would shadow the exported function; the binding is dropped instead, so
    the name keeps meaning what the package exports, as it did when the package imported it
    eagerly."""

    _lazy_module_of: dict[str, str]

    def __getattr__(self, name: str) -> object:
        module = self.__dict__.get("_lazy_module_of", {}).get(name)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: object) -> None:
        submodule = isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if submodule and name in self.__dict__.get("_lazy_module_of", {}):
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, sources: Mapping[str, tuple[str, ...]]) -> None:
    """Make `package` (its `__init__` calls this with `__name__`) import each of its exported
    names from its module (`sources`: module -> names) on first use."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    module_of = {name: source for source, names in sources.items() for name in names}
    ModuleType.__setattr__(module, "_lazy_module_of", module_of)
