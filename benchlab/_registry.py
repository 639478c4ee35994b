"""Name -> class registries for strategies and benchmarks.

Built-ins register themselves with a decorator when the top-level ``strategies`` and
``benchmarks`` packages are imported; third-party packages declare entry points in the
groups ``benchlab.strategies`` and ``benchlab.benchmarks``. Both are loaded lazily on the
first lookup, so ``import benchlab`` stays light.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Callable, Iterator

from ._errors import BenchlabError, UnknownName

__all__ = ["Registry", "STRATEGIES", "BENCHMARKS", "register_strategy", "register_benchmark"]


class Registry:
    """A mapping from names to classes, with a loud error on collisions."""

    def __init__(self, kind: str, plural: str, builtin_package: str, group: str) -> None:
        self.kind = kind
        self.plural = plural
        self._builtin = builtin_package
        self._group = group
        self._items: dict[str, type] = {}
        self._loaded = False
        self._loading = False

    def register(self, name: str | None = None) -> Callable[[type], type]:
        """Class decorator: ``@register_strategy("random_search")``."""

        def deco(cls: type) -> type:
            key = name or cls.name
            self.add(key, cls)
            return cls

        return deco

    def add(self, key: str, cls: type) -> None:
        if not key or not key.replace("_", "").replace("-", "").isalnum():
            raise BenchlabError(f"{self.kind} name {key!r} must be letters, digits, '_' or '-'")
        existing = self._items.get(key)
        if existing is not None and existing is not cls:
            raise BenchlabError(
                f"{self.kind} name {key!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}; pick another name for "
                f"{cls.__module__}.{cls.__qualname__}"
            )
        cls.name = key
        self._items[key] = cls

    def _load(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            importlib.import_module(self._builtin)
            for ep in entry_points(group=self._group):
                obj = ep.load()
                if ep.name not in self._items:
                    self.add(ep.name, obj)
                elif self._items[ep.name] is not obj:
                    self.add(ep.name, obj)  # raises the collision error
            self._loaded = True
        finally:
            self._loading = False

    def get(self, name: str) -> type:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownName(
                f"unknown {self.kind} {name!r}: {hint}run `benchlab list {self.plural}` to see the "
                f"{len(self._items)} registered ones ({', '.join(sorted(self._items))})"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def describe(self) -> dict[str, str]:
        """``{name: one-line description}`` for ``benchlab list``."""
        out = {}
        for n in self.names():
            cls = self._items[n]
            text = getattr(cls, "description", "") or (cls.__doc__ or "").strip().splitlines()[0:1]
            out[n] = text if isinstance(text, str) else (text[0] if text else "")
        return out


STRATEGIES = Registry("strategy", "strategies", "benchlab.strategies", "benchlab.strategies")
BENCHMARKS = Registry("benchmark", "benchmarks", "benchlab.benchmarks", "benchlab.benchmarks")
register_strategy = STRATEGIES.register
register_benchmark = BENCHMARKS.register
