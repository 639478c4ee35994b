"""Random search (Bergstra & Bengio, JMLR 2012; Li & Talwalkar, UAI 2019 for NAS)."""

from __future__ import annotations

import math

from benchlab import Strategy, register_strategy
from benchlab.ext import Param

__all__ = ["RandomSearch"]

_PERMUTE_LIMIT = 10_000_000  # finite spaces up to this size draw a permutation of ids


@register_strategy("random_search")
class RandomSearch(Strategy):
    """Uniform random architectures; ``replace=False`` never proposes one twice.

    Parameters
    ----------
    replace:
        True (default): independent uniform draws, as in the NAS-Bench-201 baseline.
        False: sampling without replacement; ``ask`` returns None once every architecture
        has been proposed (finite spaces).
    """

    description = "uniform random sampling, with or without replacement"

    parameters = {"replace": Param(bool, doc="False: sample without replacement (never propose an architecture twice)")}

    def __init__(self, replace: bool = True) -> None:
        self.replace = replace

    @property
    def tags(self) -> frozenset:  # type: ignore[override]
        return frozenset() if self.replace else frozenset({"exhaustive"})

    def _setup(self) -> None:
        self._order = None
        self._next = 0
        self._seen: set = set()
        if not self.replace and math.isfinite(self.space.size) and self.space.size <= _PERMUTE_LIMIT:
            self._order = self.rng.shuffle_indices(int(self.space.size)).tolist()

    def ask(self):
        space, rng = self.space, self.rng
        if self.replace:
            return self._trial(space.sample(rng))
        if self._order is not None:
            if self._next >= len(self._order):
                return None
            arch = space.from_id(self._order[self._next])
            self._next += 1
            return self._trial(arch)
        if len(self._seen) >= space.size:
            return None
        while True:  # rejection sampling in spaces too large to permute
            arch = space.sample(rng)
            if arch not in self._seen:
                self._seen.add(arch)
                return self._trial(arch)
