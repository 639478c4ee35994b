"""Declared constructor parameters of strategies and benchmarks, checked before anything runs.

A component declares each keyword argument of its ``__init__`` in a class attribute
``parameters`` (the scikit-learn ``_parameter_constraints`` idea: declare, don't
re-implement)::

    class RegularizedEvolution(Strategy):
        parameters = {
            "population_size": Param(int, low=2, doc="P, Real et al. 2019"),
            "sample_size": Param(int, low=1),
            "replace": Param(bool),
            "kind": Param(str, choices=("a", "b")),
            "extra": Param(list, none=True),
        }

:func:`check_params` runs on every spec before a results folder is claimed (CLI, TOML files,
``benchlab.run``): an unknown name, a mistyped or out-of-range value is one
:class:`InvalidConfig` naming the parameter, what is allowed and the nearest spelling.

Values that already have an accepted type are returned unchanged (so run ids stay stable);
only text is converted, because the spec grammar and TOML hand text over when a value is
not JSON: ``"20"`` to an int parameter becomes 20, ``"False"``/``"TRUE"`` to a bool
parameter become False/True (any case; nothing else is a boolean), ``"2O"`` is an error.
"""

from __future__ import annotations

import difflib
import inspect
import math
from dataclasses import dataclass
from typing import Any

from ._errors import InvalidConfig

__all__ = ["Param", "check_params", "declared_parameters", "undeclared_parameters"]

_PLURAL = {"strategy": "strategies", "benchmark": "benchmarks"}
_KINDS = (int, float, bool, str, list, dict, object)
_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list",
               dict: "a table/dict", object: "any JSON value"}  # fmt: skip


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    ``kind``: ``int``, ``float``, ``bool``, ``str``, ``list``, ``dict`` or ``object`` (anything
    JSON). ``low``/``high``: inclusive bounds for numbers (``low_open``/``high_open`` make
    them strict). ``choices``: the allowed values (strings or numbers). ``none``: None is
    allowed too. ``doc``: one line for ``benchlab list`` and ``--help``.
    """

    kind: type = object
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    none: bool = False
    doc: str = ""
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise TypeError(f"Param kind must be one of {[k.__name__ for k in _KINDS]}, got {self.kind!r}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    # -- text for errors and listings --------------------------------------------------------
    def allowed(self) -> str:
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = _TYPE_WORDS[self.kind]
            if self.low is not None or self.high is not None:
                lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
                hi = "" if self.high is None else f"{'<' if self.high_open else '<='} {self.high:g}"
                text += " " + " and ".join(t for t in (lo, hi) if t)
        return text + (" (or null)" if self.none else "")

    # -- checking -------------------------------------------------------------------------
    def check(self, value: Any, where: str) -> Any:
        """``value`` checked (and text converted); raises a one-line :class:`InvalidConfig`."""
        if value is None:
            if self.none:
                return None
            raise InvalidConfig(f"{where} must be {self.allowed()}, got null")
        value = self._convert(value, where)
        if self.choices is not None:
            if not any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in self.choices):
                close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InvalidConfig(f"{where} must be {self.allowed()}, got {value!r}{hint}")
        if self.kind in (int, float) and (self.low is not None or self.high is not None):
            if not isinstance(value, (int, float)) or math.isnan(value):
                raise InvalidConfig(f"{where} must be {self.allowed()}, got {value!r}")
            bad_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
            bad_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
            if bad_low or bad_high:
                raise InvalidConfig(f"{where} must be {self.allowed()}, got {value!r}")
        return value

    def _convert(self, value: Any, where: str) -> Any:
        kind = self.kind
        bad = InvalidConfig(f"{where} must be {self.allowed()}, got {value!r}")
        if kind is object:
            return value
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise bad
        if kind in (int, float):  # numbers: never a boolean; text is parsed; accepted values kept as given
            if isinstance(value, bool):
                raise bad
            if isinstance(value, int) or (isinstance(value, float) and (
                    kind is float or (value.is_integer() and abs(value) < 2**63))):  # 1e3 from JSON is integral
                return value
            if isinstance(value, str):
                try:
                    return kind(value.strip())
                except ValueError:
                    raise bad from None
            raise bad
        if kind is str:
            if isinstance(value, str):
                return value
            if self.choices is not None and value in self.choices:
                return value
            raise bad
        if kind is list:
            if isinstance(value, (list, tuple)):
                return value
            raise bad
        if kind is dict:
            if isinstance(value, dict):
                return value
            raise bad
        raise bad  # pragma: no cover


def _init_names(cls: type) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]  # fmt: skip


def _accepts_any_kwargs(cls: type) -> bool:
    sig = inspect.signature(cls.__init__)
    return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def declared_parameters(cls: type) -> dict[str, Param]:
    """The ``parameters`` a class declares (merged along its bases, subclass first)."""
    out: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__dict__", {}).get("parameters", {}) or {})
    return {k: v for k, v in out.items() if k in _init_names(cls) or _accepts_any_kwargs(cls)}


def undeclared_parameters(cls: type) -> list[str]:
    """Constructor keyword arguments without a :class:`Param` (the conformance suites require none)."""
    declared = declared_parameters(cls)
    return [n for n in _init_names(cls) if n not in declared]


def check_params(kind: str, name: str, cls: type, kwargs: dict) -> dict:
    """``kwargs`` for ``cls`` checked against its declarations; returns them with text converted.

    ``kind``/``name`` ("strategy", "regularized_evolution") only word the errors. Unknown
    names are refused with the nearest spelling; undeclared constructor arguments pass as
    given (plug-ins that declare nothing still run).
    """
    if not isinstance(kwargs, dict):
        raise InvalidConfig(f"{kind} {name!r}: parameters must be a dict, got {type(kwargs).__name__}")
    names = _init_names(cls)
    declared = declared_parameters(cls)
    out = {}
    for key, value in kwargs.items():
        if key not in names and not _accepts_any_kwargs(cls):
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(names) if names else "none"
            raise InvalidConfig(
                f"{kind} {name!r} has no parameter {key!r}: {hint}its parameters are {known} "
                f"(run `benchlab list {_PLURAL.get(kind, kind + 's')}` for their meaning)"
            )
        param = declared.get(key)
        out[key] = value if param is None else param.check(value, f"{kind} {name!r}: parameter {key!r}")
    return out
