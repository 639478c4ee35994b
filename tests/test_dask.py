"""The Dask distributed executor: same files as in-process, resume, clear error without dask."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchlab import InvalidConfig
from benchlab._experiment import Experiment, StrategyConfig, run_experiment

pytest.importorskip("distributed")


def _exp(root: Path, **kw) -> Experiment:
    base = {
        "name": "exp",
        "benchmark": "analognas",
        "strategies": (StrategyConfig("random_search"), StrategyConfig("regularized_evolution", label="re")),
        "repeats": 3,
        "seed": 11,
        "max_evaluations": 100,
        "root": root,
    }
    base.update(kw)
    return Experiment(**base)


def _files(exp: Experiment, name: str) -> dict[str, bytes]:
    return {str(d.relative_to(exp.folder)): (d / name).read_bytes() for _, d, _ in exp.specs()}


def test_local_cluster_matches_inprocess_and_resumes(tmp_path):
    ref = _exp(tmp_path / "a")
    assert run_experiment(ref, progress=False) == {"skipped": 0, "done": 6, "failed": 0}

    exp = _exp(tmp_path / "b")
    seen = []
    counts = run_experiment(exp, executor="dask", jobs=2, progress=False, on_result=seen.append)
    assert counts == {"skipped": 0, "done": 6, "failed": 0}
    # statuses name the run folders as the experiment gives them (not the absolute paths sent)
    assert sorted(r["run_dir"] for r in seen) == sorted(str(d) for _, d, _ in exp.specs())
    assert _files(exp, "trials.parquet") == _files(ref, "trials.parquet")
    assert _files(exp, "spec.json") == _files(ref, "spec.json")

    # resume: drop two runs; dask redoes exactly those, bit-identically, and leaves the rest alone
    dirs = [d for _, d, _ in exp.specs()]
    victims = [dirs[1], dirs[4]]
    for d in victims:
        (d / "summary.json").unlink()
    others = {d: (d / "trials.parquet").stat().st_mtime_ns for d in dirs if d not in victims}
    redone = []
    counts = run_experiment(exp, executor="dask", jobs=2, progress=False, on_result=redone.append)
    assert counts == {"skipped": 4, "done": 2, "failed": 0}
    assert sorted(r["run_dir"] for r in redone) == sorted(map(str, victims))
    assert {d: (d / "trials.parquet").stat().st_mtime_ns for d in dirs if d not in victims} == others
    assert _files(exp, "trials.parquet") == _files(ref, "trials.parquet")

    # everything finished: nothing to submit, no cluster started
    assert run_experiment(exp, executor="dask", jobs=2, progress=False) == {"skipped": 6, "done": 0, "failed": 0}


def test_missing_dask_names_the_extra_and_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    exp = _exp(tmp_path)
    with pytest.raises(InvalidConfig, match=r"pip install 'benchlab\[dask\]'"):
        run_experiment(exp, executor="dask", progress=False)
    assert not exp.folder.exists()


def test_scheduler_needs_the_dask_executor(tmp_path):
    with pytest.raises(InvalidConfig, match="--executor dask"):
        run_experiment(_exp(tmp_path), executor="process", scheduler="tcp://127.0.0.1:8786", progress=False)


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    import dask

    exp = _exp(tmp_path, repeats=1)
    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}), pytest.raises(InvalidConfig, match="cannot reach the Dask scheduler"):
        run_experiment(exp, executor="dask", scheduler="tcp://127.0.0.1:1", progress=False)
