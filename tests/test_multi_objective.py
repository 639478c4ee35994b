"""Multi-objective search: NSGA-II's sorting and crowding, hypervolume, hypervolume curves."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest

import benchlab as bl
from benchlab import CategoricalSpace, Evaluation, Objective
from benchlab import analysis as an
from benchlab.strategies.nsga2 import (
    NSGA2,
    MORandomSearch,
    crowding_distance,
    dominates,
    non_dominated_sort,
)


# -- non-dominated sorting and crowding distance, checked by hand ------------------------
def test_dominates():
    assert dominates((2, 2), (1, 2)) and not dominates((1, 2), (2, 2))
    assert not dominates((2, 2), (2, 2))  # equal: no domination
    assert not dominates((3, 1), (1, 3))
    assert dominates((0.0, 1.0), (-math.inf, 1.0))  # NaN maps to -inf: worst


def test_non_dominated_sort_hand_made():
    # maximised: A(4,1) B(3,3) C(1,4) are mutually non-dominated; D(2,2) is dominated by B,
    # F(3,1) by A; D and F are incomparable; E(1,1) is dominated by D and F.
    scores = [(4, 1), (3, 3), (1, 4), (2, 2), (1, 1), (3, 1)]
    assert non_dominated_sort(scores) == [[0, 1, 2], [3, 5], [4]]
    assert non_dominated_sort([(1, 1), (1, 1)]) == [[0, 1]]  # equal points share a front
    assert non_dominated_sort([(-math.inf, 5), (0, 0), (-math.inf, 1)]) == [[0, 1], [2]]
    assert non_dominated_sort(np.zeros((0, 2))) == []


def test_crowding_distance_hand_made():
    # front (0,10) (2,7) (5,5) (10,0); both ranges are 10.
    # (2,7): obj1 (5-0)/10 + obj2 (10-5)/10 = 1.0; (5,5): (10-2)/10 + (7-0)/10 = 1.5
    d = crowding_distance([(2, 7), (0, 10), (10, 0), (5, 5)])
    assert d[1] == d[2] == math.inf
    assert d[0] == pytest.approx(1.0) and d[3] == pytest.approx(1.5)
    assert np.all(crowding_distance([(1, 2), (3, 4)]) == math.inf)
    flat = crowding_distance([(0, 1), (1, 1), (2, 1)])  # zero range in obj2 adds nothing
    assert flat[1] == pytest.approx(1.0)


# -- hypervolume vs brute force ---------------------------------------------------------
def _grid_count(points: np.ndarray, ref: np.ndarray) -> int:
    """Minimised integer points: count the unit cells [c, c+1] below ``ref`` dominated by a point."""
    count = 0
    lo = points.min(axis=0)
    for cell in itertools.product(*[range(int(a), int(r)) for a, r in zip(lo, ref)]):
        if np.any(np.all(points <= np.asarray(cell), axis=1)):
            count += 1
    return count


def test_hypervolume_2d_by_hand():
    pts = [(1, 3), (2, 2), (3, 1)]  # staircase under ref (4, 4): 1 + 2 + 3
    assert an.hypervolume(pts, ["min", "min"], (4, 4)) == 6.0
    maxed = [(-x, y) for x, y in pts]  # the same set with a maximised first objective
    assert an.hypervolume(maxed, ["max", "min"], (-4, 4)) == 6.0
    assert an.hypervolume(pts + [(2, 3), (5, 0), (math.nan, 0)], ["min", "min"], (4, 4)) == 6.0
    assert an.hypervolume(np.zeros((0, 2)), ["min", "min"], (1, 1)) == 0.0


@pytest.mark.parametrize("m, n, hi", [(2, 12, 9), (3, 10, 6), (3, 25, 6), (4, 8, 5)])
def test_hypervolume_matches_grid_counting(m, n, hi):
    gen = np.random.default_rng(m * 100 + n)
    for _ in range(5):
        pts = gen.integers(0, hi, size=(n, m)).astype(float)
        ref = np.full(m, float(hi))
        assert an.hypervolume(pts, ["min"] * m, ref) == _grid_count(pts, ref)
        # maximised view of the same set: negate points and reference
        assert an.hypervolume(-pts, ["max"] * m, -ref) == _grid_count(pts, ref)


def test_pareto_front_mask():
    pts = np.array([(4, 1), (3, 3), (1, 4), (2, 2), (1, 1), (3, 1), (3, 3), (math.nan, 9)])
    assert an.pareto_front(pts, ["max", "max"]).tolist() == [True, True, True, False, False, False, True, False]
    # minimising the second objective: (4, 1) dominates everything with less of obj 1 or more of obj 2
    assert an.pareto_front(pts, ["max", "min"]).tolist() == [True, False, False, False, False, False, False, False]


# -- NSGA-II against random search on a toy bi-objective landscape ----------------------
_SPACE = CategoricalSpace([(f"d{i}", ("a", "b", "c", "d")) for i in range(12)], name="toy12")
_OBJS = (Objective("ones", "max"), Objective("twos", "max"))


def _toy_metrics(arch) -> dict:
    """Conflicting counts: the Pareto front is every arch using options 1 and 2 only."""
    return {"ones": float(sum(v == 1 for v in arch)), "twos": float(sum(v == 2 for v in arch))}


def _drive(strategy, seed: int, n: int, batch: int = 1) -> np.ndarray:
    strategy.setup(_SPACE, _OBJS, None, seed=seed)
    pts, pending = [], []
    while len(pts) < n:
        while len(pending) < batch:
            pending.append(strategy.ask())
        trial = pending.pop(0)
        ev = Evaluation(_toy_metrics(trial.arch), 1.0)
        strategy.tell(trial, ev)
        pts.append((ev.metrics["ones"], ev.metrics["twos"]))
    return np.asarray(pts)


def test_nsga2_beats_random_search_on_toy_landscape():
    hv = {"nsga2": [], "random": []}
    for seed in range(5):
        for name, strat in (("nsga2", NSGA2()), ("random", MORandomSearch())):
            pts = _drive(strat, seed, 300, batch=2)
            hv[name].append(an.hypervolume(pts, ["max", "max"], (0, 0)))
    # the true front {(k, 12 - k)} has hypervolume sum_k (12 - k) for k = 1..12 = 78
    assert max(hv["nsga2"] + hv["random"]) <= 78
    assert min(hv["nsga2"]) > max(hv["random"])  # every NSGA-II run beats every random run
    assert np.mean(hv["nsga2"]) > np.mean(hv["random"]) + 10


def test_pareto_front_and_recommend():
    s = NSGA2(population_size=10)
    pts = _drive(s, 0, 120)
    front = s.pareto_front()
    values = np.asarray([[m["ones"], m["twos"]] for _, m in front])
    mask = an.pareto_front(pts, ["max", "max"])
    assert sorted(set(map(tuple, values))) == sorted(set(map(tuple, pts[mask])))  # several archs may share values
    assert s.recommend() == front[0][0] and front[0][1]["ones"] == pts[:, 0].max()
    assert s.stats() == {"pareto_front_size": len(front)}
    clone = pickle.loads(pickle.dumps(s))
    assert clone.pareto_front() == front
    assert NSGA2().tags == MORandomSearch().tags == frozenset({"multi_objective"})
    assert "exhaustive" in MORandomSearch(replace=False).tags


def test_nsga2_population_is_bounded_and_first_trials_random():
    s = NSGA2(population_size=8)
    _drive(s, 3, 60, batch=3)
    assert len(s._pop) == 8
    assert len({a for a, _ in s._pop}) == 8
    with pytest.raises(bl.InvalidConfig, match="population_size"):
        NSGA2(population_size=1).setup(_SPACE, _OBJS, None, seed=0)
    with pytest.raises(bl.InvalidConfig, match="crossover_prob"):
        NSGA2(crossover_prob=1.5).setup(_SPACE, _OBJS, None, seed=0)


# -- hypervolume curves of a stored experiment ------------------------------------------
@pytest.fixture(scope="module")
def mo_folder(tmp_path_factory):
    exp = bl.Experiment(
        name="mo",
        benchmark="analognas",
        benchmark_kwargs={"objective": ["baseline_accuracy", "analog_drift_86400"]},
        strategies=(bl.StrategyConfig("nsga2", {"population_size": 10}), bl.StrategyConfig("mo_random_search")),
        repeats=3,
        max_evaluations=40,
        n_workers=2,
        root=tmp_path_factory.mktemp("results"),
    )
    bl.run_experiment(exp, progress=False)
    return exp.folder


def test_hypervolume_curves(mo_folder):
    data = an.load_experiment(mo_folder)
    cv = an.hypervolume_curves(data)
    assert cv.objectives == (("baseline_accuracy", "max"), ("analog_drift_86400", "max"))
    assert cv.grid.tolist() == list(range(1, 41))
    lo = [cv.ranges[n][0] for n, _ in cv.objectives]
    assert cv.reference == tuple(lo)  # worst observed of maximised objectives
    for label, mat in cv.matrices.items():
        assert mat.shape == (3, 40)
        assert np.all(np.diff(mat, axis=1) >= 0), label  # never decreases
        assert np.all((mat >= 0) & (mat <= 1))
    # the last value is the hypervolume of every point of the run, computed directly
    run = data.strategies["nsga2"].runs[0]
    trials = bl.read_trials(run.folder)
    pts = trials[["value", "objective:analog_drift_86400"]].to_numpy()
    scaled = (pts - lo) / (np.array([cv.ranges[n][1] for n, _ in cv.objectives]) - lo)
    assert cv.matrices["nsga2"][0, -1] == pytest.approx(an.hypervolume(scaled, ["max", "max"], (0, 0)))
    raw = an.hypervolume_curves(data, normalize=False, reference=(50.0, 50.0))
    assert raw.matrices["nsga2"][0, -1] == pytest.approx(an.hypervolume(pts, ["max", "max"], (50, 50)))
    finals = an.final_hypervolume(cv)
    assert set(finals) == {"nsga2", "mo_random_search"} and all(r == 3 for _, _, r in finals.values())


def test_report_writes_hypervolume(mo_folder, tmp_path):
    out = an.report(mo_folder, tmp_path, formats=("csv", "png"))
    assert (tmp_path / "hypervolume.png").stat().st_size > 0
    assert {"hypervolume_mean", "hypervolume_se"} <= set(out["table"].columns)
    assert "hypervolume_mean" in (tmp_path / "summary.csv").read_text().splitlines()[0]
