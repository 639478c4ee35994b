"""Anytime plots (matplotlib Agg canvas: no display, no pyplot global state)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np

from .._store import atomic_write_bytes
from ._curves import aggregate, curves, _choice, METRICS, STATS, X_AXES
from ._load import ExperimentData
from ._tables import describe_setup

__all__ = ["plot"]

_STAT_TEXT = {"mean_se": "mean ± standard error", "median_iqr": "median and interquartile range"}


def _x_label(x: str, setup: dict) -> str:
    if x == "eval":
        return "evaluations"
    return f"simulated time ({setup.get('cost_unit') or 'cost unit'})"


def _y_label(metric: str, setup: dict) -> str:
    report = setup.get("report_metric") or "test metric"
    unit = setup.get("report_unit")
    u = f", {unit}" if unit else ""
    if metric == "regret":
        return f"regret (optimum − {report} of incumbent{u})"
    if metric == "incumbent_test":
        return f"{report} of incumbent ({setup.get('report_split')} split{u})"
    obj_unit = setup.get("objective_unit")
    return f"{setup.get('objective')} of incumbent (visible to strategy{', ' + obj_unit if obj_unit else ''})"


def _panel(ax, data: ExperimentData, cv, stat: str, logx: bool, logy: bool, setup: dict, colors) -> None:
    grid = cv.grid
    drawn = False
    legend = []  # explicit handles: matplotlib hides labels that start with "_"
    for (label, m), color in zip(cv.matrices.items(), colors):
        s = data.strategies[label]
        extra = f", {len(s.failed)} failed" if s.failed else ""
        if m.shape[0] == 0:  # listed in the legend so a failed strategy is not silently absent
            (line,) = ax.plot([], [], color=color, ls=":")
            legend.append((line, f"{label} (0 runs{extra})"))
            continue
        center, low, high = aggregate(m, stat)
        (line,) = ax.plot(grid, center, color=color, lw=1.6, drawstyle="steps-post")
        legend.append((line, f"{label} ({m.shape[0]} runs{extra})"))
        ok = np.isfinite(low) & np.isfinite(high)
        if ok.any():
            ax.fill_between(grid, low, high, where=ok, color=color, alpha=0.2, step="post", lw=0)
        drawn = True
    if drawn and cv.metric == "incumbent_test" and np.isfinite(data.optimum):
        legend.append((ax.axhline(data.optimum, color="0.3", ls="--", lw=1), f"optimum ({data.optimum:.4g})"))
    if not drawn:
        ax.text(0.5, 0.5, "no completed runs", ha="center", va="center", transform=ax.transAxes, color="0.4")
    if logx and drawn and grid.size and grid[0] > 0:
        ax.set_xscale("log")
    if logy and drawn:
        ax.set_yscale("log")  # non-positive values (regret 0) are masked
    ax.set_xlabel(_x_label(cv.x, setup))
    ax.set_ylabel(_y_label(cv.metric, setup))
    ax.grid(True, which="major", alpha=0.3)
    if drawn:
        ax.legend([h for h, _ in legend], [t for _, t in legend], fontsize=8, loc="best")


def plot(
    data: ExperimentData,
    path,
    x: str = "eval",
    metric: str = "regret",
    stat: str = "mean_se",
    logx: bool = True,
    logy: bool = False,
    *,
    dpi: int = 120,
    points: int = 200,
) -> Path:
    """Plot ``metric`` vs ``x`` per strategy (line = center, band = spread) to ``path``.

    ``x``: ``"eval"`` or ``"time"`` (simulated, benchmark cost unit); ``metric``:
    ``"regret"``, ``"incumbent_test"`` or ``"incumbent_value"``; ``stat``: ``"mean_se"``
    or ``"median_iqr"``. A regret plot gets a second panel with the report metric (e.g. test
    accuracy) of the incumbent. The format follows the suffix of ``path`` (png, pdf, svg);
    the file is replaced atomically. Returns ``path``.
    """
    _choice(x, tuple(X_AXES), "x axis")
    _choice(metric, METRICS, "metric")
    _choice(stat, STATS, "statistic")
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    setup = describe_setup(data)
    panels = [metric, "incumbent_test"] if metric == "regret" else [metric]
    fig = Figure(figsize=(max(6.4, 5.6 * len(panels)), 4.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = [c["color"] for c in rcParams["axes.prop_cycle"]]
    colors = (colors * (len(data.strategies) // len(colors) + 1))[: len(data.strategies)]
    grid = None
    for ax, m in zip(axes, panels):
        cv = curves(data, x, m, grid=grid, points=points)
        grid = cv.grid
        _panel(ax, data, cv, stat, logx, logy and m == "regret", setup, colors)
    split = (
        f"search on {setup['visible_split'].split()[0]} = report split"
        if setup["same_split"]
        else f"search on {setup['visible_split'].split()[0]}, report on {setup['report_split']}"
    )
    w, h = fig.get_size_inches()
    chars = int(w * 12)  # about 12 characters per inch at fontsize 10
    title = [
        f"{setup['experiment']}: {setup['benchmark']}, objective {setup['objective']} ({setup['direction']})",
        *textwrap.wrap(f"{_STAT_TEXT[stat]} over runs; {split}; budget {setup['budget']}", chars),
    ]
    fig.suptitle("\n".join(title), fontsize=10)
    # fixed margins in inches: tight_layout would cost a second full draw (~0.2 s)
    top = 0.3 + 0.2 * len(title)
    fig.subplots_adjust(left=0.75 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - top / h, wspace=0.85 * len(panels) / w)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
