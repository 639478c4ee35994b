"""Read an experiment folder: ``experiment.json`` plus every run's ``summary.json``.

Analysis reads only the files the harness writes (DESIGN section 3). Summaries are read
eagerly (they are small); a run's trajectory (``trials.parquet``) is read on first use and
cached, so ``summary_table`` never touches the parquet files.
"""

from __future__ import annotations

import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._store import SUMMARY_FILE, read_summary, read_trial_columns

__all__ = ["RunData", "FailedRun", "StrategyData", "ExperimentData", "load_experiment", "TRAJECTORY_COLUMNS"]

EXPERIMENT_FILE = "experiment.json"
#: Numeric columns of ``trials.parquet`` the analysis uses.
TRAJECTORY_COLUMNS = ("eval", "end", "value", "incumbent_value", "incumbent_test", "regret")
_SEED = re.compile(r"^seed-(\d+)$")


def _read_columns(run_dir: Path) -> dict[str, np.ndarray]:
    """The trajectory's numeric columns as float/int numpy arrays (one entry per told eval)."""
    return read_trial_columns(run_dir, TRAJECTORY_COLUMNS)


def preload(runs: list["RunData"], threads: int | None = None, min_parallel: int = 32) -> None:
    """Read the trajectories of ``runs`` not loaded yet; in a thread pool from ``min_parallel`` runs."""
    todo = [r for r in runs if r._columns is None]
    if not todo:
        return
    threads = threads or min(8, os.cpu_count() or 1)
    if len(todo) < min_parallel or threads < 2:
        for r in todo:
            r.columns()
        return
    with ThreadPoolExecutor(threads) as pool:  # parquet decoding releases the GIL
        for r, cols in zip(todo, pool.map(_read_columns, [r.folder for r in todo])):
            r._columns = cols


@dataclass(eq=False)
class RunData:
    """One completed run (``summary.json`` with status ``ok``).

    ``columns()`` returns the trajectory (``eval`` 1-based count, ``end`` simulated time
    in the benchmark's cost unit, ``value``/``incumbent_value`` the strategy-visible
    objective, ``incumbent_test`` the report metric of the incumbent, ``regret``) as numpy
    arrays, read from ``trials.parquet`` on first use.
    """

    strategy: str
    repeat: int
    folder: Path
    summary: dict
    _columns: dict | None = field(default=None, repr=False)

    def columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            self._columns = _read_columns(self.folder)
        return self._columns

    @property
    def n_evaluations(self) -> int:
        return int(self.summary.get("n_evaluations") or 0)

    def final(self, key: str) -> float:
        """``summary["final"][key]`` as a float (NaN when the run has no evaluation)."""
        final = self.summary.get("final") or {}
        value = final.get(key)
        return math.nan if value is None else float(value)


@dataclass(frozen=True)
class FailedRun:
    """A run whose ``summary.json`` says ``status: error``; the message says why."""

    strategy: str
    repeat: int
    folder: Path
    error_type: str
    message: str
    n_evaluations: int


@dataclass
class StrategyData:
    """All runs of one strategy label: completed, failed and incomplete.

    ``incomplete`` holds folders started without a ``summary.json`` and the expected
    ``seed-<k>`` folders (``k < repeats``) that do not exist yet (never started).
    """

    label: str
    name: str
    kwargs: dict
    runs: list[RunData] = field(default_factory=list)
    failed: list[FailedRun] = field(default_factory=list)
    incomplete: list[Path] = field(default_factory=list)


@dataclass
class ExperimentData:
    """An experiment folder as read from disk.

    ``config`` is ``experiment.json``; ``strategies`` maps strategy labels (in the order of
    ``experiment.json``) to their runs; ``benchmark`` is the benchmark's ``describe()``
    dict (splits, units, cost unit) from the first readable summary, or ``{}`` when no run
    has finished yet.
    """

    folder: Path
    config: dict
    strategies: dict[str, StrategyData]
    benchmark: dict
    objective: str
    direction: str
    report_metric: str
    optimum: float

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.folder.name)

    @property
    def benchmark_name(self) -> str:
        return str(self.benchmark.get("name") or self.config.get("benchmark") or "?")

    @property
    def n_completed(self) -> int:
        return sum(len(s.runs) for s in self.strategies.values())

    def unit(self, metric: str) -> str:
        """Unit of a benchmark metric (``"%"``, ``"s"``…), ``""`` when unknown."""
        for obj in self.benchmark.get("objectives") or []:
            if obj.get("name") == metric:
                return str(obj.get("unit") or "")
        return ""


def _not_an_experiment(folder: Path) -> DataError:
    if not folder.exists():
        return DataError(
            f"{folder} does not exist: run `benchlab run --name NAME ...` first, then pass results/NAME"
        )
    if not folder.is_dir():
        return DataError(f"{folder} is a file, not an experiment folder: pass the folder holding experiment.json")
    inner = sorted(p.parent.name for p in folder.glob(f"*/{EXPERIMENT_FILE}"))
    if inner:
        shown = ", ".join(inner[:5]) + (", ..." if len(inner) > 5 else "")
        return DataError(
            f"{folder} has no {EXPERIMENT_FILE} but holds the experiments {shown}: pass one of them, "
            f"e.g. {folder / inner[0]}"
        )
    for parent in folder.parents:
        if (parent / EXPERIMENT_FILE).exists():
            return DataError(f"{folder} is inside the experiment {parent}: pass {parent} instead")
    return DataError(
        f"{folder} has no {EXPERIMENT_FILE}, so it is not an experiment folder: "
        f"run `benchlab run --name {folder.name} ...` first (results go to results/NAME)"
    )


def _seed_folders(strategy_dir: Path) -> dict[int, Path]:
    out = {}
    if strategy_dir.is_dir():
        for d in strategy_dir.iterdir():
            m = _SEED.match(d.name)
            if m and d.is_dir():
                out[int(m.group(1))] = d
    return out


def load_experiment(folder) -> ExperimentData:
    """Read ``folder/experiment.json`` and every run under it.

    Completed runs are kept (their trajectories load lazily); failed runs (``status:
    error``) are counted with their error message; folders without ``summary.json`` and
    expected seeds that never started are counted as incomplete. Strategy folders on disk
    that ``experiment.json`` does not list are included after the listed ones.

    Raises :class:`benchlab.DataError` when ``folder`` is not an experiment folder or a
    file in it is corrupt.
    """
    folder = Path(folder).expanduser()
    cfg_path = folder / EXPERIMENT_FILE
    if not cfg_path.is_file():
        raise _not_an_experiment(folder)
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{cfg_path} is corrupt ({exc}); re-run the experiment with the same --name to rewrite it") from None
    if not isinstance(config, dict):
        raise DataError(f"{cfg_path} does not hold a JSON object; re-run the experiment to rewrite it")

    bench_dir = folder / str(config.get("benchmark_label") or config.get("benchmark") or "")
    repeats = config.get("repeats")
    repeats = repeats if isinstance(repeats, int) and not isinstance(repeats, bool) else 0
    listed = [s for s in config.get("strategies") or [] if isinstance(s, dict) and s.get("label")]
    known = {s["label"] for s in listed}
    extra = []
    if bench_dir.is_dir() and bench_dir != folder:
        extra = [
            {"label": d.name, "name": "", "kwargs": {}}
            for d in sorted(bench_dir.iterdir())
            if d.name not in known and d.is_dir() and _seed_folders(d)
        ]

    strategies: dict[str, StrategyData] = {}
    first_summary = None
    for entry in [*listed, *extra]:
        label = str(entry["label"])
        sdata = StrategyData(label, str(entry.get("name") or ""), dict(entry.get("kwargs") or {}))
        seeds = _seed_folders(bench_dir / label)
        wanted = entry.get("repeats", repeats)
        wanted = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else repeats
        for k in range(wanted):
            if k not in seeds:
                sdata.incomplete.append(bench_dir / label / f"seed-{k}")
        for k in sorted(seeds):
            run_dir = seeds[k]
            summary = read_summary(run_dir)
            if summary is None:
                sdata.incomplete.append(run_dir)
                continue
            if not isinstance(summary, dict):
                raise DataError(f"{run_dir / SUMMARY_FILE} is corrupt; delete it and re-run the experiment")
            if first_summary is None or (first_summary.get("status") != "ok" and summary.get("status") == "ok"):
                first_summary = summary
            if not sdata.name:
                sdata.name = str((summary.get("spec") or {}).get("strategy") or label)
            if summary.get("status") == "ok":
                sdata.runs.append(RunData(label, k, run_dir, summary))
            else:
                err = summary.get("error") or {}
                sdata.failed.append(
                    FailedRun(
                        label,
                        k,
                        run_dir,
                        str(err.get("type") or "Error"),
                        str(err.get("message") or f"status {summary.get('status')!r}"),
                        int(summary.get("n_evaluations") or 0),
                    )
                )
        sdata.name = sdata.name or label
        strategies[label] = sdata

    s = first_summary or {}
    optimum = s.get("optimum")
    return ExperimentData(
        folder=folder,
        config=config,
        strategies=strategies,
        benchmark=dict(s.get("benchmark") or {}),
        objective=str(s.get("objective") or ""),
        direction=str(s.get("direction") or ""),
        report_metric=str(s.get("report_metric") or ""),
        optimum=math.nan if optimum is None else float(optimum),
    )
