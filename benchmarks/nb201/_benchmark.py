"""The ``nb201`` benchmark: NAS-Bench-201 tables with validation and test kept apart."""

from __future__ import annotations

import numpy as np

from benchlab import Benchmark, Evaluation, Fidelity, InvalidArchitecture, InvalidConfig, Objective, register_benchmark
from benchlab._tables import open_table

from ._build import DATASETS
from ._space import NB201Space

__all__ = ["NB201"]

_SEARCH_DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")
_REPORT_DEFAULT = {"cifar10-valid": "cifar10/test_acc@200", "cifar100": "cifar100/test_acc@200",
                   "ImageNet16-120": "ImageNet16-120/test_acc@200"}  # fmt: skip


@register_benchmark("nb201")
class NB201(Benchmark):
    """NAS-Bench-201 (Dong & Yang, ICLR 2020) from benchlab's table store.

    Parameters
    ----------
    dataset:
        ``cifar10-valid`` (default; trained on the 25k train split, the strategy sees the
        25k valid split), ``cifar100`` or ``ImageNet16-120`` (valid = x-valid). Plain
        ``cifar10`` has no validation split in NAS-Bench-201 and cannot be searched on.
    fidelity:
        Training epochs whose validation accuracy the strategy sees: 200 (default) or 12
        (the hp=12 schedule, the NB201 paper's search reward); any epoch 1..200 when the
        table holds learning curves (imported official files).
    seed_mode:
        ``"mean"`` (default): the mean over training seeds. ``"one"``: one training seed
        drawn with the run's generator (needs per-seed columns: official files imported).
    cost:
        ``"time"``: simulated seconds = fidelity x training time per epoch + one validation
        pass (the NB201 protocol's ``train-all-time + valid-per-time``), with the times of
        that schedule's own runs when the table has them (imported official files), else
        the per-epoch times of the 200-epoch runs; the public files time ``cifar10-valid`` only. ``"evaluation"``: one unit per query.
        ``"auto"`` (default) is "time" where times exist, else "evaluation".
    report_metric:
        Report column that regret uses; default the 200-epoch test accuracy of the dataset
        (for cifar10-valid: ``cifar10/test_acc@200``, the paper's "CIFAR-10 test" column,
        the network trained on train+valid).
    table:
        Name of the table in the store (default ``nb201``, built by
        ``benchlab data build nb201``).
    extra_objectives:
        Further objectives to minimise after the validation accuracy, for multi-objective
        search: ``"params"`` (parameter count of the dataset's network), ``"latency/<device>"``
        (ms; ``benchlab data info nb201`` lists the 28 devices) or any column name.

    ``report(arch)`` returns the 200-epoch validation and test accuracies of every dataset
    and the parameter count; strategies never see it.
    """

    description = "NAS-Bench-201 (needs `benchlab data build nb201`): 15,625 cells, valid/test kept apart, 12/200 epochs"
    visible_split = "valid"
    report_split = "test"

    def __init__(
        self,
        dataset: str = "cifar10-valid",
        fidelity: int = 200,
        seed_mode: str = "mean",
        cost: str = "auto",
        report_metric: str | None = None,
        table: str = "nb201",
        extra_objectives: list | None = None,
    ) -> None:
        self.dataset = dataset
        self.fidelity_epochs = fidelity
        self.seed_mode = seed_mode
        self.cost = cost
        self.table = table
        if dataset not in _SEARCH_DATASETS:
            hint = " (it has no validation split in NAS-Bench-201; search on cifar10-valid)" if dataset == "cifar10" else ""
            raise InvalidConfig(f"nb201: dataset {dataset!r} cannot be searched{hint}; choose one of {', '.join(_SEARCH_DATASETS)}")
        if seed_mode not in ("mean", "one"):
            raise InvalidConfig(f"nb201: seed_mode must be 'mean' or 'one', got {seed_mode!r}")
        if cost not in ("auto", "time", "evaluation"):
            raise InvalidConfig(f"nb201: cost must be 'auto', 'time' or 'evaluation', got {cost!r}")
        t = open_table(table)
        self._table = t
        self.space = NB201Space()
        self.space.all_archs  # build the id tables once
        self._ids = self.space._ids

        curve = f"{dataset}/valid_acc_curve@200"
        if curve in t:
            epochs = tuple(range(1, t.meta["columns"][curve]["shape"][1] + 1))
        else:
            epochs = tuple(e for e in (12, 200) if f"{dataset}/valid_acc@{e}" in t)
        if fidelity not in epochs:
            raise InvalidConfig(f"nb201: fidelity {fidelity!r} is not offered by table {table!r}; choose one of {_short(epochs)}")
        self.fidelity = Fidelity("epochs", epochs, fidelity)
        self._curve = curve if curve in t else None

        self._seed_columns = {}
        if seed_mode == "one":
            for e in epochs:
                col = f"{dataset}/valid_acc_seeds@{e}"
                if col in t:
                    self._seed_columns[e] = col
            if fidelity not in self._seed_columns:
                raise InvalidConfig(
                    f"nb201: seed_mode='one' needs per-seed results, which table {table!r} lacks at {fidelity} epochs "
                    "(the public files hold seed means only); import the official file with `benchlab data import nb201 "
                    "NAS-Bench-201-v1_1-096897.pth` and pass table='nb201-official', or use seed_mode='mean'"
                )

        train_time = next((c for c in (f"{dataset}/train_time_epoch@200", f"{dataset}/train_time_epoch") if c in t), None)
        valid_time = next((c for c in (f"{dataset}/valid_time@200", f"{dataset}/valid_time") if c in t), None)
        if cost == "auto":
            cost = "time" if train_time else "evaluation"
        if cost == "time" and not train_time:
            raise InvalidConfig(
                f"nb201: table {table!r} has no training times for {dataset} (the public files time cifar10-valid "
                "only); use cost='evaluation' or import the official files"
            )
        self._cost_kind = cost
        self.cost_unit = "s" if cost == "time" else "evaluation"
        self._train_time = np.asarray(t.column(train_time), dtype=np.float64) if cost == "time" else None
        self._valid_time = (
            np.asarray(t.column(valid_time), dtype=np.float64) if cost == "time" and valid_time else np.zeros(15625)
        )
        self._values: dict = {}
        self._costs: dict = {}

        self.objectives = (
            Objective("valid_acc", "max", "%", f"{dataset} validation accuracy after `fidelity` epochs ({seed_mode} of seeds)"),
        )
        self.extra_objectives = extra_objectives
        self._extra = []
        for name in extra_objectives or []:
            col = name if name in t else f"{dataset}/{name}"
            if col not in t or t.meta["columns"][col].get("shape", [0])[1:]:
                raise InvalidConfig(
                    f"nb201: extra objective {name!r} is not a per-architecture column of table {table!r}; "
                    f"use 'params', 'latency/<device>' or a name from `benchlab data info {table}`"
                )
            self._extra.append((name, np.asarray(t.column(col), dtype=np.float64).tolist()))
            unit = t.columns[col].unit
            self.objectives += (Objective(name, "min", unit, t.columns[col].description),)
        self._report_metric = report_metric or _REPORT_DEFAULT[dataset]
        if self._report_metric not in t:
            raise InvalidConfig(f"nb201: report_metric {self._report_metric!r} is not a column of table {table!r}")
        self._report_columns = [
            c for ds in DATASETS for c in (f"{ds}/valid_acc@200", f"{ds}/test_acc@200", f"{ds}/params") if c in t
        ]
        if self._report_metric not in self._report_columns:
            self._report_columns.append(self._report_metric)
        self._report = {c: np.asarray(t.column(c), dtype=np.float64) for c in self._report_columns}

    # -- internals -----------------------------------------------------------------------
    def _visible(self, epochs: int) -> list:
        vals = self._values.get(epochs)
        if vals is None:
            if self._curve is not None and f"{self.dataset}/valid_acc@{epochs}" not in self._table:
                arr = np.asarray(self._table.column(self._curve)[:, epochs - 1], dtype=np.float64)
            else:
                arr = np.asarray(self._table.column(f"{self.dataset}/valid_acc@{epochs}"), dtype=np.float64)
            vals = self._values[epochs] = arr.tolist()
        return vals

    def _cost(self, epochs: int) -> list:
        costs = self._costs.get(epochs)
        if costs is None:
            if self._cost_kind == "time":
                costs = (epochs * self._epoch_time(f"train_time_epoch@{epochs}", self._train_time)
                         + self._epoch_time(f"valid_time@{epochs}", self._valid_time)).tolist()  # fmt: skip
            else:
                costs = [1.0] * 15625
            self._costs[epochs] = costs
        return costs

    def _epoch_time(self, name: str, fallback: np.ndarray) -> np.ndarray:
        """Times measured in the runs of this schedule (imported official files) where the
        table has them, else the per-epoch times of the 200-epoch runs."""
        col = f"{self.dataset}/{name}"
        if col not in self._table:
            return fallback
        own = np.asarray(self._table.column(col), dtype=np.float64)
        return np.where(np.isnan(own), fallback, own)

    def _row(self, arch) -> int:
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.space.validate(arch)
            raise InvalidArchitecture(f"{arch!r} is not in the nb201 table") from None

    # -- Benchmark API -------------------------------------------------------------------
    @property
    def report_metric(self) -> str:
        return self._report_metric

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        epochs = self.fidelity.default if fidelity is None else self.fidelity.check(fidelity)
        row = self._row(arch)
        if self.seed_mode == "one":
            return self._evaluate_seed(row, epochs, rng)
        metrics = {"valid_acc": self._visible(epochs)[row]}
        for name, values in self._extra:
            metrics[name] = values[row]
        return Evaluation(metrics, self._cost(epochs)[row], epochs)

    def query_cost(self, arch, fidelity=None) -> float:
        epochs = self.fidelity.default if fidelity is None else self.fidelity.check(fidelity)
        return self._cost(epochs)[self._row(arch)]

    def _evaluate_seed(self, row: int, epochs: int, rng) -> Evaluation:
        if rng is None:
            raise InvalidConfig("nb201: seed_mode='one' needs the run's generator: evaluate(arch, rng=...)")
        col = self._seed_columns.get(epochs)
        if col is None:
            raise InvalidConfig(f"nb201: no per-seed results at {epochs} epochs; use seed_mode='mean'")
        per_seed = np.asarray(self._table.column(col)[row], dtype=np.float64)
        avail = np.flatnonzero(~np.isnan(per_seed))
        if avail.size == 0:
            return Evaluation({"valid_acc": float("nan")}, self._cost(epochs)[row], epochs)
        k = int(avail[int(rng.integers(0, avail.size))])
        seeds = self._table.columns[col].labels or {}
        seed = seeds.get("seed", list(range(per_seed.size)))[k]
        metrics = {"valid_acc": float(per_seed[k])}
        for name, values in self._extra:
            metrics[name] = values[row]
        return Evaluation(metrics, self._cost(epochs)[row], epochs, int(seed))

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        if self.seed_mode == "one" or self._extra:
            return [self.evaluate(a, fidelity, rng=rng) for a in archs]
        epochs = self.fidelity.default if fidelity is None else self.fidelity.check(fidelity)
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        vals = np.asarray(self._visible(epochs))[rows].tolist()
        costs = np.asarray(self._cost(epochs))[rows].tolist()
        return [Evaluation({"valid_acc": v}, c, epochs) for v, c in zip(vals, costs)]

    def lookup(self, ids, column: str) -> np.ndarray:
        """Vectorised table query: ``column`` at benchlab ``ids`` (an int array)."""
        return self._table.column(column)[ids]

    def report(self, arch) -> dict[str, float]:
        row = self._row(arch)
        return {c: float(v[row]) for c, v in self._report.items()}

    def optimum(self, metric: str) -> float:
        return self._table.optimum(metric, "max")

    def describe(self) -> dict:
        d = super().describe()
        d.update(dataset=self.dataset, seed_mode=self.seed_mode, table=self.table, cost=self._cost_kind)
        return d


def _short(values: tuple) -> str:
    return f"{values[0]}..{values[-1]}" if len(values) > 5 else ", ".join(map(str, values))
