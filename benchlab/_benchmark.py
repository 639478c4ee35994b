"""The benchmark interface: tabular, surrogate and live benchmarks all implement it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Hashable, Sequence

from ._space import SearchSpace
from ._types import Evaluation, Fidelity, Objective

__all__ = ["Benchmark"]

Arch = Hashable


class Benchmark(ABC):
    """Scores architectures of ``space``.

    Strategies never receive the benchmark: the harness gives them ``space``,
    ``objectives`` and ``fidelity`` and passes them ``Evaluation`` objects, which hold
    only strategy-visible (validation) metrics. ``report`` (final test metrics) and
    ``optimum`` are for the harness and the analysis, to compute regret.

    Class attributes: ``name`` (registry name), ``description`` (one line for
    ``benchlab list``), ``visible_split`` and ``report_split`` (which data split the
    strategy sees and which the report uses; say so honestly when they coincide).
    """

    name: str = "benchmark"
    description: str = ""
    visible_split: str = "validation"
    report_split: str = "test"
    cost_unit: str = "s"

    space: SearchSpace
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None = None

    @abstractmethod
    def evaluate(self, arch: Arch, fidelity: int | float | None = None, *, rng=None) -> Evaluation:
        """Strategy-visible metrics of ``arch`` at ``fidelity``.

        ``rng`` is the run's generator, used when a query picks one of several training
        seeds. Unknown architectures raise ``InvalidArchitecture``.
        """

    def evaluate_many(self, archs: Sequence[Arch], fidelity=None, *, rng=None) -> list[Evaluation]:
        """Vectorised ``evaluate``; tables override it with array lookups."""
        return [self.evaluate(a, fidelity, rng=rng) for a in archs]

    def query_cost(self, arch: Arch, fidelity: int | float | None = None) -> float:
        """Cost of evaluating ``arch`` at ``fidelity`` from scratch (no metrics drawn from any
        run RNG). Used to charge a continued trial only its extra cost; tables override it
        with a direct lookup."""
        import numpy as np

        return self.evaluate(arch, fidelity, rng=np.random.default_rng(0)).cost

    @abstractmethod
    def report(self, arch: Arch) -> dict[str, float]:
        """Final (test-split) metrics of ``arch``, for regret. Harness and analysis only."""

    @abstractmethod
    def optimum(self, metric: str) -> float:
        """Best value of a report metric over the whole space (for regret)."""

    @property
    def report_metric(self) -> str:
        """The report metric that regret is computed on (the primary objective's test twin)."""
        return self.objectives[0].name

    def describe(self) -> dict:
        """Metadata written into ``summary.json``: splits, units, objectives."""
        return {
            "name": self.name,
            "description": self.description,
            "space": self.space.name,
            "space_size": self.space.size,
            "objectives": [
                {"name": o.name, "direction": o.direction, "unit": o.unit, "description": o.description}
                for o in self.objectives
            ],
            "fidelity": None
            if self.fidelity is None
            else {"name": self.fidelity.name, "values": list(self.fidelity.values), "default": self.fidelity.default},
            "visible_split": self.visible_split,
            "report_split": self.report_split,
            "report_metric": self.report_metric,
            "cost_unit": self.cost_unit,
        }
