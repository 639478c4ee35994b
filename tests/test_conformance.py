"""Conformance suites over everything registered, and proof that the suites catch bugs.

Registering a strategy or benchmark adds its cases here automatically (``strategy_cases``,
``benchmark_cases``, ``space_cases`` read the registry).
"""

from __future__ import annotations

import gc
import math
import pickle

import numpy as np
import pytest

import benchlab
import benchlab.testing as bt
from benchlab import CategoricalSpace, InvalidArchitecture, RandomStream, Strategy
from benchlab.testing import (
    BENCHMARK_CHECKS,
    SPACE_CHECKS,
    STRATEGY_CHECKS,
    Case,
    ConformanceError,
    ToyBenchmark,
    ToySpace,
    benchmark_cases,
    space_cases,
    strategy_cases,
)

# -- the suites over the registry -------------------------------------------------------


@pytest.fixture(autouse=True)
def _tables(built_tables):
    """Benchmarks that read built tables run when ../shared/data is there (CI), else skip."""

TOY_BENCHMARKS = [
    Case("ToyBenchmark", ToyBenchmark(), {}),
    Case("ToyBenchmark-min-2obj-nb201-like", ToyBenchmark(ToySpace.nb201_like(), direction="min", n_objectives=2, fidelity=False), {}),
    Case("ToyBenchmark-nan-inf", ToyBenchmark(bad_values=("nan", "inf", "-inf")), {}),
]


def _name(check) -> str:
    return check.__name__


@pytest.mark.parametrize("check", STRATEGY_CHECKS, ids=_name)
@pytest.mark.parametrize("case", strategy_cases(), ids=str)
def test_strategy(case, check):
    check(case.target, **case.kwargs)


@pytest.mark.parametrize("check", BENCHMARK_CHECKS, ids=_name)
@pytest.mark.parametrize("case", benchmark_cases() + TOY_BENCHMARKS, ids=str)
def test_benchmark(case, check):
    check(case.target, **case.kwargs)


@pytest.mark.parametrize("check", SPACE_CHECKS, ids=_name)
@pytest.mark.parametrize("case", space_cases(), ids=str)
def test_space(case, check):
    check(case.target, **case.kwargs)


def test_registry_is_covered():
    public = {n for n in benchlab.STRATEGIES.names() if not n.startswith("_")}  # "_name": test fixtures
    # a strategy opts out only by declaring no cases (its optional dependency is missing)
    opted_out = {n for n in public if getattr(benchlab.STRATEGIES.get(n), "conformance_cases", None) == []}
    names = {c.target for c in strategy_cases()}
    assert names == public - opted_out
    assert {"random_search", "regularized_evolution"} <= names
    assert {c.id for c in strategy_cases()} >= {"random_search", "random_search[replace=False]"}
    # a benchmark opts out the same way (live benchmarks: checking the optimum would train every cell)
    benches = {n for n in benchlab.BENCHMARKS.names() if not n.startswith("_")}
    bench_out = {n for n in benches if getattr(benchlab.BENCHMARKS.get(n), "conformance_cases", None) == []}
    assert {c.target for c in benchmark_cases()} == benches - bench_out
    assert any(c.target == "analognas" for c in space_cases())


def test_public_api():
    for name in bt.__all__:
        assert hasattr(bt, name), name
    assert issubclass(ConformanceError, AssertionError)
    assert set(STRATEGY_CHECKS) | set(BENCHMARK_CHECKS) | set(SPACE_CHECKS) <= {getattr(bt, n) for n in bt.__all__}


def test_check_all_at_once():
    report = bt.check_strategy("random_search", replace=False)
    assert set(report) == {c.__name__ for c in STRATEGY_CHECKS}
    assert all(v == "passed" for v in report.values())
    report = bt.check_benchmark(ToyBenchmark())
    assert set(report) == {c.__name__ for c in BENCHMARK_CHECKS + SPACE_CHECKS}
    assert bt.check_space(ToySpace((2, 3)))["check_space_ids"] == "passed"


# -- the toy components ------------------------------------------------------------------


def test_toy_space():
    space = ToySpace()
    assert space.size == 18 and isinstance(space, CategoricalSpace)
    assert space.to_str((0, 1, 2)) == "op=conv3x3|width=32|depth=3"
    assert space.from_str("op=skip|width=16|depth=1") == (2, 0, 0)
    with pytest.raises(InvalidArchitecture, match="not an option of width"):
        space.from_str("op=skip|width=99|depth=1")
    assert ToySpace.nb201_like().size == 15625
    assert len(ToySpace.nb201_like().neighbors((0,) * 6)) == 24


def test_toy_benchmark():
    bench = ToyBenchmark()
    arch = (1, 0, 2)
    ev = bench.evaluate(arch)
    rep = bench.report(arch)
    assert ev.metrics["valid_acc"] == rep["valid_acc"] != rep["test_acc"]
    assert bench.evaluate(arch, 1).metrics["valid_acc"] < ev.metrics["valid_acc"]
    assert len({bench.evaluate(a).cost for a in bench.space.enumerate()}) == 18
    assert bench.optimum("test_acc") == max(bench.report(a)["test_acc"] for a in bench.space.enumerate())
    mini = ToyBenchmark(direction="min")
    assert mini.objectives[0].direction == "min" and mini.report_metric == "test_error"
    assert mini.optimum("test_error") == min(mini.report(a)["test_error"] for a in mini.space.enumerate())
    bad = ToyBenchmark(bad_values=("nan", "inf", "-inf"), bad_fraction=0.5)
    values = [bad.evaluate(a).metrics["valid_acc"] for a in bad.space.enumerate()]
    assert any(math.isnan(v) for v in values) and any(v == math.inf for v in values) and any(math.isfinite(v) for v in values)
    with bench.strategy_running():
        for call in (lambda: bench.report(arch), lambda: bench.optimum("test_acc"), lambda: bench.evaluate(arch)):
            with pytest.raises(ConformanceError, match="strategies must never query the benchmark"):
                call()
    assert bench.violations == ["report", "optimum", "evaluate"]
    with pytest.raises(ConformanceError, match="refuses to be pickled"):
        pickle.dumps(bench)
    with pytest.raises(InvalidArchitecture):
        bench.evaluate((True, 0, 0))


# -- deliberately broken components: each must be caught by the named check --------------


class _Random(Strategy):
    """A correct baseline: uniform sampling from self.rng."""

    def ask(self):
        return self._trial(self.space.sample(self.rng))


class GlobalNumpyRNG(_Random):
    def ask(self):
        return self._trial(tuple(int(np.random.randint(len(o))) for _, o in self.space.choices()))


class InvalidArchs(_Random):
    def ask(self):
        if self._n_asked % 7 == 6:
            return self._trial(tuple(len(o) for _, o in self.space.choices()))  # one past the last option
        return super().ask()


class Unseeded(_Random):
    def _setup(self):
        self._gen = np.random.default_rng()  # OS entropy: differs on every run

    def ask(self):
        return self._trial(self.space.sample(self._gen))


class IgnoresSeed(_Random):
    def _setup(self):
        self.rng = RandomStream(0)


class HashOrder(_Random):
    """Deterministic in one process, but string hashing is salted per process."""

    def ask(self):
        n = int(self.space.size)
        return self._trial(self.space.from_id((self.rng.integers(0, n) + hash(f"t{self._n_asked}")) % n))


class Peeking(_Random):
    """Finds the benchmark behind the harness's back and reads test metrics."""

    def _setup(self):
        self._bench = next(o for o in gc.get_objects() if isinstance(o, benchlab.Benchmark) and o.space is self.space)

    def ask(self):
        a, b = self.space.sample(self.rng), self.space.sample(self.rng)
        best = max((a, b), key=lambda x: self._bench.report(x)[self._bench.report_metric])
        return self._trial(best)


class Hoarding(_Random):
    """Only keeps a reference to the benchmark (never calls it): still a leak."""

    def _setup(self):
        self._bench = next(o for o in gc.get_objects() if isinstance(o, benchlab.Benchmark) and o.space is self.space)


class NaNIncumbent(_Random):
    def _setup(self):
        self._seen = []

    def _tell(self, trial, evaluation, score):
        self._seen.append((trial.arch, evaluation.metrics[self.objectives[0].name]))

    def recommend(self):
        if not self._seen:
            return None
        return self._seen[int(np.argmax([v for _, v in self._seen]))][0]  # argmax picks the first NaN


class MaxOnly(NaNIncumbent):
    def recommend(self):
        finite = [(a, v) for a, v in self._seen if v == v]
        return max(finite, key=lambda t: t[1])[0] if finite else None  # ignores direction="min"


class MangledParams(_Random):
    def __init__(self, population_size: int = 10, verbose: bool = False):
        self.population_size = int(population_size) * 1  # "validates" by converting
        self.verbose = verbose
        self._history = []  # state in the constructor


class FragileOrder(_Random):
    def _tell(self, trial, evaluation, score):
        if trial.id != self._n_told - 1:
            raise RuntimeError(f"expected result of trial {self._n_told - 1}, got {trial.id}")


class ForgetfulPickle(_Random):
    def __getstate__(self):
        state = dict(self.__dict__)
        if "rng" in state:
            state["rng"] = RandomStream(0)  # forgets where the stream was
        return state


class LyingExhaustive(_Random):
    tags = frozenset({"exhaustive"})  # but samples with replacement


class Hanging(_Random):
    """Sampling without replacement that forgets to stop when the space is exhausted."""

    tags = frozenset({"exhaustive"})

    def _setup(self):
        self._seen = set()

    def ask(self):
        while True:
            a = self.space.sample(self.rng)
            if a not in self._seen:
                self._seen.add(a)
                return self._trial(a)


@pytest.mark.parametrize(
    "strategy, check, match",
    [
        (_Random, None, None),
        (GlobalNumpyRNG, bt.check_global_rng, "global numpy.random state changed"),
        (InvalidArchs, bt.check_valid_archs, "invalid architecture"),
        (Unseeded, bt.check_determinism, "two runs with seed 7"),
        (IgnoresSeed, bt.check_determinism, "ignores its seed"),
        (HashOrder, bt.check_spawn_determinism, "freshly spawned"),
        (Peeking, bt.check_no_test_access, "must never query the benchmark"),
        (Hoarding, bt.check_no_test_access, "holds a reference to a benchmark"),
        (Hoarding, bt.check_pickle_resume, "refuses to be pickled"),
        (NaNIncumbent, bt.check_nan_inf, "NaN"),
        (MaxOnly, bt.check_objectives, "minimised"),
        (MangledParams, bt.check_params, "constructor"),
        (FragileOrder, bt.check_out_of_order, "tell"),
        (ForgetfulPickle, bt.check_pickle_resume, "original vs copy"),
        (LyingExhaustive, bt.check_exhaustion, "tagged exhaustive"),
        (LyingExhaustive, bt.check_budget, "tagged exhaustive"),
    ],
    ids=lambda x: getattr(x, "__name__", None) if callable(x) else None,
)
def test_checks_catch_broken_strategies(strategy, check, match):
    if check is None:  # the baseline passes everything, so the failures below are the bugs
        bt.check_strategy(strategy)
        return
    with pytest.raises(AssertionError, match=match):
        check(strategy)


class NeedsTraining(_Random):
    tags = frozenset({"needs_training"})


def test_tags_decide_what_applies():
    report = bt.check_strategy(NeedsTraining)
    assert report.pop("check_params") == "passed"
    assert all(v.startswith("skipped: ") and "needs_training" in v for v in report.values())


def test_strategy_defined_in_exec_code():
    """Like the README example: not importable, so only the spawned-process check skips."""
    ns = {"__name__": "__not_importable__", "Strategy": Strategy}
    exec("class Greedy(Strategy):\n    def ask(self):\n        return self._trial(self.space.sample(self.rng))\n", ns)
    report = bt.check_strategy(ns["Greedy"])
    assert report.pop("check_spawn_determinism").startswith("skipped: ")
    assert set(report.values()) == {"passed"}


def test_hang_is_caught(monkeypatch):
    monkeypatch.setattr(bt._common, "TIME_LIMIT_S", 1.0)
    with pytest.raises(AssertionError, match="did not finish within 1 s"):
        bt.check_exhaustion(Hanging)


def test_check_strategy_lists_every_failure():
    with pytest.raises(ConformanceError) as info:
        bt.check_strategy(GlobalNumpyRNG)
    text = str(info.value)
    assert text.startswith("GlobalNumpyRNG: ") and "checks failed" in text
    assert "- check_global_rng: " in text and "- check_determinism: " in text and "- check_exhaustion" not in text


class SplitMixUp(ToyBenchmark):
    """NASLib's NB201 bug: reads the test split as validation."""

    def evaluate(self, arch, fidelity=None, *, rng=None):
        ev = super().evaluate(arch, fidelity, rng=rng)
        return benchlab.Evaluation({"valid_acc": self.report(arch)["test_acc"]}, ev.cost, ev.fidelity)


class LowOptimum(ToyBenchmark):
    def optimum(self, metric):
        return super().optimum(metric) - 1.0


class Lenient(ToyBenchmark):
    def evaluate(self, arch, fidelity=None, *, rng=None):
        if isinstance(arch, tuple) and len(arch) == 3:
            arch = tuple(int(v) % r for v, r in zip(arch, (3, 2, 3)))  # wraps out-of-range ops
        return super().evaluate(arch, fidelity, rng=rng)


class CheapMany(ToyBenchmark):
    def evaluate_many(self, archs, fidelity=None, *, rng=None):
        return [benchlab.Evaluation(e.metrics, 0.0, e.fidelity) for e in super().evaluate_many(archs, fidelity, rng=rng)]


class GlobalNoise(ToyBenchmark):
    def evaluate(self, arch, fidelity=None, *, rng=None):
        np.random.random()
        return super().evaluate(arch, fidelity, rng=rng)


class NegativeCost(ToyBenchmark):
    def evaluate(self, arch, fidelity=None, *, rng=None):
        ev = super().evaluate(arch, fidelity, rng=rng)
        return benchlab.Evaluation(ev.metrics, -ev.cost, ev.fidelity)


@pytest.mark.parametrize(
    "bench, check, match",
    [
        (SplitMixUp(), bt.check_no_report_leak, "split mix-up"),
        (LowOptimum(), bt.check_optimum, "optimum"),
        (Lenient(), bt.check_invalid_archs, "expected benchlab.InvalidArchitecture"),
        (CheapMany(), bt.check_evaluate_many, "evaluate_many differs"),
        (GlobalNoise(), bt.check_benchmark_determinism, "global"),
        (NegativeCost(), bt.check_evaluate, "cost"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, ToyBenchmark) else None,
)
def test_checks_catch_broken_benchmarks(bench, check, match):
    with pytest.raises(AssertionError, match=match):
        check(bench)


class StuckMutate(ToySpace):
    def mutate(self, arch, rng):
        return arch if rng.random() < 0.2 else super().mutate(arch, rng)


class LeakyParser(ToySpace):
    def from_str(self, text):
        items = dict(p.split("=", 1) for p in text.split("|"))  # ValueError on garbage
        return tuple(opts.index(items[name]) for name, opts in self.choices())  # KeyError too


class SelfNeighbor(ToySpace):
    def neighbors(self, arch):
        return [arch] + super().neighbors(arch)


class CrookedIds(ToySpace):
    def from_id(self, index):
        return super().from_id(index if index < 5 else index - 1)


@pytest.mark.parametrize(
    "space, check, match",
    [
        (StuckMutate(), bt.check_space_mutate, "returned its input"),
        (LeakyParser(), bt.check_space_strings, "expected benchlab.InvalidArchitecture"),
        (SelfNeighbor(), bt.check_space_neighbors, "itself"),
        (CrookedIds(), bt.check_space_ids, "from_id"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, ToySpace) else None,
)
def test_checks_catch_broken_spaces(space, check, match):
    with pytest.raises(AssertionError, match=match):
        check(space)
