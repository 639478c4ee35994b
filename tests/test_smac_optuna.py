"""smac_rf (random-forest BO) and the Optuna adapter (optuna, tpe)."""

from __future__ import annotations

import logging
import math
import pickle
import sys

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

import benchlab
from benchlab import CategoricalSpace, Evaluation, Objective
from benchlab.strategies.random_search import RandomSearch
from benchlab.strategies.smac import SMACRandomForest, _Forest, expected_improvement, forest_mean_var

OBJ = [Objective("acc", "max")]


# -- smac_rf -------------------------------------------------------------------------------
def _constant_tree(value: float) -> DecisionTreeRegressor:
    X = np.zeros((4, 2))
    return DecisionTreeRegressor().fit(X, np.full(4, value))


def test_forest_mean_and_variance_are_the_spread_of_the_trees():
    forest = _Forest([_constant_tree(1.0), _constant_tree(2.0), _constant_tree(6.0)])
    mean, var = forest_mean_var(forest, np.zeros((3, 2)))
    assert np.allclose(mean, 3.0)
    assert np.allclose(var, ((1 - 3) ** 2 + (2 - 3) ** 2 + (6 - 3) ** 2) / 3)  # population variance over trees
    # trees that agree: the variance is floored (not 0), so EI stays finite
    same = _Forest([_constant_tree(2.0)] * 3)
    mean, var = forest_mean_var(same, np.zeros((1, 2)))
    assert mean[0] == 2.0 and 0 < var[0] <= 1e-10


def test_forest_splits_follow_the_data():
    """Two trees on a step function: each predicts the step, so the spread is zero there."""
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]])
    y = np.array([0.0, 0.0, 0.0, 5.0, 5.0, 5.0])
    forest = _Forest([DecisionTreeRegressor(random_state=s).fit(X, y) for s in (0, 1)])
    mean, _ = forest_mean_var(forest, np.array([[0.0], [1.0]]))
    assert mean.tolist() == [0.0, 5.0]


def test_expected_improvement_hand_values():
    # at mu = best, sigma = 1: EI = phi(0) = 1/sqrt(2 pi)
    assert expected_improvement(np.array([1.0]), np.array([1.0]), 1.0)[0] == pytest.approx(1 / math.sqrt(2 * math.pi))
    # mu = best + 1, sigma = 1: EI = Phi(1) + phi(1)
    phi1, Phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert expected_improvement(np.array([2.0]), np.array([1.0]), 1.0)[0] == pytest.approx(Phi1 + phi1)
    # (almost) no variance: EI = max(mu - best, 0)
    ei = expected_improvement(np.array([3.0, 0.0]), np.array([1e-10, 1e-10]), 1.0)
    assert ei[0] == pytest.approx(2.0) and ei[1] == pytest.approx(0.0, abs=1e-12)
    # xi shifts the incumbent
    assert expected_improvement(np.array([2.0]), np.array([1.0]), 1.0, xi=1.0)[0] == pytest.approx(1 / math.sqrt(2 * math.pi))


SPACE = CategoricalSpace([(f"d{i}", tuple(range(5))) for i in range(6)], name="toy-structured")
_W = np.random.default_rng(2024).normal(size=(6, 5))


def _landscape(arch) -> float:
    """Additive effects plus one pairwise interaction: structure a model can learn."""
    return float(sum(_W[i, v] for i, v in enumerate(arch)) + 1.5 * (arch[0] == arch[1]))


_OPT = max(_landscape(a) for a in SPACE.enumerate())


def _regret(strategy, seed: int, n: int, batch: int = 1) -> float:
    strategy.setup(SPACE, OBJ, None, seed=seed)
    best = -math.inf
    done = 0
    while done < n:
        trials = [strategy.ask() for _ in range(min(batch, n - done))]
        for t in reversed(trials):  # out of order
            v = _landscape(t.arch)
            strategy.tell(t, Evaluation({"acc": v}, 1.0))
            best = max(best, v)
            done += 1
    return _OPT - best


def test_smac_rf_beats_random_search_on_a_structured_landscape():
    seeds, n = range(4), 60
    smac = [_regret(SMACRandomForest(), s, n) for s in seeds]
    rs = [_regret(RandomSearch(), s, n) for s in seeds]
    # measured (seeds 0-3): smac regrets 0.85, 1.16, 0.55, 0 (mean 0.64), random search 2.57,
    # 2.66, 0.85, 2.62 (mean 2.17); seeds 4-11: mean 0.81 vs 2.72, smac better on 11 of 12
    assert np.mean(smac) < 0.6 * np.mean(rs), (smac, rs)
    assert sum(a < b for a, b in zip(smac, rs)) >= 3


def test_smac_rf_parallel_asks_never_repeat_pending_or_told():
    s = SMACRandomForest(n_init=4).setup(SPACE, OBJ, None, seed=1)
    seen = set()
    for _ in range(6):
        batch = [s.ask() for _ in range(5)]
        archs = [t.arch for t in batch]
        assert len(set(archs)) == 5 and not seen & set(archs)
        seen |= set(archs)
        for t in batch:
            s.tell(t, Evaluation({"acc": _landscape(t.arch)}, 1.0))
    st = s.stats()
    assert st["asks"] + st["random_asks"] == 30 and st["asks"] > 0
    assert 0 < st["ask_seconds_mean"] <= st["ask_seconds_max"]


def test_smac_rf_imputes_nan_and_inf():
    """NaN and -inf become the worst finite score, +inf the best (SMAC imputes crashed runs)."""
    s = SMACRandomForest(n_init=3, log_y=False).setup(SPACE, OBJ, None, seed=2)
    values = [math.nan, -math.inf, math.inf, 1.0, 2.0, 0.5]
    for v in values:
        s.tell(s.ask(), Evaluation({"acc": v}, 1.0))
    assert s._targets().tolist() == [0.5, 0.5, 2.0, 1.0, 2.0, 0.5]
    # log_y (the default, SMAC3's log-scaled encoder): costs -score scaled into (0, 1], logged, negated
    s_log = SMACRandomForest(n_init=3).setup(SPACE, OBJ, None, seed=2)
    for v in values:
        s_log.tell(s_log.ask(), Evaluation({"acc": v}, 1.0))
    cost = -np.array([0.5, 0.5, 2.0, 1.0, 2.0, 0.5])
    floor = cost.min() - (np.percentile(cost, 5) - cost.min()) - 1e-10
    np.testing.assert_allclose(s_log._targets(), -np.log((cost - floor) / (cost.max() - floor)))
    assert s_log._targets()[0] == 0.0 and np.argmax(s_log._targets()) == 2  # the worst maps to log 1
    for _ in range(5):  # the model runs on them
        s.tell(s.ask(), Evaluation({"acc": 1.0}, 1.0))
    assert s.stats()["asks"] > 0


def test_smac_rf_rejects_bad_settings():
    with pytest.raises(benchlab.InvalidConfig, match="ratio_features"):
        SMACRandomForest(ratio_features=0).setup(SPACE, OBJ, None, seed=0)
    with pytest.raises(benchlab.InvalidConfig, match="encoding"):
        SMACRandomForest(encoding="path").setup(SPACE, OBJ, None, seed=0)


# -- the Optuna adapter ---------------------------------------------------------------------
from benchlab.strategies.optuna_adapter import TPE, OptunaStrategy  # noqa: E402  (imports without optuna)

try:
    import optuna
except ImportError:  # optional dependency: pip install 'benchlab[optuna]'
    optuna = None
needs_optuna = pytest.mark.skipif(optuna is None, reason="optuna is not installed (pip install 'benchlab[optuna]')")

MIXED = CategoricalSpace(
    [
        ("op", ("conv", "skip", "none")),
        ("width", (16, 32)),
        ("flag", (True, False)),
        ("ambiguous", (1, 1.0, True)),  # equal under ==: suggested by index
        ("object", (frozenset({1}), (2, 3))),  # not storable by Optuna: suggested by index
    ],
    name="mixed",
)


def _run(strategy, space, seed, n, batch=1):
    strategy.setup(space, OBJ, None, seed=seed)
    out = []
    while len(out) < n:
        trials = [strategy.ask() for _ in range(batch)]
        for t in reversed(trials):
            strategy.tell(t, Evaluation({"acc": float(sum(t.arch))}, 1.0))
            out.append(t.arch)
    return out


@needs_optuna
def test_optuna_maps_choices_and_archs_exactly():
    s = OptunaStrategy(sampler="random").setup(MIXED, OBJ, None, seed=0)
    for arch in MIXED.enumerate():
        assert s.params_to_arch(s.arch_to_params(arch)) == arch
    suggested = dict(s._suggest)
    assert suggested["op"] == ("conv", "skip", "none") and suggested["width"] == (16, 32)
    assert suggested["ambiguous"] == (0, 1, 2) and suggested["object"] == (0, 1)
    trials = [s.ask() for _ in range(40)]
    for t in trials:
        MIXED.validate(t.arch)
        s.tell(t, Evaluation({"acc": 1.0}, 1.0))
    by_number = {ft.number: ft.params for ft in s._study.trials}
    for k, t in enumerate(trials):
        params = by_number[k]
        for (name, opts), i in zip(MIXED.choices(), t.arch):
            expected = opts[i] if name in ("op", "width", "flag") else i
            assert params[name] == expected and type(params[name]) is type(expected)
    assert len({t.arch for t in trials}) > 20  # really explores the space


@needs_optuna
def test_tpe_is_deterministic_per_seed_and_resumes_after_pickle():
    a = _run(TPE(), MIXED, 3, 30, batch=3)
    b = _run(TPE(), MIXED, 3, 30, batch=3)
    c = _run(TPE(), MIXED, 4, 30, batch=3)
    assert a == b and a != c
    s = TPE()
    _run(s, MIXED, 5, 15)
    copy = pickle.loads(pickle.dumps(s))
    for _ in range(10):
        t1, t2 = s.ask(), copy.ask()
        assert t1 == t2
        for st, t in ((s, t1), (copy, t2)):
            st.tell(t, Evaluation({"acc": float(sum(t.arch))}, 1.0))


@needs_optuna
def test_tpe_defaults_are_pinned():
    s = TPE().setup(MIXED, OBJ, None, seed=0)
    sampler = s._study.sampler
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert sampler._n_startup_trials == 10 and sampler._n_ei_candidates == 24
    assert sampler._multivariate is True and sampler._constant_liar is True  # preset "default" (Optuna 5)
    paper = TPE(preset="paper").setup(MIXED, OBJ, None, seed=0)._study.sampler
    assert paper._multivariate is False and paper._constant_liar is False
    assert TPE().get_params() == {"preset": "default", "sampler_kwargs": None, "skip_duplicates": False,
                                  "duplicate_retries": 10}


@needs_optuna
def test_tpe_learns():
    """After its 10 random startup trials TPE concentrates on the good options."""
    archs = _run(TPE(), SPACE, 0, 60)
    first, last = np.mean([sum(a) for a in archs[:10]]), np.mean([sum(a) for a in archs[-20:]])
    assert last > first + 3, (first, last)


@needs_optuna
@pytest.mark.parametrize("name", ["random", "RandomSampler", "qmc", "grid", "bruteforce", "nsga2"])
def test_any_optuna_sampler_name(name):
    archs = _run(OptunaStrategy(sampler=name), MIXED, 1, 12, batch=2)
    assert all(MIXED.validate(a) == a for a in archs)
    assert archs == _run(OptunaStrategy(sampler=name), MIXED, 1, 12, batch=2)


@needs_optuna
def test_optuna_direction_and_nan():
    s = OptunaStrategy(sampler="random").setup(SPACE, [Objective("err", "min")], None, seed=0)
    assert s._study.direction == optuna.study.StudyDirection.MINIMIZE
    t1, t2 = s.ask(), s.ask()
    s.tell(t1, Evaluation({"err": math.nan}, 1.0))
    s.tell(t2, Evaluation({"err": 0.5}, 1.0))
    states = [ft.state for ft in s._study.trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert s.recommend() == t2.arch


@needs_optuna
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sampler": "cmaes"}, "numeric parameters only"),
        ({"sampler": "nope"}, "unknown"),
        ({"sampler": "tpe", "sampler_kwargs": {"seed": 1}}, "seed"),
        ({"sampler": "tpe", "sampler_kwargs": {"bogus": 1}}, "bogus"),
    ],
)
def test_optuna_bad_settings(kwargs, match):
    with pytest.raises(benchlab.InvalidConfig, match=match):
        OptunaStrategy(**kwargs).setup(SPACE, OBJ, None, seed=0)


@needs_optuna
def test_optuna_logging_is_silenced_and_restored(capfd):
    optuna.logging.set_verbosity(logging.INFO)
    try:
        s = OptunaStrategy(sampler="random")
        _run(s, SPACE, 0, 5)
        st = s.stats()
        assert st["asks"] == 5 and 0 < st["ask_seconds_mean"] <= st["ask_seconds_max"]
        assert optuna.logging.get_verbosity() == logging.INFO
    finally:
        optuna.logging.set_verbosity(logging.WARNING)
    assert "Trial" not in capfd.readouterr().err


@pytest.mark.parametrize("cls", [TPE, OptunaStrategy])
def test_missing_optuna_gives_the_install_command(monkeypatch, cls):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    s = cls()  # constructing stores kwargs only
    with pytest.raises(benchlab.InvalidConfig, match=r"pip install 'benchlab\[optuna\]'"):
        s.setup(SPACE, OBJ, None, seed=0)
