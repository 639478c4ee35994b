"""Local search and GP Bayesian optimisation: their defining behaviour on hand-checked landscapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import benchlab
import benchlab.strategies  # noqa: F401  (registers the strategies)
from benchlab import (
    CategoricalSpace,
    Evaluation,
    InvalidConfig,
    Objective,
    RunSpec,
    make_strategy,
)
from benchlab.strategies.bayesopt import GPBayesOpt, expected_improvement
from benchlab.strategies.local_search import LocalSearch

OBJ = (Objective("acc", "max"),)
GRID = CategoricalSpace([("a", (0, 1, 2)), ("b", (0, 1, 2))], name="grid3x3")  # neighbours: same row or column


def _tell(strategy, trial, value):
    strategy.tell(trial, Evaluation({"acc": float(value)}, cost=1.0))


def _first_arch_seed(make, first, space=GRID):
    """The first seed whose opening random architecture is ``first`` (deterministic search)."""
    for seed in range(500):
        s = make().setup(space, OBJ, seed=seed)
        if s.ask().arch == first:
            return seed
    raise AssertionError(f"no seed starts at {first}")


# A 3x3 landscape with a strict local optimum (0, 0) = 5 and the global optimum (2, 2) = 9.
#   b:    0    1    2
# a=0:    5    1    0
# a=1:    2    3    3.5
# a=2:  0.5    4    9
BUMPY = {(0, 0): 5, (0, 1): 1, (0, 2): 0, (1, 0): 2, (1, 1): 3, (1, 2): 3.5, (2, 0): 0.5, (2, 1): 4, (2, 2): 9}


def test_local_search_climbs_with_first_improvement_then_restarts():
    """Monotone landscape 3a + b: the centre is always the best seen, every proposal is a
    neighbour of it, and the restart comes exactly when (2, 2)'s neighbourhood is told."""
    f = lambda arch: 3 * arch[0] + arch[1]
    for seed in range(8):
        s = LocalSearch(num_init=1).setup(GRID, OBJ, seed=seed)
        best, told = None, {}
        while True:
            t = s.ask()
            if best is not None and not all(n in told for n in GRID.neighbors(best)):
                assert t.arch in GRID.neighbors(best), (seed, t.arch, best)
                assert t.info[0] == "nbr"
            elif best is not None:  # (2, 2) and all its neighbours are told: local (= global) optimum
                assert best == (2, 2)
                if t is None:  # the climb happened to evaluate the whole grid: nothing left
                    assert len(told) == 9
                    break
                assert t.info == ("init", 1) and t.arch not in told
                assert s.stats()["restarts"] == 1
                break
            _tell(s, t, f(t.arch))
            told[t.arch] = f(t.arch)
            if best is None or told[t.arch] > told[best]:
                best = t.arch


def test_local_search_restarts_at_a_local_optimum():
    seed = _first_arch_seed(lambda: LocalSearch(num_init=1), (0, 0))
    s = LocalSearch(num_init=1).setup(GRID, OBJ, seed=seed)
    trials = []
    for _ in range(5):
        t = s.ask()
        trials.append(t)
        _tell(s, t, BUMPY[t.arch])
    assert trials[0].arch == (0, 0)
    assert {t.arch for t in trials[1:]} == set(GRID.neighbors((0, 0)))  # all worse: a local optimum
    t = s.ask()
    assert t.info == ("init", 1) and t.arch in {(1, 1), (1, 2), (2, 1), (2, 2)}  # a fresh random start
    assert s.stats() == {"moves": 0, "restarts": 1}
    # the rest of the run finds the global optimum and never repeats an architecture
    seen = [x.arch for x in trials] + [t.arch]
    _tell(s, t, BUMPY[t.arch])
    while (t := s.ask()) is not None:
        seen.append(t.arch)
        _tell(s, t, BUMPY[t.arch])
    assert sorted(seen) == sorted(GRID.enumerate()) and s.recommend() == (2, 2)


def test_local_search_best_improvement_hand_trace():
    """first_improvement=False from (0, 1): its whole neighbourhood, then the best of it (0, 0),
    whose two untold neighbours show it is a local optimum, then a restart."""
    make = lambda: LocalSearch(num_init=1, first_improvement=False)
    s = make().setup(GRID, OBJ, seed=_first_arch_seed(make, (0, 1)))
    arches = []
    for _ in range(7):
        t = s.ask()
        arches.append(t.arch)
        _tell(s, t, BUMPY[t.arch])
    assert arches[0] == (0, 1)
    assert set(arches[1:5]) == {(0, 0), (0, 2), (1, 1), (2, 1)}
    assert set(arches[5:7]) == {(1, 0), (2, 0)}  # neighbours of (0, 0) not yet evaluated
    t = s.ask()
    assert t.info == ("init", 1) and t.arch in {(1, 2), (2, 2)}
    assert s.stats() == {"moves": 1, "restarts": 1}


def test_local_search_parallel_asks_distinct_neighbours_and_num_init():
    s = LocalSearch(num_init=3).setup(GRID, OBJ, seed=0)
    init = [s.ask() for _ in range(3)]
    assert all(t.info == ("init", 0) for t in init) and len({t.arch for t in init}) == 3
    for t in init:
        _tell(s, t, BUMPY[t.arch])
    start = max(init, key=lambda t: BUMPY[t.arch]).arch  # the best of num_init random architectures
    pending = [s.ask() for _ in range(3)]
    untold = [n for n in GRID.neighbors(start) if n not in {t.arch for t in init}]
    assert all(t is not None for t in pending[: len(untold)])
    got = [t.arch for t in pending if t is not None]
    assert len(set(got)) == len(got) and set(got) <= set(untold)


def test_local_search_config_errors():
    for kw in ({"num_init": 0}, {"restart": "sometimes"}, {"first_improvement": "yes"}):
        with pytest.raises(InvalidConfig):
            LocalSearch(**kw).setup(GRID, OBJ, seed=0)


# -- GP Bayesian optimisation ------------------------------------------------------------


def test_expected_improvement_by_hand():
    mean, std, best = np.array([1.0, 0.2, 0.7, 0.3]), np.array([2.0, 0.5, 0.0, 0.0]), 0.5
    ei = expected_improvement(mean, std, best)
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    # z = 0.25: 0.5 * Phi(0.25) + 2 * phi(0.25) = 0.5 * 0.5987063 + 2 * 0.3866681
    assert ei[0] == pytest.approx(0.5 * Phi(0.25) + 2 * phi(0.25), rel=1e-12)
    assert ei[0] == pytest.approx(1.0726893, abs=1e-6)
    assert ei[1] == pytest.approx(-0.3 * Phi(-0.6) + 0.5 * phi(-0.6), rel=1e-12)
    assert ei[2] == pytest.approx(0.2) and ei[3] == 0.0  # no uncertainty: the plain improvement
    assert expected_improvement([0.5], [1.0], 0.5, xi=0.1)[0] == pytest.approx(-0.1 * Phi(-0.1) + phi(-0.1))


SMOOTH = CategoricalSpace([(f"x{i}", tuple(range(5))) for i in range(4)], name="smooth5^4")  # 625 archs
TARGET = (3, 1, 4, 0)


def _smooth(arch) -> float:
    return -float(sum((a - c) ** 2 for a, c in zip(arch, TARGET)))


def _best_after(strategy, seed: int, n: int) -> float:
    strategy.setup(SMOOTH, OBJ, seed=seed)
    best = -math.inf
    for _ in range(n):
        t = strategy.ask()
        v = _smooth(t.arch)
        best = max(best, v)
        _tell(strategy, t, v)
    return best


def test_gp_bo_beats_random_search_on_a_smooth_landscape():
    """30 evaluations of 625, 10 seeds, default hyper-parameters: GP-BO reaches the optimum in
    most runs and its mean regret is far below random search's (measured: GP-BO hits the
    optimum 9/10 times, mean regret 0.5; random search 0/10, mean regret 2.3)."""
    seeds = range(10)
    gp = np.array([-_best_after(GPBayesOpt(), s, 30) for s in seeds])
    rs = np.array([-_best_after(make_strategy("random_search", {"replace": False}), s, 30) for s in seeds])
    assert (gp == 0).sum() >= 7 and (rs == 0).sum() <= 3, (gp, rs)
    assert gp.mean() < 0.5 * rs.mean(), (gp, rs)


def test_gp_bo_kriging_believer_and_stats():
    s = GPBayesOpt(num_init=4, num_candidates=50).setup(SMOOTH, OBJ, seed=3)
    for _ in range(8):
        t = s.ask()
        _tell(s, t, _smooth(t.arch))
    pending = [s.ask() for _ in range(4)]  # model-based asks with 0..3 trials pending
    assert len({t.arch for t in pending}) == 4 and all(t.info == "model" for t in pending)
    st = s.stats()
    assert st["asks"] == 12 and st["model_asks"] == 8 and 0 < st["ask_seconds_mean"] <= st["ask_seconds_max"]
    assert st["hyperparameter_fits"] >= 1


def test_gp_bo_handles_nan_and_exhausts_a_tiny_space():
    s = GPBayesOpt(num_init=2).setup(GRID, OBJ, seed=1)
    seen = []
    while (t := s.ask()) is not None:
        seen.append(t.arch)
        _tell(s, t, math.nan if t.arch[0] == 1 else BUMPY[t.arch])
    assert sorted(seen) == sorted(GRID.enumerate()) and s.recommend() == (2, 2)


def test_gp_bo_path_encoding():
    from benchlab.benchmarks.nb201._space import NB201Space

    space = NB201Space()
    s = GPBayesOpt(encoding="path", num_init=3, num_candidates=30).setup(space, OBJ, seed=0)
    for _ in range(6):
        t = s.ask()
        _tell(s, t, float(space.encode(t.arch, "path").sum()))
    assert s._dim == 84 and s.stats()["model_asks"] == 3
    with pytest.raises(InvalidConfig, match="no 'path' encoding"):
        GPBayesOpt(encoding="path").setup(GRID, OBJ, seed=0)
    for kw in ({"encoding": "adjacency"}, {"num_init": 0}, {"kernel": "linear"}, {"refit_growth": -1}):
        with pytest.raises(InvalidConfig):
            GPBayesOpt(**kw).setup(GRID, OBJ, seed=0)


@pytest.mark.data
def test_both_on_the_real_nb201_table(nb201_data):
    """Through benchlab.run on NAS-Bench-201 with 2 workers: no repeated architecture, the
    model-based one reports its ask time."""
    for name, kw in (("local_search", {}), ("gp_bo", {"encoding": "path"})):
        spec = RunSpec(benchmark="nb201", strategy=name, strategy_kwargs=kw, seed=0, max_evaluations=60, n_workers=2)
        res = benchlab.run(spec)
        assert res.summary["status"] == "ok", res.summary["error"]
        assert res.summary["n_evaluations"] == 60 and len(set(res.columns["arch"])) == 60
        stats = res.summary["strategy_stats"]
        assert set(stats) >= ({"ask_seconds_mean", "ask_seconds_max", "asks"} if name == "gp_bo" else {"moves", "restarts"})
