"""Anytime curves on a common grid, and their aggregation over runs.

A run's curve is a step function: at grid point ``x`` it holds the metric after the last
evaluation told at or before ``x`` (NaN before the first one; the last value is held after
the run ends). Evaluated with ``np.searchsorted``, one call per run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._errors import InvalidConfig
from ._load import ExperimentData, preload

__all__ = ["Curves", "curves", "aggregate", "X_AXES", "METRICS", "STATS"]

#: x axes: evaluation count (1-based) or simulated time (benchmark cost unit).
X_AXES = {"eval": "eval", "time": "end"}
#: y metrics: trajectory columns of the incumbent.
METRICS = ("regret", "incumbent_test", "incumbent_value")
#: aggregation statistics.
STATS = ("mean_se", "median_iqr")


def _choice(value, choices, what: str) -> str:
    if value not in choices:
        raise InvalidConfig(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Curves:
    """Per-strategy ``(runs, points)`` matrices on one ``grid`` shared by all strategies.

    ``x`` is ``"eval"`` (grid = evaluation counts) or ``"time"`` (grid = simulated time in
    the benchmark's cost unit); ``metric`` names the trajectory column; row ``i`` of
    ``matrices[label]`` is run ``data.strategies[label].runs[i]``.
    """

    x: str
    metric: str
    grid: np.ndarray
    matrices: dict[str, np.ndarray]

    def __getitem__(self, label: str) -> np.ndarray:
        return self.matrices[label]


def step_values(xs: np.ndarray, ys: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``ys`` of the last ``xs <= g`` for each ``g`` in ``grid`` (``xs`` sorted; NaN before)."""
    idx = np.searchsorted(xs, grid, side="right") - 1
    if ys.size == 0:
        return np.full(grid.shape, np.nan)
    out = ys[np.maximum(idx, 0)].astype(np.float64, copy=True)
    out[idx < 0] = np.nan
    return out


def time_grid(data: ExperimentData, points: int = 200) -> np.ndarray:
    """``points`` log-spaced simulated times from the earliest first result to the latest.

    Falls back to a linear grid from 0 when no result has a positive time.
    """
    firsts, lasts = [], []
    for s in data.strategies.values():
        for r in s.runs:
            end = r.columns()["end"]
            if end.size:
                pos = end[end > 0]
                if pos.size:
                    firsts.append(pos[0])
                lasts.append(end[-1])
    if not lasts:
        return np.zeros(0)
    hi = float(max(lasts))
    if not firsts or hi <= 0:
        return np.linspace(0.0, max(hi, 0.0), max(points, 1)) if hi > 0 else np.array([hi])
    lo = float(min(firsts))
    if lo >= hi:
        return np.array([hi])
    grid = np.geomspace(lo, hi, max(points, 2))
    grid[0], grid[-1] = lo, hi
    return grid


def curves(
    data: ExperimentData,
    x: str = "eval",
    metric: str = "regret",
    *,
    grid=None,
    points: int = 200,
) -> Curves:
    """Step-function curves of ``metric`` vs ``x`` for every completed run.

    ``x="eval"``: grid ``1..max evaluations`` over all runs. ``x="time"``: ``points``
    log-spaced simulated times (benchmark cost unit, e.g. seconds) from the earliest first
    result to the latest last one. Pass ``grid`` (increasing values) to use your own.
    ``metric``: ``"regret"`` (optimum minus the incumbent's report metric, >= 0),
    ``"incumbent_test"`` (report metric of the incumbent) or ``"incumbent_value"`` (its
    strategy-visible objective).
    """
    _choice(x, tuple(X_AXES), "x axis")
    _choice(metric, METRICS, "metric")
    preload([r for s in data.strategies.values() for r in s.runs])
    if grid is not None:
        grid = np.asarray(grid, dtype=np.float64).ravel()
        if grid.size > 1 and np.any(np.diff(grid) < 0):
            raise InvalidConfig("curves: grid must be increasing")
    elif x == "eval":
        n = max((r.columns()["eval"].size for s in data.strategies.values() for r in s.runs), default=0)
        grid = np.arange(1, n + 1, dtype=np.float64)
    else:
        grid = time_grid(data, points)
    column = X_AXES[x]
    matrices = {}
    for label, s in data.strategies.items():
        m = np.empty((len(s.runs), grid.size))
        for i, r in enumerate(s.runs):
            cols = r.columns()
            m[i] = step_values(cols[column], cols[metric], grid)
        matrices[label] = m
    return Curves(x, metric, grid, matrices)


def aggregate(matrix, stat: str = "mean_se") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise ``(center, low, high)`` of a ``(runs, points)`` matrix, ignoring NaN.

    ``"mean_se"``: mean and mean ± standard error (sample std with ``ddof=1`` over the
    square root of the number of non-NaN runs; low/high are NaN where fewer than 2 runs).
    ``"median_iqr"``: median, 25th and 75th percentiles (linear interpolation).
    Columns without any value give NaN, without warnings.
    """
    _choice(stat, STATS, "statistic")
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise InvalidConfig(f"aggregate needs a (runs, points) matrix, got shape {m.shape}")
    if m.shape[0] == 0:
        empty = np.full(m.shape[1], np.nan)
        return empty, empty.copy(), empty.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if stat == "mean_se":
            n = np.sum(~np.isnan(m), axis=0)
            center = np.nanmean(m, axis=0)
            sd = np.nanstd(m, axis=0, ddof=1) if m.shape[0] > 1 else np.full(m.shape[1], np.nan)
            se = np.where(n >= 2, sd / np.sqrt(np.maximum(n, 1)), np.nan)
            return center, center - se, center + se
        low, center, high = np.nanpercentile(m, [25, 50, 75], axis=0)
        return center, low, high
