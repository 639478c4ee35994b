"""NAS-Bench-101 (Ying et al., ICML 2019), section 5 / Figure 7: regret vs simulated time.

Protocol of the paper: every query returns the validation accuracy of one of the cell's 3
training runs at 108 epochs, drawn at random, and costs that run's training time; the
incumbent is the architecture with the best validation accuracy seen so far; its regret
is 0.943175752957662 (the best mean test accuracy in the dataset) minus its mean test
accuracy over the 3 runs, plotted against the total training time spent, on log-log axes,
mean over runs (the paper: 500 runs per optimiser, up to ~10**7 simulated seconds).

Here: benchmark ``nb101`` (``seed_mode="one"``, ``cost="time"``, 108 epochs) on the
imported official table (or any NB101 table with test accuracies and training times),
every registered single-objective strategy of the zoo with its default hyper-parameters
(the paper tuned each optimiser; its settings are not all reproducible here), and, when
the table holds the 4/12/36-epoch budgets (``--full`` import), the multi-fidelity ones
(Hyperband, BOHB, ...) over 4..108 epochs as in the paper. Budget 5e6 simulated seconds
per run (``BUDGET_SECONDS``). The report gives the regret at 1e4, 1e5, 1e6 and 5e6 s
(mean ± standard error) and the plot the mean regret curves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchlab._protocols import Protocol, register_protocol, write_text_and_csv

__all__ = ["BUDGET_SECONDS", "CHECKPOINTS", "PAPER_OPTIMUM", "reproduce"]

BUDGET_SECONDS = 5e6
CHECKPOINTS = (1e4, 1e5, 1e6, 5e6)
#: Best mean test accuracy at 108 epochs (paper section 5; DESIGN.md section 5).
PAPER_OPTIMUM = 0.943175752957662
_SKIP_TAGS = {"multi_objective", "needs_training"}
_SKIP_NAMES = {"optuna"}  # the generic Optuna adapter: its default sampler `tpe` is run under its own name


def _strategies(multi_fidelity: bool) -> list[str]:
    from benchlab import STRATEGIES

    names = []
    for name in STRATEGIES.names():
        if name.startswith("_") or name in _SKIP_NAMES:
            continue
        try:
            tags = set(STRATEGIES.get(name)().tags)
        except Exception:  # needs arguments or an optional dependency
            continue
        if tags & _SKIP_TAGS or ("multi_fidelity" in tags and not multi_fidelity):
            continue
        names.append(name)
    return names


def reproduce(runs: int = 100, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
              progress: bool = True, seed: int = 0, table: str = "nb101", strategies: list | None = None,
              budget: float = BUDGET_SECONDS, seed_mode: str = "one") -> dict:  # fmt: skip
    """Run the protocol; write ``regret.md``, ``regret.csv`` and ``regret.png``; return them.

    ``table``: the NB101 table (default the imported official one; a clear error says how
    to import it when it is missing). ``strategies``: names (default every applicable
    registered strategy). ``seed_mode="mean"`` answers queries with the mean of the 3 runs
    (the paper draws one: the default).
    """
    from benchlab import Experiment, InvalidConfig, StrategyConfig, run_experiment
    from benchlab.analysis import curves, load_experiment, plot

    from ._benchmark import NB101

    kwargs = {"seed_mode": seed_mode, "cost": "time"}
    if table != "nb101":
        kwargs["table"] = table
    bench = NB101(**kwargs)  # DataError with the import command when the table is missing
    if bench.report_metric != "test_acc":
        raise InvalidConfig(f"nb101 protocol: table {table!r} has no test accuracies; import the official file")
    multi = bench.fidelity is not None and len(bench.fidelity.values) > 1
    names = list(strategies or _strategies(multi))
    optimum = bench.optimum("test_acc")
    exp = Experiment(
        name="nb101-regret",
        benchmark="nb101",
        benchmark_kwargs=kwargs,
        benchmark_label=table,
        strategies=tuple(StrategyConfig(n) for n in names),
        repeats=runs,
        seed=seed,
        max_seconds=float(budget),
        root=Path(root),
    )
    counts = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
    data = load_experiment(exp.folder)
    checkpoints = [c for c in CHECKPOINTS if c <= budget] or [float(budget)]
    cv = curves(data, x="time", metric="regret", grid=np.asarray(checkpoints, dtype=np.float64))
    rows = []
    for label, m in cv.matrices.items():
        row = {"strategy": label, "runs": int(m.shape[0]), "failed": len(data.strategies[label].failed)}
        for j, c in enumerate(checkpoints):
            col = m[:, j]
            col = col[np.isfinite(col)]
            row[f"regret_{c:g}s_mean"] = float(col.mean()) if col.size else math.nan
            row[f"regret_{c:g}s_se"] = float(col.std(ddof=1) / math.sqrt(col.size)) if col.size > 1 else math.nan
            row[f"regret_{c:g}s_n"] = int(col.size)
        rows.append(row)
    last = f"regret_{checkpoints[-1]:g}s_mean"
    rows.sort(key=lambda r: (math.isnan(r[last]), r[last]))
    note = "" if table == "nb101" else f" (table `{table}`)"
    lines = [
        "# NAS-Bench-101 regret vs simulated time (Ying et al., ICML 2019, Figure 7)",
        "",
        f"Benchmark nb101{note}: each query "
        + ("draws one of the 3 training runs" if seed_mode == "one" else "sees the mean of the 3 training runs (not the paper's draw)")
        + " at 108 epochs and costs its training "
        f"time; regret = {optimum:.15g} (best mean test accuracy of the table; the paper's is {PAPER_OPTIMUM}) minus "
        f"the mean test accuracy of the incumbent chosen by validation accuracy; budget {budget:g} simulated s; "
        "mean ± standard error over runs (n: runs with a result by then). Strategies use their default "
        "hyper-parameters (the paper tuned each optimiser).",
        "",
        "| rank | strategy | runs | " + " | ".join(f"regret @ {c:g} s" for c in checkpoints) + " |",
        "|--:|:--|--:|" + "--:|" * len(checkpoints),
    ]
    for i, r in enumerate(rows, 1):
        cells = []
        for c in checkpoints:
            mean, se, n = r[f"regret_{c:g}s_mean"], r[f"regret_{c:g}s_se"], r[f"regret_{c:g}s_n"]
            cells.append("-" if math.isnan(mean) else f"{mean:.5f} ± {se:.5f} (n={n})" if not math.isnan(se) else f"{mean:.5f} (n={n})")
        lines.append(f"| {i} | {r['strategy']} | {r['runs']} | " + " | ".join(cells) + " |")
    if not multi:
        lines.append("")
        lines.append("Multi-fidelity strategies were not run: the table has 108 epochs only (import nasbench_full.tfrecord "
                     "with `--full` for the 4/12/36-epoch budgets).")  # fmt: skip
    text = "\n".join(lines) + "\n"
    md, csv_path = write_text_and_csv(exp.folder, "regret", text, rows)
    png = plot(data, exp.folder / "regret.png", x="time", metric="regret", stat="mean_se", logx=True, logy=True)
    return {"text": text, "markdown": md, "csv": csv_path, "plot": png, "counts": counts, "rows": rows}


register_protocol(
    Protocol(
        name="nb101",
        description="NAS-Bench-101 paper Figure 7: regret vs simulated training time, one run drawn per query, 5e6 s",
        default_runs=100,
        run=reproduce,
    )
)
