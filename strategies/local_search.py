"""Local search (White, Nolen-Zarate & Savani, UAI 2021, "Exploring the loss landscape in
neural architecture search"; reference implementation: naszilla, ``local_search`` in
``naszilla/nas_algorithms.py``)."""

from __future__ import annotations

import math

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

__all__ = ["LocalSearch"]

_RESTARTS = ("random", "best")
_ENUMERATE_LIMIT = 1_000_000  # finite spaces up to this size fall back to listing the unproposed


def sample_unproposed(space, rng, proposed, tries: int = 64):
    """A uniformly random architecture of ``space`` not in ``proposed`` (None if there is none).

    Rejection sampling first; when that keeps hitting proposed architectures on a finite
    space, the unproposed ones are listed and one is drawn uniformly.
    """
    size = space.size
    if math.isfinite(size) and len(proposed) >= size:
        return None
    for _ in range(tries):
        arch = space.sample(rng)
        if arch not in proposed:
            return arch
    if math.isfinite(size) and size <= _ENUMERATE_LIMIT:
        left = [a for a in space.enumerate() if a not in proposed]
        return left[rng.index(len(left))] if left else None
    while True:  # a huge or infinite space: rejection sampling terminates with probability 1
        arch = space.sample(rng)
        if arch not in proposed:
            return arch


@register_strategy("local_search")
class LocalSearch(Strategy):
    """Hill climbing on the neighbourhood graph of the search space, with restarts.

    1. Evaluate ``num_init`` uniformly random, not yet evaluated architectures; the best
       becomes the current point.
    2. Evaluate the neighbours of the current point (``space.neighbors``) in a random order
       drawn from the strategy's RNG. With ``first_improvement=True`` move to the first
       neighbour that beats the current point and repeat from there; with ``False``
       evaluate the whole neighbourhood and move to its best member if it beats the
       current point.
    3. When every neighbour is evaluated and none is better (a local optimum), restart:
       ``restart="random"`` goes back to step 1 with fresh random architectures;
       ``restart="best"`` continues from the best evaluated architecture that has not yet
       been a current point (random restart when there is none).

    No architecture is ever proposed twice (neighbours evaluated earlier count with their
    known value, for free), so on a finite space the strategy proposes every architecture
    exactly once and then ``ask()`` returns None (tag ``exhaustive``).

    Parallel workers: while results are pending, ``ask`` proposes further unevaluated
    neighbours of the current point (with ``first_improvement=True`` the first improving
    result told moves the climb, and neighbours of the old point still in flight are only
    recorded). During the random phase extra random architectures join the starting pool.
    When the neighbourhood is exhausted but some neighbour is still pending, ``ask``
    returns None (wait).

    Defaults, all from naszilla's ``local_search`` (the UAI 2021 paper's code):
    ``num_init=10`` (``DEFAULT_NUM_INIT``); ``first_improvement=True``
    (``query_full_nbhd=False``: "move to the first improving neighbour"; the paper's
    Algorithm 1 states the full-neighbourhood variant, available as
    ``first_improvement=False``); neighbours shuffled (``get_neighborhood(shuffle=True)``);
    ``restart="random"`` (``stop_at_minimum=True``: a new run of local search from
    ``num_init`` fresh random architectures); ``restart="best"`` is naszilla's
    ``stop_at_minimum=False`` variant applied at local optima.
    """

    description = "local search with random restarts (White et al., UAI 2021); first improvement, num_init=10"
    tags = frozenset({"exhaustive"})
    conformance_cases = ({}, {"first_improvement": False}, {"restart": "best"})

    parameters = {
        "num_init": Param(int, low=1, doc="random architectures before climbing (naszilla DEFAULT_NUM_INIT)"),
        "first_improvement": Param(bool, doc="move to the first improving neighbour (False: best of the full neighbourhood)"),
        "restart": Param(str, choices=_RESTARTS, doc="at a local optimum: fresh random start or the best unvisited point"),
    }

    def __init__(self, num_init: int = 10, first_improvement: bool = True, restart: str = "random") -> None:
        self.num_init = num_init
        self.first_improvement = first_improvement
        self.restart = restart

    # -- state ------------------------------------------------------------------------
    def _setup(self) -> None:
        n = self.num_init
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidConfig(f"local_search: num_init must be a positive integer, got {n!r}")
        if self.restart not in _RESTARTS:
            raise InvalidConfig(f"local_search: restart must be one of {_RESTARTS}, got {self.restart!r}")
        if not isinstance(self.first_improvement, bool):
            raise InvalidConfig(f"local_search: first_improvement must be True or False, got {self.first_improvement!r}")
        self._proposed: set = set()  # every architecture ever proposed (pending or told)
        self._scores: dict = {}  # told architecture -> score (to maximise; NaN -> -inf)
        self._centres: set = set()  # architectures that have been a current point
        self._round = 0  # one round = one random start (or restart) and its climb
        self._phase = "init"
        self._init_left = n  # random architectures still to propose this round
        self._init_told: list = []  # (score, arch) of this round's random architectures
        self._current = None
        self._current_score = -math.inf
        self._nbrs: list = []  # neighbours of the current point, in the drawn random order
        self._nbr_set: frozenset = frozenset()
        self._next_nbr = 0  # position in _nbrs of the next neighbour to look at
        self._n_moves = 0
        self._n_restarts = 0

    # -- helpers ----------------------------------------------------------------------
    def _move_to(self, arch, score: float) -> None:
        """Make ``arch`` the current point; draw the order of its neighbours."""
        self._phase = "climb"
        self._current = arch
        self._current_score = score
        self._centres.add(arch)
        nbrs = self.space.neighbors(arch)
        order = self.rng.shuffle_indices(len(nbrs)).tolist()
        self._nbrs = [nbrs[i] for i in order]
        self._nbr_set = frozenset(nbrs)
        self._next_nbr = 0

    def _start_round(self) -> None:
        """Local optimum reached: restart."""
        self._n_restarts += 1
        self._round += 1
        if self.restart == "best":
            candidates = [(s, a) for a, s in self._scores.items() if a not in self._centres]
            if candidates:
                # the best score; ties go to the first told (dicts keep insertion order)
                best_score = max(s for s, _ in candidates)
                arch = next(a for s, a in candidates if s == best_score)
                self._move_to(arch, best_score)
                return
        self._phase = "init"
        self._init_left = self.num_init
        self._init_told = []
        self._current = None

    def _propose(self, arch, kind: str):
        self._proposed.add(arch)
        return self._trial(arch, info=(kind, self._round))

    def _random_trial(self):
        arch = sample_unproposed(self.space, self.rng, self._proposed)
        if arch is None:
            return None
        if self._init_left > 0:
            self._init_left -= 1
        return self._propose(arch, "init")

    # -- ask/tell ---------------------------------------------------------------------
    def ask(self):
        for _ in range(1_000_000):  # every pass either proposes, waits, or moves/restarts
            if self._phase == "init":
                # also while this round's random architectures are pending: extra starting points
                return self._random_trial()
            # climbing: look at the next neighbour in the drawn order
            nbrs = self._nbrs
            moved = False
            while self._next_nbr < len(nbrs):
                arch = nbrs[self._next_nbr]
                self._next_nbr += 1
                if arch not in self._proposed:
                    return self._propose(arch, "nbr")
                score = self._scores.get(arch)
                if self.first_improvement and score is not None and score > self._current_score:
                    self._n_moves += 1
                    self._move_to(arch, score)  # evaluated earlier and better: move for free
                    moved = True
                    break
            if moved:
                continue
            # every neighbour has been proposed
            if any(a not in self._scores for a in nbrs):
                return None  # some neighbour is still pending: wait for it
            best_score = max((self._scores[a] for a in nbrs), default=-math.inf)
            if best_score > self._current_score:  # best improvement (or a late improving result)
                self._n_moves += 1
                self._move_to(next(a for a in nbrs if self._scores[a] == best_score), best_score)
                continue
            self._start_round()  # local optimum: restart
        raise RuntimeError("local_search: ask() made no progress")  # pragma: no cover

    def _tell(self, trial, evaluation, score) -> None:
        arch = trial.arch
        self._scores[arch] = score
        self._proposed.add(arch)
        kind, rnd = trial.info if isinstance(trial.info, tuple) else (None, None)
        if self._phase == "init":
            if kind == "init" and rnd == self._round:
                self._init_told.append((score, arch))
                if len(self._init_told) >= self.num_init:
                    best = max(s for s, _ in self._init_told)
                    self._move_to(next(a for s, a in self._init_told if s == best), best)
        elif self.first_improvement and arch in self._nbr_set and score > self._current_score:
            self._n_moves += 1
            self._move_to(arch, score)  # first improvement

    def stats(self) -> dict:
        return {"moves": self._n_moves, "restarts": self._n_restarts} if hasattr(self, "_n_moves") else {}
