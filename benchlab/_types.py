"""Small immutable value types shared by strategies, benchmarks and the harness."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping

from ._errors import InvalidConfig

__all__ = ["Objective", "Fidelity", "Evaluation", "Trial"]

Arch = Hashable


@dataclass(frozen=True, slots=True)
class Objective:
    """A metric a strategy optimises.

    ``name`` is a key of ``Evaluation.metrics``; ``direction`` is ``"max"`` or ``"min"``;
    ``unit`` is for humans ("%", "s", "ms").
    """

    name: str
    direction: str = "max"
    unit: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("max", "min"):
            raise InvalidConfig(f"objective {self.name!r}: direction must be 'max' or 'min', got {self.direction!r}")

    @property
    def sign(self) -> float:
        """+1 for maximised objectives, -1 for minimised ones: ``sign * value`` is maximised."""
        return 1.0 if self.direction == "max" else -1.0

    def score(self, value: float) -> float:
        """``value`` as a score to maximise; NaN and the wrong infinity become -inf."""
        s = self.sign * value
        return s if s == s else -math.inf


@dataclass(frozen=True, slots=True)
class Fidelity:
    """The budget axis of a benchmark (training epochs for NAS tables).

    ``values`` are the allowed fidelities in increasing order; ``default`` is the one used
    when a strategy asks for none (the full budget of the table).
    """

    name: str
    values: tuple[int | float, ...]
    default: int | float

    def __post_init__(self) -> None:
        if not self.values or list(self.values) != sorted(self.values):
            raise InvalidConfig(f"fidelity {self.name!r}: values must be non-empty and increasing, got {self.values}")
        if self.default not in self.values:
            raise InvalidConfig(f"fidelity {self.name!r}: default {self.default} is not one of {self.values}")

    @property
    def min(self) -> int | float:
        return self.values[0]

    @property
    def max(self) -> int | float:
        return self.values[-1]

    def check(self, value: int | float | None) -> int | float:
        """Return ``value`` (or the default for None); raise ``InvalidConfig`` if not allowed."""
        if value is None:
            return self.default
        if value not in self.values:
            raise InvalidConfig(f"fidelity {self.name}={value!r} is not offered; choose one of {list(self.values)}")
        return value


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a strategy is allowed to see about one evaluated architecture.

    ``metrics`` holds the strategy-visible metrics (validation split where the benchmark has
    one) at the queried ``fidelity``; ``cost`` is the simulated seconds (or units) the query
    took; ``seed`` is the training seed a table query used (None for a seed mean). Test
    metrics are never here: only the harness sees them, through ``Benchmark.report``.
    ``feasible``: None on a benchmark without constraints; otherwise whether the
    architecture satisfies them (its constraint metrics, model properties such as latency,
    are in ``metrics``; see :class:`~benchlab.ext.ConstraintSet`).
    """

    metrics: Mapping[str, float]
    cost: float
    fidelity: int | float | None = None
    seed: int | None = None
    feasible: bool | None = None


@dataclass(frozen=True, slots=True)
class Trial:
    """One architecture a strategy asked to evaluate.

    ``id`` is the strategy's own running count (0, 1, 2, ...), ``fidelity`` None means the
    benchmark's default, ``info`` is free-form strategy data carried back in ``tell``.
    ``resume_from`` is set by multi-fidelity strategies that continue training an
    architecture already evaluated at that lower fidelity (successive halving, Hyperband):
    the harness then charges only the extra cost, ``cost(fidelity) - cost(resume_from)``.
    ``cost`` is the seconds (or units) the strategy itself spent producing this trial
    (one-shot methods train a supernet inside ``ask``): when set, the harness charges it
    instead of the benchmark's query cost.
    """

    id: int
    arch: Arch
    fidelity: int | float | None = None
    info: Any = field(default=None, compare=False)
    resume_from: int | float | None = None
    cost: float | None = field(default=None, compare=False)
