"""NAS-Bench-101 graph utilities and search space (benchmarks/nb101/_graph.py, _space.py).

Reference values and where they come from:

- ``NNI_HASH`` = ``00005c142e6f48ac74fdcf73e3439874`` for ``NNI_MATRIX``/``NNI_OPS``: the
  NAS-Bench-101 example of Microsoft NNI's benchmark docs (microsoft/nni
  ``docs/en_US/NAS/BenchmarksExample.ipynb`` at commit 10973c4ea8f5, output of
  ``query_nb101_trial_stats``: arch ``input1=[0], input2=[1], input3=[2], input4=[0],
  input5=[0, 3, 4], input6=[2, 5]``, ops conv3x3, maxpool3x3, conv3x3, conv3x3, conv1x1;
  ``'hash': '00005c142e6f48ac74fdcf73e3439874'``). NNI builds its database from the official
  tfrecord, so the hash is the official dataset key; several other public repositories
  print the same (matrix, ops, hash) triple as the first record of ``nasbench_only108``.
- The Inception-like cell of the official README (google-research/nasbench ``README.md``):
  ``nasbench.query`` of ``README_QUERY`` returns ``module_adjacency``/``module_operations``
  ``README_STORED``, a relabelled (isomorphic) cell; both must hash alike.
  ``README_HASH`` is this implementation's value for it, cross-checked against the
  nasbench_pytorch port of ``graph_util.hash_module`` in ``test_hash_matches_reference_port``
  (no published hash string for this cell was found).
- ``nasbench_pytorch`` 1.3.1 (romulus0914/NASBench-PyTorch, a port of the official
  ``graph_util.py`` and ``model_spec.py``) is the reference for hashes, pruning and validity
  on random specs (skipped when not installed).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

from benchlab import DataError, InvalidArchitecture, InvalidConfig, RandomStream
from benchlab.testing import (
    SPACE_CHECKS,
    ConformanceError,
    check_space_mutate,
)
from benchlab.benchmarks.nb101 import _graph, _space
from benchlab.benchmarks.nb101._graph import (
    EDGES,
    INPUT,
    MAX_EDGES,
    NUM_VERTICES,
    OPS,
    OUTPUT,
    arch_hash,
    arch_problem,
    from_spec,
    is_valid,
    module_hash,
    prune,
    spec_hash,
    spec_problem,
    to_spec,
)
from benchlab.benchmarks.nb101._space import NUM_CELLS, PATH_ENCODING_LENGTH, NB101Space

C3, C1, MP = OPS

NNI_MATRIX = [
    [0, 1, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 1],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
NNI_OPS = [INPUT, C3, MP, C3, C3, C1, OUTPUT]
NNI_HASH = "00005c142e6f48ac74fdcf73e3439874"

README_QUERY = (
    [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    [INPUT, C1, C3, C3, C3, MP, OUTPUT],
)
README_STORED = (
    [
        [0, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    [INPUT, C3, C1, MP, C3, C3, OUTPUT],
)
README_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"

NASLIB_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")  # NASLib's op codes


def _labels(ops) -> list[int]:
    return [-1] + [OPS.index(o) for o in ops[1:-1]] + [-2]


def _random_specs(n: int, seed: int):
    """Raw 7-vertex specs with each edge present with probability 0.5 (many invalid)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        m = np.triu(rng.integers(0, 2, (NUM_VERTICES, NUM_VERTICES)), 1)
        yield m, [INPUT] + [OPS[i] for i in rng.integers(0, 3, 5)] + [OUTPUT]


def _samples(n: int, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    space = NB101Space()
    return [space.sample(rng) for _ in range(n)]


@pytest.fixture(scope="module")
def ref_graph_util():
    """The port's ``graph_util`` loaded on its own (it needs only numpy, not torch)."""
    spec = importlib.util.find_spec("nasbench_pytorch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("nasbench_pytorch is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model" / "graph_util.py"
    loader = importlib.util.spec_from_file_location("_nb101_ref_graph_util", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ref_model_spec():
    pytest.importorskip("torch")  # the port's ModelSpec imports torch
    return pytest.importorskip("nasbench_pytorch.model.model_spec").ModelSpec


# -- hashes -----------------------------------------------------------------------------
def test_official_hash_reproduced():
    assert module_hash(NNI_MATRIX, NNI_OPS) == NNI_HASH
    assert spec_hash(NNI_MATRIX, NNI_OPS) == NNI_HASH
    assert arch_hash(from_spec(NNI_MATRIX, NNI_OPS)) == NNI_HASH
    assert spec_hash(np.array(NNI_MATRIX, dtype=np.int8), tuple(NNI_OPS)) == NNI_HASH  # arrays, tuples
    assert spec_hash(np.array(NNI_MATRIX, dtype=bool), NNI_OPS) == NNI_HASH


def test_readme_query_and_stored_cell_hash_alike():
    assert spec_hash(*README_QUERY) == spec_hash(*README_STORED) == README_HASH
    assert not np.array_equal(README_QUERY[0], README_STORED[0])


def test_hash_matches_reference_port(ref_graph_util):
    archs = _samples(300, seed=1)
    for arch in archs:
        m, ops = prune(*to_spec(arch))
        assert module_hash(m, ops) == ref_graph_util.hash_module(m, _labels(ops)) == arch_hash(arch)
    # module_hash is the port's hash_module on any 0/1 digraph, not only pruned DAGs
    rng = np.random.default_rng(2)
    for _ in range(50):
        m = rng.integers(0, 2, (5, 5))
        ops = [INPUT] + [OPS[i] for i in rng.integers(0, 3, 3)] + [OUTPUT]
        assert module_hash(m, ops) == ref_graph_util.hash_module(m, _labels(ops))
    assert ref_graph_util.hash_module(np.array(NNI_MATRIX), _labels(NNI_OPS)) == NNI_HASH


def test_isomorphic_cells_hash_equal():
    """Relabelling the interior vertices in any topological order keeps the hash (and every
    relabelling, topological or not, keeps module_hash of the matrix)."""
    rng = np.random.default_rng(3)
    for arch in _samples(150, seed=3):
        m, ops = to_spec(arch)
        h = arch_hash(arch)
        # random topological order of vertices 1..5 (Kahn's algorithm, random tie-breaks)
        indeg = m[:, 1:6].sum(axis=0) - m[0, 1:6]
        order, ready = [], [v for v in range(1, 6) if indeg[v - 1] == 0]
        while ready:
            v = ready.pop(int(rng.integers(0, len(ready))))
            order.append(v)
            for w in range(v + 1, 6):
                if m[v, w]:
                    indeg[w - 1] -= 1
                    if indeg[w - 1] == 0:
                        ready.append(w)
        perm = [0, *order, 6]
        pm = m[np.ix_(perm, perm)]
        assert not np.any(np.tril(pm))
        other = from_spec(pm, [ops[v] for v in perm])
        assert arch_hash(other) == h
        assert NB101Space().encode(other, "path").tolist() == NB101Space().encode(arch, "path").tolist()
        # any permutation of the pruned graph (not upper triangular any more)
        qm, qops = prune(m, ops)
        n = len(qops)
        p = [0, *(rng.permutation(n - 2) + 1).tolist(), n - 1]
        assert module_hash(qm[np.ix_(p, p)], [qops[v] for v in p]) == h


def _canonical(m: np.ndarray, ops: list) -> tuple:
    """Brute-force canonical form of a pruned cell: the smallest (matrix, ops) over every
    relabelling of the interior vertices (at most 5! = 120)."""
    n = len(ops)
    best = None
    for perm in itertools.permutations(range(1, n - 1)):
        p = [0, *perm, n - 1]
        key = (m[np.ix_(p, p)].tobytes(), tuple(ops[v] for v in p))
        if best is None or key < best:
            best = key
    return best


def test_hash_equal_iff_isomorphic():
    """On 600 sampled cells plus their neighbours: equal hashes exactly for isomorphic cells
    (brute-force canonical forms)."""
    space = NB101Space()
    archs = _samples(300, seed=4)
    archs += [n for a in archs[:10] for n in space.neighbors(a)]
    by_hash: dict[str, tuple] = {}
    by_canon: dict[tuple, str] = {}
    for arch in archs:
        m, ops = prune(*to_spec(arch))
        canon, h = _canonical(m, ops), arch_hash(arch)
        assert by_hash.setdefault(h, canon) == canon, "one hash for two non-isomorphic cells"
        assert by_canon.setdefault(canon, h) == h, "two hashes for isomorphic cells"
    assert len(by_hash) > 250


def test_one_op_change_changes_the_cell():
    # one changed op of a kept vertex changes the cell
    a = from_spec(NNI_MATRIX, NNI_OPS)
    b = a[:-1] + (OPS.index(MP),)
    assert arch_hash(b) != arch_hash(a)


# -- pruning and validity ------------------------------------------------------------------
def test_prune_removes_dangling_vertices():
    # vertex 2 only feeds vertex 4, which goes nowhere; vertex 3 has no input
    m = np.zeros((7, 7), dtype=np.int8)
    for i, j in [(0, 1), (1, 6), (0, 2), (2, 4), (3, 5), (5, 6)]:
        m[i, j] = 1
    ops = [INPUT, C3, C1, MP, C3, C1, OUTPUT]
    pm, po = prune(m, ops)
    assert po == [INPUT, C3, OUTPUT]
    assert pm.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert pm.dtype == np.int8
    assert is_valid(m, ops)
    assert spec_hash(m, ops) == module_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, C3, OUTPUT])


def test_disconnected_output_is_invalid():
    m = np.zeros((7, 7), dtype=np.int8)
    m[0, 1] = m[1, 2] = m[3, 6] = 1
    ops = [INPUT, C3, C3, C3, C3, C3, OUTPUT]
    assert prune(m, ops) is None
    assert not is_valid(m, ops)
    assert "not reachable" in spec_problem(m, ops)
    arch = from_spec(m, ops)
    with pytest.raises(InvalidArchitecture, match="not reachable from the input"):
        arch_hash(arch)
    with pytest.raises(InvalidArchitecture, match="not reachable"):
        spec_hash(m, ops)


def test_edge_limit_counts_pruned_edges():
    # 10 edges, one of them into a dangling vertex: 9 after pruning, valid
    m = np.zeros((7, 7), dtype=np.int8)
    for i, j in [(0, 1), (0, 2), (0, 3), (0, 4), (1, 6), (2, 6), (3, 6), (4, 6), (0, 6), (1, 5)]:
        m[i, j] = 1
    ops = [INPUT, C3, C3, C1, MP, C3, OUTPUT]
    assert int(m.sum()) == 10 and is_valid(m, ops)
    assert int(prune(m, ops)[0].sum()) == 9
    # vertex 5 now reaches the output: 11 edges on input -> output paths
    m[5, 6] = 1
    assert spec_problem(m, ops) == "11 edges after pruning, NB101 allows at most 9"
    with pytest.raises(InvalidArchitecture, match="11 edges after pruning, NB101 allows at most 9"):
        NB101Space().validate(from_spec(m, ops))


def test_op_names_and_shape_checks():
    m = np.array(NNI_MATRIX)
    assert not is_valid(m, [INPUT, "conv5x5", MP, C3, C3, C1, OUTPUT])
    assert "unsupported op 'conv5x5'" in spec_problem(m, [INPUT, "conv5x5", MP, C3, C3, C1, OUTPUT])
    assert not is_valid(m, ["in", C3, MP, C3, C3, C1, OUTPUT])
    assert not is_valid(m, [INPUT, C3, MP, C3, C3, C1, "out"])
    # official quirk: ops of pruned vertices are not checked
    d = np.zeros((7, 7), dtype=np.int8)
    d[0, 1] = d[1, 6] = 1
    assert is_valid(d, [INPUT, C3, "anything", C3, C3, C3, OUTPUT])
    # malformed matrices: False from is_valid, InvalidArchitecture from prune
    lower = m.copy()
    lower[3, 1] = 1
    assert not is_valid(lower, NNI_OPS)
    with pytest.raises(InvalidArchitecture, match="upper triangular"):
        prune(lower, NNI_OPS)
    with pytest.raises(InvalidArchitecture, match="square"):
        prune(np.zeros((3, 4)), [INPUT, C3, OUTPUT])
    with pytest.raises(InvalidArchitecture, match="0 or 1"):
        prune(2 * m, NNI_OPS)
    with pytest.raises(InvalidArchitecture, match="one op per vertex"):
        prune(m, NNI_OPS[:-1])
    # 8 vertices: prunes fine, too many vertices for NB101
    big = np.zeros((8, 8), dtype=np.int8)
    for v in range(7):
        big[v, v + 1] = 1
    assert spec_problem(big, [INPUT] + [C3] * 6 + [OUTPUT]) == "8 vertices after pruning, NB101 allows at most 7"


def test_prune_and_validity_match_reference_port(ref_model_spec, ref_graph_util):
    n_valid = n_invalid = 0
    for m, ops in _random_specs(1500, seed=5):
        try:
            spec = ref_model_spec(m.copy(), list(ops))
            ok_prune = True
        except RuntimeError:  # the port fails on the official invalid_spec (matrix None -> torch.tensor)
            ok_prune = False
        if not ok_prune:
            assert prune(m, ops) is None and not is_valid(m, ops)
            n_invalid += 1
            continue
        pm, po = prune(m, ops)
        assert np.array_equal(pm, spec.matrix.numpy()) and po == spec.ops
        official_valid = len(spec.ops) <= 7 and int(spec.matrix.sum()) <= MAX_EDGES  # NASBench._check_spec
        assert is_valid(m, ops) == official_valid
        if official_valid:
            n_valid += 1
            assert spec_hash(m, ops) == ref_graph_util.hash_module(spec.matrix.numpy(), _labels(spec.ops))
    assert n_valid > 500 and n_invalid > 50


# -- tuples <-> specs ----------------------------------------------------------------------
def test_arch_tuple_layout():
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    assert len(arch) == 26 and all(type(v) is int for v in arch)
    assert EDGES[:3] == ((0, 1), (0, 2), (0, 3)) and EDGES[-1] == (5, 6)
    assert arch[:6] == (1, 0, 0, 1, 1, 0)  # row 0: 0->1 .. 0->6
    assert arch[21:] == (0, 2, 0, 0, 1)
    m, ops = to_spec(arch)
    assert m.tolist() == NNI_MATRIX and ops == NNI_OPS and m.dtype == np.int8


def test_from_spec_pads_pruned_specs():
    for arch in _samples(200, seed=6):
        pm, po = prune(*to_spec(arch))
        padded = from_spec(pm, po)
        assert arch_hash(padded) == module_hash(pm, po) == arch_hash(arch)
        if len(po) == 7:
            assert prune(*to_spec(padded))[0].tolist() == pm.tolist()
    two = from_spec([[0, 1], [0, 0]], [INPUT, OUTPUT])
    assert two == (0,) * 5 + (1,) + (0,) * 15 + (0,) * 5
    with pytest.raises(InvalidArchitecture, match="2..7 vertices"):
        from_spec(np.zeros((8, 8)), [INPUT] + [C3] * 6 + [OUTPUT])
    with pytest.raises(InvalidArchitecture, match="starts with 'input'"):
        from_spec(NNI_MATRIX, [C3] + NNI_OPS[1:])
    with pytest.raises(InvalidArchitecture, match="unsupported op"):
        from_spec(NNI_MATRIX, [INPUT, "conv5x5"] + NNI_OPS[2:])


@pytest.mark.data
def test_naslib_keys_of_the_shared_subset(shared_data):
    """The 500 NASLib keys (flattened adjacency + op codes) are valid cells; their hashes
    agree between from_spec tuples and pruned specs; duplicates are isomorphic cells."""
    data = json.loads((shared_data / "nb101" / "naslib_zc_nasbench101_500.json").read_text())
    keys = list(data["nasbench101"]["cifar10"])
    hashes = set()
    for key in keys:
        values = [int(v) for v in key.strip("()").split(",")]
        n = int((math.isqrt(1 + 4 * len(values)) - 1) // 2)
        m = np.array(values[: n * n]).reshape(n, n)
        ops = [NASLIB_OPS[c] for c in values[n * n :]]
        h = spec_hash(m, ops)
        assert arch_hash(from_spec(*prune(m, ops))) == h
        hashes.add(h)
    assert len(keys) == 500 and 250 < len(hashes) <= 500


# -- the space: validation ---------------------------------------------------------------
def test_validate_messages():
    space = NB101Space()
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    assert space.validate(arch) is arch
    assert space.cell_hash(arch) == NNI_HASH and space.problem(arch) is None
    cases = [
        (list(arch), "expected a tuple of 26 ints"),
        (arch[:-1], "expected a tuple of 26 ints"),
        ((True,) + arch[1:], "entry 0 (edge 0->1) must be the int 0 or 1"),
        ((2,) + arch[1:], "entry 0 (edge 0->1) must be the int 0 or 1"),
        (arch[:-1] + (3,), "entry 25 (op of vertex 5)"),
        (arch[:-1] + (np.int64(1),), "entry 25"),
        ((0,) * 26, "not reachable from the input"),
        ((1,) * 21 + (0,) * 5, "21 edges after pruning, NB101 allows at most 9"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidArchitecture, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
            space.validate(bad)
        assert "\n" not in str(info.value)
        assert message in space.problem(bad)
    assert arch_problem(arch) is None and "not reachable" in arch_problem((0,) * 26)


def test_cached_tuple_of_bools_is_still_rejected():
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    arch_hash(arch)  # now memoised; (True, False, ...) == (1, 0, ...) as dict keys
    as_bools = tuple(bool(v) if k < 21 else v for k, v in enumerate(arch))
    assert as_bools == arch
    with pytest.raises(InvalidArchitecture, match="must be the int 0 or 1"):
        arch_hash(as_bools)


def test_size_and_choices():
    space = NB101Space()
    assert space.size == NUM_CELLS == 423_624
    ch = space.choices()
    assert len(ch) == 26
    assert ch[0] == ("edge 0->1", (0, 1)) and ch[20] == ("edge 5->6", (0, 1))
    assert ch[21] == ("op vertex 1", OPS) and ch[25] == ("op vertex 5", OPS)
    # a tuple of option indices in choices() order is an architecture (when valid)
    rng = np.random.default_rng(7)
    valid = 0
    for _ in range(2000):
        arch = tuple(int(rng.integers(0, len(opts))) for _, opts in ch)
        valid += space.problem(arch) is None
    assert 0.65 < valid / 2000 < 0.8  # about 73% of uniform categorical tuples are valid cells
    for method in (space.to_id, space.from_id):
        with pytest.raises(NotImplementedError):
            method(0)
    with pytest.raises(NotImplementedError):
        space.enumerate()


# -- sampling, mutation, neighbours -----------------------------------------------------
def test_sample_is_deterministic_and_valid():
    space = NB101Space()
    for make in (np.random.default_rng, RandomStream):
        a = [space.sample(make(11)) for _ in range(3)]
        r1, r2 = make(12), make(12)
        s1 = [space.sample(r1) for _ in range(300)]
        s2 = [space.sample(r2) for _ in range(300)]
        assert s1 == s2
        assert a[0] == a[1] == a[2]
        assert len({arch_hash(x) for x in s1}) > 150  # random_spec favours small cells: ~190 distinct
        for x in s1:
            space.validate(x)


def test_sample_matches_the_official_random_spec_distribution():
    """Compare with a direct transcription of the official ``random_spec`` (matrix of fair
    coin flips, triu, uniform ops, redraw until valid) on summary statistics."""
    rng = np.random.default_rng(13)
    official = []
    while len(official) < 4000:
        m = np.triu(rng.choice([0, 1], size=(7, 7)), 1)
        ops = [INPUT] + rng.choice(list(OPS), size=5).tolist() + [OUTPUT]
        if is_valid(m, ops):
            official.append(from_spec(m, ops))
    ours = _samples(4000, seed=14)

    def stats(archs):
        raw_edges = np.mean([sum(a[:21]) for a in archs])
        kept = np.mean([len(prune(*to_spec(a))[1]) for a in archs])
        conv3 = np.mean([a[21:].count(0) for a in archs])
        return raw_edges, kept, conv3

    for x, y in zip(stats(official), stats(ours)):
        assert abs(x - y) < 0.12, (stats(official), stats(ours))


def test_mutate_changes_the_cell():
    space = NB101Space()
    assert not space.local_mutation
    rng = np.random.default_rng(15)
    flipped = []
    for arch in _samples(400, seed=15):
        child = space.mutate(arch, rng)
        space.validate(child)
        assert arch_hash(child) != arch_hash(arch)
        flipped.append(sum(x != y for x, y in zip(arch[:21], child[:21])))
    # 21 edges flipped with probability 1/7 each: 3 expected before the validity filter
    assert 2.0 < np.mean(flipped) < 3.6
    for make in (np.random.default_rng, RandomStream):
        archs = _samples(30, seed=16)
        assert [space.mutate(a, make(1)) for a in archs] == [space.mutate(a, make(1)) for a in archs]


def test_mutation_rate_and_local_mutation():
    rng = np.random.default_rng(17)
    archs = _samples(200, seed=17)
    low = NB101Space(mutation_rate=0.3)
    diffs = [sum(x != y for x, y in zip(a, low.mutate(a, rng))) for a in archs]
    assert np.mean(diffs) < 2.0
    local = NB101Space(mutation="neighbor")
    assert local.local_mutation
    for a in archs[:50]:
        child = local.mutate(a, rng)
        assert child in local.neighbors(a)
    for bad in ({"mutation": "swap"}, {"mutation_rate": 0}, {"mutation_rate": 9}, {"mutation_rate": True}):
        with pytest.raises(InvalidConfig):
            NB101Space(**bad)


def test_neighbors():
    space = NB101Space()
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    nbrs = space.neighbors(arch)
    assert nbrs == space.neighbors(arch)
    hashes = [arch_hash(n) for n in nbrs]
    assert len(set(hashes)) == len(hashes) and NNI_HASH not in hashes
    assert 0 < len(nbrs) <= 21 + 10
    for n in nbrs:
        assert sum(x != y for x, y in zip(n, arch)) == 1
    # every op change of the 5 kept vertices is a distinct neighbour here
    op_changes = [n for n in nbrs if n[:21] == arch[:21]]
    assert len(op_changes) == 10
    # the bare input -> output cell has no single-edit neighbour; its mutation still works
    bare = (0,) * 5 + (1,) + (0,) * 20
    assert space.neighbors(bare) == []
    local = NB101Space(mutation="neighbor")
    assert arch_hash(local.mutate(bare, np.random.default_rng(0))) != arch_hash(bare)


# -- strings and encodings ------------------------------------------------------------------
def test_strings_round_trip():
    space = NB101Space()
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    text = space.to_str(arch)
    assert text == (
        "0100110,0010000,0001001,0000010,0000010,0000001,0000000|input,conv3x3-bn-relu,maxpool3x3,"
        "conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"
    )
    assert space.from_str(text) == arch
    for a in _samples(200, seed=18):
        assert space.from_str(space.to_str(a)) == a
    bad = [
        text.replace("0100110,", "1100110,"),  # diagonal
        text.replace("0010000", "1010000"),  # below the diagonal
        text.replace("maxpool3x3", "maxpool5x5"),
        text.replace("input", "output", 1),
        text.split("|")[0],
        text.replace("0000000|", "|"),
        "0000000," * 6 + "0000000|input,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,"
        "conv3x3-bn-relu,output",  # well formed, but no input -> output path
    ]
    for s in bad:
        with pytest.raises(InvalidArchitecture) as info:
            space.from_str(s)
        assert "\n" not in str(info.value)


def test_encodings():
    space = NB101Space()
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    adj = space.encode(arch, "adjacency")
    assert adj.shape == (36,) and adj.dtype == np.float64
    assert adj[:21].tolist() == list(arch[:21])
    assert adj[21:].reshape(5, 3).tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert np.array_equal(space.encode(arch, "onehot"), adj)
    path = space.encode(arch, "path")
    assert path.shape == (PATH_ENCODING_LENGTH,) == (364,)
    # paths 0-5-6 (conv1x1) = 2, 0-4-5-6 (conv3, conv1) = 1 + 3*2 = 7, 0-1-2-6 (conv3, maxpool)
    # = 1 + 3*3 = 10, 0-1-2-3-5-6 (conv3, maxpool, conv3, conv1) = 1 + 9 + 9 + 54 = 73
    assert np.flatnonzero(path).tolist() == [2, 7, 10, 73]
    bare = (0,) * 5 + (1,) + (0,) * 20
    assert np.flatnonzero(space.encode(bare, "path")).tolist() == [0]  # the empty path
    chain = from_spec(np.eye(7, k=1, dtype=np.int8), [INPUT, MP, MP, MP, MP, MP, OUTPUT])
    assert np.flatnonzero(space.encode(chain, "path")).tolist() == [3 * (1 + 3 + 9 + 27 + 81)]  # = 363, the last
    assert space.encode(arch, "categorical").tolist() == list(arch)
    with pytest.raises(ValueError, match="'adjacency', 'onehot', 'path', 'categorical'"):
        space.encode(arch, "zero-cost")
    with pytest.raises(InvalidArchitecture):
        space.encode((0,) * 26, "path")


# -- restricted spaces -------------------------------------------------------------------
def test_restricted_space_with_archs():
    archs = _samples(40, seed=19)
    parent = archs[0]
    cells = archs + NB101Space().neighbors(parent)
    space = NB101Space(archs=cells)
    hashes = {arch_hash(a) for a in cells}
    assert space.restricted and space.hashes == hashes and space.size == len(hashes)
    rng = np.random.default_rng(20)
    drawn = [space.sample(rng) for _ in range(400)]
    assert {arch_hash(a) for a in drawn} == hashes  # uniform over present cells: all show up
    assert [space.sample(np.random.default_rng(3)) for _ in range(3)] == [
        NB101Space(archs=list(reversed(cells))).sample(np.random.default_rng(3)) for _ in range(3)
    ]  # independent of the order the cells are given in
    for _ in range(20):
        child = space.mutate(parent, rng)
        assert arch_hash(child) in hashes and arch_hash(child) != arch_hash(parent)
    assert {arch_hash(n) for n in space.neighbors(parent)} <= hashes
    outside = next(a for a in _samples(50, seed=21) if arch_hash(a) not in hashes)
    with pytest.raises(InvalidArchitecture, match="not one of the .* cells this restricted space"):
        space.validate(outside)
    # ids: ranks of the module hashes; equivalent tuples share the id of their cell
    every = list(space.enumerate())
    assert [space.to_id(a) for a in every] == list(range(space.size))
    assert [arch_hash(a) for a in every] == sorted(hashes)
    twin = from_spec(*prune(*to_spec(parent)))
    assert space.to_id(twin) == space.to_id(parent) and space.from_id(space.to_id(parent)) in (parent, twin)
    with pytest.raises(InvalidArchitecture, match="out of range"):
        space.from_id(space.size)
    copy = pickle.loads(pickle.dumps(space))
    assert copy.hashes == space.hashes and copy.sample(np.random.default_rng(1)) == space.sample(
        np.random.default_rng(1)
    )
    for check in SPACE_CHECKS:
        if check is not check_space_mutate:  # mutations of most sampled cells cannot land in 70 cells
            check(space)


def test_restricted_space_with_hashes_only():
    bare = (0,) * 5 + (1,) + (0,) * 20  # input -> output, the likeliest cell of random_spec
    one = from_spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, C3, OUTPUT])
    hashes = [arch_hash(bare), arch_hash(one)]
    space = NB101Space(hashes=hashes)
    assert space.size == 2
    rng = np.random.default_rng(22)
    assert {arch_hash(space.sample(rng)) for _ in range(10)} == set(hashes)
    with pytest.raises(InvalidConfig, match="not a module hash"):
        NB101Space(hashes=["xyz"])
    with pytest.raises(InvalidConfig, match="not one string"):
        NB101Space(hashes=NNI_HASH)
    with pytest.raises(InvalidConfig, match="has module hash"):
        NB101Space(hashes=[NNI_HASH], archs=[bare])
    with pytest.raises(InvalidConfig, match="empty"):
        NB101Space(hashes=[])


def test_restricted_mutation_gives_up_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(_space, "_MAX_MUTATE_TRIES", 50)
    arch = from_spec(NNI_MATRIX, NNI_OPS)
    space = NB101Space(hashes=[NNI_HASH])
    with pytest.raises(DataError, match="no mutation of .* landed in the 1 cells"):
        space.mutate(arch, np.random.default_rng(0))
    assert space.neighbors(arch) == []


# -- conformance -------------------------------------------------------------------------
@pytest.mark.parametrize("check", SPACE_CHECKS, ids=lambda c: c.__name__)
def test_conformance_local_mutation(check):
    check(NB101Space(mutation="neighbor"))


@pytest.mark.parametrize("check", SPACE_CHECKS, ids=lambda c: c.__name__)
def test_conformance_default(check):
    check(NB101Space())


def test_default_mutation_is_not_a_neighbor_move():
    """The official mutation changes several decisions at once, so the generic check's
    "mutate result in neighbors" clause holds only for spaces with local_mutation; it is
    skipped for the default NB101Space and would fail without that declaration."""
    space = NB101Space()
    assert space.local_mutation is False and NB101Space(mutation="neighbor").local_mutation is True
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(30)]
    outside = sum(space.mutate(a, rng) not in set(space.neighbors(a)) for a in archs)
    assert outside > 0


def test_the_check_still_catches_non_local_mutation_in_spaces_that_claim_local():
    class Claims(NB101Space):
        local_mutation = True

    with pytest.raises(ConformanceError, match="is not one of neighbors"):
        check_space_mutate(Claims())


@pytest.mark.perf
@pytest.mark.parametrize("what", ["arch_hash_new_cell", "arch_hash_repeat", "sample", "mutate", "neighbors"])
def test_perf(benchmark, what):
    """Microseconds per call in ``benchmark.extra_info`` (never asserted; ``make bench``).
    ``arch_hash_new_cell`` clears the memos first: prune + 7 rounds of MD5 hashing."""
    space = NB101Space()
    archs = _samples(2000, seed=30)
    rng = RandomStream(31)
    calls = {
        "arch_hash_new_cell": lambda: (
            [_graph._CACHE.clear(), _graph._ARCH_CACHE.clear()] + [arch_hash(a) for a in archs]
        ),
        "arch_hash_repeat": lambda: [arch_hash(a) for a in archs],
        "sample": lambda: [space.sample(rng) for _ in archs],
        "mutate": lambda: [space.mutate(a, rng) for a in archs],
        "neighbors": lambda: [space.neighbors(a) for a in archs[:200]],
    }
    n = 200 if what == "neighbors" else len(archs)
    [arch_hash(a) for a in archs]  # warm the memos for the "repeat" figures
    times: list[float] = []

    def run():
        t0 = time.perf_counter()
        out = calls[what]()
        times.append(time.perf_counter() - t0)
        return out

    out = benchmark.pedantic(run, rounds=3, iterations=1)
    assert len(out) >= n
    benchmark.extra_info["us_per_call"] = round(min(times) / n * 1e6, 2)


def test_graph_module_exports():
    for name in _graph.__all__:
        assert hasattr(_graph, name), name
    for name in _space.__all__:
        assert hasattr(_space, name), name
