"""One registry class for every kind of plug-in: strategies, benchmarks, tables, protocols and
command-line commands.

Built-ins register themselves when ``benchlab.strategies`` / ``benchlab.benchmarks`` are
imported; third-party packages declare entry points in the groups ``benchlab.strategies``,
``benchlab.benchmarks``, ``benchlab.tables``, ``benchlab.protocols``, ``benchlab.importers`` and
``benchlab.commands``
(the entry point names the object, or a module whose import registers it). Every registry
loads lazily on the first lookup, so ``import benchlab`` stays light, and every registry has
the same collision rule: a name taken by a different object is a loud error naming both.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType
from typing import Any, Callable, Iterator

from ._errors import BenchlabError, UnknownName

__all__ = [
    "Registry",
    "STRATEGIES",
    "BENCHMARKS",
    "TABLES",
    "PROTOCOLS",
    "COMMANDS",
    "IMPORTERS",
    "register_strategy",
    "register_benchmark",
]


def _declares_benchlab_groups() -> bool:
    """Whether any installed distribution may declare a ``benchlab.*`` entry point.

    A cheap pre-check (a directory listing of each ``sys.path`` folder and a substring test of
    the ``entry_points.txt`` files found) that spares importing :mod:`importlib.metadata`
    (about 15 ms, most of a bare start-up) when no plug-in is installed. Anything it cannot
    judge (a zip file on ``sys.path``, an unreadable folder) answers True, so the standard
    lookup then decides.
    """
    import os
    import sys

    for entry in sys.path:
        folder = entry or "."
        try:
            if os.path.isfile(folder):
                return True  # a zip or egg on the path: let importlib.metadata look inside
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), "rb") as f:
                    if b"[benchlab." in f.read():
                        return True
            except FileNotFoundError:
                continue
            except OSError:
                return True
    return False


def entry_points(*, group: str) -> list:
    """The installed entry points of ``group`` (empty without importing importlib.metadata
    when no distribution declares a ``benchlab.*`` group)."""
    global _ANY_PLUGINS
    if _ANY_PLUGINS is None:
        _ANY_PLUGINS = _declares_benchlab_groups()
    if not _ANY_PLUGINS:
        return []
    from importlib.metadata import entry_points as _entry_points

    return list(_entry_points(group=group))


_ANY_PLUGINS: bool | None = None


def _where(obj: Any) -> str:
    if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
        return f"{obj.__module__}.{obj.__qualname__}"
    build = getattr(obj, "build", None) or getattr(obj, "run", None)
    module = getattr(build, "__module__", None) or type(obj).__module__
    return f"{type(obj).__name__} from {module}"


class Registry:
    """A name -> object mapping (classes for strategies/benchmarks, objects with a ``name``
    for tables, protocols and commands), loaded lazily from built-in packages and entry points.

    ``kind``/``plural`` word the messages; ``builtin`` is the package (or packages) whose import
    registers the built-ins; ``group`` is the entry point group of third-party plug-ins.
    """

    def __init__(self, kind: str, plural: str, builtin: str | tuple[str, ...], group: str) -> None:
        self.kind = kind
        self.plural = plural
        self._builtin = (builtin,) if isinstance(builtin, str) else tuple(builtin)
        self._group = group
        self._items: dict[str, Any] = {}
        self._loaded = False
        self._loading = False

    # -- registering ------------------------------------------------------------------
    def register(self, name: str | None = None) -> Callable[[Any], Any]:
        """Decorator: ``@register_strategy("random_search")`` (``name`` defaults to ``obj.name``)."""

        def deco(obj: Any) -> Any:
            self.add(name or obj.name, obj)
            return obj

        return deco

    def add(self, key: str, obj: Any) -> Any:
        """Register ``obj`` under ``key``; the same object again is a no-op, another one an error."""
        if not isinstance(key, str) or not key or not key.replace("_", "").replace("-", "").isalnum():
            raise BenchlabError(f"{self.kind} name {key!r} must be letters, digits, '_' or '-'")
        existing = self._items.get(key)
        if existing is not None and existing is not obj and existing != obj:
            raise BenchlabError(
                f"{self.kind} name {key!r} is already registered by {_where(existing)}; "
                f"pick another name for {_where(obj)}"
            )
        if isinstance(obj, type):
            obj.name = key
        self._items[key] = obj
        return obj

    def _load(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for package in self._builtin:
                importlib.import_module(package)
            for ep in entry_points(group=self._group):
                obj = ep.load()
                if isinstance(obj, ModuleType):
                    continue  # importing the module registered what it defines
                self.add(ep.name, obj)
            self._loaded = True
        finally:
            self._loading = False

    # -- looking up -------------------------------------------------------------------
    def get(self, name: str) -> Any:
        self._load()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._items), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownName(
                f"unknown {self.kind} {name!r}: {hint}run `benchlab list {self.plural}` to see the "
                f"{len(self._items)} registered ones ({', '.join(sorted(self._items))})"
            ) from None

    __getitem__ = get

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    keys = names

    def values(self) -> list[Any]:
        return [self._items[n] for n in self.names()]

    def items(self) -> list[tuple[str, Any]]:
        return [(n, self._items[n]) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def describe(self) -> dict[str, str]:
        """``{name: one-line description}`` for ``benchlab list``."""
        out = {}
        for n in self.names():
            obj = self._items[n]
            text = getattr(obj, "description", "") or (obj.__doc__ or "").strip().splitlines()[0:1]
            out[n] = text if isinstance(text, str) else (text[0] if text else "")
        return out


STRATEGIES = Registry("strategy", "strategies", "benchlab.strategies", "benchlab.strategies")
BENCHMARKS = Registry("benchmark", "benchmarks", "benchlab.benchmarks", "benchlab.benchmarks")
TABLES = Registry("table", "tables", "benchlab.benchmarks", "benchlab.tables")
PROTOCOLS = Registry("protocol", "protocols", "benchlab.benchmarks", "benchlab.protocols")
IMPORTERS = Registry("importer", "importers", "benchlab.benchmarks", "benchlab.importers")
COMMANDS = Registry("command", "commands", ("benchlab.benchmarks", "benchlab.strategies"), "benchlab.commands")
register_strategy = STRATEGIES.register
register_benchmark = BENCHMARKS.register
