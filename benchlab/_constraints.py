"""Constraints on model properties (hardware-aware NAS): ``metric<=bound`` / ``metric>=bound``.

A benchmark may declare *constraint metrics*: properties of a model that a strategy is
allowed to see, such as latency on a device (the HW-NAS-Bench columns of NAS-Bench-201),
parameter count, FLOPs or energy; never test accuracy and never anything of the report
split. A run's benchmark then carries a :class:`ConstraintSet` (``bench.constraint_set``):

* every :class:`~benchlab.Evaluation` of that benchmark holds the constraint metrics in
  ``metrics`` (so a strategy can learn feasibility) and the flag ``feasible``;
* the harness keeps the best *feasible* incumbent and computes regret against the
  constrained optimum (the best report-metric value among feasible architectures);
* constraint-aware strategies receive the set in ``setup`` (``self.constraints``); when the
  constraint metrics are free model properties (a table lookup of latency or parameter
  count, as the latency look-up tables of ProxylessNAS, Cai et al. ICLR 2019, and FBNet, Wu
  et al. CVPR 2019), ``values(arch)`` / ``feasible(arch)`` answer for an architecture that
  has not been evaluated, without costing an evaluation.

Violation (Deb's constraint-domination rules, Deb 2000, "An efficient constraint handling
method for genetic algorithms", CMAME 186): each constraint contributes its relative excess
``max(0, (value - bound) / |bound|)`` for ``<=`` (``(bound - value) / |bound|`` for ``>=``;
``|bound|`` is taken as 1 when the bound is 0), so constraints in different units add up;
a missing or NaN value violates by ``inf``. An architecture is feasible iff its total
violation is 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Hashable, Iterator, Mapping, Sequence

from ._errors import InvalidConfig

__all__ = ["Constraint", "ConstraintSet", "parse_constraint"]

_OPS = ("<=", ">=")
_PATTERN = re.compile(r"^\s*(?P<metric>[^<>=\s][^<>=]*?)\s*(?P<op><=|>=)\s*(?P<bound>[^<>=]+?)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``: ``op`` is ``"<="`` (an upper bound, e.g. latency in ms) or ``">="``."""

    metric: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise InvalidConfig(f"constraint on {self.metric!r}: the operator must be '<=' or '>=', not {self.op!r}")
        if not isinstance(self.bound, (int, float)) or isinstance(self.bound, bool) or not math.isfinite(self.bound):
            raise InvalidConfig(f"constraint on {self.metric!r}: the bound must be a finite number, got {self.bound!r}")

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"

    def violation(self, value) -> float:
        """Relative excess over the bound (0 when satisfied; ``inf`` for NaN or a missing value)."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            return math.inf
        if v != v:
            return math.inf
        excess = v - self.bound if self.op == "<=" else self.bound - v
        if excess <= 0.0:
            return 0.0
        scale = abs(self.bound) or 1.0
        return excess / scale

    def satisfied(self, value) -> bool:
        return self.violation(value) == 0.0


def parse_constraint(text) -> Constraint:
    """``"latency/pixel3<=12"`` -> ``Constraint("latency/pixel3", "<=", 12.0)``; one-line error otherwise."""
    if isinstance(text, Constraint):
        return text
    m = _PATTERN.match(text) if isinstance(text, str) else None
    if m is None:
        raise InvalidConfig(f"cannot parse constraint {text!r}: write 'metric<=value' or 'metric>=value', "
                            "e.g. 'latency/pixel3<=12'")  # fmt: skip
    try:
        bound = float(m["bound"])
    except ValueError:
        raise InvalidConfig(f"constraint {text!r}: the bound {m['bound']!r} is not a number") from None
    if not math.isfinite(bound):
        raise InvalidConfig(f"constraint {text!r}: the bound must be a finite number")
    return Constraint(m["metric"], m["op"], bound)


class ConstraintSet:
    """The constraints of a benchmark, as the harness and strategies see them.

    ``constraints``: the :class:`Constraint` values (empty: an unconstrained benchmark; the
    set is then falsy). ``lookup``: an optional picklable callable ``arch -> {metric: value}``
    given when the constraint metrics are free model properties (a latency or parameter
    table); it must not hold the benchmark (strategies never see it).
    """

    __slots__ = ("constraints", "metrics", "_lookup")

    def __init__(self, constraints: Sequence[Constraint] = (), lookup: Callable[[Hashable], Mapping] | None = None) -> None:
        self.constraints = tuple(constraints)
        self.metrics = tuple(dict.fromkeys(c.metric for c in self.constraints))
        self._lookup = lookup if self.constraints else None

    def __getstate__(self):
        return (self.constraints, self._lookup)

    def __setstate__(self, state) -> None:
        constraints, lookup = state
        self.constraints = constraints
        self.metrics = tuple(dict.fromkeys(c.metric for c in constraints))
        self._lookup = lookup

    def __bool__(self) -> bool:
        return bool(self.constraints)

    def __len__(self) -> int:
        return len(self.constraints)

    def __iter__(self) -> Iterator[Constraint]:
        return iter(self.constraints)

    def __repr__(self) -> str:
        return f"ConstraintSet([{', '.join(repr(str(c)) for c in self.constraints)}], free={self.free})"

    def strings(self) -> list[str]:
        """The constraints as ``metric<=bound`` texts (for summaries and reports)."""
        return [str(c) for c in self.constraints]

    # -- from evaluated metrics ----------------------------------------------------------
    def violation(self, metrics: Mapping) -> float:
        """Total violation of the constraint values in ``metrics`` (0: feasible)."""
        return sum(c.violation(metrics.get(c.metric, math.nan)) for c in self.constraints)

    def is_feasible(self, metrics: Mapping) -> bool:
        """Whether the constraint values in ``metrics`` satisfy every constraint."""
        return self.violation(metrics) == 0.0

    # -- free model properties of any architecture --------------------------------------
    @property
    def free(self) -> bool:
        """True when :meth:`values` may be asked for architectures never evaluated."""
        return self._lookup is not None

    def values(self, arch) -> dict[str, float]:
        """The constraint metrics of ``arch`` without an evaluation (only when :attr:`free`)."""
        if self._lookup is None:
            what = "has no constraints" if not self.constraints else "declares no free look-up of its constraint metrics"
            raise InvalidConfig(f"this benchmark {what}; read the constraint metrics from Evaluation.metrics instead")
        return dict(self._lookup(arch))

    def arch_violation(self, arch) -> float:
        """Total violation of ``arch`` from the free look-up (see :meth:`values`)."""
        return self.violation(self.values(arch))

    def feasible(self, arch) -> bool:
        """Whether ``arch`` satisfies every constraint, from the free look-up (see :meth:`values`)."""
        return self.arch_violation(arch) == 0.0
