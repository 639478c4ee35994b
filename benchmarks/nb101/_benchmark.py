"""The ``nb101`` benchmark: NAS-Bench-101 from benchlab's table store.

Rows are looked up by module hash (binary search in the ``hash`` column, memory-mapped),
so opening even the full 423,624-cell table reads only ``meta.json`` and a query touches a
few pages; see :mod:`._import` for the table layout.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from benchlab import (
    Benchmark,
    DataError,
    Evaluation,
    Fidelity,
    InvalidArchitecture,
    InvalidConfig,
    Objective,
    register_benchmark,
)
from benchlab.ext import TABLES, open_table

from ._import import NAME, decode_spec
from ._tfrecord import KNOWN_FILES

__all__ = ["NB101", "REPORT_METRICS", "SEED_MODES"]

SEED_MODES = ("one", "mean")
#: Report metric -> (column at 108 epochs, direction).
REPORT_METRICS = {
    "test_acc": ("cifar10/test_acc@108", "max"),
    "valid_acc": ("cifar10/valid_acc@108", "max"),
    "train_acc": ("cifar10/train_acc@108", "max"),
    "train_time": ("cifar10/train_time@108", "min"),
    "params": ("params", "min"),
}
_RESTRICT_WITH_ARCHS = 50_000  # partial tables up to this size sample their cells uniformly
_ROW_CACHE_LIMIT = 1 << 20


def _missing_table(table: str, exc: DataError) -> DataError:
    only108 = KNOWN_FILES["nasbench_only108.tfrecord"]
    full = KNOWN_FILES["nasbench_full.tfrecord"]
    if table in TABLES:
        return exc
    name = "" if table == NAME else f" --name {table}"
    return DataError(
        f"nb101: table {table!r} is not imported. Download the official nasbench_only108.tfrecord "
        f"({only108['size']}, sha256 {only108['sha256'][:12]}...) from {only108['url']} and run "
        f"`benchlab data import nb101 nasbench_only108.tfrecord{name}` (add `--full nasbench_full.tfrecord`, "
        f"{full['size']} from {full['url']}, for the 4/12/36-epoch budgets). No TensorFlow needed. Without the "
        "file, the 292 real cells of NASLib's sample work: `benchlab data build nb101-naslib500 --source DIR` and "
        "table='nb101-naslib500'."
    )


@register_benchmark("nb101")
class NB101(Benchmark):
    """NAS-Bench-101 (Ying et al., ICML 2019): CIFAR-10 cells, 4/12/36/108 epochs, 3 runs each.

    Parameters
    ----------
    table:
        Table name: ``"nb101"`` (default) is the official data imported with
        ``benchlab data import nb101 nasbench_only108.tfrecord [--full nasbench_full.tfrecord]``;
        ``"nb101-naslib500"`` the 292 real cells of NASLib's sample (108-epoch validation
        accuracy only; see below), built with ``benchlab data build nb101-naslib500``.
    fidelity:
        Training epochs whose validation accuracy the strategy sees: 108 (default) or, with
        the full file imported, 4, 12 or 36 (each its own training schedule, as in the paper).
    seed_mode:
        ``"one"`` (default, the official ``NASBench.query``): each query draws one of the
        cell's 3 training runs with the run's generator and sees that run's validation
        accuracy and training time (``Evaluation.seed`` = the run index 0..2).
        ``"mean"``: the mean over the runs.
    cost:
        ``"time"``: a query costs the training time of the run (seconds, evaluation time
        excluded, as the official ``training_time``); ``"evaluation"``: 1 per query;
        ``"auto"`` (default): "time" when the table has training times, else "evaluation".

    ``report(arch)`` holds the mean over the 3 runs of the 108-epoch test, validation and
    train accuracy, training time and the parameter count; ``report_metric`` is
    ``test_acc``, so regret is the paper's: optimum (0.943175752957662 on the official
    data, computed from the table) minus the mean test accuracy of the incumbent.

    The ``nb101-naslib500`` table has no test split and no training times: strategies see
    and the report uses the 108-epoch validation accuracy (``visible_split`` and
    ``report_split`` say so; ``report_metric`` is ``valid_acc``, the mean of the 1-3 runs
    NASLib recorded), it has no fidelity axis and every query costs one evaluation.

    The ``nb101-20k`` table (20,001 real cells, ``benchlab data build nb101-20k``) has no
    test split either: strategies see the validation accuracy at ``fidelity`` epochs
    (4/12/36/108), the report uses the 108-epoch validation accuracy (``report_metric``
    ``valid_acc``; optimum = the best of the 20,001 cells), and a query costs the training
    time (108 epochs: the file's; 4/12/36: approximated as epochs/108 of it). It holds one
    training run per cell, so ``seed_mode`` "one" and "mean" see the same values.
    The space is restricted to the table's cells (:class:`NB101Space` with ``archs``).
    Accuracies are fractions, as in the official files.
    """

    description = ("NAS-Bench-101: strategies see CIFAR-10 validation accuracy (4/12/36/108 epochs), cost = training "
                   "time; official table via `benchlab data import nb101 nasbench_only108.tfrecord` (423,624 cells, test "
                   "report), or table=nb101-20k (20,001 real cells, validation report) / nb101-naslib500")  # fmt: skip
    visible_split = "valid"
    report_split = "test"
    conformance_cases: ClassVar[list] = [{}, {"seed_mode": "mean", "cost": "evaluation"}, {"table": "nb101-naslib500"},
                         {"table": "nb101-naslib500", "seed_mode": "mean"}, {"table": "nb101-20k"},
                         {"table": "nb101-20k", "fidelity": 12, "cost": "evaluation"}]  # fmt: skip

    def __init__(self, table: str = NAME, fidelity: int = 108, seed_mode: str = "one", cost: str = "auto") -> None:
        self.table = table
        self.fidelity_epochs = fidelity
        self.seed_mode = seed_mode
        self.cost = cost
        if seed_mode not in SEED_MODES:
            raise InvalidConfig(f"nb101: seed_mode must be 'one' (one of the 3 runs drawn per query, the official "
                                f"behaviour) or 'mean', got {seed_mode!r}")  # fmt: skip
        if cost not in ("auto", "time", "evaluation"):
            raise InvalidConfig(f"nb101: cost must be 'auto', 'time' or 'evaluation', got {cost!r}")
        try:
            t = open_table(table)
        except DataError as exc:
            raise _missing_table(table, exc) from None
        if t.meta.get("space") != "nb101" or "hash" not in t:
            raise InvalidConfig(f"nb101: table {table!r} is not an NB101 table (space {t.meta.get('space')!r})")
        self._table = t
        epochs = tuple(int(e) for e in t.meta.get("epochs", [108]))
        if fidelity not in epochs:
            hint = " (import nasbench_full.tfrecord with --full for 4/12/36)" if fidelity in (4, 12, 36) else ""
            raise InvalidConfig(f"nb101: fidelity {fidelity!r} is not offered by table {table!r}; choose one of "
                                f"{', '.join(map(str, epochs))}{hint}")  # fmt: skip
        self._has_test = "cifar10/test_acc@108" in t
        self._has_time = all(f"cifar10/train_time@{e}" in t for e in epochs)
        if cost == "auto":
            cost = "time" if self._has_time else "evaluation"
        if cost == "time" and not self._has_time:
            raise InvalidConfig(f"nb101: table {table!r} has no training times; use cost='evaluation'")
        self._cost_kind = cost
        self.cost_unit = "s" if cost == "time" else "evaluation"
        if self._has_test:
            self.fidelity = Fidelity("epochs", epochs, fidelity)
            report = ("test_acc", "valid_acc", "train_acc", "train_time", "params")
        elif len(epochs) > 1:  # e.g. nb101-20k: validation accuracy at several budgets, no test split
            self.fidelity = Fidelity("epochs", epochs, fidelity)
            self.visible_split = ("valid (table without a test split: strategies see the validation accuracy at "
                                  "`fidelity` epochs, the report uses the 108-epoch validation accuracy)")  # fmt: skip
            self.report_split = "valid (the table has no test split)"
            report = ("valid_acc", "train_time", "params")
        else:
            self.fidelity = None
            self.visible_split = ("valid (table without a test split: strategies see, and the report uses, the "
                                  "108-epoch validation accuracy)")  # fmt: skip
            self.report_split = "valid (the table has no test split)"
            report = ("valid_acc",)
        self._report_names = tuple(r for r in report if REPORT_METRICS[r][0] in t)
        self._report_metric = "test_acc" if self._has_test else "valid_acc"
        self.objectives = (
            Objective("valid_acc", "max", "fraction",
                      f"CIFAR-10 validation accuracy after `fidelity` epochs ({'one run drawn per query' if seed_mode == 'one' else 'mean of the runs'})"),
        )  # fmt: skip
        self._hashes = t.column("hash")
        self._n = t.n_rows
        self._rows: dict = {}
        self._cols: dict = {}
        self.space = self._make_space(t)

    # -- internals -----------------------------------------------------------------------
    def _make_space(self, t):
        from ._space import NB101Space

        if t.meta.get("complete"):
            return NB101Space()
        hexes = [bytes(h).ljust(16, b"\0").hex() for h in np.asarray(self._hashes).tolist()]
        if self._n > _RESTRICT_WITH_ARCHS:
            return NB101Space(hashes=hexes)
        return NB101Space.from_cells(hexes, self.archs())

    def _arch_of_row(self, row: int) -> tuple:
        from ._graph import from_spec

        t = self._table
        m, ops = decode_spec(int(t.column("n_vertices")[row]), int(t.column("adjacency")[row]), t.column("ops")[row])
        return from_spec(m, ops)

    def archs(self) -> list[tuple]:
        """One architecture tuple per row of the table, in row (module hash) order
        (``from_spec`` of each row's pruned spec, computed for all rows at once)."""
        from ._graph import archs_from_columns

        t = self._table
        return archs_from_columns(t.column("n_vertices"), t.column("adjacency"), t.column("ops"))

    def _col(self, name: str) -> np.ndarray:
        arr = self._cols.get(name)
        if arr is None:
            arr = self._cols[name] = self._table.column(name)
        return arr

    def _row(self, arch) -> int:
        try:
            row = self._rows.get(arch)
        except TypeError:
            row = None
        if row is not None:
            return row
        h = self.space.cell_hash(arch)  # InvalidArchitecture for anything that is not a valid cell
        key = np.array(bytes.fromhex(h), dtype="S16")
        i = int(np.searchsorted(self._hashes, key))
        if i >= self._n or self._hashes[i : i + 1] != key:
            raise InvalidArchitecture(f"{arch!r} (module hash {h}) is a valid NB101 cell but not in table "
                                      f"{self.table!r} ({self._n} cells)")  # fmt: skip
        if len(self._rows) >= _ROW_CACHE_LIMIT:
            self._rows.clear()
        self._rows[arch] = i
        return i

    def _epochs(self, fidelity) -> int:
        if self.fidelity is None:
            if fidelity is not None:
                raise InvalidConfig(f"nb101: table {self.table!r} has a single fidelity (108 epochs); ask with "
                                    f"fidelity=None, not {fidelity!r}")  # fmt: skip
            return 108
        return self.fidelity.check(fidelity)

    # -- Benchmark API -------------------------------------------------------------------
    @property
    def report_metric(self) -> str:
        return self._report_metric

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        epochs = self._epochs(fidelity)
        row = self._row(arch)
        fid = None if self.fidelity is None else epochs
        if self.seed_mode == "mean":
            acc = float(self._col(f"cifar10/valid_acc@{epochs}")[row])
            return Evaluation({"valid_acc": acc}, self._mean_cost(row, epochs), fid)
        if rng is None:
            raise InvalidConfig("nb101: seed_mode='one' draws one training run with the run's generator: "
                                "evaluate(arch, rng=<numpy Generator>)")  # fmt: skip
        runs = self._col(f"cifar10/valid_acc_seeds@{epochs}")[row].tolist()
        avail = [k for k, v in enumerate(runs) if not math.isnan(v)]
        if not avail:
            return Evaluation({"valid_acc": float("nan")}, self._mean_cost(row, epochs), fid)
        k = avail[int(rng.integers(0, len(avail)))]
        if self._cost_kind == "time":
            cost = float(self._col(f"cifar10/train_time_seeds@{epochs}")[row, k])
            if math.isnan(cost):
                cost = self._mean_cost(row, epochs)
        else:
            cost = 1.0
        return Evaluation({"valid_acc": float(runs[k])}, cost, fid, k)

    def _mean_cost(self, row: int, epochs: int) -> float:
        if self._cost_kind != "time":
            return 1.0
        return float(self._col(f"cifar10/train_time@{epochs}")[row])

    def query_cost(self, arch, fidelity=None) -> float:
        """Cost of training ``arch`` for ``fidelity`` epochs from scratch: the mean training
        time of its runs (no run drawn)."""
        return self._mean_cost(self._row(arch), self._epochs(fidelity))

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        if self.seed_mode == "one":
            return [self.evaluate(a, fidelity, rng=rng) for a in archs]
        epochs = self._epochs(fidelity)
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        fid = None if self.fidelity is None else epochs
        vals = np.asarray(self._col(f"cifar10/valid_acc@{epochs}")[rows], dtype=np.float64).tolist()
        if self._cost_kind == "time":
            costs = np.asarray(self._col(f"cifar10/train_time@{epochs}")[rows], dtype=np.float64).tolist()
        else:
            costs = [1.0] * len(rows)
        return [Evaluation({"valid_acc": v}, c, fid) for v, c in zip(vals, costs)]

    def report(self, arch) -> dict[str, float]:
        """Means over the runs at 108 epochs (accuracies as fractions, time in s) and params."""
        row = self._row(arch)
        return {r: float(self._col(REPORT_METRICS[r][0])[row]) for r in self._report_names}

    def optimum(self, metric: str) -> float:
        """Best value of a report metric over the table (max for accuracies, min for time and
        params); on the official data ``optimum("test_acc")`` is 0.943175752957662."""
        if metric not in self._report_names:
            raise InvalidConfig(f"nb101: no report metric {metric!r} in table {self.table!r}; choose one of "
                                f"{', '.join(self._report_names)}")  # fmt: skip
        column, direction = REPORT_METRICS[metric]
        return self._table.optimum(column, direction)

    def describe(self) -> dict:
        d = super().describe()
        d.update(table=self.table, seed_mode=self.seed_mode, cost=self._cost_kind, complete=bool(self._table.meta.get("complete")))
        return d
