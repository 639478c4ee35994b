"""Measure the nb201 table store: cold-process load time and vectorised lookups per second.

Usage: python scripts/bench_nb201.py   (build the table first: benchlab data build nb201 --source DIR)
Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

COLD = """
import time
t0 = time.perf_counter()
from benchlab._tables import open_table
t1 = time.perf_counter()
table = open_table("nb201")
col = table.column("cifar10-valid/valid_acc@12")
float(col[12345])
t2 = time.perf_counter()
from benchlab.benchmarks.nb201 import NB201
t3 = time.perf_counter()
bench = NB201(fidelity=12)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t4 - t3)
"""


def main() -> None:
    imports, opens, constructs = [], [], []
    for _ in range(7):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True).stdout.split()
        imports.append(float(out[0]))
        opens.append(float(out[1]))
        constructs.append(float(out[2]))
    print("cold process, median of 7:")
    print(f"  import benchlab._tables            {statistics.median(imports) * 1e3:7.1f} ms")
    print(f"  open_table('nb201') + 1 column     {statistics.median(opens) * 1e3:7.1f} ms")
    print(f"  NB201(fidelity=12) benchmark       {statistics.median(constructs) * 1e3:7.1f} ms")

    from benchlab.benchmarks.nb201 import NB201

    bench = NB201(fidelity=12)
    rng = np.random.default_rng(0)
    for n in (10_000, 1_000_000, 10_000_000):
        ids = rng.integers(0, 15625, size=n)
        best = min(_timed(lambda: bench.lookup(ids, "cifar10-valid/valid_acc@12")) for _ in range(5))
        print(f"vectorised lookup, {n:>10,} ids: {n / best / 1e6:8.1f} M lookups/s")
    archs = [bench.space.from_id(int(i)) for i in rng.integers(0, 15625, size=100_000)]
    best = min(_timed(lambda: [bench.evaluate(a) for a in archs]) for _ in range(3))
    print(f"scalar Benchmark.evaluate: {best / len(archs) * 1e6:.2f} us per query")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
