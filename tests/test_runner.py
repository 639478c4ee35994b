"""The runner: budgets, determinism, incumbents/regret, failures and the simulated clock."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

import benchlab
from benchlab import Benchmark, Evaluation, Objective, RunSpec, Strategy, read_summary, read_trials, run, write_run
from benchlab.benchmarks.nb201 import NB201Space

# --------------------------------------------------------------------------- helpers


class ToyBench(Benchmark):
    """NB201 cells with synthetic, fully known metrics.

    validation value = (id * 7919 % 1000) / 10, test value = validation + (id % 13) / 100
    (so validation and test rank differently), cost = ``costs[id]`` or 1 + id % 5; ids in
    ``nan_ids`` have NaN validation values.
    """

    name = "toy"

    def __init__(self, direction="max", costs=None, nan_ids=()):
        self.space = NB201Space()
        self.objectives = (Objective("acc", direction, "%"),)
        self.fidelity = None
        self.costs = dict(costs or {})
        self.nan_ids = set(nan_ids)
        self.evaluated = []

    def valid(self, i: int) -> float:
        return (i * 7919 % 1000) / 10

    def test_value(self, i: int) -> float:
        return self.valid(i) + (i % 13) / 100

    def evaluate(self, arch, fidelity=None, *, rng=None):
        i = self.space.to_id(arch)
        self.evaluated.append(i)
        value = math.nan if i in self.nan_ids else self.valid(i)
        return Evaluation({"acc": value}, float(self.costs.get(i, 1 + i % 5)))

    def report(self, arch):
        return {"acc": self.test_value(self.space.to_id(arch))}

    def optimum(self, metric):
        values = [self.test_value(i) for i in range(15625)]
        return max(values) if self.objectives[0].direction == "max" else min(values)


class FixedList(Strategy):
    """Proposes ``ids`` in order, then None; records the order results are told in."""

    def __init__(self, ids=(), fail_at=None, fail_in="ask"):
        self.ids = ids
        self.fail_at = fail_at
        self.fail_in = fail_in

    def _setup(self):
        self.told = []

    def ask(self):
        if self.fail_in == "ask" and self.fail_at is not None and self._n_asked == self.fail_at:
            raise RuntimeError(f"boom at ask {self._n_asked}")
        if self._n_asked >= len(self.ids):
            return None
        return self._trial(self.space.from_id(self.ids[self._n_asked]))

    def _tell(self, trial, evaluation, score):
        if self.fail_in == "tell" and self.fail_at is not None and len(self.told) == self.fail_at:
            raise ValueError("boom in tell")
        self.told.append(trial.id)


def _spec(**kw) -> RunSpec:
    base = dict(benchmark="analognas", strategy="random_search", max_evaluations=200)
    base.update(kw)
    return RunSpec(**base)


def _toy_run(ids, costs=None, **kw):
    bench = ToyBench(costs=costs)
    strat = FixedList(ids=list(ids))
    result = run(_spec(benchmark="toy", strategy="fixed", **kw), benchmark=bench, strategy=strat)
    return result, strat


def _recompute(values: np.ndarray, sign: float):
    """Reference incumbents: the first row holding the best score so far (NaN never wins)."""
    best, best_i, out = -math.inf, None, []
    for i, v in enumerate(values):
        s = -math.inf if math.isnan(v) else sign * v
        if best_i is None or s > best:
            best, best_i = s, i
        out.append(best_i)
    return out


@pytest.fixture(scope="module")
def analognas():
    return benchlab.make_benchmark("analognas")


# --------------------------------------------------------------------------- budget, determinism


@pytest.mark.parametrize("strategy", ["random_search", "regularized_evolution"])
def test_budget_is_respected(strategy):
    result = run(_spec(strategy=strategy, max_evaluations=137))
    cols, summary = result.columns, result.summary
    assert summary["status"] == "ok" and summary["error"] is None
    assert summary["n_evaluations"] == 137 == len(cols["eval"])
    assert summary["stop_reason"] == "max_evaluations"
    assert cols["eval"].tolist() == list(range(1, 138))
    assert len(cols["arch"]) == 137
    assert summary["simulated_time"] == 137.0  # analognas costs one unit per query


def test_identical_bytes_across_runs(tmp_path):
    spec = _spec(strategy="regularized_evolution", max_evaluations=300, seed=4, repeat=2)
    write_run(tmp_path / "a", run(spec))
    write_run(tmp_path / "b", run(spec))
    a = (tmp_path / "a" / "trials.parquet").read_bytes()
    b = (tmp_path / "b" / "trials.parquet").read_bytes()
    assert a == b
    assert (tmp_path / "a" / "spec.json").read_bytes() == (tmp_path / "b" / "spec.json").read_bytes()
    sa, sb = read_summary(tmp_path / "a"), read_summary(tmp_path / "b")
    sa.pop("wall_time_s"), sb.pop("wall_time_s")
    assert sa == sb
    # ... and a different repeat really is a different run
    write_run(tmp_path / "c", run(_spec(strategy="regularized_evolution", max_evaluations=300, seed=4, repeat=3)))
    assert (tmp_path / "c" / "trials.parquet").read_bytes() != a


def test_identical_with_four_workers(tmp_path):
    spec = _spec(benchmark="toy", strategy="regularized_evolution", max_evaluations=120, n_workers=4)
    for name in "ab":
        write_run(tmp_path / name, run(spec, benchmark=ToyBench(), strategy=benchlab.make_strategy(spec.strategy)))
    assert (tmp_path / "a" / "trials.parquet").read_bytes() == (tmp_path / "b" / "trials.parquet").read_bytes()


def test_trials_file_reads_back(tmp_path):
    result = run(_spec(max_evaluations=25))
    write_run(tmp_path, result)
    df = read_trials(tmp_path)
    assert list(df.columns) == list(result.columns)
    assert len(df) == 25
    assert df["arch"].tolist() == result.columns["arch"]
    np.testing.assert_array_equal(df["value"].to_numpy(), result.columns["value"])


def test_global_rng_untouched():
    np_state = np.random.get_state()
    py_state = random.getstate()
    run(_spec(strategy="regularized_evolution", max_evaluations=100))
    run(_spec(strategy="random_search", max_evaluations=100, n_workers=3))
    after = np.random.get_state()
    assert random.getstate() == py_state
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1]) and np_state[2:] == after[2:]


def test_exhaustion_stops_the_run():
    result = run(_spec(strategy_kwargs={"replace": False}, max_evaluations=20000))
    assert result.summary["stop_reason"] == "exhausted"
    assert result.summary["n_evaluations"] == 15625
    assert len(set(result.columns["arch"])) == 15625
    assert result.summary["final"]["regret"] == 0.0


# --------------------------------------------------------------------------- incumbents and regret


@pytest.mark.parametrize("strategy", ["random_search", "regularized_evolution"])
def test_incumbent_and_regret_columns(analognas, strategy):
    result = run(_spec(strategy=strategy, max_evaluations=400, seed=1))
    cols = result.columns
    values = cols["value"]
    space = analognas.space
    archs = [space.from_str(s) for s in cols["arch"]]
    ref = _recompute(values, 1.0)
    assert cols["incumbent"] == [cols["arch"][i] for i in ref]
    np.testing.assert_array_equal(cols["incumbent_value"], values[ref])
    np.testing.assert_array_equal(cols["incumbent_value"], np.maximum.accumulate(values))
    test = np.array([analognas.report(archs[i])["baseline_accuracy"] for i in ref])
    np.testing.assert_array_equal(cols["incumbent_test"], test)
    optimum = analognas.optimum("baseline_accuracy")
    np.testing.assert_allclose(cols["regret"], optimum - test, rtol=0, atol=1e-12)
    assert (cols["regret"] >= 0).all()
    assert (np.diff(cols["regret"]) <= 0).all()  # visible metric == report metric here
    final = result.summary["final"]
    assert final["incumbent"] == cols["incumbent"][-1]
    assert final["regret"] == cols["regret"][-1]
    assert result.summary["optimum"] == optimum
    assert result.summary["recommended"]["arch"] == final["incumbent"]


@pytest.mark.parametrize("direction", ["max", "min"])
def test_regret_uses_the_report_of_the_incumbent(direction):
    bench = ToyBench(direction=direction)
    ids = [int(i) for i in np.random.default_rng(3).permutation(15625)[:300]]
    result = run(_spec(benchmark="toy", strategy="fixed"), benchmark=bench, strategy=FixedList(ids=ids))
    cols = result.columns
    sign = 1.0 if direction == "max" else -1.0
    ref = _recompute(cols["value"], sign)
    assert [bench.space.to_id(bench.space.from_str(a)) for a in cols["incumbent"]] == [ids[i] for i in ref]
    test = np.array([bench.test_value(ids[i]) for i in ref])
    np.testing.assert_array_equal(cols["incumbent_test"], test)
    np.testing.assert_allclose(cols["regret"], sign * (bench.optimum("acc") - test), atol=1e-12)
    assert (cols["regret"] >= -1e-12).all()


def test_nan_never_becomes_incumbent():
    ids = list(range(100, 160))
    nan_ids = set(ids[0:3]) | set(ids[10:40:2])  # the first three results are NaN
    bench = ToyBench(nan_ids=nan_ids)
    strat = FixedList(ids=ids)
    result = run(_spec(benchmark="toy", strategy="fixed"), benchmark=bench, strategy=strat)
    cols = result.columns
    assert np.isnan(cols["value"][:3]).all()
    inc = [bench.space.to_id(bench.space.from_str(a)) for a in cols["incumbent"]]
    for row, i in enumerate(inc):
        if row >= 3:
            assert i not in nan_ids
            assert np.isfinite(cols["incumbent_value"][row])
    finite = [bench.valid(i) for i in ids if i not in nan_ids]
    assert cols["incumbent_value"][-1] == max(finite)
    assert result.summary["final"]["incumbent_value"] == max(finite)
    # the strategy's own incumbent agrees with the harness
    assert result.summary["recommended"]["arch"] == result.summary["final"]["incumbent"]


def test_all_nan_run_still_completes():
    ids = list(range(10))
    result = run(_spec(benchmark="toy", strategy="fixed"), benchmark=ToyBench(nan_ids=ids), strategy=FixedList(ids=ids))
    assert result.summary["status"] == "ok"
    assert result.summary["n_evaluations"] == 10
    assert np.isnan(result.columns["value"]).all()


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("n_workers", [1, 3])
@pytest.mark.parametrize("fail_in", ["ask", "tell"])
def test_failing_strategy_keeps_finished_evaluations(tmp_path, n_workers, fail_in):
    bench = ToyBench(costs={i: 1.0 for i in range(20)})
    strat = FixedList(ids=list(range(20)), fail_at=7, fail_in=fail_in)
    result = run(_spec(benchmark="toy", strategy="fixed", n_workers=n_workers), benchmark=bench, strategy=strat)
    s = result.summary
    assert s["status"] == "error"
    assert s["stop_reason"] == "error"
    err = s["error"]
    assert err["type"] == ("RuntimeError" if fail_in == "ask" else "ValueError")
    assert "boom" in err["message"]
    assert "Traceback" in err["traceback"] and "boom" in err["traceback"]
    n = len(result.columns["eval"])
    assert s["n_evaluations"] == n
    # every finished evaluation is kept, nothing more. With 3 workers and unit costs, asks
    # run ahead: trials 5 and 6 are still running when ask 7 fails. When the 8th tell
    # raises, its evaluation had finished, so it is kept too.
    if fail_in == "tell":
        assert len(strat.told) == 7 and n == 8
        assert result.columns["trial"].tolist()[:7] == strat.told
    else:
        assert n == len(strat.told) == (7 if n_workers == 1 else 5)
        assert result.columns["trial"].tolist() == strat.told
    assert s["final"] is not None and s["final"]["incumbent"] in result.columns["arch"]
    write_run(tmp_path, result)
    assert read_summary(tmp_path)["status"] == "error"
    assert len(read_trials(tmp_path)) == n


# --------------------------------------------------------------------------- simulated clock


def _check_schedule(cols, n_workers):
    start, end, cost, worker = cols["start"], cols["end"], cols["cost"], cols["worker"]
    np.testing.assert_array_equal(end, start + cost)
    assert (np.diff(end) >= 0).all()  # told in order of finish time
    assert set(worker.tolist()) <= set(range(n_workers))
    for w in range(n_workers):
        rows = np.flatnonzero(worker == w)
        order = rows[np.argsort(start[rows], kind="stable")]
        assert (start[order][1:] >= end[order][:-1]).all(), f"worker {w} runs two trials at once"
    # a worker is never idle while trials wait: every start is 0 or the end of another trial
    ends = set(end.tolist())
    assert all(s == 0.0 or s in ends for s in start.tolist())


def test_parallel_workers_schedule():
    ids = [int(i) for i in np.random.default_rng(0).permutation(15625)[:400]]
    costs = {i: float(1 + (i * 31) % 17) for i in ids}
    one, _ = _toy_run(ids, costs, max_evaluations=400)
    four, strat = _toy_run(ids, costs, max_evaluations=400, n_workers=4)
    c1, c4 = one.columns, four.columns
    _check_schedule(c1, 1)
    _check_schedule(c4, 4)
    assert (c1["worker"] == 0).all()
    assert set(c4["worker"].tolist()) == {0, 1, 2, 3}
    assert c4["trial"].tolist() == strat.told  # rows are the tell order
    assert sorted(c4["trial"].tolist()) == list(range(400))
    total1 = float(c1["end"][-1])
    total4 = float(c4["end"].max())
    assert total1 == sum(costs[i] for i in ids)
    assert total4 < total1
    assert total4 >= total1 / 4
    assert four.summary["simulated_time"] == total4
    # with varying costs, finish order differs from ask order
    assert c4["trial"].tolist() != sorted(c4["trial"].tolist())


def test_hand_computed_schedule():
    # costs 3, 1, 2.5, 5, 1 on two workers (lowest free worker id first):
    # t=0   trial0 -> w0 [0, 3],  trial1 -> w1 [0, 1]
    # t=1   trial1 done; trial2 -> w1 [1, 3.5]
    # t=3   trial0 done; trial3 -> w0 [3, 8]
    # t=3.5 trial2 done; trial4 -> w1 [3.5, 4.5]
    # t=4.5 trial4 done (budget of 5 reached); t=8 trial3 done
    ids = [10, 11, 12, 13, 14, 15]
    costs = dict(zip(ids, [3.0, 1.0, 2.5, 5.0, 1.0, 1.0]))
    result, strat = _toy_run(ids, costs, max_evaluations=5, n_workers=2)
    cols = result.columns
    assert cols["trial"].tolist() == [1, 0, 2, 4, 3]
    assert cols["worker"].tolist() == [1, 0, 1, 1, 0]
    assert cols["start"].tolist() == [0.0, 0.0, 1.0, 3.5, 3.0]
    assert cols["end"].tolist() == [1.0, 3.0, 3.5, 4.5, 8.0]
    assert cols["eval"].tolist() == [1, 2, 3, 4, 5]
    assert strat.told == [1, 0, 2, 4, 3]
    assert result.summary["simulated_time"] == 8.0
    assert result.summary["stop_reason"] == "max_evaluations"


@pytest.mark.parametrize(
    "n_workers, max_seconds, told",
    [
        # two workers: (start, end) = (0, 3) (0, 1) (1, 3.5) (3, 8) (3.5, 4.5) (4.5, 5.5)
        (2, 4.0, 3),  # the trial ending at 4.5 started in time but finishes too late
        (2, 3.5, 3),  # a result finishing exactly at the budget counts
        (2, 5.5, 5),
        (2, 100.0, 6),
        # one worker: ends at 3, 4, 6.5, 11.5, 12.5, 13.5
        (1, 6.5, 3),
        (1, 11.4, 3),  # the 4th trial would overrun the budget: not observed (NB201 protocol)
        (1, 0.5, 0),
    ],
)
def test_max_seconds_budget(n_workers, max_seconds, told):
    ids = [10, 11, 12, 13, 14, 15]
    costs = dict(zip(ids, [3.0, 1.0, 2.5, 5.0, 1.0, 1.0]))
    result, _ = _toy_run(ids, costs, max_evaluations=None, max_seconds=max_seconds, n_workers=n_workers)
    cols = result.columns
    assert len(cols["eval"]) == told
    assert (cols["end"] <= max_seconds).all()
    assert result.summary["stop_reason"] == ("exhausted" if told == 6 else "max_seconds")


@pytest.mark.parametrize("n_workers", [1, 4])
def test_max_seconds_with_random_search(n_workers):
    spec = _spec(benchmark="toy", max_evaluations=None, max_seconds=500.0, n_workers=n_workers)
    result = run(spec, benchmark=ToyBench(), strategy=benchlab.make_strategy("random_search"))
    cols = result.columns
    assert (cols["end"] <= 500.0).all()
    assert cols["end"].max() > 500.0 - 5.0  # it ran until the budget was used up (costs are 1..5)
    assert result.summary["stop_reason"] == "max_seconds"
    _check_schedule(cols, n_workers)
    if n_workers == 4:  # four workers get through about four times as many evaluations
        assert len(cols["eval"]) > 3 * 500 / 5


def test_both_budgets_whichever_ends_first():
    ids = list(range(50))
    costs = {i: 1.0 for i in ids}
    r, _ = _toy_run(ids, costs, max_evaluations=10, max_seconds=20.0)
    assert len(r.columns["eval"]) == 10 and r.summary["stop_reason"] == "max_evaluations"
    r, _ = _toy_run(ids, costs, max_evaluations=30, max_seconds=20.0)
    assert len(r.columns["eval"]) == 20 and r.summary["stop_reason"] == "max_seconds"


def test_incumbent_prefers_the_highest_fidelity():
    from benchlab._runner import _incumbents

    values = np.array([80.0, 90.0, 85.0, 95.0, np.nan, 84.0])
    fidelity = np.array([12.0, 12.0, 200.0, 12.0, 200.0, 200.0])
    # 85@200 beats the better-looking 90@12; the later 95@12 does not dethrone it; NaN never wins
    assert _incumbents(values, 1.0, fidelity).tolist() == [0, 1, 2, 2, 2, 2]
    # single fidelity (or none): plain running best, first on ties
    assert _incumbents(values, 1.0, np.full(6, 200.0)).tolist() == [0, 1, 1, 3, 3, 3]
    assert _incumbents(values, 1.0, np.full(6, np.nan)).tolist() == [0, 1, 1, 3, 3, 3]
    assert _incumbents(values, -1.0, fidelity).tolist() == [0, 0, 2, 2, 2, 5]


def test_hand_computed_schedule_four_workers():
    # costs 3, 1, 2.5, 5, 1, 1 on four workers (lowest free worker id first):
    # t=0   trial0 -> w0 [0, 3], trial1 -> w1 [0, 1], trial2 -> w2 [0, 2.5], trial3 -> w3 [0, 5]
    # t=1   trial1 done; trial4 -> w1 [1, 2]
    # t=2   trial4 done; trial5 -> w1 [2, 3]  (6 trials started: the budget)
    # t=2.5 trial2 done; t=3 trial0 and trial5 done (tie: started first, told first); t=5 trial3
    ids = [10, 11, 12, 13, 14, 15]
    costs = dict(zip(ids, [3.0, 1.0, 2.5, 5.0, 1.0, 1.0]))
    result, strat = _toy_run(ids, costs, max_evaluations=6, n_workers=4)
    cols = result.columns
    assert cols["trial"].tolist() == [1, 4, 2, 0, 5, 3]
    assert cols["worker"].tolist() == [1, 1, 2, 0, 1, 3]
    assert cols["start"].tolist() == [0.0, 1.0, 0.0, 0.0, 2.0, 0.0]
    assert cols["end"].tolist() == [1.0, 2.0, 2.5, 3.0, 3.0, 5.0]
    assert strat.told == [1, 4, 2, 0, 5, 3]
    one, _ = _toy_run(ids, costs, max_evaluations=6, n_workers=1)
    assert result.summary["simulated_time"] == 5.0 < one.summary["simulated_time"] == 13.5


# --------------------------------------------------------------------------- one loop, three modes


class WaitsForResults(FixedList):
    """Proposes ``ids`` in order, but nothing (None) while a trial of its is still running."""

    def _setup(self):
        super()._setup()
        self.asks = 0

    def ask(self):
        self.asks += 1
        if self._n_asked > len(self.told):
            return None
        return super().ask()


@pytest.mark.parametrize("strategy", ["fixed", "regularized_evolution"])
def test_one_worker_is_the_same_run_in_every_mode(strategy):
    """Sequential, asynchronous and synchronous scheduling coincide for one worker."""
    ids = [int(i) for i in np.random.default_rng(3).permutation(15625)[:60]]
    costs = {i: float(1 + (i * 31) % 17) for i in ids}
    results = []
    for sync in (False, True):
        bench = ToyBench(costs=costs)
        strat = FixedList(ids=ids) if strategy == "fixed" else benchlab.make_strategy(strategy)
        spec = _spec(benchmark="toy", strategy=strategy, max_evaluations=50, max_seconds=400.0, sync=sync)
        results.append(run(spec, benchmark=bench, strategy=strat))
    a, s = results
    assert a.columns.keys() == s.columns.keys()
    for key in a.columns:
        np.testing.assert_array_equal(np.asarray(a.columns[key]), np.asarray(s.columns[key]), err_msg=key)
    assert (a.columns["worker"] == 0).all()
    assert a.columns["start"][1:].tolist() == a.columns["end"][:-1].tolist()  # back to back
    assert a.summary["stop_reason"] == s.summary["stop_reason"]


def test_nothing_to_propose_async_asks_again_sync_ends_after_the_batch():
    costs = {i: 1.0 + i for i in range(6)}
    bench = ToyBench(costs=costs)
    strat = WaitsForResults(ids=list(range(6)))
    result = run(_spec(benchmark="toy", strategy="waits", n_workers=3), benchmark=bench, strategy=strat)
    # asynchronous: one trial at a time on worker 0, asked again after every result
    assert result.columns["trial"].tolist() == list(range(6))
    assert result.columns["worker"].tolist() == [0] * 6
    assert result.summary["stop_reason"] == "exhausted"
    strat = WaitsForResults(ids=list(range(6)))
    result = run(_spec(benchmark="toy", strategy="waits", n_workers=3, sync=True), benchmark=bench, strategy=strat)
    # synchronous: a batch the strategy cannot fill is the last one
    assert result.columns["trial"].tolist() == [0]
    assert result.summary["stop_reason"] == "exhausted"


def test_charged_and_bad_costs_in_every_mode():
    class Charging(FixedList):
        def ask(self):
            trial = super().ask()
            if trial is None:
                return None
            return dataclasses.replace(trial, cost=math.inf if trial.id == 3 else 2.0)

    for n_workers, sync in ((1, False), (3, False), (3, True)):
        spec = _spec(benchmark="toy", strategy="charging", n_workers=n_workers, sync=sync)
        result = run(spec, benchmark=ToyBench(), strategy=Charging(ids=list(range(3))))
        assert result.columns["cost"].tolist() == [2.0, 2.0, 2.0]  # the strategy's cost, not the table's
        result = run(spec, benchmark=ToyBench(), strategy=Charging(ids=list(range(5))))
        assert result.summary["status"] == "error" and "Trial.cost must be finite" in result.summary["error"]["message"]


# --------------------------------------------------------------------------- start-up


def test_listing_strategies_and_benchmarks_loads_no_heavy_module():
    """scipy, scikit-learn, optuna, torch, pandas, pyarrow and matplotlib load only when a
    component that needs them is built or run; the runner and experiment modules on first use."""
    import subprocess
    import sys

    heavy = ("scipy", "sklearn", "optuna", "torch", "pandas", "pyarrow", "matplotlib",
             "benchlab._experiment", "benchlab._config", "multiprocessing")  # fmt: skip
    code = (
        "import sys, benchlab; benchlab.STRATEGIES.names(); benchlab.BENCHMARKS.names(); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import benchlab; from benchlab import Experiment, run, RunSpec; print(Experiment.__module__, run.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["benchlab._experiment", "benchlab._runner"]
