"""One run on a simulated clock: N workers, results told in order of simulated finish time."""

from __future__ import annotations

import heapq
import inspect
import math
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._benchmark import Benchmark
from ._params import check_params
from ._errors import BenchlabError, InvalidConfig
from ._registry import BENCHMARKS, STRATEGIES
from ._rng import run_seed_sequence
from ._spec import RunSpec, canonical_json
from ._strategy import Strategy
from ._types import Evaluation

__all__ = ["make_benchmark", "make_strategy", "run", "RunResult"]

_BENCHMARK_CACHE: dict[str, Benchmark] = {}


def _construct(registry, name: str, kwargs: dict):
    cls = registry.get(name)
    kwargs = check_params(registry.kind, name, cls, kwargs)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        params = ", ".join(str(p) for p in list(inspect.signature(cls.__init__).parameters.values())[1:])
        raise InvalidConfig(f"{registry.kind} {name!r}: {exc}; its parameters are ({params})") from None


def make_benchmark(name: str, kwargs: dict | None = None, *, cache: bool = True) -> Benchmark:
    """Build a registered benchmark; tables are cached per process (they are read-only)."""
    kwargs = dict(kwargs or {})
    key = canonical_json({"name": name, "kwargs": kwargs})
    if cache and key in _BENCHMARK_CACHE:
        return _BENCHMARK_CACHE[key]
    bench = _construct(BENCHMARKS, name, kwargs)
    if cache:
        _BENCHMARK_CACHE[key] = bench
    return bench


def make_strategy(name: str, kwargs: dict | None = None) -> Strategy:
    """Build a registered strategy from its keyword hyper-parameters."""
    return _construct(STRATEGIES, name, dict(kwargs or {}))


@dataclass
class RunResult:
    """Trajectory columns (one row per told evaluation, in finish order) and a summary."""

    spec: RunSpec
    columns: dict[str, Any]
    summary: dict


_ROW = ("trial", "arch", "fidelity", "resume", "worker", "start", "end", "cost", "value", "metrics")


class _Recorder:
    """The trajectory, one row per told result in finish order, kept flat (ten fields per
    row, one list append per result); :meth:`column` reads one field of every row."""

    __slots__ = ("flat",)

    def __init__(self) -> None:
        self.flat: list = []

    def column(self, name: str) -> list:
        return self.flat[_ROW.index(name) :: len(_ROW)]


def _bad_cost(bench: Benchmark, trial, ev) -> None:
    raise BenchlabError(
        f"benchmark {bench.name!r} returned cost {ev.cost!r} for {bench.space.to_str(trial.arch)}: "
        "costs must be finite and >= 0; fix the benchmark's evaluate()"
    )


def _continued(bench: Benchmark, trial, ev: Evaluation) -> Evaluation:
    """A trial that continues training from ``trial.resume_from``: charge the extra cost only."""
    start = trial.resume_from
    if ev.fidelity is not None and not start < ev.fidelity:
        raise InvalidConfig(
            f"trial {trial.id} resumes from fidelity {start} but asks for {ev.fidelity}: continuing needs a higher fidelity"
        )
    extra = ev.cost - bench.query_cost(trial.arch, start)
    return Evaluation(ev.metrics, extra if extra > 0.0 else 0.0, ev.fidelity, ev.seed, ev.feasible)


def _charged(trial, ev: Evaluation) -> Evaluation:
    """A trial whose strategy set ``Trial.cost`` (training inside ``ask``) is charged that cost."""
    if trial.cost is None:
        return ev
    cost = float(trial.cost)
    if not 0.0 <= cost < math.inf:
        raise BenchlabError(f"trial {trial.id} carries cost {trial.cost!r}: Trial.cost must be finite and >= 0; fix the strategy's ask()")
    return Evaluation(ev.metrics, cost, ev.fidelity, ev.seed, ev.feasible)


def _loop(strategy: Strategy, bench: Benchmark, spec: RunSpec, bench_rng, rec: _Recorder, objective: str,
          keep_metrics: bool = False) -> str:  # fmt: skip
    """Drive ask/evaluate/tell until the budget ends; return why it stopped.

    One loop for every mode: ``n_workers`` workers on a simulated clock. Each free worker
    (lowest id first) starts the next asked trial at the current time: as soon as it is
    free (asynchronous), or, with ``spec.sync``, only when the whole previous batch has
    finished, so every batch starts at the latest end of the one before. Results are told
    in order of simulated finish time (ties: ask order); one worker is the sequential case,
    the same in both modes.

    Budget rule: no trial starts once ``max_evaluations`` have started or the clock has
    reached ``max_seconds``; a result that would finish after ``max_seconds`` is not
    observed, nor is any later one. When ``ask`` returns None, asynchronous runs ask again
    after the next result and stop when nothing is running; synchronous runs stop after
    the current batch.

    Every told result is recorded in ``rec`` before ``tell`` (a tell that raises loses no
    result).
    """
    max_evals = spec.max_evaluations if spec.max_evaluations is not None else math.inf
    max_seconds = spec.max_seconds if spec.max_seconds is not None else math.inf
    ask, tell, evaluate = strategy.ask, strategy.tell, bench.evaluate
    record = rec.flat.extend
    keep_metrics = keep_metrics or len(bench.objectives) > 1
    sync = bool(spec.sync)
    heappush, heappop = heapq.heappush, heapq.heappop
    nan, inf = math.nan, math.inf
    running: list = []  # heap of (end, ask order, worker, start, trial, evaluation)
    free = list(range(spec.n_workers))  # heap of idle workers: the lowest starts next
    clock = 0.0
    started = 0
    reason = None
    while True:
        # start trials on the free workers (synchronous: only between batches)
        if not sync or not (running or reason):
            while free:
                if started >= max_evals:
                    reason = "max_evaluations"
                    break
                if clock >= max_seconds:
                    reason = "max_seconds"
                    break
                trial = ask()
                if trial is None:
                    reason = "exhausted"
                    break
                ev = evaluate(trial.arch, trial.fidelity, rng=bench_rng)
                if trial.resume_from is not None:
                    ev = _continued(bench, trial, ev)
                if trial.cost is not None:
                    ev = _charged(trial, ev)
                cost = ev.cost
                if not 0.0 <= cost < inf:
                    _bad_cost(bench, trial, ev)
                heappush(running, (clock + cost, started, heappop(free), clock, trial, ev))
                started += 1
        if not running:
            return reason
        # the next result to finish
        end, _, worker, start, trial, ev = heappop(running)
        if end > max_seconds:
            return "max_seconds"  # this and every later result finish after the budget
        clock = end
        heappush(free, worker)
        metrics = ev.metrics
        record((trial.id, trial.arch, ev.fidelity, trial.resume_from, worker, start, end, ev.cost,
                metrics.get(objective, nan), metrics if keep_metrics else None))  # fmt: skip
        tell(trial, ev)


def _incumbents(values: np.ndarray, sign: float, fidelity: np.ndarray | None = None) -> np.ndarray:
    """Index of the incumbent after each row: the first row with the best score so far.

    When rows have different fidelities (multi-fidelity strategies), a result at a higher
    fidelity beats any result at a lower one (a 12-epoch accuracy is not comparable with a
    200-epoch one); rows without a finite score never beat rows with one.
    """
    scores = sign * values
    scores = np.where(np.isnan(scores), -np.inf, scores)
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    if fidelity is not None:
        fid = np.where(np.isnan(fidelity), -np.inf, fidelity)
        if fid.min() != fid.max():
            return _incumbents_by_fidelity(scores, fid)
    previous_best = np.maximum.accumulate(np.concatenate([[-np.inf], scores[:-1]]))
    improved = scores > previous_best
    improved[0] = True
    return np.maximum.accumulate(np.where(improved, np.arange(scores.size), 0))


def _incumbents_by_fidelity(scores: np.ndarray, fid: np.ndarray) -> np.ndarray:
    out = np.empty(scores.size, dtype=np.int64)
    best = (False, -np.inf, -np.inf)
    current = 0
    for i, (s, f) in enumerate(zip(scores.tolist(), fid.tolist())):
        key = (s > -np.inf, f if s > -np.inf else -np.inf, s)
        if i == 0 or key > best:
            best, current = key, i
        out[i] = current
    return out


def _feasible_incumbents(values: np.ndarray, sign: float, fidelity: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """:func:`_incumbents` among the feasible rows only; -1 before the first feasible row
    (no incumbent yet: its regret is undefined)."""
    idx = np.flatnonzero(feasible)
    out = np.full(values.size, -1, dtype=np.int64)
    if idx.size == 0:
        return out
    sub = _incumbents(values[idx], sign, fidelity[idx])
    count = np.cumsum(feasible) - 1  # feasible rows told so far, minus one
    has = count >= 0
    out[has] = idx[sub[count[has]]]
    return out


def run(spec: RunSpec, *, benchmark: Benchmark | None = None, strategy: Strategy | None = None) -> RunResult:
    """Execute one run and return its trajectory and summary (nothing is written).

    If the strategy raises, the evaluations finished so far are kept, and the error and
    its traceback are in the summary (``status: "error"``).

    On a benchmark with constraints (``bench.constraint_set``, hardware-aware NAS) the
    strategy gets the constraint set in ``setup``, the incumbent is the best *feasible*
    result so far (an infeasible evaluation costs the same and never becomes the
    incumbent), regret is against the constrained optimum (``bench.optimum``: the best
    report-metric value among feasible architectures) and is NaN, with an empty incumbent,
    until the first feasible result. The trajectory gains ``feasible``, ``violation`` and
    one ``constraint:<metric>`` column per constraint metric; the summary gains
    ``constraints``, ``n_feasible``, ``feasibility_rate`` (feasible fraction of the
    evaluations), ``first_feasible_eval`` and ``unconstrained_optimum``.
    """
    bench = benchmark if benchmark is not None else make_benchmark(spec.benchmark, spec.benchmark_kwargs)
    strat = strategy if strategy is not None else make_strategy(spec.strategy, spec.strategy_kwargs)
    objective = bench.objectives[0]
    report_metric = bench.report_metric
    seq = run_seed_sequence(spec.seed, spec.benchmark_key, spec.strategy_key, spec.repeat)
    strategy_seed, bench_seed = seq.spawn(2)
    bench_rng = np.random.default_rng(bench_seed)
    rec = _Recorder()
    cons = getattr(bench, "constraint_set", None)
    cons = cons if cons else None
    t0 = time.perf_counter()
    error = None
    try:
        if cons is None:
            strat.setup(bench.space, bench.objectives, bench.fidelity, seed=strategy_seed)
        else:
            strat.setup(bench.space, bench.objectives, bench.fidelity, seed=strategy_seed, constraints=cons)
        reason = _loop(strat, bench, spec, bench_rng, rec, objective.name, cons is not None)
    except Exception as exc:  # a failing strategy must not lose finished evaluations
        reason = "error"
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
    wall = time.perf_counter() - t0

    r_arch, r_end = rec.column("arch"), rec.column("end")
    values = np.asarray(rec.column("value"), dtype=np.float64)
    fid = [math.nan if f is None else float(f) for f in rec.column("fidelity")]
    if cons is None:
        inc = _incumbents(values, objective.sign, np.asarray(fid, dtype=np.float64))
    else:
        metrics_rows = rec.column("metrics")
        violation = np.array([cons.violation(m) for m in metrics_rows], dtype=np.float64)
        feasible = violation == 0.0
        inc = _feasible_incumbents(values, objective.sign, np.asarray(fid, dtype=np.float64), feasible)
    unique_inc = {-1: math.nan}
    for i in np.unique(inc).tolist():
        if i >= 0:
            unique_inc[i] = bench.report(r_arch[i])[report_metric]
    inc_test = np.array([unique_inc[i] for i in inc.tolist()], dtype=np.float64)
    optimum = bench.optimum(report_metric)
    regret = objective.sign * (optimum - inc_test)
    to_str = bench.space.to_str
    arch_str = [to_str(a) for a in r_arch]
    resume = [math.nan if f is None else float(f) for f in rec.column("resume")]
    columns = {
        "eval": np.arange(1, values.size + 1, dtype=np.int64),
        "trial": np.asarray(rec.column("trial"), dtype=np.int64),
        "arch": arch_str,
        "fidelity": np.asarray(fid, dtype=np.float64),
        "resume_from": np.asarray(resume, dtype=np.float64),
        "worker": np.asarray(rec.column("worker"), dtype=np.int64),
        "start": np.asarray(rec.column("start"), dtype=np.float64),
        "end": np.asarray(r_end, dtype=np.float64),
        "cost": np.asarray(rec.column("cost"), dtype=np.float64),
        "value": values,
        "incumbent": [arch_str[i] if i >= 0 else "" for i in inc.tolist()],
        "incumbent_value": values[inc] if values.size else values,
        "incumbent_test": inc_test,
        "regret": regret,
    }
    if cons is not None:
        columns["incumbent_value"] = np.where(inc >= 0, columns["incumbent_value"], math.nan)
        columns["feasible"] = feasible
        columns["violation"] = violation
        for m in cons.metrics:
            columns[f"constraint:{m}"] = np.asarray([d.get(m, math.nan) for d in metrics_rows], dtype=np.float64)
    for obj in bench.objectives[1:]:  # multi-objective runs: every objective, for Pareto fronts and hypervolume
        columns[f"objective:{obj.name}"] = np.asarray([m.get(obj.name, math.nan) for m in rec.column("metrics")], dtype=np.float64)
    final = None
    if values.size and int(inc[-1]) < 0:  # constrained run without a feasible result: no incumbent
        final = {"incumbent": None, "incumbent_value": None, "test": None, "regret": None, "report": None}
    elif values.size:
        last = int(inc[-1])
        final = {
            "incumbent": arch_str[last],
            "incumbent_value": float(values[last]),
            "test": float(inc_test[-1]),
            "regret": float(regret[-1]),
            "report": bench.report(r_arch[last]),
        }
    try:
        strategy_stats = strat.stats()
    except Exception as exc:  # diagnostics must never lose a run
        strategy_stats = {"error": f"stats() failed: {exc}"}
    recommended = None
    if error is None:
        try:
            rec_arch = strat.recommend()
            if rec_arch is not None:
                recommended = {"arch": to_str(rec_arch), "report": bench.report(rec_arch)}
        except Exception as exc:
            error = {"type": type(exc).__name__, "message": f"recommend() failed: {exc}", "traceback": traceback.format_exc()}
            reason = "error"
    summary = {
        "status": "ok" if error is None else "error",
        "run_id": spec.run_id,
        "spec": spec.to_dict(),
        "benchmark": bench.describe(),
        "objective": objective.name,
        "direction": objective.direction,
        "report_metric": report_metric,
        "optimum": optimum,
        "stop_reason": reason,
        "n_evaluations": int(values.size),
        "simulated_time": float(r_end[-1]) if r_end else 0.0,
        "final": final,
        "recommended": recommended,
        "wall_time_s": wall,
        "strategy_stats": strategy_stats,
        "error": error,
    }
    if cons is not None:
        n_feasible = int(feasible.sum())
        summary.update({
            "constraints": cons.strings(),
            "n_feasible": n_feasible,
            "feasibility_rate": n_feasible / values.size if values.size else None,
            "first_feasible_eval": int(np.argmax(feasible)) + 1 if n_feasible else None,
            "unconstrained_optimum": bench.unconstrained_optimum(report_metric)
            if hasattr(bench, "unconstrained_optimum") else None,
        })  # fmt: skip
    return RunResult(spec, columns, summary)
