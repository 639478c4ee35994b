"""Anytime ranks, Friedman test, Nemenyi CD and the HTML report (hand-made matrices and a
tiny real analognas experiment: 3 strategies x 4 seeds x 50 evaluations)."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

import benchlab as bl
from benchlab import analysis as an
from benchlab.analysis._load import ExperimentData, RunData, StrategyData
from benchlab.cli import main

STRATEGIES = ("random_search", "regularized_evolution", "local_search")
RAISES = "_test_raises_ranks"


class _RaisesAfterThree(bl.Strategy):
    """Random proposals, then an error on the fourth ask (a failing run)."""

    def ask(self):
        if self._n_asked >= 3:
            raise RuntimeError("kaboom: deliberate failure in test_ranks_stats")
        return self._trial(self.space.sample(self.rng))


if RAISES not in bl.STRATEGIES.names():
    bl.register_strategy(RAISES)(_RaisesAfterThree)


def _run(root, strategies=STRATEGIES, repeats=4, evals=50, name="tiny"):
    exp = bl.Experiment(
        name=name,
        benchmark="analognas",
        strategies=tuple(bl.StrategyConfig(s) for s in strategies),
        repeats=repeats,
        max_evaluations=evals,
        root=root,
    )
    bl.run_experiment(exp, progress=False)
    return exp.folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("results"))


def _final_regrets(folder: Path) -> dict[str, dict[int, float]]:
    """Independent reading of summary.json: {label: {repeat: final regret}}."""
    out = {}
    for label in STRATEGIES:
        out[label] = {}
        for d in (folder / "analognas" / label).glob("seed-*"):
            s = json.loads((d / "summary.json").read_text())
            out[label][int(d.name.split("-")[1])] = float(s["final"]["regret"])
    return out


def _synthetic(matrix, labels) -> ExperimentData:
    """An ExperimentData whose run (repeat k, strategy j) has final regret matrix[k][j]."""
    strategies = {}
    for j, label in enumerate(labels):
        runs = [RunData(label, k, Path("."), {"final": {"regret": float(row[j])}}) for k, row in enumerate(matrix)]
        strategies[label] = StrategyData(label, label, {}, runs=runs)
    return ExperimentData(Path("."), {"name": "synthetic"}, strategies, {}, "acc", "max", "acc", 1.0)


# 3 strategies x 4 seeds, regrets (rows = seeds) and their ranks worked out by hand:
#   [0.1, 0.2, 0.3] -> [1, 2, 3];  [0.5, 0.1, 0.1] -> [3, 1.5, 1.5]
#   [0.0, 0.4, 0.2] -> [1, 3, 2];  [0.3, 0.3, 0.3] -> [2, 2, 2]
HAND = [[0.1, 0.2, 0.3], [0.5, 0.1, 0.1], [0.0, 0.4, 0.2], [0.3, 0.3, 0.3]]
HAND_RANKS = [[1, 2, 3], [3, 1.5, 1.5], [1, 3, 2], [2, 2, 2]]


def test_rank_matrix_by_hand():
    np.testing.assert_array_equal(an._ranks.rank_matrix(HAND), HAND_RANKS)
    # averages over seeds: A 7/4, B 8.5/4, C 8.5/4
    np.testing.assert_allclose(an._ranks.rank_matrix(HAND).mean(axis=0), [1.75, 2.125, 2.125])
    # no result yet (NaN) ranks last, tied with the other NaN of its block
    np.testing.assert_array_equal(an._ranks.rank_matrix([[np.nan, 0.1, np.nan]]), [[2.5, 1, 2.5]])


def test_friedman_average_ranks_by_hand_and_statistic_equals_scipy():
    res = an.friedman(_synthetic(HAND, ["A", "B", "C"]))
    assert res["average_ranks"] == {"A": 1.75, "B": 2.125, "C": 2.125}
    assert list(res["average_ranks"]) == ["A", "B", "C"]  # best first
    ref = sps.friedmanchisquare(*np.asarray(HAND).T)
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert (res["n_blocks"], res["k"]) == (4, 3)
    assert res["cd"] == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 4)))


def test_friedman_two_strategies_is_the_sign_statistic():
    # k = 2 without ties: chi2 = (wins_A - wins_B)^2 / N; A wins 4 of 5 blocks -> 9/5
    m = [[0.1, 0.2], [0.1, 0.3], [0.0, 0.5], [0.2, 0.4], [0.9, 0.1]]
    res = an.friedman(_synthetic(m, ["A", "B"]))
    assert res["statistic"] == pytest.approx(1.8)
    assert res["p_value"] == pytest.approx(sps.chi2.sf(1.8, 1))
    assert res["average_ranks"] == {"A": 1.2, "B": 1.8}


def test_critical_difference_k3_n10_and_table():
    assert an.critical_difference(3, 10) == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 10)))
    assert an.critical_difference(3, 10) == pytest.approx(1.04782, abs=1e-5)
    # Demšar's Table 5a agrees with the studentized range quantile / sqrt(2)
    for k, q in an.NEMENYI_Q05.items():
        assert q == pytest.approx(sps.studentized_range.ppf(0.95, k, np.inf) / math.sqrt(2), abs=1.5e-3)
    assert an.nemenyi_q(11) > an.nemenyi_q(10)  # beyond the table: computed, still increasing
    with pytest.raises(bl.DataError):
        an.critical_difference(1, 10)


def test_cd_cliques():
    ranks = {"a": 1.0, "b": 1.5, "c": 2.9, "d": 3.0}
    assert an.cd_cliques(ranks, 1.0) == [["a", "b"], ["c", "d"]]
    assert an.cd_cliques(ranks, 2.0) == [["a", "b", "c"], ["b", "c", "d"]]
    assert an.cd_cliques(ranks, 0.05) == []


def test_friedman_on_real_experiment_matches_scipy(folder):
    data = an.load_experiment(folder)
    res = an.friedman(data)
    regrets = _final_regrets(folder)
    cols = [[regrets[label][k] for k in range(4)] for label in STRATEGIES]
    ref = sps.friedmanchisquare(*cols)
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert res["n_blocks"] == 4 and res["blocks"] == [0, 1, 2, 3]
    hand = sps.rankdata(np.array(cols).T, axis=1).mean(axis=0)
    assert res["average_ranks"] == pytest.approx(dict(zip(STRATEGIES, hand)))


def test_rank_curves_end_at_the_friedman_ranks(folder):
    data = an.load_experiment(folder)
    rc = an.rank_curves(data)
    assert rc.grid[0] == 1 and rc.grid[-1] == 50
    total = sum(rc.ranks.values())
    np.testing.assert_allclose(total, 6.0)  # ranks of 3 strategies always sum to 1 + 2 + 3
    res = an.friedman(data)
    for label in STRATEGIES:
        assert rc[label][-1] == pytest.approx(res["average_ranks"][label])
    # every grid point: recompute from the regret curves, pairing repeat k
    cv = an.curves(data, "eval", "regret")
    i = 17
    by_seed = np.array([[cv[label][k, i] for label in STRATEGIES] for k in range(4)])
    expected = sps.rankdata(by_seed, axis=1).mean(axis=0)
    assert [rc[label][i] for label in STRATEGIES] == pytest.approx(list(expected))
    # time axis works too (analognas: one cost unit per evaluation)
    assert an.rank_curves(data, "time", points=20).grid.size == 20


def test_blocks_are_repeats_completed_by_every_strategy(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "analognas" / "random_search" / "seed-1" / "summary.json").unlink()  # now incomplete
    data = an.load_experiment(copy)
    res = an.friedman(data)
    assert res["blocks"] == [0, 2, 3] and res["n_blocks"] == 3
    regrets = _final_regrets(folder)
    hand = sps.rankdata([[regrets[label][k] for label in STRATEGIES] for k in (0, 2, 3)], axis=1).mean(axis=0)
    assert res["average_ranks"] == pytest.approx(dict(zip(STRATEGIES, hand)))
    assert an.rank_curves(data).blocks == (0, 2, 3)


def test_html_report_is_self_contained(folder, tmp_path):
    out = tmp_path / "out"
    result = an.report(folder, out=out, formats=("csv", "md", "png", "html"))
    page = result["html"].read_text()
    assert result["html"] == out / "report.html"
    assert "data:image/png;base64," in page
    srcs = re.findall(r"""src\s*=\s*["']?([^"'\s>]*)""", page, flags=re.IGNORECASE)
    assert len(srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in srcs)  # regret, ranks, cd
    assert not re.search(r"""(href|url)\s*[=(]\s*["']?(https?:|//)""", page, flags=re.IGNORECASE)
    # embedded images are the PNG files written beside the page
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in srcs}
    assert embedded == {(out / n).read_bytes() for n in ("regret.png", "ranks.png", "cd.png")}
    assert all(b.startswith(b"\x89PNG\r\n\x1a\n") for b in embedded)
    # setup text, table rows and the Friedman result are on the page
    stats = result["friedman"]
    assert "analognas" in page and "50 evaluations" in page and "test" in page
    assert all(label in page for label in STRATEGIES)
    assert f"p = {stats['p_value']:.3g}" in page and f"{stats['cd']:.4g}" in page
    # report.md links PNGs that exist
    md = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert sorted(links) == ["cd.png", "ranks.png", "regret.png"]
    assert all((out / link).is_file() for link in links)


def test_html_report_lists_failed_runs_and_cli_flag(tmp_path):
    folder = _run(tmp_path / "results", ("random_search", "regularized_evolution", RAISES), repeats=2, evals=20, name="fails")
    out = tmp_path / "out"
    assert main(["report", str(folder), "--out", str(out), "--html"]) == 0
    page = (out / "report.html").read_text()
    assert "Failed runs (2)" in page and "kaboom: deliberate failure in test_ranks_stats" in page
    assert f"{RAISES}/seed-1" in page
    assert f"Left out (no completed run): {RAISES}" in page  # the failing strategy is not ranked
    assert (out / "cd.png").is_file() and (out / "ranks.png").is_file()
    # without --html no page is written
    out2 = tmp_path / "out2"
    assert main(["report", str(folder), "--out", str(out2)]) == 0
    assert not (out2 / "report.html").exists() and (out2 / "summary.md").is_file()


def test_too_few_blocks_is_a_clear_error(tmp_path):
    folder = _run(tmp_path / "results", ("random_search", "local_search"), repeats=1, evals=10, name="one")
    data = an.load_experiment(folder)
    with pytest.raises(bl.DataError, match="at least 2 repeats"):
        an.friedman(data)
    result = an.report(folder, out=tmp_path / "out", formats=("html",))
    assert result["friedman"] is None
    assert "Friedman test not available: the Friedman test needs at least 2 repeats" in result["html"].read_text()
