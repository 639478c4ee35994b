"""Experiments: strategies x repeats on one benchmark, executed, stored and resumable."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from ._errors import InvalidConfig, ResultsConflict
from ._registry import BENCHMARKS, STRATEGIES
from ._runner import run
from ._spec import RunSpec, canonical_json
from ._store import atomic_write_json, is_complete, read_summary, write_run

__all__ = ["StrategyConfig", "Experiment", "run_experiment", "execute_and_store", "EXECUTORS"]

EXPERIMENT_FILE = "experiment.json"
EXECUTORS = ("inprocess", "process", "dask")
_LABEL = re.compile(r"^[A-Za-z0-9_.=+-]+$")


def _check_label(label: str, what: str) -> str:
    if not _LABEL.match(label):
        raise InvalidConfig(f"{what} label {label!r} may only hold letters, digits and _ . = + -")
    return label


@dataclass(frozen=True)
class StrategyConfig:
    """A strategy in an experiment: registry ``name``, keyword ``kwargs``, folder ``label``."""

    name: str
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    @property
    def folder(self) -> str:
        return _check_label(self.label or self.name, "strategy")

    @classmethod
    def parse(cls, text: str) -> "StrategyConfig":
        """Parse ``NAME[:key=value,key=value][@LABEL]``; values are JSON or plain strings."""
        return cls(*_parse_component(text))


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``a=1,b=["x","y"]`` -> 2 items."""
    items, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def _parse_component(text: str) -> tuple[str, dict, str]:
    label = ""
    if "@" in text:
        text, label = text.rsplit("@", 1)
    name, _, rest = text.partition(":")
    kwargs = {}
    for item in filter(None, _split_top_level(rest)):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InvalidConfig(f"cannot parse {item!r} in {text!r}: write NAME:key=value,key=value")
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value
    return name.strip(), kwargs, label


@dataclass(frozen=True)
class Experiment:
    """Strategies x repeats on one benchmark with one budget and one master seed.

    Results go to ``root/name/<benchmark label>/<strategy label>/seed-<repeat>/``.
    ``experiment.json`` is in ``root/name`` unless ``multi_benchmark`` (set by experiment
    files, :func:`benchlab._config.load_experiment_file`): then several benchmarks share the
    name and each benchmark folder holds its own ``experiment.json`` (see
    :attr:`experiment_folder`).
    ``sync`` runs the simulated workers in synchronous batches (see :class:`RunSpec`).
    """

    name: str
    benchmark: str
    strategies: tuple[StrategyConfig, ...]
    repeats: int = 20
    seed: int = 0
    max_evaluations: int | None = None
    max_seconds: float | None = None
    n_workers: int = 1
    benchmark_kwargs: dict = field(default_factory=dict)
    benchmark_label: str = ""
    root: Path = Path("results")
    sync: bool = False
    multi_benchmark: bool = False

    def __post_init__(self) -> None:
        _check_label(self.name, "experiment")
        if isinstance(self.max_seconds, int) and not isinstance(self.max_seconds, bool):
            object.__setattr__(self, "max_seconds", float(self.max_seconds))
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise InvalidConfig(f"repeats (--seeds) must be a positive integer, got {self.repeats!r}")
        if not self.strategies:
            raise InvalidConfig("an experiment needs at least one strategy (--strategies NAME ...)")
        labels = [s.folder for s in self.strategies]
        if len(set(labels)) != len(labels):
            raise InvalidConfig(f"strategy labels must be unique, got {labels}; add @LABEL to tell them apart")
        BENCHMARKS.get(self.benchmark)
        for s in self.strategies:
            STRATEGIES.get(s.name)
        self.specs()  # validates the budget

    @property
    def folder(self) -> Path:
        return Path(self.root) / self.name

    @property
    def experiment_folder(self) -> Path:
        """The folder holding ``experiment.json``, the one to pass to ``benchlab report``."""
        return self.folder / self.bench_folder if self.multi_benchmark else self.folder

    @property
    def bench_folder(self) -> str:
        if self.benchmark_label:
            return _check_label(self.benchmark_label, "benchmark")
        if not self.benchmark_kwargs:
            return self.benchmark
        parts = [
            f"{k}={'+'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in sorted(self.benchmark_kwargs.items())
        ]
        return _check_label(re.sub(r"[^A-Za-z0-9_.=+-]", "", "_".join([self.benchmark, *parts])), "benchmark")

    def specs(self) -> list[tuple[RunSpec, Path, str]]:
        """``(spec, run folder, strategy label)`` of every run, strategy-major."""
        out = []
        for s in self.strategies:
            for k in range(self.repeats):
                spec = RunSpec(
                    benchmark=self.benchmark,
                    benchmark_kwargs=dict(self.benchmark_kwargs),
                    strategy=s.name,
                    strategy_kwargs=dict(s.kwargs),
                    seed=self.seed,
                    repeat=k,
                    max_evaluations=self.max_evaluations,
                    max_seconds=self.max_seconds,
                    n_workers=self.n_workers,
                    sync=self.sync,
                )
                out.append((spec, self.folder / self.bench_folder / s.folder / f"seed-{k}", s.folder))
        return out

    def identity(self) -> dict:
        """What must match for a results folder to belong to this experiment."""
        return {
            "benchmark": self.benchmark,
            "benchmark_kwargs": self.benchmark_kwargs,
            "seed": self.seed,
            "max_evaluations": self.max_evaluations,
            "max_seconds": self.max_seconds,
            "n_workers": self.n_workers,
            **({"sync": True} if self.sync else {}),  # absent when false: older folders still match
        }

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            **self.identity(),
            # the strategy folders' parent relative to experiment.json ("." in a benchmark folder)
            "benchmark_label": "." if self.multi_benchmark else self.bench_folder,
            **({"benchmark_folder": self.bench_folder} if self.multi_benchmark else {}),
            "repeats": self.repeats,
            "strategies": [
                {"label": s.folder, "name": s.name, "kwargs": s.kwargs, "repeats": self.repeats} for s in self.strategies
            ],
        }


def _claim_folder(exp: Experiment) -> None:
    """Create or check ``experiment.json``; merge strategy lists and repeats on resume."""
    path = exp.experiment_folder / EXPERIMENT_FILE
    mine = exp.to_dict()
    top = exp.folder / EXPERIMENT_FILE
    if exp.multi_benchmark and top.exists():
        raise ResultsConflict(
            f"{exp.folder} holds a single-benchmark experiment (run from the command line); choose another name"
        )
    if not exp.multi_benchmark and not top.exists() and any(exp.folder.glob(f"*/{EXPERIMENT_FILE}")):
        raise ResultsConflict(
            f"{exp.folder} holds an experiment file's benchmarks (one experiment.json per benchmark); choose another --name"
        )
    if path.exists():
        try:
            theirs = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise ResultsConflict(f"{path} is corrupt; delete {exp.folder} or choose another --name") from None
        diff = [k for k in dict.fromkeys([*exp.identity(), "sync"]) if canonical_json(theirs.get(k)) != canonical_json(mine.get(k))]
        if diff:
            detail = ", ".join(f"{k}: {theirs.get(k)!r} there vs {mine.get(k)!r} now" for k in diff)
            raise ResultsConflict(
                f"{exp.experiment_folder} holds another experiment ({detail}); choose another --name or delete that folder"
            )
        known = {s["label"]: s for s in theirs.get("strategies", [])}
        for s in mine["strategies"]:
            old = known.get(s["label"])
            same = old is not None and (old.get("name"), canonical_json(old.get("kwargs"))) == (s["name"], canonical_json(s["kwargs"]))
            if old is not None and not same:
                raise ResultsConflict(
                    f"{exp.folder}: strategy label {s['label']!r} was {old['name']} {old['kwargs']} there, "
                    f"{s['name']} {s['kwargs']} now; give it another label (NAME@LABEL) or choose another --name"
                )
            if old is not None:
                s["repeats"] = max(int(old.get("repeats", 0)), s["repeats"])
            known[s["label"]] = s
        mine["strategies"] = list(known.values())
        mine["repeats"] = max(int(theirs.get("repeats", 0)), exp.repeats)
    atomic_write_json(path, mine)


def execute_and_store(spec: RunSpec, run_dir: str) -> dict:
    """Run one spec and write its folder; returns a small status dict (picklable)."""
    result = run(spec)
    write_run(Path(run_dir), result)
    s = result.summary
    return {"run_dir": str(run_dir), "status": s["status"], "error": (s["error"] or {}).get("message")}


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="run", file=sys.stderr, dynamic_ncols=True)


def run_experiment(
    exp: Experiment,
    *,
    executor: str = "inprocess",
    jobs: int | None = None,
    progress: bool = True,
    on_result: Callable[[dict], None] | None = None,
    scheduler: str | None = None,
    max_failures: int | None = None,
) -> dict:
    """Run every missing run of ``exp``; return counts ``{"skipped", "done", "failed"}``.

    Finished runs (a ``summary.json`` with status ok) are skipped, so an interrupted
    experiment resumes where it stopped. A run whose strategy raises is recorded with its
    traceback and the others go on. ``executor`` is ``"inprocess"``, ``"process"``
    (a spawned process pool of ``jobs`` workers) or ``"dask"`` (a Dask distributed cluster:
    the one at ``scheduler``, an address such as ``"tcp://host:8786"``, or a temporary local
    cluster of ``jobs`` single-threaded worker processes); all write identical files.
    With ``max_failures`` no new run is started once that many runs have failed, and the
    counts get ``"not_run"``: the runs left without a ``summary.json`` (runs cut off in
    flight are among them; all are run on resume).
    """
    if max_failures is not None and (isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1):
        raise InvalidConfig(f"max_failures (--max-failures) must be a positive integer, got {max_failures!r}")
    if executor not in EXECUTORS:
        raise InvalidConfig(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        raise InvalidConfig(f"a scheduler address is for the dask executor; add --executor dask (got {executor!r})")
    if executor == "dask":
        _import_distributed()  # fail before touching the results folder
    _claim_folder(exp)
    todo = []
    skipped = 0
    for spec, run_dir, _ in exp.specs():
        spec_file = run_dir / "spec.json"
        if spec_file.exists():
            try:
                stored = json.loads(spec_file.read_text())
            except json.JSONDecodeError:
                stored = None
            if stored is not None and canonical_json(stored) != spec.to_json():
                raise ResultsConflict(
                    f"{run_dir} holds a run of another specification; choose another --name or delete {exp.folder}"
                )
        if is_complete(run_dir):
            skipped += 1
        else:
            todo.append((spec, run_dir))
    counts = {"skipped": skipped, "done": 0, "failed": 0}
    if max_failures is not None:
        counts["not_run"] = 0
    bar = _progress(len(todo), progress, f"{exp.name}")

    def _record(status: dict) -> None:
        counts["done" if status["status"] == "ok" else "failed"] += 1
        bar.update(1)
        if counts["failed"]:
            bar.set_postfix(failed=counts["failed"])
        if on_result is not None:
            on_result(status)
        if max_failures is not None and counts["failed"] >= max_failures:
            raise _StopScheduling

    try:
        if executor == "dask" and (scheduler or len(todo) > 1):
            _run_dask(todo, jobs, scheduler, _record)
        elif executor == "inprocess" or len(todo) <= 1:
            for spec, run_dir in todo:
                _record(execute_and_store(spec, str(run_dir)))
        else:
            _run_pool(todo, jobs, _record)
    except _StopScheduling:
        counts["not_run"] = sum(read_summary(run_dir) is None for _, run_dir in todo)
    finally:
        bar.close()
    return counts


class _StopScheduling(Exception):
    """Raised by the result callback once ``max_failures`` runs failed; executors stop."""


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _execute_task(task: tuple) -> dict:
    return execute_and_store(*task)


def _run_pool(todo: Iterable, jobs: int | None, record: Callable[[dict], None]) -> None:
    import os

    import queue

    jobs = jobs or os.cpu_count() or 1
    tasks = [(spec, str(run_dir)) for spec, run_dir in todo]
    finished: queue.Queue = queue.Queue()
    pool = get_context("spawn").Pool(jobs, initializer=_ignore_sigint)
    try:
        # At most `jobs` runs are handed to the pool at a time, so once `record` raises
        # (Ctrl-C, or max_failures reached) no further run starts.
        submitted = 0
        for received in range(len(tasks)):
            while submitted < len(tasks) and submitted - received < jobs:
                pool.apply_async(_execute_task, (tasks[submitted],), callback=finished.put, error_callback=finished.put)
                submitted += 1
            while True:
                try:
                    status = finished.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
                    break
                except queue.Empty:
                    continue
            if isinstance(status, BaseException):
                raise status
            record(status)
    except BaseException:
        # Ctrl-C or a failure: stop at once. Finished runs are on disk (their summary.json
        # is written last and atomically); a run cut off mid-way is simply redone on resume.
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise InvalidConfig("the dask executor needs dask.distributed: pip install 'benchlab[dask]'") from None
    return distributed


def _run_dask(todo: Iterable, jobs: int | None, scheduler: str | None, record: Callable[[dict], None]) -> None:
    """Run ``execute_and_store`` for every ``(spec, run_dir)`` on a Dask cluster.

    With ``scheduler`` (an address) connect to that cluster: its workers need the same
    benchlab (and table store, ``$BENCHLAB_DATA``) and write the run folders themselves, so
    the results folder must be on a filesystem shared with them (paths are sent absolute).
    Without it a ``LocalCluster`` of ``jobs`` (default: all cores) single-threaded worker
    processes lives for the duration of the call. Results are recorded as they complete; on
    Ctrl-C or a failure the pending futures are cancelled and the client (and local cluster)
    closed. Finished runs are on disk; a run cut off mid-way is redone on resume.
    """
    import logging
    import os
    import signal
    import threading

    distributed = _import_distributed()
    todo = list(todo)
    cluster = None
    futures: list = []
    try:
        if scheduler:
            try:
                client = distributed.Client(scheduler)  # timeout: dask config distributed.comm.timeouts.connect
            except OSError as exc:
                raise InvalidConfig(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check --scheduler") from None
        else:
            # Workers start with SIGINT ignored (inherited; Python then installs no
            # KeyboardInterrupt handler in them): Ctrl-C in a terminal reaches the whole
            # process group, and stopping the workers is this process's job, as with the pool.
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                cluster = distributed.LocalCluster(
                    n_workers=max(1, min(jobs or os.cpu_count() or 1, len(todo))),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # the scheduler's health/metrics HTTP server: any free port, not 8787
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
            finally:
                if main:
                    signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
            client = distributed.Client(cluster)
        try:
            where = {}
            for spec, run_dir in todo:
                fut = client.submit(execute_and_store, spec, str(Path(run_dir).resolve()), pure=False)
                where[fut.key] = str(run_dir)
                futures.append(fut)
            for fut in distributed.as_completed(futures):
                status = fut.result()
                record({**status, "run_dir": where[fut.key]})  # as given, like the other executors
        except BaseException:
            client.cancel(futures, force=True)
            raise
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def load_runs(folder: Path) -> list[tuple[Path, dict | None]]:
    """Every ``seed-*`` folder under an experiment folder with its summary (None = incomplete)."""
    return [(d, read_summary(d)) for d in sorted(Path(folder).glob("*/*/seed-*"))]
