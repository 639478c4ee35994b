#!/usr/bin/env python
"""benchlab's full harness at research scale, against Syne Tune's simulator on the same table.

Part (a) times ``benchlab.run`` for random search on analognas with ``--evals`` (default
100,000) evaluations: strategy ask/tell, table query, simulated clock, recording and the
result columns (incumbents, test metric of the incumbent, regret). Best of ``--repeats``
(default 3), once in memory and once followed by ``benchlab.write_run`` to a temporary
folder (``spec.json``, ``trials.parquet``, ``summary.json``). Prints seconds and
microseconds per evaluation.

Part (b) runs only if ``syne_tune`` is importable (it is not a benchlab dependency). It
wraps the same analognas table (15,625 NAS-Bench-201 cells, CIFAR-10 200-epoch accuracy)
as a Syne Tune ``BlackboxTabular`` (6 categorical edges x 5 operations, one seed, one
fidelity, elapsed time 1 per evaluation) and runs Syne Tune's simulator:
``UserBlackboxBackend`` + ``Tuner(n_workers=1, sleep_time=0,
callbacks=[SimulatorCallback()])`` with the ``RandomSearch`` scheduler, for
``--st-evals`` (default 2,000) evaluations, best of ``--repeats``; Syne Tune's cost per
evaluation grows with the number of trials, so 100,000 is out of reach. The Syne Tune
settings favour it: progress printing and periodic result saving are switched off
(``print_update_interval`` and ``results_update_interval`` very large); the final results
and tuner are still saved, to a temporary ``SYNETUNE_FOLDER``. After timing, every
recorded Syne Tune result is checked against the table. Prints Syne Tune's microseconds
per evaluation and its ratio to benchlab's, both at benchlab's ``--evals`` and at the same
number of evaluations.

Usage: ``python scripts/bench_vs_synetune.py [--evals 100000] [--repeats 3] [--st-evals 2000]``
(pin to one core for stable figures: ``taskset -c 0 python scripts/...``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import benchlab

BENCHMARK = "analognas"
METRIC = "baseline_accuracy"  # what analognas shows a strategy (CIFAR-10 200-epoch accuracy, %)
ELAPSED = "elapsed_time"  # Syne Tune's elapsed-time column: 1 unit per evaluation, as on analognas


def time_benchlab(n: int, repeats: int) -> tuple[float, float]:
    """Best-of seconds for one n-evaluation random-search run: in memory, and with write_run.

    The two variants alternate within each repeat, after two warm-up runs (table load,
    imports, the allocator's first growth), so both see the same machine state.
    """
    spec = benchlab.RunSpec(BENCHMARK, "random_search", max_evaluations=n)
    result = benchlab.run(spec)
    if result.summary["status"] != "ok" or len(result.columns["regret"]) != n:
        raise SystemExit(f"benchlab run failed: {result.summary['status']}, {len(result.columns['regret'])} rows")
    del result
    in_memory, with_files = [], []
    with tempfile.TemporaryDirectory(prefix="bench-vs-synetune-") as tmp:
        benchlab.write_run(Path(tmp) / "warm-up", benchlab.run(spec))
        for k in range(repeats):
            t0 = time.perf_counter()
            benchlab.run(spec)
            in_memory.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            benchlab.write_run(Path(tmp) / f"run-{k}", benchlab.run(spec))
            with_files.append(time.perf_counter() - t0)
    return min(in_memory), min(with_files)


def synetune_blackbox(bench):
    """The benchmark's table as a Syne Tune tabular blackbox (and the config-space keys)."""
    import pandas as pd
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import choice, randint

    decisions = bench.space.choices()  # [(edge name, operations), ...]
    keys = [f"edge_{i}" for i in range(len(decisions))]
    archs = list(bench.space.enumerate())
    hyperparameters = pd.DataFrame({key: [ops[a[i]] for a in archs] for i, (key, (_, ops)) in enumerate(zip(keys, decisions))})
    accuracy = np.array([e.metrics[METRIC] for e in bench.evaluate_many(archs)], dtype=np.float64)
    # shape (configs, seeds, fidelities, objectives): one seed, one fidelity (200 epochs)
    objectives = np.stack([accuracy, np.ones_like(accuracy)], axis=-1).reshape(len(archs), 1, 1, 2)
    config_space = {key: choice(list(ops)) for key, (_, ops) in zip(keys, decisions)}
    blackbox = BlackboxTabular(
        hyperparameters=hyperparameters,
        configuration_space=config_space,
        fidelity_space={"epochs": randint(200, 200)},
        objectives_evaluations=objectives,
        fidelity_values=np.array([200]),
        objectives_names=[METRIC, ELAPSED],
    )
    lookup = {tuple(row): acc for row, acc in zip(hyperparameters.itertuples(index=False, name=None), accuracy.tolist())}
    return blackbox, config_space, keys, lookup


def time_synetune(n: int, repeats: int, seed: int = 0) -> tuple[float, int]:
    """Best-of seconds of ``Tuner.run`` for about n evaluations, and how many results it recorded."""
    runs = [_synetune_run(n, seed) for _ in range(repeats)]
    if len({count for _, count in runs}) != 1:
        raise SystemExit(f"Syne Tune recorded different numbers of results for one seed: {[c for _, c in runs]}")
    return min(seconds for seconds, _ in runs), runs[0][1]


def _synetune_run(n: int, seed: int) -> tuple[float, int]:
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository import UserBlackboxBackend
    from syne_tune.experiments import load_experiment
    from syne_tune.optimizer.baselines import RandomSearch

    blackbox, config_space, keys, lookup = synetune_blackbox(benchlab.make_benchmark(BENCHMARK))
    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    old_folder = os.environ.get("SYNETUNE_FOLDER")
    with tempfile.TemporaryDirectory(prefix="bench-synetune-") as tmp:
        os.environ["SYNETUNE_FOLDER"] = tmp
        try:
            backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=ELAPSED, seed=0)
            scheduler = RandomSearch(config_space, metrics=[METRIC], do_minimize=False, random_seed=seed)
            tuner = Tuner(
                trial_backend=backend,
                scheduler=scheduler,
                stop_criterion=StoppingCriterion(max_num_trials_completed=n),
                n_workers=1,
                sleep_time=0,
                callbacks=[SimulatorCallback()],
                print_update_interval=1e12,
                results_update_interval=1e12,
            )
            with contextlib.redirect_stdout(io.StringIO()):
                t0 = time.perf_counter()
                tuner.run()
                seconds = time.perf_counter() - t0
                frame = load_experiment(tuner.name).results
        finally:
            if old_folder is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = old_folder
    # every recorded result must be the table's value for its configuration
    configs = frame[[f"config_{k}" for k in keys]].itertuples(index=False, name=None)
    mismatches = sum(lookup[c] != v for c, v in zip(configs, frame[METRIC].tolist()))
    if mismatches:
        raise SystemExit(f"Syne Tune recorded {mismatches} results that differ from the table")
    return seconds, len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=100_000, help="benchlab evaluations per run (default 100000)")
    parser.add_argument("--repeats", type=int, default=3, help="benchlab runs per figure; the best is kept (default 3)")
    parser.add_argument("--st-evals", type=int, default=2_000, help="Syne Tune evaluations (default 2000)")
    args = parser.parse_args()
    n, repeats = args.evals, args.repeats
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"benchlab {benchlab.__version__}, Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, cpus {affinity}")

    mem, files = time_benchlab(n, repeats)
    print(f"(a) benchlab.run, {BENCHMARK}, random_search, {n} evaluations, best of {repeats}:")
    print(f"    in memory (trajectory + result columns): {mem:.3f} s  = {mem / n * 1e6:.2f} us/eval")
    print(f"    + write_run (spec, trials.parquet, summary): {files:.3f} s  = {files / n * 1e6:.2f} us/eval")

    try:
        import syne_tune
        from syne_tune.blackbox_repository import UserBlackboxBackend  # noqa: F401  (needs huggingface_hub, dill)
    except ImportError as exc:
        print(f"(b) skipped: Syne Tune is not importable ({exc}); pip install syne-tune (it is not a benchlab dependency)")
        return
    st_seconds, st_n = time_synetune(args.st_evals, repeats)
    st_us = st_seconds / st_n * 1e6
    print(f"(b) Syne Tune {syne_tune.__version__} simulator (UserBlackboxBackend, RandomSearch, 1 worker), same table, best of {repeats}:")
    print(f"    {st_n} evaluations: {st_seconds:.3f} s  = {st_us:.1f} us/eval (results checked against the table)")
    small_mem, small_files = time_benchlab(st_n, repeats)
    print(f"    benchlab at the same {st_n} evaluations: {small_mem / st_n * 1e6:.2f} us/eval in memory, "
          f"{small_files / st_n * 1e6:.2f} us/eval with write_run")
    print(f"    ratio Syne Tune / benchlab, per evaluation: {st_us / (files / n * 1e6):.0f}x vs benchlab's {n}-evaluation run "
          f"with write_run ({st_us / (mem / n * 1e6):.0f}x in memory); {st_us / (small_files / st_n * 1e6):.0f}x at {st_n} evaluations "
          f"with write_run ({st_us / (small_mem / st_n * 1e6):.0f}x in memory)")


if __name__ == "__main__":
    main()
