"""Friedman test over final regrets, Nemenyi critical difference, critical-difference diagram.

Source: J. Demšar, "Statistical Comparisons of Classifiers over Multiple Data Sets",
JMLR 7:1-30, 2006 (section 3.2.2; Table 5a for the Nemenyi critical values). Here a
block is one repeat index (the runs of every strategy with the same ``k``: same
benchmark, paired seeds) and the treatments are the strategies.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._store import atomic_write_bytes
from ._load import ExperimentData
from ._ranks import common_blocks, rank_matrix
from ._tables import describe_setup

__all__ = ["NEMENYI_Q05", "cd_cliques", "critical_difference", "friedman", "nemenyi_q", "plot_cd"]

#: Nemenyi critical values q_0.05 for k = 2..10 strategies (Demšar 2006, Table 5a:
#: studentized range statistic divided by sqrt(2)).
NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """Nemenyi critical value q_alpha for ``k`` strategies.

    ``alpha=0.05`` and ``k <= 10``: Demšar's Table 5a. Otherwise the studentized range
    quantile with infinite degrees of freedom over sqrt(2) (``scipy.stats.studentized_range``),
    which reproduces that table to 1e-3.
    """
    if k < 2:
        raise DataError(f"the Nemenyi test needs at least 2 strategies, got {k}")
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be in (0, 1), got {alpha}")
    if alpha == 0.05 and k in NEMENYI_Q05:
        return NEMENYI_Q05[k]
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks: ``q_alpha * sqrt(k (k + 1) / (6 N))``
    for ``k`` strategies over ``N`` blocks (Demšar 2006, section 3.2.2)."""
    if n < 1:
        raise DataError(f"the critical difference needs at least 1 block, got {n}")
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6.0 * n))


def cd_cliques(average_ranks: dict[str, float], cd: float) -> list[list[str]]:
    """Maximal groups of strategies whose average ranks all differ by less than ``cd``
    (not significantly different), sorted by rank; groups of one strategy are omitted."""
    items = sorted(average_ranks.items(), key=lambda kv: (kv[1], kv[0]))
    out: list[list[str]] = []
    last_end = -1
    for i in range(len(items)):
        j = i
        while j + 1 < len(items) and items[j + 1][1] - items[i][1] < cd:
            j += 1
        if j > i and j > last_end:  # not contained in the previous group
            out.append([label for label, _ in items[i : j + 1]])
            last_end = j
    return out


def _friedman_stat(ranks: np.ndarray) -> float:
    """Friedman chi-square with tie correction from a ``(blocks, k)`` rank matrix
    (the formula of ``scipy.stats.friedmanchisquare``, which refuses k = 2)."""
    n, k = ranks.shape
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts * (counts * counts - 1.0)))
    c = 1.0 - ties / (k * (k * k - 1.0) * n)
    if c <= 0:
        return math.nan
    ssbn = float(np.sum(ranks.sum(axis=0) ** 2))
    return (12.0 / (k * n * (k + 1)) * ssbn - 3.0 * n * (k + 1)) / c


def friedman(data: ExperimentData, alpha: float = 0.05) -> dict:
    """Friedman test over the final regrets (``summary.json``), blocks = repeat indices.

    Strategies without any completed run are left out (``excluded``); blocks are the
    repeat indices completed by all the others. A run without any evaluation (NaN regret)
    ranks last in its block, as does a run of a constrained benchmark that found no feasible
    architecture (its feasible regret is undefined). The statistic and p-value come from
    ``scipy.stats.friedmanchisquare`` (for k = 2 the same formula, chi-square with 1 df);
    NaN when every block is a complete tie.

    Returns ``statistic``, ``p_value``, ``n_blocks`` (N), ``k``, ``average_ranks``
    (``{label: rank}``, 1 = best, sorted best first), ``cd`` (Nemenyi critical difference
    at ``alpha``), ``q_alpha``, ``alpha``, ``cliques`` (:func:`cd_cliques`), ``blocks``
    (repeat indices) and ``excluded``. Raises :class:`benchlab.DataError` when fewer than
    two strategies or fewer than two common blocks are available.
    """
    labels, excluded, blocks = common_blocks(data)
    if len(labels) < 2:
        raise DataError(f"the Friedman test needs at least 2 strategies with completed runs, {data.folder} has {len(labels)}")
    if len(blocks) < 2:
        raise DataError(
            f"the Friedman test needs at least 2 repeats completed by every strategy, {data.folder} has {len(blocks)}; "
            "run more seeds (--seeds) or re-run to complete them"
        )
    values = np.empty((len(blocks), len(labels)))
    for j, label in enumerate(labels):
        by_k = {r.repeat: r.final("regret") for r in data.strategies[label].runs}
        values[:, j] = [by_k[k] for k in blocks]
    values = np.where(np.isnan(values), np.inf, values)
    ranks = rank_matrix(values)
    k, n = len(labels), len(blocks)
    if k >= 3 and np.isfinite(values).all():
        from scipy.stats import friedmanchisquare

        with np.errstate(divide="ignore", invalid="ignore"):
            res = friedmanchisquare(*values.T)
        stat, p = float(res.statistic), float(res.pvalue)
    else:
        from scipy.stats import chi2

        stat = _friedman_stat(ranks)
        p = float(chi2.sf(stat, k - 1)) if np.isfinite(stat) else math.nan
    if not np.isfinite(stat):
        stat, p = math.nan, math.nan
    avg = dict(sorted(zip(labels, (float(x) for x in ranks.mean(axis=0))), key=lambda kv: (kv[1], kv[0])))
    cd = critical_difference(k, n, alpha)
    return {
        "statistic": stat,
        "p_value": p,
        "n_blocks": n,
        "k": k,
        "average_ranks": avg,
        "cd": cd,
        "q_alpha": nemenyi_q(k, alpha),
        "alpha": alpha,
        "cliques": cd_cliques(avg, cd),
        "blocks": blocks,
        "excluded": excluded,
    }


def plot_cd(data: ExperimentData, path, *, alpha: float = 0.05, dpi: int = 120, result: dict | None = None) -> Path:
    """Critical-difference diagram (Demšar 2006, Fig. 1) of the final regrets to ``path``.

    An axis of average ranks (1 = best, on the left), every strategy marked at its rank
    and labelled (best half on the left, the rest on the right), the Nemenyi CD drawn to
    scale above the axis, and thick bars joining groups that are not significantly
    different. The title gives the Friedman statistic and p-value. ``result`` reuses a
    :func:`friedman` dict. The format follows the suffix of ``path``; returns ``path``.
    """
    res = result if result is not None else friedman(data, alpha)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    avg = res["average_ranks"]
    k, cd = res["k"], res["cd"]
    items = list(avg.items())  # best first
    left = items[: (k + 1) // 2]
    right = items[(k + 1) // 2 :][::-1]  # worst first: outermost label line highest
    n_rows = max(len(left), len(right))
    n_cliques = len(res["cliques"])
    height = 1.85 + 0.3 * n_rows + 0.15 * n_cliques
    label_in = 0.3 + 0.075 * max(len(f"({r:.2f}) {label}") for label, r in items)  # ~0.075 in per char at 9 pt
    width = 3.6 + 2 * (label_in + 0.3)
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    lo, hi = 1.0, float(k)
    x0, x1 = (label_in + 0.3) / width, 1 - (label_in + 0.3) / width  # axis span in axes fraction
    span = max(hi - lo, 1e-9)

    def xpos(rank: float) -> float:
        return x0 + (rank - lo) / span * (x1 - x0)

    def ypos(inches: float) -> float:  # distance from the top (below the title) in inches -> axes fraction
        return 1.0 - (inches + 0.25) / height

    y_axis = ypos(1.0)
    ax.plot([x0, x1], [y_axis, y_axis], color="k", lw=1)
    for r in range(1, k + 1):
        ax.plot([xpos(r)] * 2, [y_axis, y_axis + 0.06 / height * 2], color="k", lw=1)
        ax.text(xpos(r), y_axis + 0.2 / height, str(r), ha="center", va="bottom", fontsize=9)
    # critical difference, to scale, above the axis
    y_cd = ypos(0.35)
    ax.plot([xpos(lo), xpos(min(lo + cd, hi + cd))], [y_cd, y_cd], color="k", lw=2)
    ax.text(xpos(lo), y_cd + 0.05 / height, f"CD = {cd:.3g}", ha="left", va="bottom", fontsize=9)
    # cliques: thick bars just below the axis
    for i, group in enumerate(res["cliques"]):
        y = ypos(1.15 + 0.15 * i)
        ax.plot([xpos(avg[group[0]]) - 0.005, xpos(avg[group[-1]]) + 0.005], [y, y], color="k", lw=3, solid_capstyle="round")
    base = 1.25 + 0.15 * n_cliques
    for side, rows in (("left", left), ("right", right)):
        for i, (label, rank) in enumerate(rows):
            y = ypos(base + 0.3 * (i + 1) - 0.15)
            xr = xpos(rank)
            xe = x0 - 0.1 / width if side == "left" else x1 + 0.1 / width
            ax.plot([xr, xr, xe], [y_axis, y, y], color="0.2", lw=1)
            ax.plot([xr], [y_axis], marker="o", color="k", ms=3)
            ax.text(
                xe - 0.01 if side == "left" else xe + 0.01,
                y,
                f"{label} ({rank:.2f})" if side == "right" else f"({rank:.2f}) {label}",
                ha="right" if side == "left" else "left",
                va="center",
                fontsize=9,
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    setup = describe_setup(data)
    p = res["p_value"]
    verdict = (
        "no Friedman result (all tied)"
        if not np.isfinite(p)
        else f"Friedman χ² = {res['statistic']:.3g}, p = {p:.3g}"
        + ("" if p < res["alpha"] else " (not significant: no strategy is shown to differ)")
    )
    fig.text(
        0.5,
        1.0 - 0.08 / height,
        f"{setup['experiment']}: final regret, {res['n_blocks']} paired seeds; {verdict}; "
        f"Nemenyi α = {res['alpha']:g}",
        ha="center",
        va="top",
        fontsize=8,
        wrap=True,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
