"""Multi-objective search: NSGA-II (Deb et al., IEEE TEC 2002) and Pareto random search.

Both strategies optimise every objective of the benchmark (``Benchmark.objectives``: the
first one plus e.g. ``params`` or ``latency/<device>`` on ``nb201`` with
``extra_objectives``, or two accuracies on ``analognas``). Internally every objective is a
*score to maximise*: ``Objective.score(value)`` (``sign * value``, NaN -> -inf), so a
NaN result is the worst possible value of that objective and never dominates anything.

Both keep the Pareto front of everything told (``pareto_front()``) and recommend the
member of that front that is best on the first objective (ties broken by the next
objectives), which is also the single-objective incumbent.

The module-level helpers :func:`dominates`, :func:`non_dominated_sort` and
:func:`crowding_distance` work on ``(n, m)`` score arrays (maximised).
"""

from __future__ import annotations

import math

import numpy as np

from benchlab import (
    CategoricalSpace,
    InvalidArchitecture,
    InvalidConfig,
    Strategy,
    register_strategy,
)
from benchlab.ext import Param

from .random_search import RandomSearch

__all__ = ["NSGA2", "MORandomSearch", "crowding_distance", "dominates", "non_dominated_sort"]

_MAX_RETRIES = 20  # offspring redraws to avoid re-evaluating a known architecture


# -- Pareto machinery on maximised scores -------------------------------------------------
def dominates(a, b) -> bool:
    """True when score vector ``a`` Pareto-dominates ``b`` (maximisation): ``a >= b``
    everywhere and ``a > b`` somewhere."""
    better = False
    for x, y in zip(a, b):
        if x < y:
            return False
        if x > y:
            better = True
    return better


def non_dominated_sort(scores) -> list[list[int]]:
    """Fast non-dominated sorting (Deb et al. 2002, section III-A): the fronts as lists of
    row indices of ``scores`` (``(n, m)``, maximised), best front first, each in increasing
    index order. ``-inf`` entries are ordinary (worst) values."""
    s = np.asarray(scores, dtype=np.float64)
    n = s.shape[0]
    if n == 0:
        return []
    if s.ndim == 1:
        s = s[:, None]
    ge = np.all(s[:, None, :] >= s[None, :, :], axis=2)
    gt = np.any(s[:, None, :] > s[None, :, :], axis=2)
    dom = ge & gt  # dom[i, j]: i dominates j
    count = dom.sum(axis=0)  # how many dominate j
    fronts = []
    current = np.flatnonzero(count == 0)
    while current.size:
        fronts.append(current.tolist())
        count = count - dom[current].sum(axis=0)
        count[current] = -1  # done
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(scores) -> np.ndarray:
    """Crowding distance of each row of ``scores`` (one front, ``(n, m)``), Deb et al. 2002,
    section III-B: per objective, sort, give the two boundary points infinite distance and
    every other point the normalised gap ``(f[i+1] - f[i-1]) / (f_max - f_min)``; sum over
    objectives. Ties in the sort keep index order (stable). Non-finite scores are replaced
    by a value one unit beyond the finite range so the arithmetic stays finite; an
    objective with zero range adds nothing to interior points."""
    s = np.array(scores, dtype=np.float64, copy=True)
    if s.ndim == 1:
        s = s[:, None]
    n, m = s.shape
    dist = np.zeros(n)
    if n == 0:
        return dist
    if n <= 2:
        dist[:] = math.inf
        return dist
    for k in range(m):
        col = s[:, k]
        finite = np.isfinite(col)
        if not finite.all():
            lo, hi = (col[finite].min(), col[finite].max()) if finite.any() else (0.0, 0.0)
            col = np.where(np.isnan(col) | (col == -math.inf), lo - 1.0, col)
            col = np.where(col == math.inf, hi + 1.0, col)
        order = np.argsort(col, kind="stable")
        f = col[order]
        dist[order[0]] = dist[order[-1]] = math.inf
        span = f[-1] - f[0]
        if span > 0:
            dist[order[1:-1]] += (f[2:] - f[:-2]) / span
    return dist


class _ParetoArchive:
    """The non-dominated set of everything told: ``(arch, scores, metrics)`` entries in
    insertion order (one entry per architecture; equal score vectors are all kept)."""

    def _archive_setup(self) -> None:
        self._front: list = []  # (arch, scores tuple, metrics dict)

    def _scores(self, evaluation) -> tuple:
        return tuple(o.score(evaluation.metrics.get(o.name, math.nan)) for o in self.objectives)

    def _archive_add(self, arch, scores: tuple, evaluation) -> None:
        front = self._front
        for a, s, _ in front:
            if a == arch or dominates(s, scores):
                return
        metrics = {o.name: float(evaluation.metrics.get(o.name, math.nan)) for o in self.objectives}
        self._front = [e for e in front if not dominates(scores, e[1])]
        self._front.append((arch, scores, metrics))

    def pareto_front(self) -> list[tuple]:
        """The Pareto front of every evaluated architecture: ``[(arch, {objective: value})]``
        (values as the benchmark reported them), sorted best-first on the first objective."""
        return [(a, dict(m)) for a, s, m in sorted(self._front, key=lambda e: tuple(-x for x in e[1]))]

    def recommend(self):
        """The front member best on the first objective (ties: the next objectives)."""
        if not self._front:
            return None
        return max(self._front, key=lambda e: e[1])[0]

    def stats(self) -> dict:
        return {"pareto_front_size": len(self._front)}


@register_strategy("nsga2")
class NSGA2(_ParetoArchive, Strategy):
    """NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 6(2), 2002), steady-state and
    asynchronous for parallel workers.

    * The first ``population_size`` trials are uniform random architectures (the paper's
      random initial population).
    * After that, every ``ask`` builds one child: two parents, each the winner of a
      binary tournament under the crowded-comparison operator (lower non-domination rank
      wins, then larger crowding distance, then a fair coin; Deb et al. section III-B),
      uniform crossover over the categorical decisions (``space.choices()``, i.e. the
      entries of a :class:`CategoricalSpace` tuple; a child the space rejects is replaced
      by the first parent) with probability ``crossover_prob``, then ``space.mutate``
      (changes exactly one decision) with probability ``mutation_prob``. A child that was already evaluated or is pending is
      redrawn (up to 20 times; pymoo's ``eliminate_duplicates=True`` default), as table
      queries of a known architecture only waste budget.
    * Environmental selection is **steady-state** (a (mu + 1) scheme, Durillo et al.,
      EMO 2009): every told result joins the population and, above ``population_size``,
      the member last in (rank, crowding distance) order is removed, recomputing ranks and
      crowding after each removal. No generation barrier exists, so ``ask`` never waits
      for pending trials: with parallel workers, children are bred from the results told so
      far, and results may arrive in any order.

    Parameters
    ----------
    population_size:
        Population size N (default 50). Deb et al. (section IV) and pymoo's ``NSGA2``
        (``pop_size=100``) use 100, with budgets of 25,000 evaluations; NAS table budgets
        are a few hundred evaluations, where 100 random initial trials would leave little
        room for evolution, so the default halves it (a judgement call, not from a paper).
    crossover_prob:
        Probability of crossover per child (default 0.9: p_c = 0.9 in Deb et al.'s
        simulations, section IV).
        Uniform crossover swaps each decision with probability 1/2; without a categorical
        view of the space the child copies its first parent.
    mutation_prob:
        Probability of mutating a child (default 1.0): ``space.mutate`` changes one of the n
        decisions, i.e. an expected 1/n per decision, the per-variable rate p_m = 1/n of
        Deb et al. section IV.

    With a single objective it is a (mu + 1) genetic algorithm with rank-based tournaments.
    ``pareto_front()`` lists every non-dominated architecture evaluated with its values;
    ``recommend()`` is the front member best on the first objective.
    """

    description = "NSGA-II (Deb et al. 2002), steady-state/asynchronous, uniform crossover + mutation; N=50"
    tags = frozenset({"multi_objective"})

    parameters = {
        "population_size": Param(int, low=2, doc="population size N"),
        "crossover_prob": Param(float, low=0, high=1, doc="probability of uniform crossover per child"),
        "mutation_prob": Param(float, low=0, high=1, doc="probability of mutating a child"),
    }

    def __init__(self, population_size: int = 50, crossover_prob: float = 0.9, mutation_prob: float = 1.0) -> None:
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob

    def _setup(self) -> None:
        n = self.population_size
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise InvalidConfig(f"nsga2: population_size must be an integer >= 2, got {n!r}")
        for name in ("crossover_prob", "mutation_prob"):
            p = getattr(self, name)
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
                raise InvalidConfig(f"nsga2: {name} must be a probability in [0, 1], got {p!r}")
        self._archive_setup()
        self._pop: list = []  # (arch, scores)
        self._rank: list = []
        self._crowd: list = []
        self._seen: set = set()  # asked architectures (pending or told)
        space = self.space
        self._categorical = isinstance(space, CategoricalSpace)

    # -- selection machinery --------------------------------------------------------------
    def _rank_crowd(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = scores.shape[0]
        rank = np.empty(n, dtype=np.int64)
        crowd = np.empty(n)
        for r, front in enumerate(non_dominated_sort(scores)):
            rank[front] = r
            crowd[front] = crowding_distance(scores[front])
        return rank, crowd

    def _tournament(self) -> tuple:
        n = len(self._pop)
        i, j = self.rng.index(n), self.rng.index(n)
        ri, rj = self._rank[i], self._rank[j]
        if ri != rj:
            w = i if ri < rj else j
        elif self._crowd[i] != self._crowd[j]:
            w = i if self._crowd[i] > self._crowd[j] else j
        else:
            w = i if self.rng.random() < 0.5 else j
        return self._pop[w][0]

    def _child(self):
        rng = self.rng
        p1, p2 = self._tournament(), self._tournament()
        child = p1
        if self._categorical and rng.random() < self.crossover_prob:
            child = tuple(b if rng.random() < 0.5 else a for a, b in zip(p1, p2))
            try:
                self.space.validate(child)
            except InvalidArchitecture:  # a subclass with constraints: keep the first parent
                child = p1
        if rng.random() < self.mutation_prob:
            child = self.space.mutate(child, rng)
        return child

    # -- ask / tell -----------------------------------------------------------------------
    def ask(self):
        space = self.space
        if self._n_asked < self.population_size or len(self._pop) < 2:
            arch = space.sample(self.rng)
            for _ in range(_MAX_RETRIES):
                if arch not in self._seen:
                    break
                arch = space.sample(self.rng)
        else:
            arch = self._child()
            for _ in range(_MAX_RETRIES):
                if arch not in self._seen:
                    break
                arch = self._child()
        self._seen.add(arch)
        return self._trial(arch)

    def _tell(self, trial, evaluation, score) -> None:
        scores = self._scores(evaluation)
        self._archive_add(trial.arch, scores, evaluation)
        if any(a == trial.arch for a, _ in self._pop):
            return  # a repeated architecture: already in the population
        self._pop.append((trial.arch, scores))
        arr = np.asarray([s for _, s in self._pop], dtype=np.float64)
        rank, crowd = self._rank_crowd(arr)
        while len(self._pop) > self.population_size:
            # worst: highest rank, then smallest crowding distance, then the newest
            order = sorted(range(len(self._pop)), key=lambda k: (-rank[k], crowd[k], -k))
            del self._pop[order[0]]
            arr = np.delete(arr, order[0], axis=0)
            rank, crowd = self._rank_crowd(arr)
        self._rank = rank.tolist()
        self._crowd = crowd.tolist()


@register_strategy("mo_random_search")
class MORandomSearch(_ParetoArchive, RandomSearch):
    """Random search (Bergstra & Bengio, JMLR 2012) that keeps the Pareto front of every
    objective: the multi-objective baseline of NSGA-II.

    Proposals are exactly those of ``random_search`` with the same ``replace`` (default
    True: independent uniform draws, the NAS-Bench-201 baseline; False: without
    replacement, returning None once a finite space is exhausted). ``pareto_front()``
    lists every non-dominated architecture evaluated; ``recommend()`` is the front member
    best on the first objective.
    """

    description = "uniform random sampling keeping the Pareto front of all objectives"

    @property
    def tags(self) -> frozenset:  # type: ignore[override]
        return frozenset({"multi_objective"}) | (frozenset() if self.replace else frozenset({"exhaustive"}))

    def _setup(self) -> None:
        super()._setup()
        self._archive_setup()

    def _tell(self, trial, evaluation, score) -> None:
        self._archive_add(trial.arch, self._scores(evaluation), evaluation)
