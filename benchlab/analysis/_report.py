"""``report``: load an experiment, write its tables and plots (what ``benchlab report`` runs)."""

from __future__ import annotations

from pathlib import Path

from .._errors import InvalidConfig
from ._curves import METRICS, STATS, X_AXES, _choice
from ._load import load_experiment
from ._pareto import _add_hypervolume_columns, hypervolume_curves, plot_hypervolume
from ._plots import plot
from ._tables import TABLE_FORMATS, format_markdown, summary_table, write_tables

__all__ = ["report", "REPORT_FORMATS", "PLOT_FORMATS"]

PLOT_FORMATS = ("png", "pdf", "svg")
#: ``"html"``: ``report.html`` + ``report.md`` with rank and critical-difference plots.
REPORT_FORMATS = TABLE_FORMATS + PLOT_FORMATS + ("html",)


def _as_tuple(value) -> tuple:
    return (value,) if isinstance(value, str) else tuple(value)


def report(
    folder,
    out=None,
    *,
    x="eval",
    metric: str = "regret",
    stat: str = "mean_se",
    logx: bool = True,
    logy: bool = False,
    formats=("csv", "md", "png"),
    dpi: int = 120,
) -> dict:
    """Analyse the experiment in ``folder`` and write its report into ``out``.

    Writes ``summary.csv`` / ``summary.md`` / ``summary.tex`` (as ``formats`` asks) and one
    plot per x axis: ``<metric>.<fmt>`` for ``x="eval"`` and ``<metric>_time.<fmt>`` for
    ``x="time"`` (``x`` may be a list of both). ``out`` defaults to ``folder``. For a
    benchmark with several objectives it also writes ``hypervolume.<fmt>`` and adds
    ``hypervolume_mean``/``hypervolume_se`` (final, defaults of :func:`hypervolume_curves`)
    to the table.
    ``stat``/``logx``/``logy`` are as in :func:`plot`. Format ``"html"`` also writes the PNG
    plots, ``ranks[_time].png`` (:func:`plot_ranks`), ``cd.png`` (:func:`plot_cd`), a
    self-contained ``report.html`` and ``report.md`` (see :mod:`benchlab.analysis._html`);
    the result then has ``html`` (its Path) and ``friedman`` (the :func:`friedman` dict,
    or None when the test cannot run).

    Returns a dict: ``data`` (:class:`ExperimentData`), ``table`` (the
    :func:`summary_table` DataFrame), ``markdown_text`` (the Markdown report), ``paths``
    (``{name: Path}``; names are the table formats ``"csv"``, ``"md"``, ``"tex"`` and the
    plot file names ``"<metric>[_time].<fmt>"``), and for a CLI's convenience ``csv``,
    ``markdown`` (Path or None) and ``plot`` (the first plot's Path or None).
    """
    xs = _as_tuple(x)
    for value in xs:
        _choice(value, tuple(X_AXES), "x axis")
    _choice(metric, METRICS, "metric")
    _choice(stat, STATS, "statistic")
    formats = _as_tuple(formats)
    bad = [f for f in formats if f not in REPORT_FORMATS]
    if bad:
        raise InvalidConfig(f"unknown report format(s) {bad}; choose from {', '.join(REPORT_FORMATS)}")
    data = load_experiment(folder)
    out = Path(out) if out is not None else data.folder
    table = summary_table(data)
    hv = None
    if len(data.benchmark.get("objectives") or []) > 1 and data.n_completed:  # multi-objective: hypervolume too
        hv = hypervolume_curves(data)
        _add_hypervolume_columns(table, hv)
    paths: dict[str, Path] = dict(write_tables(table, out, [f for f in formats if f in TABLE_FORMATS]))
    for fmt in (f for f in formats if f in PLOT_FORMATS):
        for value in xs:
            name = f"{metric}{'' if value == 'eval' else '_' + value}.{fmt}"
            paths[name] = plot(data, out / name, x=value, metric=metric, stat=stat, logx=logx, logy=logy, dpi=dpi)
        if hv is not None:
            paths[f"hypervolume.{fmt}"] = plot_hypervolume(data, out / f"hypervolume.{fmt}", stat=stat, dpi=dpi, curves=hv)
    plots = [p for name, p in paths.items() if name not in TABLE_FORMATS]
    stats = None
    if "html" in formats:
        stats = _html_report(data, table, out, xs, metric, stat, logx, logy, dpi, paths, hv)
    return {
        "html": paths.get("html"),
        "friedman": stats,
        "data": data,
        "table": table,
        "markdown_text": format_markdown(table),
        "paths": paths,
        "csv": paths.get("csv"),
        "markdown": paths.get("md"),
        "plot": plots[0] if plots else None,
    }


def _html_report(data, table, out, xs, metric, stat, logx, logy, dpi, paths, hv):
    """Write the PNGs the pages show (reusing ``paths``), ranks, CD diagram and the pages."""
    from .._errors import DataError
    from ._html import write_pages
    from ._ranks import plot_ranks
    from ._stats import friedman, plot_cd

    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for value in xs:
        name = f"{metric}{'' if value == 'eval' else '_' + value}.png"
        if name not in paths:
            paths[name] = plot(data, out / name, x=value, metric=metric, stat=stat, logx=logx, logy=logy, dpi=dpi)
        images[f"{metric} vs {'evaluations' if value == 'eval' else 'simulated time'}"] = paths[name]
    if hv is not None:
        if "hypervolume.png" not in paths:
            paths["hypervolume.png"] = plot_hypervolume(data, out / "hypervolume.png", stat=stat, dpi=dpi, curves=hv)
        images["hypervolume"] = paths["hypervolume.png"]
    stats, error = None, None
    try:
        for value in xs:
            name = f"ranks{'' if value == 'eval' else '_' + value}.png"
            paths[name] = plot_ranks(data, out / name, x=value, logx=logx, dpi=dpi)
            images[f"average rank vs {'evaluations' if value == 'eval' else 'simulated time'}"] = paths[name]
        stats = friedman(data)
        paths["cd.png"] = plot_cd(data, out / "cd.png", dpi=dpi, result=stats)
        images["critical-difference diagram (final regret, Nemenyi)"] = paths["cd.png"]
    except DataError as exc:  # too few strategies or paired seeds: the page says why
        error = str(exc)
    paths.update(write_pages(data, table, out, images, stats, error))
    return stats
