"""The ``nb101-space`` table: every NAS-Bench-101 cell, module hash -> canonical spec.

The 423,624 cells come from :func:`._enumerate.enumerate_cells` (the official generator's
result, about 40 s and 260 MB on one core). That result is derived by benchlab, not data
of a third party, and is committed in compact form as ``nb101_cells.npz`` beside this
module, so ``benchlab data build nb101-space`` only loads, checks and writes it (seconds,
no source files needed). To keep the file small (3.5 MB) it holds the first 8 bytes of each
module hash, not all 16: the 423,624 prefixes are distinct, and every lookup by a full key
(:func:`find_cell`, the ``nb101-20k`` build) recomputes the full hash from the found spec
and compares, so a key maps to its cell exactly; ``scripts/bench_nb101.py --write-cells`` re-derives the file and a
``slow`` test compares a fresh enumeration with it.

File layout (``numpy.savez``, in the generator's order: by vertex count, official bit
mask, labelling): ``hash8`` (S8, the first 8 bytes of each module hash) and ``specs_xz``
(uint8: the LZMA-compressed little-endian uint32 array of packed specs, bits 29..31 the
vertex count, bits 8..28 the ``adjacency`` code of NB101 tables, bits 0..7 the base-3 code
of the 5 interior op indices, first vertex most significant, absent vertices 0).

Table ``nb101-space`` (rows sorted by module hash, like every NB101 table): ``hash8``,
``n_vertices``, ``adjacency``, ``ops`` (the spec columns of :func:`._import.spec_columns`;
the spec is the first graph of the cell that the official generator meets), ``n_edges``
and ``gen_index`` (the row in the generator's order). No accuracies: it maps keys of the
official dataset, or of a file that lists hashes only, to cells.
"""

from __future__ import annotations

import lzma
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchlab import DataError, InvalidArchitecture
from benchlab.ext import Column, TableBuilder, open_table, register_table_builder, sha256_file, write_table

from ._graph import NUM_VERTICES, module_hash
from ._import import N_CELLS, decode_spec, spec_columns

__all__ = ["CELLS_FILE", "KNOWN_CELL", "SPACE_NAME", "build_space", "find_cell", "find_rows", "full_hash", "load_cells",
           "pack_specs", "save_cells"]

SPACE_NAME = "nb101-space"
CELLS_FILE = Path(__file__).with_name("nb101_cells.npz")
#: A published dataset key and its cell (the NNI benchmark example; see tests/test_nb101_space.py):
#: (hash, n_vertices, adjacency rows, op indices of vertices 1..5).
KNOWN_CELL = (
    "00005c142e6f48ac74fdcf73e3439874",
    7,
    ((0, 1, 0, 0, 1, 1, 0), (0, 0, 1, 0, 0, 0, 0), (0, 0, 0, 1, 0, 0, 1), (0, 0, 0, 0, 0, 1, 0),
     (0, 0, 0, 0, 0, 1, 0), (0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 0, 0)),
    (0, 2, 0, 0, 1),
)  # fmt: skip
_N_OPS = NUM_VERTICES - 2
_POW3 = 3 ** np.arange(_N_OPS - 1, -1, -1, dtype=np.int64)
_NO_OP = 255
_N_CHECK = 2_000  # rows whose module hash the build recomputes


def pack_specs(n_vertices: np.ndarray, adjacency: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Specs as one uint32 each (see the module doc)."""
    codes = np.where(ops == _NO_OP, 0, ops).astype(np.int64) @ _POW3
    return (
        (n_vertices.astype(np.uint32) << np.uint32(29))
        | (adjacency.astype(np.uint32) << np.uint32(8))
        | codes.astype(np.uint32)
    )


def _unpack_specs(packed: np.ndarray) -> dict[str, np.ndarray]:
    n = (packed >> np.uint32(29)).astype(np.uint8)
    adjacency = (packed >> np.uint32(8)) & np.uint32((1 << 21) - 1)
    code = (packed & np.uint32(255)).astype(np.int64)
    ops = ((code[:, None] // _POW3[None, :]) % 3).astype(np.uint8)
    ops[np.arange(_N_OPS)[None, :] >= (n.astype(np.int64) - 2)[:, None]] = _NO_OP
    return {"n_vertices": n, "adjacency": adjacency.astype(np.uint32), "ops": ops}


def save_cells(cells: dict[str, np.ndarray], path: Path = CELLS_FILE) -> Path:
    """Write an enumeration (:func:`._enumerate.enumerate_cells` columns) in the compact form."""
    packed = pack_specs(cells["n_vertices"], cells["adjacency"], cells["ops"]).astype("<u4")
    xz = np.frombuffer(lzma.compress(packed.tobytes(), preset=9), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, hash8=_prefix(cells["hash8"] if "hash8" in cells else cells["hash"]), specs_xz=xz)
    return Path(path)


def load_cells(path: Path = CELLS_FILE, check: bool = True) -> dict[str, np.ndarray]:
    """The committed enumeration, in the generator's order: ``hash8`` (first 8 bytes of the
    module hash), ``n_vertices``, ``adjacency``, ``ops``, ``n_edges``.

    ``check``: 423,624 distinct hash prefixes, specs within 7 vertices and 9 edges, the known cell
    (:data:`KNOWN_CELL`) present with its spec, and the module hash of 2,000 rows (an even
    spread) recomputed from the spec. ``DataError`` naming the problem otherwise.
    """
    try:
        with np.load(path) as z:
            hashes = np.asarray(z["hash8"], dtype="S8")
            packed = np.frombuffer(lzma.decompress(z["specs_xz"].tobytes()), dtype="<u4")
    except (OSError, ValueError, KeyError, lzma.LZMAError) as exc:
        raise DataError(f"{path}: not benchlab's NB101 enumeration ({type(exc).__name__}: {exc}); "
                        "reinstall benchlab or run `python scripts/bench_nb101.py --write-cells`") from None  # fmt: skip
    if len(packed) != len(hashes):
        raise DataError(f"{path}: {len(hashes)} hashes but {len(packed)} specs; regenerate it")
    cols = {"hash8": hashes, **_unpack_specs(packed)}
    cols["n_edges"] = np.bitwise_count(cols["adjacency"]).astype(np.uint8)
    if check:
        _check(cols, path)
    return cols


def _check(cols: dict[str, np.ndarray], path: Path) -> None:
    n = len(cols["hash8"])
    fix = "; regenerate it with `python scripts/bench_nb101.py --write-cells`"
    if n != N_CELLS:
        raise DataError(f"{path}: {n} cells, NAS-Bench-101 has {N_CELLS}{fix}")
    if len(np.unique(cols["hash8"])) != n:
        raise DataError(f"{path}: repeated module hash prefixes{fix}")
    if cols["n_vertices"].min() < 2 or cols["n_vertices"].max() > NUM_VERTICES or cols["n_edges"].max() > 9:
        raise DataError(f"{path}: a spec has more than 7 vertices or 9 edges{fix}")
    key, nv, rows, ops = KNOWN_CELL
    hit = np.nonzero(cols["hash8"] == _prefix([bytes.fromhex(key)]))[0]
    if len(hit) != 1:
        raise DataError(f"{path}: the known cell {key} is missing{fix}")
    m, names = spec_of(cols, int(hit[0]))
    if m.tolist() != [list(r) for r in rows] or int(cols["n_vertices"][hit[0]]) != nv or \
            tuple(int(v) for v in cols["ops"][hit[0]]) != ops:  # fmt: skip
        raise DataError(f"{path}: the known cell {key} has the wrong spec{fix}")
    for i in np.linspace(0, n - 1, _N_CHECK).astype(np.int64).tolist():
        m, names = spec_of(cols, i)
        if module_hash(m, names)[:16] != _hex8(cols["hash8"][i]):
            raise DataError(f"{path}: row {i}: the stored spec does not hash to the stored key{fix}")


def _prefix(hashes) -> np.ndarray:
    """The first 8 bytes of module hashes (16-byte values or ``S16``/``S8`` arrays), as ``S8``."""
    return np.array([bytes(h).ljust(16, b"\0")[:8] for h in hashes], dtype="S8")


def _hex8(prefix) -> str:
    return bytes(prefix).ljust(8, b"\0").hex()


def full_hash(cols: dict[str, np.ndarray], row: int) -> str:
    """The full module hash (32 hex digits) of row ``row``, recomputed from its spec."""
    return module_hash(*spec_of(cols, row))


def find_rows(cols: dict[str, np.ndarray], keys) -> np.ndarray:
    """Rows of ``cols`` (columns with ``hash8`` sorted ascending, like the ``nb101-space``
    table) whose cells have the module hashes ``keys`` (32-hex strings or 16-byte values);
    -1 where a key is no NAS-Bench-101 cell. A prefix match is confirmed by recomputing the
    full hash from the row's spec, so the result is exact."""
    raw = [bytes.fromhex(k) if isinstance(k, str) else bytes(k).ljust(16, b"\0") for k in keys]
    sorted8 = cols["hash8"]
    want = _prefix(raw)
    pos = np.minimum(np.searchsorted(sorted8, want), len(sorted8) - 1)
    rows = np.where(sorted8[pos] == want, pos, -1)
    for i in np.nonzero(rows >= 0)[0].tolist():
        if full_hash(cols, int(rows[i])) != raw[i].hex():
            rows[i] = -1
    return rows


def find_cell(key: str, table=None) -> tuple[np.ndarray, list[str]]:
    """The ``(matrix, ops)`` of the cell whose module hash is ``key``, from the ``nb101-space``
    table (default: the one in the store); ``InvalidArchitecture`` when no cell has it."""
    t = table if table is not None else open_table(SPACE_NAME)
    cols = {k: t.column(k) for k in ("hash8", "n_vertices", "adjacency", "ops")}
    (row,) = find_rows(cols, [key])
    if row < 0:
        raise InvalidArchitecture(f"{key!r} is not the module hash of a NAS-Bench-101 cell")
    return spec_of(cols, int(row))


def spec_of(cols: dict[str, np.ndarray], row: int) -> tuple[np.ndarray, list[str]]:
    """The ``(matrix, ops)`` of row ``row`` of an enumeration or NB101 table's columns."""
    return decode_spec(int(cols["n_vertices"][row]), int(cols["adjacency"][row]), cols["ops"][row])


def build_space(source_dir: Path | None = None, root: Path | None = None,
                progress: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Build ``nb101-space`` from the committed enumeration (``source_dir`` is not used)."""
    say = progress or (lambda msg: None)
    say(f"loading and checking {CELLS_FILE.name}")
    cols = load_cells()
    order = np.argsort(cols["hash8"], kind="stable")
    out = {k: v[order] for k, v in cols.items()}
    out["gen_index"] = order.astype(np.int32)
    info = spec_columns()
    del info["hash"]
    info["hash8"] = Column("hash8", "S8", description="first 8 bytes of the module hash (distinct over the space); "
                           "find_cell confirms a full key against the spec")  # fmt: skip
    info["n_edges"] = Column("n_edges", "uint8", description="edges of the cell (at most 9)")
    info["gen_index"] = Column("gen_index", "int32", description="position of the cell in the official generator's "
                               "order (vertex count, bit mask, labelling)")  # fmt: skip
    meta = {
        "space": "nb101",
        "row_order": "sorted by module hash (column hash8: its first 8 bytes, distinct over the space)",
        "complete": True,
        "datasets": [],
        "epochs": [],
        "provenance": [{"key": "enumeration", "repo": "benchlab", "commit": "", "derived": True,
                        "path": "benchmarks/nb101/" + CELLS_FILE.name, "local": CELLS_FILE.name,
                        "sha256": sha256_file(CELLS_FILE), "license": "MIT (derived by benchlab)",
                        "method": "enumerate_cells: as google-research/nasbench generate_graphs.py, every full DAG "
                        "of 2..7 vertices and at most 9 edges, 3 ops, official hash_module"}],
        "builder": "benchlab.benchmarks.nb101._cells",
        "notes": [
            f"{len(order)} cells = the unique module hashes of NAS-Bench-101",
            "spec = the first graph of the cell in the official generator's order (pruned, input 0, output last)",
            "no accuracies: a hash -> cell map; hash8 holds the first 8 bytes of each module hash (distinct); "
            "look a full key up with benchlab.benchmarks.nb101.find_cell, which checks the full hash",
        ],
    }
    say("writing table")
    return write_table(SPACE_NAME, out, info, meta, root)


def _fetch_nothing(dest_dir: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Nothing to download: the enumeration ships with benchlab (``--download`` builds it too)."""
    return Path(dest_dir)


register_table_builder(
    TableBuilder(
        name=SPACE_NAME,
        description="NAS-Bench-101 space: all 423,624 cells (module hash -> spec, vertices, edges); no accuracies "
        "(derived by enumeration, no download)",
        sources=(),
        build=build_space,
        fetch=_fetch_nothing,
    )
)
