"""benchlab.analysis against experiments built on the fly (analognas, milliseconds)."""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import benchlab as bl
from benchlab import analysis as an

RAISES = "_test_raises_analysis"
N_EVALS = 50
REPEATS = 3


class _RaisesAfterFive(bl.Strategy):
    """Random proposals, then an error on the sixth ask (a failing run)."""

    def ask(self):
        if self._n_asked >= 5:
            raise RuntimeError("boom: deliberate failure in the analysis tests")
        return self._trial(self.space.sample(self.rng))


if RAISES not in bl.STRATEGIES.names():
    bl.register_strategy(RAISES)(_RaisesAfterFive)


def _make(root, name="tiny", strategies=("random_search", "regularized_evolution", RAISES), **kw):
    exp = bl.Experiment(
        name=name,
        benchmark="analognas",
        strategies=tuple(bl.StrategyConfig(s) for s in strategies),
        repeats=REPEATS,
        root=root,
        **({"max_evaluations": N_EVALS} | kw),
    )
    bl.run_experiment(exp, progress=False)
    return exp.folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _make(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def parallel_folder(tmp_path_factory):
    """Three workers: several results share a finish time (ties on the time axis)."""
    return _make(tmp_path_factory.mktemp("results"), "par", ("random_search", "regularized_evolution"), n_workers=3)


def _run_dirs(folder, label):
    return sorted((folder / "analognas" / label).glob("seed-*"), key=lambda p: int(p.name.split("-")[1]))


def _expected_step(trials: pd.DataFrame, xcol: str, x: float, metric: str) -> float:
    """Independent reference: the metric in the last row told at or before ``x``."""
    rows = trials[trials[xcol] <= x]
    return math.nan if rows.empty else float(rows[metric].iloc[-1])


def test_public_names_exist():
    for name in an.__all__:
        assert hasattr(an, name), name


def test_import_does_not_load_matplotlib_or_pandas():
    code = "import sys, benchlab.analysis; print('matplotlib' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_load_counts_completed_failed_and_errors(folder):
    data = an.load_experiment(folder)
    assert list(data.strategies) == ["random_search", "regularized_evolution", RAISES]
    for label in ("random_search", "regularized_evolution"):
        s = data.strategies[label]
        assert [r.repeat for r in s.runs] == [0, 1, 2]
        assert not s.failed and not s.incomplete
    bad = data.strategies[RAISES]
    assert bad.runs == [] and len(bad.failed) == REPEATS
    assert all("boom" in f.message and f.error_type == "RuntimeError" for f in bad.failed)
    assert all(f.n_evaluations == 5 for f in bad.failed)
    assert data.objective == "baseline_accuracy" and data.direction == "max"
    assert data.optimum == json.loads((_run_dirs(folder, "random_search")[0] / "summary.json").read_text())["optimum"]


def test_incomplete_runs_are_counted(folder, tmp_path):
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    runs = _run_dirs(copy, "random_search")
    (runs[0] / "summary.json").unlink()  # started, never finished
    shutil.rmtree(runs[2])  # never started
    data = an.load_experiment(copy)
    s = data.strategies["random_search"]
    assert [r.repeat for r in s.runs] == [1]
    assert sorted(p.name for p in s.incomplete) == ["seed-0", "seed-2"]
    row = an.summary_table(data).set_index("strategy").loc["random_search"]
    assert (row.runs, row.failed, row.incomplete) == (1, 0, 2)


@pytest.mark.parametrize("label", ["random_search", "regularized_evolution"])
@pytest.mark.parametrize("metric", ["regret", "incumbent_test"])
def test_eval_curves_match_trials_files(folder, label, metric):
    data = an.load_experiment(folder)
    cv = an.curves(data, "eval", metric)
    np.testing.assert_array_equal(cv.grid, np.arange(1, N_EVALS + 1))
    m = cv[label]
    assert m.shape == (REPEATS, N_EVALS)
    for i, run_dir in enumerate(_run_dirs(folder, label)):
        trials = pd.read_parquet(run_dir / "trials.parquet")
        for x in (1, 2, 7, 25, N_EVALS):
            assert m[i, x - 1] == _expected_step(trials, "eval", x, metric)
    if metric == "regret":  # regret curves never increase and never go below 0
        assert np.all(np.diff(m, axis=1) <= 0) and np.all(m >= 0)


def test_time_curves_match_trials_files_with_ties(parallel_folder):
    data = an.load_experiment(parallel_folder)
    cv = an.curves(data, "time", "regret", points=50)
    grid = cv.grid
    assert grid.size == 50 and np.all(np.diff(grid) > 0)
    ends = [pd.read_parquet(d / "trials.parquet")["end"] for d in _run_dirs(parallel_folder, "random_search")]
    assert grid[0] == min(e[e > 0].iloc[0] for e in ends) and grid[-1] == max(e.iloc[-1] for e in ends)
    # chosen points: before the first result, exactly on a finish time shared by 3 workers,
    # between finish times, and after the runs end (value held)
    points = np.array([0.5, 1.0, 2.5, 7.0, 1e6])
    custom = an.curves(data, "time", "regret", grid=points)
    for label in data.strategies:
        for i, run_dir in enumerate(_run_dirs(parallel_folder, label)):
            trials = pd.read_parquet(run_dir / "trials.parquet")
            assert (trials["end"] == 1.0).sum() == 3  # the tie this test is about
            for j, t in enumerate(points):
                exp = _expected_step(trials, "end", t, "regret")
                got = custom[label][i, j]
                assert (math.isnan(exp) and math.isnan(got)) or got == exp
            for j in (0, 17, 49):
                assert cv[label][i, j] == _expected_step(trials, "end", grid[j], "regret")


def _hand_matrix():
    nan = np.nan
    return np.array(
        [
            [1.0, 2.0, nan, nan, 4.0],
            [3.0, nan, 5.0, nan, 8.0],
            [5.0, 6.0, nan, nan, 1.0],
            [7.5, 6.0, nan, nan, 2.0],
        ]
    )


def test_aggregate_mean_se_against_numpy():
    m = _hand_matrix()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        center, low, high = an.aggregate(m, "mean_se")
    for j in range(m.shape[1]):
        col = m[:, j][~np.isnan(m[:, j])]
        if col.size == 0:
            assert np.isnan(center[j]) and np.isnan(low[j]) and np.isnan(high[j])
            continue
        assert center[j] == pytest.approx(col.mean())
        if col.size == 1:  # a standard error needs two runs
            assert np.isnan(low[j]) and np.isnan(high[j])
        else:
            se = np.std(col, ddof=1) / math.sqrt(col.size)
            assert low[j] == pytest.approx(col.mean() - se) and high[j] == pytest.approx(col.mean() + se)
    assert center[0] == pytest.approx(4.125) and high[0] - center[0] == pytest.approx(np.std([1, 3, 5, 7.5], ddof=1) / 2)


def test_aggregate_median_iqr_against_numpy():
    m = _hand_matrix()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        center, low, high = an.aggregate(m, "median_iqr")
    for j in range(m.shape[1]):
        col = m[:, j][~np.isnan(m[:, j])]
        if col.size == 0:
            assert np.isnan(center[j])
            continue
        assert center[j] == pytest.approx(np.median(col))
        assert (low[j], high[j]) == pytest.approx(tuple(np.percentile(col, [25, 75])))
    assert (low[4], center[4], high[4]) == pytest.approx((1.75, 3.0, 5.0))


def test_aggregate_rejects_bad_input():
    with pytest.raises(bl.InvalidConfig, match="median_iqr"):
        an.aggregate(_hand_matrix(), "mean_std")
    with pytest.raises(bl.InvalidConfig, match="shape"):
        an.aggregate(np.zeros(3))
    c, lo, hi = an.aggregate(np.zeros((0, 4)))
    assert c.shape == (4,) and np.all(np.isnan(c))


def test_summary_table_equals_summary_json_finals(folder):
    df = an.summary_table(an.load_experiment(folder))
    assert list(df["strategy"])[-1] == RAISES  # no completed run: sorted last
    means = df["regret_mean"].iloc[:2].to_numpy()
    assert means[0] <= means[1]
    for label in ("random_search", "regularized_evolution"):
        finals = [json.loads((d / "summary.json").read_text())["final"] for d in _run_dirs(folder, label)]
        regret = np.array([f["regret"] for f in finals])
        test = np.array([f["test"] for f in finals])
        row = df.set_index("strategy").loc[label]
        assert (row.runs, row.failed, row.incomplete, row.n_evaluations) == (REPEATS, 0, 0, N_EVALS)
        assert row.regret_mean == pytest.approx(regret.mean())
        assert row.regret_std == pytest.approx(np.std(regret, ddof=1))
        assert row.regret_se == pytest.approx(np.std(regret, ddof=1) / math.sqrt(REPEATS))
        assert row.regret_median == pytest.approx(np.median(regret))
        assert row.test_mean == pytest.approx(test.mean())
        assert row.test_std == pytest.approx(np.std(test, ddof=1))
        assert row.test_se == pytest.approx(np.std(test, ddof=1) / math.sqrt(REPEATS))
        # the table's last curve point is the summary's final regret, run by run
        m = an.curves(an.load_experiment(folder), "eval", "regret")[label]
        np.testing.assert_array_equal(m[:, -1], regret)
    row = df.set_index("strategy").loc[RAISES]
    assert (row.runs, row.failed, row.incomplete) == (0, REPEATS, 0) and math.isnan(row.regret_mean)


def test_write_tables_markdown_states_splits_and_csv_round_trips(folder, tmp_path):
    df = an.summary_table(an.load_experiment(folder))
    paths = an.write_tables(df, tmp_path, formats=("csv", "md", "tex"))
    assert set(paths) == {"csv", "md", "tex"}
    back = pd.read_csv(paths["csv"])
    assert list(back["strategy"]) == list(df["strategy"])
    np.testing.assert_allclose(back["regret_mean"], df["regret_mean"], rtol=1e-9)
    md = paths["md"].read_text()
    assert "no validation split" in md  # analognas: strategies see test accuracy
    assert "strategies see the **test" in md and "reported on the **test** split" in md
    assert "same split" in md
    assert f"budget {N_EVALS} evaluations per run" in md and "cost unit: evaluation" in md
    assert "`analognas`" in md and "`baseline_accuracy`" in md
    rs = df.set_index("strategy").loc["random_search"]
    line = next(ln for ln in md.splitlines() if ln.startswith("| random_search"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    mean, std = (float(v) for v in cells[1].split(" ± "))
    half_ulp = 0.5 * 10.0 ** -len(cells[1].split(" ± ")[0].split(".")[1])
    assert abs(mean - rs.regret_mean) <= half_ulp and abs(std - rs.regret_std) <= half_ulp
    assert abs(float(cells[2]) - rs.regret_se) <= half_ulp and cells[7] == str(REPEATS)
    assert f"Failed runs ({REPEATS})" in md and "boom" in md
    assert r"\pm" in paths["tex"].read_text()
    with pytest.raises(bl.InvalidConfig, match="xlsx"):
        an.write_tables(df, tmp_path, formats=("xlsx",))


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_report_writes_tables_and_valid_png(folder, tmp_path):
    out = tmp_path / "out"
    res = an.report(folder, out, x=("eval", "time"), stat="median_iqr", formats=("csv", "md", "png"))
    assert set(res["paths"]) == {"csv", "md", "regret.png", "regret_time.png"}
    for p in res["paths"].values():
        assert p.parent == out and p.stat().st_size > 0
    w, h = _png_size(res["paths"]["regret.png"])
    assert w > 800 and h > 400  # two panels at dpi 120
    assert res["table"].equals(an.summary_table(res["data"]))
    assert res["markdown_text"] == res["paths"]["md"].read_text() == an.format_markdown(res["table"])
    assert (res["csv"], res["markdown"], res["plot"]) == (out / "summary.csv", out / "summary.md", out / "regret.png")


def test_report_defaults_into_experiment_folder(folder):
    res = an.report(folder)
    assert set(res["paths"]) == {"csv", "md", "regret.png"}
    assert all(p.parent == folder for p in res["paths"].values())
    assert _png_size(folder / "regret.png")[0] > 0


def test_plot_single_panel_and_log_y(folder, tmp_path):
    data = an.load_experiment(folder)
    p = an.plot(data, tmp_path / "acc.png", x="time", metric="incumbent_test", logy=True)
    w, h = _png_size(p)
    p2 = an.plot(data, tmp_path / "reg.png")
    assert _png_size(p2)[0] > w  # the regret plot adds a second panel


@pytest.mark.parametrize(
    "kw, match",
    [({"x": "wall"}, "x axis 'wall'"), ({"metric": "loss"}, "metric 'loss'"), ({"formats": ("gif",)}, "gif")],
)
def test_report_rejects_bad_options(folder, tmp_path, kw, match):
    with pytest.raises(bl.InvalidConfig, match=match):
        an.report(folder, tmp_path, **kw)


def test_not_an_experiment_errors(folder, tmp_path):
    with pytest.raises(bl.DataError, match="does not exist"):
        an.load_experiment(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(bl.DataError, match=r"has no experiment\.json.*benchlab run"):
        an.load_experiment(tmp_path / "empty")
    with pytest.raises(bl.DataError, match="holds the experiments tiny"):
        an.load_experiment(folder.parent)  # the results root
    run_dir = _run_dirs(folder, "random_search")[0]
    with pytest.raises(bl.DataError, match="inside the experiment"):
        an.load_experiment(run_dir)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "experiment.json").write_text("{not json")
    with pytest.raises(bl.DataError, match="corrupt"):
        an.report(bad)


def test_damaged_trials_file_is_a_data_error(folder, tmp_path):
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    (_run_dirs(copy, "random_search")[1] / "trials.parquet").write_bytes(b"garbage")
    data = an.load_experiment(copy)  # summaries only: still fine
    assert len(an.summary_table(data)) == 3
    with pytest.raises(bl.DataError, match="trials.parquet"):
        an.curves(data)


def test_threaded_preload_reads_the_same_columns(folder):
    from benchlab.analysis._load import preload

    seq, par = an.load_experiment(folder), an.load_experiment(folder)
    runs_seq = [r for s in seq.strategies.values() for r in s.runs]
    runs_par = [r for s in par.strategies.values() for r in s.runs]
    preload(runs_par, threads=3, min_parallel=1)
    assert all(r._columns is not None for r in runs_par)
    for a, b in zip(runs_seq, runs_par):
        assert a.folder == b.folder
        for name, col in a.columns().items():
            np.testing.assert_array_equal(col, b.columns()[name])


def test_report_of_an_experiment_where_every_run_failed(tmp_path):
    folder = _make(tmp_path, "allfail", (RAISES,))
    res = an.report(folder)
    row = res["table"].iloc[0]
    assert (row.runs, row.failed) == (0, REPEATS) and math.isnan(row.regret_mean)
    assert "Failed runs (3)" in res["markdown_text"] and "no validation split" in res["markdown_text"]
    assert _png_size(res["plot"])[0] > 0
