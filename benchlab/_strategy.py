"""The ask/tell strategy interface (Optuna/Syne Tune style, sklearn-style constructors)."""

from __future__ import annotations

import inspect
import math
from typing import Hashable, Sequence

from ._constraints import ConstraintSet
from ._errors import InvalidConfig
from ._rng import RandomStream
from ._space import SearchSpace
from ._types import Evaluation, Fidelity, Objective, Trial

__all__ = ["Strategy"]

Arch = Hashable


class Strategy:
    """Base class of search strategies.

    Subclasses:

    * declare hyper-parameters as keyword arguments of ``__init__`` and store them
      unchanged as attributes of the same name (sklearn style: nothing else happens in the
      constructor, so ``clone`` and ``get_params`` work);
    * implement ``_setup()`` (build state; ``self.space``, ``self.objectives``,
      ``self.fidelity`` and ``self.rng`` are set), ``ask()`` and ``_tell(trial, evaluation,
      score)``; create trials with ``self._trial(arch)``;
    * draw every random number from ``self.rng`` (a :class:`RandomStream`, or
      ``self.rng.generator`` for vectorised numpy draws).

    ``ask`` may be called several times before the earlier trials are told (parallel
    workers) and may return None when it has nothing to propose now (exhausted space, or
    waiting for results). ``tell`` accepts results in any order. ``score`` is the primary
    objective as a number to maximise, with NaN mapped to -inf.

    ``tags`` decide which conformance checks apply: ``exhaustive`` (never repeats an
    architecture and returns None once the space is exhausted), ``multi_fidelity``,
    ``multi_objective``, ``needs_training``, ``model_based``, ``transfer`` (takes prior
    knowledge from another task; checked for test-split access), ``constraint_aware`` (uses
    the benchmark's constraints; without them it is its base strategy).

    On a benchmark with constraints (hardware-aware NAS), ``setup`` receives its
    :class:`~benchlab.ext.ConstraintSet` as ``self.constraints`` (empty and falsy otherwise),
    evaluations carry the constraint metrics and ``feasible``, and the incumbent that
    ``recommend`` returns is the best *feasible* result (the best infeasible one until a
    feasible result is told).
    """

    name: str = "strategy"
    description: str = ""
    tags: frozenset[str] = frozenset()

    # -- sklearn-style parameters ------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]

    def get_params(self) -> dict:
        """Constructor keyword arguments, as stored."""
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self) -> "Strategy":
        """A fresh, un-set-up strategy with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- lifecycle ---------------------------------------------------------------------
    def setup(
        self,
        space: SearchSpace,
        objectives: Sequence[Objective],
        fidelity: Fidelity | None = None,
        seed=None,
        *,
        constraints: ConstraintSet | None = None,
    ) -> "Strategy":
        """Prepare a run on ``space``. ``seed`` is an int or ``numpy.random.SeedSequence``;
        ``constraints`` is the benchmark's :class:`~benchlab.ext.ConstraintSet` (the harness
        passes it only on a constrained benchmark)."""
        if not objectives:
            raise InvalidConfig(f"{self.name}: setup needs at least one objective")
        self.constraints = constraints if constraints is not None else ConstraintSet()
        self.space = space
        self.objectives = tuple(objectives)
        self.fidelity = fidelity
        self.rng = RandomStream(seed)
        self._n_asked = 0
        self._objective = self.objectives[0]
        self._best_score = -math.inf
        self._best_arch = None
        self._best_feasible = True
        self._n_told = 0
        self._setup()
        return self

    def _setup(self) -> None:
        """Build the strategy's state; called at the end of ``setup``."""

    def _trial(self, arch: Arch, fidelity=None, info=None, resume_from=None) -> Trial:
        trial = Trial(self._n_asked, arch, fidelity, info, resume_from)
        self._n_asked += 1
        return trial

    def ask(self) -> Trial | None:
        """The next trial to evaluate, or None if there is nothing to propose now."""
        raise NotImplementedError

    def tell(self, trial: Trial, evaluation: Evaluation) -> None:
        """Report the result of ``trial``; tracks the incumbent, then calls ``_tell``."""
        value = evaluation.metrics.get(self._objective.name, math.nan)
        score = self._objective.score(value)
        self._n_told += 1
        ok = evaluation.feasible is not False  # constrained benchmarks: feasible results first
        if self._best_arch is None or (ok, score) > (self._best_feasible, self._best_score):
            self._best_score = score
            self._best_arch = trial.arch
            self._best_feasible = ok
        self._tell(trial, evaluation, score)

    def _tell(self, trial: Trial, evaluation: Evaluation, score: float) -> None:
        """Strategy-specific bookkeeping of one result."""

    def stats(self) -> dict:
        """Strategy-reported diagnostics for ``summary.json`` (e.g. model-based strategies'
        per-ask compute seconds). Wall-clock figures go here, never into the trajectory,
        which must stay byte-identical across runs."""
        return {}

    def recommend(self) -> Arch | None:
        """The incumbent: best primary objective seen so far (None before any result)."""
        return self._best_arch
