"""BANANAS (White et al., AAAI 2021): the NumPy MLP ensemble, the acquisition functions,
candidate generation, parallel-worker behaviour and search quality on a toy landscape."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from benchlab import Evaluation, Objective
from benchlab.testing import ToySpace
from benchlab.strategies._mlp import MLPEnsemble
from benchlab.strategies.bananas import Bananas, acquisition_values

OBJ = (Objective("acc", "max"),)


def _landscape(shape=(5,) * 6, seed=0):
    """A structured landscape on a categorical space: additive per-decision effects plus
    pairwise interactions of neighbouring decisions (known optimum by enumeration)."""
    rng = np.random.default_rng(seed)
    unary = [rng.normal(size=r) for r in shape]
    pair = [rng.normal(scale=0.5, size=(shape[i], shape[i + 1])) for i in range(len(shape) - 1)]

    def f(arch):
        v = sum(unary[i][a] for i, a in enumerate(arch))
        return float(v + sum(pair[i][arch[i], arch[i + 1]] for i in range(len(arch) - 1)))

    return f


def _drive(strategy, f, n, space, seed):
    strategy.setup(space, OBJ, None, seed=seed)
    best = -np.inf
    for _ in range(n):
        trial = strategy.ask()
        value = f(trial.arch)
        best = max(best, value)
        strategy.tell(trial, Evaluation({"acc": value}, cost=1.0))
    return best


# -- the MLP ensemble -------------------------------------------------------------------
def test_mlp_ensemble_fits_a_known_landscape():
    space = ToySpace.nb201_like()
    f = _landscape()
    rng = np.random.default_rng(1)
    ids = rng.choice(space.size, size=450, replace=False)
    archs = [space.from_id(int(i)) for i in ids]
    X = np.stack([space.encode(a, "onehot") for a in archs])
    y = np.array([f(a) for a in archs])
    mu, sd = y[:150].mean(), y[:150].std()
    model = MLPEnsemble(n_models=5, n_layers=10, width=20, loss="mae", lr=0.01)
    model.fit(X[:150], (y[:150] - mu) / sd, epochs=150, batch_size=32, rng=np.random.default_rng(2))
    pred = model.predict(X[150:])
    assert pred.shape == (5, 300)
    assert np.corrcoef(pred.mean(axis=0), y[150:])[0, 1] > 0.9
    # independently initialised members disagree (the ensemble has a spread to exploit)
    assert pred.std(axis=0).mean() > 0.01


def test_mlp_ensemble_is_seeded_and_pickles():
    rng = np.random.default_rng(0)
    X = rng.random((40, 7))
    y = X @ rng.normal(size=7)
    a = MLPEnsemble(3, 2, 8, "mse").fit(X, y, epochs=5, batch_size=16, rng=np.random.default_rng(5))
    b = MLPEnsemble(3, 2, 8, "mse").fit(X, y, epochs=5, batch_size=16, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict(X), c.predict(X))


# -- acquisition --------------------------------------------------------------------------
# Three candidates, five ensemble members: A is certain (mean 1.0, std 0), B has mean 0.9 and
# population std 0.5, C has mean 0.0 and std 0.
PRED = np.array([
    [1.0, 0.4, 0.0],
    [1.0, 1.4, 0.0],
    [1.0, 0.4, 0.0],
    [1.0, 1.4, 0.0],
    [1.0, 0.9, 0.0],
])


def test_ucb_is_mean_plus_half_std():
    # std of B: values 0.4,1.4,0.4,1.4,0.9 -> population var = 0.2 -> std = sqrt(0.2)
    v = acquisition_values(PRED, "ucb", 0.5, np.random.default_rng(0))
    np.testing.assert_allclose(v, [1.0, 0.9 + 0.5 * np.sqrt(0.2), 0.0])
    assert int(np.argmax(v)) == 1  # exploration bonus puts B ahead of the certain A
    v = acquisition_values(PRED, "ucb", 0.0, np.random.default_rng(0))
    assert int(np.argmax(v)) == 0  # without it, the best mean wins


def test_its_draws_one_independent_normal_per_candidate():
    v = acquisition_values(PRED, "its", 0.5, np.random.default_rng(3))
    z = np.random.default_rng(3).standard_normal(3)
    np.testing.assert_allclose(v, [1.0, 0.9 + np.sqrt(0.2) * z[1], 0.0])
    # P(B beats A) = P(N(0.9, 0.2) > 1) = 1 - Phi(0.1 / sqrt(0.2)) = 0.4115
    gen = np.random.default_rng(4)
    wins = np.mean([np.argmax(acquisition_values(PRED, "its", 0.5, gen)) == 1 for _ in range(4000)])
    assert abs(wins - 0.4115) < 0.03


def test_strategy_proposes_the_top_k_of_the_acquisition():
    class Recording(Bananas):
        def _acquire(self, predictions):
            values = super()._acquire(predictions)
            self.log.append((list(self._last), values))
            return values

        def _candidates(self):
            self._last = super()._candidates()
            return self._last

    s = Recording(num_init=10, k=4, acquisition="ucb", num_layers=2, epochs=10)
    s.log = []
    space, f = ToySpace.nb201_like(), _landscape()
    s.setup(space, OBJ, None, seed=0)
    for _ in range(10):
        t = s.ask()
        s.tell(t, Evaluation({"acc": f(t.arch)}, cost=1.0))
    asked = [s.ask().arch for _ in range(4)]  # pending: no tells in between
    assert len(s.log) == 1  # one model fit and one ranking serve the k=4 proposals
    cands, values = s.log[0]
    top = [cands[i] for i in np.argsort(-values, kind="stable")[:4]]
    assert asked == top
    seen = {tr for tr in s._archs}
    assert not seen & set(cands)  # evaluated architectures are never candidates
    assert s.stats()["model_fits"] == 1


# -- candidates, parallel workers, encodings ----------------------------------------------
def test_candidates_are_unseen_mutations_of_the_best():
    s = Bananas(num_init=10, num_layers=2, epochs=5)
    space, f = ToySpace.nb201_like(), _landscape()
    s.setup(space, OBJ, None, seed=1)
    for _ in range(10):
        t = s.ask()
        s.tell(t, Evaluation({"acc": f(t.arch)}, cost=1.0))
    cands = s._candidates()
    best = max(s._archs, key=f)
    # as in naszilla get_candidates: parents (best first) each contribute 100 mutations, the
    # unseen distinct ones kept, until at least num_candidates=100 are collected
    assert 100 <= len(cands) < 200 and len(set(cands)) == len(cands)
    assert not set(cands) & s._seen
    # the first ones are mutations of the best architecture: with edit_prob 1/4 per
    # decision they differ from it in 1.5 decisions on average (given at least one change)
    dist = [sum(a != b for a, b in zip(c, best)) for c in cands[:50]]
    assert min(dist) >= 1 and np.mean(dist) < 2.5


def test_pending_trials_are_never_repeated_and_tiny_space_exhausts():
    space = ToySpace((3, 2, 3))  # 18 architectures
    s = Bananas(num_init=4, k=2, num_layers=2, epochs=3).setup(space, OBJ, None, seed=0)
    f = _landscape((3, 2, 3))
    pending, seen = [], []
    while True:
        t = s.ask()
        if t is None:
            break
        seen.append(t.arch)
        pending.append(t)
        if len(pending) == 3:  # three workers, results told out of order
            for tr in (pending.pop(1), pending.pop(0)):
                s.tell(tr, Evaluation({"acc": f(tr.arch)}, cost=1.0))
    assert sorted(seen) == sorted(space.enumerate())


def test_encoding_path_on_nb201_and_onehot_fallback():
    from benchlab.benchmarks.nb201._space import NB201Space

    f = _landscape()
    for space, kind, dims in ((NB201Space(), "path", 84), (ToySpace.nb201_like(), "onehot", 30)):
        s = Bananas(num_layers=2, epochs=3)
        _drive(s, lambda a: f(tuple(a)), 12, space, seed=0)
        assert s.stats()["encoding"] == kind
        assert s._X[0].shape == (dims,)


def test_stats_report_ask_timing():
    s = Bananas(num_layers=2, epochs=5)
    _drive(s, _landscape(), 25, ToySpace.nb201_like(), seed=0)
    st = s.stats()
    assert st["asks"] == 25 and st["model_fits"] == 2
    assert 0 < st["ask_seconds_mean"] <= st["ask_seconds_max"]
    assert st["fit_seconds_max"] > 0


# -- search quality ------------------------------------------------------------------------
def test_bananas_beats_random_search_on_a_structured_landscape():
    from benchlab.strategies.random_search import RandomSearch

    space = ToySpace.nb201_like()
    f = _landscape(seed=3)
    opt = max(f(a) for a in space.enumerate())
    regrets = {"bananas": [], "random": []}
    for seed in range(5):
        regrets["bananas"].append(opt - _drive(Bananas(epochs=60), f, 60, space, seed))
        regrets["random"].append(opt - _drive(RandomSearch(), f, 60, space, seed))
    b, r = np.array(regrets["bananas"]), np.array(regrets["random"])
    assert b.mean() < 0.5 * r.mean(), regrets
    assert (b < r).sum() >= 4, regrets


# -- real data -----------------------------------------------------------------------------
@pytest.mark.data
def test_bananas_on_nb201_uses_path_encoding(nb201_data):
    from benchlab import RunSpec, run

    spec = RunSpec(benchmark="nb201", strategy="bananas", strategy_kwargs={"epochs": 30}, max_evaluations=30)
    result = run(spec)
    assert result.summary["n_evaluations"] == 30
    st = result.summary["strategy_stats"]
    assert st["encoding"] == "path" and st["model_fits"] == 2
