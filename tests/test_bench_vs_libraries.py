"""scripts/bench_vs_libraries.py on a tiny setting (slow: starts the reference libraries).

The reference libraries are optional (``pip install -e '.[peers]'``); they are looked up in
the interpreter named by ``BENCHLAB_PEERS_PYTHON`` (a separate environment, e.g.
``/work/peers-venv/bin/python``), else in the test interpreter. Skips when they are absent.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_vs_libraries.py"
PEERS = ("optuna", "syne_tune", "pymoo")


@pytest.mark.slow
def test_script_on_a_tiny_setting(nb201_data, tmp_path):
    python = os.environ.get("BENCHLAB_PEERS_PYTHON", sys.executable)
    probe = subprocess.run([python, "-c", f"import benchlab, {', '.join(PEERS)}"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"reference libraries not importable by {python}: pip install -e '.[peers]' (or set BENCHLAB_PEERS_PYTHON)")
    out = tmp_path / "out"
    ref = tmp_path / "reference_results.csv"
    env = dict(os.environ, BENCHLAB_DATA=str(nb201_data))
    cmd = [python, str(SCRIPT), "--seeds", "3", "--evals", "15", "--pairs", "tpe", "rea", "nsga2-pymoo",
           "--out", str(out), "--reference-csv", str(ref)]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "tpe: 3/3 runs" in p.stderr  # progress output
    rows = list(csv.DictReader((out / "bench_vs_libraries.csv").open()))
    assert [r["pair"] for r in rows] == ["tpe", "rea", "nsga2-pymoo"]
    for r in rows:
        assert r["seeds"] == "3" and r["evals"] == "15" and not r["skipped"]
        assert float(r["ours_mean"]) >= 0 and float(r["ref_mean"]) >= 0 and 0 <= float(r["p"]) <= 1
        assert float(r["ratio"]) > 0
    assert [r["metric"] for r in rows] == ["valid_regret", "valid_regret", "hv_regret"]
    md = (out / "bench_vs_libraries.md").read_text()
    assert "Syne Tune REA" in md and "pymoo NSGA2" in md and "Command: `python scripts/bench_vs_libraries.py" in md
    committed = list(csv.DictReader(ref.open()))
    assert len(committed) == 3 and all(r["command"].startswith("python scripts/bench_vs_libraries.py") for r in committed)
    # a second run reads every run from the cache: the same table, no run repeated
    first = (out / "bench_vs_libraries.csv").read_text()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and "runs," not in again.stderr
    assert (out / "bench_vs_libraries.csv").read_text() == first


def test_script_help_runs_without_the_libraries():
    p = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "--seeds" in p.stdout and "--pairs" in p.stdout and "--evals" in p.stdout
    listed = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "Syne Tune REA" in listed.stdout and "SMAC3" in listed.stdout


def test_committed_reference_results_are_shown_by_the_h2h_protocol():
    """benchmarks/nb201/reference_results.csv (written by the script) carries its command and
    date, and ``reproduce nb201-h2h`` renders its rows beside benchlab's."""
    from benchlab.benchmarks.nb201._h2h import reference_lines, reference_rows

    rows = reference_rows()
    assert rows, "benchmarks/nb201/reference_results.csv is missing from the package"
    for r in rows:
        assert r["command"].startswith("python scripts/bench_vs_libraries.py") and r["date"]
        assert float(r["seeds"]) >= 2 and float(r["ours_mean"]) >= 0
    pairs = {r["pair"] for r in rows}
    assert {"tpe", "tpe-paper", "random", "rea"} <= pairs
    text = "\n".join(reference_lines({"tpe", "tpe-paper", "random_search", "regularized_evolution"}))
    assert "Optuna TPESampler()" in text and "Syne Tune REA" in text and rows[0]["command"] in text
    assert reference_lines({"no_such_strategy"}) == []
