"""One run executed and stored, and the worker processes of the process executor.

:func:`execute_and_store` runs one spec and writes its folder, recording the fingerprint of
the benchmark's table; a wall-clock limit (``--run-timeout``) and a strategy calling
``sys.exit`` give a failed run, not a lost process. :func:`run_workers` runs specs on spawned
worker processes, one run each at a time, and survives any of them dying (killed, out of
memory, a crash in native code, ``os._exit``): the dead worker's run is recorded as failed
with the cause and the others go on.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from ._errors import BenchlabError
from ._runner import make_benchmark, run
from ._spec import RunSpec
from ._store import write_failed_run, write_run

__all__ = ["RunTimeout", "execute_and_store", "run_workers", "table_fingerprint"]

# How long the process executor waits past --run-timeout for a run to stop by itself
# (the run's own timer raises inside the strategy) before it kills the worker.
_KILL_GRACE_S = 30.0


class RunTimeout(Exception):
    """A run exceeded its wall-clock limit (``--run-timeout``); recorded as a failed run."""


@contextmanager
def _deadline(seconds: float | None):
    """Raise :class:`RunTimeout` in this thread after ``seconds`` of wall-clock time.

    Uses ``SIGALRM``, so only in the main thread of a process (the in-process executor
    refuses a limit elsewhere; the process executor also kills a worker that ignores it).
    """
    import signal

    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise RunTimeout(f"the run exceeded --run-timeout {seconds:g} s of wall-clock time and was stopped")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def table_fingerprint(bench) -> str | None:
    """``"<table>:<fingerprint>"`` of the table a benchmark reads, or None when it has none.

    Looks for a :class:`~benchlab.Table` in ``bench.table`` or ``bench._table``, else a
    table name there or under ``"table"`` in ``bench.describe()`` (opened from the store).
    """
    from ._tables import Table, open_table

    found = [getattr(bench, attr, None) for attr in ("table", "_table")]
    for t in found:
        if isinstance(t, Table):
            return f"{t.name}:{t.fingerprint}"
    names = [t for t in found if isinstance(t, str) and t]
    if not names:
        try:
            described = bench.describe().get("table")
        except Exception:  # describe() is diagnostics: it never stops a run
            described = None
        names = [described] if isinstance(described, str) and described else []
    for name in names:
        try:
            table = open_table(name)
        except BenchlabError:
            return None
        return f"{table.name}:{table.fingerprint}"
    return None


def _status(run_dir, summary: dict) -> dict:
    return {"run_dir": str(run_dir), "status": summary["status"], "error": (summary.get("error") or {}).get("message")}


def execute_and_store(spec: RunSpec, run_dir: str, run_timeout: float | None = None) -> dict:
    """Run one spec and write its folder; returns a small status dict (picklable).

    The summary records the fingerprint of the benchmark's table (``table_fingerprint``).
    A run that exceeds ``run_timeout`` seconds, or whose strategy calls ``sys.exit``, is
    recorded as failed with an error naming the cause.
    """
    if run_timeout is not None:  # the limit is the run's own: loading the table (once per process) is not counted
        make_benchmark(spec.benchmark, spec.benchmark_kwargs)
    try:
        with _deadline(run_timeout):
            result = run(spec)
    except RunTimeout as exc:  # the limit struck outside the strategy's code
        return _status(run_dir, write_failed_run(Path(run_dir), spec, "RunTimeout", str(exc)))
    except SystemExit as exc:
        message = (
            f"the strategy or benchmark called sys.exit({exc.code!r}) during the run; "
            "a component must raise an exception instead: fix it and re-run to redo this run"
        )
        return _status(run_dir, write_failed_run(Path(run_dir), spec, "SystemExit", message))
    fingerprint = table_fingerprint(make_benchmark(spec.benchmark, spec.benchmark_kwargs))
    if fingerprint is not None:
        result.summary["table_fingerprint"] = fingerprint
    write_run(Path(run_dir), result)
    return _status(run_dir, result.summary)


def _worker_main(conn, run_timeout: float | None) -> None:
    """A process executor worker: run the tasks the parent sends until it sends None."""
    import signal

    # Ctrl-C and SIGTERM are the parent's to handle: it stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        spec, run_dir = task
        try:
            if run_timeout is not None:  # load the table first: the parent's clock starts after it
                make_benchmark(spec.benchmark, spec.benchmark_kwargs)
            conn.send(("start", None))
            message = ("ok", execute_and_store(spec, run_dir, run_timeout))
        except BaseException as exc:  # an error writing results, or a broken benchmark: the parent raises it
            message = ("raise", exc)
        try:
            conn.send(message)
        except Exception:  # an exception that does not pickle
            conn.send(("raise", RuntimeError(f"{type(message[1]).__name__}: {message[1]}")))


class _Worker:
    """One spawned worker process and the run it is busy with."""

    def __init__(self, ctx, run_timeout: float | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, run_timeout), daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.started = 0.0

    def give(self, task) -> None:
        self.task = task
        self.started = None  # set when the worker says it started (a fresh worker imports first)
        self.conn.send((task[0], str(task[1])))

    def stop(self, kill: bool) -> None:
        if not kill and self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def _death_message(exitcode: int | None) -> str:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        how = f"was killed by {name}" + (" (often the out-of-memory killer)" if name == "SIGKILL" else "")
        how += " (a crash in native code)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE") else ""
    else:
        how = f"exited with code {exitcode} (os._exit in the strategy or benchmark?)"
    return (
        f"the worker process running this run {how} before the run finished; the other runs went on. "
        "Fix the cause and re-run the experiment to redo this run"
    )


def run_workers(tasks: Iterable, jobs: int, run_timeout: float | None, record: Callable[[dict], None]) -> None:
    """Run ``(spec, run_dir)`` tasks on ``jobs`` spawned worker processes.

    Each worker takes one run at a time. A worker that dies fails its run (a summary with
    the cause is written) and is replaced; a run past ``run_timeout`` that does not stop
    by itself within a grace period has its worker killed the same way. On Ctrl-C or a
    failure every worker is killed at once: finished runs are on disk (their summary.json
    is written last and atomically) and a run cut off mid-way is redone on resume.
    """
    import time
    from multiprocessing.connection import wait

    ctx = get_context("spawn")
    pending = iter(tasks)
    workers: list[_Worker] = []
    clean = False

    def next_task():
        return next(pending, None)

    try:
        for _ in range(jobs):
            task = next_task()
            if task is None:
                break
            w = _Worker(ctx, run_timeout)
            workers.append(w)
            w.give(task)
        while True:
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.5))
            for w in busy:
                message = None
                if w.conn in ready or w.proc.sentinel in ready:
                    try:
                        if w.conn.poll():
                            message = w.conn.recv()
                    except (EOFError, OSError):
                        message = None
                if message is not None and message[0] == "start":
                    w.started = time.monotonic()
                    if not w.conn.poll():
                        continue
                    message = None
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):
                        pass
                if message is not None:
                    kind, payload = message
                    if kind == "raise":
                        raise payload
                    w.task = None
                    record(payload)
                elif w.proc.sentinel in ready or not w.proc.is_alive():
                    spec, run_dir = w.task
                    w.stop(kill=True)
                    summary = write_failed_run(Path(run_dir), spec, "WorkerDied", _death_message(w.proc.exitcode))
                    workers.remove(w)
                    w = None
                    record(_status(run_dir, summary))
                elif run_timeout is not None and w.started is not None and time.monotonic() - w.started > run_timeout + _KILL_GRACE_S:
                    spec, run_dir = w.task
                    w.stop(kill=True)
                    message = (
                        f"the run exceeded --run-timeout {run_timeout:g} s of wall-clock time and did not stop; "
                        "its worker process was killed"
                    )
                    summary = write_failed_run(Path(run_dir), spec, "RunTimeout", message)
                    workers.remove(w)
                    w = None
                    record(_status(run_dir, summary))
                else:
                    continue
                task = next_task()
                if task is not None:
                    if w is None:  # a replacement for a worker that died or was killed
                        w = _Worker(ctx, run_timeout)
                        workers.append(w)
                    w.give(task)
        clean = True
    finally:
        for w in workers:
            w.stop(kill=not clean)
