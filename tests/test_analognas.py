"""AnalogNAS-Bench, the embedded default table: safe loading, NB201 mapping, cache, API."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import benchlab
from benchlab import DataError, Evaluation, InvalidArchitecture, InvalidConfig
from benchlab.benchmarks.analognas import METRICS, AnalogNAS, load_table, to_nb201
from benchlab.benchmarks.analognas import _table
from benchlab.benchmarks.nb201 import NB201Space

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def bench() -> AnalogNAS:
    return benchlab.make_benchmark("analognas")


@pytest.fixture(scope="module")
def records() -> dict:
    """The raw data.anb records, through the restricted unpickler (about 1 s)."""
    path, _ = _table._package_file()
    return _table.load_records(path.read_bytes())


# --------------------------------------------------------------------------- safe loading


def test_loads_without_importing_the_package(tmp_path):
    # a fresh cache folder forces the conversion from data.anb as well
    code = (
        "import sys, benchlab, benchlab.strategies, benchlab.benchmarks\n"
        "b = benchlab.make_benchmark('analognas')\n"
        "r = benchlab.run(benchlab.RunSpec('analognas', 'random_search', max_evaluations=10))\n"
        "assert r.summary['status'] == 'ok', r.summary\n"
        "print(sorted(m for m in sys.modules if m.startswith('analognasbench')))\n"
    )
    env = dict(os.environ, BENCHLAB_DATA=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert list((tmp_path / "analognas").glob("table-*.npz"))  # it did convert


class _Evil:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    "payload",
    [
        lambda m: pickle.dumps(os.system),
        lambda m: pickle.dumps(_Evil(m)),
        lambda m: pickle.dumps({(0, 0, 0, 0, 0, 0): _Evil(m)}),
        lambda m: pickle.dumps([1, 2, io.BytesIO]),
    ],
    ids=["global", "reduce", "nested", "other-class"],
)
def test_restricted_unpickler_refuses_other_classes(tmp_path, payload):
    marker = tmp_path / "pwned"
    data = payload(str(marker))
    with pytest.raises(pickle.UnpicklingError) as info:
        _table.load_records(data)
    msg = str(info.value)
    assert "refusing" in msg and "not an AnalogNAS-Bench record" in msg
    assert "system" in msg or "BytesIO" in msg  # names what it refused
    assert not marker.exists()  # nothing ran
    # through the loader it becomes a DataError that says what to do
    with pytest.raises(DataError) as info:
        _table._convert(data, Path("data.anb"))
    assert "reinstall" in str(info.value)
    assert not marker.exists()


def test_restricted_unpickler_admits_the_two_record_classes(monkeypatch):
    # pickle records the way analognasbench does, from stand-in classes that live under
    # its module name only while the pickle is written
    import types

    fake = types.ModuleType("analognasbench.data")

    class Architecture:
        pass

    class DriftMeasurement:
        pass

    for cls in (Architecture, DriftMeasurement):
        cls.__module__, cls.__qualname__ = "analognasbench.data", cls.__name__
        setattr(fake, cls.__name__, cls)
    drift = DriftMeasurement()
    drift.__dict__.update(value=80.5, uncertainty=0.25)
    arch = Architecture()
    arch.__dict__.update(baseline_accuracy=91.5, baseline_drift_60=drift)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "analognasbench", types.ModuleType("analognasbench"))
        m.setitem(sys.modules, "analognasbench.data", fake)
        data = pickle.dumps({(0, 1, 2, 3, 4, 0): arch}, protocol=4)
    assert b"analognasbench.data" in data
    records = _table.load_records(data)
    ((key, rec),) = records.items()
    assert key == (0, 1, 2, 3, 4, 0)
    assert type(rec) is _table._Record
    assert rec.baseline_accuracy == 91.5
    assert rec.baseline_drift_60.value == 80.5 and rec.baseline_drift_60.uncertainty == 0.25


# --------------------------------------------------------------------------- mapping to NB201


def test_to_nb201_mapping_by_hand():
    # AnalogNAS: (e(1<-0), e(2<-0), e(3<-0), e(2<-1), e(3<-1), e(3<-2)),
    # ops 0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3.
    # (skip, none, conv3, conv1, avg, skip) -> NB201 edges (1<-0)=skip, (2<-0)=none,
    # (2<-1)=conv1, (3<-0)=conv3, (3<-1)=avg, (3<-2)=skip
    assert to_nb201((0, 1, 2, 3, 4, 0)) == (1, 0, 2, 3, 4, 1)
    space = NB201Space()
    assert space.to_str(to_nb201((0, 1, 2, 3, 4, 0))) == (
        "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"
    )
    assert to_nb201((1,) * 6) == (0,) * 6
    images = {to_nb201(a) for a in space.enumerate()}
    assert len(images) == 15625  # a bijection


@pytest.fixture(scope="module")
def nb201_test_acc(shared_data):
    import pandas as pd

    df = pd.read_csv(shared_data / "nb201" / "nb201_test_200ep_mean.csv")
    column = "cifar10" if "cifar10" in df.columns else "CIFAR10TestAccuracy200Epochs"
    return dict(zip(df["ArchitectureString"], df[column].astype(float)))


def _spearman(records, mapping, reference) -> float:
    from scipy.stats import spearmanr

    space = NB201Space()
    ours, theirs = [], []
    for key, rec in records.items():
        ours.append(float(rec.baseline_accuracy))
        theirs.append(reference[space.to_str(mapping(tuple(int(v) for v in key)))])
    return float(spearmanr(ours, theirs)[0])


@pytest.mark.data
def test_mapping_agrees_with_nas_bench_201(records, nb201_test_acc):
    rho = _spearman(records, to_nb201, nb201_test_acc)
    assert rho >= 0.95  # the AnalogNAS-Bench paper reports 0.99

    def swapped(key):  # (2<-1) and (3<-0) exchanged: AnalogNAS's own edge order
        a = to_nb201(key)
        return (a[0], a[1], a[3], a[2], a[4], a[5])

    def raw_ops(key):  # edge order right, op ids not translated
        return tuple(int(key[p]) for p in (0, 1, 3, 2, 4, 5))

    assert _spearman(records, swapped, nb201_test_acc) < rho - 0.15
    assert _spearman(records, raw_ops, nb201_test_acc) < rho - 0.3


@pytest.mark.data
def test_table_rows_follow_the_mapping(bench, records, nb201_test_acc):
    from scipy.stats import spearmanr

    cols, _ = load_table()
    space = bench.space
    for key, rec in records.items():
        row = space.to_id(to_nb201(tuple(int(v) for v in key)))
        assert cols["baseline_accuracy"][row] == rec.baseline_accuracy
        assert cols["analog_accuracy"][row] == rec.analog_accuracy
    ours = [bench.report(a)["baseline_accuracy"] for a in space.enumerate()]
    theirs = [nb201_test_acc[space.to_str(a)] for a in space.enumerate()]
    assert spearmanr(ours, theirs)[0] >= 0.95


def test_optimum(bench):
    assert bench.optimum("baseline_accuracy") == pytest.approx(94.0664, abs=1e-9)
    cols, _ = load_table()
    best = int(np.nanargmax(cols["baseline_accuracy"]))
    assert bench.space.to_str(bench.space.from_id(best)) == BEST
    arch = bench.space.from_str(BEST)
    assert bench.report(arch)["baseline_accuracy"] == pytest.approx(94.0664, abs=1e-9)
    assert bench.evaluate(arch).metrics["baseline_accuracy"] == pytest.approx(94.0664, abs=1e-9)


# --------------------------------------------------------------------------- cache


def _corrupt(kind: str, raw: bytes) -> bytes:
    if kind == "truncated":
        return raw[: len(raw) // 2]
    if kind == "empty":
        return b""
    if kind == "garbage":
        return b"not a numpy file" * 100
    if kind == "flipped":
        mid = len(raw) // 3
        return raw[:mid] + bytes(b ^ 0xFF for b in raw[mid : mid + 64]) + raw[mid + 64 :]
    if kind == "header-only":
        return raw[:30]
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def good_cache(tmp_path_factory):
    """``(columns, cache file bytes, provenance)`` built once in a fresh cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("BENCHLAB_DATA", str(folder))
        cols, provenance = load_table()
    (cache,) = (folder / "analognas").glob("table-*.npz")
    assert provenance["sha256"][:16] in cache.name
    return cols, cache.name, cache.read_bytes()


def _install(tmp_path, monkeypatch, good_cache, data: bytes) -> Path:
    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    cache = tmp_path / "analognas" / good_cache[1]
    cache.parent.mkdir(parents=True)
    cache.write_bytes(data)
    return cache


@pytest.mark.parametrize(
    "kind",
    [
        "truncated",
        "garbage",
        pytest.param("empty", marks=pytest.mark.slow),
        pytest.param("flipped", marks=pytest.mark.slow),
        pytest.param("header-only", marks=pytest.mark.slow),
    ],
)
def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch, good_cache, kind):
    reference, _, good = good_cache
    cache = _install(tmp_path, monkeypatch, good_cache, _corrupt(kind, good))
    cols, _ = load_table()
    assert set(cols) == set(reference)
    for k in reference:
        np.testing.assert_array_equal(cols[k], reference[k])
    assert cache.read_bytes() == good  # the cache file was written again
    with np.load(cache, allow_pickle=False) as z:
        assert set(z.files) >= set(METRICS)


def test_cache_missing_columns_is_rebuilt(tmp_path, monkeypatch, good_cache):
    reference, _, good = good_cache
    buf = io.BytesIO()
    np.savez(buf, baseline_accuracy=reference["baseline_accuracy"])
    cache = _install(tmp_path, monkeypatch, good_cache, buf.getvalue())
    cols, _ = load_table()
    assert set(cols) >= set(METRICS)
    assert cache.read_bytes() == good


def test_cache_is_used(tmp_path, monkeypatch, good_cache):
    reference, _, _ = good_cache
    # a cache with a marked column is read as it is, not rebuilt from data.anb
    marked = dict(reference)
    marked["ptq_accuracy"] = np.full(15625, 12.5)
    buf = io.BytesIO()
    np.savez(buf, **marked)
    cache = _install(tmp_path, monkeypatch, good_cache, b"")
    _table.write_checked_file(cache, buf.getvalue())  # a cache written as load_table writes it (sha256 sidecar)
    again, _ = load_table()
    assert (again["ptq_accuracy"] == 12.5).all()
    np.testing.assert_array_equal(again["baseline_accuracy"], reference["baseline_accuracy"])


# --------------------------------------------------------------------------- benchmark API


def test_unknown_objective_lists_choices():
    with pytest.raises(InvalidConfig) as info:
        AnalogNAS(objective="accuracy")
    msg = str(info.value)
    assert "'accuracy'" in msg
    for name in METRICS:
        assert name in msg
    with pytest.raises(InvalidConfig):
        AnalogNAS(objective=[])
    with pytest.raises(InvalidConfig):
        benchlab.make_benchmark("analognas", {"objective": "nope"}, cache=False)
    with pytest.raises(InvalidConfig):
        benchlab.make_benchmark("analognas", {"objectve": "baseline_accuracy"}, cache=False)


def test_cost_split_and_description(bench):
    arch = bench.space.from_str(BEST)
    ev = bench.evaluate(arch)
    assert isinstance(ev, Evaluation)
    assert ev.cost == 1.0
    assert set(ev.metrics) == {"baseline_accuracy"}  # no test-only extras leak to strategies
    assert bench.cost_unit == "evaluation"
    assert "no validation split" in bench.visible_split
    described = bench.describe()
    assert "no validation split" in described["visible_split"]
    assert described["space_size"] == 15625
    assert described["cost_unit"] == "evaluation"
    result = benchlab.run(benchlab.RunSpec("analognas", "random_search", max_evaluations=50))
    assert result.summary["simulated_time"] == 50.0
    assert (result.columns["cost"] == 1.0).all()
    assert "no validation split" in result.summary["benchmark"]["visible_split"]


def test_evaluate_many_matches_evaluate(bench):
    rng = np.random.default_rng(0)
    archs = [bench.space.sample(rng) for _ in range(200)]
    many = bench.evaluate_many(archs)
    assert many == [bench.evaluate(a) for a in archs]
    assert all(e.cost == 1.0 for e in many)


def test_multi_objective_and_other_metrics():
    b = AnalogNAS(objective=["analog_accuracy", "baseline_accuracy"])
    assert [o.name for o in b.objectives] == ["analog_accuracy", "baseline_accuracy"]
    assert all(o.direction == "max" for o in b.objectives)
    ev = b.evaluate((3, 3, 3, 1, 2, 3))
    assert set(ev.metrics) == {"analog_accuracy", "baseline_accuracy"}
    assert b.report_metric == "analog_accuracy"
    assert b.optimum("analog_accuracy") == max(b.report(a)["analog_accuracy"] for a in b.space.enumerate())


def test_invalid_queries(bench):
    with pytest.raises(InvalidArchitecture):
        bench.evaluate((5, 0, 0, 0, 0, 0))
    with pytest.raises(InvalidArchitecture):
        bench.report((0, 0, 0))
    with pytest.raises(InvalidConfig, match="fidelity"):
        bench.evaluate((0,) * 6, fidelity=200)
    with pytest.raises(InvalidConfig, match="nope"):
        bench.optimum("nope")
    with pytest.raises(InvalidConfig):
        bench.optimum("analog_drift_60_std")


def test_table_values_are_sane(bench):
    cols, prov = load_table()
    assert prov["sha256"] == _table.PINNED_SHA256["0.1.3"]
    assert prov["version"] == "0.1.3"
    for name in METRICS:
        col = cols[name]
        assert col.shape == (15625,)
        assert np.isfinite(col).all(), name
        assert 0 <= col.min() and col.max() <= 100, name
    # a cell with no path from input to output cannot beat chance by much
    assert bench.report((0,) * 6)["baseline_accuracy"] < 20


def test_a_tampered_cache_is_rebuilt_not_served(tmp_path, monkeypatch):
    """The npz cache carries a sha256 sidecar: a flipped byte or a symlink means rebuild."""
    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    cols, _ = _table.load_table()
    (cache,) = (tmp_path / "analognas").glob("table-*.npz")
    assert (cache.parent / (cache.name + ".sha256")).is_file()
    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cache.write_bytes(bytes(data))
    again, _ = _table.load_table()
    assert all(np.array_equal(cols[k], again[k], equal_nan=True) for k in cols)
    assert _table.read_checked_file(cache) is not None  # rewritten with a matching sidecar
    target = tmp_path / "elsewhere.npz"
    cache.rename(target)
    cache.symlink_to(target)
    assert _table.read_checked_file(cache) is None
