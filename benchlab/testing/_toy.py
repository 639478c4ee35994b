"""A toy search space and a toy benchmark for the strategy conformance suite.

Both are deterministic, cheap and self-contained (no data files). ``ToyBenchmark`` is also
instrumented: it records and refuses any query made while a strategy's ``ask``/``tell``
runs, and it refuses to be pickled, so a strategy that keeps a reference to it (and could
read test metrics) is caught.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Sequence

from .._benchmark import Benchmark
from .._errors import InvalidArchitecture, InvalidConfig
from .._rng import stable_hash
from .._space import CategoricalSpace, SearchSpace
from .._types import Evaluation, Fidelity, Objective
from ._common import ConformanceError

__all__ = ["ToySpace", "ToyBenchmark"]

_DECISIONS = (
    ("op", ("conv3x3", "conv1x1", "skip", "pool", "none")),
    ("width", ("16", "32", "64", "128", "256")),
    ("depth", ("1", "2", "3", "4", "5")),
    ("act", ("relu", "gelu", "silu", "tanh", "elu")),
    ("norm", ("bn", "ln", "gn", "in", "none")),
    ("kernel", ("3", "5", "7", "9", "11")),
)
_BAD = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class ToySpace(CategoricalSpace):
    """A small categorical space: decision ``i`` has ``shape[i]`` options.

    The default ``shape=(3, 2, 3)`` gives 18 architectures, e.g. ``(0, 1, 2)`` written
    ``op=conv3x3|width=32|depth=3``. ``ToySpace.nb201_like()`` is the 6 x 5 = 15,625
    architecture version, as large as NAS-Bench-201. At most 6 decisions of 2 to 5 options.
    """

    def __init__(self, shape: Sequence[int] = (3, 2, 3)) -> None:
        shape = tuple(shape)
        if not 1 <= len(shape) <= len(_DECISIONS) or any(
            isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 5 for n in shape
        ):
            raise InvalidConfig(f"ToySpace shape {shape!r}: give 1 to 6 option counts, each 2 to 5")
        self.shape = shape
        decisions = [(name, opts[:n]) for (name, opts), n in zip(_DECISIONS, shape)]
        super().__init__(decisions, name="toy-" + "x".join(str(n) for n in shape))

    @classmethod
    def nb201_like(cls) -> "ToySpace":
        """6 decisions x 5 options = 15,625 architectures."""
        return cls((5,) * 6)

    def _example(self) -> str:
        return "|".join(f"{name}={opts[0]}" for name, opts in self._decisions)

    def to_str(self, arch) -> str:
        self.validate(arch)
        return "|".join(f"{name}={opts[v]}" for (name, opts), v in zip(self._decisions, arch))

    def from_str(self, text: str):
        if not isinstance(text, str):
            raise InvalidArchitecture(f"{text!r} is not a {self.name} string: expected text like {self._example()!r}")
        parts = text.split("|")
        if len(parts) != len(self._decisions):
            raise InvalidArchitecture(
                f"{text!r} is not a {self.name} string: expected {len(self._decisions)} '|'-separated "
                f"name=option items like {self._example()!r}"
            )
        arch = []
        for i, ((name, opts), part) in enumerate(zip(self._decisions, parts)):
            key, eq, value = part.partition("=")
            if key != name or not eq:
                raise InvalidArchitecture(f"{text!r}: item {i} must read '{name}=<option>', got {part!r}")
            if value not in opts:
                raise InvalidArchitecture(f"{text!r}: {value!r} is not an option of {name} ({', '.join(opts)})")
            arch.append(opts.index(value))
        return tuple(arch)


def _unit(*parts) -> float:
    """A deterministic uniform number in [0, 1) from ``parts``."""
    return stable_hash("benchlab.testing.toy", *parts) / 2.0**64


class ToyBenchmark(Benchmark):
    """Deterministic scores for any search space, for testing strategies.

    Parameters
    ----------
    space:
        The search space (default ``ToySpace()``, 18 architectures). Any space with an
        official string form works: values are hashed from ``space.to_str(arch)``; for
        tuples of option ids they also have additive structure (per-decision effects), so
        evolution and local search have something to find.
    direction:
        ``"max"``: the objective is ``valid_acc`` (%), reported as ``test_acc``.
        ``"min"``: the objective is ``valid_error`` = 100 - accuracy, reported as ``test_error``.
    n_objectives:
        1, or 2 to add ``latency_ms`` (minimised) as a second objective.
    bad_values, bad_fraction:
        e.g. ``("nan", "inf", "-inf")``: a deterministic ``bad_fraction`` of the
        architectures gets one of these as its primary visible value (diverged training).
        Report values stay finite.
    fidelity:
        True: a fidelity axis ``epochs`` in (1, 4, 12), default 12; the visible value and the
        cost grow with it. False: no fidelity.
    guard:
        True: ``evaluate``/``report``/``optimum`` raise :class:`ConformanceError` (and are
        recorded in ``violations``) when called inside ``with bench.strategy_running():``,
        which the suites wrap around every ``setup``/``ask``/``tell``/``recommend``.

    Test values differ from validation values; costs (seconds) differ per architecture.
    ``ToyBenchmark`` refuses to be pickled (see the module docstring); ``params`` rebuilds it.
    """

    name = "toy"
    description = "deterministic toy benchmark of benchlab.testing (instrumented)"
    visible_split = "validation"
    report_split = "test"
    cost_unit = "s"

    def __init__(
        self,
        space: SearchSpace | None = None,
        *,
        direction: str = "max",
        n_objectives: int = 1,
        bad_values: Sequence[str] = (),
        bad_fraction: float = 0.25,
        fidelity: bool = True,
        guard: bool = True,
    ) -> None:
        if direction not in ("max", "min"):
            raise InvalidConfig(f"ToyBenchmark: direction must be 'max' or 'min', got {direction!r}")
        if n_objectives not in (1, 2):
            raise InvalidConfig(f"ToyBenchmark: n_objectives must be 1 or 2, got {n_objectives!r}")
        unknown = [b for b in bad_values if b not in _BAD]
        if unknown:
            raise InvalidConfig(f"ToyBenchmark: bad_values {unknown} not in {sorted(_BAD)}")
        self.params = {
            "space": space,
            "direction": direction,
            "n_objectives": n_objectives,
            "bad_values": tuple(bad_values),
            "bad_fraction": float(bad_fraction),
            "fidelity": bool(fidelity),
            "guard": bool(guard),
        }
        self.space = ToySpace() if space is None else space
        self.direction = direction
        self._primary = "valid_acc" if direction == "max" else "valid_error"
        self._report_metric = "test_acc" if direction == "max" else "test_error"
        unit_desc = ("%", "validation accuracy") if direction == "max" else ("%", "validation error (100 - accuracy)")
        objectives = [Objective(self._primary, direction, unit_desc[0], unit_desc[1])]
        if n_objectives == 2:
            objectives.append(Objective("latency_ms", "min", "ms", "simulated latency"))
        self.objectives = tuple(objectives)
        self.fidelity = Fidelity("epochs", (1, 4, 12), 12) if fidelity else None
        self._bad = tuple(_BAD[b] for b in bad_values)
        self._bad_fraction = float(bad_fraction)
        self._guard = bool(guard)
        self._forbidden = 0
        self.violations: list[str] = []
        self.n_evaluations = 0
        self._cache: dict = {}
        self._optimum: dict[str, float] | None = None

    # -- instrumentation -----------------------------------------------------------------
    @contextmanager
    def strategy_running(self) -> Iterator[None]:
        """Inside this block the benchmark refuses every query (a strategy is running)."""
        self._forbidden += 1
        try:
            yield
        finally:
            self._forbidden -= 1

    def _access(self, method: str) -> None:
        if self._guard and self._forbidden:
            self.violations.append(method)
            raise ConformanceError(
                f"ToyBenchmark.{method}() was called while a strategy's setup/ask/tell/recommend was running: "
                "strategies must never query the benchmark (it holds test metrics); they only get the space, "
                "the objectives, the fidelity and the Evaluation objects the harness passes to tell()"
            )

    def __reduce_ex__(self, protocol):
        raise ConformanceError(
            "ToyBenchmark refuses to be pickled: if this happened while pickling a strategy, the strategy "
            "holds a reference to the benchmark and could read test metrics through it; keep only the "
            "space, objectives and fidelity that setup() receives"
        )

    # -- values --------------------------------------------------------------------------
    def _values(self, arch) -> tuple:
        self.space.validate(arch)  # always: a cache hit must not admit (True, 0) for (1, 0)
        hit = self._cache.get(arch)
        if hit is not None:
            return hit
        key = self.space.to_str(arch)
        if isinstance(arch, tuple) and all(type(v) is int for v in arch) and arch:
            quality = sum(_unit("w", i, v) for i, v in enumerate(arch)) / len(arch)
        else:
            quality = _unit("q", key)
        acc = 40.0 + 55.0 * (0.85 * quality + 0.15 * _unit("n", key))
        test = 0.97 * acc + 2.0 * _unit("t", key) + 0.5
        cost = 10.0 + 90.0 * _unit("c", key)
        latency = 1.0 + 9.0 * _unit("l", key)
        bad = None
        if self._bad and _unit("b", key) < self._bad_fraction:
            bad = self._bad[stable_hash("bad", key) % len(self._bad)]
        values = (acc, test, cost, latency, bad)
        if len(self._cache) < 100_000:
            self._cache[arch] = values
        return values

    def _visible(self, acc: float) -> float:
        return acc if self.direction == "max" else 100.0 - acc

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        """Visible metrics of ``arch`` at ``fidelity`` (epochs); ``rng`` is not used."""
        self._access("evaluate")
        if self.fidelity is None:
            if fidelity is not None:
                raise InvalidConfig(f"ToyBenchmark(fidelity=False) has no fidelity axis; ask with fidelity=None, not {fidelity!r}")
            f, frac = None, 1.0
        else:
            f = self.fidelity.check(fidelity)
            frac = f / self.fidelity.max
        acc, _, cost, latency, bad = self._values(arch)
        value = self._visible(acc * (0.6 + 0.4 * frac)) if bad is None else bad
        metrics = {self._primary: value}
        if len(self.objectives) == 2:
            metrics["latency_ms"] = latency
        self.n_evaluations += 1
        return Evaluation(metrics, cost * frac, f, None)

    def report(self, arch) -> dict[str, float]:
        """Final metrics: the test twin of the objective, its full-fidelity validation value, latency."""
        self._access("report")
        acc, test, _, latency, _ = self._values(arch)
        return {self._report_metric: self._visible(test), self._primary: self._visible(acc), "latency_ms": latency}

    @property
    def report_metric(self) -> str:
        return self._report_metric

    def optimum(self, metric: str) -> float:
        """Best value of a report metric over the whole space (enumerated once, cached)."""
        self._access("optimum")
        names = (self._report_metric, self._primary, "latency_ms")
        if metric not in names:
            raise InvalidConfig(f"ToyBenchmark has no report metric {metric!r}; choose from {', '.join(names)}")
        if self._optimum is None:
            if not (math.isfinite(self.space.size) and self.space.size <= 200_000):
                raise InvalidConfig(f"ToyBenchmark.optimum needs an enumerable space of at most 200,000 archs, not {self.space.size}")
            best = {n: (math.inf if self.direction == "min" or n == "latency_ms" else -math.inf) for n in names}
            for arch in self.space.enumerate():
                acc, test, _, latency, _ = self._values(arch)
                for n, v in zip(names, (self._visible(test), self._visible(acc), latency)):
                    best[n] = min(best[n], v) if (self.direction == "min" or n == "latency_ms") else max(best[n], v)
            self._optimum = best
        return self._optimum[metric]
