"""Enumerate the NAS-Bench-101 space: every cell, its official module hash and canonical spec.

What the official generator (google-research/nasbench ``nasbench/scripts/generate_graphs.py``)
does, for ``V = 2 .. 7`` vertices: read every bit mask of the ``V(V-1)/2`` upper-triangle
entries as an adjacency matrix (bit ``x + y(y-1)/2`` is edge ``x -> y``, ``gen_is_edge_fn``);
keep it when every vertex but the last has an out-edge and every vertex but the first an
in-edge (``is_full_dag``: nothing to prune) and it has at most 9 edges; then, for every
labelling of the ``V - 2`` interior vertices with the 3 ops (``itertools.product`` order),
hash ``(matrix, [-1] + labels + [-2])`` with ``hash_module`` and keep the first graph seen
for each hash. The NB101 paper's 423,624 cells are those hashes; the stored graph of each
is its *canonical spec*.

The same result, fast (:func:`enumerate_cells`): the full DAGs are selected with bit
operations on all masks at once; then every labelled graph gets an exact isomorphism
invariant, its *canonical code*: the minimum, over the ``(V-2)!`` permutations of the
interior vertices (input and output carry unique labels, so every isomorphism fixes
them), of the integer spelling its permuted adjacency (``V*V`` bits) and labels (base 3).
Two labelled graphs are isomorphic exactly when their codes are equal, so the first graph
of each code in the official iteration order is the official canonical spec, and only
these representatives (one per cell, not the 3.4x more labelled graphs) go through the
MD5 module hash (:func:`._graph.module_hash`). That the hashes of the representatives are
all distinct checks the generator's claim that the hash has no collisions on this space.

:func:`brute_force_cells` is the official loop itself (every labelled graph hashed), for
tests on small vertex counts.

The spec encoding is the NB101 tables' (:func:`._import.encode_spec`): ``n_vertices``,
``adjacency`` (bit ``k`` = edge ``EDGES[k]`` of the row-major 7-vertex strict upper
triangle, vertex indices of the n-vertex cell) and ``ops`` (5 codes, 255 past n-2).
"""

from __future__ import annotations

import itertools

import numpy as np

from ._graph import EDGES, MAX_EDGES, NUM_VERTICES, OPS, _wl_hash

__all__ = ["brute_force_cells", "enumerate_cells", "full_dag_masks", "official_matrix"]

_NO_OP = 255
_EDGE_BIT = {e: k for k, e in enumerate(EDGES)}
_CHUNK = 1 << 21  # labelled graphs x permutations per block of the canonical-code pass


def _official_index(x: int, y: int) -> int:
    """Bit of edge ``x -> y`` in the official generator's mask (``gen_is_edge_fn``)."""
    return x + y * (y - 1) // 2


def official_matrix(bits: int, n: int) -> np.ndarray:
    """The ``n x n`` int8 adjacency of the official generator's bit mask ``bits``."""
    m = np.zeros((n, n), dtype=np.int8)
    for y in range(n):
        for x in range(y):
            m[x, y] = (bits >> _official_index(x, y)) & 1
    return m


def full_dag_masks(n: int, max_edges: int = MAX_EDGES) -> np.ndarray:
    """The official bit masks (ascending) of ``n``-vertex full DAGs with at most ``max_edges`` edges.

    ``is_full_dag``: no all-zero row but the last, no all-zero column but the first.
    """
    n_bits = n * (n - 1) // 2
    bits = np.arange(1 << n_bits, dtype=np.int64)
    ok = np.bitwise_count(bits) <= max_edges
    for v in range(n):
        if v < n - 1:  # row v: edges v -> y, y > v
            row = sum(1 << _official_index(v, y) for y in range(v + 1, n))
            ok &= (bits & row) != 0
        if v > 0:  # column v: edges x -> v, x < v
            col = sum(1 << _official_index(x, v) for x in range(v))
            ok &= (bits & col) != 0
    return bits[ok]


def _matrices(masks: np.ndarray, n: int) -> np.ndarray:
    """``(K, n, n)`` uint8 adjacency matrices of official bit masks."""
    out = np.zeros((len(masks), n, n), dtype=np.uint8)
    for y in range(n):
        for x in range(y):
            out[:, x, y] = (masks >> _official_index(x, y)) & 1
    return out


def _labellings(n: int, num_ops: int) -> np.ndarray:
    """``(num_ops**(n-2), n-2)`` interior labels in ``itertools.product`` order."""
    k = n - 2
    idx = np.arange(num_ops**k, dtype=np.int64)
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.stack([(idx // num_ops ** (k - 1 - i)) % num_ops for i in range(k)], axis=1).astype(np.int64)


def _canonical_codes(mats: np.ndarray, labels: np.ndarray, n: int, num_ops: int) -> np.ndarray:
    """``(K, L)`` canonical codes of every (matrix, labelling) pair (see the module doc)."""
    k_int = n - 2
    perms = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))]
    n_perm = len(perms)
    # adjacency codes under each permutation: bit p[i]*n + p[j] for edge i -> j
    flat = mats.reshape(len(mats), n * n).astype(np.int64)
    weights = np.zeros((n * n, n_perm), dtype=np.int64)
    for q, p in enumerate(perms):
        for i in range(n):
            for j in range(n):
                weights[i * n + j, q] = 1 << (p[i] * n + p[j])
    mat_code = flat @ weights  # (K, P)
    # label codes: the label of interior vertex i moves to position p[i]
    lab_code = np.zeros((len(labels), n_perm), dtype=np.int64)
    for q, p in enumerate(perms):
        for i in range(k_int):
            lab_code[:, q] += labels[:, i] * num_ops ** (p[i + 1] - 1)
    scale = num_ops**k_int
    out = np.empty((len(mats), len(labels)), dtype=np.int64)
    step = max(1, _CHUNK // (len(labels) * n_perm))
    for s in range(0, len(mats), step):
        block = mat_code[s : s + step, None, :] * scale + lab_code[None, :, :]
        out[s : s + step] = block.min(axis=2)
    return out


def _hash_graph(mat: np.ndarray, labels) -> str:
    """Official ``hash_module`` of an n x n matrix with labels ``[-1, ops..., -2]``."""
    n = len(labels)
    rows = mat.tolist()
    succs = [[v for v in range(n) if rows[u][v]] for u in range(n)]
    preds = [[u for u in range(n) if rows[u][v]] for v in range(n)]
    return _wl_hash(preds, succs, labels)


def _encode(mat: np.ndarray, labels) -> tuple[int, int, list[int]]:
    n = len(mat)
    bits = 0
    for i, j in zip(*np.nonzero(mat)):
        bits |= 1 << _EDGE_BIT[(int(i), int(j))]
    ops = [int(v) for v in labels[1:-1]]
    return n, bits, ops + [_NO_OP] * (NUM_VERTICES - 2 - len(ops))


def _as_arrays(specs: list, hashes: list[str]) -> dict[str, np.ndarray]:
    n = len(specs)
    return {
        "hash": np.array([bytes.fromhex(h) for h in hashes], dtype="S16").reshape(n),
        "n_vertices": np.array([s[0] for s in specs], dtype=np.uint8).reshape(n),
        "adjacency": np.array([s[1] for s in specs], dtype=np.uint32).reshape(n),
        "ops": np.array([s[2] for s in specs], dtype=np.uint8).reshape(n, NUM_VERTICES - 2),
        "n_edges": np.array([bin(s[1]).count("1") for s in specs], dtype=np.uint8).reshape(n),
    }


def _check_args(max_vertices: int, max_edges: int) -> None:
    if not 2 <= max_vertices <= NUM_VERTICES:
        raise ValueError(f"max_vertices must be 2..{NUM_VERTICES}, got {max_vertices}")
    if max_edges < 1:
        raise ValueError(f"max_edges must be at least 1, got {max_edges}")


def enumerate_cells(max_vertices: int = NUM_VERTICES, max_edges: int = MAX_EDGES, progress=None) -> dict[str, np.ndarray]:
    """Every NB101 cell of at most ``max_vertices`` vertices and ``max_edges`` edges, fast.

    Returns columns in the official generator's order (by vertex count, then bit mask, then
    labelling: the order in which ``generate_graphs.py`` first meets each hash): ``hash``
    (S16 module hash), ``n_vertices``, ``adjacency``, ``ops`` (the canonical spec, encoded
    as in NB101 tables) and ``n_edges``. With the defaults: 423,624 rows. Raises
    ``RuntimeError`` if two non-isomorphic graphs share a module hash (the official
    generator checks the same). ``progress(msg)`` is told about each vertex count.
    """
    _check_args(max_vertices, max_edges)
    say = progress or (lambda msg: None)
    num_ops = len(OPS)
    specs: list = []
    hashes: list[str] = []
    for n in range(2, max_vertices + 1):
        masks = full_dag_masks(n, max_edges)
        if not len(masks):
            continue
        mats = _matrices(masks, n)
        labels = _labellings(n, num_ops)
        codes = _canonical_codes(mats, labels, n, num_ops).ravel()
        _, first = np.unique(codes, return_index=True)
        first.sort()  # official iteration order: mask-major, labelling-minor
        n_lab = len(labels)
        for flat_index in first.tolist():
            k, lab = divmod(flat_index, n_lab)
            lab_list = [-1, *labels[lab].tolist(), -2]
            hashes.append(_hash_graph(mats[k], lab_list))
            specs.append(_encode(mats[k], lab_list))
        say(f"{n} vertices: {len(masks)} full DAGs, {len(codes)} labelled graphs, {len(first)} cells")
    if len(set(hashes)) != len(hashes):
        raise RuntimeError("two non-isomorphic NB101 graphs share a module hash; the enumeration is not the official one")
    return _as_arrays(specs, hashes)


def brute_force_cells(max_vertices: int, max_edges: int = MAX_EDGES) -> dict[str, np.ndarray]:
    """The official generator's loop, plainly: every labelled full DAG hashed, first one kept.

    Same output as :func:`enumerate_cells` (same order); slow (every labelled graph goes
    through the MD5 hash): use it for small ``max_vertices`` (tests).
    """
    _check_args(max_vertices, max_edges)
    buckets: dict[str, tuple] = {}
    for n in range(2, max_vertices + 1):
        for bits in range(2 ** (n * (n - 1) // 2)):
            m = official_matrix(bits, n)
            rows_bad = any(not m[v].any() for v in range(n - 1))
            cols_bad = any(not m[:, v].any() for v in range(1, n))
            if rows_bad or cols_bad or int(m.sum()) > max_edges:
                continue
            for labelling in itertools.product(range(len(OPS)), repeat=n - 2):
                lab = [-1, *labelling, -2]
                h = _hash_graph(m, lab)
                if h not in buckets:
                    buckets[h] = (m, lab)
    hashes = list(buckets)
    return _as_arrays([_encode(m, lab) for m, lab in buckets.values()], hashes)

