"""The harness at research scale: 100,000 evaluations in one run.

``test_random_search_100k_columns`` (unmarked, about a second) checks that such a run is
complete and that its incumbent and regret columns agree with the table.
``test_harness_100k`` (``perf``) records microseconds per evaluation in
``benchmark.extra_info`` and asserts no wall-clock time (house rule); run it with
``pytest -m perf --benchmark-enable tests/test_perf_scale.py``.
``scripts/bench_vs_synetune.py`` prints the same figure next to Syne Tune's simulator.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import benchlab

N_EVALS = 100_000


@pytest.fixture(scope="module")
def analognas():
    return benchlab.make_benchmark("analognas")


@pytest.fixture(scope="module")
def run_100k(analognas):
    return benchlab.run(benchlab.RunSpec("analognas", "random_search", max_evaluations=N_EVALS))


def test_random_search_100k_columns(analognas, run_100k):
    cols, summary = run_100k.columns, run_100k.summary
    assert summary["status"] == "ok" and summary["stop_reason"] == "max_evaluations"
    assert summary["n_evaluations"] == N_EVALS
    assert {len(v) for v in cols.values()} == {N_EVALS}
    np.testing.assert_array_equal(cols["eval"], np.arange(1, N_EVALS + 1))
    # one worker, cost 1 per query: back-to-back on the simulated clock
    np.testing.assert_array_equal(cols["end"], np.arange(1, N_EVALS + 1, dtype=np.float64))
    np.testing.assert_array_equal(cols["start"], cols["end"] - 1.0)
    assert summary["simulated_time"] == float(N_EVALS)

    space, metric = analognas.space, analognas.report_metric
    from_str = space.from_str
    # every value is the table's value for its architecture (analognas shows the report metric)
    table = analognas._cols[metric]
    ids = np.fromiter((space.to_id(from_str(a)) for a in cols["arch"]), dtype=np.int64, count=N_EVALS)
    np.testing.assert_array_equal(cols["value"], table[ids])
    assert len(np.unique(ids)) > 15_000  # 100k uniform draws cover nearly all 15,625 cells

    values, inc_value = cols["value"], cols["incumbent_value"]
    np.testing.assert_array_equal(inc_value, np.maximum.accumulate(values))
    first = {}
    for i, a in enumerate(cols["arch"]):
        first.setdefault(a, i)
    incumbents = cols["incumbent"]
    changes = [0] + [i for i in range(1, N_EVALS) if incumbents[i] != incumbents[i - 1]]
    for i in changes:  # a new incumbent is the row just told, and strictly better than before
        assert incumbents[i] == cols["arch"][i] and first[incumbents[i]] == i
        assert i == 0 or values[i] > inc_value[i - 1]
    assert len(changes) == len(set(incumbents))
    for a in set(incumbents):
        assert analognas.report(from_str(a))[metric] == inc_value[first[a]]
    np.testing.assert_array_equal(cols["incumbent_test"], inc_value)  # no validation split on analognas

    regret = cols["regret"]
    np.testing.assert_allclose(regret, analognas.optimum(metric) - cols["incumbent_test"], rtol=0, atol=0)
    assert regret.min() >= 0.0 and np.all(np.diff(regret) <= 0.0)
    assert summary["final"]["regret"] == regret[-1] and summary["final"]["incumbent"] == incumbents[-1]


@pytest.mark.perf
def test_harness_100k(benchmark, analognas):
    spec = benchlab.RunSpec("analognas", "random_search", max_evaluations=N_EVALS)
    times: list[float] = []

    def timed_run():
        t0 = time.perf_counter()
        out = benchlab.run(spec)
        times.append(time.perf_counter() - t0)
        return out

    result = benchmark.pedantic(timed_run, rounds=3, iterations=1, warmup_rounds=1)
    assert result.summary["status"] == "ok"
    assert len(result.columns["regret"]) == N_EVALS
    benchmark.extra_info["evaluations"] = N_EVALS
    benchmark.extra_info["seconds"] = round(min(times), 4)
    benchmark.extra_info["us_per_eval"] = round(min(times) / N_EVALS * 1e6, 3)
