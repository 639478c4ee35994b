"""``benchlab reproduce hw-constrained``: hardware-aware NAS on NAS-Bench-201 under latency budgets.

Setting: benchmark ``nb201`` (cifar10-valid, reward = 200-epoch validation accuracy, report =
CIFAR-10 test accuracy), three devices of HW-NAS-Bench (Li et al. ICLR 2021; the latency
columns of the table, ms): ``pixel3`` (mobile phone), ``raspi4`` (edge CPU) and ``fpga``;
for each device three latency budgets, the 10 %, 15 % and 50 % quantiles of the device's
latency over all 15,625 cells (so about 10 %, 15 % and 50 % of the cells are feasible; the
exact fraction of each budget is in the report). Each run has 150 evaluations (the
BANANAS/naszilla query budget), 50 runs per strategy (default).

Strategies: plain random search and regularized evolution (constraint-blind: they see the
latency in every evaluation but do not use it), and the constraint-aware variants of
``strategies/constrained.py``: random search skipping known-infeasible cells (free latency
look-up), regularized evolution with Deb's feasibility-first tournament with and without
feasible-only children, and GP-BO with constrained EI.

Reported per setting and strategy: feasible regret after 150 evaluations (the constrained
optimum, the best CIFAR-10 test accuracy among feasible cells, minus the test accuracy of
the best feasible incumbent chosen by validation accuracy; mean ± standard error over the
runs that have a feasible incumbent, and how many have none), the feasibility rate
(feasible fraction of a run's evaluations, mean ± SE), and the Friedman test with Nemenyi
critical difference over the runs (a run without a feasible incumbent ranks last).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchlab.ext import Protocol, open_table, register_protocol, write_text_and_csv

__all__ = ["DEVICES", "QUANTILES", "STRATEGIES", "EVALUATIONS", "budgets", "hw_constrained"]

DEVICES = ("pixel3", "raspi4", "fpga")
#: latency budget = this quantile of the device's latency column (about this fraction feasible)
QUANTILES = (0.10, 0.15, 0.50)
EVALUATIONS = 150
#: label -> (strategy, keyword arguments)
STRATEGIES = {
    "RS": ("random_search", {}),
    "REA": ("regularized_evolution", {}),
    "C-RS": ("constrained_random_search", {}),
    "C-REA": ("constrained_regularized_evolution", {}),
    "C-REA-Deb": ("constrained_regularized_evolution", {"reject_infeasible": False}),
    "C-BO": ("constrained_gp_bo", {}),
}
#: the acceptance check: (device, quantile) and the strategy that should beat the plain baselines
ACCEPTANCE = ("pixel3", 0.15, "C-REA", ("REA", "RS"))


def budgets(devices=DEVICES, quantiles=QUANTILES, table: str = "nb201") -> list[dict]:
    """One setting per (device, quantile): the latency bound (ms, 5 significant digits of
    the quantile) and the exact feasible fraction of the table's cells under it."""
    t = open_table(table)
    out = []
    for device in devices:
        lat = np.asarray(t.column(f"latency/{device}"), dtype=np.float64)
        for q in quantiles:
            bound = float(f"{float(np.quantile(lat[np.isfinite(lat)], q)):.5g}")
            out.append({
                "device": device,
                "quantile": q,
                "bound_ms": bound,
                "feasible_fraction": float(np.mean(lat <= bound)),
                "constraint": f"latency/{device}<={bound:.5g}",
                "label": f"{device}-q{round(q * 100):02d}",
            })  # fmt: skip
    return out


def _mean_se(values) -> tuple[float, float, int]:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, 0
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return float(v.mean()), se, int(v.size)


def _fmt(mean: float, se: float, d: int = 3) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.{d}f}" + ("" if math.isnan(se) else f" ± {se:.{d}f}")


def _setting_rows(setting: dict, data, labels: list[str]) -> tuple[list[dict], dict | None]:
    from benchlab import DataError
    from benchlab.analysis import friedman

    try:
        test = friedman(data)
    except DataError:
        test = None
    rows = []
    for label in labels:
        s = data.strategies.get(label)
        if s is None:
            continue
        regret = [r.final("regret") for r in s.runs]
        rates = [r.summary.get("feasibility_rate") for r in s.runs]
        rm, rse, n_ok = _mean_se(regret)
        fm, fse, _ = _mean_se([math.nan if x is None else x for x in rates])
        rows.append({
            "setting": setting["label"],
            "device": setting["device"],
            "constraint": setting["constraint"],
            "feasible_fraction": setting["feasible_fraction"],
            "strategy": label,
            "runs": len(s.runs),
            "failed": len(s.failed),
            "no_feasible_incumbent": len(s.runs) - n_ok,
            "regret_mean": rm,
            "regret_se": rse,
            "feasibility_rate_mean": fm,
            "feasibility_rate_se": fse,
            "average_rank": test["average_ranks"].get(label, math.nan) if test else math.nan,
        })  # fmt: skip
    return rows, test


def _plot(path: Path, panels: list[tuple[dict, object]], labels: list[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchlab.analysis import aggregate, curves
    from benchlab.ext import atomic_write_bytes

    n = len(panels)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    colors = dict(zip(labels, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3))
    for ax, (setting, data) in zip(axes.ravel(), panels):
        cv = curves(data, x="eval", metric="regret")
        for label in labels:
            if label not in cv.matrices or not cv.matrices[label].size:
                continue
            center, low, high = aggregate(cv.matrices[label], "mean_se")
            ax.plot(cv.grid, center, label=label, color=colors[label], lw=1.3)
            ax.fill_between(cv.grid, low, high, color=colors[label], alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{setting['constraint']} ({100 * setting['feasible_fraction']:.1f} % feasible)", fontsize=8)
        ax.set_xlabel("evaluations", fontsize=8)
        ax.set_ylabel("feasible regret (C10 test, %)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle("NB201 latency budgets: feasible regret, mean ± SE (runs with a feasible incumbent)", fontsize=8)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def hw_constrained(runs: int = 50, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
                   progress: bool = True, seed: int = 0, devices=DEVICES, quantiles=QUANTILES,
                   strategies: list | None = None, evaluations: int = EVALUATIONS) -> dict:  # fmt: skip
    """Run the protocol; write ``hw-constrained.md`` / ``.csv`` / ``.png`` in ``root/nb201-hw-constrained``."""
    from benchlab import Experiment, StrategyConfig, run_experiment
    from benchlab.analysis import load_experiment

    labels = list(strategies or STRATEGIES)
    unknown = [s for s in labels if s not in STRATEGIES]
    if unknown:
        from benchlab import InvalidConfig

        raise InvalidConfig(f"hw-constrained: unknown strategy labels {unknown}; choose from {', '.join(STRATEGIES)}")
    configs = tuple(StrategyConfig(STRATEGIES[s][0], dict(STRATEGIES[s][1]), s) for s in labels)
    settings = budgets(devices, quantiles)
    all_rows, panels, tests, counts = [], [], {}, {}
    folder = None
    for setting in settings:
        exp = Experiment(
            name="nb201-hw-constrained",
            benchmark="nb201",
            benchmark_kwargs={"dataset": "cifar10-valid", "fidelity": 200, "constraints": [setting["constraint"]]},
            benchmark_label=setting["label"],
            strategies=configs,
            repeats=runs,
            seed=seed,
            max_evaluations=evaluations,
            root=Path(root),
            multi_benchmark=True,
        )
        folder = exp.folder
        counts[setting["label"]] = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
        data = load_experiment(exp.experiment_folder)
        rows, test = _setting_rows(setting, data, labels)
        setting["optimum"] = data.optimum
        all_rows += rows
        tests[setting["label"]] = test
        panels.append((setting, data))

    lines = [
        "# Hardware-aware NAS on NAS-Bench-201: latency budgets (`benchlab reproduce hw-constrained`)",
        "",
        f"nb201, cifar10-valid, reward = 200-epoch validation accuracy, {evaluations} evaluations per run, {runs} runs "
        "per strategy. Budget = a quantile of the device's latency column (HW-NAS-Bench, ms) over all 15,625 cells. "
        "Feasible regret = the constrained optimum (best CIFAR-10 test accuracy among feasible cells) minus the test "
        "accuracy of the best *feasible* incumbent chosen by validation accuracy, in points, mean ± SE over the runs "
        "with a feasible incumbent (`none` = runs without one; they rank last in the Friedman test). Feasibility rate = "
        "feasible fraction of a run's evaluations (infeasible evaluations cost the same). Avg rank: Friedman average "
        "rank over paired runs (1 = best); strategies in a Nemenyi group (CD at alpha 0.05) are not significantly "
        "different.",
        "",
    ]
    for setting in settings:
        rows = [r for r in all_rows if r["setting"] == setting["label"]]
        rows.sort(key=lambda r: (r["average_rank"] if not math.isnan(r["average_rank"]) else math.inf, r["strategy"]))
        test = tests[setting["label"]]
        lines += [
            f"## {setting['device']}: `{setting['constraint']}` (quantile {setting['quantile']:.2f}, "
            f"{100 * setting['feasible_fraction']:.1f} % of cells feasible, constrained optimum "
            f"{setting['optimum']:.2f} %)",
            "",
            "| strategy | runs | none | feasible regret | feasibility rate | avg rank |",
            "|:--|--:|--:|--:|--:|--:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['strategy']} | {r['runs']} | {r['no_feasible_incumbent']} | {_fmt(r['regret_mean'], r['regret_se'])} | "
                f"{_fmt(r['feasibility_rate_mean'], r['feasibility_rate_se'], 2)} | "
                f"{'-' if math.isnan(r['average_rank']) else format(r['average_rank'], '.2f')} |"
            )
        if test is not None:
            groups = "; ".join("{" + ", ".join(c) + "}" for c in test["cliques"]) or "none (all pairs differ)"
            lines += ["", f"Friedman chi2 = {test['statistic']:.2f}, p = {test['p_value']:.2g} (N = {test['n_blocks']}, "
                          f"k = {test['k']}); Nemenyi CD = {test['cd']:.2f}; not significantly different: {groups}."]  # fmt: skip
        lines.append("")
    verdict = _acceptance(all_rows, tests, settings, evaluations)
    if verdict:
        lines += ["## Acceptance check", "", verdict, ""]
    text = "\n".join(lines)
    md, csv_path = write_text_and_csv(folder, "hw-constrained", text, all_rows)
    png = _plot(folder / "hw-constrained.png", panels, labels)
    return {"text": text, "markdown": md, "csv": csv_path, "plot": png, "rows": all_rows, "tests": tests,
            "settings": settings, "counts": counts}  # fmt: skip


def _acceptance(rows: list[dict], tests: dict, settings: list[dict], evaluations: int) -> str:
    device, q, winner, others = ACCEPTANCE
    setting = next((s for s in settings if s["device"] == device and s["quantile"] == q), None)
    if setting is None:
        return ""
    by = {r["strategy"]: r for r in rows if r["setting"] == setting["label"]}
    if winner not in by or not all(o in by for o in others):
        return ""
    test = tests.get(setting["label"])
    w = by[winner]
    parts = []
    lower = all(w["regret_mean"] < by[o]["regret_mean"] for o in others)
    for o in others:
        text = f"{winner} {_fmt(w['regret_mean'], w['regret_se'])} vs {o} {_fmt(by[o]['regret_mean'], by[o]['regret_se'])}"
        if test is not None:
            diff = test["average_ranks"][o] - test["average_ranks"][winner]
            text += f" (rank difference {diff:.2f} {'>' if diff > test['cd'] else '<='} CD {test['cd']:.2f})"
        parts.append(text)
    significant = test is not None and all(test["average_ranks"][o] - test["average_ranks"][winner] > test["cd"] for o in others)
    verdict = "holds" if lower and significant else "holds in the means, not significantly" if lower else "DOES NOT hold"
    return (f"`{setting['constraint']}` ({100 * setting['feasible_fraction']:.1f} % feasible): {winner} has lower feasible "
            f"regret than {' and '.join(others)} after {evaluations} evaluations: {'; '.join(parts)}. Verdict: {verdict}.")  # fmt: skip


register_protocol(
    Protocol(
        name="hw-constrained",
        description="NB201 under latency budgets (3 devices x 3 budgets): feasible regret and feasibility rate, 50 runs",
        default_runs=50,
        run=hw_constrained,
    )
)
