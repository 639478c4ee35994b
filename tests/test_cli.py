"""The command line as a user runs it: outputs, files and one-line errors naming the fix."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchlab.cli import main

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _small(tmp_path, *extra, name="t"):
    return ["run", "--root", tmp_path, "--name", name, "--seeds", 2, "--max-evals", 30, "-q", *extra]


def test_list_names_every_registered_component(capsys):
    import benchlab as bl

    code, out, _ = _run(["list"], capsys)
    assert code == 0
    for name in bl.STRATEGIES.names() + bl.BENCHMARKS.names():
        assert name in out
    assert "parameters: population_size=10, sample_size=3" in out


def test_run_writes_runs_table_and_plot(tmp_path, capsys):
    code, out, _ = _run(_small(tmp_path), capsys)
    assert code == 0
    folder = tmp_path / "t"
    runs = sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*/seed-*"))
    assert runs == [
        "analognas/random_search/seed-0",
        "analognas/random_search/seed-1",
        "analognas/regularized_evolution/seed-0",
        "analognas/regularized_evolution/seed-1",
    ]
    for f in ("summary.csv", "summary.md", "regret.png"):
        assert (folder / f).stat().st_size > 0
    assert "4 runs done, 0 already finished, 0 failed" in out
    # resume: nothing left to do
    code, out, _ = _run(_small(tmp_path), capsys)
    assert code == 0 and "0 runs done, 4 already finished" in out


def test_strategy_and_benchmark_specs_with_kwargs_and_labels(tmp_path, capsys):
    argv = _small(
        tmp_path,
        "--benchmark",
        "analognas:objective=analog_accuracy",
        "--strategies",
        "regularized_evolution:population_size=5,sample_size=2@re5",
        "random_search:replace=false",
    )
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    bench_dir = tmp_path / "t" / "analognas_objective=analog_accuracy"
    spec = json.loads((bench_dir / "re5" / "seed-0" / "spec.json").read_text())
    assert spec["strategy_kwargs"] == {"population_size": 5, "sample_size": 2}
    assert spec["benchmark_kwargs"] == {"objective": "analog_accuracy"}
    summary = json.loads((bench_dir / "random_search" / "seed-1" / "summary.json").read_text())
    assert summary["objective"] == "analog_accuracy"
    assert summary["spec"]["strategy_kwargs"] == {"replace": False}


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "--max-evals", "5", "-s", "random_serch"], "did you mean 'random_search'"),
        (["run", "--max-evals", "5", "-b", "nb999"], "benchlab list benchmarks"),
        (["run", "--max-evals", "5", "-s", "regularized_evolution:popsize=3"], "its parameters are"),
        (["run", "--max-evals", "5", "-b", "analognas:objective=speed"], "choose from baseline_accuracy"),
        (["run", "--seeds", "2"], "--max-evals N and/or --max-seconds S"),
        (["query", "analognas", "|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "unknown operation 'nor_conv_5x5'"),
        (["query", "analognas", "15625"], "ids are 0..15624"),
        (["report", "/nonexistent/folder"], "benchlab run"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_fix(argv, expected, tmp_path, capsys):
    if argv[0] == "run":
        argv = [*argv, "--root", str(tmp_path), "-q"]
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("benchlab: error: ")
    assert expected in lines[0]


@pytest.mark.parametrize("flag", ["--max-evals=-3", "--max-evals=0", "--seeds=0", "--max-seconds=-1", "--max-seconds=nan"])
def test_negative_or_zero_budget_is_rejected_in_one_line(flag, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchlab.cli", "run", flag, "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "benchlab run --help" in lines[0], proc.stderr
    assert not (tmp_path / "default").exists()


def test_results_folder_of_another_experiment_is_refused(tmp_path, capsys):
    assert _run(_small(tmp_path), capsys)[0] == 0
    before = sorted(p.stat().st_mtime_ns for p in (tmp_path / "t").rglob("trials.parquet"))
    code, _, err = _run(["run", "--root", tmp_path, "--name", "t", "--seeds", 2, "--max-evals", 50, "-q"], capsys)
    assert code == 2
    line = err.strip()
    assert "\n" not in line and "holds another experiment" in line and "--name" in line
    assert "max_evaluations: 30 there vs 50 now" in line
    after = sorted(p.stat().st_mtime_ns for p in (tmp_path / "t").rglob("trials.parquet"))
    assert before == after  # nothing was overwritten


def test_query_prints_visible_and_report_metrics(capsys):
    code, out, _ = _run(["query", "analognas", BEST], capsys)
    assert code == 0
    row = json.loads(out)
    assert row["arch"] == BEST
    assert row["visible"] == {"baseline_accuracy": 94.0664}
    assert row["report"]["baseline_accuracy"] == 94.0664
    assert "no validation split" in row["visible_split"]


def test_console_help_everywhere():
    for argv in ([], ["run"], ["report"], ["list"], ["query"]):
        proc = subprocess.run([sys.executable, "-m", "benchlab.cli", *argv, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: benchlab" in proc.stdout, argv


def test_list_valued_kwargs_in_specs(tmp_path, capsys):
    argv = _small(tmp_path, "--benchmark", 'analognas:objective=["baseline_accuracy","analog_drift_86400"]',
                  "--strategies", "nsga2:population_size=8", "mo_random_search")  # fmt: skip
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    spec = json.loads(next((tmp_path / "t").glob("*/nsga2/seed-0/spec.json")).read_text())
    assert spec["benchmark_kwargs"] == {"objective": ["baseline_accuracy", "analog_drift_86400"]}
    assert (tmp_path / "t" / "hypervolume.png").stat().st_size > 0
