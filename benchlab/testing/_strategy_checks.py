"""The strategy conformance suite (DESIGN section 6, item 5).

Every check takes a strategy as a registry name, a class or an (un-set-up) instance, plus
the constructor's keyword arguments, and raises :class:`ConformanceError` (an
``AssertionError``) with a message naming the strategy, the check and the offending value.
Strategies tagged ``needs_training`` skip the ask/tell checks (they need a live trainer).
"""

from __future__ import annotations

import copy
import functools
import inspect
import io
import json
import math
import os
import pickle
import sys
import unittest
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from multiprocessing import get_context
from typing import Any, Callable, Iterator

import numpy as np

from .._benchmark import Benchmark
from .._errors import InvalidArchitecture
from .._params import Param, declared_parameters, undeclared_parameters
from .._registry import STRATEGIES
from .._rng import run_seed_sequence
from .._runner import RunResult, make_benchmark, make_strategy, run
from .._spec import RunSpec
from .._strategy import Strategy
from .._types import Trial
from . import _common
from ._common import (
    Case,
    ConformanceError,
    global_rng_state,
    limited,
    registered_benchmarks,
    registry_cases,
    same_global_rng_state,
    short,
    skip,
    strategy_factory,
    time_limit,
)
from ._toy import ToyBenchmark, ToySpace

__all__ = [
    "STRATEGY_CHECKS",
    "check_strategy",
    "strategy_cases",
    "check_params",
    "check_param_declarations",
    "check_valid_archs",
    "check_determinism",
    "check_spawn_determinism",
    "check_seed_types",
    "check_budget",
    "check_exhaustion",
    "check_nan_inf",
    "check_out_of_order",
    "check_pickle_resume",
    "check_global_rng",
    "check_no_test_access",
    "check_objectives",
    "check_transfer_no_test_access",
    "TRANSFER_CHECKS",
]

_NOT_INCUMBENT_TAGS = frozenset({"multi_fidelity", "multi_objective"})


def strategy_cases() -> list[Case]:
    """Every registered strategy with its keyword variants, for ``pytest.mark.parametrize``.

    Variants: a class attribute ``conformance_cases`` (list of kwargs dicts), else the
    defaults plus each boolean parameter flipped.
    """
    return registry_cases(STRATEGIES)


def _tags(strategy) -> frozenset:
    tags = getattr(strategy, "tags", frozenset())
    return frozenset(tags) if isinstance(tags, (set, frozenset, list, tuple)) else frozenset()


def _prepare(strategy, kwargs: dict, *, runnable: bool = True) -> tuple[Callable, str, Any, frozenset]:
    make, label, ref = strategy_factory(strategy, kwargs)
    try:
        proto = make()
    except Exception as exc:
        raise ConformanceError(f"{label}: constructing it raised {type(exc).__name__}: {exc}") from exc
    tags = _tags(proto)
    if runnable and "needs_training" in tags:
        skip(f"{label} is tagged needs_training: the ask/tell checks need a live trainer")
    return make, label, ref, tags


def _fail(label: str, message: str) -> None:
    raise ConformanceError(f"{label}: {message}")


# -- the driver ------------------------------------------------------------------------
class _Driver:
    """Drives one strategy against one benchmark the way the harness does, checking as it goes.

    ``trace`` records every ``ask`` (``(id, arch, fidelity)`` or None) and ``recommend``
    (``("rec", arch)``); ``told`` holds ``(trial, evaluation)`` in tell order.
    """

    def __init__(self, strategy, bench: Benchmark, label: str, *, max_asks: float = math.inf, order_seed: int = 0) -> None:
        self.strategy = strategy
        self.bench = bench
        self.space = bench.space
        self.label = label
        self.trace: list = []
        self.told: list = []
        self.pending: list[Trial] = []
        self.ids: set = set()
        self.n_asks = 0
        self.max_asks = max_asks
        self.bench_rng = np.random.default_rng(12345)
        self.order_rng = np.random.default_rng(order_seed)

    def _guard(self):
        running = getattr(self.bench, "strategy_running", None)
        return running() if running is not None else nullcontext()

    def _call(self, what: str, fn, *args, **kwargs):
        with self._guard():
            try:
                return fn(*args, **kwargs)
            except ConformanceError:
                raise
            except Exception as exc:
                raise ConformanceError(
                    f"{self.label}: {what} raised {type(exc).__name__}: {exc} (on {self.space.name}, "
                    f"after {len(self.told)} results, {len(self.pending)} pending)"
                ) from exc

    def setup(self, seed) -> "_Driver":
        b = self.bench
        self._call("setup()", self.strategy.setup, b.space, b.objectives, b.fidelity, seed=seed)
        return self

    def fork(self, strategy) -> "_Driver":
        """A driver for ``strategy`` (an unpickled copy) continuing from this driver's state."""
        d = _Driver(strategy, self.bench, self.label, max_asks=self.max_asks)
        d.told = list(self.told)
        d.pending = list(self.pending)
        d.ids = set(self.ids)
        d.n_asks = self.n_asks
        d.bench_rng = copy.deepcopy(self.bench_rng)
        d.order_rng = copy.deepcopy(self.order_rng)
        return d

    def ask(self) -> Trial | None:
        self.n_asks += 1
        if self.n_asks > self.max_asks:
            _fail(
                self.label,
                f"{self.max_asks} ask() calls on {self.space.name} (size {self.space.size}) did not finish the run: "
                f"it neither reaches its budget nor returns None with nothing pending",
            )
        trial = self._call("ask()", self.strategy.ask)
        if trial is None:
            self.trace.append(None)
            return None
        self._check_trial(trial)
        self.trace.append((trial.id, trial.arch, trial.fidelity))
        self.pending.append(trial)
        return trial

    def _check_trial(self, trial) -> None:
        if not isinstance(trial, Trial):
            _fail(self.label, f"ask() must return a benchlab.Trial or None, got {short(trial)}")
        try:
            hash(trial.arch)
        except TypeError:
            _fail(self.label, f"ask() proposed an unhashable architecture {short(trial.arch)}; architectures are immutable values")
        try:
            self.space.validate(trial.arch)
        except InvalidArchitecture as exc:
            _fail(
                self.label,
                f"ask() proposed an invalid architecture {short(trial.arch)} (trial {trial.id}) on {self.space.name}: {exc}",
            )
        if trial.id in self.ids:
            _fail(self.label, f"trial id {trial.id!r} was used twice; ids must be unique (use self._trial(arch))")
        self.ids.add(trial.id)
        fid = self.bench.fidelity
        if fid is None:
            if trial.fidelity is not None:
                _fail(self.label, f"trial {trial.id} asks for fidelity {trial.fidelity!r} but the benchmark has none")
        elif trial.fidelity is not None and trial.fidelity not in fid.values:
            _fail(self.label, f"trial {trial.id} asks for fidelity {trial.fidelity!r}, not one of {list(fid.values)}")

    def tell(self, trial: Trial) -> None:
        ev = self.bench.evaluate(trial.arch, trial.fidelity, rng=self.bench_rng)
        self.pending.remove(trial)
        self._call(f"tell() of trial {trial.id}", self.strategy.tell, trial, ev)
        self.told.append((trial, ev))

    def steps(self, n: int, batch: int = 1, order: str = "fifo") -> bool:
        """Evaluate ``n`` more trials with up to ``batch`` pending; False if the strategy ran out.

        ``order``: ``fifo``, ``reverse`` and ``shuffle`` tell the whole pending batch in that
        order; ``async`` tells one random pending trial, then asks again (parallel workers).
        """
        target = len(self.told) + n
        while len(self.told) < target:
            while len(self.pending) < batch and len(self.told) + len(self.pending) < target:
                if self.ask() is None:
                    break
            if not self.pending:
                return False
            if order == "async":
                todo = [self.pending[int(self.order_rng.integers(len(self.pending)))]]
            else:
                todo = list(self.pending)
                if order == "reverse":
                    todo.reverse()
                elif order == "shuffle":
                    todo = [todo[i] for i in self.order_rng.permutation(len(todo))]
            for t in todo:
                self.tell(t)
        return True

    def recommend(self):
        arch = self._call("recommend()", self.strategy.recommend)
        self.trace.append(("rec", arch))
        if arch is not None:
            try:
                self.space.validate(arch)
            except InvalidArchitecture as exc:
                _fail(self.label, f"recommend() returned an invalid architecture {short(arch)}: {exc}")
        return arch


def _trace(strategy, bench, seed, n: int, batch: int = 1, order: str = "fifo", label: str = "strategy") -> list:
    d = _Driver(strategy, bench, label)
    d.setup(seed)
    d.steps(n, batch, order)
    d.recommend()
    return d.trace


def _compare(label: str, a: list, b: list, what: str) -> None:
    if a == b:
        return
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            _fail(label, f"{what}: the runs differ at step {i}: {short(x, 100)} vs {short(y, 100)}")
    _fail(label, f"{what}: one run made {len(a)} steps, the other {len(b)}")


def _fmt_seed(seed) -> str:
    if isinstance(seed, np.random.SeedSequence):
        return f"SeedSequence({seed.entropy}, spawn_key={seed.spawn_key})"
    return repr(seed)


def _check_incumbent(d: _Driver, rec, tags: frozenset, context: str) -> None:
    """``rec`` must be the best told architecture (never a NaN one when a finite value was seen)."""
    if not d.told:
        return
    obj = d.bench.objectives[0]
    if rec is None:
        _fail(d.label, f"recommend() returned None after {len(d.told)} results ({context})")
    by_arch: dict = {}
    for trial, ev in d.told:
        by_arch.setdefault(trial.arch, []).append(float(ev.metrics.get(obj.name, math.nan)))
    values = [v for vs in by_arch.values() for v in vs]
    finite = [v for v in values if math.isfinite(v)]
    if rec in by_arch:
        if all(math.isnan(v) for v in by_arch[rec]) and finite:
            best = max(finite, key=obj.score)
            _fail(
                d.label,
                f"recommend() returned {short(rec)}, whose {obj.name} is NaN, although finite values were seen "
                f"(best {best}) ({context}); treat NaN as the worst value",
            )
    elif not tags & _NOT_INCUMBENT_TAGS:
        _fail(d.label, f"recommend() returned {short(rec)}, which was never evaluated ({context}); the incumbent is the best evaluated architecture")
    if tags & _NOT_INCUMBENT_TAGS:
        return
    best_score = max(obj.score(v) for v in values)
    rec_score = max(obj.score(v) for v in by_arch[rec])
    if rec_score != best_score:
        best_arch = next(a for a, vs in by_arch.items() if max(obj.score(v) for v in vs) == best_score)
        _fail(
            d.label,
            f"recommend() returned {short(rec)} with {obj.name}={max(by_arch[rec], key=obj.score)}, but "
            f"{short(best_arch)} had {max(by_arch[best_arch], key=obj.score)} and the objective is "
            f"{obj.direction}imised ({context}); recommend() is the incumbent by validation",
        )


class _Guarded:
    """Wraps a strategy for ``benchlab.run`` so the ToyBenchmark refuses queries during its calls."""

    def __init__(self, strategy, bench: ToyBenchmark) -> None:
        self._s = strategy
        self._bench = bench

    def setup(self, *args, **kwargs):
        with self._bench.strategy_running():
            self._s.setup(*args, **kwargs)
        return self

    def ask(self):
        with self._bench.strategy_running():
            return self._s.ask()

    def tell(self, trial, evaluation):
        with self._bench.strategy_running():
            self._s.tell(trial, evaluation)

    def recommend(self):
        with self._bench.strategy_running():
            return self._s.recommend()


def _spec_for(ref, strategy, **budget) -> RunSpec:
    if isinstance(ref, tuple):
        target, kwargs = ref
        name = target if isinstance(target, str) else getattr(target, "name", target.__name__)
    else:
        name, kwargs = getattr(type(strategy), "name", type(strategy).__name__), {}
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError):
        kwargs = {"repr": repr(kwargs)}
    return RunSpec(benchmark="toy", strategy=str(name), strategy_kwargs=dict(kwargs), **budget)


def _harness(label: str, spec: RunSpec, bench: ToyBenchmark, strategy) -> RunResult:
    res = run(spec, benchmark=bench, strategy=_Guarded(strategy, bench))
    if res.summary["status"] != "ok":
        err = res.summary["error"] or {}
        _fail(label, f"benchlab.run({spec.max_evaluations=}, {spec.max_seconds=}, {spec.n_workers=}) failed: "
              f"{err.get('type')}: {err.get('message')}\n{err.get('traceback', '')}")
    if bench.violations:
        _fail(label, f"the benchmark was queried ({', '.join(bench.violations)}) inside ask/tell during benchlab.run")
    return res


def _importable(cls: type) -> bool:
    obj = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj is cls


class _Pickler(pickle.Pickler):
    """Pickles classes that cannot be imported (defined in exec'd code, like the README's
    example) by reference to an in-process table, so the checks test that the *state*
    pickles; with ``find_benchmarks`` it also records every benchmark it meets."""

    def __init__(self, file, *, find_benchmarks: bool = False) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.table: list = []
        self.benchmarks: list = []
        self._find = find_benchmarks
        self._importable: dict = {}

    def persistent_id(self, obj):
        if self._find and isinstance(obj, Benchmark):
            self.benchmarks.append(obj)
            return ("benchmark", len(self.benchmarks) - 1)
        if isinstance(obj, type):
            ok = self._importable.get(obj)
            if ok is None:
                ok = self._importable[obj] = _importable(obj)
            if not ok:
                self.table.append(obj)
                return ("class", len(self.table) - 1)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, table: list) -> None:
        super().__init__(file)
        self.table = table

    def persistent_load(self, pid):
        kind, index = pid
        if kind != "class":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self.table[index]


def _roundtrip(obj):
    """``pickle.loads(pickle.dumps(obj))``, tolerating classes defined in exec'd code."""
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(obj)
    return _Unpickler(io.BytesIO(buf.getvalue()), pickler.table).load()


def _benchmark_reference(obj) -> list:
    """Benchmarks reachable from ``obj`` (found by pickling it with a persistent_id hook)."""
    pickler = _Pickler(io.BytesIO(), find_benchmarks=True)
    pickler.dump(obj)
    return pickler.benchmarks


def _assert_no_benchmark(label: str, strategy, where: str) -> None:
    try:
        found = _benchmark_reference(strategy)
    except ConformanceError:
        raise
    except Exception as exc:
        _fail(label, f"the set-up strategy cannot be pickled ({type(exc).__name__}: {exc}), so it cannot be checked "
              "for references to the benchmark; strategies must pickle (see check_pickle_resume)")
    if found:
        _fail(
            label,
            f"after setup on {where} the strategy holds a reference to a benchmark ({type(found[0]).__name__}); "
            "strategies must never see the benchmark (it holds test metrics): keep only space, objectives, fidelity",
        )


def _skips_no_fidelity(make, bench, label: str, tags: frozenset) -> bool:
    """True if ``bench`` has no fidelity axis and the strategy is tagged ``multi_fidelity``:
    then ``setup`` must refuse it with ``InvalidConfig`` (a ValueError), and the caller
    skips that benchmark."""
    if "multi_fidelity" not in tags or bench.fidelity is not None:
        return False
    try:
        make().setup(bench.space, bench.objectives, None, seed=0)
    except ValueError:
        return True
    _fail(label, f"is tagged multi_fidelity but setup() accepted {bench.space.name} without a fidelity axis; "
          "raise benchlab.InvalidConfig naming the problem")
    return True


# -- checks ----------------------------------------------------------------------------
@limited
def check_params(strategy, **kwargs) -> None:
    """sklearn-style constructor: keyword hyper-parameters with defaults, stored unchanged,
    nothing else; ``get_params``/``clone`` round-trip; a clone of a used strategy is fresh."""
    make, label, ref, tags = _prepare(strategy, kwargs, runnable=False)
    inst = make()
    cls = type(inst)
    names = []
    sig = [] if cls.__init__ is object.__init__ else list(inspect.signature(cls.__init__).parameters.values())[1:]
    for p in sig:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            _fail(label, f"__init__ takes {p}; declare every hyper-parameter as a named keyword argument (clone/get_params lose the rest)")
        if p.default is p.empty:
            _fail(label, f"hyper-parameter {p.name!r} has no default; make_strategy(name) must work without arguments")
        names.append(p.name)
    missing = object()
    for k, v in kwargs.items():
        got = getattr(inst, k, missing)
        if got is missing:
            _fail(label, f"the constructor does not store {k!r} as an attribute of the same name")
        if got is not v:
            _fail(label, f"the constructor stored {k}={short(got)} for {k}={short(v)}; store arguments unchanged, validate in _setup()")
    try:
        params = inst.get_params()
    except Exception as exc:
        _fail(label, f"get_params() raised {type(exc).__name__}: {exc}")
    expected = {p.name: p.default for p in sig}
    expected.update(kwargs)
    if set(params) != set(expected) or any(params[k] is not expected[k] and params[k] != expected[k] for k in expected):
        _fail(label, f"get_params() returned {short(params)}, expected {short(expected)}")
    extra = sorted(set(getattr(inst, "__dict__", {})) - set(names))
    if extra:
        _fail(label, f"the constructor sets {extra}: constructors store their keyword arguments and do nothing else "
              "(DESIGN 6.1); build state in _setup()")
    if not isinstance(repr(inst), str):
        _fail(label, "repr() must return a string")
    raw_tags = getattr(inst, "tags", frozenset())
    if not isinstance(raw_tags, (set, frozenset)) or not all(isinstance(t, str) for t in raw_tags):
        _fail(label, f"tags must be a frozenset of strings, got {short(raw_tags)}")
    c = inst.clone()
    if type(c) is not cls or c is inst or c.get_params() != params:
        _fail(label, f"clone() returned {short(c)}, expected a new {cls.__name__} with params {short(params)}")
    check_param_declarations(strategy, **kwargs)
    if "needs_training" in tags:
        return
    bench = ToyBenchmark()
    d = _Driver(inst, bench, label).setup(3)
    d.steps(25)
    if inst.get_params() != params:
        _fail(label, f"running changed the hyper-parameters: {short(params)} -> {short(inst.get_params())}; keep state elsewhere")
    fresh = inst.clone()
    extra = sorted(set(getattr(fresh, "__dict__", {})) - set(names))
    if extra:
        _fail(label, f"clone() of a used strategy carries state {extra}; it must be un-set-up")
    _compare(label, _trace(fresh, bench, 9, 25, label=label), _trace(make(), bench, 9, 25, label=label),
             "clone() of a used strategy must behave like a new one (seed 9)")
    if isinstance(ref, tuple) and isinstance(ref[0], str):
        built = make_strategy(ref[0], ref[1])
        if type(built) is not cls:
            _fail(label, f"make_strategy({ref[0]!r}) built {type(built).__name__}, not {cls.__name__}")


def check_param_declarations(strategy, **kwargs) -> None:
    """Every constructor keyword is declared in ``parameters`` with a :class:`Param`, every
    declaration names a constructor keyword, and the defaults (and ``kwargs``) pass their
    own declarations unchanged. Part of :func:`check_params`."""
    make, label, _, _ = _prepare(strategy, kwargs, runnable=False)
    cls = type(make())
    own = getattr(cls, "__dict__", {}).get("parameters")
    if own is not None and not isinstance(own, dict):
        _fail(label, f"parameters must be a dict of name -> benchlab.ext.Param, got {short(own)}")
    sig = [] if cls.__init__ is object.__init__ else list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = [p.name for p in sig if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    stale = sorted(set(own or {}) - set(names))
    if stale:
        _fail(label, f"parameters declares {stale}, which the constructor does not take; remove or rename them")
    missing = undeclared_parameters(cls)
    if missing:
        _fail(label, f"constructor parameters {missing} are not declared; add them to the class attribute "
              "`parameters = {name: Param(kind, ...)}` (from benchlab.ext import Param) so specs are checked before a run")
    declared = declared_parameters(cls)
    for name, param in declared.items():
        if not isinstance(param, Param):
            _fail(label, f"parameters[{name!r}] must be a benchlab.ext.Param, got {short(param)}")
    values = {p.name: p.default for p in sig if p.name in declared}
    values.update({k: v for k, v in kwargs.items() if k in declared})
    for name, value in values.items():
        what = "default" if name not in kwargs else "value"
        try:
            checked = declared[name].check(value, f"parameter {name!r}")
        except Exception as exc:
            _fail(label, f"the {what} {name}={short(value)} fails its own declaration: {exc}")
        if checked is not value and not isinstance(value, str):
            _fail(label, f"the declaration of {name!r} changed the {what} {short(value)} into {short(checked)}")


@limited
def check_valid_archs(strategy, **kwargs) -> None:
    """Every asked architecture passes ``space.validate`` (and fidelities are allowed), on toy
    spaces and on the space of every registered benchmark, with batched and reversed tells."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    benches = [
        ("toy", ToyBenchmark()),
        ("toy-2x2", ToyBenchmark(ToySpace((2, 2)))),
        ("toy nb201-like, no fidelity", ToyBenchmark(ToySpace.nb201_like(), fidelity=False)),
    ] + registered_benchmarks()
    for where, bench in benches:
        if _skips_no_fidelity(make, bench, f"{label} on {where}", tags):
            continue
        for seed, n, batch, order in ((0, 150, 1, "fifo"), (1, 60, 4, "reverse")):
            d = _Driver(make(), bench, f"{label} on {where}").setup(seed)
            d.steps(n, batch, order)
            d.recommend()


@limited
def check_determinism(strategy, **kwargs) -> None:
    """Same seed -> identical trials and recommendation (also after re-``setup`` of a used
    instance, and with batched/reversed tells); a different seed -> different trials (unless
    the strategy is tagged ``deterministic``)."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    small, big = ToyBenchmark(), ToyBenchmark(ToySpace.nb201_like())
    for bench in (small, big):
        for batch, order in ((1, "fifo"), (3, "reverse"), (4, "async")):
            a = _trace(make(), bench, 7, 40, batch, order, label)
            b = _trace(make(), bench, 7, 40, batch, order, label)
            _compare(label, a, b, f"two runs with seed 7 on {bench.space.name} (batch {batch}, {order} tells)")
    used = make()
    _trace(used, big, 3, 20, label=label)
    _compare(label, _trace(used, big, 7, 40, label=label), _trace(make(), big, 7, 40, label=label),
             "setup() of a used instance must reset it: its seed-7 run differs from a new instance's")
    if "deterministic" not in tags:
        a = [t[1] for t in _trace(make(), big, 7, 30, label=label) if t and t[0] != "rec"]
        b = [t[1] for t in _trace(make(), big, 8, 30, label=label) if t and t[0] != "rec"]
        if a == b:
            _fail(label, f"seeds 7 and 8 gave the same {len(a)} architectures on a 15,625-architecture space: the "
                  "strategy ignores its seed (tag it 'deterministic' if that is intended)")


def _spawn_worker(blob: bytes, bench_params: dict, seeds: list, n: int, batch: int, order: str):
    """Runs in a freshly spawned interpreter: the traces of the pickled strategy reference for
    ``seeds``, or ``("unavailable", why)`` if the strategy cannot be rebuilt there."""
    try:
        ref = pickle.loads(blob)
        if isinstance(ref, tuple):
            make, label, _ = strategy_factory(ref[0], ref[1])
        else:
            make, label, _ = strategy_factory(ref, {})
        make()
    except Exception as exc:
        return ("unavailable", f"{type(exc).__name__}: {exc}")
    return [_trace(make(), ToyBenchmark(**bench_params), s, n, batch, order, label) for s in seeds]


@contextmanager
def _other_hash_seed() -> Iterator[None]:
    """If PYTHONHASHSEED pins string hashing, give the spawned child another value."""
    old = os.environ.get("PYTHONHASHSEED")
    if old is None or old == "random":
        yield
        return
    try:
        new = str((int(old) + 1) % 4294967296)
    except ValueError:
        new = "random"
    os.environ["PYTHONHASHSEED"] = new
    try:
        yield
    finally:
        os.environ["PYTHONHASHSEED"] = old


@limited
def check_spawn_determinism(strategy, **kwargs) -> None:
    """A freshly spawned process (other string-hash salt) makes exactly the same trials.

    Catches state that differs between processes: iteration over sets of strings, ``hash()``
    or ``id()`` used as randomness, import-time seeding.
    """
    make, label, ref, tags = _prepare(strategy, kwargs)
    params = {"space": ToySpace.nb201_like()}
    seeds = [7, np.random.SeedSequence(11, spawn_key=(3, 4))]
    n, batch, order = 30, 2, "reverse"
    local = [_trace(make(), ToyBenchmark(**params), copy.deepcopy(s), n, batch, order, label) for s in seeds]
    why = ("it is defined in a script or exec'd code, so a spawned process cannot import it; "
           "put it in a module or an entry point to run this check (the process executor needs that too)")
    try:
        blob = pickle.dumps(ref)
    except Exception as exc:
        skip(f"{label}: {why} ({type(exc).__name__}: {exc})")
    limit = _common.TIME_LIMIT_S
    with _other_hash_seed():
        pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        future = None
        try:
            future = pool.submit(_spawn_worker, blob, params, seeds, n, batch, order)
            remote = future.result(timeout=limit)
        except FutureTimeout:
            _fail(label, f"the run in a spawned process did not finish within {limit:g} s: it probably hangs")
        except BrokenProcessPool as exc:
            _fail(label, f"the spawned process died ({exc}); run the checks from an importable module or script")
        finally:
            if future is not None and not future.done():  # hung (or interrupted): do not wait for it
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
    if isinstance(remote, tuple) and remote and remote[0] == "unavailable":
        skip(f"{label}: {why} ({remote[1]})")
    for s, a, b in zip(seeds, local, remote):
        _compare(label, a, b, f"seed {_fmt_seed(s)}: this process vs a freshly spawned one")


@limited
def check_seed_types(strategy, **kwargs) -> None:
    """``setup`` takes an int, a ``SeedSequence`` and a spawned ``SeedSequence`` (what the
    harness passes); each is deterministic; ``seed=None`` works."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    bench = ToyBenchmark(ToySpace.nb201_like())
    seeds: list[tuple[str, Callable]] = [
        ("int 12345", lambda: 12345),
        ("SeedSequence(12345)", lambda: np.random.SeedSequence(12345)),
        ("a spawned run SeedSequence", lambda: run_seed_sequence(3, "toy", "x", 0).spawn(2)[0]),
    ]
    for desc, seed in seeds:
        a = _trace(make(), bench, seed(), 25, 2, "reverse", label)
        b = _trace(make(), bench, seed(), 25, 2, "reverse", label)
        _compare(label, a, b, f"two runs seeded with {desc}")
    d = _Driver(make(), bench, label).setup(None)
    d.steps(20)
    d.recommend()


@limited
def check_budget(strategy, **kwargs) -> None:
    """Through ``benchlab.run``: exactly ``max_evaluations`` rows (fewer only when the strategy
    is exhausted), trials start before ``max_seconds``, identical reruns with 3 workers."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    exhaustive = "exhaustive" in tags
    size = int(ToySpace().size)
    for budget, workers in ((7, 1), (7, 3), (3 * size, 1), (3 * size, 4)):
        bench = ToyBenchmark()
        spec = _spec_for(ref, make(), seed=1, max_evaluations=budget, n_workers=workers)
        res = _harness(label, spec, bench, make())
        rows, reason = res.summary["n_evaluations"], res.summary["stop_reason"]
        where = f"max_evaluations={budget}, n_workers={workers}, space of {size}"
        if rows > budget:
            _fail(label, f"{rows} evaluations with {where}")
        if rows < budget and reason != "exhausted":
            _fail(label, f"only {rows} evaluations with {where} (stop reason {reason!r})")
        if exhaustive and rows != min(budget, size):
            _fail(label, f"is tagged exhaustive but made {rows} evaluations with {where}; expected {min(budget, size)}")
        if exhaustive and budget > size and reason != "exhausted":
            _fail(label, f"is tagged exhaustive but stopped for {reason!r} with {where}")
    bench = ToyBenchmark()
    res = _harness(label, _spec_for(ref, make(), seed=2, max_seconds=400.0, n_workers=2), bench, make())
    starts = res.columns["start"]
    if len(starts) == 0 or float(np.max(starts)) >= 400.0:
        _fail(label, f"max_seconds=400: {len(starts)} evaluations, last start {float(np.max(starts, initial=0))}")
    spec = _spec_for(ref, make(), seed=3, max_evaluations=25, n_workers=3)
    r1 = _harness(label, spec, ToyBenchmark(), make())
    r2 = _harness(label, spec, ToyBenchmark(), make())
    _compare(label, list(r1.columns["arch"]), list(r2.columns["arch"]), "two benchlab.run calls of one spec (3 workers)")


@limited
def check_exhaustion(strategy, **kwargs) -> None:
    """A budget of 3x a tiny space's size ends without hanging; an ``exhaustive`` strategy
    proposes each architecture exactly once and then ``ask()`` returns None."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    exhaustive = "exhaustive" in tags
    for space in (ToySpace(), ToySpace((2, 2))):
        size = int(space.size)
        for batch, order in ((1, "fifo"), (4, "reverse"), (3, "async")):
            bench = ToyBenchmark(space)
            d = _Driver(make(), bench, label, max_asks=20 * size + 100)
            with time_limit(None, f"{label} with a budget of {3 * size} on the {size}-architecture {space.name}"):
                d.setup(0)
                d.steps(3 * size, batch, order)
                if not exhaustive:
                    continue
                seen: dict = {}
                for trial, _ in d.told:
                    if trial.arch in seen:
                        _fail(label, f"is tagged exhaustive but proposed {short(trial.arch)} twice (trials "
                              f"{seen[trial.arch]} and {trial.id}) on {space.name} (batch {batch})")
                    seen[trial.arch] = trial.id
                if len(seen) != size:
                    _fail(label, f"is tagged exhaustive but stopped after {len(seen)} of {size} architectures of {space.name}")
                for _ in range(3):
                    t = d.ask()
                    if t is not None:
                        _fail(label, f"ask() returned {short(t)} after all {size} architectures of {space.name} were "
                              "proposed; an exhaustive strategy must return None")


@limited
def check_nan_inf(strategy, **kwargs) -> None:
    """NaN, +inf and -inf results do not crash it, and ``recommend()`` is the best result
    (never a NaN one when a finite value was seen), for max and min objectives."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    configs = [
        dict(bad_values=("nan",), bad_fraction=0.4),
        dict(bad_values=("nan", "inf", "-inf"), bad_fraction=0.5),
        dict(bad_values=("nan", "-inf"), bad_fraction=0.5, direction="min"),
        dict(bad_values=("nan", "inf"), bad_fraction=0.5, space=ToySpace.nb201_like()),
        dict(bad_values=("nan",), bad_fraction=1.0),
    ]
    for cfg in configs:
        for batch, order in ((1, "fifo"), (3, "reverse")):
            bench = ToyBenchmark(**cfg)
            d = _Driver(make(), bench, label).setup(4)
            d.steps(60, batch, order)
            rec = d.recommend()
            shown = {k: v for k, v in cfg.items() if k != "space"}
            _check_incumbent(d, rec, tags, f"ToyBenchmark({shown}) on {bench.space.name}, batch {batch}")


@limited
def check_out_of_order(strategy, **kwargs) -> None:
    """Several trials asked before any is told, told in reverse, shuffled and one-at-a-time
    random order: no crash, valid trials, correct incumbent."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    for bench in (ToyBenchmark(), ToyBenchmark(ToySpace.nb201_like())):
        for batch, order in ((4, "reverse"), (4, "shuffle"), (5, "async")):
            d = _Driver(make(), bench, label, order_seed=batch).setup(5)
            d.steps(40, batch, order)
            rec = d.recommend()
            _check_incumbent(d, rec, tags, f"{order} tells with {batch} pending on {bench.space.name}")


@limited
def check_pickle_resume(strategy, **kwargs) -> None:
    """Pickled mid-run (with trials pending), the copy continues exactly like the original;
    an un-set-up strategy pickles too."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    for bench, n1 in ((ToyBenchmark(), 8), (ToyBenchmark(ToySpace.nb201_like()), 25)):
        where = bench.space.name
        try:
            fresh = _roundtrip(make())
        except ConformanceError:
            raise
        except Exception as exc:
            _fail(label, f"an un-set-up instance cannot be pickled: {type(exc).__name__}: {exc}")
        _compare(label, _trace(fresh, bench, 5, 20, label=label), _trace(make(), bench, 5, 20, label=label),
                 f"an unpickled un-set-up instance vs a new one on {where}")
        d = _Driver(make(), bench, label).setup(5)
        d.steps(n1, 2, "reverse")
        for _ in range(2):
            d.ask()
        mark = len(d.trace)
        try:
            clone = _roundtrip(d.strategy)
        except ConformanceError:
            raise
        except Exception as exc:
            _fail(label, f"cannot pickle it after {n1} results on {where}: {type(exc).__name__}: {exc}")
        d2 = d.fork(clone)
        d.steps(30, 2, "reverse")
        d.recommend()
        d2.steps(30, 2, "reverse")
        d2.recommend()
        _compare(label, d.trace[mark:], d2.trace, f"after pickling at result {n1} (2 trials pending) on {where}, original vs copy")


@limited
def check_global_rng(strategy, **kwargs) -> None:
    """Construction, setup, ask/tell, recommend, pickling and clone leave the global
    ``random`` and ``numpy.random`` states untouched."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    before = global_rng_state()
    for bench in (ToyBenchmark(), ToyBenchmark(ToySpace.nb201_like())):
        for seed in (3, None):
            s = make()
            d = _Driver(s, bench, label).setup(seed)
            d.steps(100)
            d.steps(40, 4, "reverse")
            d.recommend()
            _roundtrip(s)
            s.clone()
            repr(s)
    py_same, np_same = same_global_rng_state(before, global_rng_state())
    if not (py_same and np_same):
        which = " and ".join(n for n, same in (("random", py_same), ("numpy.random", np_same)) if not same)
        _fail(label, f"the global {which} state changed; draw every random number from self.rng (DESIGN 6.4)")


@limited
def check_no_test_access(strategy, **kwargs) -> None:
    """The strategy never queries the benchmark during setup/ask/tell/recommend and keeps no
    reference to any benchmark (it could read test metrics through it)."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    bench = ToyBenchmark()
    d = _Driver(make(), bench, label).setup(6)
    d.steps(60)
    d.steps(30, 3, "reverse")
    d.recommend()
    if bench.violations:
        _fail(label, f"queried the benchmark ({', '.join(bench.violations)}) during ask/tell and swallowed the error")
    _assert_no_benchmark(label, d.strategy, "ToyBenchmark")
    spec = _spec_for(ref, make(), seed=4, max_evaluations=30, n_workers=2)
    _harness(label, spec, ToyBenchmark(), make())
    for name, real in registered_benchmarks():
        if _skips_no_fidelity(make, real, f"{label} on {name}", tags):
            continue
        d = _Driver(make(), real, f"{label} on {name}").setup(6)
        d.steps(20)
        _assert_no_benchmark(label, d.strategy, name)


@limited
def check_objectives(strategy, **kwargs) -> None:
    """Minimised objectives and a second objective are handled: ``recommend()`` is the
    minimum seen for ``direction='min'`` (unless tagged multi_fidelity/multi_objective)."""
    make, label, ref, tags = _prepare(strategy, kwargs)
    configs = [
        dict(),
        dict(direction="min"),
        dict(direction="min", space=ToySpace.nb201_like(), fidelity=False),
        dict(n_objectives=2),
        dict(direction="min", n_objectives=2),
    ]
    for cfg in configs:
        bench = ToyBenchmark(**cfg)
        if _skips_no_fidelity(make, bench, label, tags):
            continue
        d = _Driver(make(), bench, label).setup(8)
        d.steps(50, 2, "reverse")
        rec = d.recommend()
        shown = {k: v for k, v in cfg.items() if k != "space"}
        _check_incumbent(d, rec, tags, f"ToyBenchmark({shown}) on {bench.space.name}")


STRATEGY_CHECKS = (
    check_params,
    check_valid_archs,
    check_determinism,
    check_seed_types,
    check_budget,
    check_exhaustion,
    check_nan_inf,
    check_out_of_order,
    check_pickle_resume,
    check_global_rng,
    check_no_test_access,
    check_objectives,
    check_spawn_determinism,
)


def run_checks(checks, target, kwargs: dict, label: str) -> dict[str, str]:
    """Run ``checks``; collect every failure into one ConformanceError."""
    results: dict[str, str] = {}
    failures = []
    for check in checks:
        try:
            check(target, **kwargs)
            results[check.__name__] = "passed"
        except unittest.SkipTest as exc:
            results[check.__name__] = f"skipped: {exc}"
        except Exception as exc:  # AssertionError included: report them all at once
            results[check.__name__] = "failed"
            failures.append(f"- {check.__name__}: {type(exc).__name__}: {exc}")
    if failures:
        raise ConformanceError(f"{label}: {len(failures)} of {len(checks)} checks failed\n" + "\n".join(failures))
    return results


def check_strategy(strategy, **kwargs) -> dict[str, str]:
    """Run every strategy check on ``strategy`` (name, class or instance) built with ``kwargs``.

    Returns ``{check name: "passed" | "skipped: why"}``; raises one :class:`ConformanceError`
    listing every failed check.
    """
    make, label, _ = strategy_factory(strategy, kwargs)
    try:
        transfer = "transfer" in _tags(make())
    except Exception:  # check_params reports a constructor that raises
        transfer = False
    return run_checks(STRATEGY_CHECKS + (TRANSFER_CHECKS if transfer else ()), strategy, kwargs, label)


# -- transfer strategies ------------------------------------------------------------------------
class _SourceSampler(Strategy):
    """Uniform random sampling: the runs a transfer check uses as its results-folder source."""

    def ask(self):
        return self._trial(self.space.sample(self.rng))


def _write_source_folder(root, space, n_runs: int = 3, n_evals: int = 40) -> "os.PathLike":
    """A results folder of ``n_runs`` random-search runs on ``ToyBenchmark(space)``."""
    from pathlib import Path

    from .._store import write_run

    folder = Path(root)
    bench = ToyBenchmark(space, fidelity=False, guard=False)
    for k in range(n_runs):
        spec = RunSpec(benchmark="toy", strategy="sampler", seed=11, repeat=k, max_evaluations=n_evals)
        res = run(spec, benchmark=bench, strategy=_SourceSampler())
        write_run(folder / "toy" / "sampler" / f"seed-{k}", res)
    return folder


def _poison_folder(src, dst) -> None:
    """A copy of the results folder ``src`` whose test-split data are negated: the trials'
    ``incumbent_test`` and ``regret`` columns, the summaries' ``optimum``, ``final`` test and
    regret and every ``report``; the visible columns (``arch``, ``value``) are unchanged."""
    import shutil
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from .._store import SUMMARY_FILE, TRIALS_FILE, atomic_write_bytes, atomic_write_json, read_summary

    shutil.copytree(src, dst)
    for summary_path in sorted(Path(dst).rglob(SUMMARY_FILE)):
        run_dir = summary_path.parent
        table = pq.read_table(run_dir / TRIALS_FILE)
        cols = {name: table.column(name) for name in table.column_names}
        for name in ("incumbent_test", "regret"):
            cols[name] = pa.array(-np.asarray(cols[name].to_numpy(), dtype=np.float64))
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table(cols), sink)
        atomic_write_bytes(run_dir / TRIALS_FILE, sink.getvalue().to_pybytes())
        summary = read_summary(run_dir)

        def negate(obj):
            if isinstance(obj, dict):
                return {k: negate(v) for k, v in obj.items()}
            return -obj if isinstance(obj, (int, float)) and not isinstance(obj, bool) else obj

        summary["optimum"] = negate(summary.get("optimum"))
        for key in ("final", "recommended"):
            part = summary.get(key) or {}
            for field_name in ("test", "regret", "report"):
                if field_name in part:
                    part[field_name] = negate(part[field_name])
        atomic_write_json(summary_path, summary)


class _ReadTrace:
    """Records table-column reads and ``report``/``optimum`` calls made while ``active``."""

    def __init__(self) -> None:
        self.active = 0
        self.reads: list = []
        self._undo: list = []

    def _wrap(self, cls: type, name: str) -> None:
        orig = cls.__dict__[name]
        trace = self

        @functools.wraps(orig)
        def wrapper(obj, *args, **kwargs):
            if trace.active:
                owner = getattr(obj, "name", type(obj).__name__)
                arg = args[0] if args else None
                info = (getattr(obj, "columns", None) or {}).get(arg) if isinstance(arg, str) else None
                split = getattr(info, "split", "") if info is not None else ""
                trace.reads.append((type(obj).__name__, str(owner), name, arg, split))
            return orig(obj, *args, **kwargs)

        setattr(cls, name, wrapper)
        self._undo.append((cls, name, orig))

    def __enter__(self) -> "_ReadTrace":
        from .._tables import Table
        from .._tabular import ArrayTable

        self._wrap(Table, "column")
        self._wrap(Table, "optimum")
        self._wrap(ArrayTable, "column")
        self._wrap(ArrayTable, "optimum")
        todo, seen = [Benchmark], set()
        while todo:
            cls = todo.pop()
            if cls in seen:
                continue
            seen.add(cls)
            todo.extend(cls.__subclasses__())
            for name in ("report", "optimum"):
                if name in cls.__dict__ and not getattr(cls.__dict__[name], "__isabstractmethod__", False):
                    self._wrap(cls, name)
        return self

    def __exit__(self, *exc) -> None:
        for cls, name, orig in reversed(self._undo):
            setattr(cls, name, orig)
        self._undo.clear()


class _Traced:
    """Forwards setup/ask/tell/recommend to a strategy with the trace active."""

    def __init__(self, strategy, trace: _ReadTrace) -> None:
        self._s = strategy
        self._t = trace

    def _call(self, fn, *args, **kwargs):
        self._t.active += 1
        try:
            return fn(*args, **kwargs)
        finally:
            self._t.active -= 1

    def setup(self, *args, **kwargs):
        self._call(self._s.setup, *args, **kwargs)
        return self

    def ask(self):
        return self._call(self._s.ask)

    def tell(self, trial, evaluation):
        return self._call(self._s.tell, trial, evaluation)

    def recommend(self):
        return self._call(self._s.recommend)


def _visible_columns(bench) -> set:
    """Columns a table benchmark's strategy-visible metrics read, at every fidelity."""
    recipe = getattr(bench, "recipe", None)
    if recipe is None or not hasattr(bench, "_col"):
        return set()
    epochs = list(bench.fidelity.values) if bench.fidelity is not None else [getattr(bench, "_default_epochs", None)]
    visible = set()
    for metric in recipe.metrics.values():
        for e in epochs:
            visible.add(bench._col(metric.column, e))
            if metric.seeds:
                visible.add(bench._col(metric.seeds, e))
        if metric.curve:
            visible.add(bench._col(metric.curve))
    return visible


def _report_columns(bench) -> set:
    """Columns behind a table benchmark's ``report`` (its test split where it has one)."""
    return set((getattr(bench, "_report_map", None) or {}).values())


@contextmanager
def _fresh_priors() -> Iterator[None]:
    """Inside the block transfer priors are read afresh (not from the per-process cache)."""
    from .. import _transfer

    _transfer.clear_cache()
    try:
        yield
    finally:
        _transfer.clear_cache()


def _family_cases() -> list[tuple[str, str, str, str]]:
    """``(benchmark, task keyword, target task, source task)`` of every registered table
    benchmark with at least two datasets/tasks whose data is available here."""
    from .._errors import BenchlabError

    out = []
    for name in sorted(_registered_names()):
        cls = _benchmark_class(name)
        recipe = getattr(cls, "recipe", None)
        tasks = tuple(getattr(recipe, "datasets", ()) or ())
        params = declared_parameters(cls)
        key = next((k for k in ("dataset", "task") if k in params), None)
        if recipe is None or len(tasks) < 2 or key is None:
            continue
        try:
            make_benchmark(name, {key: tasks[1]})
            make_benchmark(name, {key: tasks[0]})
        except BenchlabError:
            continue
        out.append((name, key, tasks[1], tasks[0]))
    return out


def _registered_names() -> list[str]:
    from .._registry import BENCHMARKS

    return BENCHMARKS.names()


def _benchmark_class(name: str):
    from .._registry import BENCHMARKS

    return BENCHMARKS.get(name)


@limited
def check_transfer_no_test_access(strategy, **kwargs) -> None:
    """A transfer strategy (tag ``transfer``) given a source never reads a test split.

    * ``transfer_from``: on toy spaces, the strategy runs once with a results folder and once
      with a copy whose test-split data (trials' ``incumbent_test``/``regret``, summaries'
      reports, final test values, optimum) are negated: both runs must ask exactly the same
      trials (the visible data are the same), and ``stats()["transfer"]["fingerprint"]`` must
      differ (the source's identity is recorded, so a changed source is visible).
    * ``source``: on every registered table benchmark with two or more datasets/tasks and data
      here, the strategy searches one task with the other as source while every table-column
      read and every ``report``/``optimum`` call made inside its setup/ask/tell/recommend is
      traced: calling ``report``/``optimum`` of any benchmark, reading a column of any table
      whose metadata says ``split="test"``, or reading a report column that is no
      strategy-visible metric of the target or the source, fails.

    Throughout, the target benchmark refuses queries during the strategy's calls and the
    strategy must keep no reference to a benchmark. Strategies not tagged ``transfer`` skip.
    """
    import tempfile
    from pathlib import Path

    from .. import _transfer

    make, label, ref, tags = _prepare(strategy, kwargs)
    if "transfer" not in tags:
        skip(f"{label} is not tagged transfer")
    params = set(_param_names_of(make()))
    if not params & {"transfer_from", "source"}:
        _fail(label, "is tagged transfer but takes neither transfer_from nor source; declare one of them")
    if "transfer_from" in params:
        with tempfile.TemporaryDirectory(prefix="benchlab-transfer-check-") as tmp:
            for space in (ToySpace(), ToySpace((5, 5, 4, 3))):
                clean = _write_source_folder(Path(tmp) / f"clean-{space.name}", space)
                poisoned = Path(tmp) / f"poisoned-{space.name}"
                _poison_folder(clean, poisoned)
                traces, prints = [], []
                for folder in (clean, poisoned):
                    _transfer.clear_cache()
                    s = _rebuild(make, {"transfer_from": str(folder)})
                    bench = ToyBenchmark(space, fidelity=False)
                    d = _Driver(s, bench, f"{label} with transfer_from on {space.name}")
                    d.setup(21)
                    d.steps(20, 2, "reverse")
                    d.recommend()
                    traces.append(d.trace)
                    _assert_no_benchmark(label, s, f"{space.name} with transfer_from")
                    info = (s.stats() or {}).get("transfer") or {}
                    prints.append(info.get("fingerprint"))
                    if bench.violations:
                        _fail(label, f"queried the target benchmark ({', '.join(bench.violations)}) with transfer_from")
                _compare(label, traces[0], traces[1],
                         f"transfer_from a results folder vs a copy whose test-split data are negated (on {space.name}): "
                         "the strategy read the source's test split")  # fmt: skip
                if not prints[0] or prints[0] == prints[1]:
                    _fail(label, f"stats()['transfer']['fingerprint'] is {prints[0]!r} for the folder and {prints[1]!r} for "
                          "its changed copy; record the source's identity (benchlab.ext.load_transfer_prior gives it)")
    if "source" in params:
        for name, key, target_task, source_task in _family_cases():
            target = make_benchmark(name, {key: target_task})
            src_bench = make_benchmark(name, {key: source_task})
            visible = _visible_columns(target) | _visible_columns(src_bench)
            forbidden = {(b._table.name, c) for b in (target, src_bench) for c in _report_columns(b) - visible}
            text = f"{name}:{key}={source_task}"
            s = _rebuild(make, {"source": text})
            where = f"{name} {key}={target_task} with source={text!r}"
            with _fresh_priors(), _ReadTrace() as trace:
                d = _Driver(_Traced(s, trace), target, f"{label} on {where}")
                d.setup(22)
                d.steps(15, 2, "reverse")
                d.recommend()
            for kind, owner, what, arg, split in trace.reads:
                if what in ("report", "optimum"):
                    _fail(label, f"called {kind}.{what}({short(arg, 60)}) of {owner} inside its setup/ask/tell on {where}: "
                          "a strategy may read a source only through evaluate/evaluate_many (validation metrics)")
                if what == "column" and (split == "test" or (owner, arg) in forbidden):
                    _fail(label, f"read the test-split column {arg!r} of table {owner} on {where}: a source is read through "
                          "its strategy-visible metrics only (benchlab.ext.load_transfer_prior)")
            _assert_no_benchmark(label, s, where)
            info = (s.stats() or {}).get("transfer") or {}
            if not info.get("fingerprint"):
                _fail(label, f"stats() records no transfer identity on {where}; put load_transfer_prior(...).identity "
                      "under stats()['transfer']")


def _rebuild(make, extra: dict):
    """A new strategy like ``make()`` with the keyword arguments ``extra`` added."""
    proto = make()
    return type(proto)(**{**proto.get_params(), **extra})


def _param_names_of(strategy) -> list[str]:
    names = getattr(type(strategy), "_param_names", None)
    if names is not None:
        return names()
    sig = inspect.signature(type(strategy).__init__)
    return [p.name for p in sig.parameters.values() if p.name != "self"]


TRANSFER_CHECKS = (check_transfer_no_test_access,)
