"""Pareto fronts and hypervolume of multi-objective runs.

``pareto_front`` and ``hypervolume`` work on plain ``(n, m)`` arrays of objective values
with a direction (``"max"``/``"min"``) per column. ``hypervolume_curves`` reads an
experiment (every objective per row of ``trials.parquet``: ``value`` for the first one,
``objective:<name>`` for the others, as the harness writes them) and gives, per run, the
hypervolume of the points evaluated so far after each evaluation.

Hypervolume (Zitzler & Thiele, PPSN 1998): the measure of the region dominated by the
points and bounded by the reference point. Exact algorithms here: a sort-and-sweep in 2-D
(O(n log n)); for m > 2 objectives, hypervolume by slicing objectives (HSO; Zitzler 2001,
While et al., IEEE TEC 2006): sort by the last objective, and sum slab thickness times the
(m-1)-dimensional hypervolume of the points above the slab, recursively, with the
non-dominated filter at every level. Exponential in m in the worst case: exact and meant for
the 2-4 objectives and the few hundred points of NAS runs, not for many-objective use.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._errors import InvalidConfig
from .._store import atomic_write_bytes, read_trial_columns
from ._curves import STATS, Curves, _choice, aggregate, step_values
from ._load import ExperimentData

__all__ = [
    "HypervolumeCurves",
    "final_hypervolume",
    "hypervolume",
    "hypervolume_curves",
    "pareto_front",
    "plot_hypervolume",
]


def _as_min(points, directions) -> np.ndarray:
    """``points`` as a float ``(n, m)`` array in which every column is minimised."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 1:
        p = p.reshape(1, -1) if p.size else p.reshape(0, len(directions))
    if p.ndim != 2:
        raise InvalidConfig(f"points must be an (n, m) array, got shape {p.shape}")
    directions = [directions] if isinstance(directions, str) else list(directions)
    if len(directions) != p.shape[1]:
        raise InvalidConfig(f"{p.shape[1]} objectives but {len(directions)} directions ({directions})")
    signs = []
    for d in directions:
        if d not in ("max", "min"):
            raise InvalidConfig(f"direction must be 'max' or 'min', got {d!r}")
        signs.append(-1.0 if d == "max" else 1.0)
    return p * np.asarray(signs)


def _nondominated_min(p: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``p`` (minimised, finite) that no other row dominates.
    Duplicated rows are all kept."""
    n = p.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    le = np.all(p[:, None, :] <= p[None, :, :], axis=2)
    lt = np.any(p[:, None, :] < p[None, :, :], axis=2)
    dominated = np.any(le & lt, axis=0)
    return ~dominated


def pareto_front(points, directions) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``points`` (``(n, m)``; ``directions[k]``
    is ``"max"`` or ``"min"`` for column k). Rows with a NaN are never on the front and do
    not dominate anything; rows with equal values are all kept."""
    p = _as_min(points, directions)
    ok = ~np.isnan(p).any(axis=1)
    mask = np.zeros(p.shape[0], dtype=bool)
    mask[ok] = _nondominated_min(p[ok])
    return mask


def _hv2d(p: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume of minimised points strictly better than ``ref`` in both objectives."""
    order = np.lexsort((p[:, 1], p[:, 0]))  # by x, then y
    volume = 0.0
    best_y = ref[1]
    for x, y in p[order]:
        if y < best_y:
            volume += (ref[0] - x) * (best_y - y)
            best_y = y
    return float(volume)


def _hv(p: np.ndarray, ref: np.ndarray) -> float:
    n, m = p.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - p[:, 0].min())
    if m == 2:
        return _hv2d(p, ref)
    p = p[_nondominated_min(p)]
    p = p[np.argsort(p[:, -1], kind="stable")]
    volume = 0.0
    for i in range(p.shape[0]):
        top = p[i + 1, -1] if i + 1 < p.shape[0] else ref[-1]
        depth = top - p[i, -1]
        if depth > 0:
            volume += depth * _hv(p[: i + 1, :-1], ref[:-1])
    return float(volume)


def hypervolume(points, directions, reference) -> float:
    """Exact hypervolume of ``points`` (``(n, m)``) with respect to ``reference`` (``m``
    values in the same units and directions as the points).

    The region counted is every point y with ``reference`` worse than or equal to y and
    some evaluated point at least as good as y in every objective. Points that are not
    strictly better than the reference in every objective add nothing; rows with a NaN
    or an infinity are ignored. 2-D: sweep; more objectives: HSO slicing (module doc).
    """
    p = _as_min(points, directions)
    ref = _as_min(np.asarray(reference, dtype=np.float64).reshape(1, -1), directions)[0]
    if not np.all(np.isfinite(ref)):
        raise InvalidConfig(f"hypervolume: the reference point must be finite, got {list(reference)}")
    p = p[np.all(np.isfinite(p), axis=1)]
    p = p[np.all(p < ref, axis=1)]
    return _hv(p, ref)


# -- experiments ------------------------------------------------------------------------
@dataclass(frozen=True)
class HypervolumeCurves(Curves):
    """:class:`Curves` of hypervolume vs evaluations, with how it was computed.

    ``objectives``: ``[(name, direction)]``; ``ranges``: per objective the ``(low, high)``
    values mapped to 0 and 1 before the hypervolume is taken; ``reference``: the reference
    point in the objectives' own units; ``normalized``: whether values were rescaled.
    """

    objectives: tuple = ()
    ranges: dict = field(default_factory=dict)
    reference: tuple = ()
    normalized: bool = True


def _objectives(data: ExperimentData) -> list[tuple[str, str]]:
    objs = [(str(o.get("name")), str(o.get("direction") or "max")) for o in data.benchmark.get("objectives") or []]
    if not objs and data.objective:
        objs = [(data.objective, data.direction or "max")]
    return objs


def _run_points(run, objectives) -> tuple[np.ndarray, np.ndarray]:
    """``(eval counts, (n, m) objective values)`` of one run, in tell order."""
    names = ["eval", "value"] + [f"objective:{name}" for name, _ in objectives[1:]]
    cols = read_trial_columns(run.folder, names)
    pts = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in names[1:]])
    return np.asarray(cols["eval"], dtype=np.float64), pts


def _prefix_hypervolume(pts: np.ndarray, directions, ref: np.ndarray) -> np.ndarray:
    """Hypervolume of ``pts[:k+1]`` for every k (``pts`` already scaled), reusing the front."""
    out = np.zeros(pts.shape[0])
    mins = _as_min(pts, directions)
    ref_min = _as_min(ref.reshape(1, -1), directions)[0]
    front = np.zeros((0, pts.shape[1]))
    hv = 0.0
    for k, q in enumerate(mins):
        useful = np.all(np.isfinite(q)) and np.all(q < ref_min)
        if useful and not np.any(np.all(front <= q, axis=1)):  # not weakly dominated: the volume grows
            keep = ~np.all(q <= front, axis=1)
            front = np.vstack([front[keep], q])
            hv = _hv(front, ref_min)
        out[k] = hv
    return out


def hypervolume_curves(data: ExperimentData, *, reference=None, ranges=None, normalize: bool = True) -> HypervolumeCurves:
    """Per run, the hypervolume of the points evaluated so far after each evaluation.

    Objectives and directions are the benchmark's (``summary.json`` ``benchmark.objectives``);
    the values are the ones the strategies saw (``value`` and ``objective:<name>`` of
    ``trials.parquet``).

    ``normalize=True`` (default) rescales each objective linearly to [0, 1] with
    ``ranges[name] = (low, high)`` when given (e.g. the benchmark's known range over the
    whole table), else the minimum and maximum observed over every run of the experiment;
    the hypervolume is then a fraction of the unit box, comparable across objectives of
    different units. ``reference`` (values in the objectives' own units, one per
    objective) defaults to the worst value observed per objective over every run of the
    experiment (minimum of a maximised objective, maximum of a minimised one); points no
    better than the reference in some objective add nothing. Non-finite values are ignored.

    Returns :class:`HypervolumeCurves` on the grid ``1..max evaluations`` (the last value is
    held after a shorter run ends); ``matrices[label]`` has one row per completed run.
    """
    objectives = _objectives(data)
    if not objectives:
        raise InvalidConfig(f"{data.folder}: no objectives recorded (no completed run?)")
    directions = [d for _, d in objectives]
    m = len(objectives)
    per_run: dict[str, list] = {}
    allpts = []
    for label, s in data.strategies.items():
        per_run[label] = []
        for r in s.runs:
            ev, pts = _run_points(r, objectives)
            per_run[label].append((ev, pts))
            allpts.append(pts)
    stacked = np.vstack(allpts) if allpts else np.zeros((0, m))
    finite = np.where(np.isfinite(stacked), stacked, np.nan)
    obs_lo, obs_hi = np.full(m, np.nan), np.full(m, np.nan)
    for k in range(m):
        col = finite[:, k]
        if np.any(~np.isnan(col)):
            obs_lo[k], obs_hi[k] = np.nanmin(col), np.nanmax(col)
    if reference is None:
        ref = np.array([obs_lo[k] if d == "max" else obs_hi[k] for k, d in enumerate(directions)], dtype=np.float64)
    else:
        ref = np.asarray(reference, dtype=np.float64).ravel()
        if ref.size != m:
            raise InvalidConfig(f"hypervolume_curves: reference needs {m} values ({[n for n, _ in objectives]}), got {ref.size}")
    used_ranges = {}
    lo, hi = np.zeros(m), np.ones(m)
    for k, (name, _) in enumerate(objectives):
        given = (ranges or {}).get(name)
        a, b = (float(given[0]), float(given[1])) if given is not None else (float(obs_lo[k]), float(obs_hi[k]))
        if normalize:
            lo[k], hi[k] = a, (b if b > a else a + 1.0)
        used_ranges[name] = (a, b)
    scale = lambda x: (x - lo) / (hi - lo)
    ref_scaled = scale(ref)
    n = max((ev.size for runs in per_run.values() for ev, _ in runs), default=0)
    grid = np.arange(1, n + 1, dtype=np.float64)
    matrices = {}
    for label, runs in per_run.items():
        mat = np.empty((len(runs), grid.size))
        for i, (ev, pts) in enumerate(runs):
            hv = _prefix_hypervolume(scale(pts), directions, ref_scaled) if np.all(np.isfinite(ref_scaled)) else np.zeros(ev.size)
            mat[i] = step_values(ev, hv, grid)
        matrices[label] = mat
    return HypervolumeCurves(
        "eval", "hypervolume", grid, matrices, tuple(objectives), used_ranges, tuple(float(x) for x in ref), normalize
    )


def final_hypervolume(cv: HypervolumeCurves) -> dict[str, tuple[float, float, int]]:
    """Per strategy label: ``(mean, standard error, runs)`` of the hypervolume at the end of
    the runs (last grid point; SE = sample std / sqrt(runs), NaN below 2 runs)."""
    out = {}
    for label, mat in cv.matrices.items():
        v = mat[:, -1] if mat.size else np.zeros(0)
        v = v[np.isfinite(v)]
        mean = float(v.mean()) if v.size else float("nan")
        se = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
        out[label] = (mean, se, int(v.size))
    return out


def _add_hypervolume_columns(table, cv: HypervolumeCurves) -> None:
    """``hypervolume_mean`` / ``hypervolume_se`` columns on a :func:`summary_table` frame."""
    finals = final_hypervolume(cv)
    nan = (float("nan"), float("nan"), 0)
    table["hypervolume_mean"] = [finals.get(label, nan)[0] for label in table["strategy"]]
    table["hypervolume_se"] = [finals.get(label, nan)[1] for label in table["strategy"]]


def plot_hypervolume(
    data: ExperimentData, path, *, stat: str = "mean_se", logx: bool = False, dpi: int = 120, curves=None, **kwargs
) -> Path:
    """Plot hypervolume vs evaluations per strategy (line = center, band = spread) to
    ``path`` (format from the suffix; replaced atomically). ``kwargs`` go to
    :func:`hypervolume_curves` (``reference``, ``ranges``, ``normalize``); or pass
    ``curves`` computed already."""
    _choice(stat, STATS, "statistic")
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ._tables import describe_setup

    path = Path(path)
    cv = curves if curves is not None else hypervolume_curves(data, **kwargs)
    setup = describe_setup(data)
    fig = Figure(figsize=(6.4, 4.6))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    colors = [c["color"] for c in rcParams["axes.prop_cycle"]]
    drawn = False
    for k, (label, mat) in enumerate(cv.matrices.items()):
        color = colors[k % len(colors)]
        if mat.shape[0] == 0:
            continue
        center, low, high = aggregate(mat, stat)
        ax.plot(cv.grid, center, color=color, lw=1.6, drawstyle="steps-post", label=f"{label} ({mat.shape[0]} runs)")
        ok = np.isfinite(low) & np.isfinite(high)
        if ok.any():
            ax.fill_between(cv.grid, low, high, where=ok, color=color, alpha=0.2, step="post", lw=0)
        drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no completed runs", ha="center", va="center", transform=ax.transAxes, color="0.4")
    elif logx:
        ax.set_xscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume" + (" (objectives scaled to [0, 1])" if cv.normalized else ""))
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="best")
    objs = ", ".join(f"{n} ({d})" for n, d in cv.objectives)
    ref = ", ".join(f"{x:.4g}" for x in cv.reference)
    title = [f"{setup['experiment']}: {setup['benchmark']}, objectives {objs}"]
    title += textwrap.wrap(
        f"{'mean ± standard error' if stat == 'mean_se' else 'median and IQR'} over runs; reference point ({ref}); "
        f"budget {setup['budget']}",
        76,
    )
    fig.suptitle("\n".join(title), fontsize=9)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=1 - (0.3 + 0.18 * len(title)) / 4.6)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
