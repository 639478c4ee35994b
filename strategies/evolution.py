"""Regularized (aging) evolution (Real et al., AAAI 2019)."""

from __future__ import annotations

from collections import deque

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

__all__ = ["RegularizedEvolution"]


@register_strategy("regularized_evolution")
class RegularizedEvolution(Strategy):
    """Tournament selection with aging: the oldest member dies, not the worst.

    Until ``population_size`` results are in, trials are uniform random. Then each trial
    samples ``sample_size`` members of the population uniformly *with replacement*
    (Real et al., Algorithm 1), mutates the best of them (one edge changes op), and each
    result joins the population while the oldest member leaves.

    Defaults ``population_size=10``, ``sample_size=3`` are the NAS-Bench-201 paper's (Dong &
    Yang 2020, section 5); Real et al. used 100 and 25 on ImageNet-scale searches.
    """

    description = "aging evolution with tournament selection (Real et al. 2019); NB201 defaults P=10, S=3"

    parameters = {
        "population_size": Param(int, low=1, doc="P, members kept (oldest dies first); NB201 paper: 10"),
        "sample_size": Param(int, low=1, doc="S, tournament size (<= population_size); NB201 paper: 3"),
    }

    def __init__(self, population_size: int = 10, sample_size: int = 3) -> None:
        self.population_size = population_size
        self.sample_size = sample_size

    def _setup(self) -> None:
        p, s = self.population_size, self.sample_size
        for name, v in (("population_size", p), ("sample_size", s)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidConfig(f"regularized_evolution: {name} must be a positive integer, got {v!r}")
        if s > p:
            raise InvalidConfig(f"regularized_evolution: sample_size ({s}) cannot exceed population_size ({p})")
        self._population: deque = deque()  # (arch, score), oldest first

    def ask(self):
        pop = self._population
        if len(pop) < self.population_size:
            return self._trial(self.space.sample(self.rng))
        index = self.rng.index
        n = len(pop)
        best_arch, best_score = pop[index(n)]
        for _ in range(self.sample_size - 1):
            arch, score = pop[index(n)]
            if score > best_score:
                best_arch, best_score = arch, score
        return self._trial(self.space.mutate(best_arch, self.rng))

    def _tell(self, trial, evaluation, score) -> None:
        pop = self._population
        pop.append((trial.arch, score))
        if len(pop) > self.population_size:
            pop.popleft()
