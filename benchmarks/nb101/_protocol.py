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

Without the official table, the protocol runs on ``nb101-20k`` (20,001 real cells, one
training run each; ``benchlab data build nb101-20k --source DIR``): the space is those
cells (restricted sampling and mutation), there is no test split, so the incumbent is
chosen by validation accuracy AND the regret is of the 108-epoch validation accuracy
(optimum = best of the 20,001 cells); the 4/12/36-epoch costs are approximated as
epochs/108 of the 108-epoch training time. It runs the paper's optimiser families
(``STRATEGIES_20K``: random search, regularized evolution, local search, BANANAS, SMAC-RF,
REINFORCE, Hyperband and BOHB over 4..108 epochs) to 1e7 simulated seconds, reports the
regret at 1e5, 1e6 and 1e7 s, and checks the paper's qualitative claims (section 5): REA
and BO ahead of random search, REINFORCE close to random search, Hyperband/BOHB strong
early.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from benchlab.ext import Protocol, register_protocol, write_text_and_csv

__all__ = ["BUDGET_20K", "BUDGET_SECONDS", "CHECKPOINTS", "CHECKPOINTS_20K", "KWARGS_20K", "PAPER_OPTIMUM", "STRATEGIES_20K",
           "check_claims", "reproduce"]  # fmt: skip

BUDGET_SECONDS = 5e6
CHECKPOINTS = (1e4, 1e5, 1e6, 5e6)
#: Best mean test accuracy at 108 epochs (paper section 5; DESIGN.md section 5).
PAPER_OPTIMUM = 0.943175752957662
#: The subset protocol (table ``nb101-20k``): budget, checkpoints and strategies.
TABLE_20K = "nb101-20k"
BUDGET_20K = 1e7
CHECKPOINTS_20K = (1e5, 1e6, 1e7)
STRATEGIES_20K = ("random_search", "regularized_evolution", "local_search", "bananas", "smac_rf", "reinforce",
                  "hyperband", "bohb")  # fmt: skip
#: Runs of 1e7 simulated seconds hold 5,000-40,000 evaluations: the two model-based
#: strategies that refit per batch/ask would cost time quadratic in that. Here they refit on
#: a geometric schedule (once the told results grew by 20 %), BANANAS with at most 600 Adam
#: steps per fit (its paper's 150 epochs up to 128 results); every ask still scores fresh
#: candidates (BANANAS) or takes the next of the last ranking (SMAC-RF). Stated in the report.
KWARGS_20K = {"bananas": {"refit_growth": 0.2, "max_fit_steps": 600}, "smac_rf": {"refit_growth": 0.2}}
_SKIP_TAGS = {"multi_objective", "needs_training", "transfer", "constraint_aware"}
# (transfer and constraint-aware strategies are their base strategy again without a source/constraints)
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


def _open(table: str | None, seed_mode: str):
    """``(table, kwargs, benchmark)``: the official table, else ``nb101-20k`` when ``table`` is None."""
    from benchlab import DataError

    from ._benchmark import NB101

    if table is None:
        try:
            return "nb101", {"seed_mode": seed_mode, "cost": "time"}, NB101(seed_mode=seed_mode, cost="time")
        except DataError as official:
            try:
                kwargs = {"seed_mode": seed_mode, "cost": "time", "table": TABLE_20K}
                return TABLE_20K, kwargs, NB101(**kwargs)
            except DataError:
                raise DataError(f"{official} Or build the 20,001 real cells of nasbench-vis: `benchlab data build "
                                f"{TABLE_20K} --source DIR` (then this protocol runs on them).") from None  # fmt: skip
    kwargs = {"seed_mode": seed_mode, "cost": "time"}
    if table != "nb101":
        kwargs["table"] = table
    return table, kwargs, NB101(**kwargs)  # DataError with the import command when the table is missing


def reproduce(runs: int = 100, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
              progress: bool = True, seed: int = 0, table: str | None = None, strategies: list | None = None,
              budget: float | None = None, seed_mode: str = "one") -> dict:  # fmt: skip
    """Run the protocol; write ``regret.md``, ``regret.csv`` and ``regret.png``; return them.

    ``table``: the NB101 table; None (default): the imported official one, else
    ``nb101-20k`` (validation regret, see the module doc); a clear error says how to get
    either when both are missing. ``strategies``: names (default: every applicable
    registered strategy on tables with test accuracies, :data:`STRATEGIES_20K` on tables
    without). ``budget``: simulated seconds per run (default 5e6, or 1e7 without a test
    split). ``seed_mode="mean"`` answers queries with the mean of the 3 runs (the paper
    draws one: the default).
    """
    from benchlab import Experiment, StrategyConfig, run_experiment
    from benchlab.analysis import curves, load_experiment, plot

    table, kwargs, bench = _open(table, seed_mode)
    has_test = bench.report_metric == "test_acc"
    multi = bench.fidelity is not None and len(bench.fidelity.values) > 1
    if budget is None:
        budget = BUDGET_SECONDS if has_test else BUDGET_20K
    names = list(strategies or (_strategies(multi) if has_test else STRATEGIES_20K))
    metric = bench.report_metric
    optimum = bench.optimum(metric)
    exp = Experiment(
        name="nb101-regret",
        benchmark="nb101",
        benchmark_kwargs=kwargs,
        benchmark_label=table,
        # tpe pinned to the univariate TPE of Bergstra et al. (the NB101 paper ran Hyperopt's), tpe's former default
        strategies=tuple(StrategyConfig(n, dict(KWARGS_20K.get(n, {})) if not has_test else
                                        ({"preset": "paper"} if n == "tpe" else {})) for n in names),
        repeats=runs,
        seed=seed,
        max_seconds=float(budget),
        root=Path(root),
    )
    t0 = time.perf_counter()
    counts = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
    seconds = time.perf_counter() - t0
    data = load_experiment(exp.folder)
    checkpoints = [c for c in (CHECKPOINTS if has_test else CHECKPOINTS_20K) if c <= budget] or [float(budget)]
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
    if has_test:
        what = (("draws one of the 3 training runs" if seed_mode == "one" else "sees the mean of the 3 training runs "
                 "(not the paper's draw)") + " at 108 epochs and costs its training "
                f"time; regret = {optimum:.15g} (best mean test accuracy of the table; the paper's is {PAPER_OPTIMUM}) "
                "minus the mean test accuracy of the incumbent chosen by validation accuracy")  # fmt: skip
    else:
        what = (f"sees the validation accuracy of the cell's one training run in the file and costs its training time "
                f"(108 epochs: the file's; 4/12/36 epochs for Hyperband/BOHB: APPROXIMATED as epochs/108 of it). The "
                f"space is the table's {bench.space.size:,} cells (restricted sampling and mutation). **No test split: "
                f"strategies and this report both use VALIDATION accuracy**: regret = {optimum:.15g} (best 108-epoch "
                "validation accuracy of the table) minus the 108-epoch validation accuracy of the incumbent (the best "
                "validation result at the highest fidelity seen). Values are not comparable with the paper's "
                "test regret")  # fmt: skip
        bounded = [f"{n} ({', '.join(f'{k}={v}' for k, v in KWARGS_20K[n].items())})" for n in names if n in KWARGS_20K]
        if bounded:
            what += (". Model refits are bounded for runs of thousands of evaluations: " + ", ".join(bounded)
                     + " (refit once the told results grew by that fraction; BANANAS at most that many Adam steps "
                     "per fit); all other settings are the strategies' defaults")  # fmt: skip
    lines = [
        "# NAS-Bench-101 regret vs simulated time (Ying et al., ICML 2019, Figure 7)",
        "",
        f"Benchmark nb101{note}: each query {what}; budget {budget:g} simulated s; "
        "mean ± standard error over runs (n: runs with a result by then). Strategies use their default "
        f"hyper-parameters (the paper tuned each optimiser). Wall-clock time of the runs this invocation made: "
        f"{seconds:.0f} s (runs finished by an earlier, resumed invocation not counted).",
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
    if not has_test:
        lines += ["", "## The paper's qualitative claims (section 5, Figure 7)", ""]
        lines += check_claims(rows, checkpoints)
    if not multi:
        lines.append("")
        lines.append("Multi-fidelity strategies were not run: the table has 108 epochs only (import nasbench_full.tfrecord "
                     "with `--full` for the 4/12/36-epoch budgets).")  # fmt: skip
    text = "\n".join(lines) + "\n"
    md, csv_path = write_text_and_csv(exp.folder, "regret", text, rows)
    png = plot(data, exp.folder / "regret.png", x="time", metric="regret", stat="mean_se", logx=True, logy=True)
    return {"text": text, "markdown": md, "csv": csv_path, "plot": png, "counts": counts, "rows": rows,
            "seconds": seconds, "table": table}


def _stat(rows: list[dict], name: str, c: float) -> tuple[float, float] | None:
    for r in rows:
        if r["strategy"] == name:
            mean, se = r[f"regret_{c:g}s_mean"], r[f"regret_{c:g}s_se"]
            return None if math.isnan(mean) else (mean, 0.0 if math.isnan(se) else se)
    return None


def _compare(rows, a: str, b: str, c: float) -> tuple[str, bool | None]:
    """``a`` ahead of ``b`` at checkpoint ``c``: lower mean regret (and by how many standard errors)."""
    sa, sb = _stat(rows, a, c), _stat(rows, b, c)
    if sa is None or sb is None:
        return f"{a} vs {b} at {c:g} s: not run", None
    se = math.hypot(sa[1], sb[1])
    z = (sb[0] - sa[0]) / se if se > 0 else 0.0
    return f"{a} {sa[0]:.5f} vs {b} {sb[0]:.5f} at {c:g} s ({z:+.1f} SE)", sa[0] < sb[0]


def check_claims(rows: list[dict], checkpoints) -> list[str]:
    """Markdown lines checking the NB101 paper's claims on the regret table ``rows``.

    - REA and BO ahead of RS: lower mean regret than random search at the last
      checkpoint (BO = SMAC-RF and BANANAS here; the paper's BO were SMAC, TPE, BOHB).
    - REINFORCE close to RS: the means differ by at most 2 standard errors of the
      difference or by at most 25 % of random search's regret, at the last two checkpoints.
    - Hyperband/BOHB strong early: lower mean regret than random search at the first checkpoint.
    """
    last, first = checkpoints[-1], checkpoints[0]
    out = ["| claim | check | holds |", "|:--|:--|:--|"]

    def add(claim, text, ok):
        out.append(f"| {claim} | {text} | {'-' if ok is None else 'yes' if ok else '**no**'} |")

    for b in ("regularized_evolution", "smac_rf", "bananas"):
        text, ok = _compare(rows, b, "random_search", last)
        add("REA and BO ahead of RS", text, ok)
    for c in checkpoints[-2:]:
        sr, ss = _stat(rows, "reinforce", c), _stat(rows, "random_search", c)
        if sr is None or ss is None:
            add("REINFORCE close to RS", f"at {c:g} s: not run", None)
            continue
        diff, se = sr[0] - ss[0], math.hypot(sr[1], ss[1])
        ok = abs(diff) <= max(2 * se, 0.25 * ss[0])
        add("REINFORCE close to RS", f"reinforce {sr[0]:.5f} vs random_search {ss[0]:.5f} at {c:g} s (difference "
            f"{diff:+.5f}, {diff / se if se else 0:+.1f} SE, {diff / ss[0] if ss[0] else 0:+.0%} of RS)", ok)  # fmt: skip
    for b in ("hyperband", "bohb"):
        text, ok = _compare(rows, b, "random_search", first)
        add("Hyperband/BOHB strong early", text, ok)
    out += ["", "SE: standard errors of the difference of the means (positive: the first strategy has the lower "
            "regret). \"Close\": within 2 SE or 25 % of random search's regret."]  # fmt: skip
    return out


register_protocol(
    Protocol(
        name="nb101",
        description="NAS-Bench-101 paper Figure 7: regret vs simulated training time (official table: test regret, "
        "5e6 s; else nb101-20k: validation regret, 1e7 s, claims checked)",
        default_runs=100,
        run=reproduce,
    )
)
