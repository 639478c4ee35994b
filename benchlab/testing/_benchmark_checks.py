"""The benchmark conformance suite.

Every check takes a benchmark as a registry name, a class or an instance, plus the
constructor's keyword arguments. A registered benchmark whose data files are missing
skips (``unittest.SkipTest``, which pytest reports as skipped).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import numpy as np

from .._errors import BenchlabError, InvalidArchitecture
from .._registry import BENCHMARKS
from .._space import CategoricalSpace
from .._types import Evaluation, Objective
from ._common import (
    Case,
    ConformanceError,
    global_rng_state,
    limited,
    is_real,
    registry_cases,
    resolve_benchmark,
    same_global_rng_state,
    same_metrics,
    same_value,
    short,
)
from ._space_checks import SPACE_CHECKS, _archs

__all__ = [
    "BENCHMARK_CHECKS",
    "check_benchmark",
    "benchmark_cases",
    "check_evaluate",
    "check_evaluate_many",
    "check_report",
    "check_optimum",
    "check_invalid_archs",
    "check_benchmark_determinism",
    "check_no_report_leak",
    "check_describe",
]

#: The optimum check compares against every architecture of spaces at most this large.
OPTIMUM_ENUMERATE_LIMIT = 20_000


def benchmark_cases() -> list[Case]:
    """Every registered benchmark with its keyword variants, for ``pytest.mark.parametrize``.

    Variants: a class attribute ``conformance_cases`` (list of kwargs dicts), else the
    defaults plus each boolean parameter flipped.
    """
    return registry_cases(BENCHMARKS)


def _fail(label: str, message: str) -> None:
    raise ConformanceError(f"{label}: {message}")


def _same_eval(a: Evaluation, b: Evaluation) -> bool:
    return (
        same_metrics(a.metrics, b.metrics)
        and same_value(float(a.cost), float(b.cost))
        and a.fidelity == b.fidelity
        and a.seed == b.seed
    )


def _check_evaluation(label: str, bench, arch, ev, fidelity) -> None:
    where = f"evaluate({short(arch)}, fidelity={fidelity!r})"
    if not isinstance(ev, Evaluation):
        _fail(label, f"{where} returned {short(ev)}; expected a benchlab.Evaluation")
    if not isinstance(ev.metrics, Mapping):
        _fail(label, f"{where}: metrics must be a mapping, got {short(ev.metrics)}")
    for obj in bench.objectives:
        if obj.name not in ev.metrics:
            _fail(label, f"{where}: metrics {sorted(ev.metrics)} lack the objective {obj.name!r}")
    for k, v in ev.metrics.items():
        if not isinstance(k, str) or not is_real(v):
            _fail(label, f"{where}: metric {k!r} = {short(v)}; expected a str name and a real number")
    if not is_real(ev.cost) or not math.isfinite(float(ev.cost)) or float(ev.cost) < 0:
        _fail(label, f"{where}: cost {ev.cost!r} must be a finite number >= 0 ({bench.cost_unit})")
    fid = bench.fidelity
    if fid is None:
        if ev.fidelity is not None:
            _fail(label, f"{where}: the benchmark has no fidelity but the Evaluation says {ev.fidelity!r}")
    else:
        want = fid.default if fidelity is None else fidelity
        if ev.fidelity not in (want, None) or (fidelity is not None and ev.fidelity != fidelity):
            _fail(label, f"{where}: Evaluation.fidelity is {ev.fidelity!r}, expected {want!r}")


@limited
def check_evaluate(benchmark, **kwargs) -> None:
    """``evaluate`` returns an ``Evaluation`` with every objective and a finite cost >= 0, at
    every allowed fidelity; a fidelity not offered raises ``ValueError``."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    objs = bench.objectives
    if not objs or not all(isinstance(o, Objective) for o in objs) or len({o.name for o in objs}) != len(objs):
        _fail(label, f"objectives must be a non-empty sequence of distinct benchlab.Objective, got {short(objs)}")
    archs = _archs(bench.space, 64, seed=21)
    fidelities = [None] + (list(bench.fidelity.values) if bench.fidelity is not None else [])
    rng = np.random.default_rng(0)
    for arch in archs:
        for f in fidelities:
            try:
                ev = bench.evaluate(arch, f, rng=rng)
            except Exception as exc:
                _fail(label, f"evaluate({short(arch)}, fidelity={f!r}) raised {type(exc).__name__}: {exc}")
            _check_evaluation(label, bench, arch, ev, f)
    bad = [-12345] if bench.fidelity is None else [bench.fidelity.max + 12345, -1]
    for f in bad:
        try:
            bench.evaluate(archs[0], f, rng=rng)
        except ValueError:
            continue
        except Exception as exc:
            _fail(label, f"evaluate(arch, fidelity={f}) raised {type(exc).__name__}; expected a ValueError (benchlab.InvalidConfig)")
        _fail(label, f"evaluate(arch, fidelity={f}) did not raise; a fidelity the benchmark does not offer must raise InvalidConfig")


@limited
def check_evaluate_many(benchmark, **kwargs) -> None:
    """``evaluate_many(archs)`` equals ``[evaluate(a) for a in archs]`` with equally seeded rngs."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    archs = _archs(bench.space, 48, seed=23)
    archs = archs + archs[:5]  # repeats are allowed
    fidelities = [None] + ([bench.fidelity.min] if bench.fidelity is not None else [])
    for f in fidelities:
        many = bench.evaluate_many(archs, f, rng=np.random.default_rng(5))
        if not isinstance(many, list) or len(many) != len(archs):
            _fail(label, f"evaluate_many of {len(archs)} architectures returned {type(many).__name__} of length "
                  f"{len(many) if hasattr(many, '__len__') else '?'}; expected a list of the same length")
        rng = np.random.default_rng(5)
        for arch, ev in zip(archs, many):
            one = bench.evaluate(arch, f, rng=rng)
            _check_evaluation(label, bench, arch, ev, f)
            if not _same_eval(one, ev):
                _fail(label, f"evaluate_many differs from evaluate for {short(arch)} (fidelity {f!r}): {short(ev)} vs {short(one)}")
    empty = bench.evaluate_many([], rng=np.random.default_rng(0))
    if list(empty) != []:
        _fail(label, f"evaluate_many([]) returned {short(empty)}; expected []")


@limited
def check_report(benchmark, **kwargs) -> None:
    """``report(arch)`` is a dict of real numbers that holds ``report_metric`` and is deterministic."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    metric = bench.report_metric
    if not isinstance(metric, str):
        _fail(label, f"report_metric must be a str, got {metric!r}")
    for arch in _archs(bench.space, 64, seed=25):
        rep = bench.report(arch)
        if not isinstance(rep, dict):
            _fail(label, f"report({short(arch)}) returned {type(rep).__name__}; expected a dict")
        if metric not in rep:
            _fail(label, f"report({short(arch)}) has no report_metric {metric!r} (keys {sorted(rep)})")
        for k, v in rep.items():
            if not isinstance(k, str) or not is_real(v):
                _fail(label, f"report({short(arch)}): {k!r} = {short(v)}; expected str names and real numbers")
        if not same_metrics(rep, bench.report(arch)):
            _fail(label, f"report({short(arch)}) is not deterministic")


@limited
def check_optimum(benchmark, **kwargs) -> None:
    """``optimum(report_metric)`` is at least as good as the report value of every
    architecture (all of them when the space has at most 20,000, else a sample) and is
    attained when all are checked; an unknown metric raises."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    metric = bench.report_metric
    direction = bench.objectives[0].direction
    opt = bench.optimum(metric)
    if not is_real(opt) or not math.isfinite(float(opt)):
        _fail(label, f"optimum({metric!r}) = {opt!r}; expected a finite number")
    opt = float(opt)
    size = bench.space.size
    full = math.isfinite(size) and size <= OPTIMUM_ENUMERATE_LIMIT
    archs = list(bench.space.enumerate()) if full else _archs(bench.space, 2000, seed=27)
    values = np.array([float(bench.report(a)[metric]) for a in archs])
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        _fail(label, f"no architecture has a finite {metric!r}")
    sign = 1.0 if direction == "max" else -1.0
    best_i = int(np.nanargmax(sign * values))
    best = float(values[best_i])
    tol = 1e-9 * max(1.0, abs(opt))
    if sign * (best - opt) > tol:
        _fail(label, f"optimum({metric!r}) = {opt!r} but {short(archs[best_i])} reports {best!r} ({direction}imised)")
    if full and abs(best - opt) > tol:
        _fail(label, f"optimum({metric!r}) = {opt!r} is not attained: the best of all {len(archs)} architectures is {best!r}")
    try:
        bench.optimum("__no_such_metric__")
    except (BenchlabError, LookupError, ValueError):
        pass
    except Exception as exc:
        _fail(label, f"optimum('__no_such_metric__') raised {type(exc).__name__}; expected a benchlab error naming the metrics")
    else:
        _fail(label, "optimum('__no_such_metric__') did not raise")


def _invalid_archs(space, arch) -> list:
    out = [None, "garbage", 3.5, object()]
    if isinstance(arch, tuple):
        out += [list(arch), arch + (0,), arch[:-1], ()]
        if isinstance(space, CategoricalSpace):
            ch = space.choices()
            out += [(len(ch[0][1]),) + arch[1:], arch[:-1] + (len(ch[-1][1]),), (-1,) + arch[1:], tuple(str(v) for v in arch)]
    return out


@limited
def check_invalid_archs(benchmark, **kwargs) -> None:
    """Wrong type, wrong length and out-of-range architectures raise ``InvalidArchitecture``
    (a ``ValueError``) from ``space.validate``, ``evaluate``, ``evaluate_many`` and ``report``."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    if not issubclass(InvalidArchitecture, ValueError):
        _fail(label, "benchlab.InvalidArchitecture must subclass ValueError")
    good = _archs(bench.space, 1, seed=29)[0]
    calls = [
        ("space.validate", lambda a: bench.space.validate(a)),
        ("evaluate", lambda a: bench.evaluate(a, rng=np.random.default_rng(0))),
        ("evaluate_many", lambda a: bench.evaluate_many([good, a], rng=np.random.default_rng(0))),
        ("report", lambda a: bench.report(a)),
    ]
    for bad in _invalid_archs(bench.space, good):
        for what, call in calls:
            try:
                result = call(bad)
            except InvalidArchitecture as exc:
                if not str(exc):
                    _fail(label, f"{what}({short(bad)}) raised InvalidArchitecture without a message")
                continue
            except Exception as exc:
                _fail(label, f"{what}({short(bad)}) raised {type(exc).__name__}: {exc}; expected benchlab.InvalidArchitecture")
            _fail(label, f"{what}({short(bad)}) returned {short(result)}; expected benchlab.InvalidArchitecture")


@limited
def check_benchmark_determinism(benchmark, **kwargs) -> None:
    """``evaluate``/``evaluate_many`` are identical for equally seeded rngs, and no query touches
    the global ``random``/``numpy.random`` state."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    archs = _archs(bench.space, 32, seed=31)
    before = global_rng_state()
    for seed in (3, 4):
        a = [bench.evaluate(x, rng=np.random.default_rng(seed)) for x in archs]
        b = [bench.evaluate(x, rng=np.random.default_rng(seed)) for x in archs]
        for x, ea, eb in zip(archs, a, b):
            if not _same_eval(ea, eb):
                _fail(label, f"evaluate({short(x)}) with rng seed {seed} gave {short(ea)} and then {short(eb)}")
        m1 = bench.evaluate_many(archs, rng=np.random.default_rng(seed))
        m2 = bench.evaluate_many(archs, rng=np.random.default_rng(seed))
        if not all(_same_eval(x, y) for x, y in zip(m1, m2)):
            _fail(label, f"evaluate_many with rng seed {seed} is not deterministic")
    for x in archs[:8]:
        bench.report(x)
    bench.optimum(bench.report_metric)
    if not all(same_global_rng_state(before, global_rng_state())):
        _fail(label, "evaluate/report/optimum changed the global random/numpy.random state; use the rng argument")


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", str(text).lower()) if t]


@limited
def check_no_report_leak(benchmark, **kwargs) -> None:
    """Unless ``visible_split`` is the report split (say so, as analognas does: "test (...)"),
    an ``Evaluation`` holds no report-split metric: not ``report_metric``, no key naming the
    report split, and objective values that are not the report values."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    vis, rep = _tokens(bench.visible_split), _tokens(bench.report_split)
    if not rep:
        _fail(label, f"report_split {bench.report_split!r} must name a split")
    if vis and vis[0] == rep[0]:
        return  # declared: the strategy sees the report split
    metric = bench.report_metric
    archs = _archs(bench.space, 32, seed=33)
    evs = [bench.evaluate(a, rng=np.random.default_rng(0)) for a in archs]
    for a, ev in zip(archs, evs):
        if metric in ev.metrics:
            _fail(label, f"evaluate({short(a)}) exposes the report metric {metric!r} although visible_split is "
                  f"{bench.visible_split!r} and report_split {bench.report_split!r}")
        for k in ev.metrics:
            if rep[0] in _tokens(k):
                _fail(label, f"evaluate({short(a)}) exposes {k!r}, which names the report split {rep[0]!r}")
    reports = [bench.report(a) for a in archs]
    for obj in bench.objectives:
        vis_vals = [float(ev.metrics[obj.name]) for ev in evs]
        rep_vals = [float(r[metric]) for r in reports]
        if len(archs) >= 4 and all(same_value(x, y) for x, y in zip(vis_vals, rep_vals)):
            _fail(label, f"objective {obj.name!r} equals report metric {metric!r} for all {len(archs)} sampled "
                  f"architectures: the strategy sees {bench.report_split!r} values although visible_split is "
                  f"{bench.visible_split!r} (a split mix-up?)")


@limited
def check_describe(benchmark, **kwargs) -> None:
    """``describe()`` is JSON-serialisable and names splits, objectives and the report metric."""
    bench, label = resolve_benchmark(benchmark, kwargs)
    d = bench.describe()
    try:
        text = json.dumps(d)
    except (TypeError, ValueError) as exc:
        _fail(label, f"describe() is not JSON-serialisable: {exc}")
    back = json.loads(text)
    for key in ("name", "objectives", "visible_split", "report_split", "report_metric"):
        if key not in back:
            _fail(label, f"describe() lacks {key!r}")
    if back["report_metric"] != bench.report_metric:
        _fail(label, f"describe()['report_metric'] = {back['report_metric']!r}, but report_metric is {bench.report_metric!r}")
    names = [o["name"] if isinstance(o, dict) else o for o in back["objectives"]]
    if names != [o.name for o in bench.objectives]:
        _fail(label, f"describe()['objectives'] names {names} differ from objectives {[o.name for o in bench.objectives]}")


BENCHMARK_CHECKS = (
    check_evaluate,
    check_evaluate_many,
    check_report,
    check_optimum,
    check_invalid_archs,
    check_benchmark_determinism,
    check_no_report_leak,
    check_describe,
)


def check_benchmark(benchmark, **kwargs) -> dict[str, str]:
    """Run every benchmark check and every search-space check on its space.

    ``benchmark`` is a registry name, a class or an instance; returns ``{check: status}``
    and raises one :class:`ConformanceError` listing every failed check.
    """
    from ._strategy_checks import run_checks

    _, label = resolve_benchmark(benchmark, kwargs)
    return run_checks(BENCHMARK_CHECKS + SPACE_CHECKS, benchmark, kwargs, label)
