"""Small NAS-Bench-101 files in exactly the official format, for the importer's tests.

Each record is what google-research/nasbench's ``NASBench.__init__`` reads: TFRecord
framing with masked CRC-32C, the JSON list ``[module_hash, epochs, adjacency string,
comma-separated ops, base64 ModelMetrics]`` of one training run, with three
``EvaluationData`` (start, halfway, end of training). Cells are real NB101 cells sampled
with ``NB101Space``, stored pruned (as the official files store them) and keyed by their
official module hash; the metrics are synthetic (seeded). Records are shuffled, so the
runs of a cell are interleaved with other cells' runs, as nothing guarantees an order.

``make_fixture(folder, n_cells, epochs)`` returns the file path and ``expected``:
``{(hash, epochs): [ModelMetrics of run 0, 1, 2 in file order]}`` plus the specs.
``corrupt_crc`` and ``truncate`` derive the broken files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchlab.benchmarks.nb101 import NB101Space, prune, to_spec
from benchlab.benchmarks.nb101._graph import module_hash
from benchlab.benchmarks.nb101._proto import EvaluationData, ModelMetrics, format_row
from benchlab.benchmarks.nb101._tfrecord import write_records

__all__ = ["corrupt_crc", "make_fixture", "sample_cells", "synthetic_metrics", "truncate"]


def sample_cells(n: int, seed: int = 0) -> list[tuple]:
    """``n`` distinct cells: ``(arch, module hash, pruned matrix, pruned ops)``."""
    space = NB101Space()
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        arch = space.sample(rng)
        m, ops = prune(*to_spec(arch))
        h = module_hash(m, ops)
        if h in seen:
            continue
        seen.add(h)
        out.append((arch, h, m, ops))
    return out


def synthetic_metrics(rng, epochs: int, params: int) -> ModelMetrics:
    """Three evaluations (start, halfway, end) of one run with plausible random values."""
    per_epoch = float(rng.uniform(5.0, 15.0))
    final_acc = float(rng.uniform(0.6, 0.95))
    evals = (
        EvaluationData(0.0, 0.0, 0.1, 0.1, 0.1, ""),
        EvaluationData(epochs / 2, per_epoch * epochs / 2, final_acc * 0.9, final_acc * 0.88, final_acc * 0.87, ""),
        EvaluationData(float(epochs), per_epoch * epochs, min(1.0, final_acc + 0.05), final_acc,
                       final_acc - float(rng.uniform(0.0, 0.02)), ""),
    )  # fmt: skip
    return ModelMetrics(evals, params, per_epoch * epochs * 1.1)


def make_fixture(folder: Path, n_cells: int = 12, epochs=(108,), seed: int = 0, name: str = "nasbench_fixture.tfrecord",
                 cells=None, repeats: int = 3) -> tuple[Path, dict]:  # fmt: skip
    """Write a fixture file; returns ``(path, expected)`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    cells = cells if cells is not None else sample_cells(n_cells, seed)
    rows = []
    params = {h: int(rng.integers(200_000, 40_000_000)) for _, h, _, _ in cells}
    for _, h, m, ops in cells:
        for e in epochs:
            for _ in range(repeats):
                rows.append((h, e, m, ops, synthetic_metrics(rng, e, params[h])))
    order = rng.permutation(len(rows))
    expected: dict = {"specs": {h: (m, ops) for _, h, m, ops in cells}, "archs": {h: a for a, h, _, _ in cells},
                      "params": params}  # fmt: skip
    records = []
    for i in order.tolist():
        h, e, m, ops, metrics = rows[i]
        expected.setdefault((h, e), []).append(metrics)
        records.append(format_row(h, e, m.tolist(), ops, metrics))
    path = Path(folder) / name
    write_records(path, records)
    return path, expected


def record_offsets(path: Path) -> list[tuple[int, int]]:
    """``(offset, data length)`` of every record of a TFRecord file (framing only)."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        out.append((pos, length))
        pos += 16 + length
    return out


def corrupt_crc(src: Path, dst: Path, record: int = 5) -> int:
    """Copy ``src`` to ``dst`` with one data byte of record ``record`` flipped; returns
    that record's byte offset."""
    data = bytearray(Path(src).read_bytes())
    offset, length = record_offsets(src)[record]
    data[offset + 12 + length // 2] ^= 0x01
    Path(dst).write_bytes(bytes(data))
    return offset


def truncate(src: Path, dst: Path, record: int = 7) -> int:
    """Copy ``src`` to ``dst`` cut in the middle of record ``record``; returns its offset."""
    data = Path(src).read_bytes()
    offset, length = record_offsets(src)[record]
    Path(dst).write_bytes(data[: offset + 12 + length // 2])
    return offset


def write_synthetic_store(root: Path, name: str = "nb101", n_rows: int = 423_624, seed: int = 0,
                          real_cells: int = 64, halfway: bool = True) -> tuple[Path, list]:  # fmt: skip
    """A synthetic table with the full official layout: ``n_rows`` cells (default all
    423,624), every column of an import of both official files (4/12/36/108 epochs x 3
    runs, halfway columns), marked complete. Hashes are random 128-bit values except
    ``real_cells`` real cells (returned as ``[(arch, hash)]``) so that queries can hit rows;
    spec columns are random. For load-time and memory measurements only."""
    from benchlab._tables import Column, write_table
    from benchlab.benchmarks.nb101._import import EPOCHS, REPEATS, spec_columns

    rng = np.random.default_rng(seed)
    cells = sample_cells(real_cells, seed)
    hashes = rng.integers(0, 256, size=(n_rows, 16), dtype=np.uint8)
    for i, (_, h, _, _) in enumerate(cells):
        hashes[i] = np.frombuffer(bytes.fromhex(h), dtype=np.uint8)
    keys = np.unique(hashes.view("S16").ravel())
    while keys.size < n_rows:  # a random collision: draw again (practically never)
        extra = rng.integers(0, 256, size=(n_rows - keys.size, 16), dtype=np.uint8).view("S16").ravel()
        keys = np.unique(np.concatenate([keys, extra]))
    cols = {
        "hash": keys,
        "n_vertices": rng.integers(2, 8, n_rows).astype(np.uint8),
        "adjacency": rng.integers(0, 1 << 21, n_rows).astype(np.uint32),
        "ops": rng.integers(0, 3, (n_rows, 5)).astype(np.uint8),
        "params": rng.integers(200_000, 50_000_000, n_rows).astype(np.int64),
    }
    info = spec_columns()
    info["params"] = Column("params", "int64", metric="params")
    for e in EPOCHS:
        for suffix in ("", "_halfway") if halfway else ("",):
            for what in ("train_acc", "valid_acc", "test_acc", "train_time"):
                name_ = f"cifar10/{what}{suffix}_seeds@{e}"
                scale = 10.0 * e if what == "train_time" else 1.0
                cols[name_] = rng.uniform(0.1, 0.95, (n_rows, REPEATS)) * scale
                info[name_] = Column(name_, "float64", split=what.split("_")[0], fidelity=e, axes=("arch", "repeat"))
                if not suffix:
                    cols[f"cifar10/{what}@{e}"] = cols[name_].mean(axis=1)
                    info[f"cifar10/{what}@{e}"] = Column(f"cifar10/{what}@{e}", "float64", split=what.split("_")[0],
                                                         fidelity=e)  # fmt: skip
    meta = {"space": "nb101", "epochs": list(EPOCHS), "repeats": REPEATS, "complete": True, "synthetic": True,
            "provenance": []}  # fmt: skip
    folder = write_table(name, cols, info, meta, root)
    return folder, [(a, h) for a, h, _, _ in cells]


def write_cells_table(root: Path, name: str, n_cells: int = 3000, epochs=(4, 12, 36, 108), seed: int = 0,
                      complete: bool = False) -> tuple[Path, list]:  # fmt: skip
    """A table of ``n_cells`` real cells (sampled, with their specs and hashes) and random
    metrics, in the import's layout, written directly (no .tfrecord): large enough that
    evolution's mutations land in it. Returns the folder and the sampled cells."""
    from benchlab._tables import Column, write_table
    from benchlab.benchmarks.nb101._import import REPEATS, encode_spec, hash_bytes, spec_columns

    rng = np.random.default_rng(seed)
    cells = sorted(sample_cells(n_cells, seed), key=lambda c: hash_bytes(c[1]))
    n = len(cells)
    specs = [encode_spec(m.tolist(), ops) for _, _, m, ops in cells]
    cols = {
        "hash": np.array([hash_bytes(h) for _, h, _, _ in cells], dtype="S16"),
        "n_vertices": np.array([s[0] for s in specs], dtype=np.uint8),
        "adjacency": np.array([s[1] for s in specs], dtype=np.uint32),
        "ops": np.array([s[2] for s in specs], dtype=np.uint8),
        "params": rng.integers(200_000, 50_000_000, n).astype(np.int64),
    }
    info = spec_columns()
    info["params"] = Column("params", "int64", metric="params")
    quality = rng.uniform(0.5, 0.95, n)
    for e in epochs:
        for what in ("train_acc", "valid_acc", "test_acc", "train_time"):
            if what == "train_time":
                values = rng.uniform(5.0, 15.0, (n, 1)) * e * rng.uniform(0.97, 1.03, (n, REPEATS))
            else:
                values = np.clip(quality[:, None] * (1 - 2.0 / e) + rng.normal(0, 0.01, (n, REPEATS)), 0, 1)
            seeds = f"cifar10/{what}_seeds@{e}"
            cols[seeds] = values
            info[seeds] = Column(seeds, "float64", split=what.split("_")[0], fidelity=e, axes=("arch", "repeat"))
            cols[f"cifar10/{what}@{e}"] = values.sum(axis=1) / REPEATS
            info[f"cifar10/{what}@{e}"] = Column(f"cifar10/{what}@{e}", "float64", split=what.split("_")[0], fidelity=e)
    meta = {"space": "nb101", "epochs": sorted(epochs), "repeats": REPEATS, "complete": complete, "synthetic": True,
            "provenance": []}  # fmt: skip
    return write_table(name, cols, info, meta, root), cells
