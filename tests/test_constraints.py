"""Constraints (hardware-aware NAS): grammar, feasible incumbent and regret, constrained
optimum, Deb's feasibility-first tournament, the constraint-aware strategies and the
``hw-constrained`` protocol on a tiny setting."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from benchlab import InvalidConfig, RunSpec, Strategy, make_strategy
from benchlab.ext import ArrayTable, Column, Constraint, ConstraintSet, Metric, TableRecipe, TabularBenchmark
from benchlab.ext import parse_constraint
from benchlab.testing import ToyBenchmark, ToySpace
from benchlab._runner import run

# -- a hand-checked 18-architecture table --------------------------------------------------
#          id:    0   1    2   3   4
_VALID = [80, 70, 90, 75, 60] + [50.0 + i for i in range(13)]
_TEST = [81, 72, 100, 74, 99] + [60.0 + i for i in range(13)]
_LAT = [9, 3, 8, 5, 1] + [2.0 + 4 * (i % 3) for i in range(13)]  # ms; "latency/dev<=5" keeps 0-based ids 1, 3, 4, ...


class _ToyTable(TabularBenchmark):
    """18 ToySpace cells with a validation/test accuracy and a latency column."""

    name = "toy-table"
    visible_split = "valid"
    recipe = TableRecipe(
        table="toy", space=ToySpace,
        metrics={"valid_acc": Metric("valid", "max", "%")},
        report={"test_acc": "test", "valid_acc": "valid"},
        constraints={"latency/*": "lat/*", "params": "size"},
    )  # fmt: skip

    def __init__(self, constraints=None) -> None:
        super().__init__(report_metric="test_acc", constraints=constraints)

    def load_table(self, name):
        cols = {"valid": np.array(_VALID), "test": np.array(_TEST), "lat/dev": np.array(_LAT, dtype=float),
                "size": np.arange(18, dtype=float) * 1000}  # fmt: skip
        info = {"test": Column("test", "float64", split="test"), "valid": Column("valid", "float64", split="valid")}
        return ArrayTable("toy", cols, info)


class _Scripted(Strategy):
    """Proposes table ids 0, 1, 2, ... in order."""

    name = "_scripted"

    def ask(self):
        return self._trial(self.space.from_id(self._n_asked))


def _run(bench, strategy, n: int = 5, name: str = "_scripted", **kw):
    spec = RunSpec(benchmark="toy-table", strategy=name, max_evaluations=n, **kw)
    return run(spec, benchmark=bench, strategy=strategy)


# -- grammar and validation --------------------------------------------------------------------
def test_parse_constraint():
    assert parse_constraint("latency/pixel3<=12") == Constraint("latency/pixel3", "<=", 12.0)
    assert parse_constraint(" params >= 1e5 ") == Constraint("params", ">=", 1e5)
    assert str(parse_constraint("latency/pixel3<=12.5")) == "latency/pixel3<=12.5"
    for bad in ("latency<12", "latency=12", "<=3", "latency<=abc", "latency<=inf", 12, "a<=1<=2"):
        with pytest.raises(InvalidConfig):
            parse_constraint(bad)


def test_violation_is_relative_and_nan_infeasible():
    c = Constraint("lat", "<=", 5.0)
    assert c.violation(5.0) == 0.0 and c.violation(9.0) == pytest.approx(0.8)
    assert Constraint("p", ">=", 10.0).violation(5.0) == pytest.approx(0.5)
    assert c.violation(math.nan) == math.inf and c.violation(None) == math.inf
    cs = ConstraintSet([c, Constraint("p", ">=", 10.0)])
    assert cs.violation({"lat": 9.0, "p": 5.0}) == pytest.approx(1.3)
    assert cs.is_feasible({"lat": 1.0, "p": 10.0}) and not cs.is_feasible({"lat": 1.0})
    assert not cs.free and not ConstraintSet()
    with pytest.raises(InvalidConfig, match="no free look-up"):
        cs.values((0, 0, 0))


def test_benchmark_validates_constraints():
    with pytest.raises(InvalidConfig, match=r"no constraint metric 'foo'; constraint metrics: latency/dev, params$"):
        _ToyTable(["foo<=1"])
    with pytest.raises(InvalidConfig, match="'test' is a test-split metric: a constraint's value is shown to the strategy"):
        _ToyTable(["test<=1"])
    with pytest.raises(InvalidConfig, match="'test_acc' is a test-split metric"):
        _ToyTable(["test_acc<=1"])
    with pytest.raises(InvalidConfig, match="'valid_acc' is a valid-split"):
        _ToyTable(["valid_acc>=1"])
    with pytest.raises(InvalidConfig, match="leave no feasible architecture"):
        _ToyTable(["latency/dev<=0.5"])
    with pytest.raises(InvalidConfig, match="must be a list"):
        _ToyTable("latency/dev<=5")
    assert not _ToyTable([]).constraint_set and not _ToyTable().constraint_set


def test_constrained_optimum_and_evaluation():
    bench = _ToyTable(["latency/dev<=5"])
    assert bench.optimum("test_acc") == 99.0  # id 2 (test 100) needs 8 ms
    assert bench.unconstrained_optimum("test_acc") == 100.0 == _ToyTable().optimum("test_acc")
    lat = np.array(_LAT)
    assert bench.describe()["feasible_fraction"] == pytest.approx(np.mean(lat <= 5))
    ev = bench.evaluate(bench.space.from_id(0))
    assert ev.metrics == {"valid_acc": 80, "latency/dev": 9.0} and ev.feasible is False
    assert bench.evaluate(bench.space.from_id(3)).feasible is True  # the bound is inclusive
    many = bench.evaluate_many([bench.space.from_id(i) for i in range(5)])
    assert [e.feasible for e in many] == [False, True, False, True, True]
    assert _ToyTable().evaluate(bench.space.from_id(0)).feasible is None
    cs = bench.constraint_set
    assert cs.free and cs.values(bench.space.from_id(2)) == {"latency/dev": 8.0} and not cs.feasible(bench.space.from_id(2))
    assert pickle.loads(pickle.dumps(cs)).feasible(bench.space.from_id(4))


# -- harness: feasible incumbent, feasible regret, feasibility rate ---------------------------
def test_feasible_incumbent_and_regret_hand_checked():
    bench = _ToyTable(["latency/dev<=5"])
    strat = _Scripted()
    res = _run(bench, strat)
    c, s = res.columns, res.summary
    assert s["status"] == "ok"
    assert c["feasible"].tolist() == [False, True, False, True, True]
    assert c["violation"].tolist() == pytest.approx([0.8, 0.0, 0.6, 0.0, 0.0])
    assert c["constraint:latency/dev"].tolist() == [9, 3, 8, 5, 1]
    # no incumbent before the first feasible result: regret undefined (NaN), never 0
    assert math.isnan(c["regret"][0]) and c["incumbent"][0] == "" and math.isnan(c["incumbent_test"][0])
    # then the best feasible by validation: id 1 (70), id 1 (id 2 is infeasible), id 3 (75), id 3 (id 4 has 60)
    assert c["incumbent_test"][1:].tolist() == [72, 72, 74, 74]
    assert c["regret"][1:].tolist() == pytest.approx([27, 27, 25, 25])  # constrained optimum 99
    assert s["optimum"] == 99.0 and s["unconstrained_optimum"] == 100.0
    assert s["n_feasible"] == 3 and s["feasibility_rate"] == pytest.approx(0.6) and s["first_feasible_eval"] == 2
    assert s["final"]["regret"] == pytest.approx(25) and s["constraints"] == ["latency/dev<=5"]
    assert strat.recommend() == bench.space.from_id(3)  # the strategy's incumbent is feasible too
    assert s["benchmark"]["constraints"] == ["latency/dev<=5"]


def test_run_without_feasible_result_has_no_regret():
    bench = _ToyTable(["latency/dev<=5"])
    res = _run(bench, _Scripted(), n=1)
    assert res.summary["final"]["regret"] is None and res.summary["feasibility_rate"] == 0.0
    assert res.summary["first_feasible_eval"] is None and math.isnan(res.columns["regret"][0])


def test_unconstrained_run_has_no_constraint_columns():
    res = _run(_ToyTable(), _Scripted())
    assert "feasible" not in res.columns and "constraints" not in res.summary
    assert res.columns["regret"].tolist() == pytest.approx([19, 19, 0, 0, 0])  # id 2 (valid 90) has test 100


# -- strategies ---------------------------------------------------------------------------------
class _Marker:
    """A stand-in space whose mutation names its parent, for tournament tests."""

    name = "marker"

    def mutate(self, arch, rng):
        return ("child", arch)


class _CycleRng:
    """``index(n)`` cycles 0, 1, ..., n-1: a tournament that sees every member."""

    def __init__(self) -> None:
        self.i = -1

    def index(self, n: int) -> int:
        self.i += 1
        return self.i % n


def _tournament_parent(members) -> object:
    """The parent the feasibility-first tournament picks among ``members``
    (``(arch, valid_acc, latency)``) under ``latency<=5``."""
    s = make_strategy("constrained_regularized_evolution", {"population_size": len(members), "sample_size": len(members)})
    cs = ConstraintSet([Constraint("lat", "<=", 5.0)])
    s.setup(ToySpace(), ToyBenchmark().objectives, None, seed=0, constraints=cs)
    from benchlab import Evaluation, Trial

    for i, (arch, acc, lat) in enumerate(members):
        s.tell(Trial(i, arch), Evaluation({"valid_acc": acc, "lat": lat}, 1.0, feasible=cs.is_feasible({"lat": lat})))
    s.space, s.rng = _Marker(), _CycleRng()
    return s.ask().arch[1]


def test_feasibility_first_tournament():
    from benchlab.strategies.constrained import deb_key

    assert deb_key(50.0, 0.0) > deb_key(99.0, 0.1) > deb_key(100.0, 0.5)  # feasible first, then less violation
    assert deb_key(60.0, 0.0) > deb_key(50.0, 0.0)
    # feasible A beats infeasible B (better accuracy, small violation) and C
    assert _tournament_parent([("B", 99.0, 5.5), ("A", 50.0, 4.0), ("C", 100.0, 7.5)]) == "A"
    # two infeasible: the smaller total violation wins, whatever the accuracy
    assert _tournament_parent([("C", 100.0, 7.5), ("B", 10.0, 5.5)]) == "B"
    # all feasible: plain tournament by accuracy
    assert _tournament_parent([("A", 50.0, 1.0), ("D", 70.0, 2.0)]) == "D"


@pytest.mark.parametrize("name", ["constrained_random_search", "constrained_regularized_evolution", "constrained_gp_bo"])
def test_constraint_aware_strategies_propose_only_feasible_with_free_lookup(name):
    bench = _ToyTable(["latency/dev<=5"])
    kwargs = {"num_init": 3, "num_candidates": 8} if name == "constrained_gp_bo" else {}
    if name == "constrained_regularized_evolution":
        kwargs = {"population_size": 4, "sample_size": 2}
    res = _run(bench, make_strategy(name, kwargs), n=8, name=name)  # 8 of the 18 cells are feasible
    assert res.summary["status"] == "ok", res.summary["error"]
    assert res.columns["feasible"].all()
    again = _run(bench, make_strategy(name, kwargs), n=8, name=name)
    assert again.columns["arch"] == res.columns["arch"]  # deterministic under the run seed


@pytest.mark.parametrize("name", ["constrained_regularized_evolution", "constrained_gp_bo"])
def test_constraint_aware_strategies_without_lookup_resume_after_pickle(name):
    bench = _ToyTable(["latency/dev<=5"])
    kwargs = {"num_init": 3, "num_candidates": 8, "use_lookup": False} if name == "constrained_gp_bo" else {
        "population_size": 4, "sample_size": 2, "reject_infeasible": False}  # fmt: skip
    cs = ConstraintSet(bench.constraint_set.constraints)  # feasibility known only after an evaluation
    s = make_strategy(name, kwargs).setup(bench.space, bench.objectives, bench.fidelity, seed=3, constraints=cs)

    def steps(strategy, n):
        out = []
        for _ in range(n):
            t = strategy.ask()
            out.append(t.arch)
            strategy.tell(t, bench.evaluate(t.arch))
        return out

    steps(s, 8)
    copy = pickle.loads(pickle.dumps(s))
    assert steps(s, 6) == steps(copy, 6)


@pytest.mark.parametrize("name, base, kwargs", [
    ("constrained_random_search", "random_search", {}),
    ("constrained_regularized_evolution", "regularized_evolution", {}),
    ("constrained_gp_bo", "gp_bo", {"num_init": 3, "num_candidates": 10}),
])  # fmt: skip
def test_without_constraints_identical_to_base(name, base, kwargs):
    spec = dict(benchmark="toy", max_evaluations=15, seed=1)
    a = run(RunSpec(strategy="x", **spec), benchmark=ToyBenchmark(), strategy=make_strategy(name, kwargs))
    b = run(RunSpec(strategy="x", **spec), benchmark=ToyBenchmark(), strategy=make_strategy(base, kwargs))
    assert a.columns["arch"] == b.columns["arch"]


# -- nb201 and the protocol ------------------------------------------------------------------
def test_nb201_constraints(nb201_data):
    from benchlab import make_benchmark

    bench = make_benchmark("nb201", {"constraints": ["latency/pixel3<=4.1331"]}, cache=False)
    assert "latency/pixel3" in bench.constraint_metrics() and "params" in bench.constraint_metrics()
    assert 0.14 < bench.describe()["feasible_fraction"] < 0.16
    assert bench.optimum(bench.report_metric) < bench.unconstrained_optimum(bench.report_metric)
    with pytest.raises(InvalidConfig, match=r"'cifar10/test_acc@200' is a test-split metric.*latency/pixel3"):
        make_benchmark("nb201", {"constraints": ["cifar10/test_acc@200<=90"]}, cache=False)
    with pytest.raises(InvalidConfig, match="has no constraint metric 'latency/nodevice'"):
        make_benchmark("nb201", {"constraints": ["latency/nodevice<=4"]}, cache=False)
    params = make_benchmark("nb201", {"constraints": ["params<=5e5"], "dataset": "cifar100"}, cache=False)
    ev = params.evaluate(params.space.from_id(0))
    assert set(ev.metrics) == {"valid_acc", "params"} and isinstance(ev.feasible, bool)


def test_hw_constrained_protocol_tiny(nb201_data, tmp_path):
    from benchlab.ext import PROTOCOLS
    from benchlab.benchmarks.nb201._hw import budgets, hw_constrained

    assert PROTOCOLS.get("hw-constrained").default_runs == 50
    settings = budgets(("pixel3",), (0.10, 0.15, 0.50))
    assert [round(s["feasible_fraction"], 2) for s in settings] == [0.10, 0.15, 0.50]
    out = hw_constrained(runs=2, root=tmp_path, progress=False, devices=("pixel3",), quantiles=(0.15,),
                         strategies=["RS", "REA", "C-REA"], evaluations=12)  # fmt: skip
    for key in ("markdown", "csv", "plot"):
        assert out[key].is_file() and out[key].stat().st_size > 0
    text = out["markdown"].read_text()
    assert "latency/pixel3<=4.1331" in text and "feasibility rate" in text and "Acceptance check" in text
    rows = {r["strategy"]: r for r in out["rows"]}
    assert rows["C-REA"]["feasibility_rate_mean"] == 1.0 and rows["RS"]["runs"] == 2
    assert out["csv"].read_text().splitlines()[0].startswith("setting,device,constraint")
