"""Measure NAS-Bench-101 in benchlab: cold-process load of a full-size table, import speed, CRC speed.

Usage: python scripts/bench_nb101.py [--root DIR] [--cells N] [--records N] | --enumerate [--write-cells]

1. Writes a synthetic table with the full official layout (423,624 cells, 4/12/36/108
   epochs x 3 runs, halfway columns; random hashes plus a few real cells) under
   ``DIR/tables/nb101`` (default: a temporary folder), then, in fresh processes (median of
   5), times ``import`` + opening the table + building the ``NB101`` benchmark + one query,
   and reads the peak resident memory (``VmHWM`` of ``/proc/self/status``; ``ru_maxrss``
   elsewhere, which on Linux also counts the parent's memory at fork).
2. Imports a synthetic official-format ``.tfrecord`` of ``--records`` training runs and
   prints records/s and MB/s, extrapolated to the official files (1,270,872 and 5,083,488
   records).
3. CRC-32C throughput of the numpy backend (and the native one when installed).

``--enumerate``: instead, enumerate the whole NB101 space (423,624 cells,
``benchmarks/nb101/_enumerate.py``) in a fresh process and print its wall time and peak
resident memory; with ``--write-cells`` also rewrite the committed compact form
``benchmarks/nb101/nb101_cells.npz`` from that enumeration.

Prints figures; asserts nothing. The issue's acceptance: < 1 s and < 300 MB for step 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fixture writers live with the tests

COLD = """
import resource, sys, time
t0 = time.perf_counter()
import numpy as np
from benchlab.benchmarks.nb101 import NB101
t1 = time.perf_counter()
bench = NB101()
t2 = time.perf_counter()
arch = tuple(int(v) for v in sys.argv[1].split(","))
ev = bench.evaluate(arch, rng=np.random.default_rng(0))
rep = bench.report(arch)
t3 = time.perf_counter()
try:  # VmHWM: this process's peak; ru_maxrss would include the parent's RSS at fork (kept across exec)
    rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
except (OSError, IndexError):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(t1 - t0, t2 - t1, t3 - t2, t3 - t0, rss, bench.space.size, ev.metrics["valid_acc"], rep["test_acc"])
"""


def cold_figures(data_dir: Path, arch: tuple, repeats: int = 5) -> list[list[float]]:
    env = {**os.environ, "BENCHLAB_DATA": str(data_dir)}
    out = []
    for _ in range(repeats):
        res = subprocess.run([sys.executable, "-c", COLD, ",".join(map(str, arch))], capture_output=True, text=True,
                             env=env, check=True, cwd=ROOT)  # fmt: skip
        out.append([float(v) for v in res.stdout.split()])
    return out


ENUMERATE = """
import resource, sys, time
t0 = time.perf_counter()
from benchlab.benchmarks.nb101 import enumerate_cells
cells = enumerate_cells()
t1 = time.perf_counter()
if sys.argv[1] == "write":
    from benchlab.benchmarks.nb101._cells import CELLS_FILE, load_cells, save_cells
    save_cells(cells)
    load_cells()  # checks the written file
try:
    rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
except (OSError, IndexError):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(cells["hash"]), t1 - t0, rss)
"""


def enumerate_figures(write: bool) -> None:
    res = subprocess.run([sys.executable, "-c", ENUMERATE, "write" if write else "time"], capture_output=True,
                         text=True, check=True, cwd=ROOT)  # fmt: skip
    n, seconds, rss = res.stdout.split()
    print(f"NB101 enumeration: {int(n):,} cells in {float(seconds):.1f} s, peak RSS {float(rss):.0f} MB"
          + (" (benchmarks/nb101/nb101_cells.npz rewritten and checked)" if write else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enumerate", action="store_true", help="time the enumeration of the NB101 space instead")
    ap.add_argument("--write-cells", action="store_true", help="with --enumerate: rewrite benchmarks/nb101/nb101_cells.npz")
    ap.add_argument("--root", type=Path, default=None, help="data folder for the synthetic table (default: a temp dir)")
    ap.add_argument("--cells", type=int, default=423_624, help="rows of the synthetic table")
    ap.add_argument("--records", type=int, default=60_000, help="training runs in the synthetic .tfrecord")
    args = ap.parse_args()
    if args.enumerate or args.write_cells:
        enumerate_figures(args.write_cells)
        return
    import _fixtures_nb101 as F

    from benchlab.benchmarks.nb101 import import_nb101
    from benchlab.benchmarks.nb101._tfrecord import CRC_BACKEND, crc32c_many

    root = args.root or Path(tempfile.mkdtemp(prefix="bench-nb101-"))
    t = time.perf_counter()
    folder, cells = F.write_synthetic_store(root / "tables", n_rows=args.cells)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"synthetic full-layout table: {args.cells} cells, {size / 2**20:.0f} MiB in {folder} "
          f"(written in {time.perf_counter() - t:.1f} s)")  # fmt: skip
    figs = np.array(cold_figures(root, cells[0][0]))
    med = np.median(figs, axis=0)
    print("cold process (median of 5): import benchlab.benchmarks.nb101 "
          f"{med[0] * 1e3:.0f} ms, open table + NB101() {med[1] * 1e3:.1f} ms, first query + report "
          f"{med[2] * 1e3:.1f} ms, total {med[3] * 1e3:.0f} ms; peak RSS {med[4]:.0f} MB "
          f"(max {figs[:, 4].max():.0f} MB); space size {int(med[5])}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        n_cells = max(1, args.records // 3)
        cells_ = F.sample_cells(n_cells, seed=1)
        path, _ = F.make_fixture(Path(tmp), cells=cells_, epochs=(108,), seed=1)
        mb = path.stat().st_size / 1e6
        t = time.perf_counter()
        import_nb101(path, root=Path(tmp) / "tables", bar=lambda total, desc: _NoBar())
        dt = time.perf_counter() - t
        n = 3 * n_cells
        print(f"import: {n} records ({mb:.1f} MB) in {dt:.2f} s = {n / dt:,.0f} records/s, {mb / dt:.1f} MB/s; "
              f"extrapolated: nasbench_only108 (1,270,872 records) {1_270_872 / (n / dt):.0f} s, "
              f"nasbench_full (5,083,488) {5_083_488 / (n / dt):.0f} s")  # fmt: skip

    rng = np.random.default_rng(0)
    lens = rng.integers(300, 460, 20_000)
    buf = rng.integers(0, 256, int(lens.sum()), dtype=np.uint8).tobytes()
    starts = np.cumsum(lens) - lens
    for backend in ["numpy"] + ([CRC_BACKEND] if CRC_BACKEND != "numpy" else []):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            crc32c_many(buf, starts, lens, backend=backend)
            times.append(time.perf_counter() - t)
        print(f"CRC-32C ({backend}): {len(buf) / statistics.median(times) / 1e6:.0f} MB/s over 20,000 records of 300-460 bytes")


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


if __name__ == "__main__":
    main()
