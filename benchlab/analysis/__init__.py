"""Analysis of stored experiments: anytime curves, statistics, tables, plots, reports.

Reads only the files the harness writes (``experiment.json``, ``summary.json``,
``trials.parquet``). matplotlib is imported only when a plot is drawn.

>>> from benchlab.analysis import report
>>> report("results/demo")  # doctest: +SKIP
"""

from ._curves import METRICS, STATS, X_AXES, Curves, aggregate, curves
from ._load import ExperimentData, FailedRun, RunData, StrategyData, load_experiment
from ._pareto import HypervolumeCurves, final_hypervolume, hypervolume, hypervolume_curves, pareto_front, plot_hypervolume
from ._plots import plot
from ._ranks import RankCurves, plot_ranks, rank_curves
from ._report import PLOT_FORMATS, REPORT_FORMATS, report
from ._stats import NEMENYI_Q05, cd_cliques, critical_difference, friedman, nemenyi_q, plot_cd
from ._tables import TABLE_FORMATS, describe_setup, format_markdown, summary_table, write_tables

__all__ = [
    "Curves",
    "ExperimentData",
    "FailedRun",
    "HypervolumeCurves",
    "METRICS",
    "PLOT_FORMATS",
    "REPORT_FORMATS",
    "RunData",
    "STATS",
    "StrategyData",
    "TABLE_FORMATS",
    "X_AXES",
    "aggregate",
    "curves",
    "describe_setup",
    "final_hypervolume",
    "format_markdown",
    "hypervolume",
    "hypervolume_curves",
    "load_experiment",
    "pareto_front",
    "plot",
    "plot_hypervolume",
    "report",
    "summary_table",
    "write_tables",
    "RankCurves",
    "plot_ranks",
    "rank_curves",
    "NEMENYI_Q05",
    "cd_cliques",
    "critical_difference",
    "friedman",
    "nemenyi_q",
    "plot_cd",
]
