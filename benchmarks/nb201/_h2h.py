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

``tpe`` runs twice: with its default preset (Optuna 5's ``TPESampler()`` settings) and as
``tpe-paper`` (``preset="paper"``, the univariate TPE of Bergstra et al. 2011, which ``tpe``
was before). Below the table, the reference libraries' results measured by
``scripts/bench_vs_libraries.py`` on the same table and budget are shown beside benchlab's
(``reference_results.csv`` next to this module, with the command and date of the
measurement); nothing there is typed in by hand.
"""

from __future__ import annotations

import csv
import io
import math
from importlib import resources
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


_SKIP_TAGS = {"multi_objective", "multi_fidelity", "needs_training", "transfer", "constraint_aware"}
# (transfer and constraint-aware strategies are their base strategy again without a source/constraints)
_SKIP_NAMES = {"optuna"}  # the generic Optuna adapter; its default sampler is `tpe`, which is in the table
#: extra configurations run beside a strategy's default one: name -> [(kwargs, label)]
_EXTRA = {"tpe": [({"preset": "paper"}, "tpe-paper")]}
REFERENCE_CSV = "reference_results.csv"


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


def _configs(names: list[str]) -> list:
    from benchlab import StrategyConfig

    configs = []
    for n in names:
        configs.append(StrategyConfig(n))
        configs += [StrategyConfig(n, dict(kwargs), label) for kwargs, label in _EXTRA.get(n, ())]
    return configs


def reference_rows() -> list[dict]:
    """The measured rows of ``reference_results.csv`` (empty when the file is absent)."""
    try:
        text = resources.files(__package__).joinpath(REFERENCE_CSV).read_text()
    except (FileNotFoundError, OSError):
        return []
    return list(csv.DictReader(io.StringIO(text)))


def _num(row: dict, key: str) -> float:
    try:
        return float(row.get(key) or "nan")
    except ValueError:
        return math.nan


def reference_lines(labels: set) -> list[str]:
    """Markdown: reference-library results beside benchlab's, for the strategies in ``labels``."""
    rows = [r for r in reference_rows() if r.get("ours", "").split(":")[0] in {x.split("-")[0] for x in labels}]
    if not rows:
        return []
    lines = [
        "",
        "## Reference libraries on the same table (`scripts/bench_vs_libraries.py`)",
        "",
        "Same benchmark, budget and protocol; each side its own runs. Regret: validation regret of the best cell "
        "seen (points), or hypervolume regret for NSGA-II; eval ratio > 1: benchlab reaches the pooled median final "
        "regret in fewer evaluations; p: two-sided Mann-Whitney U.",
        "",
        "| benchlab | regret | reference | regret | runs | eval ratio | p |",
        "|:--|--:|:--|--:|--:|--:|--:|",
    ]
    for r in rows:
        if r.get("metric") not in ("valid_regret", "hv_regret"):
            continue
        d = 4 if r["metric"] == "hv_regret" else 3
        lines.append(
            f"| {r['ours']} | {_num(r, 'ours_mean'):.{d}f} ± {_num(r, 'ours_se'):.{d}f} | {r['reference']} "
            f"({r['library']}) | {_num(r, 'ref_mean'):.{d}f} ± {_num(r, 'ref_se'):.{d}f} | {r['seeds']} | "
            f"{_num(r, 'ratio'):.2f} | {_num(r, 'p'):.3g} |"
        )
    for r in rows:
        if r.get("metric") == "evals_to_optimum_cifar100":
            lines += ["", f"`{r['ours']}` against its paper ({r['reference']}): nb201 cifar100, evaluations to the "
                      f"best-validation cell {_num(r, 'ours_mean'):.1f} ± {_num(r, 'ours_se'):.1f} ({r['note']}); "
                      f"paper: {_num(r, 'ref_mean'):.0f} on average."]  # fmt: skip
    first = rows[0]
    lines += ["", f"Measured {first.get('date', '?')} with `{first.get('command', '?')}`."]
    return lines


def head_to_head(runs: int = 100, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
                 progress: bool = True, seed: int = 0, strategies: list | None = None) -> dict:  # fmt: skip
    """Run the protocol and write ``h2h.md`` / ``h2h.csv`` plus the regret plot."""
    from benchlab import Experiment, run_experiment
    from benchlab.analysis import load_experiment, plot

    names = list(strategies or _strategies())
    exp = Experiment(
        name="nb201-h2h",
        benchmark="nb201",
        benchmark_kwargs={"dataset": "cifar10-valid", "fidelity": 200},
        benchmark_label="nb201",
        strategies=tuple(_configs(names)),
        repeats=runs,
        seed=seed,
        max_evaluations=EVALUATIONS,
        root=Path(root),
    )
    counts = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
    data = load_experiment(exp.folder)
    labels = {c.folder for c in exp.strategies}
    rows = []
    for label, sdata in data.strategies.items():
        if label not in labels:
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
    lines += reference_lines(set(order))
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
