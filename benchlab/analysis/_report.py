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
REPORT_FORMATS = TABLE_FORMATS + PLOT_FORMATS


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
    ``stat``/``logx``/``logy`` are as in :func:`plot`.

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
    return {
        "data": data,
        "table": table,
        "markdown_text": format_markdown(table),
        "paths": paths,
        "csv": paths.get("csv"),
        "markdown": paths.get("md"),
        "plot": plots[0] if plots else None,
    }
