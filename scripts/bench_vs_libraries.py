#!/usr/bin/env python
"""benchlab's baselines against the reference libraries users would otherwise run.

Every pair runs a benchlab strategy (``benchlab.run``) and its reference implementation
(a small ask/tell adapter per library, below) on the same table, with the same budget and
protocol: benchmark ``nb201`` (NAS-Bench-201, dataset cifar10-valid, 15,625 cells), the
visible metric is the 200-epoch validation accuracy (mean of the table's seeds), one worker,
``--evals`` evaluations per run (default 150), every proposal is an evaluation (a
re-proposed cell is charged again, as in the libraries themselves), ``--seeds`` runs per
side (default 100; run k of a library gets seed k). SMAC3 and Optuna's GP sampler take about
a minute per run on one core, so their pairs run ``--slow-seeds`` runs (default 20).

Measured per pair (single objective):

* final validation regret: best validation accuracy of the table (91.607 %) minus the best
  validation accuracy seen after ``--evals`` evaluations, in points; mean ± standard error;
* test regret of the incumbent (the cell with the best validation accuracy), as in
  ``benchlab reproduce nb201-h2h`` (optimum 94.373 minus its CIFAR-10 test accuracy);
* evaluations to reach a validation regret level (the median final regret of both sides
  pooled): per seed, the first evaluation at or below the level (a run that never reaches
  it counts as ``--evals``, a lower bound); the paired ratio is the geometric mean over
  seeds k of (reference evaluations of run k) / (benchlab evaluations of run k): above 1
  means benchlab reaches the level in fewer evaluations;
* the two-sided Mann-Whitney U p-value of the final validation regrets (scipy).

Multi-objective pairs (NSGA-II) run ``nb201:extra_objectives=["params"]`` (maximise validation
accuracy, minimise parameters) and measure the hypervolume regret instead: the hypervolume of
the table's Pareto front minus that of the evaluated cells, both objectives scaled to [0, 1]
over the table (accuracy from its maximum down, parameters from their minimum up),
reference point (1, 1).

The reference libraries are optional (``pip install -e '.[peers]'``); a pair whose library
does not import is skipped with one line saying why. BANANAS and local search have no
installable reference (naszilla needs TensorFlow 1.14): their rows compare with the numbers
the papers print (``LITERATURE`` below). Results go to ``--out`` (``bench_vs_libraries.md`` and
``.csv``, plus a per-run cache so an interrupted run resumes); ``--reference-csv PATH`` also
writes the small CSV that ``benchlab reproduce nb201-h2h`` and the README show
(``benchmarks/nb201/reference_results.csv``).

    python scripts/bench_vs_libraries.py                       # every pair, 100 seeds, 150 evaluations
    python scripts/bench_vs_libraries.py --pairs tpe rea --seeds 10
    python scripts/bench_vs_libraries.py --list                # the pairs and their libraries

``scripts/bench_vs_synetune.py`` stays as it is: it measures the harness's speed against
Syne Tune's simulator, not search quality. Its idea of holding the table as arrays keyed by
the options' names (``synetune_blackbox``) is reused here, and Syne Tune's schedulers are
driven directly (suggest / on_trial_add / on_trial_complete), which is what its simulator
does with one worker.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import logging
import math
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

import benchlab

BENCHMARK = "nb201"
MO_KWARGS = {"extra_objectives": ["params"]}

# -- the table -------------------------------------------------------------------------------


class Table:
    """nb201 cifar10-valid as arrays: validation accuracy (the visible metric), the CIFAR-10
    test accuracy benchlab reports, and parameters; cells keyed by benchlab's string."""

    def __init__(self) -> None:
        bench = benchlab.make_benchmark(BENCHMARK)
        mo = benchlab.make_benchmark(BENCHMARK, MO_KWARGS)
        self.space = bench.space
        self.decisions = bench.space.choices()  # [(edge name, operation names), ...]
        self.keys = [f"edge{i}" for i in range(len(self.decisions))]
        archs = list(bench.space.enumerate())
        self.strs = [bench.space.to_str(a) for a in archs]
        self.index = {s: i for i, s in enumerate(self.strs)}
        self.valid = np.array([e.metrics[bench.objectives[0].name] for e in bench.evaluate_many(archs)])
        metric = bench.report_metric
        self.test = np.array([bench.report(a)[metric] for a in archs])
        self.params = np.array([e.metrics["params"] for e in mo.evaluate_many(archs)])
        self.valid_opt = float(self.valid.max())
        self.test_opt = float(bench.optimum(metric))
        # scaled objectives for the hypervolume: both to minimise, in [0, 1]
        vmin, pmin, pmax = self.valid.min(), self.params.min(), self.params.max()
        self.f1 = (self.valid_opt - self.valid) / (self.valid_opt - vmin)
        self.f2 = (self.params - pmin) / (pmax - pmin)
        self.hv_opt = hypervolume(self.f1, self.f2)

    def arch_str(self, ops: list) -> str:
        """benchlab's string of a cell given one operation name per edge."""
        return self.space.to_str(tuple(opts.index(o) for (_, opts), o in zip(self.decisions, ops)))

    def config_space(self) -> dict:
        return {k: list(opts) for k, (_, opts) in zip(self.keys, self.decisions)}

    def config_str(self, config: dict) -> str:
        return self.arch_str([config[k] for k in self.keys])


def hypervolume(f1: np.ndarray, f2: np.ndarray) -> float:
    """2-D hypervolume (both minimised) dominated by the points, reference point (1, 1)."""
    order = np.lexsort((f2, f1))
    hv, best_f2 = 0.0, 1.0
    for i in order:
        if f2[i] < best_f2 and f1[i] < 1.0:
            hv += (1.0 - f1[i]) * (best_f2 - f2[i])
            best_f2 = f2[i]
    return float(hv)


# -- runners: each returns the evaluated cells (benchlab strings), in order -----------------


def run_benchlab(strategy: str, kwargs: dict, mo: bool = False) -> Callable:
    def run(table: Table, seed: int, evals: int) -> list:
        spec = benchlab.RunSpec(BENCHMARK, strategy, strategy_kwargs=dict(kwargs),
                                benchmark_kwargs=dict(MO_KWARGS) if mo else {}, seed=0, repeat=seed,
                                max_evaluations=evals)  # fmt: skip
        result = benchlab.run(spec)
        if result.summary["status"] != "ok":
            raise RuntimeError(f"benchlab {strategy} seed {seed}: {result.summary.get('error')}")
        return [str(a) for a in result.columns["arch"]]

    return run


def run_optuna(make_sampler: Callable, mo: bool = False) -> Callable:
    def run(table: Table, seed: int, evals: int) -> list:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            directions = ["maximize", "minimize"] if mo else ["maximize"]
            study = optuna.create_study(directions=directions, sampler=make_sampler(optuna, seed))
            space = table.config_space()
            out = []
            for _ in range(evals):
                trial = study.ask()
                s = table.config_str({k: trial.suggest_categorical(k, v) for k, v in space.items()})
                i = table.index[s]
                study.tell(trial, [float(table.valid[i]), float(table.params[i])] if mo else float(table.valid[i]))
                out.append(s)
        return out

    return run


def run_synetune(make_scheduler: Callable) -> Callable:
    """A Syne Tune scheduler driven directly through suggest / on_trial_add / on_trial_complete
    (what its simulator does with one worker and trials that finish in order)."""

    def run(table: Table, seed: int, evals: int) -> list:
        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import choice

        logging.getLogger("syne_tune").setLevel(logging.WARNING)
        config_space = {k: choice(v) for k, v in table.config_space().items()}
        scheduler = make_scheduler(config_space, seed)
        out = []
        now = datetime.datetime.now()
        for t in range(evals):
            suggestion = scheduler.suggest()
            trial = Trial(trial_id=t, config=suggestion.config, creation_time=now)
            scheduler.on_trial_add(trial)
            s = table.config_str(suggestion.config)
            scheduler.on_trial_complete(trial, {"valid_acc": float(table.valid[table.index[s]])})
            out.append(s)
        return out

    return run


def run_smac(table: Table, seed: int, evals: int) -> list:
    """SMAC3's HyperparameterOptimizationFacade (random forest, log EI, Sobol initial design,
    interleaved random configurations), ask/tell, deterministic target (the table)."""
    from ConfigSpace import Categorical, ConfigurationSpace
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    logging.getLogger("smac").setLevel(logging.ERROR)
    cs = ConfigurationSpace(seed=seed)
    cs.add([Categorical(k, v) for k, v in table.config_space().items()])
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-smac-") as tmp:
        scenario = Scenario(cs, deterministic=True, n_trials=evals, seed=seed, output_directory=Path(tmp) / "smac")
        smac = HyperparameterOptimizationFacade(scenario, lambda config, seed=0: 0.0, overwrite=True,
                                                logging_level=40)  # fmt: skip
        for _ in range(evals):
            info = smac.ask()
            s = table.config_str(dict(info.config))
            smac.tell(info, TrialValue(cost=-float(table.valid[table.index[s]])))
            out.append(s)
    return out


def run_pymoo(table: Table, seed: int, evals: int) -> list:
    """pymoo's NSGA2 (pop 50) on integer-coded operations: integer random sampling, SBX and
    polynomial mutation with rounding repair, duplicate elimination (pymoo's documented
    set-up for discrete variables), ask/tell; maximise accuracy, minimise parameters."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling

    n_ops = [len(opts) for _, opts in table.decisions]
    problem = Problem(n_var=len(n_ops), n_obj=2, xl=0, xu=np.array(n_ops) - 1, vtype=int)
    algorithm = NSGA2(pop_size=50, sampling=IntegerRandomSampling(),
                      crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                      mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                      eliminate_duplicates=True)  # fmt: skip
    algorithm.setup(problem, termination=("n_evals", evals), seed=seed, verbose=False)
    out = []
    while algorithm.has_next() and len(out) < evals:
        pop = algorithm.ask()
        X = np.asarray(pop.get("X")).round().astype(int)
        F = []
        for x in X:
            s = table.space.to_str(tuple(int(v) for v in x))
            i = table.index[s]
            F.append([-table.valid[i], table.params[i]])
            out.append(s)
        pop.set("F", np.array(F, dtype=float))
        algorithm.tell(infills=pop)
    return out[:evals]


# -- pairs -----------------------------------------------------------------------------------

def _tpe(**kw) -> Callable:
    return lambda optuna, seed: optuna.samplers.TPESampler(seed=seed, **kw)


@dataclass
class Side:
    label: str
    run: Callable
    library: str = "benchlab"  # distribution name, for its version


@dataclass
class Pair:
    name: str
    ours: Side
    ref: Side
    mo: bool = False
    note: str = ""
    needs: tuple = field(default_factory=tuple)  # modules the reference imports
    slow: bool = False  # about a minute per run: at most --slow-seeds runs per side


PAPER_TPE = {"multivariate": False, "constant_liar": False}


def pairs() -> list[Pair]:
    def st_rea(cs, seed):
        from syne_tune.optimizer.baselines import REA
        return REA(cs, metric="valid_acc", do_minimize=False, random_seed=seed, population_size=10, sample_size=3)

    def st_rs(cs, seed):
        from syne_tune.optimizer.baselines import RandomSearch
        return RandomSearch(cs, metrics=["valid_acc"], do_minimize=False, random_seed=seed)

    return [
        Pair("tpe", Side("tpe", run_benchlab("tpe", {})),
             Side("Optuna TPESampler()", run_optuna(_tpe()), "optuna"),
             note="benchlab default preset = Optuna 5 defaults (multivariate, constant liar)", needs=("optuna",)),
        Pair("tpe-paper", Side("tpe:preset=paper", run_benchlab("tpe", {"preset": "paper"})),
             Side("Optuna TPESampler(multivariate=False, constant_liar=False)", run_optuna(_tpe(**PAPER_TPE)), "optuna"),
             note="Bergstra et al. 2011 univariate TPE (benchlab's former tpe default)", needs=("optuna",)),
        Pair("tpe-vs-paper", Side("tpe", run_benchlab("tpe", {})),
             Side("tpe:preset=paper", run_benchlab("tpe", {"preset": "paper"})),
             note="benchlab's new tpe default against its former one", needs=("optuna",)),
        Pair("tpe-skip", Side("tpe:skip_duplicates=true", run_benchlab("tpe", {"skip_duplicates": True})),
             Side("Optuna TPESampler()", run_optuna(_tpe()), "optuna"),
             note="re-proposed cells told their known value instead of evaluated", needs=("optuna",)),
        Pair("random", Side("random_search", run_benchlab("random_search", {})),
             Side("Syne Tune RandomSearch", run_synetune(st_rs), "syne-tune"), needs=("syne_tune",)),
        Pair("rea", Side("regularized_evolution", run_benchlab("regularized_evolution", {})),
             Side("Syne Tune REA(population_size=10, sample_size=3)", run_synetune(st_rea), "syne-tune"),
             note="NB201 REA settings on both sides", needs=("syne_tune",)),
        Pair("smac", Side("smac_rf", run_benchlab("smac_rf", {})),
             Side("SMAC3 HyperparameterOptimizationFacade", run_smac, "smac"),
             note="SMAC3 >= 2.4 uses a scikit-learn forest (pyrfr is an optional extra)", needs=("smac",), slow=True),
        Pair("gp", Side("gp_bo", run_benchlab("gp_bo", {})),
             Side("Optuna GPSampler()", run_optuna(lambda optuna, seed: optuna.samplers.GPSampler(seed=seed)), "optuna"),
             note="Optuna's GP: Matern 5/2 + Hamming kernel for categorical decisions, log EI", needs=("optuna", "torch"),
             slow=True),
        Pair("nsga2-optuna", Side("nsga2", run_benchlab("nsga2", {}, mo=True)),
             Side("Optuna NSGAIISampler(population_size=50)",
                  run_optuna(lambda optuna, seed: optuna.samplers.NSGAIISampler(population_size=50, seed=seed), mo=True),
                  "optuna"),
             mo=True, note="hypervolume regret (accuracy, parameters)", needs=("optuna",)),
        Pair("nsga2-pymoo", Side("nsga2", run_benchlab("nsga2", {}, mo=True)),
             Side("pymoo NSGA2(pop_size=50)", run_pymoo, "pymoo"),
             mo=True, note="hypervolume regret (accuracy, parameters)", needs=("pymoo",)),
    ]  # fmt: skip


#: What the BANANAS / local-search papers print about NAS-Bench-201 (quoted, with where).
LITERATURE = [
    {
        "strategy": "bananas",
        "source": "White, Neiswanger & Savani, BANANAS, AAAI 2021 (arXiv:1910.11858)",
        "where": "NAS-Bench-201 results are plots only (test error vs number of queries, 150 queries); "
                 "no NB201 number in the text or tables, so nothing to compare numerically",
    },
    {
        "strategy": "local_search",
        "source": "White, Nolen & Savani, Local Search is State of the Art for NAS Benchmarks (arXiv:2005.02960v1, "
                  "published as Exploring the Loss Landscape in NAS, UAI 2021), abstract",
        "where": "\"on CIFAR-100 with the NASBench-201 search space, local search reaches the global optimum after "
                 "training just 127 architectures on average\"; NB201 CIFAR-10 results are plots only",
        "paper_value": 127.0,
    },
]
LS_BUDGET = 1000  # evaluations per local_search run when counting those to the global optimum


def local_search_to_optimum(seeds: int) -> dict:
    """benchlab ``local_search`` on nb201 cifar100 (validation accuracy, as the paper's search):
    evaluations until the cell with the best validation accuracy is evaluated; mean ± SE over
    runs that reach it within ``LS_BUDGET`` evaluations, and how many do."""
    bench = benchlab.make_benchmark(BENCHMARK, {"dataset": "cifar100"})
    archs = list(bench.space.enumerate())
    valid = np.array([e.metrics[bench.objectives[0].name] for e in bench.evaluate_many(archs)])
    best = bench.space.to_str(archs[int(np.argmax(valid))])
    hits = []
    for k in range(seeds):
        spec = benchlab.RunSpec(BENCHMARK, "local_search", benchmark_kwargs={"dataset": "cifar100"}, seed=0, repeat=k,
                                max_evaluations=LS_BUDGET)  # fmt: skip
        cells = [str(a) for a in benchlab.run(spec).columns["arch"]]
        if best in cells:
            hits.append(cells.index(best) + 1)
    h = np.array(hits, dtype=float)
    return {"runs": seeds, "reached": len(hits), "mean": float(h.mean()) if len(h) else math.nan,
            "se": float(h.std(ddof=1) / math.sqrt(len(h))) if len(h) > 1 else math.nan,
            "median": float(np.median(h)) if len(h) else math.nan}  # fmt: skip


# -- statistics ------------------------------------------------------------------------------

def curves(table: Table, runs: list, mo: bool, evals: int) -> tuple[np.ndarray, np.ndarray]:
    """(regret curves: runs x evals, final test regret per run). Single objective: validation
    regret of the best seen; multi-objective: hypervolume regret (test regret NaN)."""
    reg = np.full((len(runs), evals), np.nan)
    test = np.full(len(runs), np.nan)
    for r, cells in enumerate(runs):
        idx = np.array([table.index[s] for s in cells[:evals]])
        if mo:
            for t in range(len(idx)):  # hypervolume after every evaluation
                reg[r, t] = table.hv_opt - hypervolume(table.f1[idx[: t + 1]], table.f2[idx[: t + 1]])
        else:
            best = np.maximum.accumulate(table.valid[idx])
            reg[r, : len(idx)] = table.valid_opt - best
            inc = idx[int(np.argmax(table.valid[idx]))]  # first cell with the best validation accuracy
            test[r] = table.test_opt - table.test[inc]
    return reg, test


def evals_to_reach(reg: np.ndarray, level: float) -> np.ndarray:
    hit = reg <= level + 1e-12
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, reg.shape[1])
    return first.astype(float)


def compare(ours: np.ndarray, ref: np.ndarray) -> dict:
    from scipy.stats import mannwhitneyu

    a, b = ours[:, -1], ref[:, -1]
    level = float(np.median(np.concatenate([a, b])))
    ea, eb = evals_to_reach(ours, level), evals_to_reach(ref, level)
    n = min(len(ea), len(eb))
    ratio = float(np.exp(np.mean(np.log(eb[:n] / ea[:n]))))
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue) if np.ptp(np.concatenate([a, b])) > 0 else 1.0
    se = lambda x: float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan  # noqa: E731
    return {
        "ours_mean": float(a.mean()), "ours_se": se(a), "ref_mean": float(b.mean()), "ref_se": se(b),
        "level": level, "ratio": ratio, "p": p,
    }  # fmt: skip


# -- running with a cache ----------------------------------------------------------------------

def version(dist: str) -> str:
    if dist == "benchlab":
        return benchlab.__version__
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def collect(side: Side, table: Table, seeds: int, evals: int, cache: Path, mo: bool) -> list:
    """The evaluated cells of runs 0..seeds-1 (cached in ``cache`` as JSON, one file per side)."""
    tag = "".join(c if c.isalnum() or c in "-_." else "_" for c in side.label)[:80]
    path = cache / f"{tag}{'-mo' if mo else ''}-{evals}-{version(side.library)}.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    t0 = time.perf_counter()
    for k in range(seeds):
        if str(k) in done:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            done[str(k)] = side.run(table, k, evals)
        if len(done[str(k)]) != evals:
            raise SystemExit(f"{side.label} seed {k}: {len(done[str(k)])} evaluations instead of {evals}")
        path.write_text(json.dumps(done))  # after every run: an interrupted side resumes where it stopped
        if (k + 1) % 10 == 0 or k + 1 == seeds:
            print(f"    {side.label}: {k + 1}/{seeds} runs, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return [done[str(k)] for k in range(seeds)]


def missing(pair: Pair) -> str | None:
    import importlib

    for module in pair.needs:
        try:
            importlib.import_module(module)
        except Exception as exc:  # ImportError, or a broken install
            return f"{module} does not import ({type(exc).__name__}: {exc}); pip install -e '.[peers]'"
    return None


def fmt(x: float, digits: int = 3) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main(argv: list | None = None) -> int:
    all_pairs = pairs()
    names = [p.name for p in all_pairs]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="pairs: " + ", ".join(names) + ", local_search (the paper's number)")
    ap.add_argument("--seeds", type=int, default=100, help="runs per side (default 100)")
    ap.add_argument("--evals", type=int, default=150, help="evaluations per run (default 150)")
    ap.add_argument("--pairs", nargs="+", default=None, metavar="PAIR", help="pairs to run (default all; see --list)")
    ap.add_argument("--slow-seeds", nargs="+", default=["20"], metavar="N|PAIR=N",
                    help="runs per side for the pairs whose reference takes half a minute or more per run (smac, gp): "
                         "N for both, PAIR=N for one (default 20)")
    ap.add_argument("--out", type=Path, default=Path("results/bench_vs_libraries"), help="output folder")
    ap.add_argument("--reference-csv", type=Path, default=None,
                    help="also write the small CSV of measured numbers shown by `reproduce nb201-h2h` and the README")
    ap.add_argument("--list", action="store_true", help="print the pairs and exit")
    args = ap.parse_args(argv)
    if args.list:
        for p in all_pairs:
            print(f"{p.name:14s} {p.ours.label}  vs  {p.ref.label}  [{p.ref.library}]  {p.note}")
        return 0
    slow_seeds = {}
    for token in args.slow_seeds:
        name, _, n = token.rpartition("=")
        if not n.isdigit() or int(n) < 2 or (name and name not in names):
            ap.error(f"--slow-seeds {token!r}: give N or PAIR=N with N >= 2 and PAIR one of {names}")
        slow_seeds[name] = int(n)
    slow_seeds.setdefault("", 20)
    if args.seeds < 2 or args.evals < 1:
        ap.error("--seeds must be at least 2 and --evals at least 1")
    chosen = [p for p in all_pairs if args.pairs is None or p.name in args.pairs]
    unknown = sorted(set(args.pairs or []) - set(names) - {"local_search"})
    if unknown:
        ap.error(f"unknown pair(s) {unknown}: choose from {names}")
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "cache"
    cache.mkdir(exist_ok=True)
    command = "python scripts/bench_vs_libraries.py " + " ".join(sys.argv[1:] if argv is None else argv)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(f"benchlab {benchlab.__version__}, Python {platform.python_version()}, numpy {np.__version__}; "
          f"{BENCHMARK} cifar10-valid, {args.evals} evaluations, {args.seeds} seeds", flush=True)  # fmt: skip
    table = Table()
    rows = []
    for pair in chosen:
        why = missing(pair)
        if why:
            print(f"  {pair.name}: skipped: {why}", flush=True)
            rows.append({"pair": pair.name, "ours": pair.ours.label, "reference": pair.ref.label, "skipped": why})
            continue
        seeds = min(args.seeds, slow_seeds.get(pair.name, slow_seeds[""])) if pair.slow else args.seeds
        print(f"  {pair.name}: {pair.ours.label} vs {pair.ref.label}, {seeds} runs each", flush=True)
        sides = [collect(s, table, seeds, args.evals, cache, pair.mo) for s in (pair.ours, pair.ref)]
        (ro, to), (rr, tr) = (curves(table, runs, pair.mo, args.evals) for runs in sides)
        c = compare(ro, rr)
        row = {
            "pair": pair.name, "ours": pair.ours.label, "reference": pair.ref.label,
            "library": f"{pair.ref.library} {version(pair.ref.library)}", "metric": "hv_regret" if pair.mo else "valid_regret",
            "seeds": seeds, "evals": args.evals,
            **c,
            "ours_test_regret": float(np.nanmean(to)) if not pair.mo else math.nan,
            "ref_test_regret": float(np.nanmean(tr)) if not pair.mo else math.nan,
            "note": pair.note, "skipped": "",
        }  # fmt: skip
        rows.append(row)
        print(f"    {row['metric']}: ours {fmt(c['ours_mean'], 4)} ± {fmt(c['ours_se'], 4)}, reference "
              f"{fmt(c['ref_mean'], 4)} ± {fmt(c['ref_se'], 4)}, evaluation ratio {c['ratio']:.2f}, p = {c['p']:.3g}",
              flush=True)  # fmt: skip
    ls = None
    if args.pairs is None or "local_search" in args.pairs:
        print("  local_search: evaluations to the global optimum on nb201 cifar100 (the paper's number)", flush=True)
        ls = local_search_to_optimum(args.seeds)
        rows.append({"pair": "local_search", "ours": "local_search", "reference": LITERATURE[1]["source"],
                     "library": "paper", "metric": "evals_to_optimum_cifar100", "seeds": ls["runs"], "evals": LS_BUDGET,
                     "ours_mean": ls["mean"], "ours_se": ls["se"], "ref_mean": 127.0, "ref_se": math.nan,
                     "note": f"{ls['reached']} of {ls['runs']} runs reach the optimum; paper gives a mean only",
                     "skipped": "", "literature": True})  # fmt: skip
    write(args.out, rows, command, date, args, ls)
    if args.reference_csv:
        write_reference(args.reference_csv, rows, command, date)
        print(f"wrote {args.reference_csv}")
    return 0


COLUMNS = ["pair", "ours", "reference", "library", "metric", "seeds", "evals", "ours_mean", "ours_se", "ref_mean",
           "ref_se", "ours_test_regret", "ref_test_regret", "level", "ratio", "p", "note", "skipped"]  # fmt: skip


def _csv(rows: list, columns: list) -> str:
    import csv

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def markdown(rows: list, command: str, date: str, evals: int, seeds: int, ls: dict | None = None) -> str:
    lines = [
        "# benchlab baselines vs reference libraries",
        "",
        f"nb201 (cifar10-valid, 200-epoch validation accuracy), {evals} evaluations, runs per side as listed. "
        "Regret: validation regret of the best cell seen (points); NSGA-II: hypervolume regret (accuracy, "
        "parameters scaled to [0, 1]). Mean ± SE; ratio = geometric mean over runs of reference / benchlab "
        "evaluations to reach the pooled median final regret (> 1: benchlab faster); p: two-sided Mann-Whitney U.",
        "",
        "| pair | runs | benchlab | regret | reference | regret | eval ratio | p | test regret (ours / ref) |",
        "|:--|--:|:--|--:|:--|--:|--:|--:|--:|",
    ]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['pair']} | | {r['ours']} | | {r['reference']} | | | | skipped: {r['skipped']} |")
            continue
        d = 4 if r["metric"] == "hv_regret" else 3
        tr = "" if math.isnan(r["ours_test_regret"]) else f"{r['ours_test_regret']:.3f} / {r['ref_test_regret']:.3f}"
        lines.append(
            f"| {r['pair']} | {r['seeds']} | {r['ours']} | {r['ours_mean']:.{d}f} ± {r['ours_se']:.{d}f} | {r['reference']} ({r['library']}) | "
            f"{r['ref_mean']:.{d}f} ± {r['ref_se']:.{d}f} | {r['ratio']:.2f} | {r['p']:.3g} | {tr} |"
        )
    lines += ["", "Published numbers (no installable reference; naszilla needs TensorFlow 1.14):", ""]
    for lit in LITERATURE:
        lines.append(f"- `{lit['strategy']}`: {lit['source']}: {lit['where']}.")
        if lit["strategy"] == "local_search" and ls:
            lines.append(
                f"  benchlab `local_search`, nb201 cifar100, {ls['runs']} runs of {LS_BUDGET} evaluations: the best-validation "
                f"cell after {ls['mean']:.1f} ± {ls['se']:.1f} evaluations (median {ls['median']:.0f}) in the "
                f"{ls['reached']} runs that reach it (paper: 127)."
            )
    lines += ["", f"Command: `{command}` ({date})."]
    return "\n".join(lines) + "\n"


def write(out: Path, rows: list, command: str, date: str, args, ls: dict | None = None) -> None:
    text = markdown([r for r in rows if not r.get("literature")], command, date, args.evals, args.seeds, ls)
    (out / "bench_vs_libraries.md").write_text(text)
    (out / "bench_vs_libraries.csv").write_text(_csv(rows, COLUMNS))
    print()
    print(text)
    print(f"wrote {out / 'bench_vs_libraries.md'} and .csv")


def write_reference(path: Path, rows: list, command: str, date: str) -> None:
    """The committed CSV: measured rows only, each with the command and date of its measurement.
    Rows of pairs not run this time are kept as they were (one pair can be re-measured alone)."""
    import csv

    measured = [dict(r, command=command, date=date) for r in rows if not r.get("skipped")]
    if path.exists():
        new = {r["pair"] for r in measured}
        with path.open(newline="") as fh:
            kept = [r for r in csv.DictReader(fh) if r.get("pair") not in new]
        order = [r["pair"] for r in csv.DictReader(path.open(newline=""))]
        measured = sorted(kept + measured, key=lambda r: order.index(r["pair"]) if r["pair"] in order else len(order))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_csv(measured, COLUMNS[:-1] + ["command", "date"]))


if __name__ == "__main__":
    raise SystemExit(main())
