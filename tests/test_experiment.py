"""Experiments: folder layout, resume, executors, crash safety and conflicts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import benchlab
from benchlab import Experiment, InvalidConfig, ResultsConflict, StrategyConfig, read_summary, read_trials, run_experiment

ROOT = Path(__file__).resolve().parents[1]

# Test-only strategies, defined as source so a subprocess can define the very same classes.
# They are registered by the ``test_strategies`` fixture and removed afterwards, so they
# never leak into other test modules (the conformance suite iterates over the registry).
STRATEGY_SRC = textwrap.dedent(
    """
    import os, time
    from benchlab import Strategy

    class SleepyRandom(Strategy):
        '''Random search that sleeps $BENCHLAB_TEST_SLEEP seconds per ask (0 by default).'''

        def ask(self):
            delay = float(os.environ.get("BENCHLAB_TEST_SLEEP", "0"))
            if delay:
                time.sleep(delay)
            return self._trial(self.space.sample(self.rng))

    class Exploding(Strategy):
        '''Random search that raises on ask number ``fail_at``.'''

        def __init__(self, fail_at=3):
            self.fail_at = fail_at

        def ask(self):
            if self._n_asked == self.fail_at:
                raise RuntimeError("exploding strategy")
            return self._trial(self.space.sample(self.rng))
    """
)
TEST_STRATEGIES = {"test_sleepy": "SleepyRandom", "test_exploding": "Exploding"}


def _define() -> dict:
    namespace: dict = {}
    exec(compile(STRATEGY_SRC, "<test strategies>", "exec"), namespace)
    return {name: namespace[cls] for name, cls in TEST_STRATEGIES.items()}


@pytest.fixture(scope="module")
def test_strategies():
    registry = benchlab.STRATEGIES
    registry.names()  # load built-ins and entry points first
    classes = _define()
    for name, cls in classes.items():
        registry.add(name, cls)
    yield classes
    for name in classes:
        registry._items.pop(name, None)


def _exp(tmp_path, **kw) -> Experiment:
    base = dict(
        name="exp",
        benchmark="analognas",
        strategies=(StrategyConfig("random_search"), StrategyConfig("regularized_evolution", label="re")),
        repeats=3,
        seed=5,
        max_evaluations=40,
        root=tmp_path / "results",
    )
    base.update(kw)
    return Experiment(**base)


def _run_dirs(exp: Experiment) -> list[Path]:
    return [d for _, d, _ in exp.specs()]


def _trials_bytes(exp: Experiment) -> dict[str, bytes]:
    return {str(d.relative_to(exp.folder)): (d / "trials.parquet").read_bytes() for d in _run_dirs(exp)}


# --------------------------------------------------------------------------- layout and resume


def test_folder_layout_and_resume(tmp_path):
    exp = _exp(tmp_path)
    seen = []
    counts = run_experiment(exp, progress=False, on_result=seen.append)
    assert counts == {"skipped": 0, "done": 6, "failed": 0}
    assert len(seen) == 6 and all(s["status"] == "ok" for s in seen)
    base = tmp_path / "results" / "exp"
    assert (base / "experiment.json").is_file()
    expected = {f"analognas/{s}/seed-{k}" for s in ("random_search", "re") for k in range(3)}
    found = {str(p.parent.relative_to(base)) for p in base.glob("*/*/*/summary.json")}
    assert found == expected
    for spec, run_dir, label in exp.specs():
        assert sorted(p.name for p in run_dir.iterdir()) == ["spec.json", "summary.json", "trials.parquet"]
        assert json.loads((run_dir / "spec.json").read_text()) == spec.to_dict()
        summary = read_summary(run_dir)
        assert summary["status"] == "ok"
        assert summary["run_id"] == spec.run_id
        assert len(read_trials(run_dir)) == 40
    meta = json.loads((base / "experiment.json").read_text())
    assert [s["label"] for s in meta["strategies"]] == ["random_search", "re"]
    assert meta["repeats"] == 3
    # repeats of one strategy differ, and the run seed depends on the repeat
    b = _trials_bytes(exp)
    assert len(set(b.values())) == 6

    mtimes = {d: (d / "trials.parquet").stat().st_mtime_ns for d in _run_dirs(exp)}
    assert run_experiment(exp, progress=False) == {"skipped": 6, "done": 0, "failed": 0}
    assert {d: (d / "trials.parquet").stat().st_mtime_ns for d in _run_dirs(exp)} == mtimes

    # more repeats later: only the new ones run, and the old files stay as they are
    more = _exp(tmp_path, repeats=4)
    assert run_experiment(more, progress=False) == {"skipped": 6, "done": 2, "failed": 0}
    assert json.loads((base / "experiment.json").read_text())["repeats"] == 4
    assert {k: v for k, v in _trials_bytes(more).items() if k in b} == b


def test_result_files_respect_the_umask(tmp_path):
    # results folders are shared between collaborators: files are created like any other
    # file (0o666 & ~umask), not with the 0o600 of a private temp file
    old = os.umask(0o022)
    try:
        exp = _exp(tmp_path, repeats=1, strategies=(StrategyConfig("random_search"),))
        run_experiment(exp, progress=False)
    finally:
        os.umask(old)
    (run_dir,) = _run_dirs(exp)
    files = [run_dir / n for n in ("spec.json", "trials.parquet", "summary.json")] + [exp.folder / "experiment.json"]
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files}
    assert modes == {f.name: oct(0o644) for f in files}


def test_deleted_summary_is_redone(tmp_path):
    exp = _exp(tmp_path)
    run_experiment(exp, progress=False)
    before = _trials_bytes(exp)
    victim = _run_dirs(exp)[4]
    (victim / "summary.json").unlink()
    others = {d: (d / "trials.parquet").stat().st_mtime_ns for d in _run_dirs(exp) if d != victim}
    assert read_summary(victim) is None
    redone = []
    counts = run_experiment(exp, progress=False, on_result=redone.append)
    assert counts == {"skipped": 5, "done": 1, "failed": 0}
    assert [Path(r["run_dir"]) for r in redone] == [victim]
    assert read_summary(victim)["status"] == "ok"
    assert {d: (d / "trials.parquet").stat().st_mtime_ns for d in _run_dirs(exp) if d != victim} == others
    assert _trials_bytes(exp) == before  # the redone run is bit-identical


def test_process_executor_writes_identical_files(tmp_path):
    a = _exp(tmp_path / "a", repeats=2, max_evaluations=60)
    b = _exp(tmp_path / "b", repeats=2, max_evaluations=60)
    assert run_experiment(a, progress=False) == {"skipped": 0, "done": 4, "failed": 0}
    assert run_experiment(b, executor="process", jobs=2, progress=False) == {"skipped": 0, "done": 4, "failed": 0}
    assert _trials_bytes(a) == _trials_bytes(b)
    for da, db in zip(_run_dirs(a), _run_dirs(b)):
        assert (da / "spec.json").read_bytes() == (db / "spec.json").read_bytes()


def test_unknown_executor(tmp_path):
    with pytest.raises(InvalidConfig, match="executor"):
        run_experiment(_exp(tmp_path), executor="threads", progress=False)


# --------------------------------------------------------------------------- crash safety

_KILL_SCRIPT = """
import sys
from pathlib import Path
import benchlab
exec(compile({src!r}, "<test strategies>", "exec"))
benchlab.STRATEGIES.add("test_sleepy", SleepyRandom)
exp = benchlab.Experiment(name="crash", benchmark="analognas",
    strategies=(benchlab.StrategyConfig("test_sleepy"),), repeats={repeats}, seed=1,
    max_evaluations={evals}, root=Path({root!r}))
print("started", flush=True)
benchlab.run_experiment(exp, progress=False)
print("finished", flush=True)
"""


def _crash_exp(root: Path, repeats: int, evals: int) -> Experiment:
    return Experiment(
        name="crash",
        benchmark="analognas",
        strategies=(StrategyConfig("test_sleepy"),),
        repeats=repeats,
        seed=1,
        max_evaluations=evals,
        root=root,
    )


def test_sigkill_loses_nothing(tmp_path, test_strategies):
    repeats, evals = 10, 20
    root = tmp_path / "results"
    script = _KILL_SCRIPT.format(src=STRATEGY_SRC, repeats=repeats, evals=evals, root=str(root))
    env = dict(os.environ, BENCHLAB_TEST_SLEEP="0.01")  # about 0.2 s per run
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pattern = "crash/analognas/test_sleepy/seed-*/summary.json"
    try:
        deadline = time.monotonic() + 60
        while len(list(root.glob(pattern))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the experiment did not get going"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    exp = _crash_exp(root, repeats, evals)
    done_before = [d for d in _run_dirs(exp) if (d / "summary.json").exists()]
    assert 3 <= len(done_before) < repeats, "kill came too late to test anything"
    for d in done_before:  # every completed run is intact
        assert sorted(p.name for p in d.iterdir()) == ["spec.json", "summary.json", "trials.parquet"]
        assert read_summary(d)["status"] == "ok"
        assert len(read_trials(d)) == evals
    counts = run_experiment(exp, progress=False)
    assert counts == {"skipped": len(done_before), "done": repeats - len(done_before), "failed": 0}
    # nothing was lost or damaged: the result equals an uninterrupted experiment
    clean = _crash_exp(tmp_path / "clean", repeats, evals)
    run_experiment(clean, progress=False)
    assert _trials_bytes(exp) == _trials_bytes(clean)


# --------------------------------------------------------------------------- conflicts


@pytest.mark.parametrize(
    "change",
    [
        {"max_evaluations": 41},
        {"max_evaluations": None, "max_seconds": 40.0},
        {"seed": 6},
        {"n_workers": 2},
        {"benchmark_kwargs": {"objective": "ptq_accuracy"}},
    ],
)
def test_another_experiment_in_the_folder(tmp_path, change):
    run_experiment(_exp(tmp_path, repeats=1), progress=False)
    before = _trials_bytes(_exp(tmp_path, repeats=1))
    with pytest.raises(ResultsConflict) as info:
        run_experiment(_exp(tmp_path, repeats=1, **change), progress=False)
    msg = str(info.value)
    assert "\n" not in msg
    assert "--name" in msg
    assert isinstance(info.value, FileExistsError)
    assert _trials_bytes(_exp(tmp_path, repeats=1)) == before  # nothing was touched


def test_conflict_without_any_finished_run(tmp_path):
    # only experiment.json exists (e.g. killed before the first run finished)
    exp = _exp(tmp_path, repeats=1)
    exp.folder.mkdir(parents=True)
    (exp.folder / "experiment.json").write_text(json.dumps(exp.to_dict()))
    with pytest.raises(ResultsConflict, match="--name"):
        run_experiment(_exp(tmp_path, repeats=1, seed=99, strategies=(StrategyConfig("random_search", label="x"),)), progress=False)


def test_strategy_label_reused_with_other_kwargs(tmp_path):
    run_experiment(_exp(tmp_path, repeats=1), progress=False)
    changed = (StrategyConfig("regularized_evolution", {"population_size": 20}, label="re"),)
    with pytest.raises(ResultsConflict) as info:
        run_experiment(_exp(tmp_path, repeats=1, strategies=changed), progress=False)
    assert "\n" not in str(info.value) and "--name" in str(info.value)
    # a new label for the new configuration is fine, and only it runs
    ok = (StrategyConfig("regularized_evolution", {"population_size": 20}, label="re20"),)
    assert run_experiment(_exp(tmp_path, repeats=1, strategies=ok), progress=False) == {"skipped": 0, "done": 1, "failed": 0}
    labels = [s["label"] for s in json.loads((tmp_path / "results/exp/experiment.json").read_text())["strategies"]]
    assert labels == ["random_search", "re", "re20"]


def test_label_reused_on_disk_for_a_strategy_not_yet_run(tmp_path):
    # experiment.json knows label 're'; a new run of it with other kwargs conflicts even
    # before any of its run folders exists
    exp = _exp(tmp_path, repeats=1, strategies=(StrategyConfig("random_search"),))
    exp.folder.mkdir(parents=True)
    meta = exp.to_dict()
    meta["strategies"].append({"label": "re", "name": "regularized_evolution", "kwargs": {"sample_size": 5}})
    (exp.folder / "experiment.json").write_text(json.dumps(meta))
    with pytest.raises(ResultsConflict, match="'re'"):
        run_experiment(_exp(tmp_path, repeats=1), progress=False)


def test_failing_strategy_does_not_stop_the_others(tmp_path, test_strategies):
    exp = _exp(
        tmp_path,
        strategies=(StrategyConfig("test_exploding", {"fail_at": 5}), StrategyConfig("random_search")),
        repeats=3,
    )
    counts = run_experiment(exp, progress=False)
    assert counts == {"skipped": 0, "done": 3, "failed": 3}
    for spec, run_dir, label in exp.specs():
        summary = read_summary(run_dir)
        if label == "test_exploding":
            assert summary["status"] == "error"
            assert summary["error"]["type"] == "RuntimeError"
            assert "exploding strategy" in summary["error"]["traceback"]
            assert len(read_trials(run_dir)) == 5  # finished evaluations are kept
        else:
            assert summary["status"] == "ok"
            assert len(read_trials(run_dir)) == 40
    # failed runs are retried on resume, finished ones are not
    assert run_experiment(exp, progress=False) == {"skipped": 3, "done": 0, "failed": 3}


# --------------------------------------------------------------------------- configuration


def test_strategy_config_parse():
    cfg = StrategyConfig.parse("regularized_evolution:population_size=20,sample_size=5@re20")
    assert cfg == StrategyConfig("regularized_evolution", {"population_size": 20, "sample_size": 5}, "re20")
    assert cfg.folder == "re20"
    assert StrategyConfig.parse("random_search:replace=false") == StrategyConfig("random_search", {"replace": False})
    assert StrategyConfig.parse("random_search").folder == "random_search"
    with pytest.raises(InvalidConfig):
        StrategyConfig.parse("random_search:replace")


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"repeats": 0}, "repeats"),
        ({"strategies": ()}, "strategy"),
        ({"strategies": (StrategyConfig("random_search"), StrategyConfig("random_search"))}, "unique"),
        ({"name": "bad/name"}, "bad/name"),
        ({"max_evaluations": None}, "budget"),
        ({"benchmark": "analognass"}, "did you mean 'analognas'"),
        ({"strategies": (StrategyConfig("random_serch"),)}, "did you mean 'random_search'"),
    ],
)
def test_invalid_experiments(tmp_path, kw, match):
    with pytest.raises(benchlab.BenchlabError, match=match):
        _exp(tmp_path, **kw)


def test_benchmark_kwargs_get_their_own_folder(tmp_path):
    exp = _exp(tmp_path, benchmark_kwargs={"objective": "analog_accuracy"}, repeats=1, strategies=(StrategyConfig("random_search"),))
    run_experiment(exp, progress=False)
    (run_dir,) = _run_dirs(exp)
    assert run_dir.relative_to(exp.folder).parts[0] == "analognas_objective=analog_accuracy"
    assert read_summary(run_dir)["objective"] == "analog_accuracy"


@pytest.mark.data
def test_ctrl_c_stops_the_process_pool_promptly_and_keeps_finished_runs(tmp_path, nb201_data):
    """SIGINT to `benchlab run --executor process`: exit 130 within seconds (no hang on the
    pool), finished runs intact, and re-running completes exactly the missing ones."""
    import signal
    import subprocess
    import sys
    import time

    argv = [sys.executable, "-m", "benchlab.cli", "run", "-b", "nb201:fidelity=12", "--seeds", "400",
            "--max-seconds", "12000", "--name", "x", "--root", str(tmp_path), "-q", "--no-report",
            "--executor", "process", "--jobs", "2"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(tmp_path.rglob("summary.json"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("benchlab run hung after SIGINT")
    finished = len(list(tmp_path.rglob("summary.json")))
    if proc.returncode == 0:
        pytest.skip("the experiment finished before the signal arrived")
    assert proc.returncode == 130 and "finished runs are kept" in err
    for summary in tmp_path.rglob("summary.json"):
        assert json.loads(summary.read_text())["status"] == "ok"
    again = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert f"{800 - finished} runs done, {finished} already finished" in again.stdout
