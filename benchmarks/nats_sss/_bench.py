"""The NATS-Bench size-space benchmark: a recipe over benchlab's ``nats-sss`` table."""

from __future__ import annotations

from benchlab import register_benchmark
from benchlab.ext import Metric, Param, TableRecipe, TabularBenchmark

from ._build import DATASETS, EPOCHS, NAME
from ._space import NATSSizeSpace

__all__ = ["NATSSize", "OBJECTIVES"]

#: Objectives a run may optimise: name -> (direction, unit, description).
OBJECTIVES = {
    "test_acc": ("max", "%", f"test accuracy after the {EPOCHS}-epoch schedule (one training run)"),
    "params": ("min", "", "parameter count"),
}
_COLUMNS = {"test_acc": "{dataset}/test_acc@{epochs}", "params": "{dataset}/params"}


@register_benchmark("nats-sss")
class NATSSize(TabularBenchmark):
    """NATS-Bench size space (Dong et al., TPAMI 2021): 32,768 channel configurations.

    Parameters
    ----------
    dataset:
        ``"cifar10"`` (default), ``"cifar100"`` or ``"ImageNet16-120"``; NATS-Bench searches
        each dataset separately.
    objective:
        ``"test_acc"`` (default, maximised) or ``"params"`` (minimised); a list makes a
        multi-objective benchmark with the first one primary.

    The public table holds the 90-epoch (``hp=90``) TEST accuracy of one training run per
    network and no validation split, so strategies see the test accuracy that the report
    uses (``visible_split`` says so). It has no training times either: every query costs
    one unit (``cost_unit = "evaluation"``), not the NATS-Bench paper's simulated seconds.
    ``report`` gives ``test_acc`` and ``params``. ``constraints`` (e.g. ``["params<=2e5"]``)
    bound the parameter count, a model property strategies may see (see ``TableRecipe``). Build the table first with
    ``benchlab data build nats-sss --source DIR`` (or ``--download``). Provenance: the
    public per-dataset CSV files pinned in ``_sources.py``.
    """

    description = "NATS-Bench size space (public files): 32,768 networks, 90-epoch test acc (one run), params; cost 1/eval"
    visible_split = "test (the public NATS-Bench size-space files have no validation split: strategies see the 90-epoch test accuracy)"
    cost_unit = "evaluation"
    conformance_cases = [{}, {"dataset": "cifar100"}, {"dataset": "ImageNet16-120", "objective": ["test_acc", "params"]}]
    parameters = {
        "dataset": Param(str, choices=DATASETS, doc="dataset searched (NATS-Bench searches each one separately)"),
        "objective": Param(object, doc="'test_acc' (max) or 'params' (min), or a list of them (first primary)"),
        "constraints": Param(list, none=True, doc="bounds on model properties, e.g. [\"params<=2e5\"] (hardware-aware NAS)"),
    }
    recipe = TableRecipe(
        table=NAME,
        space=NATSSizeSpace,
        datasets=DATASETS,
        metrics={n: Metric(_COLUMNS[n], *OBJECTIVES[n]) for n in OBJECTIVES},
        report=_COLUMNS,
        epochs=(EPOCHS,),
        constraints={"params": "{dataset}/params"},
    )

    def __init__(self, dataset: str = "cifar10", objective: str | list = "test_acc", constraints: list | None = None) -> None:
        super().__init__(dataset=dataset, objective=objective, cost="evaluation", constraints=constraints)
