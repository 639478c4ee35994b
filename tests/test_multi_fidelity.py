"""Multi-fidelity strategies: rung schedules, continuation charges, ASHA promotion, BOHB's KDE."""

from __future__ import annotations

import math

import numpy as np
import pytest

import benchlab
from benchlab import (
    CategoricalSpace,
    Evaluation,
    Fidelity,
    InvalidConfig,
    Objective,
    RunSpec,
)
from benchlab.testing import ToyBenchmark, ToySpace
from benchlab.strategies._kde import CategoricalKDE
from benchlab.strategies.multi_fidelity import (
    ASHA,
    BOHB,
    Hyperband,
    SuccessiveHalving,
    bracket_schedule,
    rung_ladder,
)

OBJ = (Objective("valid_acc", "max"),)


def test_hyperband_table_eta3_r81():
    """Li et al. (JMLR 2018) Table 1: R = 81, eta = 3; (n_i, r_i) of brackets s = 4..0."""
    rungs = rung_ladder(tuple(range(1, 82)), 1, 81, 3)
    assert rungs == (1, 3, 9, 27, 81)
    paper = {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    for s, expected in paper.items():
        assert [(n, rungs[r]) for n, r in bracket_schedule(len(rungs), 3, s)] == expected


def test_hyperband_asks_follow_the_table():
    """The strategy itself: with every result told at once, bracket s=4 asks 81 configs at
    1 epoch, then promotes 27, 9, 3, 1; then bracket s=3 starts 34 at 3 epochs."""
    hb = Hyperband().setup(CategoricalSpace([("a", range(5))] * 6), OBJ, Fidelity("epochs", tuple(range(1, 82)), 81), seed=0)
    per_rung = []
    for _ in range(5):
        batch = []
        while (t := hb.ask()) is not None:
            batch.append(t)
        per_rung.append((len(batch), {t.fidelity for t in batch}, {t.resume_from for t in batch}))
        for t in batch:
            hb.tell(t, Evaluation({"valid_acc": float(sum(t.arch))}, 1.0, t.fidelity))
    assert per_rung == [(81, {1}, {None}), (27, {3}, {1}), (9, {9}, {3}), (3, {27}, {9}), (1, {81}, {27})]
    t = hb.ask()
    assert t.fidelity == 3 and t.resume_from is None and hb._bracket.counts == [34, 11, 3, 1]


def test_rungs_on_nb201_axes():
    assert rung_ladder((12, 200), 12, 200, 3) == (12, 200)
    assert rung_ladder(tuple(range(1, 201)), 1, 200, 3) == (2, 7, 22, 67, 200)
    assert rung_ladder((1, 4, 12), 1, 12, 3) == (1, 4, 12)
    assert rung_ladder((12, 200), 12, 12, 3) == (12,)


def test_successive_halving_promotes_the_top_third():
    space = CategoricalSpace([("a", range(5))] * 4)
    sh = SuccessiveHalving(n_configs=9).setup(space, OBJ, Fidelity("epochs", (1, 3, 9), 9), seed=1)
    first = [sh.ask() for _ in range(9)]
    assert sh.ask() is None  # the rung waits for its results
    scores = {t.arch: float(i) for i, t in enumerate(first)}
    for t in reversed(first):  # told out of order
        sh.tell(t, Evaluation({"valid_acc": scores[t.arch]}, 1.0, 1))
    promoted = [sh.ask() for _ in range(3)]
    assert sh.ask() is None
    assert [t.arch for t in promoted] == [first[8].arch, first[7].arch, first[6].arch]
    assert {(t.fidelity, t.resume_from) for t in promoted} == {(3, 1)}


def _run(name, kwargs, bench, n=120, workers=1):
    spec = RunSpec(benchmark="toy", strategy=name, strategy_kwargs=kwargs, max_evaluations=n, n_workers=workers)
    res = benchlab.run(spec, benchmark=bench)
    assert res.summary["status"] == "ok", res.summary["error"]
    return res


@pytest.mark.parametrize("name", ["successive_halving", "hyperband", "bohb", "asha"])
def test_continuation_charges_the_cost_difference(name):
    """ToyBenchmark: cost(arch, f) = c(arch) * f / 12 on epochs (1, 4, 12)."""
    bench = ToyBenchmark(guard=False)
    full = {a: bench.query_cost(a, 12) for a in bench.space.enumerate()}
    for cont in (True, False):
        res = _run(name, {"continue_training": cont}, bench, n=120, workers=3)
        c = res.columns
        arch = [bench.space.from_str(s) for s in c["arch"]]
        resumed = ~np.isnan(c["resume_from"])
        assert resumed.any() == cont and set(c["fidelity"]) == {1.0, 4.0, 12.0}
        for a, f, r, cost in zip(arch, c["fidelity"], c["resume_from"], c["cost"]):
            expected = full[a] * (f - (0.0 if math.isnan(r) else r)) / 12.0
            assert cost == pytest.approx(expected, rel=1e-12)
        if cont:
            assert set(zip(c["fidelity"][resumed], c["resume_from"][resumed])) <= {(4.0, 1.0), (12.0, 4.0)}


def test_asha_promotes_exactly_the_top_third():
    space = CategoricalSpace([("a", range(5))] * 4)
    asha = ASHA().setup(space, OBJ, Fidelity("epochs", (1, 3, 9), 9), seed=2)
    first = [asha.ask() for _ in range(9)]  # nothing told yet: all new, at the bottom rung
    assert {(t.fidelity, t.resume_from) for t in first} == {(1, None)}
    values = [5.0, 1.0, 8.0, 3.0, math.nan, 7.0, 2.0, 6.0, 4.0]
    for t, v in zip(first, values):
        asha.tell(t, Evaluation({"valid_acc": v}, 1.0, 1))
    nxt = [asha.ask() for _ in range(4)]
    assert [t.arch for t in nxt[:3]] == [first[2].arch, first[5].arch, first[7].arch]  # 8, 7, 6: floor(9/3) = 3
    assert {(t.fidelity, t.resume_from) for t in nxt[:3]} == {(3, 1)}
    assert (nxt[3].fidelity, nxt[3].resume_from) == (1, None)  # then a new configuration, never None
    for t, v in zip(nxt[:3], (10.0, 12.0, 11.0)):
        asha.tell(t, Evaluation({"valid_acc": v}, 1.0, 3))
    t = asha.ask()  # rung 1 holds 3 results: its top 1 (12.0) goes to the top rung
    assert (t.arch, t.fidelity, t.resume_from) == (first[5].arch, 9, 3)
    assert asha.recommend() == first[5].arch  # best at the highest fidelity seen (3), not overall order


def test_recommend_prefers_the_highest_fidelity():
    space = CategoricalSpace([("a", range(3))] * 2)
    sh = SuccessiveHalving(n_configs=3).setup(space, OBJ, Fidelity("epochs", (1, 3), 3), seed=0)
    ts = [sh.ask() for _ in range(3)]
    for t, v in zip(ts, (90.0, 80.0, 70.0)):
        sh.tell(t, Evaluation({"valid_acc": v}, 1.0, 1))
    top = sh.ask()
    sh.tell(top, Evaluation({"valid_acc": 85.0}, 1.0, 3))
    assert top.arch == ts[0].arch and sh.recommend() == ts[0].arch
    assert sh._best_at[1][0] == 90.0 and sh._best_at[3][0] == 85.0


def test_no_fidelity_axis_is_refused():
    for cls in (SuccessiveHalving, Hyperband, BOHB, ASHA):
        with pytest.raises(InvalidConfig, match="no fidelity axis"):
            cls().setup(ToySpace(), OBJ, None, seed=0)
    with pytest.raises(InvalidConfig, match="not an allowed fidelity"):
        Hyperband(min_fidelity=2).setup(ToySpace(), OBJ, Fidelity("epochs", (1, 4, 12), 12), seed=0)
    with pytest.raises(InvalidConfig, match="eta"):
        ASHA(eta=1).setup(ToySpace(), OBJ, Fidelity("epochs", (1, 4, 12), 12), seed=0)


def test_kde_prefers_good_configurations():
    levels = [5] * 6
    gen = np.random.default_rng(0)
    good = np.zeros((8, 6), dtype=np.int64)
    good[:, 3:] = gen.integers(0, 5, (8, 3))  # good: decisions 0-2 are option 0
    bad = gen.integers(1, 5, (30, 6))
    kl, kg = CategoricalKDE(good, levels), CategoricalKDE(bad, levels)
    assert np.all(kl.bw <= 0.8 + 1e-12) and np.all(kl.bw >= 1e-3)
    x = np.array([[0, 0, 0, 1, 2, 3], [2, 3, 4, 1, 2, 3]])
    ratio = kl.pdf(x) / kg.pdf(x)
    assert ratio[0] > 10 * ratio[1]
    draws = kl.sample(2000, np.random.default_rng(1), bandwidth_factor=3.0)
    assert np.mean(draws[:, :3] == 0) > 0.9  # the good decisions have zero spread: tiny bandwidth
    assert draws.min() >= 0 and draws.max() <= 4


def test_bohb_model_concentrates_on_a_toy_optimum():
    """Landscape: accuracy = number of decisions set to option 0. Once BOHB has a model, its
    new configurations hit the good options far more often than uniform sampling (1/5)."""
    space = CategoricalSpace([("d", range(5))] * 6)
    fid = Fidelity("epochs", (1, 3, 9), 9)
    bohb = BOHB(random_fraction=0.0).setup(space, OBJ, fid, seed=3)
    new_archs = []
    for _ in range(400):
        t = bohb.ask()
        assert t is not None  # one worker: every rung is complete before the next ask
        if t.resume_from is None and bohb._model is not None:
            new_archs.append(t.arch)
        bohb.tell(t, Evaluation({"valid_acc": float(sum(v == 0 for v in t.arch)) * t.fidelity}, 1.0, t.fidelity))
    assert len(new_archs) > 50
    assert np.mean(np.asarray(new_archs) == 0) > 0.5
    assert sum(v == 0 for v in bohb.recommend()) >= 5
    assert bohb.stats()["model_asks"] == len(new_archs)


@pytest.mark.data
def test_nb201_public_table_two_rungs(nb201_data):
    bench = benchlab.make_benchmark("nb201", {"dataset": "cifar10-valid", "fidelity": 12, "cost": "time"})
    res = _run("hyperband", {}, bench, n=60)
    c = res.columns
    assert set(c["fidelity"]) == {12.0, 200.0}
    arch = [bench.space.from_str(s) for s in c["arch"]]
    for a, f, r, cost in zip(arch, c["fidelity"], c["resume_from"], c["cost"]):
        if not math.isnan(r):
            assert (f, r) == (200.0, 12.0)
            assert cost == pytest.approx(bench.query_cost(a, 200) - bench.query_cost(a, 12))


def test_repeated_rungs_reevaluate_at_full_cost():
    """The NB201 paper's BOHB protocol: rungs (12, 12, 12): brackets 9-3-1, 5-1, 3, every
    promotion a fresh 12-epoch query charged in full; BOHB keeps one data set per rung."""
    bench = ToyBenchmark(guard=False)
    res = _run("bohb", {"rung_fidelities": [12, 12, 12], "random_fraction": 0.0}, bench, n=44)
    c = res.columns
    assert set(c["fidelity"]) == {12.0} and np.isnan(c["resume_from"]).all()
    full = [bench.query_cost(bench.space.from_str(a), 12) for a in c["arch"]]
    assert np.allclose(c["cost"], full)
    bohb = BOHB(rung_fidelities=[12, 12, 12]).setup(ToySpace(), OBJ, bench.fidelity, seed=0)
    rungs = []
    for _ in range(22):  # one worker: brackets 9-3-1, 5-1, 3 over the rungs 0-1-2, 1-2, 2
        t = bohb.ask()
        rungs.append(t.info[2])
        assert (t.fidelity, t.resume_from) == (12, None)
        bohb.tell(t, Evaluation({"valid_acc": float(sum(t.arch))}, 1.0, 12))
    assert rungs == [0] * 9 + [1] * 3 + [2] + [1] * 5 + [2] + [2] * 3
    assert {k: len(v) for k, v in bohb._obs.items()} == {0: 9, 1: 8, 2: 5}
    with pytest.raises(InvalidConfig, match="rung_fidelities"):
        Hyperband(rung_fidelities=[12, 4]).setup(ToySpace(), OBJ, bench.fidelity, seed=0)
    with pytest.raises(InvalidConfig, match="not both"):
        Hyperband(rung_fidelities=[12], max_fidelity=12).setup(ToySpace(), OBJ, bench.fidelity, seed=0)
