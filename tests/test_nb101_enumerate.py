"""The enumerated NB101 space (benchmarks/nb101/_enumerate.py, _cells.py), the 20k table of
real cells (_vis20k.py, _params.py), restricted sampling of factorised policies
(strategies/_valid.py) and the subset protocol (``reproduce nb101`` on nb101-20k).

Reference values: 423,624 cells (Ying et al. 2019, and the docstring of the official
``generate_graphs.py``); ``00005c142e6f48ac74fdcf73e3439874`` and its spec (the NNI
benchmark example, see tests/test_nb101_space.py); 8,555,530 parameters for that cell
(its ``trainable_parameters`` in nasbench-vis's data-20k.json, first record).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from benchlab import RandomStream, RunSpec, run
from benchlab.benchmarks.nb101 import NB101, NB101Space, brute_force_cells, enumerate_cells, load_cells, param_count
from benchlab.benchmarks.nb101._cells import KNOWN_CELL, SPACE_NAME, build_space, pack_specs, spec_of
from benchlab.benchmarks.nb101._enumerate import full_dag_masks, official_matrix
from benchlab.benchmarks.nb101._graph import archs_from_columns, from_spec, module_hash
from benchlab.benchmarks.nb101._import import decode_spec
from benchlab.strategies._valid import RestrictedSampler, restricted_sampler
from benchlab.ext import open_table

KNOWN_HASH = KNOWN_CELL[0]
NNI_MATRIX = [list(r) for r in KNOWN_CELL[2]]
NNI_OPS = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"]


# -- the enumeration -------------------------------------------------------------------
@pytest.mark.parametrize("max_vertices", [2, 3, 4, 5])
def test_fast_enumeration_equals_the_official_loop(max_vertices):
    fast, plain = enumerate_cells(max_vertices), brute_force_cells(max_vertices)
    assert len(fast["hash"]) == len(plain["hash"]) > 0
    for key in plain:  # same cells, same canonical specs, same (generator) order
        assert np.array_equal(fast[key], plain[key]), key


def test_fast_enumeration_respects_the_edge_limit():
    fast, plain = enumerate_cells(5, max_edges=5), brute_force_cells(5, max_edges=5)
    assert all(np.array_equal(fast[k], plain[k]) for k in plain)
    assert fast["n_edges"].max() == 5 and len(fast["hash"]) < len(enumerate_cells(5)["hash"])


def test_full_dag_masks_are_the_official_definition():
    for n in (3, 4, 5):
        want = []
        for bits in range(2 ** (n * (n - 1) // 2)):
            m = official_matrix(bits, n)
            full = all(m[v].any() for v in range(n - 1)) and all(m[:, v].any() for v in range(1, n))
            if full and m.sum() <= 9:
                want.append(bits)
        assert full_dag_masks(n).tolist() == want


def test_every_enumerated_small_cell_hashes_to_its_key_and_is_a_valid_pruned_spec():
    cells = enumerate_cells(5)
    for i in range(len(cells["hash"])):
        m, ops = spec_of(cells, i)
        assert module_hash(m, ops) == bytes(cells["hash"][i]).ljust(16, b"\0").hex()
        # nothing to prune: every vertex has an in-edge (but the input) and an out-edge (but the output)
        assert all(m[v].any() for v in range(len(m) - 1)) and all(m[:, v].any() for v in range(1, len(m)))


def test_isomorphic_relabellings_are_one_cell():
    # relabelling the interior vertices of a 5-vertex cell never gives a new cell
    cells = enumerate_cells(5)
    keys = {bytes(h).ljust(16, b"\0").hex() for h in cells["hash"]}
    m, ops = spec_of(cells, len(cells["hash"]) - 1)
    for perm in itertools.permutations(range(1, 4)):
        p = (0, *perm, 4)
        pm = np.zeros_like(m)
        for i, j in zip(*np.nonzero(m)):
            pm[p[i], p[j]] = 1
        po = [ops[p.index(v)] for v in range(5)]
        assert module_hash(pm, po) in keys


# -- the committed enumeration and the nb101-space table -------------------------------
def test_committed_enumeration_has_every_cell_and_the_known_one():
    cells = load_cells()  # checks: count, distinct, limits, known cell, 2,000 rehashed rows
    assert len(cells["hash8"]) == len(np.unique(cells["hash8"])) == 423_624
    row = int(np.nonzero(cells["hash8"] == np.array(bytes.fromhex(KNOWN_HASH)[:8], dtype="S8"))[0][0])
    m, ops = spec_of(cells, row)
    assert m.tolist() == NNI_MATRIX and ops == NNI_OPS
    assert cells["n_vertices"].min() == 2 and cells["n_vertices"].max() == 7 and cells["n_edges"].max() == 9
    # the smallest cells come first (generator order): input -> output, then the 3-vertex chains
    assert spec_of(cells, 0)[1] == ["input", "output"]


def test_committed_enumeration_is_checked(tmp_path):
    from benchlab import DataError
    from benchlab.benchmarks.nb101._cells import save_cells

    cells = load_cells(check=False)
    bad = {k: v.copy() for k, v in cells.items()}
    bad["hash8"][0], bad["hash8"][-1] = cells["hash8"][-1], cells["hash8"][0]  # rows 0 and -1 are among the checked
    path = save_cells(bad, tmp_path / "cells.npz")
    with pytest.raises(DataError, match="does not hash to the stored key"):
        load_cells(path)
    short = save_cells({k: v[:-1] for k, v in cells.items()}, tmp_path / "short.npz")
    with pytest.raises(DataError, match="423623 cells"):
        load_cells(short)


def test_pack_specs_round_trip():
    cells = load_cells(check=False)
    sl = slice(0, 423_624, 97)
    packed = pack_specs(cells["n_vertices"][sl], cells["adjacency"][sl], cells["ops"][sl])
    from benchlab.benchmarks.nb101._cells import _unpack_specs

    back = _unpack_specs(packed)
    for k in ("n_vertices", "adjacency", "ops"):
        assert np.array_equal(back[k], cells[k][sl])


def test_space_table_build(tmp_path):
    folder = build_space(None, root=tmp_path)
    t = open_table(SPACE_NAME, tmp_path)
    hashes = t.column("hash8")
    assert t.n_rows == 423_624 and t.meta["complete"] and np.all(hashes[:-1] < hashes[1:])
    i = int(np.searchsorted(hashes, np.array(bytes.fromhex(KNOWN_HASH)[:8], dtype="S8")))
    m, ops = decode_spec(int(t.column("n_vertices")[i]), int(t.column("adjacency")[i]), t.column("ops")[i])
    assert m.tolist() == NNI_MATRIX and ops == NNI_OPS and int(t.column("n_edges")[i]) == 9
    assert int(t.column("gen_index")[i]) >= 0 and folder.is_dir()
    # a full key is looked up exactly: the prefix match is confirmed by the recomputed full hash
    from benchlab import InvalidArchitecture
    from benchlab.benchmarks.nb101 import find_cell

    m, ops = find_cell(KNOWN_HASH, t)
    assert m.tolist() == NNI_MATRIX and ops == NNI_OPS
    forged = KNOWN_HASH[:16] + "0" * 16  # the same 8-byte prefix, another hash
    with pytest.raises(InvalidArchitecture, match="not the module hash"):
        find_cell(forged, t)


@pytest.mark.slow
def test_full_enumeration_equals_the_committed_file():
    from benchlab.benchmarks.nb101._cells import _prefix

    fresh = enumerate_cells()
    stored = load_cells()
    assert len(fresh["hash"]) == len(np.unique(fresh["hash"])) == 423_624
    fresh["hash8"] = _prefix(fresh.pop("hash"))  # the file keeps the first 8 bytes (distinct, as checked)
    for key in stored:
        assert np.array_equal(fresh[key], stored[key]), key


def test_archs_from_columns_is_from_spec():
    cells = load_cells(check=False)
    rows = np.arange(0, 423_624, 211)
    archs = archs_from_columns(cells["n_vertices"][rows], cells["adjacency"][rows], cells["ops"][rows])
    assert archs == [from_spec(*spec_of(cells, int(r))) for r in rows]


# -- parameter count ---------------------------------------------------------------------
def test_param_count_known_cells():
    assert param_count(NNI_MATRIX, NNI_OPS) == 8_555_530
    # input -> output only: the stem, one 1x1 conv-BN projection per cell (128 -> 128 x3, 128 -> 256,
    # 256 -> 256 x2, 256 -> 512, 512 -> 512 x2) and the dense layer
    stem = 3 * 3 * 3 * 128 + 2 * 128
    cells = sum(a * b + 2 * b for a, b in [(128, 128)] * 3 + [(128, 256)] + [(256, 256)] * 2 + [(256, 512)] + [(512, 512)] * 2)
    assert param_count([[0, 1], [0, 0]], ["input", "output"]) == stem + cells + 512 * 10 + 10


def test_param_count_equals_the_torch_network():
    torch = pytest.importorskip("torch")
    try:
        from benchlab.nn._nb101_net import NB101Network
    except ImportError:
        pytest.skip("benchlab.nn (the torch networks) is not available")
    cells = load_cells(check=False)
    rng = np.random.default_rng(3)
    rows = [0, 1, 5] + rng.integers(0, 423_624, 6).tolist()
    for r in rows:
        m, ops = spec_of(cells, int(r))
        with torch.device("meta"):
            net = NB101Network(m.tolist(), ops, stem_channels=16)
        assert sum(p.numel() for p in net.parameters()) == param_count(m, ops, stem_channels=16), r


# -- nb101-20k -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vis20k(built_tables, shared_data):
    return NB101(table="nb101-20k")


def test_vis20k_every_key_found_and_every_param_count_matches(vis20k, shared_data):
    raw = json.loads((shared_data / "nb101" / "nasbench-vis_data-20k.json").read_text())
    t = vis20k._table
    assert t.n_rows == 20_001 == len(raw["key"])
    hexes = [bytes(h).ljust(16, b"\0").hex() for h in t.column("hash").tolist()]
    assert hexes == sorted(raw["key"])  # every key found, rows in hash order
    by_key = dict(zip(raw["key"], raw["trainable_parameters"]))
    cols = {k: t.column(k) for k in ("n_vertices", "adjacency", "ops")}
    mismatches = [h for i, h in enumerate(hexes) if param_count(*spec_of(cols, i)) != by_key[h]]
    assert mismatches == []
    assert t.column("params").tolist() == [by_key[h] for h in hexes]
    assert hexes[0] == KNOWN_HASH and spec_of(cols, 0)[0].tolist() == NNI_MATRIX


def test_vis20k_columns_and_approximated_costs(vis20k, shared_data):
    raw = json.loads((shared_data / "nb101" / "nasbench-vis_data-20k.json").read_text())
    t = vis20k._table
    i = raw["key"].index(KNOWN_HASH)
    row = 0
    for e in (4, 12, 36, 108):
        assert t.column(f"cifar10/valid_acc@{e}")[row] == raw[f"{e}_final_validation_accuracy"][i]
        assert t.column(f"cifar10/train_time@{e}")[row] == pytest.approx(raw["final_training_time"][i] * e / 108)
    assert "APPROXIMATED" in t.meta["columns"]["cifar10/train_time@12"]["description"]
    assert any("APPROXIMATED" in n for n in t.meta["notes"]) and t.meta["splits"] == ["valid"]


def test_vis20k_benchmark(vis20k):
    b = vis20k
    assert b.space.size == 20_001 and b.space.restricted
    assert b.fidelity.values == (4, 12, 36, 108) and b.report_metric == "valid_acc" and b.cost_unit == "s"
    assert "valid" in b.visible_split and "no test split" in b.report_split
    assert b.optimum("valid_acc") == float(b._table.column("cifar10/valid_acc@108").max())
    rng = np.random.default_rng(0)
    arch = b.space.from_id(0)
    assert b.space.cell_hash(arch) == KNOWN_HASH
    e12, e108 = b.evaluate(arch, 12, rng=rng), b.evaluate(arch, 108, rng=rng)
    assert e12.cost == pytest.approx(e108.cost * 12 / 108) and e12.fidelity == 12
    rep = b.report(arch)
    assert rep["valid_acc"] == e108.metrics["valid_acc"] and rep["params"] == 8_555_530
    stream = RandomStream(np.random.default_rng(1))
    for _ in range(50):  # sampling and mutation stay in the 20,001 cells
        a = b.space.sample(stream)
        child = b.space.mutate(a, stream)
        assert b.space.cell_hash(child) in b.space.hashes and b.space.cell_hash(child) != b.space.cell_hash(a)


@pytest.mark.parametrize("name", ["reinforce", "bohb", "regularized_evolution"])
def test_strategies_stay_in_the_20k_cells(vis20k, name):
    r = run(RunSpec("nb101", name, {"table": "nb101-20k"}, seed=2, max_seconds=3e4))
    assert r.summary["status"] == "ok" and len(r.columns["value"]) > 5
    assert all(math.isfinite(v) for v in r.columns["value"])


# -- restricted sampling of a factorised policy ----------------------------------------
def test_restricted_sampler_draws_the_conditioned_policy():
    radix = [2, 3, 2]
    rows = np.array([[0, 0, 0], [1, 2, 1], [1, 0, 1], [0, 1, 1]])
    probs = [np.array([0.3, 0.7]), np.array([0.5, 0.2, 0.3]), np.array([0.9, 0.1])]
    p = np.array([math.prod(probs[d][r[d]] for d in range(3)) for r in rows])
    want = p / p.sum()
    s = RestrictedSampler(rows, radix)
    us = (np.arange(20_000) + 0.5) / 20_000
    counts = np.bincount([s.draw_index(probs, u) for u in us], minlength=len(rows)) / len(us)
    assert np.allclose(counts, want, atol=1e-3)
    assert s.draw(probs, 0.0) == (0, 0, 0)


def test_restricted_sampler_groups_many_decisions():
    rng = np.random.default_rng(0)
    radix = [2] * 21 + [3] * 5
    rows = np.stack([rng.integers(0, r, 300) for r in radix], axis=1)
    probs = [rng.dirichlet(np.ones(r)) for r in radix]
    s = RestrictedSampler(rows, radix)
    logp = np.array([sum(math.log(probs[d][v]) for d, v in enumerate(r)) for r in rows])
    w = np.exp(logp - logp.max())
    cdf = np.cumsum(w) / w.sum()
    for u in (0.01, 0.3, 0.77, 0.999):
        assert s.draw_index(probs, u) == int(np.searchsorted(cdf, u, side="right"))


def test_restricted_sampler_only_for_spaces_that_list_their_cells():
    assert restricted_sampler(NB101Space(), [2] * 21 + [3] * 5) is None
    cells = load_cells(check=False)
    archs = archs_from_columns(cells["n_vertices"][:50], cells["adjacency"][:50], cells["ops"][:50])
    space = NB101Space(archs=archs)
    s = restricted_sampler(space, [2] * 21 + [3] * 5)
    assert len(s) == 50 and {space.cell_hash(tuple(r)) for r in s.rows.tolist()} == set(space.hashes)


# -- reproduce nb101 on the subset -------------------------------------------------------
def test_reproduce_on_the_20k_cells(vis20k, tmp_path):
    from benchlab.ext import PROTOCOLS

    out = PROTOCOLS.get("nb101").run(runs=2, root=tmp_path, progress=False, table="nb101-20k",
                                     strategies=["random_search", "regularized_evolution", "reinforce", "hyperband"],
                                     budget=1e5)  # fmt: skip
    text = out["text"]
    assert "VALIDATION accuracy" in text and "No test split" in text and "APPROXIMATED" in text
    assert "regret @ 100000 s" in text and "REINFORCE close to RS" in text and "Hyperband/BOHB strong early" in text
    assert out["markdown"].is_file() and out["csv"].is_file() and out["plot"].is_file()
    assert {r["strategy"] for r in out["rows"]} == {"random_search", "regularized_evolution", "reinforce", "hyperband"}
    assert all(0 <= r["regret_100000s_mean"] < 1 for r in out["rows"])
