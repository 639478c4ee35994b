#!/usr/bin/env python
"""Harness overhead per evaluation, against a hand-written floor (``make bench``).

For random search (RS) and regularized evolution (RE, P=10, S=3) on analognas this prints

* harness: microseconds per evaluation of the full harness, ``benchlab.run`` (strategy
  ask/tell, table query, simulated clock, trajectory columns, incumbents and regret);
* floor: a minimal loop doing the same algorithm directly on the table's numpy column in
  this process (ids instead of tuples, pre-drawn uniforms, a running incumbent and the
  per-evaluation trajectory lists, regret at the end) - about the least Python can do;
* ratio: harness / floor.

Times are the best of ``--repeats`` runs of ``--evals`` evaluations each.
Usage: ``python scripts/bench_harness.py [--evals 20000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from collections import deque

import numpy as np

import benchlab

N_ARCHS = 15625
POW5 = [5**k for k in range(5, -1, -1)]  # digit weight of edge 0..5 (edge 0 most significant)


def floor_random_search(values: list, test: list, optimum: float, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    ids = (rng.random(n) * N_ARCHS).astype(np.int64).tolist()
    trial_ids, vals, incs = [], [], []
    best, best_id = -math.inf, -1
    for i in ids:
        v = values[i]
        if v > best:
            best, best_id = v, i
        trial_ids.append(i)
        vals.append(v)
        incs.append(best_id)
    regret = optimum - np.asarray(test)[incs]
    return float(regret[-1])


def floor_regularized_evolution(values: list, test: list, optimum: float, n: int, seed: int, p: int = 10, s: int = 3) -> float:
    rng = np.random.default_rng(seed)
    u = rng.random(n * (s + 2) + p).tolist()
    k = 0
    pop: deque = deque()
    trial_ids, vals, incs = [], [], []
    best, best_id = -math.inf, -1
    for _ in range(n):
        if len(pop) < p:
            arch = int(u[k] * N_ARCHS)
            k += 1
        else:
            parent, score = pop[int(u[k] * p)]
            k += 1
            for _ in range(s - 1):
                cand, cscore = pop[int(u[k] * p)]
                k += 1
                if cscore > score:
                    parent, score = cand, cscore
            edge = int(u[k] * 6)
            new = int(u[k + 1] * 4)
            k += 2
            w = POW5[edge]
            old = parent // w % 5
            if new >= old:
                new += 1
            arch = parent + (new - old) * w
        v = values[arch]
        pop.append((arch, v))
        if len(pop) > p:
            pop.popleft()
        if v > best:
            best, best_id = v, arch
        trial_ids.append(arch)
        vals.append(v)
        incs.append(best_id)
    regret = optimum - np.asarray(test)[incs]
    return float(regret[-1])


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=20_000, help="evaluations per run (default 20000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure; the best is kept (default 5)")
    args = parser.parse_args()
    n, repeats = args.evals, args.repeats

    bench = benchlab.make_benchmark("analognas")
    column = bench._cols["baseline_accuracy"]  # benchlab-id order
    values = column.tolist()
    test = column.tolist()  # analognas: the report metric is the visible one
    optimum = bench.optimum("baseline_accuracy")

    floors = {
        "random_search": lambda: floor_random_search(values, test, optimum, n, 0),
        "regularized_evolution": lambda: floor_regularized_evolution(values, test, optimum, n, 0),
    }
    print(f"benchlab {benchlab.__version__}, Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"analognas, {n} evaluations per run, best of {repeats}")
    print(f"{'strategy':<24}{'workers':>8}{'harness us/eval':>17}{'floor us/eval':>15}{'ratio':>8}")
    for strategy, floor in floors.items():
        floor()  # warm up
        floor_us = best_of(floor, repeats) / n * 1e6
        for workers in (1, 4):
            spec = benchlab.RunSpec("analognas", strategy, max_evaluations=n, n_workers=workers)
            result = benchlab.run(spec)  # warm up (and check)
            assert result.summary["n_evaluations"] == n, result.summary
            harness_us = best_of(lambda: benchlab.run(spec), repeats) / n * 1e6
            print(f"{strategy:<24}{workers:>8}{harness_us:>17.2f}{floor_us:>15.2f}{harness_us / floor_us:>8.1f}")
    archs = list(bench.space.enumerate())[:5000]
    query_us = best_of(lambda: [bench.evaluate(a) for a in archs], repeats) / len(archs) * 1e6
    print(f"raw table query (Benchmark.evaluate): {query_us:.2f} us")


if __name__ == "__main__":
    main()
