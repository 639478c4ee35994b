"""Constraint-aware strategies for hardware-aware NAS (latency, parameter or energy budgets).

On a benchmark with constraints (``nb201:constraints=["latency/pixel3<=12"]``) a strategy
receives the benchmark's :class:`~benchlab.ext.ConstraintSet` as ``self.constraints``;
every evaluation carries the constraint metrics in ``metrics`` and ``feasible``. When the
constraint metrics are *free model properties* (``self.constraints.free``: a latency
look-up table or a parameter count, known without training, the setting of the latency
tables of ProxylessNAS, Cai et al. ICLR 2019, FBNet, Wu et al. CVPR 2019, and the
constrained evolutionary search of Once-for-All, Cai et al. ICLR 2020),
``self.constraints.feasible(arch)`` answers for architectures never evaluated and these
strategies skip known-infeasible proposals; otherwise they learn feasibility from the
evaluations. Without constraints each one behaves exactly like the strategy it extends
(same proposals from the same seed).

* ``constrained_random_search``: random search that rejects known-infeasible draws. When
  feasibility is not free it is plain random search: a non-adaptive sampler has nothing to
  learn from the constraint values it observes (avoiding re-proposals of evaluated
  infeasible architectures would need ``replace=False``, which avoids every re-proposal).
* ``constrained_regularized_evolution``: regularized evolution (Real et al. AAAI 2019) whose
  tournament follows Deb's constraint-domination rules (Deb 2000, CMAME 186: feasible beats
  infeasible, two infeasible compare by total violation, two feasible by the objective);
  with a free look-up, children and initial members are redrawn until feasible (Once-for-All).
* ``constrained_gp_bo``: GP Bayesian optimisation with constrained expected improvement,
  EI x P(feasible) (Schonlau, Welch & Jones 1998; Gardner et al. ICML 2014; Gelbart,
  Snoek & Adams UAI 2014): with a free look-up P(feasible) is exactly 0 or 1 (only feasible
  candidates are scored); otherwise one GP per constraint metric gives
  ``P(feasible) = prod_j Phi(+-(bound_j - mu_j) / sigma_j)``, and before any feasible result
  the acquisition is P(feasible) alone (Gelbart et al.).
"""

from __future__ import annotations

from typing import ClassVar

import math

import numpy as np

from benchlab import InvalidConfig, register_strategy
from benchlab.ext import Param

from .bayesopt import GPBayesOpt, expected_improvement
from .evolution import RegularizedEvolution
from .local_search import sample_unproposed
from .random_search import RandomSearch

__all__ = ["ConstrainedRandomSearch", "ConstrainedRegularizedEvolution", "ConstrainedGPBayesOpt", "deb_key"]

_POOL_DRAWS = 10  # draws per candidate slot of the feasible pool of constrained_gp_bo
_MAX_REJECTIONS = Param(int, low=0, doc="redraws per proposal until one is feasible (free look-up only); then the last draw")


def deb_key(score: float, violation: float) -> tuple[float, float]:
    """Sort key of Deb's constraint-domination rules (larger is better): feasible (violation
    0) beats infeasible, two infeasible compare by total violation, two feasible by score."""
    return (-violation, score)


def _check_rejections(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidConfig(f"{name}: max_rejections must be an integer >= 0, got {value!r}")


@register_strategy("constrained_random_search")
class ConstrainedRandomSearch(RandomSearch):
    """Random search that never proposes an architecture known to be infeasible.

    With a free look-up of the constraint metrics (``self.constraints.free``) each draw is
    repeated until feasible, at most ``max_rejections`` times (then the last draw is
    proposed, so a run never stalls); ``replace=False`` walks its permutation skipping
    infeasible architectures and returns None once every feasible one was proposed. Without
    constraints, or when feasibility is only known after an evaluation, it is exactly
    ``random_search`` (module docstring). Defaults: ``replace=True`` (the NAS-Bench-201
    baseline), ``max_rejections=1000`` (at a 1 % feasible fraction a draw fails with
    probability 0.99^1000 < 5e-5).
    """

    description = "random search skipping known-infeasible architectures (free latency/params look-up)"

    @property
    def tags(self) -> frozenset:  # type: ignore[override]
        return super().tags | {"constraint_aware"}  # without constraints: random search itself
    parameters = {**RandomSearch.parameters, "max_rejections": _MAX_REJECTIONS}

    def __init__(self, replace: bool = True, max_rejections: int = 1000) -> None:
        super().__init__(replace=replace)
        self.max_rejections = max_rejections

    def _setup(self) -> None:
        _check_rejections(self.name, self.max_rejections)
        super()._setup()

    def ask(self):
        cs = self.constraints
        if not cs.free:
            return super().ask()
        space, rng, feasible = self.space, self.rng, cs.feasible
        if self.replace:
            arch = space.sample(rng)
            for _ in range(self.max_rejections):
                if feasible(arch):
                    break
                arch = space.sample(rng)
            return self._trial(arch)
        if self._order is not None:
            while self._next < len(self._order):
                arch = space.from_id(self._order[self._next])
                self._next += 1
                if feasible(arch):
                    return self._trial(arch)
            return None
        while len(self._seen) < space.size:  # rejection sampling in spaces too large to permute
            arch = space.sample(rng)
            if arch not in self._seen:
                self._seen.add(arch)
                if feasible(arch):
                    return self._trial(arch)
        return None


@register_strategy("constrained_regularized_evolution")
class ConstrainedRegularizedEvolution(RegularizedEvolution):
    """Regularized evolution with a feasibility-first tournament (Deb's rules).

    As ``regularized_evolution`` (Real et al. 2019: ``population_size`` random members, then
    tournaments of ``sample_size`` members drawn with replacement, the winner mutated, the
    oldest member removed), but a member's fitness is :func:`deb_key` of its score and its
    total constraint violation (``ConstraintSet.violation`` of its evaluated metrics): a
    feasible member beats an infeasible one, two infeasible ones compare by violation.
    ``reject_infeasible`` (default True) and a free look-up: initial members and children
    are redrawn (a fresh mutation of the same parent) until feasible, at most
    ``max_rejections`` times, as the constrained evolutionary search of Once-for-All (Cai et
    al. ICLR 2020) checks each candidate against its latency table. With
    ``reject_infeasible=False`` only the tournament knows about the constraints.

    Defaults ``population_size=10``, ``sample_size=3`` (NAS-Bench-201 paper),
    ``max_rejections=100``. Without constraints it is exactly ``regularized_evolution``.
    """

    description = "regularized evolution with Deb's feasibility-first tournament (+ feasible-only children)"
    tags = RegularizedEvolution.tags | {"constraint_aware"}  # without constraints: regularized evolution itself
    parameters = {
        **RegularizedEvolution.parameters,
        "reject_infeasible": Param(bool, doc="redraw known-infeasible children (free look-up of the constraint metrics)"),
        "max_rejections": _MAX_REJECTIONS,
    }

    def __init__(self, population_size: int = 10, sample_size: int = 3, reject_infeasible: bool = True,
                 max_rejections: int = 100) -> None:  # fmt: skip
        super().__init__(population_size=population_size, sample_size=sample_size)
        self.reject_infeasible = reject_infeasible
        self.max_rejections = max_rejections

    def _setup(self) -> None:
        _check_rejections(self.name, self.max_rejections)
        super()._setup()

    def _feasible_draw(self, draw):
        arch = draw()
        cs = self.constraints
        if self.reject_infeasible and cs.free:
            for _ in range(self.max_rejections):
                if cs.feasible(arch):
                    break
                arch = draw()
        return arch

    def ask(self):
        pop, space, rng = self._population, self.space, self.rng
        if len(pop) < self.population_size:
            return self._trial(self._feasible_draw(lambda: space.sample(rng)))
        index = rng.index
        n = len(pop)
        best_arch, best_key = pop[index(n)]
        for _ in range(self.sample_size - 1):
            arch, key = pop[index(n)]
            if key > best_key:
                best_arch, best_key = arch, key
        return self._trial(self._feasible_draw(lambda: space.mutate(best_arch, rng)))

    def _tell(self, trial, evaluation, score) -> None:
        pop = self._population
        pop.append((trial.arch, deb_key(score, self.constraints.violation(evaluation.metrics))))
        if len(pop) > self.population_size:
            pop.popleft()


@register_strategy("constrained_gp_bo")
class ConstrainedGPBayesOpt(GPBayesOpt):
    """GP Bayesian optimisation with constrained expected improvement, EI x P(feasible).

    Everything of ``gp_bo`` (random initial design, Matern GP on encodings, candidate pool
    of mutations of the incumbent and random samples, kriging believer for pending
    trials), with the constraints (module docstring):

    * free look-up and ``use_lookup`` (default True): the initial design and the candidate
      pool hold feasible architectures only (initial architectures redrawn at most
      ``max_rejections`` times; the pool takes the feasible ones among at most 10 draws per
      slot, 5x ``gp_bo``'s 2), so P(feasible) is 1 for every candidate scored; the pool's mutations start from
      the best *feasible* result and EI improves on the best feasible score;
    * otherwise: one GP per constraint metric (same kernel family, refitted whenever the
      objective's kernel is re-optimised) on the evaluated values; EI (over the best
      feasible score) times ``P(feasible) = prod_j P(c_j(x) satisfies bound_j)``; before
      any feasible result, P(feasible) alone.

    The objective GP is fitted on every result, feasible or not (an infeasible
    architecture's accuracy is still informative). Without constraints it is exactly
    ``gp_bo``. Defaults are ``gp_bo``'s plus ``max_rejections=100``.
    """

    description = "GP-BO with constrained EI = EI x P(feasible) (Gardner et al. 2014; free look-up: feasible pool)"
    tags = GPBayesOpt.tags | {"constraint_aware"}  # without constraints: gp_bo itself
    # The conformance suite drives hundreds of short runs without constraints (where
    # ``use_lookup`` changes nothing); the GP family is checked under its defaults as
    # gp_bo, so this variant runs the same code paths with a smaller candidate pool and
    # fewer kernel refits. tests/test_constraints.py covers the constrained paths.
    conformance_cases: ClassVar[list[dict]] = [{"num_candidates": 20, "refit_growth": 1.0}]
    parameters = {
        **GPBayesOpt.parameters,
        "use_lookup": Param(bool, doc="use the free look-up of constraint metrics (P(feasible) exact) when offered"),
        "max_rejections": _MAX_REJECTIONS,
    }

    def __init__(self, encoding: str = "onehot", num_init: int = 10, num_candidates: int = 200, kernel: str = "matern",
                 n_restarts_optimizer: int = 0, refit_growth: float = 0.1, use_lookup: bool = True,
                 max_rejections: int = 100) -> None:  # fmt: skip
        super().__init__(encoding=encoding, num_init=num_init, num_candidates=num_candidates, kernel=kernel,
                         n_restarts_optimizer=n_restarts_optimizer, refit_growth=refit_growth)  # fmt: skip
        self.use_lookup = use_lookup
        self.max_rejections = max_rejections

    def _setup(self) -> None:
        _check_rejections(self.name, self.max_rejections)
        super()._setup()
        self._violations: list = []
        self._cvalues: dict = {m: [] for m in self.constraints.metrics}
        self._ckernels: dict = {}

    def _tell(self, trial, evaluation, score) -> None:
        super()._tell(trial, evaluation, score)
        if self.constraints:
            metrics = evaluation.metrics
            self._violations.append(self.constraints.violation(metrics))
            for m, values in self._cvalues.items():
                v = metrics.get(m, math.nan)
                values.append(float(v) if isinstance(v, (int, float)) else math.nan)

    # -- helpers ----------------------------------------------------------------------
    def _lookup_mode(self) -> bool:
        return bool(self.use_lookup and self.constraints.free)

    def _feasible_unproposed(self):
        """A random never-proposed architecture, feasible when the look-up is used."""
        arch = sample_unproposed(self.space, self.rng, self._proposed)
        if arch is not None and self._lookup_mode():
            feasible = self.constraints.feasible
            for _ in range(self.max_rejections):
                if feasible(arch):
                    break
                nxt = sample_unproposed(self.space, self.rng, self._proposed)
                if nxt is None:
                    break
                arch = nxt
        return arch

    def _feasible_pool(self, best_arch) -> list:
        """Up to ``num_candidates`` never-proposed feasible architectures (half mutations of
        ``best_arch``, half random), from at most ``_POOL_DRAWS`` draws per slot."""
        space, rng, proposed, feasible = self.space, self.rng, self._proposed, self.constraints.feasible
        n_mut = self.num_candidates // 2
        pool: list = []
        seen: set = set()
        for kind, count in (("mutation", n_mut), ("random", self.num_candidates - n_mut)):
            target = len(pool) + count
            for _ in range(count * _POOL_DRAWS):
                if len(pool) >= target:
                    break
                if kind == "mutation":
                    arch = space.mutate(best_arch, rng)
                    if rng.random() < 0.5:
                        arch = space.mutate(arch, rng)
                else:
                    arch = space.sample(rng)
                if arch not in proposed and arch not in seen and feasible(arch):
                    seen.add(arch)
                    pool.append(arch)
        return pool

    def _p_feasible(self, X: np.ndarray, Xc: np.ndarray, optimise: bool) -> np.ndarray:
        """Product over constraints of the GP probability that the bound holds."""
        from scipy.special import ndtr

        p = np.ones(len(Xc))
        for c in self.constraints:
            v = np.asarray(self._cvalues[c.metric], dtype=np.float64)
            ok = np.isfinite(v)
            if ok.sum() < 2:
                continue
            kernel = self._ckernels.get(c.metric)
            gp = self._fit(X[ok], v[ok], kernel if kernel is not None else self._initial_kernel(), optimise or kernel is None)
            self._ckernels[c.metric] = gp.kernel_
            mu, sd = gp.predict(Xc, return_std=True)
            margin = (c.bound - mu) if c.op == "<=" else (mu - c.bound)
            safe = np.where(sd > 0.0, sd, 1.0)
            p *= np.where(sd > 0.0, ndtr(margin / safe), (margin >= 0.0).astype(np.float64))
        return p

    # -- ask --------------------------------------------------------------------------
    def _ask(self):
        if not self.constraints:
            return super()._ask()
        scores = np.asarray(self._scores, dtype=np.float64)
        feasible = np.asarray(self._violations, dtype=np.float64) == 0.0
        finite = np.isfinite(scores)
        lookup = self._lookup_mode()
        if self._n_asked < self.num_init or not finite.any() or (lookup and not (finite & feasible).any()):
            arch = self._feasible_unproposed()
            return None if arch is None else self._propose(arch, "random")
        self._model_asks += 1
        y = np.where(finite, scores, scores[finite].min())  # failures count as the worst result seen
        good = finite & feasible
        if good.any():
            best_i = int(np.flatnonzero(good)[np.argmax(y[good])])
            best = float(y[best_i])
        else:  # no feasible result yet (no look-up): mutate the least violating architecture
            best_i = int(np.argmin(np.asarray(self._violations)))
            best = None
        pool = self._feasible_pool(self._archs[best_i]) if lookup else self._candidates(self._archs[best_i])
        if not pool:
            arch = self._feasible_unproposed()
            return None if arch is None else self._propose(arch, "random")
        X = np.stack([self._encode(a) for a in self._archs])
        gp, optimise = self._fit_scheduled(X, y)
        Xc = np.stack([self._encode(a) for a in pool])
        p_feasible = np.ones(len(pool)) if lookup else self._p_feasible(X, Xc, optimise)
        if self._pending:  # kriging believer on the objective
            Xp = np.stack([self._encode(a) for a in self._pending.values()])
            gp = self._fit(np.vstack([X, Xp]), np.concatenate([y, gp.predict(Xp)]), gp.kernel_, False)
        if best is None:
            acq = p_feasible
        else:
            mean, std = gp.predict(Xc, return_std=True)
            acq = expected_improvement(mean, std, best) * p_feasible
        return self._propose(pool[int(np.argmax(acq))], "model")
