"""Gaussian-process Bayesian optimisation with expected improvement over architecture encodings.

References: Jones, Schonlau & Welch (J. Global Optim. 1998) for expected improvement;
Ginsbourger, Le Riche & Carraro (2010, "Kriging is well-suited to parallelize
optimization") for the kriging believer used with parallel workers; the NAS setting
(encodings, random initial design, candidate pool of mutations + random samples) follows
White et al.'s naszilla / BANANAS code (AAAI 2021) and its GP baseline ``gp_bayesopt``.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._blas import one_blas_thread as _one_blas_thread
from .local_search import sample_unproposed

__all__ = ["GPBayesOpt", "expected_improvement"]

_ENCODINGS = ("onehot", "path")
_KERNELS = ("matern", "rbf")
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement over ``best`` of a maximised Gaussian prediction (Jones et al. 1998).

    ``EI = (mean - best - xi) * Phi(z) + std * phi(z)`` with ``z = (mean - best - xi) / std``;
    where ``std == 0`` it is ``max(mean - best - xi, 0)``. Arrays of float64.
    """
    from scipy.special import ndtr  # scipy loads when a GP is used, not when benchlab starts

    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    imp = mean - best - xi
    positive = std > 0.0
    safe = np.where(positive, std, 1.0)
    z = imp / safe
    ei = imp * ndtr(z) + safe * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return np.where(positive, np.maximum(ei, 0.0), np.maximum(imp, 0.0))


@register_strategy("gp_bo")
class GPBayesOpt(Strategy):
    """GP-based Bayesian optimisation with expected improvement (EI).

    1. The first ``num_init`` trials are uniformly random architectures (never repeated).
    2. Then each ``ask`` fits a ``sklearn`` ``GaussianProcessRegressor`` (kernel
       ``Constant * Matern(nu=2.5)`` or ``Constant * RBF``, isotropic length scale, plus a
       ``WhiteKernel`` for the noise of tabular queries; ``normalize_y=True``; float64) on
       the encodings (``space.encode(arch, encoding)``) and scores of every told result,
       builds a candidate pool of ``num_candidates`` architectures never proposed before
       -- half mutations of the best observed architecture (1 or 2 ``space.mutate`` steps),
       half uniform random samples; every unproposed architecture when at most
       ``num_candidates`` are left -- and proposes the candidate of maximal EI over the
       best observed score. Kernel hyper-parameters are re-optimised by maximum likelihood
       (L-BFGS-B, warm-started from the previous fit, ``n_restarts_optimizer`` extra
       restarts seeded from the strategy's RNG) whenever the number of results has grown
       by the fraction ``refit_growth`` since the last optimisation; in between, the GP is
       refitted on all data with the kernel hyper-parameters kept.
    3. Pending trials (parallel workers): kriging believer (Ginsbourger et al. 2010) --
       each pending architecture is added to the training data with the GP's posterior
       mean as its value (kernel kept fixed), which shrinks the variance around it so the
       next proposal goes elsewhere.

    Failed results (NaN, or infinite scores) enter the model as the worst finite score
    seen. No architecture is proposed twice; on a finite space every architecture is
    eventually proposed and then ``ask()`` returns None (tag ``exhaustive``).

    Parameters and the source of each default
    ------------------------------------------
    encoding: ``"onehot"`` (default; every ``CategoricalSpace``) or ``"path"`` (the BANANAS
        path encoding, White et al. AAAI 2021; NAS-Bench-201 offers it). A space that
        lacks the encoding raises ``InvalidConfig`` at setup.
    num_init: 10 random architectures first (naszilla ``DEFAULT_NUM_INIT = 10``, used by
        its ``gp_bayesopt`` and ``bananas``).
    num_candidates: 200 (naszilla ``get_candidates(num=100, acq_opt_type="mutation_random")``:
        100 mutations of the best architecture plus up to 100 random ones).
    kernel: ``"matern"`` (Matern 5/2, the common BO default: Snoek et al., NeurIPS 2012)
        or ``"rbf"``.
    refit_growth: 0.1 (an engineering choice, not from a paper: hyper-parameters change
        little between consecutive asks; every ask while at most 10 results are in,
        then about every n/10 asks -- 0 re-optimises at every ask).
    n_restarts_optimizer: 0 (keeps an ask of a 150-observation fit well under 0.5 s on 2
        cores; raise it for more careful hyper-parameter fits).
    """

    description = "GP Bayesian optimisation with expected improvement (onehot/path encodings, kriging believer)"
    tags = frozenset({"exhaustive", "model_based"})

    parameters = {
        "encoding": Param(str, choices=_ENCODINGS, doc="feature vector of an architecture for the GP"),
        "num_init": Param(int, low=1, doc="uniformly random architectures before the first GP fit"),
        "num_candidates": Param(int, low=1, doc="unproposed candidates scored by EI per ask"),
        "kernel": Param(str, choices=_KERNELS, doc="Matern 5/2 or RBF covariance"),
        "n_restarts_optimizer": Param(int, low=0, doc="extra restarts of the kernel hyper-parameter fit"),
        "refit_growth": Param(float, low=0, doc="re-optimise the kernel when the data grew by this fraction"),
    }

    def __init__(
        self,
        encoding: str = "onehot",
        num_init: int = 10,
        num_candidates: int = 200,
        kernel: str = "matern",
        n_restarts_optimizer: int = 0,
        refit_growth: float = 0.1,
    ) -> None:
        self.encoding = encoding
        self.num_init = num_init
        self.num_candidates = num_candidates
        self.kernel = kernel
        self.n_restarts_optimizer = n_restarts_optimizer
        self.refit_growth = refit_growth

    # -- setup ------------------------------------------------------------------------
    def _setup(self) -> None:
        for name, low in (("num_init", 1), ("num_candidates", 1), ("n_restarts_optimizer", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InvalidConfig(f"gp_bo: {name} must be an integer >= {low}, got {v!r}")
        g = self.refit_growth
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not (0.0 <= g < math.inf):
            raise InvalidConfig(f"gp_bo: refit_growth must be a finite number >= 0, got {g!r}")
        if self.encoding not in _ENCODINGS:
            raise InvalidConfig(f"gp_bo: encoding must be one of {_ENCODINGS}, got {self.encoding!r}")
        if self.kernel not in _KERNELS:
            raise InvalidConfig(f"gp_bo: kernel must be one of {_KERNELS}, got {self.kernel!r}")
        probe = self.space.sample(np.random.default_rng(0))  # a throwaway generator: self.rng is untouched
        try:
            vec = np.asarray(self.space.encode(probe, self.encoding), dtype=np.float64)
        except (ValueError, NotImplementedError, KeyError) as exc:
            raise InvalidConfig(
                f"gp_bo: the {self.space.name} space has no {self.encoding!r} encoding ({exc}); use encoding='onehot'"
            ) from exc
        if vec.ndim != 1 or vec.size == 0:
            raise InvalidConfig(f"gp_bo: space.encode(arch, {self.encoding!r}) must give a non-empty vector, got shape {vec.shape}")
        self._dim = vec.size
        import scipy.special  # noqa: F401  (loaded in setup, so no timed ask pays for it)
        import sklearn.gaussian_process  # noqa: F401  (imported here, once, so no ask pays for it)

        self._enc: dict = {}  # arch -> encoding (cache)
        self._proposed: set = set()
        self._pending: dict = {}  # trial id -> arch
        self._archs: list = []  # told architectures, in tell order
        self._scores: list = []  # their scores (maximised; NaN -> -inf)
        self._kernel_fit = None  # last fitted kernel: warm start of the next fit
        self._next_opt = 0  # re-optimise the kernel hyper-parameters once this many results are in
        self._n_opt = 0
        self._ask_seconds: list = []
        self._model_asks = 0

    # -- helpers ----------------------------------------------------------------------
    def _encode(self, arch) -> np.ndarray:
        vec = self._enc.get(arch)
        if vec is None:
            vec = np.asarray(self.space.encode(arch, self.encoding), dtype=np.float64)
            self._enc[arch] = vec
        return vec

    def _initial_kernel(self):
        from sklearn.gaussian_process.kernels import (
            RBF,
            ConstantKernel,
            Matern,
            WhiteKernel,
        )

        length = math.sqrt(self._dim)  # a one-hot/path vector differs in a few entries: start near that scale
        base = (
            Matern(length_scale=length, length_scale_bounds=(1e-2, 1e3), nu=2.5)
            if self.kernel == "matern"
            else RBF(length_scale=length, length_scale_bounds=(1e-2, 1e3))
        )
        return ConstantKernel(1.0, (1e-3, 1e3)) * base + WhiteKernel(1e-2, (1e-6, 1e1))

    def _fit(self, X: np.ndarray, y: np.ndarray, kernel, optimise: bool):
        from sklearn.gaussian_process import GaussianProcessRegressor

        gp = GaussianProcessRegressor(
            kernel=kernel,
            normalize_y=True,
            optimizer="fmin_l_bfgs_b" if optimise else None,
            n_restarts_optimizer=self.n_restarts_optimizer if optimise else 0,
            random_state=int(self.rng.generator.integers(2**31)) if optimise else 0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hyper-parameters at their bounds: harmless, and noisy
            gp.fit(X, y)
        return gp

    def _candidates(self, best_arch) -> list:
        """Up to ``num_candidates`` never-proposed architectures: mutations of ``best_arch``
        (1 or 2 steps) and uniform random samples (at most 2 tries per slot); on a finite
        space with at most ``num_candidates`` unproposed architectures, all of them."""
        space, rng, proposed = self.space, self.rng, self._proposed
        size = space.size
        if math.isfinite(size) and size - len(proposed) <= self.num_candidates:
            return [a for a in space.enumerate() if a not in proposed]  # small space: every unproposed one
        n_mut = self.num_candidates // 2
        n_rand = self.num_candidates - n_mut
        pool: list = []
        seen: set = set()
        for _ in range(2 * n_mut):
            if len(pool) >= n_mut:
                break
            arch = space.mutate(best_arch, rng)
            if rng.random() < 0.5:
                arch = space.mutate(arch, rng)
            if arch not in proposed and arch not in seen:
                seen.add(arch)
                pool.append(arch)
        target = len(pool) + n_rand
        for _ in range(2 * n_rand):
            if len(pool) >= target:
                break
            arch = space.sample(rng)
            if arch not in proposed and arch not in seen:
                seen.add(arch)
                pool.append(arch)
        return pool

    def _propose(self, arch, kind: str):
        self._proposed.add(arch)
        trial = self._trial(arch, info=kind)
        self._pending[trial.id] = arch
        return trial

    # -- ask/tell ---------------------------------------------------------------------
    def ask(self):
        t0 = time.perf_counter()
        try:
            with _one_blas_thread():
                return self._ask()
        finally:
            self._ask_seconds.append(time.perf_counter() - t0)

    def _fit_scheduled(self, X, y):
        """The GP on ``(X, y)``, its kernel hyper-parameters re-optimised only once the data
        grew by ``refit_growth`` since the last optimisation; returns ``(gp, optimised)``."""
        n = len(y)
        optimise = self._kernel_fit is None or n >= self._next_opt
        if optimise:
            self._n_opt += 1
            self._next_opt = max(n + 1, math.ceil(n * (1.0 + self.refit_growth)))
        gp = self._fit(X, y, self._kernel_fit if self._kernel_fit is not None else self._initial_kernel(), optimise)
        self._kernel_fit = gp.kernel_
        return gp, optimise

    def _ask(self):
        scores = np.asarray(self._scores, dtype=np.float64)
        finite = np.isfinite(scores)
        if self._n_asked < self.num_init or not finite.any():
            arch = sample_unproposed(self.space, self.rng, self._proposed)
            return None if arch is None else self._propose(arch, "random")
        self._model_asks += 1
        y = np.where(finite, scores, scores[finite].min())  # failures count as the worst result seen
        best_i = int(np.argmax(y))
        best = float(y[best_i])
        pool = self._candidates(self._archs[best_i])
        if not pool:  # mutations and samples all hit proposed architectures: list what is left
            arch = sample_unproposed(self.space, self.rng, self._proposed)
            return None if arch is None else self._propose(arch, "random")
        X = np.stack([self._encode(a) for a in self._archs])
        gp, optimise = self._fit_scheduled(X, y)
        if self._pending:  # kriging believer: pending architectures take the posterior mean as value
            Xp = np.stack([self._encode(a) for a in self._pending.values()])
            lies = gp.predict(Xp)
            gp = self._fit(np.vstack([X, Xp]), np.concatenate([y, lies]), gp.kernel_, False)
        Xc = np.stack([self._encode(a) for a in pool])
        mean, std = gp.predict(Xc, return_std=True)
        ei = expected_improvement(mean, std, best)
        return self._propose(pool[int(np.argmax(ei))], "model")

    def _tell(self, trial, evaluation, score) -> None:
        self._pending.pop(trial.id, None)
        self._proposed.add(trial.arch)
        self._archs.append(trial.arch)
        self._scores.append(score)

    def stats(self) -> dict:
        secs = getattr(self, "_ask_seconds", None)
        if not secs:
            return {}
        return {
            "ask_seconds_mean": float(np.mean(secs)),
            "ask_seconds_max": float(np.max(secs)),
            "asks": len(secs),
            "model_asks": self._model_asks,
            "hyperparameter_fits": self._n_opt,
        }
