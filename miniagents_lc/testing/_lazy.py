"""Public names of a test kit, imported on first use so the kit's package imports nothing optional.

A kit package (this one, or a provider adapter's `testing` package) lists its public names and
the modules defining them. Importing the package costs nothing and needs no optional
dependency; the first use of a name imports its module, and a missing optional dependency then
raises `MissingExtraError`, which names the `pip install` command that brings it (run from the
root of a clone: nothing is published on a package index).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["MissingExtraError", "import_kit_module", "lazy_exports"]

_ABSENT = object()


class MissingExtraError(ModuleNotFoundError):
    """A test kit module needs a dependency its distribution's `testing` extra brings.

    `name` is the missing module. A kit built on another kit re-raises it with its own install
    command, because that command brings the other kit's extras too.
    """


def import_kit_module(name: str, *, install: str) -> ModuleType:
    """Import the kit module `name`, or raise `MissingExtraError` naming `pip install <install>`.

    `install` is what `pip install` needs, from the root of a clone, to bring the kit's extras,
    such as `-e ".[testing]"`.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise _missing(name, error, install) from error


def lazy_exports(
    package: str,
    names: Iterable[str],
    modules: Sequence[str],
    *,
    install: str,
    owners: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the `__getattr__` and `__dir__` of a kit package exporting `names`.

    A name is looked up in `modules`, in order: relative ones (such as "._mock") inside
    `package`, absolute ones (such as another kit package) as they are. List the modules that
    need no optional dependency first. A name in `owners` is looked up in its module alone,
    so a heavy module (or one needing another dependency) is imported only for its own names.
    A resolved name is cached in the package, so the lookup runs once per name.
    """
    namespace = sys.modules[package].__dict__
    exported = frozenset(names)
    owned = dict(owners or {})

    def __getattr__(name: str) -> Any:
        if name in exported:
            for module in [owned[name]] if name in owned else modules:
                qualified = package + module if module.startswith(".") else module
                try:
                    value = getattr(importlib.import_module(qualified), name, _ABSENT)
                except ModuleNotFoundError as error:
                    raise _missing(f"{package}.{name}", error, install) from error
                if value is not _ABSENT:
                    namespace[name] = value
                    return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *exported})

    return __getattr__, __dir__


def _missing(what: str, error: ModuleNotFoundError, install: str) -> MissingExtraError:
    return MissingExtraError(
        f"{what} needs {error.name!r}, which is not installed; "
        f"install the test kit's extras from the root of a clone with: pip install {install}",
        name=error.name,
    )
