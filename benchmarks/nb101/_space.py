"""The NAS-Bench-101 cell search space (Ying et al., ICML 2019).

An architecture is a tuple of 26 Python ints (see :mod:`benchlab.benchmarks.nb101._graph`): the 21
entries of the strict upper triangle of the raw 7x7 adjacency matrix in row-major order
(edge 0->1, 0->2, ..., 0->6, 1->2, ..., 5->6), each 0 or 1, then the op index of vertices
1..5 into ``OPS = (conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3)``. It is the *raw* spec the
official ``ModelSpec`` takes; a tuple is valid when its pruned cell (vertices on an
input -> output path) exists and has at most 9 edges (``NASBench.is_valid``).

Several tuples are the same cell (dangling vertices, the ops of pruned vertices, vertex
relabellings): there are 2**21 * 3**5 tuples (about 73% of them valid) but 423,624 distinct
cells, the number of module hashes (records of ``nasbench_only108.tfrecord``) in the official
dataset, which is :attr:`NB101Space.size`. Tables are keyed by the module hash
(:meth:`NB101Space.cell_hash`), not by the tuple. The full space has no integer ids (listing
the cells needs the dataset); a restricted space given with ``archs`` numbers its cells in
module-hash order.

String form (:meth:`NB101Space.to_str`): the 7 rows of the raw adjacency matrix as 0/1
digits, comma-separated, then ``|``, then the 7 op names, comma-separated, e.g. the
Inception-like cell of the official README::

    0111010,0000001,0000001,0000100,0000001,0000001,0000000|input,conv1x1-bn-relu,
    conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,maxpool3x3,output

(one line; wrapped here). It is ``ModelSpec(matrix, ops)`` written out, so it round-trips.
"""

from __future__ import annotations

import numpy as np

from benchlab import DataError, InvalidArchitecture, InvalidConfig, SearchSpace

from ._graph import (
    EDGES,
    INPUT,
    MAX_EDGES,
    NUM_ARCH,
    NUM_EDGES,
    NUM_VERTICES,
    OPS,
    OUTPUT,
    _analyse,
    _hash_masks,
    arch_hash,
)

__all__ = ["MUTATIONS", "NUM_CELLS", "PATH_ENCODING_LENGTH", "NB101Space"]

#: Distinct cells (module hashes) in the official dataset (the 423k unique architectures of Ying et al. 2019).
NUM_CELLS = 423_624
NUM_OP_VERTICES = NUM_VERTICES - 2
#: Input -> output paths by op sequence: 3**0 + 3**1 + ... + 3**5 = 364 (White et al. 2021).
PATH_ENCODING_LENGTH = sum(len(OPS) ** i for i in range(NUM_OP_VERTICES + 1))
#: Mutation operators: "ying2019" the official REA mutation, "neighbor" one uniform neighbour.
MUTATIONS = ("ying2019", "neighbor")

_ENCODINGS = ("adjacency", "onehot", "path", "categorical")
_MAX_TRIES = 100_000  # rejection-sampling bound (a valid cell needs about 1.4 tries in full mode)
# Mutation redraws before giving up in a restricted space (about 0.4 s); in the full space a
# valid, different child needs about 1.5 draws on average.
_MAX_MUTATE_TRIES = 10_000

# Lookup tables: 7 edge bits -> their tuple, base-3 op code -> the 5 op indices.
_BITS7 = tuple(tuple((c >> b) & 1 for b in range(7)) for c in range(128))
_OPCODES = tuple(tuple((c // len(OPS) ** i) % len(OPS) for i in range(NUM_OP_VERTICES)) for c in range(len(OPS) ** 5))
_NO_OPS = (0,) * NUM_OP_VERTICES
_EDGE_MEMO_SIZE = 1 << 18  # edge sets memoised per restricted space (about 60 MB when full)
_OTHER_OPS = tuple(tuple(o for o in range(len(OPS)) if o != cur) for cur in range(len(OPS)))
_HEX = frozenset("0123456789abcdef")
_INT_TYPE = {int}


def _fast_hash(arch) -> str | None:
    """Module hash of a well-formed tuple, None when it is not a valid cell."""
    keep, succ, edges = _analyse(arch)
    if not keep or edges > MAX_EDGES:
        return None
    return _hash_masks(keep, succ, arch)


def _structure(keep: int, succ: list[int]) -> tuple:
    """``((vertex, out-degree, in-degree, predecessors, successors), ...)`` of the kept vertices."""
    kept = [u for u in range(NUM_VERTICES) if keep >> u & 1]
    preds: dict[int, list[int]] = {u: [] for u in kept}
    succs = {}
    for u in kept:
        out = [v for v in kept if (succ[u] & keep) >> v & 1]
        succs[u] = tuple(out)
        for v in out:
            preds[v].append(u)
    return tuple((u, len(succs[u]), len(preds[u]), tuple(preds[u]), succs[u]) for u in kept)


def _signature(structure: tuple, ops) -> tuple:
    """One round of the module hash's refinement, without MD5: per vertex its (out-degree,
    in-degree, label) and the sorted labels of its predecessors and successors, sorted over
    vertices. Cells with one module hash share it, so a restricted space tests it before
    hashing: most cells outside the set fail it for a few microseconds instead of the
    hash's seven rounds of MD5."""
    last = NUM_VERTICES - 1
    label = {v: (o, i, -1 if v == 0 else -2 if v == last else ops[v - 1]) for v, o, i, _, _ in structure}
    return tuple(sorted([(label[v], tuple(sorted([label[w] for w in p])), tuple(sorted([label[w] for w in q])))
                         for v, _, _, p, q in structure]))  # fmt: skip


def _degree_labels(keep: int, succ: list[int], arch) -> tuple:
    """The refinement signature (:func:`_signature`) of a well-formed, valid tuple."""
    return _signature(_structure(keep, succ), arch[NUM_EDGES:])


def _uniforms(rng, n: int) -> list[float]:
    if isinstance(rng, np.random.Generator):
        return rng.random(n).tolist()
    take = getattr(rng, "uniforms", None)  # benchlab.RandomStream: a slice of its buffer
    if take is not None:
        return take(n)
    return [rng.random() for _ in range(n)]


class NB101Space(SearchSpace):
    """NAS-Bench-101: 423,624 cells of up to 7 vertices and 9 edges, 3 operations.

    Parameters
    ----------
    mutation:
        ``"ying2019"`` (default): the mutation of the official regularized-evolution
        example (google-research/nasbench ``NASBench.ipynb`` ``mutate_spec``, also
        BANANAS/naszilla and NASLib): on the raw spec every one of the 21 edges flips with
        probability ``mutation_rate / 7`` ("in expectation, V edges flipped") and every one
        of the 5 op vertices changes, with probability ``mutation_rate / 5``, to one of the
        two other ops chosen uniformly; redrawn until the result is valid. Unlike the
        official code (which may return an equivalent spec), it is also redrawn until its
        module hash differs from the parent's, so the cell always changes. This mutation
        may change several decisions at once: its result is generally NOT one of
        :meth:`neighbors` (see :attr:`local_mutation`). ``"neighbor"``: one of
        :meth:`neighbors`, uniformly (the official mutation for the rare cells that have no
        single-edit neighbour, such as input -> output with every other vertex dangling).
    mutation_rate:
        The official ``mutation_rate`` (default 1.0, the notebook's default).
    hashes:
        Restrict the space to these module hashes (32-character hex strings), e.g. the
        cells a partial table holds. ``sample`` then draws a present cell uniformly
        (needs ``archs``; without them, official samples are rejected until one is
        present), ``mutate`` redraws its mutation until it lands in the set (bounded, then
        ``DataError``), ``neighbors`` keeps only present cells and ``validate`` rejects
        valid cells that are absent. ``size`` is the number of hashes. A table that holds
        every cell should use the full space (faster, and small to pickle).
    archs:
        One architecture tuple per cell of the restricted set (aligned with ``hashes``,
        which may then be omitted: they are computed; given both, each pair is checked).
    """

    name = "nb101"
    # choices() tuples are architectures (some invalid): REINFORCE, TPE and BOHB build them
    # decision by decision and redraw invalid ones (strategies/_valid.py)
    choices_are_archs = True

    def __init__(self, mutation: str = "ying2019", mutation_rate: float = 1.0, hashes=None, archs=None) -> None:
        if mutation not in MUTATIONS:
            raise InvalidConfig(f"nb101: unknown mutation {mutation!r}; choose one of {', '.join(MUTATIONS)}")
        if isinstance(mutation_rate, bool) or not isinstance(mutation_rate, (int, float)):
            raise InvalidConfig(f"nb101: mutation_rate must be a number in (0, 5], got {mutation_rate!r}")
        if not (0 < mutation_rate <= NUM_OP_VERTICES):
            raise InvalidConfig(
                f"nb101: mutation_rate must be in (0, 5] (probabilities rate/7 and rate/5), got {mutation_rate!r}"
            )
        self.mutation = mutation
        self.mutation_rate = float(mutation_rate)
        self._allowed: frozenset[str] | None = None
        self._cells: list[tuple] | None = None  # representatives, sorted by hash
        self._index: dict[str, int] | None = None  # hash -> id (restricted spaces with archs)
        self._rep_hash: dict[tuple, str] = {}  # representative -> its hash (restricted spaces with archs)
        self._choices: np.ndarray | None = None  # the representatives as an int8 array (cache)
        self._labels: frozenset | None = None  # degree-label multisets of the cells (cache, see mutate)
        self._edges_memo: dict = {}  # edge bitmask -> pruned structure (cache, see _edge_info)
        if hashes is not None or archs is not None:
            self._restrict(hashes, archs)

    @classmethod
    def from_cells(cls, hashes, archs, mutation: str = "ying2019", mutation_rate: float = 1.0) -> NB101Space:
        """A restricted space from a table's cells: ``hashes`` (32-hex module hashes, sorted,
        distinct) and one architecture tuple per hash, trusted (the table's build checked
        them; the constructor would recompute every hash). For benchmarks over partial tables."""
        space = cls(mutation, mutation_rate)
        hs = list(hashes)
        cells = list(archs)
        if len(hs) != len(cells) or not hs:
            raise InvalidConfig(f"nb101: {len(hs)} hashes but {len(cells)} archs; give one arch per hash")
        if any(a >= b for a, b in zip(hs, hs[1:])):
            raise InvalidConfig("nb101: from_cells needs distinct hashes in sorted order (a table's rows)")
        space._allowed = frozenset(hs)
        space._cells = cells
        space._rep_hash = dict(zip(cells, hs))
        return space

    # -- restriction -----------------------------------------------------------------
    def _restrict(self, hashes, archs) -> None:
        hs = None
        if hashes is not None:
            if isinstance(hashes, str):
                raise InvalidConfig("nb101: hashes must be a collection of module hashes, not one string")
            hs = [h.decode() if isinstance(h, bytes) else str(h) for h in hashes]
            for h in hs:
                if len(h) != 32 or not set(h) <= _HEX:
                    raise InvalidConfig(f"nb101: {h!r} is not a module hash (32 lowercase hex digits)")
        if archs is not None:
            archs = list(archs)
            cells: dict[str, tuple] = {}
            for i, a in enumerate(archs):
                a = tuple(int(v) for v in a) if not isinstance(a, tuple) else a
                h = arch_hash(a)
                if hs is not None:
                    if len(hs) != len(archs):
                        raise InvalidConfig(f"nb101: {len(hs)} hashes but {len(archs)} archs; give one arch per hash")
                    if hs[i] != h:
                        raise InvalidConfig(f"nb101: archs[{i}] = {a!r} has module hash {h}, not hashes[{i}] = {hs[i]}")
                cells.setdefault(h, a)
            order = sorted(cells)
            self._allowed = frozenset(order)
            self._cells = [cells[h] for h in order]
            self._rep_hash = {cells[h]: h for h in order}
        else:
            self._allowed = frozenset(hs)
        if not self._allowed:
            raise InvalidConfig("nb101: the restricted set of cells is empty")

    @property
    def restricted(self) -> bool:
        """True when the space holds only the cells given as ``hashes``/``archs``."""
        return self._allowed is not None

    @property
    def hashes(self) -> frozenset[str] | None:
        """The module hashes of a restricted space (None for the full space)."""
        return self._allowed

    @property
    def size(self) -> int:
        """Distinct cells: 423,624 (official count), or the size of the restricted set."""
        return NUM_CELLS if self._allowed is None else len(self._allowed)

    # -- ids: restricted spaces with representatives only ------------------------------
    def enumerate(self):
        """The cells of a restricted space given with ``archs``, one tuple each, in id (module
        hash) order. The full space (423,624 cells; listing them needs the dataset) and
        hash-only restricted spaces cannot be enumerated (``NotImplementedError``)."""
        if self._cells is None:
            return super().enumerate()
        return iter(list(self._cells))

    def to_id(self, arch) -> int:
        """Restricted spaces with ``archs``: the rank of ``arch``'s module hash among the
        space's hashes (so equivalent tuples share an id; ``from_id`` gives the stored
        representative). ``NotImplementedError`` otherwise."""
        if self._cells is None:
            return super().to_id(arch)
        if self._index is None:
            self._index = {h: i for i, h in enumerate(sorted(self._allowed))}
        return self._index[self.cell_hash(arch)]

    def from_id(self, index: int) -> tuple:
        if self._cells is None:
            return super().from_id(index)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(self._cells):
            raise InvalidArchitecture(
                f"id {index!r} is out of range: this nb101 space has ids 0..{len(self._cells) - 1}"
            )
        return self._cells[int(index)]

    def allowed_choices(self) -> np.ndarray | None:
        """The cells of a restricted space given with archs as an ``(size, 26)`` int8 array of
        their representative tuples (rows in id order), for strategies that draw a
        categorical policy inside the space; None for the full space."""
        if self._cells is None:
            return None
        if self._choices is None:
            self._choices = np.asarray(self._cells, dtype=np.int8).reshape(len(self._cells), NUM_ARCH)
        return self._choices

    def __getstate__(self):
        return {**self.__dict__, "_index": None, "_choices": None, "_labels": None, "_edges_memo": {}}  # caches, rebuilt on demand

    def __setstate__(self, state):
        state.setdefault("_rep_hash", {})
        state.setdefault("_choices", None)
        state.setdefault("_labels", None)
        state.setdefault("_edges_memo", {})
        self.__dict__.update(state)

    def __repr__(self) -> str:
        extra = f", restricted to {len(self._allowed)} cells" if self._allowed is not None else ""
        return f"NB101Space(size={self.size}, mutation={self.mutation!r}{extra})"

    @property
    def local_mutation(self) -> bool:
        """True when :meth:`mutate` returns one of :meth:`neighbors` (``mutation="neighbor"``).

        The default official mutation may change several edges and ops at once, so its result
        is usually not a single-edit neighbour; the generic conformance check
        ``check_space_mutate`` (mutate result in neighbors) holds only when this is True.
        """
        return self.mutation == "neighbor"

    # -- validity --------------------------------------------------------------------
    def problem(self, arch) -> str | None:
        """Why ``arch`` is not in this space (one line), or None if it is. Cheap: use it to
        screen tuples built from :meth:`choices` (most random ones are fine, about 27% are
        not valid cells)."""
        try:
            self.cell_hash(arch)
        except InvalidArchitecture as exc:
            return str(exc)
        return None

    def cell_hash(self, arch) -> str:
        """The module hash of ``arch``'s cell, the key of NB101 tables (validates ``arch``)."""
        if self._rep_hash:
            try:
                h = self._rep_hash.get(arch)
            except TypeError:  # unhashable
                h = None
            # (1, 0, ...) == (True, False, ...): a hit must also consist of ints
            if h is not None and set(map(type, arch)) == _INT_TYPE:
                return h
        h = arch_hash(arch)
        if self._allowed is not None and h not in self._allowed:
            raise InvalidArchitecture(self._absent(arch, h))
        return h

    def _absent(self, arch, h: str) -> str:
        return (
            f"{arch!r} is a valid NB101 cell (hash {h}) but not one of the {len(self._allowed)} cells this "
            "restricted space (a partial table) holds; sample from the space or use a full table"
        )

    def validate(self, arch):
        self.cell_hash(arch)
        return arch

    # -- sampling and mutation -------------------------------------------------------
    def _sample_raw(self, rng) -> tuple:
        """One draw of the official ``random_spec`` (NASBench.ipynb): 21 fair edge bits and 5
        uniform ops, redrawn until valid. The distribution is the official one; the stream of
        draws is not (two draws per try: a 21-bit integer and a base-3 op code)."""
        for _ in range(_MAX_TRIES):
            e = int(rng.integers(0, 1 << NUM_EDGES))
            o = int(rng.integers(0, len(_OPCODES)))
            arch = _BITS7[e & 127] + _BITS7[(e >> 7) & 127] + _BITS7[e >> 14] + _OPCODES[o]
            keep, _, edges = _analyse(arch)
            if keep and edges <= MAX_EDGES:
                return arch
        raise RuntimeError("nb101: no valid cell in 100,000 draws; the random generator is broken")

    def sample(self, rng) -> tuple:
        """A random architecture.

        Full space: the official random spec (``random_spec`` of the NAS-Bench-101 notebook,
        as in BANANAS and NASLib): a random upper-triangular matrix with each of the 21 edges
        present with probability 0.5 and uniform ops, redrawn until valid. This is uniform
        over valid *tuples*, not over cells: cells with more equivalent tuples are likelier
        (the bare input -> output cell is about 10% of the draws; 20,000 draws hit about 4,600
        distinct cells).
        Restricted space with representatives: a present cell, uniformly. Restricted space
        with hashes only: official samples redrawn until present (bounded; ``DataError``).
        """
        if self._cells is not None:
            return self._cells[int(rng.integers(0, len(self._cells)))]
        if self._allowed is None:
            return self._sample_raw(rng)
        for _ in range(_MAX_TRIES):
            arch = self._sample_raw(rng)
            if _fast_hash(arch) in self._allowed:
                return arch
        raise DataError(
            f"nb101: no sample landed in the {len(self._allowed)} cells of this restricted space in {_MAX_TRIES:,} "
            "draws; construct NB101Space(hashes=..., archs=...) with one arch per cell to sample uniformly"
        )

    def _member_labels(self) -> frozenset | None:
        """The degree-label multisets of a restricted space's cells (None: not restricted or
        no representatives), built on first use."""
        if self._cells is None:
            return None
        labels = self._labels
        if labels is None:
            sets = set()
            for a in self._cells:
                keep, succ, _ = _analyse(a)
                sets.add(_degree_labels(keep, succ, a))
            labels = self._labels = frozenset(sets)
        return labels

    def _restricted_hash(self, child, labels) -> str | None:
        """``child``'s hash when it is one of the restricted space's cells, else None."""
        keep, succ, edges = _analyse(child)
        if not keep or edges > MAX_EDGES:
            return None
        if labels is not None and _degree_labels(keep, succ, child) not in labels:
            return None
        h = _hash_masks(keep, succ, child)
        return h if h in self._allowed else None

    def _edge_info(self, e: int):
        """``(keep, succ, structure)`` (see :func:`_structure`) of the pruned cell with edge
        bits ``e`` (bit k = edge k), or None when no op choice makes it valid; memoised per
        space (bounded), since mutations around one parent redraw the same edge sets."""
        memo = self._edges_memo
        info = memo.get(e, 0)
        if info != 0:
            return info
        keep, succ, edges = _analyse(_BITS7[e & 127] + _BITS7[(e >> 7) & 127] + _BITS7[e >> 14] + _NO_OPS)
        info = None if not keep or edges > MAX_EDGES else (keep, succ, _structure(keep, succ))
        if len(memo) >= _EDGE_MEMO_SIZE:
            memo.clear()
        memo[e] = info
        return info

    def _restricted_mutation(self, arch, parent, rng, p_edge, p_op, labels, tries):
        """The ``ying2019`` mutation loop of :meth:`mutate` for a restricted space with
        representatives, on edge bitmasks: the same draws in the same order and the same
        child, without building and pruning a tuple for every rejected draw (most draws land
        outside a partial table's cells). None after ``tries`` draws."""
        allowed = self._allowed
        e0 = 0
        for k in range(NUM_EDGES):
            if arch[k]:
                e0 |= 1 << k
        ops0 = arch[NUM_EDGES:]
        for _ in range(tries):
            u = _uniforms(rng, NUM_ARCH)
            e = e0
            for k in range(NUM_EDGES):
                if u[k] < p_edge:
                    e ^= 1 << k
            ops = list(ops0)
            for k in range(NUM_OP_VERTICES):
                if u[NUM_EDGES + k] < p_op:
                    ops[k] = _OTHER_OPS[ops[k]][int(rng.integers(0, 2))]
            info = self._edge_info(e)
            if info is None:
                continue
            keep, succ, structure = info
            if _signature(structure, ops) not in labels:
                continue
            child = _BITS7[e & 127] + _BITS7[(e >> 7) & 127] + _BITS7[e >> 14] + tuple(ops)
            h = _hash_masks(keep, succ, child)
            if h in allowed and h != parent:
                return child
        return None

    def mutate(self, arch, rng) -> tuple:
        """A random different cell near ``arch`` (see the ``mutation`` parameter)."""
        parent = self.cell_hash(arch)
        if self.mutation == "neighbor":
            nbrs = self.neighbors(arch)
            if nbrs:
                return nbrs[int(rng.integers(0, len(nbrs)))]
            # no single edit changes the cell (e.g. input -> output with every other vertex
            # dangling needs two new edges): fall through to the official mutation
        p_edge = self.mutation_rate / NUM_VERTICES
        p_op = self.mutation_rate / NUM_OP_VERTICES
        allowed = self._allowed
        tries = _MAX_TRIES if allowed is None else _MAX_MUTATE_TRIES
        labels = None if allowed is None else self._member_labels()
        if labels is not None:
            child = self._restricted_mutation(arch, parent, rng, p_edge, p_op, labels, tries)
            if child is not None:
                return child
            tries = 0  # the same draws were all made: report
        for _ in range(tries):
            u = _uniforms(rng, NUM_ARCH)
            new = list(arch)
            for k in range(NUM_EDGES):
                if u[k] < p_edge:
                    new[k] ^= 1
            for k in range(NUM_EDGES, NUM_ARCH):
                if u[k] < p_op:
                    new[k] = _OTHER_OPS[new[k]][int(rng.integers(0, 2))]
            child = tuple(new)
            h = _fast_hash(child) if allowed is None else self._restricted_hash(child, labels)
            if h is not None and h != parent:
                return child
        if allowed is not None:
            raise DataError(
                f"nb101: no mutation of {arch!r} landed in the {len(allowed)} cells of this restricted space in "
                f"{tries:,} tries; evolution needs a full NB101 table (or a strategy that does not mutate)"
            )
        raise RuntimeError(f"nb101: no valid mutation of {arch!r} in {_MAX_TRIES:,} tries")

    def neighbors(self, arch) -> list[tuple]:
        """Every cell one edit away: each single edge flip (edges in tuple order), then each
        single op change (vertices 1..5, other ops in ``OPS`` order), kept when valid,
        deduplicated by module hash (first tuple wins) and excluding ``arch``'s own cell; in a
        restricted space only present cells."""
        parent = self.cell_hash(arch)
        seen = {parent}
        allowed = self._allowed
        labels = None if allowed is None else self._member_labels()
        out = []
        candidates = []
        for k in range(NUM_EDGES):
            candidates.append(arch[:k] + (1 - arch[k],) + arch[k + 1 :])
        for k in range(NUM_EDGES, NUM_ARCH):
            for o in _OTHER_OPS[arch[k]]:
                candidates.append(arch[:k] + (o,) + arch[k + 1 :])
        for child in candidates:
            h = _fast_hash(child) if allowed is None else self._restricted_hash(child, labels)
            if h is None or h in seen:
                continue
            seen.add(h)
            out.append(child)
        return out

    # -- strings ---------------------------------------------------------------------
    def to_str(self, arch) -> str:
        self.validate(arch)
        rows = [["0"] * NUM_VERTICES for _ in range(NUM_VERTICES)]
        for k, (i, j) in enumerate(EDGES):
            if arch[k]:
                rows[i][j] = "1"
        ops = [INPUT] + [OPS[v] for v in arch[NUM_EDGES:]] + [OUTPUT]
        return ",".join("".join(r) for r in rows) + "|" + ",".join(ops)

    def from_str(self, text: str) -> tuple:
        fix = (
            "expected the 7 rows of the 0/1 adjacency matrix, comma-separated, '|', then the 7 op names, "
            f"comma-separated ({INPUT}, 5 of {'/'.join(OPS)}, {OUTPUT})"
        )
        if not isinstance(text, str) or text.count("|") != 1:
            raise InvalidArchitecture(f"{text!r} is not an nb101 string: {fix}")
        mat, ops = text.split("|")
        rows = mat.split(",")
        if len(rows) != NUM_VERTICES or any(len(r) != NUM_VERTICES or set(r) - {"0", "1"} for r in rows):
            raise InvalidArchitecture(f"{text!r} is not an nb101 string: {fix}")
        for i, r in enumerate(rows):
            if "1" in r[: i + 1]:
                raise InvalidArchitecture(
                    f"{text!r}: row {i} has an edge on or below the diagonal; edges go from a lower to a higher vertex"
                )
        names = ops.split(",")
        if (
            len(names) != NUM_VERTICES
            or names[0] != INPUT
            or names[-1] != OUTPUT
            or any(o not in OPS for o in names[1:-1])
        ):
            raise InvalidArchitecture(f"{text!r} is not an nb101 string: {fix}")
        arch = tuple(int(rows[i][j]) for i, j in EDGES) + tuple(OPS.index(o) for o in names[1:-1])
        return self.validate(arch)

    # -- encodings -------------------------------------------------------------------
    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        """A float vector of ``arch``.

        - ``"adjacency"`` (alias ``"onehot"``): the 21 raw upper-triangle edge bits, then a
          one-hot block of 3 per op vertex in ``OPS`` order: 36 values. The BANANAS
          "adjacency matrix" encoding (White, Neiswanger & Savani, AAAI 2021; NASLib
          ``encode_adj``), computed on the raw spec as BANANAS does, so equivalent tuples of
          one cell may differ.
        - ``"path"``: the path encoding of White et al. 2021: one bit per possible
          input -> output op sequence (364 = 3**0 + ... + 3**5), set when the cell has such
          a path; the sequence ``(o_0, ..., o_{L-1})`` has index ``sum 3**i * (o_i + 1)``
          with ``OPS`` order conv3x3 0, conv1x1 1, maxpool 2 (BANANAS ``get_path_indices``).
          Invariant under pruning and relabelling.
        - ``"categorical"``: the 26 tuple entries as floats.
        """
        if kind in ("adjacency", "onehot"):
            self.validate(arch)
            vec = np.zeros(NUM_EDGES + len(OPS) * NUM_OP_VERTICES, dtype=np.float64)
            vec[:NUM_EDGES] = arch[:NUM_EDGES]
            for i, o in enumerate(arch[NUM_EDGES:]):
                vec[NUM_EDGES + len(OPS) * i + o] = 1.0
            return vec
        if kind == "path":
            self.validate(arch)
            vec = np.zeros(PATH_ENCODING_LENGTH, dtype=np.float64)
            for index in _path_indices(arch):
                vec[index] = 1.0
            return vec
        if kind == "categorical":
            self.validate(arch)
            return np.asarray(arch, dtype=np.float64)
        raise ValueError(f"unknown encoding {kind!r}; NB101Space offers {', '.join(map(repr, _ENCODINGS))}")

    def choices(self) -> list[tuple[str, tuple]]:
        """The categorical view: 21 edge decisions ``("edge i->j", (0, 1))`` in tuple order,
        then 5 op decisions ``("op vertex v", OPS)``. A tuple of option indices in this order
        IS an architecture; most combinations are not valid cells (disconnected or more than
        9 edges after pruning): ``validate`` rejects them."""
        out = [(f"edge {i}->{j}", (0, 1)) for i, j in EDGES]
        out += [(f"op vertex {v}", OPS) for v in range(1, NUM_VERTICES - 1)]
        return out


def _path_indices(arch) -> set[int]:
    """Indices of the input -> output op sequences of a raw tuple (see ``encode``)."""
    # paths[v]: (index, length) of every path from the input to v, with the ops of the
    # vertices strictly between them
    paths: list[list[tuple[int, int]]] = [[] for _ in range(NUM_VERTICES)]
    paths[0] = [(0, 0)]
    for k, (i, j) in enumerate(EDGES):  # row-major: all edges out of i come after i's in-edges
        if not arch[k] or not paths[i]:
            continue
        if i == 0:
            paths[j].extend(paths[0])
        else:
            op = arch[NUM_EDGES + i - 1]
            paths[j].extend((idx + len(OPS) ** n * (op + 1), n + 1) for idx, n in paths[i])
    return {idx for idx, _ in paths[NUM_VERTICES - 1]}
