"""Shared plumbing of the conformance suites: the error type, cases, resolution, limits."""

from __future__ import annotations

import functools
import inspect
import math
import os
import random
import signal
import threading
import time
import unittest
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from .._benchmark import Benchmark
from .._errors import DataError
from .._registry import BENCHMARKS, STRATEGIES
from .._runner import make_benchmark
from .._space import SearchSpace
from .._strategy import Strategy

__all__ = ["ConformanceError", "Case", "TIME_LIMIT_S"]

#: Seconds one check may run before it fails as a hang (POSIX main thread only). Set the
#: environment variable ``BENCHLAB_CHECK_TIME_LIMIT`` for slow (e.g. model-based) strategies.
TIME_LIMIT_S = float(os.environ.get("BENCHLAB_CHECK_TIME_LIMIT", "60"))


class ConformanceError(AssertionError):
    """A strategy, benchmark or search space breaks the benchlab contract.

    An ``AssertionError`` so that pytest reports it as a plain test failure; the message
    names the component, the check and the offending value.
    """


class Case(NamedTuple):
    """One parametrisation of a conformance suite.

    ``target`` is what the check functions take as first argument (a registry name, a
    class or an instance), ``kwargs`` the constructor keyword arguments, ``id`` the pytest
    id (``random_search[replace=False]``).
    """

    id: str
    target: Any
    kwargs: dict

    def __str__(self) -> str:
        return self.id


def case_id(name: str, kwargs: dict) -> str:
    if not kwargs:
        return name
    return f"{name}[{','.join(f'{k}={v!r}' if isinstance(v, str) else f'{k}={v}' for k, v in sorted(kwargs.items()))}]"


def constructor_variants(cls: type) -> list[dict]:
    """Keyword variants a class is tested with.

    A class attribute ``conformance_cases`` (a list of kwargs dicts) wins; otherwise the
    defaults plus, for every boolean parameter, that parameter flipped (so
    ``random_search`` runs with ``replace=True`` and ``replace=False``).
    """
    explicit = getattr(cls, "conformance_cases", None)
    if explicit is not None:
        return [dict(k) for k in explicit]
    out: list[dict] = [{}]
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return out
    for p in params:
        if p.name != "self" and isinstance(p.default, bool):
            out.append({p.name: not p.default})
    return out


def registry_cases(registry) -> list[Case]:
    """Cases of every registered name, except private ones (a leading ``_``: test fixtures,
    often deliberately broken) and classes that opt out with ``conformance_cases = []``."""
    cases = []
    for name in registry.names():
        if name.startswith("_"):
            continue
        for kw in constructor_variants(registry.get(name)):
            cases.append(Case(case_id(name, kw), name, kw))
    return cases


def skip(reason: str):
    """Raise a skip that pytest and unittest both understand."""
    raise unittest.SkipTest(reason)


# -- resolution ------------------------------------------------------------------------
def strategy_factory(strategy, kwargs: dict) -> tuple[Callable[[], Strategy], str, Any]:
    """``(make, label, ref)``: a zero-argument constructor, a display label and a
    picklable reference ``(target, kwargs)`` for spawned processes."""
    if isinstance(strategy, str):
        cls = STRATEGIES.get(strategy)
        label = case_id(strategy, kwargs)
    elif isinstance(strategy, type):
        cls = strategy
        label = case_id(cls.__dict__.get("name") or cls.__qualname__, kwargs)  # registered classes own a name
    elif isinstance(strategy, Strategy) or hasattr(strategy, "ask"):
        if kwargs:
            raise TypeError("pass either a strategy instance or a name/class with keyword arguments, not both")
        proto = strategy
        label = repr(proto)
        return (lambda: proto.clone()), label, proto
    else:
        raise TypeError(f"expected a strategy name, class or instance, got {strategy!r}")

    def make() -> Strategy:
        return cls(**kwargs)

    return make, label, (strategy, dict(kwargs))


def resolve_benchmark(benchmark, kwargs: dict) -> tuple[Benchmark, str]:
    """A benchmark instance and a label; a registry name whose data is missing skips."""
    if isinstance(benchmark, Benchmark):
        if kwargs:
            raise TypeError("pass either a benchmark instance or a name/class with keyword arguments, not both")
        return benchmark, getattr(benchmark, "name", type(benchmark).__name__)
    try:
        if isinstance(benchmark, str):
            return make_benchmark(benchmark, kwargs), case_id(benchmark, kwargs)
        if isinstance(benchmark, type):
            return benchmark(**kwargs), case_id(getattr(benchmark, "name", benchmark.__name__), kwargs)
    except DataError as exc:
        skip(f"benchmark {benchmark!r} has no data here: {exc}")
    raise TypeError(f"expected a benchmark name, class or instance, got {benchmark!r}")


def resolve_space(space, kwargs: dict) -> tuple[SearchSpace, str]:
    """A search space, or the space of a benchmark given by name, class or instance."""
    if isinstance(space, SearchSpace):
        if kwargs:
            raise TypeError("a search space instance takes no keyword arguments")
        return space, f"space {space.name!r}"
    bench, label = resolve_benchmark(space, kwargs)
    return bench.space, f"space {bench.space.name!r} of {label}"


def registered_benchmarks() -> list[tuple[str, Benchmark]]:
    """Every registered benchmark with default arguments whose data is available here, except
    those that opt out of conformance with ``conformance_cases = []`` (live benchmarks, which
    would train a network per query)."""
    out = []
    for name in BENCHMARKS.names():
        if getattr(BENCHMARKS.get(name), "conformance_cases", None) == []:
            continue
        try:
            out.append((name, make_benchmark(name)))
        except DataError:
            continue
    return out


# -- helpers ---------------------------------------------------------------------------
@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Fail with ``ConformanceError`` if the block runs longer than ``seconds``.

    Uses ``SIGALRM``, so it only works in the main thread of a POSIX process; elsewhere it
    does nothing.
    """
    seconds = TIME_LIMIT_S if seconds is None else seconds
    usable = (
        seconds
        and math.isfinite(seconds)
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise ConformanceError(f"{what} did not finish within {seconds:g} s: it probably hangs")

    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    if old_delay and old_delay < seconds:  # an enclosing limit ends first: keep it
        signal.setitimer(signal.ITIMER_REAL, old_delay)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:  # give the enclosing limit what is left of it
            left = old_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), old_interval)


def limited(check: Callable) -> Callable:
    """Decorator: the whole check fails as a hang after ``TIME_LIMIT_S`` seconds."""

    @functools.wraps(check)
    def wrapper(target, **kwargs):
        with time_limit(None, f"{check.__name__}({short(target, 60)})"):
            return check(target, **kwargs)

    return wrapper


def global_rng_state() -> tuple:
    return random.getstate(), np.random.get_state(legacy=True)


def same_global_rng_state(a: tuple, b: tuple) -> tuple[bool, bool]:
    """``(python random unchanged, numpy global unchanged)``."""
    py = a[0] == b[0]
    na, nb = a[1], b[1]
    numpy_same = len(na) == len(nb) and all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(na, nb)
    )
    return py, numpy_same


def same_value(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN (for metrics)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def same_metrics(a, b) -> bool:
    return set(a) == set(b) and all(same_value(float(a[k]), float(b[k])) for k in a)


def is_real(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def short(obj: Any, limit: int = 160) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."
