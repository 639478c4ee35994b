"""The NATS-Bench size-space benchmark over benchlab's ``nats-sss`` table."""

from __future__ import annotations

import numpy as np

from benchlab import Benchmark, Evaluation, InvalidArchitecture, InvalidConfig, Objective, register_benchmark
from benchlab._tables import open_table

from ._build import DATASETS, EPOCHS, NAME
from ._space import NATSSizeSpace

__all__ = ["NATSSize", "OBJECTIVES"]

#: Objectives a run may optimise: name -> (direction, unit, description).
OBJECTIVES = {
    "test_acc": ("max", "%", f"test accuracy after the {EPOCHS}-epoch schedule (one training run)"),
    "params": ("min", "", "parameter count"),
}


@register_benchmark("nats-sss")
class NATSSize(Benchmark):
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
    ``report`` gives ``test_acc`` and ``params``. Build the table first with
    ``benchlab data build nats-sss --source DIR`` (or ``--download``).
    """

    description = "NATS-Bench size space (public files): 32,768 networks, 90-epoch test acc (one run), params; cost 1/eval"
    visible_split = "test (the public NATS-Bench size-space files have no validation split: strategies see the 90-epoch test accuracy)"
    report_split = "test"
    cost_unit = "evaluation"
    conformance_cases = [{}, {"dataset": "cifar100"}, {"dataset": "ImageNet16-120", "objective": ["test_acc", "params"]}]

    def __init__(self, dataset: str = "cifar10", objective: str | list = "test_acc") -> None:
        self.dataset = dataset
        self.objective = objective
        if dataset not in DATASETS:
            raise InvalidConfig(f"nats-sss has no dataset {dataset!r}; choose from {', '.join(DATASETS)}")
        names = [objective] if isinstance(objective, str) else list(objective)
        if not names:
            raise InvalidConfig("nats-sss: objective must name at least one metric")
        for n in names:
            if n not in OBJECTIVES:
                raise InvalidConfig(f"nats-sss has no objective {n!r}; choose from {', '.join(OBJECTIVES)}")
        if len(set(names)) != len(names):
            raise InvalidConfig(f"nats-sss: objectives {names} repeat a metric")
        self.space = NATSSizeSpace()
        self.objectives = tuple(Objective(n, *OBJECTIVES[n]) for n in names)
        self.fidelity = None
        table = open_table(NAME)  # DataError naming the build command when absent
        self.provenance = table.meta.get("provenance", [])
        self._cols = {
            "test_acc": np.array(table.column(f"{dataset}/test_acc@{EPOCHS}"), dtype=np.float64),
            "params": np.array(table.column(f"{dataset}/params"), dtype=np.float64),
        }
        self._names = names
        self._lists = {n: self._cols[n].tolist() for n in self._cols}
        self._ids = self.space.ids

    def _row(self, arch) -> int:
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.space.validate(arch)
            raise InvalidArchitecture(f"{arch!r} is not in the nats-sss table") from None

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        if fidelity is not None:
            raise InvalidConfig(f"nats-sss has a single fidelity ({EPOCHS} epochs); ask with fidelity=None, not {fidelity!r}")
        row = self._row(arch)
        lists = self._lists
        return Evaluation({n: lists[n][row] for n in self._names}, 1.0)

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        if fidelity is not None:
            raise InvalidConfig(f"nats-sss has a single fidelity ({EPOCHS} epochs); ask with fidelity=None, not {fidelity!r}")
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        names = self._names
        cols = [self._cols[n][rows].tolist() for n in names]
        return [Evaluation(dict(zip(names, vals)), 1.0) for vals in zip(*cols)]

    def report(self, arch) -> dict[str, float]:
        row = self._row(arch)
        return {"test_acc": self._lists["test_acc"][row], "params": self._lists["params"][row]}

    def optimum(self, metric: str) -> float:
        if metric not in self._cols:
            raise InvalidConfig(f"nats-sss has no report metric {metric!r}; choose from {', '.join(self._cols)}")
        col = self._cols[metric]
        return float(col.max() if OBJECTIVES[metric][0] == "max" else col.min())
