"""Head-to-head on NAS-Bench-201 with the BANANAS / naszilla protocol.

White, Neiswanger, Savani (AAAI 2021) compare NAS algorithms on NAS-Bench-201 CIFAR-10 by
the test error of the architecture with the best validation accuracy after 150 queries,
averaged over many trials; every query is a full 200-epoch training. Here: benchmark
``nb201`` (dataset cifar10-valid, reward = 200-epoch validation accuracy), 150 evaluations
per run, 100 runs per strategy, every registered single-objective, single-fidelity
strategy with its default hyper-parameters; the table reports the final test regret
(optimum minus the CIFAR-10 test accuracy of the incumbent, in points) as mean ± standard
error. Literature order (BANANAS and local-search papers, NAS-Bench-201 results): BANANAS
and local search ahead of regularized evolution ahead of random search.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchlab.ext import Protocol, register_protocol, write_text_and_csv

__all__ = ["head_to_head"]

EVALUATIONS = 150
LITERATURE_GROUPS = ({"bananas", "local_search"}, {"regularized_evolution"}, {"random_search"})


def _agrees(order: list[str]) -> bool | None:
    """Whether every strategy of a literature group ranks ahead of every one of the next
    group (None when a group's strategies are missing)."""
    ranks = {s: i for i, s in enumerate(order)}
    if not all(g <= set(ranks) for g in LITERATURE_GROUPS):
        return None
    return all(
        max(ranks[s] for s in a) < min(ranks[s] for s in b) for a, b in zip(LITERATURE_GROUPS, LITERATURE_GROUPS[1:])
    )
_SKIP_TAGS = {"multi_objective", "multi_fidelity", "needs_training"}
_SKIP_NAMES = {"optuna"}  # the generic Optuna adapter; its default sampler is `tpe`, which is in the table


def _strategies() -> list[str]:
    from benchlab import STRATEGIES

    names = []
    for name in STRATEGIES.names():
        if name.startswith("_") or name in _SKIP_NAMES:
            continue
        try:
            tags = set(STRATEGIES.get(name)().tags)
        except Exception:  # needs arguments or an optional dependency: not part of the default table
            continue
        if not tags & _SKIP_TAGS:
            names.append(name)
    return names


def head_to_head(runs: int = 100, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
                 progress: bool = True, seed: int = 0, strategies: list | None = None) -> dict:  # fmt: skip
    """Run the protocol and write ``h2h.md`` / ``h2h.csv`` plus the regret plot."""
    from benchlab import Experiment, StrategyConfig, run_experiment
    from benchlab.analysis import load_experiment, plot

    names = list(strategies or _strategies())
    exp = Experiment(
        name="nb201-h2h",
        benchmark="nb201",
        benchmark_kwargs={"dataset": "cifar10-valid", "fidelity": 200},
        benchmark_label="nb201",
        strategies=tuple(StrategyConfig(n) for n in names),
        repeats=runs,
        seed=seed,
        max_evaluations=EVALUATIONS,
        root=Path(root),
    )
    counts = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
    data = load_experiment(exp.folder)
    rows = []
    for label, sdata in data.strategies.items():
        if label not in names:
            continue
        regret = np.array([r.final("regret") for r in sdata.runs], dtype=np.float64)
        test = np.array([r.final("test") for r in sdata.runs], dtype=np.float64)
        asks = [r.summary.get("strategy_stats", {}).get("ask_seconds_mean") for r in sdata.runs]
        asks = [a for a in asks if a is not None]
        n = regret.size
        rows.append({
            "strategy": label,
            "runs": n,
            "failed": len(sdata.failed),
            "regret_mean": float(regret.mean()) if n else math.nan,
            "regret_se": float(regret.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
            "test_mean": float(test.mean()) if n else math.nan,
            "test_se": float(test.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
            "ask_seconds_mean": float(np.mean(asks)) if asks else math.nan,
        })  # fmt: skip
    rows.sort(key=lambda r: r["regret_mean"])
    order = [r["strategy"] for r in rows]
    agrees = _agrees(order)
    lines = [
        "# NAS-Bench-201 head-to-head (BANANAS / naszilla protocol)",
        "",
        f"nb201, cifar10-valid, reward = 200-epoch validation accuracy, {EVALUATIONS} evaluations per run; final test "
        "regret = 94.37 (best CIFAR-10 test accuracy) minus the CIFAR-10 test accuracy of the incumbent chosen by "
        "validation accuracy, in points; mean ± standard error over runs.",
        "",
        "| rank | strategy | runs | final test regret | CIFAR-10 test acc | mean ask time (s) |",
        "|--:|:--|--:|--:|--:|--:|",
    ]
    for i, r in enumerate(rows, 1):
        ask = "" if math.isnan(r["ask_seconds_mean"]) else f"{r['ask_seconds_mean']:.3f}"
        lines.append(
            f"| {i} | {r['strategy']} | {r['runs']} | {r['regret_mean']:.3f} ± {r['regret_se']:.3f} | "
            f"{r['test_mean']:.2f} ± {r['test_se']:.2f} | {ask} |"
        )
    lines += [
        "",
        "Literature (White et al. 2021): BANANAS and local search ahead of regularized evolution ahead of random "
        f"search. Found: {' > '.join(s for s in order if any(s in g for g in LITERATURE_GROUPS))}"
        + (" (agrees)." if agrees else " (DIFFERS from the literature)." if agrees is False else " (strategies missing)."),
    ]
    text = "\n".join(lines) + "\n"
    md, csv_path = write_text_and_csv(exp.folder, "h2h", text, rows)
    png = plot(data, exp.folder / "h2h.png", x="eval", metric="regret", stat="mean_se", logx=True, logy=True)
    return {"text": text, "markdown": md, "csv": csv_path, "plot": png, "counts": counts, "rows": rows}


register_protocol(
    Protocol(
        name="nb201-h2h",
        description="BANANAS/naszilla head-to-head on NB201 cifar10-valid: 150 evaluations, 100 runs, test regret",
        default_runs=100,
        run=head_to_head,
    )
)
