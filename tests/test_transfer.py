"""Cross-task transfer: explicit sources, the no-test-split check, the strategies, the protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import benchlab
import benchlab.testing as bt
from benchlab import DataError, InvalidConfig, RunSpec, make_benchmark, make_strategy, run
from benchlab.ext import folder_fingerprint, load_transfer_prior, read_summary, resolve_source
from benchlab.strategies import ZeroShotRanking


@pytest.fixture(autouse=True)
def _tables(built_tables):
    if built_tables is None:
        pytest.skip("needs ../shared/data (the nb201 and tnb101 tables)")


def _source_folder(root: Path, dataset: str = "cifar10-valid", runs: int = 2, evals: int = 25) -> Path:
    """A results folder of random-search runs on nb201 ``dataset``."""
    from benchlab import Experiment, StrategyConfig, run_experiment

    exp = Experiment(name="c10-study", benchmark="nb201", benchmark_kwargs={"dataset": dataset},
                     strategies=(StrategyConfig("random_search"),), repeats=runs, max_evaluations=evals, root=root)
    run_experiment(exp, progress=False)
    return exp.folder


def _c10_top(k: int) -> list:
    """The k best architectures by cifar10-valid 200-epoch validation accuracy, computed here from the table."""
    bench = make_benchmark("nb201", {"dataset": "cifar10-valid"})
    archs = list(bench.space.enumerate())
    vals = np.array([e.metrics["valid_acc"] for e in bench.evaluate_many(archs)])
    order = np.argsort(-vals, kind="stable")  # ties: enumeration order
    return [archs[i] for i in order[:k].tolist()]


# -- explicit, recorded sources ---------------------------------------------------------------
def test_source_is_in_the_spec_hash_and_the_summary():
    base = dict(benchmark="nb201", benchmark_kwargs={"dataset": "cifar100"}, strategy="rea_warm", max_evaluations=12)
    ids = {RunSpec(**base).run_id, RunSpec(**base, strategy_kwargs={"source": "cifar10-valid"}).run_id,
           RunSpec(**base, strategy_kwargs={"source": "ImageNet16-120"}).run_id,
           RunSpec(**base, strategy_kwargs={"transfer_from": "results/x"}).run_id}
    assert len(ids) == 4
    res = run(RunSpec(**base, strategy_kwargs={"source": "cifar10-valid"}))
    assert res.summary["spec"]["strategy_kwargs"] == {"source": "cifar10-valid"}
    info = res.summary["strategy_stats"]["transfer"]
    (src,) = info["sources"]
    assert src["benchmark"] == "nb201" and src["benchmark_kwargs"] == {"dataset": "cifar10-valid"}
    assert src["metric"] == "valid_acc" and src["fidelity"] == 200 and len(src["table_fingerprint"]) == 16
    assert info["fingerprint"] and info["ranked_archs"] == 15625
    assert make_strategy("rea_warm").stats() == {}  # not set up: nothing to record
    scratch = run(RunSpec(**base))
    assert scratch.summary["strategy_stats"] == {"transfer": None}


def test_bare_task_names_resolve_within_the_family():
    nb201 = make_benchmark("nb201", {"dataset": "cifar100"}).space
    assert resolve_source("cifar10-valid", nb201) == ("nb201", {"dataset": "cifar10-valid"})
    assert resolve_source("nb201:dataset=ImageNet16-120", nb201) == ("nb201", {"dataset": "ImageNet16-120"})
    micro = make_benchmark("tnb101-micro").space
    macro = make_benchmark("tnb101-macro").space
    assert resolve_source("jigsaw", micro) == ("tnb101-micro", {"task": "jigsaw"})
    assert resolve_source("jigsaw", macro) == ("tnb101-macro", {"task": "jigsaw"})


@pytest.mark.parametrize("kwargs, error, match", [
    ({"source": "cifar1000"}, InvalidConfig, "no registered table benchmark on the nb201 space offers"),
    ({"source": "jigsaw"}, InvalidConfig, "no registered table benchmark on the nb201 space"),
    ({"source": "tnb101-micro:task=jigsaw"}, InvalidConfig, "searches the tnb101-micro space, not the target's nb201"),
    ({"source": "nosuch:dataset=x"}, InvalidConfig, "no benchmark 'nosuch' is registered"),
    ({"source": "nb201:dataset=cifar10"}, InvalidConfig, "no validation split"),
    ({"source": 7}, InvalidConfig, "must be a task name"),
    ({"source": ["cifar10-valid", "cifar10-valid"]}, InvalidConfig, "named twice"),
    ({"transfer_from": "/no/such/folder"}, DataError, "no such folder"),
    ({"transfer_from": ""}, InvalidConfig, "must be the path of a benchlab results folder"),
])
def test_bad_source_is_a_one_line_error(kwargs, error, match):
    space = make_benchmark("nb201", {"dataset": "cifar100"}).space
    with pytest.raises(error, match=match) as info:
        load_transfer_prior(space, **kwargs)
    assert "\n" not in str(info.value)
    res = run(RunSpec("nb201", "rea_warm", {"dataset": "cifar100"}, kwargs, max_evaluations=5))
    assert res.summary["status"] == "error" and res.summary["error"]["type"] == error.__name__
    assert "\n" not in res.summary["error"]["message"]


def test_results_folder_source(tmp_path):
    space = make_benchmark("nb201", {"dataset": "cifar100"}).space
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DataError, match="is not a folder"):
        load_transfer_prior(space, transfer_from=str(tmp_path / "f.txt"))
    with pytest.raises(DataError, match="holds no completed run on the nb201 space"):
        load_transfer_prior(space, transfer_from=str(tmp_path))
    folder = _source_folder(tmp_path)
    prior = load_transfer_prior(space, transfer_from=str(folder))
    told: dict = {}
    for summary_path in sorted(folder.rglob("summary.json")):
        trials = benchlab.read_trials(summary_path.parent)
        for a, v in zip(trials["arch"], trials["value"]):
            told[space.from_str(a)] = v
    (src,) = prior.sources
    assert set(prior.ranking) == set(told) == set(src.archs)
    assert prior.ranking[0] == max(told, key=told.get)  # best visible value first
    assert prior.identity["sources"][0]["runs_used"] == 2
    first = folder_fingerprint(folder)["fingerprint"]
    assert first == prior.identity["sources"][0]["fingerprint"]
    # a changed source is visible: the fingerprint follows the files' content
    summary_path = sorted(folder.rglob("summary.json"))[0]
    data = json.loads(summary_path.read_text())
    data["wall_time_s"] = 123.0
    summary_path.write_text(json.dumps(data))
    assert folder_fingerprint(folder)["fingerprint"] != first
    res = run(RunSpec("nb201", "zero_shot", {"dataset": "cifar100"}, {"transfer_from": str(folder)}, max_evaluations=60))
    assert res.summary["strategy_stats"]["transfer"]["sources"][0]["fingerprint"] == folder_fingerprint(folder)["fingerprint"]
    archs = [space.from_str(a) for a in res.columns["arch"]]
    n = len(prior.ranking)
    assert archs[:n] == list(prior.ranking) and len(set(archs)) == 60  # the ranking, then unproposed random ones


# -- the strategies --------------------------------------------------------------------------
def test_warm_start_uses_the_best_source_architectures():
    top = _c10_top(10)
    spec = dict(benchmark="nb201", benchmark_kwargs={"dataset": "cifar100"}, max_evaluations=20)
    rea = run(RunSpec(strategy="rea_warm", strategy_kwargs={"source": "cifar10-valid"}, **spec))
    space = make_benchmark("nb201", {"dataset": "cifar100"}).space
    assert [space.from_str(a) for a in rea.columns["arch"][:10]] == top
    part = run(RunSpec(strategy="rea_warm", strategy_kwargs={"source": "cifar10-valid", "num_warm": 3}, **spec))
    assert [space.from_str(a) for a in part.columns["arch"][:3]] == top[:3]
    assert not set(space.from_str(a) for a in part.columns["arch"][3:10]) >= set(top[3:10])
    ls = run(RunSpec(strategy="ls_warm", strategy_kwargs={"source": "cifar10-valid"}, **spec))
    assert [space.from_str(a) for a in ls.columns["arch"][:10]] == top
    rgpe = run(RunSpec(strategy="rgpe", strategy_kwargs={"source": "cifar10-valid", "num_samples": 16,
                                                         "num_source_points": 20}, **dict(spec, max_evaluations=4)))
    assert space.from_str(rgpe.columns["arch"][0]) == top[0]
    assert rgpe.summary["status"] == "ok" and len(rgpe.summary["strategy_stats"]["final_weights"]) == 2


def test_zero_shot_evaluates_the_source_ranking_in_order():
    top = _c10_top(40)
    res = run(RunSpec("nb201", "zero_shot", {"dataset": "ImageNet16-120"}, {"source": "cifar10-valid"}, max_evaluations=40))
    space = make_benchmark("nb201").space
    assert [space.from_str(a) for a in res.columns["arch"]] == top
    # several sources: the mean normalised rank over the sources decides
    prior = load_transfer_prior(space, source=["cifar10-valid", "cifar100"])
    rank = {}
    for src in prior.sources:
        order = np.argsort(np.argsort(src.scores, kind="stable"), kind="stable") / (len(src) - 1)
        for a, r in zip(src.archs, order):
            rank.setdefault(a, []).append(r)
    means = {a: float(np.mean(v)) for a, v in rank.items()}
    assert means[prior.ranking[0]] == pytest.approx(max(means.values()), abs=1e-3)
    assert np.all(np.diff(prior.rank_scores) <= 0)


# -- the conformance extension ----------------------------------------------------------------
def _transfer_names() -> list[str]:
    tags = {n: getattr(benchlab.STRATEGIES.get(n), "tags", frozenset()) for n in benchlab.STRATEGIES.names()}
    return [n for n, t in tags.items() if isinstance(t, (set, frozenset)) and "transfer" in t]


def test_every_transfer_strategy_is_registered_and_checked():
    assert {"rea_warm", "ls_warm", "zero_shot", "rgpe"} <= set(_transfer_names())


#: cheaper settings of the model-based strategy for the default suite (its defaults run with -m slow)
_CHEAP = {"rgpe": {"num_source_points": 12, "num_samples": 16, "num_candidates": 40}}


@pytest.mark.parametrize("name", _transfer_names())
def test_transfer_strategies_never_read_a_test_split(name):
    bt.check_transfer_no_test_access(name, **_CHEAP.get(name, {}))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_CHEAP))
def test_transfer_check_with_default_settings(name):
    bt.check_transfer_no_test_access(name)


class ReadsSourceReport(ZeroShotRanking):
    """Cheats: ranks the source task by its test accuracy (``report``)."""

    def _setup(self):
        super()._setup()
        if self.source is not None:
            name, kwargs = resolve_source(self.source, self.space)
            src = make_benchmark(name, kwargs)
            best = max(self._ranking[:50], key=lambda a: src.report(a)[src.report_metric])
            self._ranking = (best,) + tuple(self._ranking)


class ReadsTestColumn(ZeroShotRanking):
    """Cheats: reads a test column of the source's table directly."""

    def _setup(self):
        super()._setup()
        if self.source is not None:
            name, kwargs = resolve_source(self.source, self.space)
            table = make_benchmark(name, kwargs)._table
            cols = [c for c in table.columns if "test" in c and table.columns[c].axes[1:] == ()]
            if cols:
                values = np.asarray(table.column(cols[0]), dtype=np.float64)
                self._ranking = (self.space.from_id(int(np.nanargmax(values))),) + tuple(self._ranking)


class ReadsSourceSummaries(ZeroShotRanking):
    """Cheats: starts from the source runs' final incumbent with the best *test* accuracy."""

    def _setup(self):
        super()._setup()
        if self.transfer_from is not None:
            finals = [read_summary(p.parent) for p in sorted(Path(self.transfer_from).rglob("summary.json"))]
            best = max(finals, key=lambda s: s["final"]["test"])
            self._ranking = (self.space.from_str(best["final"]["incumbent"]),) + tuple(self._ranking)


@pytest.mark.parametrize("cheat, match", [
    (ReadsSourceReport, r"called .*report\(.* inside its setup/ask/tell"),
    (ReadsSourceSummaries, "are negated .*: the strategy read the source's test split"),
], ids=lambda x: getattr(x, "__name__", ""))
def test_check_catches_cheating_strategies(cheat, match):
    with pytest.raises(AssertionError, match=match):
        bt.check_transfer_no_test_access(cheat)


def test_check_catches_direct_test_column_reads():
    with pytest.raises(AssertionError, match="read the test-split column"):
        bt.check_transfer_no_test_access(ReadsTestColumn)


def test_check_applies_to_transfer_strategies_only(monkeypatch):
    with pytest.raises(Exception, match="not tagged transfer"):
        bt.check_transfer_no_test_access("random_search")
    monkeypatch.setattr(bt._strategy_checks, "STRATEGY_CHECKS", ())  # check_strategy adds the transfer checks
    assert bt.check_strategy("zero_shot") == {"check_transfer_no_test_access": "passed"}
    assert bt.check_strategy("random_search") == {}


# -- the protocol ------------------------------------------------------------------------------
def test_protocol_on_a_tiny_setting(tmp_path, monkeypatch):
    from benchlab.benchmarks.transfer import _protocol, reproduce

    monkeypatch.setattr(_protocol, "_BOOT", 200)  # fewer bootstrap resamples: the numbers are not checked here

    res = reproduce(runs=2, root=tmp_path, progress=False, settings=["nb201-cifar100-from-cifar10-valid"],
                    methods=["REA", "zero-shot"], model_runs=0)  # fmt: skip
    folder = tmp_path / "transfer"
    for name in ("transfer.md", "transfer.csv", "transfer.png"):
        assert (folder / name).stat().st_size > 0
    assert (folder / "transfer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r["method"] for r in res["rows"]] == ["REA", "zero-shot"]
    text = (folder / "transfer.md").read_text()
    assert "Acceptance (NB201 cifar100 with cifar10-valid as source, REA)" in text and "speed-up" in text
    header = (folder / "transfer.csv").read_text().splitlines()[0].split(",")
    assert {"setting", "method", "ratio", "ratio_ci_low", "ratio_ci_high", "negative_transfer"} <= set(header)
    rea = res["rows"][0]
    assert 0 < rea["ratio"] <= 1 and rea["ratio_ci_low"] <= rea["ratio"] <= rea["ratio_ci_high"]
    assert benchlab.ext.PROTOCOLS.get("transfer").default_runs == 50
    with pytest.raises(InvalidConfig, match="unknown settings"):
        reproduce(runs=1, root=tmp_path, progress=False, settings=["nope"])


def test_speedup_statistics():
    from benchlab.benchmarks.transfer._protocol import evals_to_reach, speedup

    regret = np.array([[3.0, 2.0, 1.0, 1.0], [3.0, 3.0, 3.0, 0.5]])
    assert evals_to_reach(regret, 1.0).tolist() == [3.0, 4.0]
    assert evals_to_reach(regret, 0.1).tolist() == [np.inf, np.inf]
    scratch = np.tile([4.0, 3.0, 2.0, 1.0], (5, 1))
    transfer = np.tile([1.0, 0.5, 0.5, 0.5], (5, 1))
    sp = speedup(scratch, transfer, np.random.default_rng(0), budget=4)
    assert sp["level"] == 1.0 and sp["ratio"] == 0.25 and sp["never"] == 0
