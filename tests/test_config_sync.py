"""Experiment files (TOML), --max-failures, and synchronous-batch simulated workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import benchlab
from benchlab import Benchmark, Evaluation, Experiment, InvalidConfig, Objective, RunSpec, Strategy, StrategyConfig, run, run_experiment
from benchlab._config import load_experiment_file
from benchlab.analysis import load_experiment
from benchlab.cli import main
from benchlab.benchmarks.nb201 import NB201Space

# --------------------------------------------------------------------------- helpers


class CostBench(Benchmark):
    """NB201 cells whose cost is ``costs[id]`` (default 1); value = id."""

    name = "cost_toy"

    def __init__(self, costs=None):
        self.space = NB201Space()
        self.objectives = (Objective("acc", "max", "%"),)
        self.fidelity = None
        self.costs = dict(costs or {})

    def evaluate(self, arch, fidelity=None, *, rng=None):
        i = self.space.to_id(arch)
        return Evaluation({"acc": float(i)}, float(self.costs.get(i, 1.0)))

    def report(self, arch):
        return {"acc": float(self.space.to_id(arch))}

    def optimum(self, metric):
        return 15624.0


class FixedList(Strategy):
    """Proposes ``ids`` in order, then None; records the order results are told in."""

    def __init__(self, ids=()):
        self.ids = ids

    def _setup(self):
        self.told = []

    def ask(self):
        if self._n_asked >= len(self.ids):
            return None
        return self._trial(self.space.from_id(self.ids[self._n_asked]))

    def _tell(self, trial, evaluation, score):
        self.told.append(self.space.to_id(trial.arch))


class Raises(Strategy):
    """Fails on its first ask."""

    def ask(self):
        raise RuntimeError("deliberate test failure")


@pytest.fixture(scope="module")
def raising_strategy():
    registry = benchlab.STRATEGIES
    registry.names()  # load built-ins first
    registry.add("_test_raises", Raises)
    yield "_test_raises"
    registry._items.pop("_test_raises", None)


def _toy(ids, costs, **kw):
    strat = FixedList(ids=list(ids))
    spec = RunSpec(benchmark="cost_toy", strategy="fixed", max_evaluations=kw.pop("max_evaluations", 1000), **kw)
    return run(spec, benchmark=CostBench(costs), strategy=strat), strat


STUDY = """\
name = "study"
seed = 3
repeats = 2
[budget]
max_evaluations = 12
[[benchmark]]
name = "analognas"
[[benchmark]]
name = "analognas"
label = "analog"
kwargs = { objective = "analog_accuracy" }
[[strategy]]
name = "random_search"
label = "rs"
[[strategy]]
name = "regularized_evolution"
label = "re"
kwargs = { population_size = 5, sample_size = 2 }
"""


def _write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- sync mode


def test_sync_schedule_by_hand():
    # costs: id0=3, id1=1, id2=2, id3=5, id4=1; 2 workers.
    # batch 1 at t=0: id0 on w0 [0,3], id1 on w1 [0,1]  -> told id1, id0; clock 3
    # batch 2 at t=3: id2 on w0 [3,5], id3 on w1 [3,8]  -> told id2, id3; clock 8
    # batch 3 at t=8: id4 on w0 [8,9], then the strategy is exhausted
    costs = {0: 3, 1: 1, 2: 2, 3: 5, 4: 1}
    result, strat = _toy(range(5), costs, n_workers=2, sync=True)
    cols = result.columns
    assert strat.told == [1, 0, 2, 3, 4]
    assert cols["trial"].tolist() == [1, 0, 2, 3, 4]
    assert cols["worker"].tolist() == [1, 0, 0, 1, 0]
    assert cols["start"].tolist() == [0.0, 0.0, 3.0, 3.0, 8.0]
    assert cols["end"].tolist() == [1.0, 3.0, 5.0, 8.0, 9.0]
    assert cols["cost"].tolist() == [1.0, 3.0, 2.0, 5.0, 1.0]
    assert result.summary["stop_reason"] == "exhausted"
    assert result.summary["simulated_time"] == 9.0
    # asynchronous: id2 starts on w1 at t=1, id3 on w0 at t=3, id4 on w1 at t=3 -> ends at 8
    async_result, _ = _toy(range(5), costs, n_workers=2)
    assert async_result.columns["trial"].tolist() == [1, 0, 2, 4, 3]
    assert async_result.columns["start"].tolist() == [0.0, 0.0, 1.0, 3.0, 3.0]
    assert async_result.summary["simulated_time"] == 8.0


def test_sync_budgets():
    costs = {0: 3, 1: 1, 2: 2, 3: 5, 4: 1}
    # max_seconds 6: id3 would end at 8, so it and everything later are not observed
    result, strat = _toy(range(5), costs, n_workers=2, sync=True, max_seconds=6)
    assert strat.told == [1, 0, 2] and result.summary["stop_reason"] == "max_seconds"
    # max_evaluations 3: the second batch holds one trial only
    result, strat = _toy(range(5), costs, n_workers=2, sync=True, max_evaluations=3)
    assert strat.told == [1, 0, 2] and result.columns["end"].tolist() == [1.0, 3.0, 5.0]
    assert result.summary["stop_reason"] == "max_evaluations"


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_sync_never_faster_than_async(workers):
    rng = np.random.default_rng(workers)
    ids = list(range(60))
    costs = {i: float(c) for i, c in zip(ids, rng.uniform(0.5, 10.0, size=len(ids)))}
    s, _ = _toy(ids, costs, n_workers=workers, sync=True)
    a, _ = _toy(ids, costs, n_workers=workers)
    assert s.summary["n_evaluations"] == a.summary["n_evaluations"] == 60
    assert s.summary["simulated_time"] >= a.summary["simulated_time"]
    assert s.summary["simulated_time"] > a.summary["simulated_time"]  # random costs: batches wait for stragglers
    # sync: every batch starts when the previous one has ended
    starts = sorted(set(s.columns["start"].tolist()))
    for prev, nxt in zip(starts, starts[1:]):
        batch_end = max(e for st, e in zip(s.columns["start"], s.columns["end"]) if st == prev)
        assert nxt == batch_end


def test_sync_spec_keeps_async_run_ids():
    plain = RunSpec(benchmark="analognas", strategy="random_search", max_evaluations=5)
    off = RunSpec(benchmark="analognas", strategy="random_search", max_evaluations=5, sync=False)
    on = RunSpec(benchmark="analognas", strategy="random_search", max_evaluations=5, sync=True)
    assert "sync" not in off.to_dict() and off.run_id == plain.run_id
    assert on.to_dict()["sync"] is True and on.run_id != plain.run_id
    assert RunSpec.from_dict(on.to_dict()) == on
    with pytest.raises(InvalidConfig, match="sync"):
        RunSpec(benchmark="analognas", strategy="random_search", max_evaluations=5, sync="yes")


def test_sync_experiment_conflicts_with_async_folder(tmp_path):
    base = dict(name="e", benchmark="analognas", strategies=(StrategyConfig("random_search"),), repeats=1,
                max_evaluations=6, n_workers=2, root=tmp_path)
    run_experiment(Experiment(**base), progress=False)
    with pytest.raises(benchlab.ResultsConflict, match="sync"):
        run_experiment(Experiment(**base, sync=True), progress=False)
    run_experiment(Experiment(**{**base, "name": "s"}, sync=True), progress=False)
    spec = json.loads((tmp_path / "s" / "analognas" / "random_search" / "seed-0" / "spec.json").read_text())
    assert spec["sync"] is True


# --------------------------------------------------------------------------- experiment files


def test_study_file_runs_into_benchmark_folders(tmp_path, capsys):
    path = _write(tmp_path, STUDY)
    exps = load_experiment_file(path, root=tmp_path / "results")
    assert [e.bench_folder for e in exps] == ["analognas", "analog"]
    assert all(e.name == "study" and e.seed == 3 and e.repeats == 2 and e.max_evaluations == 12 for e in exps)
    assert main(["run", str(path), "--root", str(tmp_path / "results"), "-q", "--no-report"]) == 0
    base = tmp_path / "results" / "study"
    found = {str(p.parent.relative_to(base)) for p in base.glob("*/*/*/summary.json")}
    assert found == {f"{b}/{s}/seed-{k}" for b in ("analognas", "analog") for s in ("rs", "re") for k in range(2)}
    assert not (base / "experiment.json").exists()
    objectives = set()
    for bench in ("analognas", "analog"):
        data = load_experiment(base / bench)
        assert list(data.strategies) == ["rs", "re"]
        assert all(len(s.runs) == 2 and not s.failed and not s.incomplete for s in data.strategies.values())
        objectives.add(data.objective)
        assert main(["report", str(base / bench)]) == 0
        assert (base / bench / "summary.md").is_file() and (base / bench / "summary.csv").is_file()
    assert len(objectives) == 2  # the two benchmarks really differ
    capsys.readouterr()
    # resume: everything is skipped; the top folder names its benchmarks for `report`
    assert main(["run", str(path), "--root", str(tmp_path / "results"), "-q", "--no-report"]) == 0
    assert capsys.readouterr().out.count("0 runs done, 4 already finished, 0 failed") == 2
    with pytest.raises(benchlab.DataError, match="analog"):
        load_experiment(base)


def test_study_file_and_cli_experiment_do_not_share_a_folder(tmp_path, capsys):
    root = tmp_path / "results"
    assert main(["run", "-b", "analognas", "-s", "random_search", "-n", "1", "--max-evals", "5", "--name", "study",
                 "--root", str(root), "-q", "--no-report"]) == 0
    assert main(["run", str(_write(tmp_path, STUDY)), "--root", str(root), "-q", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "single-benchmark experiment" in err and len(err.strip().splitlines()) == 1


BAD_FILES = [
    ('name = "x"\nrepeat = 2\n[budget]\nmax_evaluations = 5\n', "'repeat'"),
    ('name = "x"\n[budget]\nmax_evals = 5\n', "'budget.max_evals'"),
    ('name = "x"\nrepeats = "3"\n[budget]\nmax_evaluations = 5\n', "'repeats'"),
    ('name = "x"\n[budget]\nmax_evaluations = 5.5\n', "'budget.max_evaluations'"),
    ('name = "x"\n[budget]\nsync = "yes"\nmax_evaluations = 5\n', "'budget.sync'"),
    ('name = "x"\n', "[budget]"),
    ('name = "x"\n[budget]\nn_workers = 2\n', "budget.max_seconds"),
    ('[budget]\nmax_evaluations = 5\n', "'name'"),
    ('name = "x"\n[budget]\nmax_evaluations = 5\n[[benchmark]]\nname = "analognas"\nkwarg = {}\n', "'benchmark[0].kwarg'"),
    ('name = "x"\n[budget]\nmax_evaluations = 5\n[[benchmark]]\nlabel = "a"\n', "'benchmark[0].name'"),
    ('name = "x"\n[budget]\nmax_evaluations = 5\n[[benchmark]]\nname = "analognas"\n', "[[strategy]]"),
    ('name = "x"\n[budget]\nmax_evaluations = 5\n[[benchmark]]\nname = "analognas"\n[[strategy]]\nname = "nope"\n', "nope"),
    ('name = "x"\n[budget\n', "not valid TOML"),
]


@pytest.mark.parametrize("text,needle", BAD_FILES)
def test_bad_files_name_the_key_and_the_file(tmp_path, text, needle):
    full = text
    if "[[benchmark]]" not in text and "[budget\n" not in text and "max_" in text:
        full = text + '[[benchmark]]\nname = "analognas"\n[[strategy]]\nname = "random_search"\n'
    path = _write(tmp_path, full, "bad.toml")
    with pytest.raises(InvalidConfig) as info:
        load_experiment_file(path)
    msg = str(info.value)
    assert needle in msg and str(path) in msg and "\n" not in msg


def test_cli_file_with_flags_or_bad_file_is_one_line_error(tmp_path, capsys):
    path = _write(tmp_path, STUDY)
    assert main(["run", str(path), "--seeds", "3", "--max-evals", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--seeds" in err and "--max-evals" in err and str(path) in err
    bad = _write(tmp_path, 'name = "x"\n[budget]\nmax_evals = 5\n', "bad.toml")
    assert main(["run", str(bad), "--root", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "budget.max_evals" in err and str(bad) in err
    assert not (tmp_path / "r").exists()


def test_cli_sync_flag(tmp_path, capsys):
    root = tmp_path / "results"
    assert main(["run", "-s", "random_search", "-n", "1", "--max-evals", "6", "--workers", "2", "--sync",
                 "--name", "s", "--root", str(root), "-q", "--no-report"]) == 0
    spec = json.loads((root / "s" / "analognas" / "random_search" / "seed-0" / "spec.json").read_text())
    assert spec["sync"] is True and spec["n_workers"] == 2
    assert json.loads((root / "s" / "experiment.json").read_text())["sync"] is True


# --------------------------------------------------------------------------- --max-failures


def test_max_failures_stops_scheduling(tmp_path, capsys, raising_strategy):
    text = STUDY.replace('name = "random_search"\nlabel = "rs"', f'name = "{raising_strategy}"\nlabel = "bad"')
    text = text.replace("repeats = 2", "repeats = 3")
    path = _write(tmp_path, text)
    root = tmp_path / "results"
    assert main(["run", str(path), "--root", str(root), "-q", "--no-report", "--max-failures", "2"]) == 1
    out = capsys.readouterr().out
    # strategy-major order: bad/seed-0 and bad/seed-1 fail, then nothing else starts
    summaries = sorted(str(p.parent.relative_to(root / "study")) for p in (root / "study").glob("*/*/*/summary.json"))
    assert summaries == ["analognas/bad/seed-0", "analognas/bad/seed-1"]
    assert "4 not run (--max-failures)" in out and "not started: analog" in out
    assert "2 failed runs" in out and out.count("deliberate test failure") == 2
    # unlimited (the default): every run goes, the 6 failures are listed, exit status 1
    assert main(["run", str(path), "--root", str(root), "-q", "--no-report"]) == 1
    out = capsys.readouterr().out
    assert "6 failed runs" in out and out.count("deliberate test failure") == 6
    assert len(list((root / "study").glob("*/*/*/summary.json"))) == 12


def test_max_failures_api(tmp_path, raising_strategy):
    exp = Experiment(name="e", benchmark="analognas", repeats=2, max_evaluations=5, root=tmp_path,
                     strategies=(StrategyConfig(raising_strategy), StrategyConfig("random_search")))
    assert run_experiment(exp, progress=False, max_failures=1) == {"skipped": 0, "done": 0, "failed": 1, "not_run": 3}
    assert run_experiment(exp, progress=False, max_failures=5) == {"skipped": 0, "done": 2, "failed": 2, "not_run": 0}
    with pytest.raises(InvalidConfig, match="max_failures"):
        run_experiment(exp, progress=False, max_failures=0)


def test_max_failures_process_pool_starts_no_further_run(tmp_path):
    # sample_size > population_size fails inside the run (recorded), in the spawned workers too
    bad = StrategyConfig("regularized_evolution", {"population_size": 4, "sample_size": 9}, "bad")
    exp = Experiment(name="p", benchmark="analognas", repeats=3, max_evaluations=5, root=tmp_path,
                     strategies=(bad, StrategyConfig("random_search")))
    counts = run_experiment(exp, executor="process", jobs=2, progress=False, max_failures=2)
    assert counts["failed"] == 2 and counts["done"] == 0
    # the third failing run may already be in a worker when the second failure arrives, and
    # may write its summary before the pool is terminated: 3 or 4 runs are left unrun
    assert counts["not_run"] in (3, 4), counts
    # at most `jobs` runs are in the pool at once: the good strategy never started
    assert not list((tmp_path / "p" / "analognas" / "random_search").glob("seed-*/summary.json"))
