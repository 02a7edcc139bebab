"""A name -> object registry whose entries are imported only when first used.

Models, filters, metrics and aggregations all live in registries so that `--help` and
`--tasks list` never import torch or an SDK, and so that plugins can add entries through
Python entry points without touching this package.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from lmms_eval.errors import UnknownNameError

T = TypeVar("T")


def import_object(target: str) -> object:
    """Import `package.module:attribute` (or `package.module.attribute`)."""
    module_name, _, attribute = target.partition(":") if ":" in target else target.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


class Registry(Generic[T]):
    """Maps names to objects, given either directly or as lazy import paths."""

    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self._entry_point_group = entry_point_group
        self._targets: dict[str, str | T] = {}
        self._loaded: dict[str, T] = {}
        self._plugins_scanned = entry_point_group is None

    def add_lazy(self, name: str, target: str, *aliases: str) -> None:
        """Register `module:attribute`, imported on first `get`."""
        for key in (name, *aliases):
            self._targets[key] = target

    def add(self, name: str, obj: T) -> T:
        self._targets[name] = obj
        self._loaded[name] = obj
        return obj

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        """Decorator form of `add`."""

        def decorate(obj: T) -> T:
            for key in (name, *aliases):
                self.add(key, obj)
            return obj

        return decorate

    def names(self) -> list[str]:
        self._scan_plugins()
        return sorted(self._targets)

    def __contains__(self, name: str) -> bool:
        # A built-in name wins over a plugin's (see _scan_plugins), so finding one needs no
        # scan: reading the installed packages' entry points costs ~25 ms per run.
        if name in self._targets:
            return True
        self._scan_plugins()
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self:
            raise UnknownNameError(self.unknown_message(name))
        target = self._targets[name]
        obj = import_object(target) if isinstance(target, str) else target
        self._loaded[name] = obj  # type: ignore[assignment]
        return obj  # type: ignore[return-value]

    def target_of(self, name: str) -> str | T:
        """What `name` points at, without importing it (for listings)."""
        if name not in self:
            raise KeyError(name)
        return self._targets[name]

    def unknown_message(self, name: str) -> str:
        suggestions = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        return f"unknown {self.kind} '{name}'{hint}"

    def _scan_plugins(self) -> None:
        if self._plugins_scanned:
            return
        self._plugins_scanned = True
        from importlib.metadata import entry_points

        for entry in entry_points(group=self._entry_point_group):
            self._targets.setdefault(entry.name, entry.value)
