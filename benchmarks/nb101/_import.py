"""Import the official NAS-Bench-101 ``.tfrecord`` files into a benchlab table, without TensorFlow.

Files (google-research/nasbench README): ``nasbench_only108.tfrecord`` (~499 MB, every cell
trained 3 times for 108 epochs) and ``nasbench_full.tfrecord`` (~1.95 GB, 3 times each for
4, 12, 36 and 108 epochs). Each record is one training run (see :mod:`._proto` for the row
layout and :mod:`._tfrecord` for the framing); the official API appends the runs of a
(cell, epochs) pair in file order, and its ``query`` draws one of them. We keep that
order: repeat ``r`` is the ``r``-th run of the pair in the file.

:func:`import_nb101` streams the files (memory bounded by the table being built, never by
the file: ~80 MB for only108, ~330 MB for full), checks every CRC, the row layout, that
each cell has at most 3 runs per budget, and, on a sample of cells, that benchlab's
module hash of the stored spec equals the file's key; then writes the table atomically
(nothing is written when any check fails). Epoch budgets come from the first file that
holds them: with ``full=``, the 4/12/36-epoch runs are taken from the full file and its
108-epoch runs (the ones only108 holds) are CRC-checked but skipped.

Table layout (rows sorted by module hash; accuracies are fractions, as in the files):

- ``hash``: the 16-byte MD5 digest of the module hash (``S16``; ``bytes.fromhex`` of the
  32-hex key); lookups are a binary search.
- ``n_vertices`` (uint8), ``adjacency`` (uint32: bit k set when edge ``EDGES[k]`` of the
  7-vertex enumeration, (0,1), (0,2), ..., (5,6), is in the pruned n x n matrix, vertex
  indices of the pruned cell) and ``ops`` (uint8, (rows, 5): :data:`OPS` index of pruned
  vertices 1..n-2, 255 past them): the pruned spec, so every row maps back to a cell.
- ``params``: trainable parameters (int64).
- per epoch budget ``E`` and training run (axis ``repeat``, labels 0, 1, 2; NaN where a
  run is missing): ``cifar10/{train,valid,test}_acc_seeds@E`` and
  ``cifar10/train_time_seeds@E`` (seconds, training only) at the end of training, and the
  same with ``_halfway`` (after E/2 epochs; what ``query(stop_halfway=True)`` returns);
- per epoch budget, the means over the runs: ``cifar10/{train,valid,test}_acc@E``,
  ``cifar10/train_time@E`` (their optima are the paper's: best mean test accuracy at 108
  epochs 0.943175752957662, best mean validation accuracy 0.950554).

``meta.json`` records the files (name, size, sha256, whether the sha256 is the official
one), ``epochs``, ``repeats``, and ``complete`` (all 423,624 cells, 3 runs at every budget).
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import sys
from base64 import b64decode
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchlab import DataError, InvalidArchitecture
from benchlab.ext import Column, write_table

from ._proto import run_values
from ._tfrecord import KNOWN_FILES, iter_record_batches

__all__ = [
    "EPOCHS",
    "NAME",
    "N_CELLS",
    "REPEATS",
    "decode_spec",
    "encode_spec",
    "hash_bytes",
    "import_nb101",
    "spec_columns",
]

NAME = "nb101"
EPOCHS = (4, 12, 36, 108)
REPEATS = 3
N_CELLS = 423_624  # unique cells of NAS-Bench-101 (paper section 2.3)
_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")  # = _graph.OPS, the official canonical order
_OP_CODE = {op: i for i, op in enumerate(_OPS)}
_EDGE_BIT = {(i, j): k for k, (i, j) in enumerate((i, j) for i in range(7) for j in range(i + 1, 7))}
_NO_OP = 255
# Per-run values, in this order: final train/valid/test accuracy, final training time, then halfway.
_VALUES = ("train_acc", "valid_acc", "test_acc", "train_time")
_CHECK_EVERY = 997  # the module hash of every 997th new cell (and the first 256) is recomputed


def hash_bytes(module_hash: str) -> bytes:
    """The 16 bytes of a 32-hex module hash (the ``hash`` column's values)."""
    try:
        raw = bytes.fromhex(module_hash)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 16:
        raise ValueError(f"{module_hash!r} is not a 32-hex-digit MD5 module hash")
    return raw


def encode_spec(matrix, ops) -> tuple[int, int, list[int]]:
    """``(n_vertices, adjacency bits, 5 op codes)`` of a pruned spec (see the module doc)."""
    n = len(ops)
    if not 2 <= n <= 7:
        raise ValueError(f"a NAS-Bench-101 cell has 2..7 vertices, got {n}")
    if ops[0] != "input" or ops[-1] != "output":
        raise ValueError(f"ops must start with 'input' and end with 'output', got {list(ops)}")
    bits = 0
    for i in range(n):
        row = matrix[i]
        for j in range(n):
            v = int(row[j])
            if v not in (0, 1) or (v and j <= i):
                raise ValueError("the adjacency must be a strictly upper-triangular 0/1 matrix")
            if v:
                bits |= 1 << _EDGE_BIT[(i, j)]
    codes = []
    for op in ops[1:-1]:
        code = _OP_CODE.get(op)
        if code is None:
            raise ValueError(f"unknown op {op!r}; NAS-Bench-101 ops are {', '.join(_OPS)}")
        codes.append(code)
    return n, bits, codes + [_NO_OP] * (5 - len(codes))


def decode_spec(n_vertices: int, bits: int, codes) -> tuple[np.ndarray, list[str]]:
    """The pruned ``(n x n int8 matrix, ops)`` of a row (inverse of :func:`encode_spec`)."""
    n = int(n_vertices)
    m = np.zeros((n, n), dtype=np.int8)
    for (i, j), k in _EDGE_BIT.items():
        if bits >> k & 1:
            m[i, j] = 1
    ops = ["input"] + [_OPS[int(c)] for c in list(codes)[: n - 2]] + ["output"]
    return m, ops


def spec_columns() -> dict[str, Column]:
    """Descriptions of the columns every NB101 table has (hash and pruned spec)."""
    return {
        "hash": Column("hash", "S16", description="module hash (official NAS-Bench-101 key) as 16 bytes; rows are "
                       "sorted by it"),
        "n_vertices": Column("n_vertices", "uint8", description="vertices of the pruned cell (2..7)"),
        "adjacency": Column("adjacency", "uint32", description="edges of the pruned cell: bit k is edge EDGES[k] of "
                            "(0,1),(0,2),...,(5,6) (row-major strict upper triangle of 7 vertices)"),
        "ops": Column("ops", "uint8", axes=("arch", "vertex"), labels={"vertex": [1, 2, 3, 4, 5]},
                      description="op of pruned vertices 1..n-2: 0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2 maxpool3x3; "
                      "255 past the last"),
    }  # fmt: skip


class _Collector:
    """Per-cell arrays, grown on demand; one block of per-run arrays per epoch budget."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.index: dict[str, int] = {}
        self.cap = capacity
        self.n_vertices = np.zeros(capacity, dtype=np.uint8)
        self.adjacency = np.zeros(capacity, dtype=np.uint32)
        self.ops = np.full((capacity, 5), _NO_OP, dtype=np.uint8)
        self.params = np.zeros(capacity, dtype=np.int64)
        self.runs: dict[int, np.ndarray] = {}  # epochs -> (cap, REPEATS, 8) float64
        self.counts: dict[int, np.ndarray] = {}  # epochs -> (cap,) uint8
        self.hash_checks = 0
        self.specs: dict = {}  # adjacency / ops strings -> decoded parts (bounded cache)

    def _grow(self) -> None:
        new = self.cap * 2

        def grow(a, fill):
            out = np.full((new,) + a.shape[1:], fill, dtype=a.dtype)
            out[: self.cap] = a
            return out

        self.n_vertices = grow(self.n_vertices, 0)
        self.adjacency = grow(self.adjacency, 0)
        self.ops = grow(self.ops, _NO_OP)
        self.params = grow(self.params, 0)
        self.runs = {e: grow(a, np.nan) for e, a in self.runs.items()}
        self.counts = {e: grow(a, 0) for e, a in self.counts.items()}
        self.cap = new

    def block(self, epochs: int) -> tuple[np.ndarray, np.ndarray]:
        if epochs not in self.runs:
            self.runs[epochs] = np.full((self.cap, REPEATS, 8), np.nan)
            self.counts[epochs] = np.zeros(self.cap, dtype=np.uint8)
        return self.runs[epochs], self.counts[epochs]


def _where(path: Path, index: int) -> str:
    return f"{path}: record {index}"


def _read_file(path: Path, col: _Collector, skip_epochs: set, bar, say) -> dict:
    """Stream one file into ``col``; returns its provenance entry."""
    from ._graph import module_hash

    size = path.stat().st_size
    digest = hashlib.sha256()
    seen_epochs: set = set()
    n_records = n_skipped = 0
    index = col.index
    pbar = bar(size, path.name)
    try:
        for batch in iter_record_batches(path, progress=pbar.update, digest=digest):
            slots, reps, vals, eps = [], [], [], []
            for rec in batch:
                try:
                    module_hash_, epochs, adjacency, operations, raw = json.loads(rec)
                    params, half, final = run_values(b64decode(raw, validate=True))
                except (ValueError, TypeError, binascii.Error) as exc:
                    raise DataError(f"{_where(path, n_records)}: not a NAS-Bench-101 row ({type(exc).__name__}: {exc}); "
                                    "this is not an official NAS-Bench-101 file (nasbench_only108.tfrecord / "
                                    "nasbench_full.tfrecord) or it is corrupt") from None  # fmt: skip
                n_records += 1
                if type(epochs) is not int or epochs not in EPOCHS:
                    raise DataError(f"{_where(path, n_records - 1)}: {epochs!r} training epochs; NAS-Bench-101 has "
                                    f"{', '.join(map(str, EPOCHS))}: not an official file")  # fmt: skip
                seen_epochs.add(epochs)
                if epochs in skip_epochs:
                    n_skipped += 1
                    continue
                slot = index.get(module_hash_)
                if slot is None:
                    slot = _new_cell(path, n_records - 1, col, module_hash_, adjacency, operations, params, module_hash)
                _, counts = col.block(epochs)
                r = int(counts[slot])
                if r >= REPEATS:
                    raise DataError(f"{_where(path, n_records - 1)}: cell {module_hash_} has more than {REPEATS} runs "
                                    f"at {epochs} epochs; not an official file")  # fmt: skip
                counts[slot] = r + 1
                slots.append(slot)
                reps.append(r)
                eps.append(epochs)
                vals.append(final + half)
            if slots:
                s = np.asarray(slots)
                r = np.asarray(reps)
                v = np.asarray(vals, dtype=np.float64)
                e = np.asarray(eps)
                for epochs in np.unique(e).tolist():
                    sel = e == epochs
                    col.runs[epochs][s[sel], r[sel]] = v[sel]
    finally:
        pbar.close()
    sha = digest.hexdigest()
    known = KNOWN_FILES.get(path.name)
    official = bool(known) and known["sha256"] == sha
    if known and not official:
        say(f"note: {path.name} passes every CRC but its sha256 {sha} is not the official {known['sha256']}")
    say(f"{path.name}: {n_records} records, epochs {sorted(seen_epochs)}" + (f" ({n_skipped} skipped)" if n_skipped else ""))
    return {"key": path.name, "local": path.name, "size": size, "sha256": sha, "official_sha256": official,
            "records": n_records, "epochs": sorted(seen_epochs), "skipped_epochs": sorted(seen_epochs & skip_epochs),
            "repo": "google-research/nasbench", "commit": "-", "path": path.name, "license": "Apache-2.0 (dataset: CC BY 4.0)",
            "url": known["url"] if known else ""}  # fmt: skip


def _new_cell(path, rec_index, col: _Collector, key, adjacency, operations, params: int, module_hash) -> int:
    where = _where(path, rec_index)
    adj = col.specs.get(adjacency)
    if adj is None:
        n = math.isqrt(len(adjacency)) if isinstance(adjacency, str) else 0
        if n < 2 or n * n != len(adjacency) or set(adjacency) - {"0", "1"}:
            raise DataError(f"{where}: adjacency {adjacency!r} is not an n x n 0/1 matrix; not an official file")
        matrix = [[int(adjacency[i * n + j]) for j in range(n)] for i in range(n)]
        try:
            bits = encode_spec(matrix, ["input"] + [_OPS[0]] * (n - 2) + ["output"])[1]
        except ValueError as exc:
            raise DataError(f"{where}: {exc}; not an official file") from None
        adj = col.specs[adjacency] = (n, matrix, bits)
    n, matrix, bits = adj
    codes = col.specs.get(operations)
    if codes is None:
        ops = operations.split(",") if isinstance(operations, str) else []
        if len(ops) != n:
            raise DataError(f"{where}: ops {operations!r} do not match the {n} x {n} adjacency; not an official file")
        try:
            codes = col.specs[operations] = encode_spec(matrix, ops)[2]
        except ValueError as exc:
            raise DataError(f"{where}: {exc}; not an official file") from None
    if len(col.specs) > 1 << 18:
        col.specs.clear()
    if operations.count(",") + 1 != n:
        raise DataError(f"{where}: ops {operations!r} do not match the {n} x {n} adjacency; not an official file")
    nv = n
    try:
        hash_bytes(key)
    except ValueError as exc:
        raise DataError(f"{where}: {exc}; not an official file") from None
    slot = len(col.index)
    if slot < 256 or slot % _CHECK_EVERY == 0:
        try:
            ours = module_hash(np.asarray(matrix), operations.split(","))
        except InvalidArchitecture as exc:
            raise DataError(f"{where}: cell {key} cannot be hashed ({exc})") from None
        if ours != key:
            raise DataError(f"{where}: the file keys this cell {key}, benchlab's module hash of its spec is {ours}; "
                            "the file is not an official NAS-Bench-101 file (or benchlab's hash is wrong: please report)")  # fmt: skip
        col.hash_checks += 1
    if slot >= col.cap:
        col._grow()
    col.index[key] = slot
    col.n_vertices[slot], col.adjacency[slot] = nv, bits
    col.ops[slot] = codes
    col.params[slot] = params
    return slot


def _mean(values: np.ndarray) -> np.ndarray:
    """Mean over the runs (axis 1) of the runs present; NaN where none is."""
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _tqdm(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False, file=sys.stderr,
                disable=None, dynamic_ncols=True)  # fmt: skip


def import_nb101(
    path: Path,
    full: Path | None = None,
    name: str = NAME,
    root: Path | None = None,
    progress: Callable[[str], None] | None = None,
    bar: Callable | None = None,
    halfway: bool = True,
) -> Path:
    """Import official NAS-Bench-101 file(s) into table ``name``; returns its folder.

    ``path``: ``nasbench_only108.tfrecord`` (or ``nasbench_full.tfrecord``); ``full``:
    optionally ``nasbench_full.tfrecord`` too, for the 4/12/36-epoch budgets. ``root``: the
    tables folder (default ``<data dir>/tables``). ``progress(msg)`` logs steps; ``bar(total,
    desc)`` makes a tqdm-like byte progress bar (default: tqdm on stderr, hidden when not a
    terminal). ``halfway=False`` leaves out the halfway columns (a smaller table).
    """
    say = progress or (lambda msg: None)
    bar = bar or _tqdm
    files = [Path(path).expanduser()] + ([Path(full).expanduser()] if full is not None else [])
    for p in files:
        if not p.is_file():
            raise DataError(
                f"{p} is not a file: pass the official nasbench_only108.tfrecord (download "
                f"{KNOWN_FILES['nasbench_only108.tfrecord']['url']}) and optionally --full nasbench_full.tfrecord"
            )
    col = _Collector()
    provenance = []
    taken: set = set()
    for p in files:
        say(f"reading {p}")
        before = set(col.runs)
        provenance.append(_read_file(p, col, set(taken), bar, say))
        taken |= set(col.runs) - before
    n = len(col.index)
    if n == 0 or not col.runs:
        raise DataError(f"{files[0]} holds no NAS-Bench-101 training runs; pass nasbench_only108.tfrecord")
    say(f"{n} cells; sorting by module hash and writing the table")
    keys = np.array([hash_bytes(k) for k in col.index], dtype="S16")
    order = np.argsort(keys, kind="stable")
    cols: dict[str, np.ndarray] = {
        "hash": keys[order],
        "n_vertices": col.n_vertices[:n][order],
        "adjacency": col.adjacency[:n][order],
        "ops": col.ops[:n][order],
        "params": col.params[:n][order],
    }
    info = spec_columns()
    info["params"] = Column("params", "int64", dataset="cifar10", metric="params",
                            description="trainable parameters (ModelMetrics.trainable_parameters)")  # fmt: skip
    complete = n == N_CELLS
    parts = (("", 0, "at the end of training"), ("_halfway", 4, "after half of the epochs (official stop_halfway)"))
    for epochs in sorted(col.runs):
        runs = col.runs[epochs][:n][order]
        counts = col.counts[epochs][:n][order]
        complete = complete and bool((counts == REPEATS).all())
        for suffix, offset, when in parts if halfway else parts[:1]:
            for k, what in enumerate(_VALUES):
                split = what.split("_")[0]
                metric = "accuracy" if what.endswith("acc") else "train_time"
                unit = "fraction" if metric == "accuracy" else "s"
                label = f"{split} accuracy" if metric == "accuracy" else "training time (excluding evaluation)"
                fid = epochs // 2 if suffix else epochs
                name_seeds = f"cifar10/{what}{suffix}_seeds@{epochs}"
                values = np.ascontiguousarray(runs[:, :, offset + k])
                cols[name_seeds] = values
                info[name_seeds] = Column(
                    name_seeds, "float64", dataset="cifar10", split=split, metric=metric, unit=unit, fidelity=fid,
                    axes=("arch", "repeat"), labels={"repeat": list(range(REPEATS))}, source=", ".join(p["key"] for p in provenance),
                    description=f"CIFAR-10 {label} {when} of each of the {REPEATS} runs of the {epochs}-epoch schedule "
                    "(file order; NaN: run missing)")  # fmt: skip
                if not suffix:
                    mean_name = f"cifar10/{what}@{epochs}"
                    cols[mean_name] = _mean(values)
                    info[mean_name] = Column(
                        mean_name, "float64", dataset="cifar10", split=split, metric=metric, unit=unit, fidelity=epochs,
                        description=f"CIFAR-10 {label} after {epochs} epochs, mean over the runs")  # fmt: skip
    meta = {
        "space": "nb101",
        "row_order": "sorted by module hash (column hash, 16 bytes); look rows up by binary search",
        "datasets": ["cifar10"],
        "epochs": sorted(col.runs),
        "repeats": REPEATS,
        "complete": complete,
        "n_cells_expected": N_CELLS,
        "hash_checks": col.hash_checks,
        "accuracy_unit": "fraction",
        "provenance": provenance,
        "builder": "benchlab.benchmarks.nb101._import",
        "notes": [
            "repeat r of a (cell, epochs) pair is its r-th run in file order, as the official API stores them",
            "training times exclude evaluation time (ModelMetrics.EvaluationData.training_time)",
        ],
    }
    return write_table(name, cols, info, meta, root)
