"""NAS-Bench-101 cell graphs: pruning, validity and the official module hash, in numpy + hashlib.

Reference: Ying, Klein, Christiansen, Real, Murphy & Hutter, "NAS-Bench-101: Towards
Reproducible Neural Architecture Search", ICML 2019, and its code
(google-research/nasbench: ``nasbench/api.py`` ``ModelSpec``/``NASBench.is_valid``,
``nasbench/lib/graph_util.py`` ``hash_module``). Nothing here imports TensorFlow or torch;
the code is written from the paper's and the API's documented behaviour.

A cell is a DAG of at most 7 vertices given by a square upper-triangular 0/1 adjacency
``matrix`` (``matrix[i, j] = 1`` is an edge i -> j) and a list of vertex ``ops``: the first
is ``"input"``, the last ``"output"``, the others one of :data:`OPS`.

The *raw* form is what a user or a strategy writes (always 7 vertices here); the official
API first **prunes** it: every vertex that is not on some input -> output path is removed
(:func:`prune`). A raw spec is **valid** (:func:`is_valid`) when the pruned cell exists
(the output is reachable from the input) and has at most 7 vertices and at most 9 edges.
The dataset is keyed by the **module hash** of the pruned cell (:func:`module_hash`): an
iterated Weisfeiler-Lehman-style MD5 hash that is invariant to relabelling the vertices,
so isomorphic cells share it; 423,624 distinct hashes are in the dataset.

A benchlab NB101 *architecture* is a tuple of 26 Python ints (:func:`to_spec`,
:func:`from_spec`): the 21 entries of the strict upper triangle of the raw 7x7 adjacency in
row-major order (edge 0->1, 0->2, ..., 0->6, 1->2, ..., 5->6; see :data:`EDGES`), each 0 or
1, followed by the op index (into :data:`OPS`) of vertices 1..5. Several tuples map to one
cell (dangling vertices, isomorphic labellings); :func:`arch_hash` gives the cell's key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from benchlab import InvalidArchitecture

__all__ = [
    "EDGES",
    "INPUT",
    "MAX_EDGES",
    "NUM_ARCH",
    "NUM_EDGES",
    "NUM_VERTICES",
    "OPS",
    "OUTPUT",
    "arch_hash",
    "arch_problem",
    "archs_from_columns",
    "from_spec",
    "is_valid",
    "module_hash",
    "prune",
    "spec_hash",
    "spec_problem",
    "to_spec",
]

#: Interior vertex operations, in the official canonical order
#: (``nasbench/lib/config.py`` ``available_ops``); the index is the hash label.
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT = "input"
OUTPUT = "output"
#: ``module_vertices`` and ``max_edges`` of the official config.
NUM_VERTICES = 7
MAX_EDGES = 9
#: The 21 possible edges ``(i, j)``, i < j, in row-major order: tuple position k <-> EDGES[k].
EDGES = tuple((i, j) for i in range(NUM_VERTICES) for j in range(i + 1, NUM_VERTICES))
NUM_EDGES = len(EDGES)  # 21
NUM_OP_VERTICES = NUM_VERTICES - 2  # 5
#: Length of an architecture tuple: 21 edge bits + 5 op indices.
NUM_ARCH = NUM_EDGES + NUM_OP_VERTICES

# Labels of the official hash (ModelSpec.hash_spec): input -1, output -2, ops their index.
_LABEL = {op: i for i, op in enumerate(OPS)}
_IN_LABEL, _OUT_LABEL = -1, -2

# Row u of the strict upper triangle occupies tuple positions _ROW_START[u] .. + (6 - u).
_ROW_START = tuple(sum(NUM_VERTICES - 1 - r for r in range(u)) for u in range(NUM_VERTICES))
_ROW_LEN = tuple(NUM_VERTICES - 1 - u for u in range(NUM_VERTICES))


# -- the hash ---------------------------------------------------------------------------
def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# Initial vertex hashes md5(str((out_degree, in_degree, label))), as graph_util.hash_module
# writes them (str of a Python tuple of ints). Precomputed for every degree/label combination.
_INITIAL = {
    (o, i, lab): _md5(str((o, i, lab)))
    for o in range(NUM_VERTICES)
    for i in range(NUM_VERTICES)
    for lab in (_OUT_LABEL, _IN_LABEL, *range(len(OPS)))
}


def _initial(out_deg: int, in_deg: int, label: int) -> str:
    h = _INITIAL.get((out_deg, in_deg, label))
    return h if h is not None else _md5(str((out_deg, in_deg, label)))


def _wl_hash(preds: Sequence[Sequence[int]], succs: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """The module hash of a graph given per-vertex predecessor and successor lists.

    As ``graph_util.hash_module``: start from md5 of (out-degree, in-degree, label); then,
    as many rounds as there are vertices, replace every vertex hash by md5 of its sorted
    in-neighbour hashes + ``|`` + sorted out-neighbour hashes + ``|`` + its own hash;
    finally md5 of ``str(sorted(hashes))``.
    """
    n = len(labels)
    hashes = [_initial(len(succs[v]), len(preds[v]), labels[v]) for v in range(n)]
    md5 = hashlib.md5
    for _ in range(n):
        hashes = [
            md5(
                (
                    "".join(sorted([hashes[w] for w in preds[v]]))
                    + "|"
                    + "".join(sorted([hashes[w] for w in succs[v]]))
                    + "|"
                    + hashes[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


# -- matrix/ops specs -------------------------------------------------------------------
# Specs are handled as Python lists of 0/1 rows: for 7x7 matrices that is several times
# faster than numpy calls.
_BIT = {0: 0, 1: 1}


def _rows(matrix) -> list[list[int]]:
    """``matrix`` (array or nested sequence) as a square list of 0/1 int rows."""
    if isinstance(matrix, np.ndarray):
        if matrix.ndim != 2:
            raise InvalidArchitecture(
                f"NB101 adjacency must be a square matrix, got shape {matrix.shape}; pass an n x n 0/1 array"
            )
        rows = matrix.tolist()
    else:
        try:
            rows = [list(r) for r in matrix]
        except TypeError:
            raise InvalidArchitecture(
                f"NB101 adjacency {matrix!r} is not a matrix; pass a square 0/1 array or nested list"
            ) from None
    n = len(rows)
    if n < 1 or any(len(r) != n for r in rows):
        raise InvalidArchitecture(
            f"NB101 adjacency must be square, got {n} rows of lengths {sorted({len(r) for r in rows})}; "
            "pass an n x n upper-triangular 0/1 array"
        )
    try:
        return [[_BIT[v] for v in r] for r in rows]
    except (KeyError, TypeError):
        raise InvalidArchitecture("NB101 adjacency entries must be 0 or 1; found other values") from None


def _check_ops(rows: list[list[int]], ops) -> list:
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise InvalidArchitecture(f"NB101 ops must be a list of op names, got {ops!r}")
    ops = list(ops)
    n = len(rows)
    if len(ops) != n:
        raise InvalidArchitecture(f"NB101 spec has {len(ops)} ops for a {n}x{n} adjacency; give one op per vertex")
    for i, r in enumerate(rows):
        if any(r[: i + 1]):
            raise InvalidArchitecture(
                "NB101 adjacency must be strictly upper triangular (edges i -> j with i < j, vertices in "
                f"topological order); row {i} has an entry on or below the diagonal"
            )
    return ops


def _keep_vertices(rows: list[list[int]]) -> list[int] | None:
    """Vertices on an input -> output path (ModelSpec._prune), None when there is none."""
    n = len(rows)
    succ = [[v for v in range(u + 1, n) if rows[u][v]] for u in range(n)]
    fwd = [False] * n
    fwd[0] = True
    for u in range(n):  # topological order: vertex u's reachability is final here
        if fwd[u]:
            for v in succ[u]:
                fwd[v] = True
    bwd = [False] * n
    bwd[n - 1] = True
    for u in range(n - 1, -1, -1):
        if any(bwd[v] for v in succ[u]):
            bwd[u] = True
    keep = [v for v in range(n) if fwd[v] and bwd[v]]
    if n < 2 or len(keep) < 2:  # official: more than n - 2 extraneous vertices -> invalid
        return None
    return keep


def _prune_rows(matrix, ops) -> tuple[list[list[int]], list] | None:
    rows = _rows(matrix)
    ops = _check_ops(rows, ops)
    keep = _keep_vertices(rows)
    if keep is None:
        return None
    return [[rows[u][v] for v in keep] for u in keep], [ops[v] for v in keep]


def prune(matrix, ops) -> tuple[np.ndarray, list[str]] | None:
    """The cell with every vertex that is not on an input -> output path removed.

    Exactly ``ModelSpec._prune`` of the official API: vertices reachable from vertex 0 and
    vertices from which the last vertex is reachable are kept, all others (with their edges)
    are deleted. Returns ``(matrix, ops)``: a new ``int8`` upper-triangular matrix and the
    list of kept op names, or **None** when the output is not reachable from the input (the
    official ``valid_spec = False``: the spec is invalid). Raises ``InvalidArchitecture``
    when ``matrix``/``ops`` are malformed (not square, not upper triangular, not 0/1, length
    mismatch), which the official ``ModelSpec`` constructor rejects too.
    """
    pruned = _prune_rows(matrix, ops)
    if pruned is None:
        return None
    return np.array(pruned[0], dtype=np.int8), pruned[1]


def _problem_of_pruned(pruned) -> str | None:
    if pruned is None:
        return "the output is not reachable from the input (no input -> output path)"
    rows, kept = pruned
    if len(kept) > NUM_VERTICES:
        return f"{len(kept)} vertices after pruning, NB101 allows at most {NUM_VERTICES}"
    n_edges = sum(map(sum, rows))
    if n_edges > MAX_EDGES:
        return f"{n_edges} edges after pruning, NB101 allows at most {MAX_EDGES}"
    if kept[0] != INPUT:
        return f"the first op must be {INPUT!r}, got {kept[0]!r}"
    if kept[-1] != OUTPUT:
        return f"the last op must be {OUTPUT!r}, got {kept[-1]!r}"
    for op in kept[1:-1]:
        if op not in _LABEL:
            return f"unsupported op {op!r}; NB101 ops are {', '.join(OPS)}"
    return None


def spec_problem(matrix, ops) -> str | None:
    """Why ``(matrix, ops)`` is not a valid NB101 spec, or None if it is.

    The checks of the official ``NASBench._check_spec`` after pruning, in its order: the
    output must be reachable from the input; at most 7 vertices; at most 9 edges; first op
    ``input``; last op ``output``; every other kept op in :data:`OPS`. Like the official
    API, ops of pruned (dangling) vertices are not checked. Malformed matrices give a
    message too (the official ``ModelSpec`` would raise ``ValueError``).
    """
    try:
        return _problem_of_pruned(_prune_rows(matrix, ops))
    except InvalidArchitecture as exc:
        return str(exc)


def is_valid(matrix, ops) -> bool:
    """``NASBench.is_valid`` of the official API, without the dataset: True when the pruned
    cell exists and passes every check of :func:`spec_problem`.

    Differences, by design: a malformed matrix (not square, not upper triangular, entries
    other than 0/1) gives False here, where the official ``ModelSpec`` constructor raises.
    """
    return spec_problem(matrix, ops) is None


def _hash_rows(rows: list[list[int]], ops) -> str:
    n = len(rows)
    if isinstance(ops, str) or not isinstance(ops, Sequence) or len(ops) != n:
        raise InvalidArchitecture(f"module_hash: need one op per vertex ({n}), got {ops!r}")
    labels = [_IN_LABEL] + [_op_label(op) for op in list(ops)[1:-1]] + [_OUT_LABEL] if n > 1 else [_IN_LABEL]
    succs = [[v for v in range(n) if r[v]] for r in rows]
    preds = [[u for u in range(n) if rows[u][v]] for v in range(n)]
    return _wl_hash(preds, succs, labels)


def module_hash(matrix, ops) -> str:
    """The official module hash of the graph ``(matrix, ops)`` as given (no pruning).

    Identical to ``graph_util.hash_module(matrix, labeling)`` with the labelling of
    ``ModelSpec.hash_spec``: the first vertex -1, the last -2, every other vertex the index
    of its op in :data:`OPS`. The dataset's keys are this hash of **pruned** specs: call it
    on ``prune(...)``'s result, or use :func:`spec_hash`/:func:`arch_hash`. The matrix need
    not be upper triangular (the hash is defined for any 0/1 digraph).
    """
    return _hash_rows(_rows(matrix), ops)


def _op_label(op) -> int:
    try:
        return _LABEL[op]
    except (KeyError, TypeError):
        raise InvalidArchitecture(f"unsupported op {op!r}; NB101 ops are {', '.join(OPS)}") from None


def spec_hash(matrix, ops) -> str:
    """The dataset key of a raw spec: :func:`prune` then :func:`module_hash` (the official
    ``ModelSpec.hash_spec``). Raises ``InvalidArchitecture`` naming the problem when the
    spec is not valid (:func:`spec_problem`)."""
    pruned = _prune_rows(matrix, ops)
    problem = _problem_of_pruned(pruned)
    if problem is not None:
        raise InvalidArchitecture(f"not a valid NB101 cell: {problem}")
    return _hash_rows(*pruned)


# -- architecture tuples ----------------------------------------------------------------
def to_spec(arch) -> tuple[np.ndarray, list[str]]:
    """The raw ``(7x7 int8 matrix, 7 op names)`` of an architecture tuple (unpruned, like
    the official ``ModelSpec`` input)."""
    _check_tuple(arch)
    m = np.zeros((NUM_VERTICES, NUM_VERTICES), dtype=np.int8)
    for k, (i, j) in enumerate(EDGES):
        m[i, j] = arch[k]
    ops = [INPUT] + [OPS[v] for v in arch[NUM_EDGES:]] + [OUTPUT]
    return m, ops


def from_spec(matrix, ops) -> tuple[int, ...]:
    """The architecture tuple of a spec with at most 7 vertices.

    A spec with ``n < 7`` vertices (e.g. a pruned one, as the dataset stores them) is padded
    with ``7 - n`` isolated vertices of op ``conv3x3-bn-relu`` inserted before the output, so
    that it prunes back to the same cell: ``arch_hash(from_spec(m, o)) == spec_hash(m, o)``.
    The first op must be ``input``, the last ``output``, the others in :data:`OPS`.
    """
    rows = _rows(matrix)
    ops = _check_ops(rows, ops)
    n = len(rows)
    if n < 2 or n > NUM_VERTICES:
        raise InvalidArchitecture(f"an NB101 spec has 2..{NUM_VERTICES} vertices, got {n}")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InvalidArchitecture(f"an NB101 spec starts with {INPUT!r} and ends with {OUTPUT!r}; got ops {ops!r}")
    labels = [_op_label(op) for op in ops[1:-1]] + [0] * (NUM_VERTICES - n)
    # vertices 0..n-2 keep their index, the output moves from n-1 to 6, the padding between
    # them has no edges
    out = [[0] * NUM_VERTICES for _ in range(NUM_VERTICES)]
    for i in range(n - 1):
        for j in range(i + 1, n - 1):
            out[i][j] = rows[i][j]
        out[i][NUM_VERTICES - 1] = rows[i][n - 1]
    return tuple(out[i][j] for i, j in EDGES) + tuple(labels)


def archs_from_columns(n_vertices, adjacency, ops) -> list[tuple[int, ...]]:
    """:func:`from_spec` of many pruned specs at once, in NB101 table encoding.

    ``n_vertices`` (2..7), ``adjacency`` (bit ``k`` = edge ``EDGES[k]`` between vertex
    indices of the pruned n-vertex cell) and ``ops`` (``(rows, 5)`` op indices of vertices
    1..n-2, anything past them) are the table's spec columns. Same tuples as ``from_spec``
    of each decoded spec: vertices 0..n-2 keep their index, the output moves to vertex 6,
    the padding vertices have no edges and op 0.
    """
    nv = np.asarray(n_vertices, dtype=np.int64)
    adj = np.asarray(adjacency, dtype=np.int64)
    codes = np.asarray(ops, dtype=np.int64).reshape(len(nv), NUM_OP_VERTICES)
    out = np.zeros((len(nv), NUM_ARCH), dtype=np.int64)
    if len(nv) and (nv.min() < 2 or nv.max() > NUM_VERTICES):
        raise InvalidArchitecture(f"an NB101 spec has 2..{NUM_VERTICES} vertices, got {int(nv.min())}..{int(nv.max())}")
    for n in np.unique(nv).tolist():
        rows = np.nonzero(nv == n)[0]
        for k, (i, j) in enumerate(EDGES):
            if j >= n:
                continue
            target = EDGES.index((i, NUM_VERTICES - 1)) if j == n - 1 else k
            out[rows, target] = (adj[rows] >> k) & 1
        for v in range(n - 2):
            out[rows, NUM_EDGES + v] = codes[rows, v]
    if (out[:, NUM_EDGES:] >= len(OPS)).any() or (out[:, NUM_EDGES:] < 0).any():
        raise InvalidArchitecture(f"an NB101 op index must be 0..{len(OPS) - 1}")
    return [tuple(r) for r in out.tolist()]


def _check_tuple(arch) -> None:
    if type(arch) is not tuple or len(arch) != NUM_ARCH:
        raise InvalidArchitecture(
            f"{arch!r} is not an NB101 architecture: expected a tuple of {NUM_ARCH} ints "
            f"({NUM_EDGES} edge bits of the upper triangle, row-major, then {NUM_OP_VERTICES} op indices)"
        )
    for k in range(NUM_EDGES):
        v = arch[k]
        if type(v) is not int or not (v == 0 or v == 1):
            i, j = EDGES[k]
            raise InvalidArchitecture(
                f"{arch!r} is not an NB101 architecture: entry {k} (edge {i}->{j}) must be the int 0 or 1, got {v!r}"
            )
    for k in range(NUM_EDGES, NUM_ARCH):
        v = arch[k]
        if type(v) is not int or not 0 <= v < len(OPS):
            raise InvalidArchitecture(
                f"{arch!r} is not an NB101 architecture: entry {k} (op of vertex {k - NUM_EDGES + 1}) must be "
                f"an int 0..{len(OPS) - 1} ({', '.join(f'{i} {o}' for i, o in enumerate(OPS))}), got {v!r}"
            )


# Fast path on tuples: successor bitmasks per vertex, pruning by bit operations, and a
# bounded memo of hashes keyed by the pruned graph.
def _succ_masks(arch) -> list[int]:
    out = []
    for u in range(NUM_VERTICES - 1):
        s, mask = _ROW_START[u], 0
        for d in range(_ROW_LEN[u]):
            if arch[s + d]:
                mask |= 1 << (u + 1 + d)
        out.append(mask)
    out.append(0)
    return out


def _prune_masks(succ: list[int]) -> int:
    """Bitmask of kept vertices (0 when the output is unreachable)."""
    fwd = 1
    for u in range(NUM_VERTICES - 1):
        if fwd >> u & 1:
            fwd |= succ[u]
    out_bit = 1 << (NUM_VERTICES - 1)
    if not fwd & out_bit:
        return 0
    bwd = out_bit
    for u in range(NUM_VERTICES - 2, -1, -1):
        if succ[u] & bwd:
            bwd |= 1 << u
    return fwd & bwd


def _analyse(arch) -> tuple[int, list[int], int]:
    """``(keep mask, successor masks, pruned edge count)`` of a well-formed tuple."""
    succ = _succ_masks(arch)
    keep = _prune_masks(succ)
    if not keep:
        return 0, succ, 0
    edges = 0
    for u in range(NUM_VERTICES):
        if keep >> u & 1:
            edges += (succ[u] & keep).bit_count()
    return keep, succ, edges


def arch_problem(arch) -> str | None:
    """Why ``arch`` is not a valid NB101 architecture, or None (type errors included)."""
    try:
        _check_tuple(arch)
    except InvalidArchitecture as exc:
        return str(exc)
    keep, _, edges = _analyse(arch)
    if not keep:
        return "the output is not reachable from the input (no input -> output path)"
    if edges > MAX_EDGES:
        return f"{edges} edges after pruning, NB101 allows at most {MAX_EDGES}"
    return None


# Memos (values never depend on them): pruned graph -> hash, and architecture tuple -> hash.
# Bounded (about 25 MB and 15 MB when full), cleared when full.
_CACHE: dict[int, str] = {}
_CACHE_LIMIT = 1 << 17
_ARCH_CACHE: dict[tuple, str] = {}
_ARCH_CACHE_LIMIT = 1 << 15
_INT_TYPES = {int}


def _hash_masks(keep: int, succ: list[int], arch) -> str:
    kept = [v for v in range(NUM_VERTICES) if keep >> v & 1]
    key = keep
    shift = NUM_VERTICES
    for u in kept:
        key |= (succ[u] & keep) << shift
        shift += NUM_VERTICES
        if 0 < u < NUM_VERTICES - 1:
            key |= arch[NUM_EDGES + u - 1] << shift
        shift += 2
    h = _CACHE.get(key)
    if h is not None:
        return h
    index = {v: i for i, v in enumerate(kept)}
    succs = [[index[v] for v in kept if succ[u] >> v & 1] for u in kept]
    preds: list[list[int]] = [[] for _ in kept]
    for i, s in enumerate(succs):
        for j in s:
            preds[j].append(i)
    labels = [_IN_LABEL] + [arch[NUM_EDGES + u - 1] for u in kept[1:-1]] + [_OUT_LABEL]
    h = _wl_hash(preds, succs, labels)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = h
    return h


def arch_hash(arch) -> str:
    """The module hash of an architecture tuple's pruned cell (the dataset key).

    Raises ``InvalidArchitecture`` naming the problem when ``arch`` is malformed or not a
    valid cell. Results are memoised (bounded) by tuple and by pruned graph: about 1 us for
    a repeated tuple, 30 us for a new cell (the 7 rounds of MD5 hashing).
    """
    try:
        h = _ARCH_CACHE.get(arch)
    except TypeError:  # unhashable
        h = None
    # (1, 0, ...) == (True, False, ...): a hit must also consist of ints
    if h is not None and set(map(type, arch)) == _INT_TYPES:
        return h
    _check_tuple(arch)
    keep, succ, edges = _analyse(arch)
    if not keep:
        raise InvalidArchitecture(
            f"{arch!r} is not a valid NB101 cell: the output is not reachable from the input (no input -> output path)"
        )
    if edges > MAX_EDGES:
        raise InvalidArchitecture(
            f"{arch!r} is not a valid NB101 cell: {edges} edges after pruning, NB101 allows at most {MAX_EDGES}"
        )
    h = _hash_masks(keep, succ, arch)
    if len(_ARCH_CACHE) >= _ARCH_CACHE_LIMIT:
        _ARCH_CACHE.clear()
    _ARCH_CACHE[arch] = h
    return h
