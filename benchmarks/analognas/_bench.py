"""The ``analognas`` benchmark: a recipe over the AnalogNAS-Bench table (see ``_table``)."""

from __future__ import annotations

from benchlab import register_benchmark
from benchlab.ext import ArrayTable, Metric, Param, TableRecipe, TabularBenchmark

from ..nb201 import NB201Space
from ._table import METRICS, load_table

__all__ = ["AnalogNAS"]

_STD = tuple(f"{m}_std" for m in METRICS if "drift" in m)  # conductance-drift uncertainties


@register_benchmark("analognas")
class AnalogNAS(TabularBenchmark):
    """AnalogNAS-Bench: NB201 cells retrained on CIFAR-10 (200 epochs), embedded, no download.

    Parameters
    ----------
    objective:
        Metric to maximise (default ``baseline_accuracy``); any of ``METRICS``. A list
        makes a multi-objective benchmark with the first one primary.

    The table has test accuracies only (no validation split) and no training times, so
    strategies see the test accuracy and each query costs one unit. ``report`` gives every
    metric and the drift uncertainties (``*_std``). Provenance (Benmeziane et al., 2025):
    ``data.anb`` of the PyPI package ``analog-nasbench`` 0.1.3, pinned by sha256 and
    converted once into an ``.npz`` in the data cache (:func:`load_table`).
    """

    description = "AnalogNAS-Bench (PyPI): 15,625 NB201 cells, CIFAR-10 200-epoch test acc + analog/quantised accs; cost 1/eval"
    visible_split = "test (AnalogNAS-Bench has no validation split: strategies see the 200-epoch CIFAR-10 test accuracy)"
    cost_unit = "evaluation"
    parameters = {"objective": Param(object, doc="metric to maximise (one of METRICS), or a list of them (first primary)")}
    recipe = TableRecipe(
        table="analognas",
        space=NB201Space,
        metrics={m: Metric(m, "max", "%", text) for m, text in METRICS.items()},
        report={m: m for m in (*METRICS, *_STD)},
        uncertain=_STD,
        epochs=(200,),
    )

    def __init__(self, objective: str | list = "baseline_accuracy") -> None:
        super().__init__(objective=objective, cost="evaluation")

    def load_table(self, name: str) -> ArrayTable:
        """The package's table (cached as ``.npz``), not one from the store."""
        columns, provenance = load_table()
        return ArrayTable(name, columns, meta={"provenance": provenance})
