"""Cost bounds for runs of thousands of evaluations (the NB101 protocol runs to 1e7 simulated
seconds, 5,000-40,000 evaluations per run): the options that bound model refits, the
vectorised KDE of BOHB and the pre-filter of restricted NB101 mutation, each checked
against the plain definition it replaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchlab import CategoricalSpace, Evaluation, Fidelity, InvalidConfig, Objective, RandomStream
from benchlab.benchmarks.nb101 import NB101Space
from benchlab.benchmarks.nb101 import _space as nb101_space
from benchlab.benchmarks.nb101._graph import arch_hash
from benchlab.strategies._kde import CategoricalKDE
from benchlab.strategies.bananas import Bananas
from benchlab.strategies.multi_fidelity import BOHB
from benchlab.strategies.smac import SMACRandomForest

OBJ = (Objective("acc", "max"),)


def _score(arch) -> float:
    return float(sum(v == 0 for v in arch)) + 0.01 * float(arch[-1])


def _drive(strategy, space, n, fidelity=None, seed=0):
    strategy.setup(space, OBJ, fidelity, seed=seed)
    archs = []
    for _ in range(n):
        t = strategy.ask()
        archs.append(t.arch)
        value = _score(t.arch) * (t.fidelity or 1)
        strategy.tell(t, Evaluation({"acc": value}, 1.0, t.fidelity))
    return archs


# -- BOHB's KDE --------------------------------------------------------------------------
@pytest.mark.parametrize("min_bandwidth", [0.0, 1e-3, 0.3])
def test_kde_pdf_is_the_product_kernel_density(min_bandwidth):
    gen = np.random.default_rng(7)
    for _ in range(60):
        d = int(gen.integers(1, 8))
        levels = gen.integers(2, 6, size=d)
        data = (gen.random((int(gen.integers(1, 40)), d)) * levels).astype(np.int64)
        x = (gen.random((int(gen.integers(1, 15)), d)) * levels).astype(np.int64)
        kde = CategoricalKDE(data, levels, min_bandwidth)
        same = x[:, None, :] == data[None]
        expected = np.where(same, 1 - kde.bw, kde.bw / (levels - 1)).prod(axis=2).mean(axis=1)
        np.testing.assert_allclose(kde.pdf(x), expected, rtol=1e-12, atol=0)
        assert np.all(kde.bw < (levels - 1) / levels)  # just below the uniform kernel


def test_kde_at_the_cap_still_ranks_by_agreement():
    """Every bandwidth at the cap: the densities differ only by the limit margin, and a
    candidate agreeing with the data on more decisions ranks higher (exactly, not by rounding)."""
    levels = np.array([5] * 6)
    data = np.array([[0, 1, 2, 3, 4, 0], [4, 3, 2, 1, 0, 4], [1, 1, 1, 1, 1, 1]])
    kde = CategoricalKDE(data, levels, min_bandwidth=0.9)  # raised to the cap on every decision
    near, far = np.array([[0, 1, 2, 3, 4, 1]]), np.array([[2, 0, 0, 0, 2, 2]])
    assert kde.pdf(near)[0] > kde.pdf(far)[0]
    assert kde.pdf(near)[0] == pytest.approx(kde.pdf(far)[0], rel=1e-4)


def test_bohb_keeps_its_rung_data_ranked():
    space = CategoricalSpace([("d", range(4))] * 5)
    bohb = BOHB(random_fraction=0.0)
    _drive(bohb, space, 300, Fidelity("epochs", (1, 3, 9), 9), seed=4)
    for rung in bohb._obs.values():
        codes = rung.ranked_codes()
        scores = [rung._keys[i][0] for i in range(len(rung))]
        assert scores == sorted(scores) and len(codes) == len(rung)
        assert [tuple(c) for c in codes] == [tuple(rung._codes[i]) for _, i in rung._keys]


# -- refit schedules ----------------------------------------------------------------------
def test_bananas_refit_growth_and_step_cap():
    space = CategoricalSpace([("d", range(5))] * 6)
    small = {"num_layers": 2, "layer_width": 8, "epochs": 30}
    every = Bananas(**small)
    _drive(every, space, 200, seed=1)
    grown = Bananas(**small, refit_growth=0.5, max_fit_steps=40)
    archs = _drive(grown, space, 200, seed=1)
    assert len(set(archs)) == 200  # nothing proposed twice
    # refits at 10 told results, then once the count has grown by half: 10, 20, 30, 45, 68, 102, 153
    assert grown.stats()["model_fits"] == 7 < every.stats()["model_fits"] == 19
    with pytest.raises(InvalidConfig, match="refit_growth"):
        Bananas(refit_growth=-1.0).setup(space, OBJ, None, seed=0)
    with pytest.raises(InvalidConfig, match="max_fit_steps"):
        Bananas(max_fit_steps=0).setup(space, OBJ, None, seed=0)


def test_bananas_step_cap_limits_the_epochs(monkeypatch):
    from benchlab.strategies import _mlp

    seen = []
    real = _mlp.MLPEnsemble.fit

    def fit(self, X, y, *, epochs, batch_size, rng):
        seen.append((len(y), epochs))
        return real(self, X, y, epochs=epochs, batch_size=batch_size, rng=rng)

    monkeypatch.setattr(_mlp.MLPEnsemble, "fit", fit)
    space = CategoricalSpace([("d", range(5))] * 6)
    _drive(Bananas(num_layers=1, layer_width=4, epochs=30, batch_size=4, max_fit_steps=20), space, 60, seed=2)
    for n, epochs in seen:
        assert epochs == min(30, max(1, 20 // math.ceil(n / 4)))
    assert seen[-1][1] < 30


def test_smac_refit_growth_takes_the_ranking_in_order():
    space = CategoricalSpace([("d", range(4))] * 5)
    kwargs = {"n_trees": 3, "n_random_candidates": 50, "n_local_starts": 2, "random_probability": 0.0}
    smac = SMACRandomForest(**kwargs, refit_growth=1.0)
    archs = _drive(smac, space, 120, seed=3)
    assert len(set(archs)) == 120
    # model asks: fits at 10, 20, 40, 80 told results; the rest come from the stored rankings
    assert smac.stats()["asks"] == 110
    assert len(smac._ranked) > 0 and smac._fit_n == 80
    plain = SMACRandomForest(**kwargs)
    _drive(plain, space, 120, seed=3)
    assert plain.stats()["asks"] == 110
    with pytest.raises(InvalidConfig, match="refit_growth"):
        SMACRandomForest(refit_growth=math.inf).setup(space, OBJ, None, seed=0)


# -- restricted NB101 mutation -------------------------------------------------------------
def test_random_stream_uniforms_are_its_scalar_draws():
    a, b = RandomStream(5), RandomStream(5)
    for n in (3, 26, 1000, 26, 26, 5000):
        assert a.uniforms(n) == [b.random() for _ in range(n)]
    assert a.random() == b.random()


def test_restricted_hash_prefilter_is_exact():
    full = NB101Space()
    rng = np.random.default_rng(11)
    cells = [full.sample(rng) for _ in range(300)]
    space = NB101Space(archs=cells)
    labels = space._member_labels()
    allowed = space.hashes
    hits = 0
    for parent in cells[:40]:
        for _ in range(30):
            child = full.mutate(parent, rng)
            h = arch_hash(child)
            expected = h if h in allowed else None
            assert space._restricted_hash(child, labels) == expected
            assert space._restricted_hash(child, None) == expected
            hits += expected is not None
    assert hits > 0
    # every tuple of an allowed cell passes the filter
    for a in cells:
        keep, succ, _ = nb101_space._analyse(a)
        assert nb101_space._degree_labels(keep, succ, a) in labels
    child = space.mutate(cells[0], RandomStream(1))
    assert arch_hash(child) in allowed and arch_hash(child) != arch_hash(cells[0])


def test_smac_model_switches_run_the_same_protocol():
    """bootstrapping, log_y and splitter change the forest's numbers only: every variant proposes
    unseen architectures and uses its model."""
    space = CategoricalSpace([("d", range(4))] * 5)
    base = {"n_trees": 3, "n_random_candidates": 30, "n_local_starts": 1}
    for switches in ({"bootstrapping": False, "log_y": False, "splitter": "random"}, {"splitter": "random"}):
        smac = SMACRandomForest(**base, **switches)
        archs = _drive(smac, space, 40, seed=5)
        assert len(set(archs)) == 40 and smac.stats()["asks"] > 0
    with pytest.raises(InvalidConfig, match="splitter"):
        SMACRandomForest(splitter="best-first").setup(space, OBJ, None, seed=0)
