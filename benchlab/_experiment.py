"""Experiments: strategies x repeats on one benchmark, executed, stored and resumable."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ._errors import BenchlabError, InvalidConfig, ResultsConflict
from ._names import MAX_COMPONENT, check_component
from ._params import check_params
from ._registry import BENCHMARKS, STRATEGIES
from ._runner import make_benchmark, make_strategy
from ._spec import RunSpec, canonical_json
from ._execute import RunTimeout, execute_and_store, table_fingerprint
from ._execute import run_workers as _run_workers
from ._store import atomic_write_json, read_summary, remove_stray_temps

__all__ = [
    "StrategyConfig",
    "Experiment",
    "run_experiment",
    "execute_and_store",
    "table_fingerprint",
    "mixed_tables",
    "RunTimeout",
    "EXECUTORS",
]

EXPERIMENT_FILE = "experiment.json"
LOCK_FILE = ".benchlab.lock"
EXECUTORS = ("inprocess", "process", "dask")
MAX_REPEATS = 1_000_000
# A lower bound of the memory one evaluation takes while a run is in flight (trajectory
# rows and columns); a budget of evaluations alone that cannot fit in memory is refused.
_BYTES_PER_EVALUATION = 1024


def _check_label(label: str, what: str) -> str:
    return check_component(label, f"{what} label")


@dataclass(frozen=True)
class StrategyConfig:
    """A strategy in an experiment: registry ``name``, keyword ``kwargs``, folder ``label``."""

    name: str
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    @property
    def folder(self) -> str:
        return _check_label(self.label or self.name, "strategy")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not isinstance(self.label, str):
            raise InvalidConfig(f"a strategy's name and label must be strings, got {self.name!r} and {self.label!r}")
        if not isinstance(self.kwargs, dict):
            raise InvalidConfig(f"strategy {self.name!r}: parameters must be a dict, got {self.kwargs!r}")

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
    ``run_timeout`` is an optional wall-clock limit per run in seconds (``--run-timeout``):
    a run still going after it is stopped and recorded as failed. It is not part of the
    runs' identity (a run that finishes is the same with or without it).

    Construction validates everything before anything is written: names, labels (single
    safe folder names), the budget, and every strategy's and the benchmark's parameters
    (declared :class:`~benchlab.ext.Param`); text values are converted (``"False"`` to a
    boolean parameter is False) and the converted parameters are what the runs record.
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
    run_timeout: float | None = None

    def __post_init__(self) -> None:
        check_component(self.name, "experiment name")
        if isinstance(self.max_seconds, int) and not isinstance(self.max_seconds, bool):
            object.__setattr__(self, "max_seconds", float(self.max_seconds))
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or not 1 <= self.repeats <= MAX_REPEATS:
            raise InvalidConfig(f"repeats (--seeds) must be an integer from 1 to {MAX_REPEATS:,}, got {self.repeats!r}")
        object.__setattr__(self, "run_timeout", _check_timeout(self.run_timeout))
        strategies = tuple(self.strategies) if isinstance(self.strategies, (list, tuple)) else None
        if not strategies:
            raise InvalidConfig("an experiment needs at least one strategy (--strategies NAME ...)")
        if not all(isinstance(s, StrategyConfig) for s in strategies):
            raise InvalidConfig("strategies must be StrategyConfig objects (StrategyConfig.parse('NAME:key=value'))")
        labels = [s.folder for s in strategies]
        if len(set(labels)) != len(labels):
            raise InvalidConfig(f"strategy labels must be unique, got {labels}; add @LABEL to tell them apart")
        if not isinstance(self.benchmark, str):
            raise InvalidConfig(f"the benchmark must be a registered name, got {self.benchmark!r}")
        kwargs = check_params("benchmark", self.benchmark, BENCHMARKS.get(self.benchmark), self.benchmark_kwargs)
        object.__setattr__(self, "benchmark_kwargs", kwargs)
        strategies = tuple(
            StrategyConfig(s.name, check_params("strategy", s.name, STRATEGIES.get(s.name), s.kwargs), s.label)
            for s in strategies
        )
        object.__setattr__(self, "strategies", strategies)
        if not isinstance(self.benchmark_label, str):
            raise InvalidConfig(f"the benchmark label must be a string, got {self.benchmark_label!r}")
        self.bench_folder  # a safe folder name
        self.spec(0, 0)  # validates the budget
        _check_fits_in_memory(self.max_evaluations, self.max_seconds)

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
            return _check_label(self.benchmark, "benchmark")
        parts = [
            f"{k}={'+'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in sorted(self.benchmark_kwargs.items())
        ]
        folder = re.sub(r"[^A-Za-z0-9_.=+-]", "", "_".join([self.benchmark, *parts]))
        if len(folder) > MAX_COMPONENT:  # long parameter lists: a prefix and a hash of the whole
            digest = hashlib.sha256(canonical_json(self.benchmark_kwargs).encode()).hexdigest()[:16]
            folder = f"{folder[: MAX_COMPONENT - 17]}-{digest}"
        return _check_label(folder, "benchmark")

    @property
    def n_runs(self) -> int:
        return len(self.strategies) * self.repeats

    def spec(self, strategy_index: int, repeat: int) -> RunSpec:
        """The spec of one run: strategy ``strategy_index`` (list order), repetition ``repeat``."""
        s = self.strategies[strategy_index]
        return RunSpec(
            benchmark=self.benchmark,
            benchmark_kwargs=dict(self.benchmark_kwargs),
            strategy=s.name,
            strategy_kwargs=dict(s.kwargs),
            seed=self.seed,
            repeat=repeat,
            max_evaluations=self.max_evaluations,
            max_seconds=self.max_seconds,
            n_workers=self.n_workers,
            sync=self.sync,
        )

    def run_at(self, index: int) -> tuple[RunSpec, Path, str]:
        """``(spec, run folder, strategy label)`` of run ``index`` (strategy-major order)."""
        i, k = divmod(index, self.repeats)
        label = self.strategies[i].folder
        return self.spec(i, k), self.folder / self.bench_folder / label / f"seed-{k}", label

    def iter_specs(self) -> Iterator[tuple[RunSpec, Path, str]]:
        """``(spec, run folder, strategy label)`` of every run, strategy-major, one at a time."""
        return (self.run_at(i) for i in range(self.n_runs))

    def specs(self) -> list[tuple[RunSpec, Path, str]]:
        """``(spec, run folder, strategy label)`` of every run, strategy-major."""
        return list(self.iter_specs())

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


def _check_timeout(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InvalidConfig(f"run_timeout (--run-timeout) must be a positive number of seconds, got {value!r}")
    return float(value)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_fits_in_memory(max_evaluations, max_seconds) -> None:
    """Refuse a budget of evaluations alone whose trajectory cannot fit in this machine's memory."""
    memory = _physical_memory()
    if max_seconds is None and max_evaluations is not None and memory:
        need = max_evaluations * _BYTES_PER_EVALUATION
        if need > memory:
            raise InvalidConfig(
                f"max_evaluations (--max-evals) {max_evaluations:,} needs at least {need / 2**30:,.0f} GiB for the trajectory, "
                f"this machine has {memory / 2**30:,.0f} GiB; lower it or add a time budget (--max-seconds)"
            )


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


def mixed_tables(folder) -> dict[str, int]:
    """``{table fingerprint: runs}`` over the finished runs under an experiment folder when
    they were scored against more than one version of a table; empty when consistent."""
    seen: dict[str, int] = {}
    for run_dir in sorted(Path(folder).glob("**/seed-*")):
        try:
            summary = read_summary(run_dir)
        except BenchlabError:
            continue
        if summary and summary.get("status") == "ok" and summary.get("table_fingerprint"):
            fp = str(summary["table_fingerprint"])
            seen[fp] = seen.get(fp, 0) + 1
    return seen if len(seen) > 1 else {}


@contextmanager
def _experiment_lock(folder: Path):
    """Hold ``folder/.benchlab.lock`` (an advisory ``flock``, released when the process
    ends, however it ends); a second ``benchlab run`` on the folder is refused."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise ResultsConflict(
                f"{folder} is in use by another benchlab run (pid {holder}); wait for it to finish "
                f"(or stop it: kill {holder}) and re-run, or choose another --name"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _prepare(exp: Experiment) -> str | None:
    """Build the benchmark and every strategy once, so a spec that cannot run fails before
    anything is written; return the benchmark's table fingerprint."""
    bench = make_benchmark(exp.benchmark, exp.benchmark_kwargs)
    for s in exp.strategies:
        try:
            make_strategy(s.name, s.kwargs)
        except BenchlabError:
            raise
        except Exception as exc:
            raise InvalidConfig(f"strategy {s.name!r} with {s.kwargs}: {type(exc).__name__}: {exc}") from None
    return table_fingerprint(bench)


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
    run_timeout: float | None = None,
) -> dict:
    """Run every missing run of ``exp``; return counts ``{"skipped", "done", "failed"}``.

    Finished runs (a ``summary.json`` with status ok) are skipped, so an interrupted
    experiment resumes where it stopped. A run whose strategy raises is recorded with its
    traceback and the others go on. ``executor`` is ``"inprocess"``, ``"process"``
    (``jobs`` spawned worker processes, at most one per run) or ``"dask"`` (a Dask
    distributed cluster: the one at ``scheduler``, an address such as
    ``"tcp://host:8786"``, or a temporary local cluster of ``jobs`` single-threaded worker
    processes); all write identical files. A process worker that dies (killed, out of
    memory, a crash in native code, ``os._exit``) fails its run with an error saying so
    and the others go on. With ``max_failures`` no new run is started once that many runs
    have failed, and the counts get ``"not_run"``: the runs left without a ``summary.json``
    (runs cut off in flight are among them; all are run on resume). ``run_timeout``
    (default ``exp.run_timeout``) limits each run's wall-clock seconds (inprocess and
    process executors).

    Before anything is written the benchmark and the strategies are built (a bad spec is
    an :class:`InvalidConfig`); the experiment folder is then locked against a second
    ``run_experiment`` (another process gets :class:`ResultsConflict` naming the holder),
    and finished runs scored against another version of the benchmark's table are refused.
    """
    if max_failures is not None and (isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1):
        raise InvalidConfig(f"max_failures (--max-failures) must be a positive integer, got {max_failures!r}")
    if executor not in EXECUTORS:
        raise InvalidConfig(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        raise InvalidConfig(f"a scheduler address is for the dask executor; add --executor dask (got {executor!r})")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise InvalidConfig(f"jobs (--jobs) must be a positive integer, got {jobs!r}")
    timeout = exp.run_timeout if run_timeout is None else _check_timeout(run_timeout)
    if timeout is not None and executor == "dask":
        raise InvalidConfig("--run-timeout works with --executor inprocess or process, not dask")
    if timeout is not None and executor == "inprocess" and threading.current_thread() is not threading.main_thread():
        raise InvalidConfig("--run-timeout with the in-process executor needs the main thread; use executor='process'")
    if executor == "dask":
        _import_distributed()  # fail before touching the results folder
    # A remote cluster has its own store: its workers build the benchmark.
    fingerprint = None if (executor == "dask" and scheduler) else _prepare(exp)
    with _experiment_lock(exp.folder):
        _claim_folder(exp)
        todo, skipped = _scan(exp, fingerprint)
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

        tasks = (exp.run_at(i)[:2] for i in todo)
        try:
            if executor == "dask" and (scheduler or len(todo) > 1):
                _run_dask(list(tasks), jobs, scheduler, _record)
            elif executor == "inprocess" or (len(todo) <= 1 and timeout is None):
                for spec, run_dir in tasks:
                    _record(execute_and_store(spec, str(run_dir), timeout))
            else:
                _run_workers(tasks, min(jobs or os.cpu_count() or 1, len(todo)), timeout, _record)
        except _StopScheduling:
            counts["not_run"] = sum(read_summary(exp.run_at(i)[1]) is None for i in todo)
        finally:
            bar.close()
    return counts


def _scan(exp: Experiment, fingerprint: str | None) -> tuple[list[int], int]:
    """Indices of the runs to do and the number finished; refuse foreign or mixed runs.

    Also removes the temp files of writes killed midway (run folders and experiment.json).
    """
    todo: list[int] = []
    skipped = 0
    other: dict[str, int] = {}
    remove_stray_temps([exp.experiment_folder])
    for i in range(exp.n_runs):
        spec, run_dir, _ = exp.run_at(i)
        spec_file = run_dir / "spec.json"
        if spec_file.exists():
            try:
                stored = json.loads(spec_file.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                stored = None
            if stored is not None and canonical_json(stored) != spec.to_json():
                raise ResultsConflict(
                    f"{run_dir} holds a run of another specification; choose another --name or delete {exp.folder}"
                )
        summary = read_summary(run_dir)
        if summary is not None and summary.get("status") == "ok":
            skipped += 1
            theirs = summary.get("table_fingerprint")
            if fingerprint is not None and theirs is not None and theirs != fingerprint:
                other[str(theirs)] = other.get(str(theirs), 0) + 1
        else:
            todo.append(i)
            if run_dir.is_dir():
                remove_stray_temps([run_dir])
    if other:
        seen = ", ".join(f"{n} against {fp}" for fp, n in sorted(other.items()))
        raise ResultsConflict(
            f"{exp.experiment_folder}: finished runs were scored against another version of the table ({seen}; now "
            f"{fingerprint}): the table was rebuilt since; choose another --name, or delete the folder to redo them all"
        )
    return todo, skipped


class _StopScheduling(Exception):
    """Raised by the result callback once ``max_failures`` runs failed; executors stop."""


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
