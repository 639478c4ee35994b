"""The generic table benchmark (``benchlab.ext.TabularBenchmark``) on a small table written here."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from benchlab import BENCHMARKS, InvalidArchitecture, InvalidConfig
from benchlab.ext import (ArrayTable, CategoricalSpace, Column, Metric, TableRecipe, TabularBenchmark,
                          declared_parameters, open_table, write_table)  # fmt: skip

N = 6  # 3 x 2 architectures
SPACE = CategoricalSpace([("a", (0, 1, 2)), ("b", (0, 1))], name="toy")
ROWS = np.arange(N, dtype=np.float64)
CURVE = np.stack([ROWS + e / 100 for e in range(1, 51)], axis=1)  # (6, 50): epoch e at [:, e - 1]
SEEDS = np.array([[1, 2, 3], [4, np.nan, 6], [np.nan] * 3, [7, 8, 9], [10, 11, 12], [13, 14, 15]], dtype=np.float64)
TRAIN = np.full(N, 2.0)
TRAIN10 = np.array([1.0, np.nan, 1.0, 1.0, 1.0, 1.0])  # the 10-epoch schedule's own times, one missing
VALID = np.full(N, 0.5)


def _write(root) -> None:
    cols = {
        "x/valid_acc@10": ROWS + 0.5,  # differs from CURVE[:, 9]: the column wins over the curve
        "x/valid_acc@50": CURVE[:, 49],
        "x/valid_acc_curve@50": CURVE,
        "x/valid_acc_seeds@50": SEEDS,
        "x/test_acc@50": 100 - ROWS,
        "x/test_std@50": np.full(N, 0.1),
        "x/params": np.array([5, 3, 9, 1, 7, 2], dtype=np.int64),
        "x/train_time_epoch": TRAIN,
        "x/train_time_epoch@10": TRAIN10,
        "x/valid_time": VALID,
        "x/run_time@50": ROWS * 10,
        "y/valid_acc@10": ROWS,
        "y/valid_acc@50": ROWS * 2,
        "y/test_acc@50": ROWS * 3,
        "y/params": np.arange(N, dtype=np.int64),
        "latency": np.linspace(1, 2, N),
    }
    axes = {"x/valid_acc_curve@50": ("arch", "epoch"), "x/valid_acc_seeds@50": ("arch", "seed")}
    info = {k: Column(k, "", unit="ms" if k == "latency" else "", description=f"toy {k}", axes=axes.get(k, ("arch",)),
                      labels={"seed": [7, 8, 9]} if "seeds" in k else None) for k in cols}  # fmt: skip
    write_table("toy", cols, info, {"space": "toy"}, root=root)


RECIPE = TableRecipe(
    table="toy",
    space=lambda: SPACE,
    datasets=("x", "y"),
    dataset_hints={"z": " (z is held out)"},
    metrics={
        "valid_acc": Metric("{dataset}/valid_acc@{epochs}", "max", "%", "{dataset} valid ({seed_mode})",
                            curve="{dataset}/valid_acc_curve@50", seeds="{dataset}/valid_acc_seeds@{epochs}"),
        "params": Metric("{dataset}/params", "min", "", "parameters"),
    },  # fmt: skip
    report={"test_acc": "{dataset}/test_acc@50", "test_std": "{dataset}/test_std@50", "params": "{dataset}/params"},
    uncertain=("test_std",),
    epochs=(10, 50),
    multi_fidelity=True,
    train_time=("{dataset}/train_time_epoch@{epochs}", "{dataset}/train_time_epoch"),
    eval_time=("{dataset}/valid_time",),
    time_hint=" (only x is timed)",
    extra_column="{name}",
    describe=("dataset", "table", "cost"),
)


class Toy(TabularBenchmark):
    name = "toy"
    recipe = RECIPE
    root = None

    def load_table(self, name):
        return open_table(name, root=self.root)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    _write(root)
    Toy.root = root
    return Toy


def test_fidelities_values_and_time_costs(toy):
    b = toy(dataset="x", fidelity=50)
    assert b.fidelity.values == tuple(range(1, 51)) and b.fidelity.default == 50  # the curve offers every epoch
    assert b.cost_unit == "s" and b.describe()["cost"] == "time" and b.describe()["dataset"] == "x"
    for i, arch in enumerate(SPACE.enumerate()):
        assert b.evaluate(arch).metrics == {"valid_acc": CURVE[i, 49]}
        assert b.evaluate(arch, 10).metrics["valid_acc"] == i + 0.5  # the 10-epoch column, not the curve
        assert b.evaluate(arch, 20).metrics["valid_acc"] == CURVE[i, 19]
        own10 = TRAIN[i] if math.isnan(TRAIN10[i]) else TRAIN10[i]  # the schedule's own time where it has one
        assert b.evaluate(arch, 10).cost == 10 * own10 + VALID[i] == b.query_cost(arch, 10)
        assert b.evaluate(arch).cost == 50 * TRAIN[i] + VALID[i] and b.evaluate(arch, 20).fidelity == 20
    archs = list(SPACE.enumerate()) * 2
    for f in (None, 10, 33):
        assert b.evaluate_many(archs, f) == [b.evaluate(a, f) for a in archs]
    with pytest.raises(InvalidConfig, match="not offered"):
        b.evaluate(archs[0], 51)
    with pytest.raises(InvalidArchitecture):
        b.evaluate_many([archs[0], (5, 0)])


def test_unit_cost_objectives_report_and_optimum(toy):
    b = toy(dataset="y", fidelity=10, objective=["params", "valid_acc"], extra_objectives=["latency"])
    assert b.fidelity.values == (10, 50) and b.cost_unit == "evaluation"  # no curve, no times for y
    assert [(o.name, o.direction, o.unit) for o in b.objectives] == [("params", "min", ""), ("valid_acc", "max", "%"),
                                                                     ("latency", "min", "ms")]  # fmt: skip
    assert b.objectives[1].description == "y valid (mean)"
    arch = SPACE.from_id(4)
    assert b.evaluate(arch) == b.evaluate_many([arch])[0]
    assert b.evaluate(arch).metrics == {"params": 4.0, "valid_acc": 4.0, "latency": np.linspace(1, 2, N)[4]}
    assert b.evaluate(arch).cost == 1.0 and b.report_metric == "params"
    assert b.report(arch) == {"test_acc": 12.0, "params": 4.0}  # y has no std column: left out
    assert b.optimum("params") == 0.0 and b.optimum("test_acc") == 15.0
    with pytest.raises(InvalidConfig, match="no report metric 'valid_acc'; choose from test_acc, params"):
        b.optimum("valid_acc")
    x = toy(dataset="x", fidelity=50, report_metric="test_acc")
    assert x.report(arch) == {"test_acc": 96.0, "test_std": 0.1, "params": 7.0} and x.optimum("test_acc") == 100.0
    assert x.optimum("params") == 1.0  # minimised, from the table's recorded optimum
    with pytest.raises(InvalidConfig, match="uncertainty"):
        x.optimum("test_std")
    with pytest.raises(InvalidConfig, match="no training times for y .only x is timed."):
        toy(dataset="y", fidelity=10, cost="time")


def test_seed_mode_one_integers_skips_missing_runs(toy):
    b = toy(dataset="x", fidelity=50, seed_mode="one")
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        for i, arch in enumerate(SPACE.enumerate()):
            ev = b.evaluate(arch, rng=rng)
            if i == 2:  # every run missing: NaN, no seed
                assert math.isnan(ev.metrics["valid_acc"]) and ev.seed is None
                continue
            k = [7, 8, 9].index(ev.seed)
            assert ev.metrics["valid_acc"] == SEEDS[i, k] and not math.isnan(SEEDS[i, k])
            seen.add((i, ev.seed))
    assert {(0, 7), (0, 8), (0, 9), (1, 7), (1, 9)} <= seen and (1, 8) not in seen
    archs = [SPACE.from_id(i) for i in (0, 1, 3, 4, 5)]  # not row 2, whose NaN compares unequal
    one = [b.evaluate(a, rng=np.random.default_rng(1)) for a in archs]
    assert one == [b.evaluate(a, rng=np.random.default_rng(1)) for a in archs]
    r1, r2 = np.random.default_rng(4), np.random.default_rng(4)
    assert b.evaluate_many(archs * 5, rng=r1) == [b.evaluate(a, rng=r2) for a in archs * 5]
    with pytest.raises(InvalidConfig, match="rng="):
        b.evaluate(archs[0])
    with pytest.raises(InvalidConfig, match="no per-seed results at 10 epochs"):
        b.evaluate(archs[0], 10, rng=rng)
    with pytest.raises(InvalidConfig, match="lacks at 10 epochs"):
        toy(dataset="x", fidelity=10, seed_mode="one")


def test_seed_mode_one_uniform_draws_vectorised(toy):
    class Uniform(toy):
        recipe = TableRecipe(**{**RECIPE.__dict__, "seed_draw": "uniform", "multi_fidelity": False, "epochs": (50,)})

    b = Uniform(dataset="x", seed_mode="one")
    assert b.fidelity is None
    archs = [SPACE.from_id(i) for i in (0, 3, 4, 5)] * 20  # rows without a missing run
    one = [b.evaluate(a, rng=np.random.default_rng(3)) for a in archs]
    rng = np.random.default_rng(3)
    loop = [b.evaluate(a, rng=rng) for a in archs]
    assert b.evaluate_many(archs, rng=np.random.default_rng(3)) == loop
    assert one[0] == loop[0] and {e.seed for e in loop} == {7, 8, 9}
    with pytest.raises(InvalidConfig, match="single fidelity .50 epochs.; ask with fidelity=None, not 10"):
        b.evaluate(archs[0], 10, rng=rng)


def test_whole_run_times(toy):
    class RunTime(toy):
        recipe = TableRecipe(**{**RECIPE.__dict__, "train_time": (), "run_time": ("{dataset}/run_time@{epochs}",)})

    b = RunTime(dataset="x", fidelity=50)
    assert b.cost_unit == "s" and [b.query_cost(a) for a in SPACE.enumerate()] == (ROWS * 10).tolist()
    with pytest.raises(InvalidConfig, match="no run times at 10 epochs"):
        b.evaluate(SPACE.from_id(0), 10)
    assert RunTime(dataset="y", fidelity=50).cost_unit == "evaluation"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset": "z"}, "toy has no dataset 'z' (z is held out); choose one of x, y"),
        ({"dataset": "x", "fidelity": 60}, "fidelity 60 is not offered by table 'toy'; choose one of 1..50"),
        ({"dataset": "x", "fidelity": 50, "objective": "loss"}, "no objective 'loss'; choose from valid_acc, params"),
        ({"dataset": "x", "fidelity": 50, "objective": []}, "at least one metric"),
        ({"dataset": "x", "fidelity": 50, "objective": ["params", "params"]}, "repeat a metric"),
        ({"dataset": "x", "fidelity": 50, "seed_mode": "all"}, "seed_mode must be 'mean'"),
        ({"dataset": "x", "fidelity": 50, "cost": "free"}, "cost must be 'auto', 'time' or 'evaluation'"),
        ({"dataset": "x", "fidelity": 50, "extra_objectives": ["x/valid_acc_curve@50"]}, "not a per-architecture column"),
        ({"dataset": "x", "fidelity": 50, "report_metric": "nope"}, "report_metric 'nope' is not a column"),
        ({"dataset": "x", "fidelity": 50, "table": "absent"}, "benchlab data build absent"),
    ],
)
def test_bad_arguments_are_one_line_errors(toy, kwargs, message):
    with pytest.raises(Exception) as err:
        toy(**kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_array_table_and_the_load_table_hook():
    class InMemory(TabularBenchmark):
        name = "in-memory"
        recipe = TableRecipe(table="mem", space=lambda: SPACE, metrics={"acc": Metric("acc")}, report={"acc": "acc"})

        def load_table(self, name):
            return ArrayTable(name, {"acc": np.array([1.0, np.nan, 3.0, np.inf, 2.0, 0.0])}, meta={"provenance": {"p": 1}})

    b = InMemory()
    assert b.fidelity is None and b.provenance == {"p": 1} and b.optimum("acc") == 3.0  # finite values only
    assert [e.metrics["acc"] for e in b.evaluate_many(list(SPACE.enumerate()))][::2] == [1.0, 3.0, 2.0]
    assert b.lookup(np.array([0, 2]), "acc").tolist() == [1.0, 3.0]


@pytest.mark.parametrize("name", ["nb201", "nats-sss", "nas-bench-macro", "channel-bench-macro", "analognas"])
def test_builtin_table_benchmarks_are_recipes_declaring_every_parameter(name):
    cls = BENCHMARKS.get(name)
    assert issubclass(cls, TabularBenchmark) and isinstance(cls.recipe, TableRecipe)
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert sorted(declared_parameters(cls)) == sorted(names)
