"""One generic table benchmark: a :class:`TableRecipe` says which columns mean what.

A tabular NAS benchmark is a lookup: architecture -> row, row -> values of some columns of
a table in benchlab's store (``benchlab data build NAME``). What differs between
benchmarks is only which columns a strategy sees (validation metrics where the table has
them), which ones the report holds (test metrics, for regret), which training budgets
(epochs) are offered, whether one of several training seeds may be drawn, and how a query
is charged. A :class:`TableRecipe` declares that; :class:`TabularBenchmark` does the rest
(argument checks with one-line errors, vectorised queries, report, optimum from the
table's ``meta.json``, ``describe()``).

Column names in a recipe are templates: ``{dataset}`` is the ``dataset`` argument,
``{epochs}`` the queried training budget, any other ``{field}`` a value passed in
``fields`` (e.g. the network family of a width benchmark). A new table benchmark is a
subclass with a recipe, declared parameters and an ``__init__`` that forwards them::

    from benchlab import register_benchmark
    from benchlab.ext import Metric, Param, TableRecipe, TabularBenchmark

    @register_benchmark("my-bench")
    class MyBench(TabularBenchmark):
        '''My-Bench (Doe et al., 2024): 10,000 cells on CIFAR-10 and SVHN.'''

        description = "My-Bench (public file): 10,000 cells, valid/test kept apart, 1..100 epochs"
        visible_split, report_split = "valid", "test"
        recipe = TableRecipe(
            table="my-bench",                 # `benchlab data build my-bench`
            space=MySpace,                    # ids = table rows
            datasets=("cifar10", "svhn"),
            metrics={"valid_acc": Metric("{dataset}/valid_acc@{epochs}", "max", "%",
                                         "{dataset} validation accuracy after `fidelity` epochs")},
            report={"test_acc": "{dataset}/test_acc@100", "params": "{dataset}/params"},
            epochs=(12, 100), multi_fidelity=True,
            train_time=("{dataset}/train_time_epoch",),   # cost = epochs x s/epoch
        )
        parameters = {"dataset": Param(str, choices=("cifar10", "svhn")),
                      "fidelity": Param(int, choices=(12, 100))}

        def __init__(self, dataset: str = "cifar10", fidelity: int = 100) -> None:
            super().__init__(dataset=dataset, fidelity=fidelity, report_metric="test_acc")

A recipe may also declare *constraint metrics* (``TableRecipe.constraints``): per-architecture
model properties (latency on a device, parameters, FLOPs, energy) that a ``constraints``
argument such as ``["latency/pixel3<=12"]`` may bound (hardware-aware NAS; see
:class:`~benchlab.ext.ConstraintSet`). Test and report columns are never constraint metrics.

Everything here is torch-free and knows nothing of NAS: any table whose rows are the ids
of a :class:`SearchSpace` works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ._benchmark import Benchmark
from ._constraints import ConstraintSet, parse_constraint
from ._errors import InvalidArchitecture, InvalidConfig
from ._space import SearchSpace
from ._tables import Column, Table, open_table
from ._types import Evaluation, Fidelity, Objective

__all__ = ["Metric", "TableRecipe", "TabularBenchmark", "ArrayTable"]

COSTS = ("auto", "time", "evaluation")
SEED_MODES = ("mean", "one")


@dataclass(frozen=True)
class Metric:
    """A metric a strategy may optimise: its column and what it means.

    ``column``: template of a per-architecture column (``"{dataset}/valid_acc@{epochs}"``).
    ``direction``: ``"max"`` or ``"min"``; ``unit``, ``description``: for the
    :class:`~benchlab.Objective` (the description is a template too, with ``{seed_mode}``).
    ``curve``: template of an ``("arch", "epoch")`` learning-curve column; when the table
    has it, every epoch 1..N is offered and read from it where ``column`` is absent.
    ``seeds``: template of an ``("arch", "seed")`` column of per-training-run values at
    ``{epochs}``, for ``seed_mode="one"``.
    """

    column: str
    direction: str = "max"
    unit: str = ""
    description: str = ""
    curve: str = ""
    seeds: str = ""


@dataclass(frozen=True)
class TableRecipe:
    """What a :class:`TabularBenchmark` reads from its table.

    * ``table``: name in the store (a ``table`` argument may override it);
      ``space``: factory of the search space whose ids are the table's rows.
    * ``metrics``: what strategies may see, by objective name (the ``objective``
      argument picks among them; the first one is the default).
    * ``report``: report key -> column template (absent columns are left out);
      ``uncertain``: report keys that are spreads (no optimum); ``optimum_any_column``:
      ``optimum`` and ``report_metric`` also accept any column of the table (maximised).
    * ``datasets``: allowed values of ``{dataset}`` (empty: the recipe has none);
      ``dataset_hints``: words added to the error when one of these is refused.
    * ``epochs``: training budgets ``{epochs}`` may take (those present in the table are
      offered); ``multi_fidelity``: strategies see them as a :class:`Fidelity`, otherwise
      the benchmark has the single fidelity ``epochs[-1]`` and queries pass None.
    * ``train_time`` / ``eval_time``: cost columns (seconds). A query at ``e`` epochs costs
      ``e x train_time + eval_time``; templates with ``{epochs}`` are the schedule's own
      times, used where not NaN, the first present of the others is the fallback. Without
      training times every query costs one unit (``cost_unit = "evaluation"``).
      ``run_time``: instead, templates of a whole query's seconds (training to
      ``{epochs}`` and evaluation; the first present is used as it is).
      ``time_hint``: how to get times, said when ``cost="time"`` finds none.
    * ``seed_draw``: how ``seed_mode="one"`` picks a run: ``"integers"``
      (``rng.integers(0, n)`` over the runs with a value) or ``"uniform"``
      (``int(rng.random() * n)`` over all runs, vectorised in ``evaluate_many``);
      ``seeds_hint``: how to get per-seed columns, said when the table lacks them.
    * ``extra_column``: where ``extra_objectives`` names are looked up when not a column
      name themselves; ``extra_hint``: examples for its error.
    * ``describe``: keys ``describe()`` adds, among ``dataset``, ``seed_mode``, ``table``,
      ``cost`` and the ``fields``.
    * ``constraints``: constraint metric name -> column template, for model properties a
      ``constraints`` argument may bound (and strategies may see): e.g.
      ``{"params": "{dataset}/params"}``. A name ending in ``*`` declares a family, the
      ``*`` of the column template taking the rest of the name: ``{"latency/*":
      "latency/*"}`` allows ``latency/pixel3`` for every ``latency/...`` column of the
      table. Only per-architecture columns of no data split may be declared.
    """

    table: str
    space: Callable[[], SearchSpace]
    metrics: Mapping[str, Metric]
    report: Mapping[str, str] = field(default_factory=dict)
    uncertain: tuple = ()
    optimum_any_column: bool = False
    datasets: tuple = ()
    dataset_hints: Mapping[str, str] = field(default_factory=dict)
    epochs: tuple = ()
    multi_fidelity: bool = False
    train_time: tuple = ()
    eval_time: tuple = ()
    run_time: tuple = ()
    time_hint: str = ""
    seed_draw: str = "integers"
    seeds_hint: str = ""
    extra_column: str = "{dataset}/{name}"
    extra_hint: str = ""
    describe: tuple = ()
    constraints: Mapping[str, str] = field(default_factory=dict)


class ArrayTable:
    """An in-memory table with the read interface of :class:`~benchlab.ext.Table`, for
    benchmarks whose data does not come from the store (an embedded package file).
    ``optimum`` is computed over the finite values, like the store's ``meta.json``."""

    def __init__(self, name: str, columns: Mapping[str, np.ndarray], info: Mapping[str, Column] | None = None,
                 meta: Mapping | None = None) -> None:  # fmt: skip
        self.name = name
        self._arrays = {k: np.asarray(v) for k, v in columns.items()}
        lengths = {len(v) for v in self._arrays.values()}
        if len(lengths) > 1:
            raise InvalidConfig(f"table {name}: columns have different lengths {sorted(lengths)}")
        self.n_rows = lengths.pop() if lengths else 0
        info = dict(info or {})
        self.columns = {k: info.get(k) or Column(k, str(v.dtype), axes=("arch",) + ("",) * (v.ndim - 1))
                        for k, v in self._arrays.items()}  # fmt: skip
        shapes = {k: {"shape": list(v.shape)} for k, v in self._arrays.items()}
        self.meta = {"name": name, "n_rows": self.n_rows, **dict(meta or {}), "columns": shapes}

    def __contains__(self, column: str) -> bool:
        return column in self._arrays

    def column(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except KeyError:
            raise InvalidConfig(f"table {self.name} has no column {name!r}") from None

    def find(self, **fields) -> list[str]:
        return [k for k, c in self.columns.items() if all(getattr(c, f) == v for f, v in fields.items())]

    def optimum(self, name: str, direction: str = "max") -> float:
        arr = self._arrays.get(name)
        finite = None if arr is None else arr[np.isfinite(arr)]
        if finite is None or not finite.size:
            raise InvalidConfig(f"table {self.name}: no optimum recorded for column {name!r}")
        return float(finite.max() if direction == "max" else finite.min())


class _View:
    """The columns of one training budget, as lists (fast single queries) and arrays."""

    __slots__ = ("epochs", "fidelity", "pairs", "name", "values", "arrays", "costs", "cost_array", "seeds", "seed_labels",
                 "seeded")  # fmt: skip

    def __init__(self, epochs, fidelity, arrays, cost_array, seeds, seed_labels, seeded) -> None:
        self.epochs = epochs
        self.fidelity = fidelity
        self.arrays = arrays
        self.pairs = tuple((n, a.tolist()) for n, a in arrays)
        # the common case, one metric, read without a loop: its name and values (name None otherwise)
        self.name, self.values = self.pairs[0] if len(self.pairs) == 1 else (None, None)
        self.cost_array = cost_array
        self.costs = cost_array.tolist()
        self.seeds = seeds
        self.seed_labels = seed_labels
        self.seeded = seeded


def _short(values: tuple) -> str:
    return f"{values[0]}..{values[-1]}" if len(values) > 5 else ", ".join(map(str, values))


class TabularBenchmark(Benchmark):
    """A benchmark read from a table; subclasses set ``recipe`` (a :class:`TableRecipe`),
    ``parameters`` and an ``__init__`` forwarding their arguments (module docstring).

    Keyword arguments: ``dataset``; ``objective`` (a metric name or a list of them, the
    first primary; default the recipe's first metric); ``fidelity`` (default training
    budget, epochs); ``seed_mode`` (``"mean"`` or ``"one"``); ``cost`` (``"auto"``,
    ``"time"`` or ``"evaluation"``); ``report_metric`` (default the primary objective);
    ``table`` (store name, default the recipe's); ``extra_objectives`` (further
    per-architecture columns to minimise); ``space`` (instead of ``recipe.space()``);
    ``fields`` (values of further ``{field}`` templates); ``constraints`` (a list of
    ``"metric<=value"`` / ``"metric>=value"`` strings over the recipe's constraint metrics:
    evaluations then carry those metrics and ``feasible``, ``optimum`` is the constrained
    optimum and ``constraint_set`` offers a free look-up of them, see the module docstring).

    ``load_table(name)`` is the one hook: it returns the table (default: the store's, with
    a ``DataError`` naming the build command when it is absent).
    """

    recipe: TableRecipe
    report_split = "test"
    constraint_set = ConstraintSet()  # set per instance by a ``constraints`` argument
    _constraint_arrays: Mapping = {}
    _feasible_rows = None

    def __init__(
        self,
        *,
        dataset: str | None = None,
        objective: str | list | tuple | None = None,
        fidelity: int | None = None,
        seed_mode: str = "mean",
        cost: str = "auto",
        report_metric: str | None = None,
        table: str | None = None,
        extra_objectives: list | None = None,
        space: SearchSpace | None = None,
        fields: Mapping[str, str] | None = None,
        constraints: list | tuple | None = None,
    ) -> None:
        r, label = self.recipe, self.name
        self.dataset, self.objective, self.seed_mode, self.cost = dataset, objective, seed_mode, cost
        self.fidelity_epochs, self.extra_objectives = fidelity, extra_objectives
        self.table = table = table or r.table
        if r.datasets and dataset not in r.datasets:
            hint = r.dataset_hints.get(dataset, "") if isinstance(dataset, str) else ""
            raise InvalidConfig(f"{label} has no dataset {dataset!r}{hint}; choose one of {', '.join(r.datasets)}")
        names = [next(iter(r.metrics))] if objective is None else [objective] if isinstance(objective, str) else list(objective)
        if not names:
            raise InvalidConfig(f"{label}: objective must name at least one metric")
        for n in names:
            if n not in r.metrics:
                raise InvalidConfig(f"{label} has no objective {n!r}; choose from {', '.join(r.metrics)}")
        if len(set(names)) != len(names):
            raise InvalidConfig(f"{label}: objectives {names} repeat a metric")
        if seed_mode not in SEED_MODES:
            raise InvalidConfig(f"{label}: seed_mode must be 'mean' (the seed mean) or 'one' (one training run drawn "
                                f"with the run's generator), not {seed_mode!r}")  # fmt: skip
        if cost not in COSTS:
            raise InvalidConfig(f"{label}: cost must be 'auto', 'time' or 'evaluation', got {cost!r}")
        self._ctx = {"dataset": dataset or "", "seed_mode": seed_mode, **dict(fields or {})}
        t = self._table = self.load_table(table)
        self.provenance = t.meta.get("provenance", [])
        self.space = space if space is not None else r.space()
        ids = getattr(self.space, "ids", None)  # a space's own {arch: id} table, else one built here
        self._ids = dict(ids) if isinstance(ids, Mapping) else {a: i for i, a in enumerate(self.space.enumerate())}
        self._names = names
        self._one = seed_mode == "one"

        # -- fidelities ----------------------------------------------------------------------
        first = r.metrics[names[0]] if r.multi_fidelity else None
        curve = self._col(first.curve) if first is not None and first.curve else ""
        if curve and curve in t:
            epochs = tuple(range(1, t.meta["columns"][curve]["shape"][1] + 1))
        elif r.multi_fidelity:
            epochs = tuple(e for e in r.epochs if self._col(first.column, e) in t)
        else:
            epochs = tuple(r.epochs[-1:])
        self._curves = {n: self._col(m.curve) for n, m in r.metrics.items() if m.curve and self._col(m.curve) in t}
        if r.multi_fidelity:
            if fidelity not in epochs:
                raise InvalidConfig(f"{label}: fidelity {fidelity!r} is not offered by table {table!r}; "
                                    f"choose one of {_short(epochs)}")  # fmt: skip
            self.fidelity = Fidelity("epochs", epochs, fidelity)
        else:
            self.fidelity = None
        self._default_epochs = fidelity if r.multi_fidelity else (epochs[0] if epochs else None)
        if self._one and self._seed_column(self._default_epochs) is None:
            where = f" at {self._default_epochs} epochs" if r.multi_fidelity else ""
            raise InvalidConfig(f"{label}: seed_mode='one' needs per-seed results, which table {table!r} lacks{where}"
                                f"{r.seeds_hint}; or use seed_mode='mean'")  # fmt: skip

        # -- cost ----------------------------------------------------------------------------
        fallback = [c for c in (self._col(x) for x in r.train_time if "{epochs}" not in x) if c in t][:1]
        timed = bool(fallback) or any(self._col(x, self._default_epochs) in t for x in r.run_time)
        if cost == "auto":
            cost = "time" if timed else "evaluation"
        if cost == "time" and not timed:
            raise InvalidConfig(f"{label}: table {table!r} has no training times for {dataset}{r.time_hint}; "
                                "use cost='evaluation'")  # fmt: skip
        self._cost_kind = cost
        self.cost_unit = "s" if cost == "time" else "evaluation"
        if cost == "time" and fallback:
            self._train_time = np.asarray(t.column(fallback[0]), dtype=np.float64)
            valid = [c for c in (self._col(x) for x in r.eval_time if "{epochs}" not in x) if c in t][:1]
            self._valid_time = np.asarray(t.column(valid[0]), dtype=np.float64) if valid else np.zeros(t.n_rows)

        # -- objectives ----------------------------------------------------------------------
        ctx = self._ctx
        self.objectives = tuple(Objective(n, r.metrics[n].direction, r.metrics[n].unit,
                                          r.metrics[n].description.format(**ctx)) for n in names)  # fmt: skip
        self._extra = []
        for name in extra_objectives or []:
            col = name if name in t else self._col(r.extra_column, name=name)
            if col not in t or t.meta["columns"][col].get("shape", [0])[1:]:
                raise InvalidConfig(f"{label}: extra objective {name!r} is not a per-architecture column of table "
                                    f"{table!r}; use {r.extra_hint}a name from `benchlab data info {table}`")  # fmt: skip
            self._extra.append((name, np.asarray(t.column(col), dtype=np.float64)))
            self.objectives += (Objective(name, "min", t.columns[col].unit, t.columns[col].description),)

        # -- report --------------------------------------------------------------------------
        e = self._default_epochs
        self._report_map = {k: self._col(c, e) for k, c in r.report.items() if self._col(c, e) in t}
        self._report_metric = report_metric
        if report_metric is not None and report_metric not in self._report_map:
            if not (r.optimum_any_column and report_metric in t):
                raise InvalidConfig(f"{label}: report_metric {report_metric!r} is not a column of table {table!r}")
            self._report_map[report_metric] = report_metric
        self._report_lists: dict | None = None
        self._views: dict = {}
        self._setup_constraints(constraints)
        self._cols = dict(self._view(None).arrays)  # objective columns at the default fidelity (scripts/bench_harness.py)

    # -- the hook ------------------------------------------------------------------------------
    def load_table(self, name: str) -> Table:
        """The table this benchmark reads (default: ``name`` from benchlab's store)."""
        return open_table(name)

    # -- internals -----------------------------------------------------------------------------
    def _col(self, template: str, epochs=None, **more) -> str:
        return template.format(**self._ctx, epochs=epochs if epochs is not None else "", **more)

    def _seed_column(self, epochs) -> str | None:
        for m in self.recipe.metrics.values():
            if m.seeds and self._col(m.seeds, epochs) in self._table:
                return self._col(m.seeds, epochs)
        return None

    def _values(self, name: str, epochs) -> np.ndarray:
        t, col = self._table, self._col(self.recipe.metrics[name].column, epochs)
        if col not in t and name in self._curves:
            return np.asarray(t.column(self._curves[name])[:, epochs - 1], dtype=np.float64)
        return np.asarray(t.column(col), dtype=np.float64)

    def _epoch_time(self, templates: tuple, epochs, fallback: np.ndarray) -> np.ndarray:
        """The schedule's own times where the table has them (not NaN), else ``fallback``."""
        own = [c for c in (self._col(x, epochs) for x in templates if "{epochs}" in x) if c in self._table]
        if not own:
            return fallback
        arr = np.asarray(self._table.column(own[0]), dtype=np.float64)
        return np.where(np.isnan(arr), fallback, arr)

    def _view(self, fidelity) -> _View:
        view = self._views.get(fidelity)
        if view is not None:
            return view
        r = self.recipe
        if self.fidelity is None:
            if fidelity is not None:
                raise InvalidConfig(f"{self.name} has a single fidelity ({self._default_epochs} epochs); ask with "
                                    f"fidelity=None, not {fidelity!r}")  # fmt: skip
            epochs = self._default_epochs
        else:
            epochs = self.fidelity.check(fidelity)
        arrays = tuple((n, self._values(n, epochs)) for n in self._names) + tuple(self._extra)
        if self._cost_kind == "time" and r.run_time:
            cols = [c for c in (self._col(x, epochs) for x in r.run_time) if c in self._table]
            if not cols:
                raise InvalidConfig(f"{self.name}: table {self.table!r} has no run times at {epochs} epochs; "
                                    "use cost='evaluation'")  # fmt: skip
            costs = np.asarray(self._table.column(cols[0]), dtype=np.float64)
        elif self._cost_kind == "time":
            costs = (epochs * self._epoch_time(r.train_time, epochs, self._train_time)
                     + self._epoch_time(r.eval_time, epochs, self._valid_time))  # fmt: skip
        else:
            costs = np.ones(self._table.n_rows)
        seeds = labels = None
        seeded: tuple = ()
        col = self._seed_column(epochs) if self._one else None
        if col is not None:
            seeds = np.asarray(self._table.column(col), dtype=np.float64)
            if seeds.ndim != 2:
                raise InvalidConfig(f"table {self.table}: per-seed column {col!r} has shape {seeds.shape}; rebuild it")
            labels = list((self._table.columns[col].labels or {}).get("seed", range(seeds.shape[1])))
            seeded = tuple(n for n in self._names if r.metrics[n].seeds and self._col(r.metrics[n].seeds, epochs) == col)
        view = _View(epochs, epochs if self.fidelity is not None else None, arrays, costs, seeds, labels, seeded)
        self._views[fidelity] = view
        return view

    def _row(self, arch) -> int:
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.space.validate(arch)
            raise InvalidArchitecture(f"{arch!r} is not in the {self.name} table") from None

    def _seed_error(self, view: _View) -> InvalidConfig:
        if view.seeds is None:
            return InvalidConfig(f"{self.name}: no per-seed results at {view.epochs} epochs; use seed_mode='mean'")
        return InvalidConfig(f"{self.name}: seed_mode='one' draws one training run with the run's generator: "
                             "pass evaluate(arch, rng=<numpy Generator>)")  # fmt: skip

    # -- Benchmark API -------------------------------------------------------------------------
    @property
    def report_metric(self) -> str:
        return self._report_metric or self.objectives[0].name

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        if self._constraint_arrays:
            return self._constrained(self._evaluate(arch, fidelity, rng), self._row(arch))
        return self._evaluate(arch, fidelity, rng)

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        evs = self._evaluate_many(archs, fidelity, rng)
        if self._constraint_arrays:
            return [self._constrained(ev, self._row(a)) for ev, a in zip(evs, archs)]
        return evs

    def _evaluate(self, arch, fidelity, rng) -> Evaluation:
        view = self._views.get(fidelity) or self._view(fidelity)
        if self._one:
            if rng is None or view.seeds is None:
                raise self._seed_error(view)
            return self._evaluate_seed(view, self._row(arch), view.fidelity if fidelity is None else fidelity, rng)
        try:
            row = self._ids[arch]
        except (KeyError, TypeError):
            row = self._row(arch)
        name = view.name
        if name is not None:
            return Evaluation({name: view.values[row]}, view.costs[row], view.fidelity if fidelity is None else fidelity)
        return Evaluation({n: v[row] for n, v in view.pairs}, view.costs[row], view.fidelity if fidelity is None else fidelity)

    def _evaluate_seed(self, view: _View, row: int, fid, rng) -> Evaluation:
        metrics = {n: v[row] for n, v in view.pairs}
        n_seeds = view.seeds.shape[1]
        if self.recipe.seed_draw == "uniform":
            k = int(rng.random() * n_seeds)
        else:
            avail = np.flatnonzero(~np.isnan(view.seeds[row]))
            if avail.size == 0:
                metrics.update((n, float("nan")) for n in view.seeded)
                return Evaluation(metrics, view.costs[row], fid)
            k = int(avail[int(rng.integers(0, avail.size))])
        for n in view.seeded:
            metrics[n] = float(view.seeds[row, k])
        return Evaluation(metrics, view.costs[row], fid, int(view.seed_labels[k]))

    def _evaluate_many(self, archs, fidelity, rng) -> list[Evaluation]:
        view = self._views.get(fidelity) or self._view(fidelity)
        fid = view.fidelity if fidelity is None else fidelity
        if self._one and (rng is None or view.seeds is None):
            raise self._seed_error(view)
        if self._one and self.recipe.seed_draw != "uniform":
            return [self._evaluate_seed(view, self._row(a), fid, rng) for a in archs]
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        names = [n for n, _ in view.arrays]
        cols = [a[rows] for _, a in view.arrays]
        costs = view.cost_array[rows].tolist()
        if not self._one:
            lists = [c.tolist() for c in cols]
            return [Evaluation(dict(zip(names, vals)), c, fid) for c, vals in zip(costs, zip(*lists))]
        # one uniform double per query, exactly as evaluate() draws them
        u = rng.random(len(rows)) if isinstance(rng, np.random.Generator) else np.array([rng.random() for _ in rows])
        ks = (u * view.seeds.shape[1]).astype(np.int64)
        lists = [(view.seeds[rows, ks] if n in view.seeded else c).tolist() for n, c in zip(names, cols)]
        seeds = [int(view.seed_labels[k]) for k in ks.tolist()]
        return [Evaluation(dict(zip(names, vals)), c, fid, s) for c, s, vals in zip(costs, seeds, zip(*lists))]

    def query_cost(self, arch, fidelity=None) -> float:
        view = self._views.get(fidelity) or self._view(fidelity)
        return view.costs[self._row(arch)]

    def lookup(self, ids, column: str) -> np.ndarray:
        """Vectorised table query: ``column`` at benchlab ``ids`` (an int array)."""
        return self._table.column(column)[ids]

    def report(self, arch) -> dict[str, float]:
        """The report columns (test split) of ``arch``; harness and analysis only."""
        lists = self._report_lists
        if lists is None:
            t = self._table
            lists = self._report_lists = {k: np.asarray(t.column(c), dtype=np.float64).tolist()
                                          for k, c in self._report_map.items()}  # fmt: skip
        row = self._row(arch)
        return {k: v[row] for k, v in lists.items()}

    def optimum(self, metric: str, *, constrained: bool = True) -> float:
        """Best value of a report metric over the table; with constraints, over the feasible
        architectures only (the constrained optimum, for feasible regret)."""
        r = self.recipe
        col = self._report_map.get(metric)
        if col is None:
            if not r.optimum_any_column:
                known = ", ".join(k for k in self._report_map if k not in r.uncertain)
                raise InvalidConfig(f"{self.name} has no report metric {metric!r}; choose from {known}")
            col = metric
        if metric in r.uncertain:
            raise InvalidConfig(f"{metric} is an uncertainty, not something to optimise")
        direction = r.metrics[metric].direction if metric in r.metrics else "max"
        if self._feasible_rows is not None and constrained:
            return self._constrained_optimum(col, direction)
        return self._table.optimum(col, direction)

    def unconstrained_optimum(self, metric: str) -> float:
        """:meth:`optimum` over the whole space, ignoring the constraints."""
        return self.optimum(metric, constrained=False)

    def describe(self) -> dict:
        d = super().describe()
        values = {"dataset": self.dataset, "seed_mode": self.seed_mode, "table": self.table, "cost": self._cost_kind,
                  **{k: v for k, v in self._ctx.items() if k not in ("dataset", "seed_mode")}}  # fmt: skip
        d.update((k, values[k]) for k in self.recipe.describe)
        if self._constraint_arrays:
            d["constraints"] = self.constraint_set.strings()
            d["feasible_fraction"] = float(self._feasible_rows.size / self._table.n_rows)
        return d

    # -- constraints ---------------------------------------------------------------------------
    def constraint_metrics(self) -> list[str]:
        """The constraint metrics the recipe declares and the table holds (model properties)."""
        t, out = self._table, []
        for name, template in self.recipe.constraints.items():
            if name.endswith("*"):
                head, _, tail = self._col(template).partition("*")
                for col in t.columns:
                    if (col.startswith(head) and col.endswith(tail) and len(col) > len(head) + len(tail)
                            and self._constraint_usable(col)):  # fmt: skip
                        out.append(name[:-1] + col[len(head) : len(col) - len(tail)])
            elif self._constraint_usable(self._col(template)):
                out.append(name)
        return out

    def _constraint_usable(self, col: str) -> bool:
        t = self._table
        if col not in t or len(t.meta["columns"][col].get("shape", [0])) != 1:
            return False
        info = t.columns.get(col)
        return info is None or not info.split

    def _constraint_column(self, metric: str) -> str | None:
        for name, template in self.recipe.constraints.items():
            if name.endswith("*"):
                rest = metric[len(name) - 1 :] if metric.startswith(name[:-1]) else ""
                col = self._col(template).replace("*", rest) if rest else None
            else:
                col = self._col(template) if metric == name else None
            if col is not None and self._constraint_usable(col):
                return col
        return None

    def _refusal(self, metric: str, allowed: str) -> InvalidConfig:
        t, label = self._table, self.name
        col = self._report_map.get(metric, metric)
        split = t.columns[col].split if col in t and t.columns.get(col) is not None else ""
        if split == self.report_split or split == "test":
            why = (f"is a {split}-split metric: a constraint's value is shown to the strategy, and {split} metrics "
                   "never are")  # fmt: skip
        elif split:
            why = f"is a {split}-split training result, not a model property known before training"
        elif metric in self._report_map:
            why = "is a report column (the harness's, for regret), not a declared constraint metric"
        else:
            return InvalidConfig(f"{label} has no constraint metric {metric!r}; constraint metrics: {allowed}")
        return InvalidConfig(f"{label}: constraint metric {metric!r} {why}; constraint metrics: {allowed}")

    def _setup_constraints(self, constraints) -> None:
        self._constraint_arrays: dict = {}
        self._feasible_rows = None
        self.constraint_set = ConstraintSet()
        if constraints is None:
            return
        label = self.name
        if isinstance(constraints, str) or not isinstance(constraints, (list, tuple)):
            raise InvalidConfig(f"{label}: constraints must be a list of 'metric<=value' / 'metric>=value' strings, "
                                f"e.g. [\"latency/pixel3<=12\"], not {constraints!r}")  # fmt: skip
        parsed = [parse_constraint(c) for c in constraints]
        if not parsed:
            return
        offered = self.constraint_metrics()
        allowed = ", ".join(offered) if offered else "none (this benchmark declares no constraint metrics)"
        arrays = {}
        for c in parsed:
            col = self._constraint_column(c.metric)
            if col is None:
                raise self._refusal(c.metric, allowed)
            arrays[c.metric] = np.asarray(self._table.column(col), dtype=np.float64)
        ok = np.ones(self._table.n_rows, dtype=bool)
        for c in parsed:
            v = arrays[c.metric]
            ok &= (v <= c.bound) if c.op == "<=" else (v >= c.bound)  # NaN compares False: infeasible
        rows = np.flatnonzero(ok)
        if rows.size == 0:
            ranges = "; ".join(f"{m} ranges {np.nanmin(a):g}..{np.nanmax(a):g}" for m, a in arrays.items())
            raise InvalidConfig(f"{label}: constraints {[str(c) for c in parsed]} leave no feasible architecture in "
                                f"table {self.table!r} ({ranges}); loosen them")  # fmt: skip
        self._constraint_arrays = arrays
        self._feasible_rows = rows
        self.constraint_set = ConstraintSet(parsed, _ConstraintLookup(self._ids, arrays))

    def _constrained(self, ev: Evaluation, row: int) -> Evaluation:
        values = {m: float(a[row]) for m, a in self._constraint_arrays.items()}
        metrics = {**ev.metrics, **values}
        return Evaluation(metrics, ev.cost, ev.fidelity, ev.seed, self.constraint_set.violation(values) == 0.0)

    def _constrained_optimum(self, col: str, direction: str) -> float:
        arr = np.asarray(self._table.column(col), dtype=np.float64)[self._feasible_rows]
        finite = arr[np.isfinite(arr)]
        if not finite.size:
            raise InvalidConfig(f"{self.name}: no feasible architecture has a value of {col!r}")
        return float(finite.max() if direction == "max" else finite.min())


class _ConstraintLookup:
    """Constraint metrics of any architecture from table columns (a free look-up of model
    properties, given to strategies through :class:`~benchlab.ext.ConstraintSet`). Holds the
    id map and the constraint columns only, never the benchmark."""

    __slots__ = ("ids", "arrays")

    def __init__(self, ids: Mapping, arrays: Mapping[str, np.ndarray]) -> None:
        self.ids = ids
        self.arrays = {m: np.asarray(a, dtype=np.float64) for m, a in arrays.items()}

    def __getstate__(self):
        return (self.ids, self.arrays)

    def __setstate__(self, state) -> None:
        self.ids, self.arrays = state

    def __call__(self, arch) -> dict[str, float]:
        try:
            row = self.ids[arch]
        except (KeyError, TypeError):
            raise InvalidArchitecture(f"{arch!r} is not in the table of constraint metrics") from None
        return {m: float(a[row]) for m, a in self.arrays.items()}
