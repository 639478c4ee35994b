"""RunSpec: everything that determines one run, with a canonical JSON form and run id."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from ._errors import InvalidConfig

__all__ = ["RunSpec", "canonical_json", "MAX_WORKERS", "MAX_EVALUATIONS"]

MAX_WORKERS = 1_000_000  # simulated workers per run: each is a slot held in memory
MAX_EVALUATIONS = 2**53  # beyond it JSON readers lose integer precision


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys: the same object always gives the same text."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidConfig(f"{obj!r} is not JSON-serialisable ({exc}); use numbers, strings, lists and dicts") from None


def _component_key(name: str, kwargs: dict) -> str:
    return canonical_json({"name": name, "kwargs": kwargs})


@dataclass(frozen=True)
class RunSpec:
    """One run: benchmark, strategy, seeds, budget and parallelism.

    ``seed`` is the experiment's master seed and ``repeat`` the repetition index; the run's
    random streams derive from both (see :func:`benchlab.run_seed_sequence`). The budget is
    ``max_evaluations`` and/or ``max_seconds`` of simulated time (whichever ends first). A
    result counts only if it finishes within ``max_seconds``: the NAS-Bench-201 search
    scripts stop at the first query that would overrun the budget, and Syne Tune's
    simulator never observes results after its time limit. ``n_workers`` simulated workers
    evaluate in parallel; results are told in order of simulated finish time. With
    ``sync`` the workers run synchronous batches: N trials start together and the next
    batch starts when the slowest has finished (``sync`` appears in the canonical JSON
    only when true, so the run ids of asynchronous specs are unchanged).
    """

    benchmark: str
    strategy: str
    benchmark_kwargs: dict = field(default_factory=dict)
    strategy_kwargs: dict = field(default_factory=dict)
    seed: int = 0
    repeat: int = 0
    max_evaluations: int | None = None
    max_seconds: float | None = None
    n_workers: int = 1
    sync: bool = False

    def __post_init__(self) -> None:
        for name in ("seed", "repeat", "n_workers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidConfig(f"{name} must be an integer, got {v!r}")
        if self.seed < 0 or self.repeat < 0:
            raise InvalidConfig(f"seed and repeat must be >= 0, got seed={self.seed}, repeat={self.repeat}")
        if not isinstance(self.sync, bool):
            raise InvalidConfig(f"sync must be true or false, got {self.sync!r}")
        if not 1 <= self.n_workers <= MAX_WORKERS:
            raise InvalidConfig(f"n_workers (--workers) must be from 1 to {MAX_WORKERS:,}, got {self.n_workers}")
        if self.max_evaluations is None and self.max_seconds is None:
            raise InvalidConfig("a run needs a budget: set max_evaluations (--max-evals) and/or max_seconds (--max-seconds)")
        if self.max_evaluations is not None and (
            isinstance(self.max_evaluations, bool)
            or not isinstance(self.max_evaluations, int)
            or not 1 <= self.max_evaluations <= MAX_EVALUATIONS
        ):
            raise InvalidConfig(f"max_evaluations must be an integer from 1 to 2**53, got {self.max_evaluations!r}")
        if self.max_seconds is not None and (
            isinstance(self.max_seconds, bool)
            or not isinstance(self.max_seconds, (int, float))
            or not math.isfinite(self.max_seconds)
            or self.max_seconds <= 0
        ):
            raise InvalidConfig(f"max_seconds must be a positive number, got {self.max_seconds!r}")
        if self.max_seconds is not None:  # 12000 and 12000.0 are one budget (one run id)
            object.__setattr__(self, "max_seconds", float(self.max_seconds))
        if not isinstance(self.benchmark_kwargs, dict) or not isinstance(self.strategy_kwargs, dict):
            raise InvalidConfig("benchmark_kwargs and strategy_kwargs must be dicts")
        canonical_json(self.to_dict())  # fail early on non-JSON values

    def to_dict(self) -> dict:
        out = {
            "benchmark": self.benchmark,
            "benchmark_kwargs": dict(self.benchmark_kwargs),
            "strategy": self.strategy,
            "strategy_kwargs": dict(self.strategy_kwargs),
            "seed": self.seed,
            "repeat": self.repeat,
            "max_evaluations": self.max_evaluations,
            "max_seconds": self.max_seconds,
            "n_workers": self.n_workers,
        }
        if self.sync:  # only when true: asynchronous specs keep their canonical JSON and run id
            out["sync"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "RunSpec":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidConfig(f"unknown RunSpec fields {sorted(unknown)}; known: {sorted(known)}")
        missing = {"benchmark", "strategy"} - set(data)
        if missing:
            raise InvalidConfig(f"a RunSpec needs the fields {sorted(missing)}")
        return cls(**data)

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @property
    def run_id(self) -> str:
        """First 16 hex digits of the sha256 of the canonical JSON."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @property
    def benchmark_key(self) -> str:
        return _component_key(self.benchmark, self.benchmark_kwargs)

    @property
    def strategy_key(self) -> str:
        return _component_key(self.strategy, self.strategy_kwargs)

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSpec) and self.to_json() == other.to_json()
