"""``benchlab reproduce transfer``: does knowing another task speed up NAS on a new one?

Settings (150 evaluations per run, one worker):

* NAS-Bench-201 (``nb201``, 200-epoch validation accuracy as the search signal, 200-epoch
  test accuracy for regret): search cifar100 and ImageNet16-120 with cifar10-valid as
  source, and the reverse (cifar10-valid with cifar100, and with ImageNet16-120, as source);
* TransNAS-Bench-101 (``tnb101-micro`` and ``tnb101-macro``), leave one task out: each of
  the 7 tasks is searched with the other 6 as sources (the tables have no test split:
  regret is on the same best-epoch validation metric the strategy sees, as the benchmarks
  state).

Each transfer strategy of ``strategies/transfer.py`` runs with its source(s) and from
scratch (the same strategy without a source): ``rea_warm`` (warm-started regularized
evolution), ``ls_warm`` (warm-started local search), ``zero_shot`` (the source ranking in
order; from scratch it is random search without replacement) and ``rgpe`` (ranking-weighted
GP ensemble; from scratch it is ``gp_bo``). The model-based pair is about 100x slower per run
than the others, so it runs ``min(runs, MODEL_RUNS)`` runs (``model_runs`` overrides) with
cheaper settings (``RGPE_KWARGS``: 64 posterior draws, 100 candidates, 50 points per source
GP); the report says so.

Reported per setting and method, transfer vs scratch: mean regret after 10, 50 and 150
evaluations; evaluations to reach within X of the optimum, X = the gap between the optimum
and the space's top-1 % (and top-0.1 %) value of the regret metric (median over runs;
``>150`` when more than half of the runs never get there); the speed-up at the scratch
strategy's final mean regret: the transfer runs' mean number of evaluations to reach it,
divided by 150 (the scratch budget), with a 95 % bootstrap confidence interval (resampling
the runs of both arms, 2,000 resamples); and a negative-transfer flag when the transfer
arm's mean regret is worse than scratch's, with the 95 % bootstrap interval of the
difference above 0, either after 150 evaluations or averaged over the run (the area under
the regret curve). Written as ``transfer.md``, ``transfer.csv`` and ``transfer.png`` in
``<root>/transfer/``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from benchlab.ext import Protocol, atomic_write_bytes, register_protocol, write_text_and_csv

__all__ = ["SETTINGS", "TRANSFER_METHODS", "RGPE_KWARGS", "MODEL_RUNS", "BUDGET", "reproduce", "speedup", "evals_to_reach"]

BUDGET = 150
MODEL_RUNS = 10
RGPE_KWARGS = {"num_samples": 64, "num_candidates": 100, "num_source_points": 50}
#: label -> (strategy, keyword arguments besides the source, model-based)
TRANSFER_METHODS = {
    "REA": ("rea_warm", {}, False),
    "LS": ("ls_warm", {}, False),
    "zero-shot": ("zero_shot", {}, False),
    "RGPE": ("rgpe", RGPE_KWARGS, True),
}
_TNB_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")


def _settings() -> list[dict]:
    out = []
    for target, source in (("cifar100", "cifar10-valid"), ("ImageNet16-120", "cifar10-valid"),
                           ("cifar10-valid", "cifar100"), ("cifar10-valid", "ImageNet16-120")):  # fmt: skip
        out.append({"label": f"nb201 {target} <- {source}", "folder": f"nb201-{target}-from-{source}",
                    "benchmark": "nb201", "kwargs": {"dataset": target}, "source": source})  # fmt: skip
    for bench in ("tnb101-micro", "tnb101-macro"):
        for task in _TNB_TASKS:
            sources = [t for t in _TNB_TASKS if t != task]
            out.append({"label": f"{bench} {task} <- other 6", "folder": f"{bench}-{task}-loto",
                        "benchmark": bench, "kwargs": {"task": task}, "source": sources})  # fmt: skip
    return out


#: Every setting: label, results folder, benchmark, its keyword arguments, the source(s).
SETTINGS = _settings()
QUANTILES = (0.01, 0.001)
_BOOT = 2000


# -- statistics ---------------------------------------------------------------------------------
def evals_to_reach(regret: np.ndarray, level: float) -> np.ndarray:
    """Per run (rows of ``regret``), the first evaluation count (1-based) whose regret is at
    most ``level``; ``inf`` where it never is."""
    hit = regret <= level + 1e-12
    first = np.argmax(hit, axis=1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=1), first, np.inf)


def speedup(scratch: np.ndarray, transfer: np.ndarray, rng: np.random.Generator, budget: int = BUDGET) -> dict:
    """Evaluations the transfer runs need to reach the scratch runs' mean final regret, as a
    fraction of the scratch budget: ``mean(min(T, budget)) / budget`` with a 95 % bootstrap
    interval (runs of both arms resampled; the level moves with the scratch resample).
    ``never``: transfer runs that do not reach the level (counted as ``budget``)."""
    level = float(scratch[:, -1].mean())
    t = np.minimum(evals_to_reach(transfer, level), budget)
    ratio = float(t.mean()) / budget
    boots = np.empty(_BOOT)
    ns, nt = len(scratch), len(transfer)
    for b in range(_BOOT):
        lv = float(scratch[rng.integers(0, ns, ns), -1].mean())
        tb = np.minimum(evals_to_reach(transfer[rng.integers(0, nt, nt)], lv), budget)
        boots[b] = tb.mean() / budget
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"level": level, "mean_evals": float(t.mean()), "ratio": ratio, "ci_low": float(lo), "ci_high": float(hi),
            "never": int(np.sum(~np.isfinite(evals_to_reach(transfer, level))))}  # fmt: skip


def _diff_ci(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """Mean of ``a`` minus mean of ``b`` and its 95 % bootstrap interval (independent resamples)."""
    d = float(a.mean() - b.mean())
    boots = np.array([a[rng.integers(0, len(a), len(a))].mean() - b[rng.integers(0, len(b), len(b))].mean()
                      for _ in range(_BOOT)])  # fmt: skip
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return d, float(lo), float(hi)


def _median_evals(t: np.ndarray) -> str:
    med = float(np.median(t))
    return f">{BUDGET}" if not math.isfinite(med) else f"{med:.0f}"


# -- running -----------------------------------------------------------------------------------
def _experiment(setting: dict, methods: dict, runs: int, root: Path, seed: int, name: str):
    from benchlab import Experiment, StrategyConfig

    strategies = []
    for label, (strategy, kwargs, _) in methods.items():
        strategies.append(StrategyConfig(strategy, dict(kwargs), f"{label}-scratch"))
        strategies.append(StrategyConfig(strategy, {**kwargs, "source": setting["source"]}, f"{label}-transfer"))
    return Experiment(name=name, benchmark=setting["benchmark"], benchmark_kwargs=dict(setting["kwargs"]),
                      benchmark_label=setting["folder"], strategies=tuple(strategies), repeats=runs, seed=seed,
                      max_evaluations=BUDGET, root=Path(root), multi_benchmark=True)  # fmt: skip


def _regrets(exp, label: str) -> np.ndarray:
    """Regret after each evaluation, one row per completed run (short runs padded with their last value)."""
    from benchlab.ext import read_summary, read_trials

    rows = []
    for k in range(exp.repeats):
        folder = exp.folder / exp.bench_folder / label / f"seed-{k}"
        s = read_summary(folder)
        if not s or s.get("status") != "ok":
            continue
        r = np.asarray(read_trials(folder)["regret"], dtype=np.float64)
        if r.size == 0:
            continue
        rows.append(np.concatenate([r, np.full(BUDGET - r.size, r[-1])]) if r.size < BUDGET else r[:BUDGET])
    return np.asarray(rows, dtype=np.float64).reshape(-1, BUDGET)


def _quantile_levels(setting: dict) -> dict:
    """X per quantile: the optimum minus the top-q value of the regret metric over the space."""
    from benchlab import make_benchmark

    bench = make_benchmark(setting["benchmark"], setting["kwargs"])
    metric = bench.report_metric
    values = np.array([bench.report(a)[metric] for a in bench.space.enumerate()], dtype=np.float64)
    values = values[np.isfinite(values)]
    sign = bench.objectives[0].sign
    opt = bench.optimum(metric)
    return {q: float(sign * (opt - np.quantile(values, 1.0 - q if sign > 0 else q))) for q in QUANTILES}


def reproduce(runs: int = 50, root: Path = Path("results"), executor: str = "inprocess", jobs=None, progress: bool = True,
              seed: int = 0, settings: list | None = None, methods: list | None = None,
              model_runs: int | None = None) -> dict:  # fmt: skip
    """Run every setting (or the labels in ``settings``) for every method (or those in
    ``methods``, labels of :data:`TRANSFER_METHODS`); write and return the report."""
    from benchlab import STRATEGIES as REGISTRY
    from benchlab import InvalidConfig, run_experiment

    chosen = [s for s in SETTINGS if settings is None or s["label"] in settings or s["folder"] in settings]
    if settings is not None and len(chosen) != len(settings):
        known = ", ".join(s["folder"] for s in SETTINGS)
        raise InvalidConfig(f"transfer: unknown settings in {settings}; choose from {known}")
    meths = {k: v for k, v in TRANSFER_METHODS.items() if (methods is None or k in methods) and v[0] in REGISTRY}
    if not meths:
        raise InvalidConfig(f"transfer: no method of {methods} is known; choose from {', '.join(TRANSFER_METHODS)}")
    n_model = min(runs, MODEL_RUNS) if model_runs is None else int(model_runs)
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    curves: dict = {}
    counts = {"skipped": 0, "done": 0, "failed": 0}
    for setting in chosen:
        groups = [({k: v for k, v in meths.items() if not v[2]}, runs, "transfer"),
                  ({k: v for k, v in meths.items() if v[2]}, n_model, "transfer-model")]  # fmt: skip
        levels = _quantile_levels(setting)
        for group, n, name in groups:
            if not group or n < 1:
                continue
            exp = _experiment(setting, group, n, root, seed, name)
            c = run_experiment(exp, executor=executor, jobs=jobs, progress=progress)
            for key in counts:
                counts[key] += c.get(key, 0)
            for label in group:
                scratch, transfer = _regrets(exp, f"{label}-scratch"), _regrets(exp, f"{label}-transfer")
                if not len(scratch) or not len(transfer):
                    continue
                curves[(setting["label"], label)] = (scratch.mean(axis=0), transfer.mean(axis=0))
                sp = speedup(scratch, transfer, rng)
                d_final = _diff_ci(transfer[:, -1], scratch[:, -1], rng)
                d_auc = _diff_ci(transfer.mean(axis=1), scratch.mean(axis=1), rng)
                negative = d_final[1] > 0 or d_auc[1] > 0
                row = {"setting": setting["label"], "method": label, "runs": len(transfer),
                       **{f"regret@{e}_{arm}": float(a[:, e - 1].mean()) for e in (10, 50, BUDGET)
                          for arm, a in (("scratch", scratch), ("transfer", transfer))},
                       **{f"evals_top{q:g}_{arm}": _median_evals(evals_to_reach(a, levels[q]))
                          for q in QUANTILES for arm, a in (("scratch", scratch), ("transfer", transfer))},
                       "scratch_final_level": sp["level"], "evals_to_scratch_final": sp["mean_evals"],
                       "ratio": sp["ratio"], "ratio_ci_low": sp["ci_low"], "ratio_ci_high": sp["ci_high"],
                       "never_reached": sp["never"], "final_diff": d_final[0], "final_diff_ci_low": d_final[1],
                       "final_diff_ci_high": d_final[2], "auc_diff": d_auc[0], "auc_diff_ci_low": d_auc[1],
                       "auc_diff_ci_high": d_auc[2], "negative_transfer": negative}  # fmt: skip
                rows.append(row)
    text = _markdown(rows, runs, n_model, list(meths))
    folder = root / "transfer"
    folder.mkdir(parents=True, exist_ok=True)
    md, csv_path = write_text_and_csv(folder, "transfer", text, rows)
    plot = _plot(folder, curves, [s["label"] for s in chosen], list(meths))
    return {"text": text, "markdown": md, "csv": csv_path, "plot": plot, "rows": rows, "counts": counts}


# -- writing -----------------------------------------------------------------------------------
def _markdown(rows: list[dict], runs: int, n_model: int, methods: list) -> str:
    lines = [
        "# Cross-task transfer on NAS tables (benchlab reproduce transfer)",
        "",
        f"{BUDGET} evaluations per run, one worker. Each method runs with its source(s) (transfer) and without "
        f"(scratch: the same strategy); {runs} runs per arm, the model-based RGPE / gp_bo pair "
        f"{n_model} runs with cheaper settings ({', '.join(f'{k}={v}' for k, v in RGPE_KWARGS.items())}). "
        "NB201: 200-epoch validation accuracy seen, 200-epoch test accuracy for regret (points). TransNAS-Bench-101: "
        "leave one task out, the other 6 tasks as sources; the tables have no test split, so regret is on the "
        "validation metric itself (units of the task's metric).",
        "",
        "Columns: mean regret after 10 / 50 / 150 evaluations (scratch → transfer); evaluations to reach within X of "
        "the optimum (median over runs, X = optimum minus the space's top-1 % / top-0.1 % value; `>150`: most runs "
        "never got there); **speed-up** = mean evaluations the transfer runs need to reach the scratch runs' final "
        "(150-evaluation) mean regret, divided by 150, with its 95 % bootstrap interval (runs that never reach it count "
        "150; `never` says how many); ⚠ **negative transfer**: transfer's mean regret is worse than scratch's with the "
        "95 % bootstrap interval of the difference above 0, after 150 evaluations or averaged over the run.",
        "",
        "| setting | method | runs | regret@10 | regret@50 | regret@150 | evals to top 1 % | evals to top 0.1 % | "
        "speed-up [95 % CI] | never | flag |",
        "|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|:--|",
    ]

    def pair(r, key, fmt="{:.3g}"):
        return f"{fmt.format(r[key + '_scratch'])} → {fmt.format(r[key + '_transfer'])}"

    for r in rows:
        flag = "⚠ negative transfer" if r["negative_transfer"] else ""
        lines.append(
            f"| {r['setting']} | {r['method']} | {r['runs']} | {pair(r, 'regret@10')} | {pair(r, 'regret@50')} | "
            f"{pair(r, f'regret@{BUDGET}')} | {pair(r, 'evals_top0.01', '{}')} | {pair(r, 'evals_top0.001', '{}')} | "
            f"{r['ratio']:.3f} [{r['ratio_ci_low']:.3f}, {r['ratio_ci_high']:.3f}] | {r['never_reached']} | {flag} |"
        )
    neg = [f"{r['setting']} ({r['method']})" for r in rows if r["negative_transfer"]]
    lines += ["", f"Negative transfer flagged in {len(neg)} of {len(rows)} cases" + (f": {'; '.join(neg)}." if neg else ".")]
    acc = [r for r in rows if r["setting"].startswith("nb201 cifar100 <- cifar10-valid") and r["method"] == "REA"]
    if acc:
        r = acc[0]
        lines += ["", f"Acceptance (NB201 cifar100 with cifar10-valid as source, REA): warm-started REA reaches the "
                  f"from-scratch REA's final mean regret ({r['scratch_final_level']:.3f}) after "
                  f"{r['evals_to_scratch_final']:.1f} evaluations on average: ratio {r['ratio']:.3f} of the 150 "
                  f"evaluations scratch REA spends, 95 % bootstrap CI [{r['ratio_ci_low']:.3f}, {r['ratio_ci_high']:.3f}] "
                  f"over {r['runs']} runs ({r['never_reached']} runs never reach it)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _plot(folder: Path, curves: dict, settings: list, methods: list) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(settings)
    cols = min(4, n)
    nrows = math.ceil(n / cols)
    fig = Figure(figsize=(4.0 * cols, 2.9 * nrows))
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    x = np.arange(1, BUDGET + 1)
    for ax, label in zip(axes, settings):
        for i, m in enumerate(methods):
            if (label, m) not in curves:
                continue
            scratch, transfer = curves[(label, m)]
            ax.plot(x, scratch, color=f"C{i}", ls="--", lw=1.0)
            ax.plot(x, transfer, color=f"C{i}", ls="-", lw=1.4, label=m)
        ax.set_xscale("log")
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, title="solid: transfer, dashed: scratch", title_fontsize=6)
    axes[0].set_ylabel("mean regret")
    fig.suptitle("Cross-task transfer: mean regret vs evaluations", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    path = folder / "transfer.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


register_protocol(
    Protocol(
        name="transfer",
        description="cross-task transfer: warm-started REA/LS, zero-shot ranking, RGPE vs scratch on NB201 and "
                    "TransNAS-Bench-101 leave-one-task-out (Markdown, CSV, regret curves)",
        default_runs=50,
        run=reproduce,
    )
)
