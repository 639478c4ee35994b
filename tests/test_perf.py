"""Harness overhead measurements (``make bench``; pytest-benchmark).

House rule: these tests never assert wall-clock times. They record microseconds per
evaluation in ``benchmark.extra_info`` (shown with ``--benchmark-json`` or
``--benchmark-columns``) and check only that the measured work really happened.
``scripts/bench_harness.py`` prints the same figures next to a hand-written floor loop.

Without ``--benchmark-enable`` (the default configuration) each body runs once, so the
suite still exercises them cheaply.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import benchlab

pytestmark = pytest.mark.perf

N_EVALS = 20_000


@pytest.fixture(scope="module")
def analognas():
    return benchlab.make_benchmark("analognas")


def _timed(fn, times: list):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - t0)
        return out

    return wrapper


@pytest.mark.parametrize("strategy", ["random_search", "regularized_evolution"])
@pytest.mark.parametrize("n_workers", [1, 4])
def test_harness_overhead(benchmark, analognas, strategy, n_workers):
    spec = benchlab.RunSpec("analognas", strategy, max_evaluations=N_EVALS, n_workers=n_workers)
    times: list[float] = []
    result = benchmark.pedantic(_timed(benchlab.run, times), args=(spec,), rounds=5, iterations=1, warmup_rounds=1)
    assert result.summary["status"] == "ok"
    assert result.summary["n_evaluations"] == N_EVALS
    benchmark.extra_info["evaluations"] = N_EVALS
    benchmark.extra_info["us_per_eval"] = round(min(times) / N_EVALS * 1e6, 3)


def test_table_query(benchmark, analognas):
    archs = list(analognas.space.enumerate())[::7][:1000]
    evaluate = analognas.evaluate

    def query_all():
        return [evaluate(a) for a in archs]

    times: list[float] = []
    out = benchmark.pedantic(_timed(query_all, times), rounds=20, iterations=1, warmup_rounds=1)
    assert len(out) == len(archs) and all(e.cost == 1.0 for e in out)
    benchmark.extra_info["us_per_query"] = round(min(times) / len(archs) * 1e6, 3)


def test_table_query_many(benchmark, analognas):
    rng = np.random.default_rng(0)
    archs = [analognas.space.sample(rng) for _ in range(10_000)]
    times: list[float] = []
    out = benchmark.pedantic(_timed(analognas.evaluate_many, times), args=(archs,), rounds=5, iterations=1)
    assert len(out) == len(archs)
    benchmark.extra_info["us_per_query"] = round(min(times) / len(archs) * 1e6, 3)


def test_space_to_str(benchmark, analognas):
    archs = list(analognas.space.enumerate())
    to_str = analognas.space.to_str

    def convert():
        return [to_str(a) for a in archs]

    times: list[float] = []
    out = benchmark.pedantic(_timed(convert, times), rounds=5, iterations=1)
    assert len(set(out)) == 15625
    benchmark.extra_info["us_per_arch"] = round(min(times) / len(archs) * 1e6, 3)
