"""The ``nb101`` benchmark with the strategy zoo, the conformance suite and ``benchlab reproduce nb101``,
on a table of 3,000 real cells (sampled with NB101Space, hashed officially) with synthetic metrics."""

from __future__ import annotations

import math

import _fixtures_nb101 as F
import numpy as np
import pytest

import benchlab
import benchlab.testing as bt
from benchlab import RunSpec, run

TABLE = "nb101-zoo"
#: Strategies that cannot run on NB101 yet, and why (reported to the strategies' owner).


@pytest.fixture(scope="module")
def zoo_table(_session_data_dir):
    _, cells = F.write_cells_table(_session_data_dir / "tables", TABLE, n_cells=3000, seed=11)
    return cells


def _zoo() -> list[str]:
    names = []
    for name in benchlab.STRATEGIES.names():
        if name.startswith("_"):
            continue
        try:
            tags = set(benchlab.STRATEGIES.get(name)().tags)
        except Exception:  # an optional dependency is missing
            continue
        if not tags & {"needs_training", "multi_objective"}:
            names.append(name)
    return names


@pytest.mark.parametrize("name", _zoo())
def test_every_strategy_runs_on_nb101(zoo_table, name):
    multi = "multi_fidelity" in benchlab.STRATEGIES.get(name)().tags
    res = run(RunSpec("nb101", name, {"table": TABLE}, seed=3, max_evaluations=40))
    s = res.summary
    assert s["status"] == "ok", s.get("error")
    assert len(res.columns["eval"]) == 40
    fids = set(np.asarray(res.columns["fidelity"], dtype=float).tolist())
    if multi:  # successive halving over the official budgets 4..108 epochs
        assert fids <= {4.0, 12.0, 36.0, 108.0} and len(fids) >= 2, fids
    else:
        assert fids == {108.0}
    assert 0.0 <= s["final"]["regret"] < 1.0


@pytest.mark.parametrize("kwargs", [{}, {"seed_mode": "mean", "cost": "evaluation"}, {"fidelity": 12}], ids=str)
def test_conformance_on_a_fixture_table(zoo_table, kwargs):
    """Every benchmark and space check (``check_space_mutate`` honours the space's
    ``local_mutation = False``: NB101's official mutation may change several decisions)."""
    for check in bt.BENCHMARK_CHECKS + tuple(bt.SPACE_CHECKS):
        check("nb101", table=TABLE, **kwargs)


def test_same_seed_same_trajectory(zoo_table):
    a = run(RunSpec("nb101", "regularized_evolution", {"table": TABLE}, seed=5, max_seconds=2e5))
    b = run(RunSpec("nb101", "regularized_evolution", {"table": TABLE}, seed=5, max_seconds=2e5))
    assert a.columns["arch"] == b.columns["arch"] and list(a.columns["value"]) == list(b.columns["value"])
    seeds = {int(s) for s in np.asarray(a.columns.get("seed", [0]), dtype=float) if not math.isnan(s)}
    assert seeds <= {0, 1, 2}


def test_reproduce_end_to_end(zoo_table, tmp_path):
    from benchlab._protocols import get_protocol

    proto = get_protocol("nb101")
    out = proto.run(runs=2, root=tmp_path, progress=False, table=TABLE, strategies=["random_search", "local_search"],
                    budget=3e4)  # fmt: skip
    text = out["text"]
    assert "regret @ 10000 s" in text and "random_search" in text and "local_search" in text
    assert out["markdown"].is_file() and out["csv"].is_file() and out["plot"].is_file()
    assert {r["strategy"] for r in out["rows"]} == {"random_search", "local_search"}
    assert all(r["runs"] == 2 and 0 <= r["regret_10000s_mean"] < 1 for r in out["rows"])


def test_reproduce_without_the_table_says_how_to_import(tmp_path, monkeypatch):
    from benchlab import DataError
    from benchlab._protocols import get_protocol

    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match="benchlab data import nb101 nasbench_only108.tfrecord"):
        get_protocol("nb101").run(runs=1, root=tmp_path, progress=False)


def test_categorical_strategies_on_a_tiny_partial_table_say_why_they_stop():
    """On a restricted space of few cells, decision-by-decision draws almost never land in
    the table: the run fails with an error naming the partial table and the fix."""
    from benchlab.strategies._valid import give_up

    from benchlab.benchmarks.nb101 import NB101Space

    space = NB101Space()
    cells = [space.sample(np.random.default_rng(i)) for i in range(3)]
    small = NB101Space(archs=cells)
    err = give_up(small, "tpe")
    assert "partial nb101 table" in str(err) and "benchlab data import nb101" in str(err)
    assert "collapsed" in str(give_up(space, "reinforce"))
