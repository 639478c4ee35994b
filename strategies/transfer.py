"""Cross-task transfer strategies: search a target task using what is known of other tasks.

Every strategy here takes its prior knowledge only from two parameters, recorded in the run
spec and its hash (see :func:`benchlab.ext.load_transfer_prior`):

* ``source``: a task of the same benchmark family, or a list of them, e.g. on NB201
  ``source="cifar10-valid"`` when searching cifar100; on TransNAS-Bench-101 another task;
  the source's strategy-visible (validation) metric of every architecture at its highest
  fidelity is read through the benchmark's public ``evaluate_many``;
* ``transfer_from``: a benchlab results folder: the architectures earlier runs evaluated
  and their visible objective values.

With neither, each strategy is exactly its from-scratch counterpart (given the same seed it
makes the same draws), so "the same strategy from scratch" is the same name without a source. A source is never the
target's test split: only validation values of other tasks (or the visible values of earlier
runs) are read; ``benchlab.testing.check_transfer_no_test_access`` checks it. Naming the
target task itself as the source would hand the strategy every validation value for free:
the protocols never do, and users should not.

``stats()`` records what was read (folder fingerprint or source table fingerprint) under
``"transfer"`` in ``summary.json``.
"""

from __future__ import annotations

from typing import ClassVar

import math

import numpy as np

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param, load_transfer_prior

from .bayesopt import GPBayesOpt, _one_blas_thread, expected_improvement
from .evolution import RegularizedEvolution
from .local_search import LocalSearch, sample_unproposed

__all__ = ["WarmStartREA", "ZeroShotRanking", "WarmStartLocalSearch", "RGPE", "TRANSFER_PARAMETERS"]

TRANSFER_PARAMETERS = {
    "source": Param(object, none=True, doc="task(s) of the same benchmark family whose validation values are the prior, "
                    "e.g. 'cifar10-valid' or 'nb201:dataset=cifar10-valid' or a list"),
    "transfer_from": Param(str, none=True, doc="a benchlab results folder whose told trials (visible values) are the prior"),
}  # fmt: skip


class _Transfer:
    """``_load_prior()`` in ``_setup`` returns the TransferPrior (or None) and keeps only its
    identity (``self._transfer``), which ``stats()`` reports; each strategy keeps what it needs
    of the prior (a few architectures, or the ranking), so its pickled state stays small."""

    tags = frozenset({"transfer"})

    def _load_prior(self):
        prior = load_transfer_prior(self.space, source=self.source, transfer_from=self.transfer_from)
        self._transfer = None if prior is None else {**prior.identity, "ranked_archs": len(prior.ranking)}
        return prior

    def _transfer_stats(self) -> dict:
        return {"transfer": self._transfer} if hasattr(self, "_transfer") else {}


def _count(name: str, value, low: int, owner: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidConfig(f"{owner}: {name} must be an integer >= {low}, got {value!r}")


@register_strategy("rea_warm")
class WarmStartREA(_Transfer, RegularizedEvolution):
    """Regularized evolution whose initial population is the best source architectures.

    Real et al. (AAAI 2019) aging evolution (:class:`RegularizedEvolution`), warm-started as
    Feurer, Springenberg & Hutter (AAAI 2015, "Initializing Bayesian hyperparameter
    optimization via meta-learning") warm-start a search with the best configurations of
    similar tasks: the first ``num_warm`` trials are the ``num_warm`` best architectures of
    the source ranking (mean normalised rank over the sources), the rest of the initial
    population is uniformly random, then tournament selection and aging proceed unchanged.

    Defaults: ``population_size=10``, ``sample_size=3`` (the NAS-Bench-201 paper's REA);
    ``num_warm=10``: the whole initial population comes from the source. Without a source
    it is ``regularized_evolution`` (same draws for the same seed).
    """

    description = "regularized evolution warm-started with the best source architectures (transfer; P=10, S=3)"
    parameters = {
        **RegularizedEvolution.parameters,
        "num_warm": Param(int, low=0, doc="initial-population members taken from the source ranking (the rest random)"),
        **TRANSFER_PARAMETERS,
    }

    def __init__(self, population_size: int = 10, sample_size: int = 3, num_warm: int = 10, source=None,
                 transfer_from: str | None = None) -> None:  # fmt: skip
        super().__init__(population_size=population_size, sample_size=sample_size)
        self.num_warm = num_warm
        self.source = source
        self.transfer_from = transfer_from

    def _setup(self) -> None:
        super()._setup()
        _count("num_warm", self.num_warm, 0, "rea_warm")
        prior = self._load_prior()
        k = min(self.num_warm, self.population_size)
        self._warm = list(reversed(prior.top(k))) if prior is not None else []  # popped from the end

    def ask(self):
        if self._warm and len(self._population) < self.population_size:
            return self._trial(self._warm.pop())
        return super().ask()

    def stats(self) -> dict:
        return self._transfer_stats()


@register_strategy("zero_shot")
class ZeroShotRanking(_Transfer, Strategy):
    """Zero-shot transfer: evaluate the architectures in the order of the source ranking.

    The model-free baseline of transfer hyper-parameter optimisation (Wistuba, Schilling &
    Schmidt-Thieme, ICDM 2015, "Sequential model-free hyperparameter tuning", learn a fixed
    order from other tasks; here the order is the mean normalised rank over the sources):
    trial ``i`` is the ``i``-th best source architecture, with no adaptation to the target's
    results. When the ranking is exhausted (a results folder covers part of the space) it
    continues with uniformly random architectures never proposed; without a source it is
    random search without replacement. No parameters besides the source.
    """

    description = "zero-shot transfer: evaluate the source ranking in order (Wistuba et al. 2015 baseline)"
    tags = frozenset({"transfer", "exhaustive"})
    parameters = dict(TRANSFER_PARAMETERS)

    def __init__(self, source=None, transfer_from: str | None = None) -> None:
        self.source = source
        self.transfer_from = transfer_from

    def _setup(self) -> None:
        prior = self._load_prior()
        self._ranking = prior.ranking if prior is not None else ()
        self._next = 0
        self._proposed: set = set()

    def ask(self):
        ranking = self._ranking
        while self._next < len(ranking):
            arch = ranking[self._next]
            self._next += 1
            if arch not in self._proposed:
                self._proposed.add(arch)
                return self._trial(arch)
        arch = sample_unproposed(self.space, self.rng, self._proposed)
        if arch is None:
            return None
        self._proposed.add(arch)
        return self._trial(arch)

    def stats(self) -> dict:
        return self._transfer_stats()


@register_strategy("ls_warm")
class WarmStartLocalSearch(_Transfer, LocalSearch):
    """Local search that starts its first climb from the best source architectures.

    :class:`LocalSearch` (White, Nolen-Zarate & Savani, UAI 2021) whose first round of
    ``num_init`` starting architectures takes the ``num_warm`` best of the source ranking
    (the rest uniformly random): the best of them on the target becomes the first current
    point, so the climb starts where the source says the good region is. Restarts are as in
    local search (fresh random starts by default). Defaults are local search's
    (``num_init=10``, first improvement, random restarts) and ``num_warm=10`` (the whole
    first round from the source; ``num_init=1, num_warm=1`` climbs from the source's single
    best). Without a source it is ``local_search`` (same draws for the same seed).
    """

    description = "local search whose first climb starts from the best source architectures (transfer)"
    tags = frozenset({"transfer", "exhaustive"})
    conformance_cases = ({}, {"first_improvement": False}, {"restart": "best"})
    parameters = {
        **LocalSearch.parameters,
        "num_warm": Param(int, low=0, doc="first-round starting architectures taken from the source ranking"),
        **TRANSFER_PARAMETERS,
    }

    def __init__(self, num_init: int = 10, first_improvement: bool = True, restart: str = "random", num_warm: int = 10,
                 source=None, transfer_from: str | None = None) -> None:  # fmt: skip
        super().__init__(num_init=num_init, first_improvement=first_improvement, restart=restart)
        self.num_warm = num_warm
        self.source = source
        self.transfer_from = transfer_from

    def _setup(self) -> None:
        super()._setup()
        _count("num_warm", self.num_warm, 0, "ls_warm")
        prior = self._load_prior()
        k = min(self.num_warm, self.num_init)
        self._warm = list(reversed(prior.top(k))) if prior is not None else []

    def _random_trial(self):
        if self._round == 0:
            while self._warm:
                arch = self._warm.pop()
                if arch not in self._proposed:
                    if self._init_left > 0:
                        self._init_left -= 1
                    return self._propose(arch, "init")
        return super()._random_trial()

    def stats(self) -> dict:
        return {**super().stats(), **self._transfer_stats()}


@register_strategy("rgpe")
class RGPE(_Transfer, GPBayesOpt):
    """Ranking-weighted Gaussian process ensemble (Feurer, Letham & Bakshy, 2018,
    "Scalable meta-learning for Bayesian optimization using ranking-weighted Gaussian
    process ensembles", AutoML workshop at ICML; arXiv:1802.02219).

    One GP per source task, fitted once at setup on ``num_source_points`` of its
    architectures (the best half and a uniformly random half of the rest, drawn from the
    strategy's RNG; y standardised per task), and the target GP of :class:`GPBayesOpt`
    (same encodings, kernel, candidate pool, kriging believer for pending trials), fitted on
    the standardised target results. Each ask weighs the models by their ranking loss on
    the target results: ``num_samples`` draws from each source GP's joint posterior at the
    evaluated architectures and from the target GP's leave-one-out posterior; a model's
    loss in a draw is the number of misordered pairs of target results; its weight is the
    fraction of draws in which it has the smallest loss (ties split at random); a source
    model whose median loss exceeds the 95th percentile of the target model's is dropped
    (the paper's guard against weight dilution). The ensemble predicts
    ``sum w_i mean_i`` with variance ``sum w_i^2 var_i``; expected improvement over the
    best standardised target result picks among the candidates, which also include the
    ``num_source_candidates`` best unproposed source architectures.

    With a source the first trial is the best source architecture and the ensemble is used
    from the second on (``num_init`` is the initial random design of the from-scratch
    case). Without a source it is ``gp_bo`` (same draws for the same seed).

    Defaults: ``num_samples=256`` (the BoTorch RGPE tutorial by the paper's authors; the
    paper uses 1,000), ``num_source_points=100`` (an engineering choice: a source GP fit
    stays under 0.1 s), ``num_source_candidates=50``; the GP defaults are ``gp_bo``'s.
    """

    description = "RGPE: ranking-weighted GP ensemble over source tasks + target (Feurer et al. 2018; transfer)"
    tags = frozenset({"transfer", "exhaustive", "model_based"})
    # The conformance suite drives hundreds of short runs: the same code paths with a
    # smaller candidate pool, fewer kernel refits and fewer posterior draws.
    conformance_cases: ClassVar[list[dict]] = [
        {"num_candidates": 20, "refit_growth": 1.0, "num_samples": 8, "num_source_points": 20},
    ]
    parameters = {
        **GPBayesOpt.parameters,
        "num_source_points": Param(int, low=2, doc="architectures per source task its GP is fitted on"),
        "num_samples": Param(int, low=1, doc="posterior draws that estimate the ranking-loss weights"),
        "num_source_candidates": Param(int, low=0, doc="best unproposed source architectures added to each candidate pool"),
        **TRANSFER_PARAMETERS,
    }

    def __init__(self, encoding: str = "onehot", num_init: int = 10, num_candidates: int = 200, kernel: str = "matern",
                 n_restarts_optimizer: int = 0, refit_growth: float = 0.1, num_source_points: int = 100,
                 num_samples: int = 256, num_source_candidates: int = 50, source=None,
                 transfer_from: str | None = None) -> None:  # fmt: skip
        super().__init__(encoding=encoding, num_init=num_init, num_candidates=num_candidates, kernel=kernel,
                         n_restarts_optimizer=n_restarts_optimizer, refit_growth=refit_growth)  # fmt: skip
        self.num_source_points = num_source_points
        self.num_samples = num_samples
        self.num_source_candidates = num_source_candidates
        self.source = source
        self.transfer_from = transfer_from

    # -- setup --------------------------------------------------------------------------------
    def _setup(self) -> None:
        super()._setup()
        _count("num_source_points", self.num_source_points, 2, "rgpe")
        _count("num_samples", self.num_samples, 1, "rgpe")
        _count("num_source_candidates", self.num_source_candidates, 0, "rgpe")
        prior = self._load_prior()
        self._source_gps: list = []
        self._weights_last: list = []
        self._dropped = 0
        self._ranking = prior.ranking if prior is not None else None
        if prior is None:
            return
        with _one_blas_thread():
            for src in prior.sources:
                self._source_gps.append(self._fit_source(src))

    def _fit_source(self, src):
        scores = np.asarray(src.scores, dtype=np.float64)
        finite = np.flatnonzero(np.isfinite(scores))
        if finite.size < 2:
            return None
        n = min(self.num_source_points, finite.size)
        order = finite[np.argsort(-scores[finite], kind="stable")]
        best = order[: n // 2]
        rest = order[n // 2 :]
        pick = rest[self.rng.generator.choice(rest.size, size=n - best.size, replace=False)] if n > best.size else rest[:0]
        idx = np.concatenate([best, np.sort(pick)])
        X = np.stack([self._encode(src.archs[i]) for i in idx.tolist()])
        y = scores[idx]
        y = (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)
        return self._fit(X, y, self._initial_kernel(), True)

    # -- the ensemble ---------------------------------------------------------------------------
    def _loo(self, gp, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out predictive means and variances of the target GP (closed form)."""
        from scipy.linalg import cho_factor, cho_solve

        K = gp.kernel_(X) + np.eye(len(y)) * 1e-10
        Kinv = cho_solve(cho_factor(K, lower=True), np.eye(len(y)))
        alpha = Kinv @ y  # y is standardised: the GP's own normalisation is the identity
        d = np.diag(Kinv)
        return y - alpha / d, 1.0 / d

    def _rank_losses(self, samples: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Misordered pairs of each draw (rows of ``samples``) against the observed ``y``."""
        truth = y[:, None] < y[None, :]
        return np.count_nonzero((samples[:, :, None] < samples[:, None, :]) != truth, axis=(1, 2))

    def _weights(self, X: np.ndarray, y: np.ndarray, target_gp) -> np.ndarray:
        models = self._source_gps
        S, n = self.num_samples, len(y)
        gen = self.rng.generator
        losses = np.zeros((len(models) + 1, S))
        for i, gp in enumerate(models):
            if gp is None:
                losses[i] = np.inf
                continue
            mean, cov = gp.predict(X, return_cov=True)
            L = np.linalg.cholesky(cov + np.eye(n) * (1e-8 + 1e-6 * float(np.mean(np.diag(cov)))))
            draws = mean[None, :] + gen.standard_normal((S, n)) @ L.T
            losses[i] = self._rank_losses(draws, y)
        loo_mean, loo_var = self._loo(target_gp, X, y)
        draws = loo_mean[None, :] + gen.standard_normal((S, n)) * np.sqrt(np.maximum(loo_var, 0.0))[None, :]
        losses[-1] = self._rank_losses(draws, y)
        # weight dilution guard (paper, section 3): drop sources worse than the target's 95th percentile
        limit = np.percentile(losses[-1], 95)
        dropped = [i for i in range(len(models)) if np.median(losses[i]) > limit]
        for i in dropped:
            losses[i] = np.inf
        self._dropped += len(dropped)
        # the model with the smallest loss wins each draw; ties split at random
        jitter = gen.random(losses.shape)
        best = np.lexsort((jitter, losses), axis=0)[0]
        return np.bincount(best, minlength=losses.shape[0]) / S

    def _ask(self):
        if self._ranking is None:
            return super()._ask()
        scores = np.asarray(self._scores, dtype=np.float64)
        finite = np.isfinite(scores)
        if not finite.any():  # nothing (finite) told yet: the best unproposed source architecture
            for arch in self._ranking:
                if arch not in self._proposed:
                    return self._propose(arch, "source")
            arch = sample_unproposed(self.space, self.rng, self._proposed)
            return None if arch is None else self._propose(arch, "random")
        self._model_asks += 1
        y_raw = np.where(finite, scores, scores[finite].min())
        best_i = int(np.argmax(y_raw))
        pool = self._candidates(self._archs[best_i])
        if self.num_source_candidates:
            have = set(pool)
            extra = []
            for arch in self._ranking:
                if len(extra) >= self.num_source_candidates:
                    break
                if arch not in self._proposed and arch not in have:
                    extra.append(arch)
            pool = pool + extra
        if not pool:
            arch = sample_unproposed(self.space, self.rng, self._proposed)
            return None if arch is None else self._propose(arch, "random")
        sd = float(y_raw.std())
        y = (y_raw - y_raw.mean()) / (sd if sd > 0 else 1.0)
        X = np.stack([self._encode(a) for a in self._archs])
        n = len(y)
        Xc = np.stack([self._encode(a) for a in pool])
        weights = np.zeros(len(self._source_gps) + 1)
        if n >= 2:
            gp, _ = self._fit_scheduled(X, y)
            weights = self._weights(X, y, gp)
            if self._pending:  # kriging believer, as gp_bo
                Xp = np.stack([self._encode(a) for a in self._pending.values()])
                gp = self._fit(np.vstack([X, Xp]), np.concatenate([y, gp.predict(Xp)]), gp.kernel_, False)
            mean_t, std_t = gp.predict(Xc, return_std=True)
        else:  # one result: the sources alone, equally weighted
            usable = [i for i, g in enumerate(self._source_gps) if g is not None]
            weights[usable] = 1.0 / max(len(usable), 1)
            mean_t = std_t = np.zeros(len(pool))
        mean = weights[-1] * mean_t
        var = weights[-1] ** 2 * std_t**2
        for w, gp in zip(weights[:-1].tolist(), self._source_gps):
            if w > 0.0:
                m, s = gp.predict(Xc, return_std=True)
                mean = mean + w * m
                var = var + w * w * s**2
        self._weights_last = weights.tolist()
        ei = expected_improvement(mean, np.sqrt(var), float(y.max()))
        return self._propose(pool[int(np.argmax(ei))], "model")

    def stats(self) -> dict:
        out = {**super().stats(), **self._transfer_stats()}
        if getattr(self, "_transfer", None) is not None:
            out["final_weights"] = self._weights_last
            out["dropped_source_models"] = self._dropped
        return out
