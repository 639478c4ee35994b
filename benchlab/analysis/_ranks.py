"""Anytime average ranks: strategies ranked by regret within each seed, averaged over seeds.

Repeat ``k`` of every strategy ran on the same benchmark with the same repeat index, so
the runs with the same ``k`` form one block (a paired comparison, as in the Friedman
test; Demšar, JMLR 7, 2006). At every grid point the strategies are ranked by regret
inside each block (rank 1 = lowest regret; ties get the average of the ranks they span,
``scipy.stats.rankdata``), then the ranks are averaged over blocks.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._store import atomic_write_bytes
from ._curves import X_AXES, _choice, curves
from ._load import ExperimentData
from ._tables import describe_setup

__all__ = ["RankCurves", "plot_ranks", "rank_curves", "rank_matrix"]


def rank_matrix(values) -> np.ndarray:
    """Ranks of a ``(blocks, strategies)`` matrix within each row (1 = lowest value).

    Ties get the average rank (``scipy.stats.rankdata``); NaN (no result yet) counts as
    the worst value, tied with the other NaN of its row.
    """
    from scipy.stats import rankdata

    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise DataError(f"rank_matrix needs a (blocks, strategies) matrix, got shape {v.shape}")
    return rankdata(np.where(np.isnan(v), np.inf, v), axis=1)


def common_blocks(data: ExperimentData) -> tuple[list[str], list[str], list[int]]:
    """``(labels, excluded, repeats)``: strategies with at least one completed run, those
    without any (excluded), and the repeat indices completed by every included strategy."""
    labels = [label for label, s in data.strategies.items() if s.runs]
    excluded = [label for label, s in data.strategies.items() if not s.runs]
    common = None
    for label in labels:
        ks = {r.repeat for r in data.strategies[label].runs}
        common = ks if common is None else common & ks
    return labels, excluded, sorted(common or ())


@dataclass(frozen=True)
class RankCurves:
    """Average rank (1 = best) per strategy on ``grid``.

    ``ranks[label]`` has one value per grid point; ``blocks`` lists the repeat indices
    used (completed by every strategy in ``ranks``); ``excluded`` the strategies without
    any completed run (left out of the ranking).
    """

    x: str
    grid: np.ndarray
    ranks: dict[str, np.ndarray]
    blocks: tuple[int, ...]
    excluded: tuple[str, ...]

    def __getitem__(self, label: str) -> np.ndarray:
        return self.ranks[label]


def rank_curves(data: ExperimentData, x: str = "eval", *, grid=None, points: int = 200) -> RankCurves:
    """Anytime average rank by regret of every strategy (see the module docstring).

    ``x``/``grid``/``points`` are as in :func:`curves` (``"eval"``: evaluation count;
    ``"time"``: simulated time in the benchmark's cost unit). Before its first result a
    run has no incumbent and ranks last in its block. Raises :class:`benchlab.DataError`
    when fewer than two strategies have completed runs or no repeat index was completed by
    all of them.
    """
    _choice(x, tuple(X_AXES), "x axis")
    labels, excluded, blocks = common_blocks(data)
    if len(labels) < 2:
        raise DataError(f"ranks need at least 2 strategies with completed runs, {data.folder} has {len(labels)}")
    if not blocks:
        raise DataError(
            f"no repeat index was completed by every strategy in {data.folder}; re-run the experiment to complete the runs"
        )
    cv = curves(data, x, "regret", grid=grid, points=points)
    # (strategies, blocks, points): row of repeat k of each strategy
    stack = np.empty((len(labels), len(blocks), cv.grid.size))
    for i, label in enumerate(labels):
        row_of = {r.repeat: j for j, r in enumerate(data.strategies[label].runs)}
        stack[i] = cv.matrices[label][[row_of[k] for k in blocks]]
    # rank across strategies for every (block, point)
    flat = np.moveaxis(stack, 0, -1).reshape(-1, len(labels))
    ranks = rank_matrix(flat).reshape(len(blocks), cv.grid.size, len(labels)).mean(axis=0)
    return RankCurves(x, cv.grid, {label: ranks[:, i] for i, label in enumerate(labels)}, tuple(blocks), tuple(excluded))


def plot_ranks(data: ExperimentData, path, x: str = "eval", *, logx: bool = True, dpi: int = 120, points: int = 200) -> Path:
    """Plot the anytime average rank (:func:`rank_curves`) of every strategy to ``path``.

    Lower is better (1 = best in every seed). The format follows the suffix of ``path``
    (png, pdf, svg); the file is replaced atomically. Returns ``path``.
    """
    rc = rank_curves(data, x, points=points)
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    setup = describe_setup(data)
    fig = Figure(figsize=(6.8, 4.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = [c["color"] for c in rcParams["axes.prop_cycle"]]
    labels = list(data.strategies)
    for label, r in rc.ranks.items():
        color = colors[labels.index(label) % len(colors)]  # same color as in plot()
        ax.plot(rc.grid, r, color=color, lw=1.6, drawstyle="steps-post", label=label)
    k = len(rc.ranks)
    ax.set_ylim(k + 0.1, 0.9)  # best (rank 1) at the top
    if logx and rc.grid.size and rc.grid[0] > 0:
        ax.set_xscale("log")
    ax.set_xlabel("evaluations" if x == "eval" else f"simulated time ({setup.get('cost_unit') or 'cost unit'})")
    ax.set_ylabel("average rank by regret (1 = best)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    text = f"ranked within each of {len(rc.blocks)} seeds (paired by repeat index), ties averaged"
    if rc.excluded:
        text += f"; left out (no completed run): {', '.join(rc.excluded)}"
    title = [f"{setup['experiment']}: {setup['benchmark']}, average rank", *textwrap.wrap(text, 80)]
    fig.suptitle("\n".join(title), fontsize=10)
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=0.75 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - (0.3 + 0.2 * len(title)) / h)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
