"""NATS-Bench size space, NAS-Bench-Macro and Channel-Bench-Macro: spaces, tables, benchmarks.

Tests marked ``data`` read ``../shared/data`` (through the session's ``built_tables``,
or directly) and skip cleanly when it is absent; the space tests and the unbuilt-table
errors run everywhere.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import itertools
import json
import pickle
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import benchlab
import benchlab.testing as bt
from benchlab import DataError, InvalidArchitecture, InvalidConfig
from benchlab._tables import TABLE_BUILDERS, open_table
from benchlab.benchmarks import macro, nats_sss
from benchlab.benchmarks.macro import ChannelBenchMacro, ChannelSpace, MacroSpace, NASBenchMacro
from benchlab.benchmarks.nats_sss import NATSSize, NATSSizeSpace

NATS_OPTIMA = {"cifar10": 93.65, "cifar100": 71.34, "ImageNet16-120": 47.40}  # ../shared/data/README.md
NATS_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
MACRO_FILES = {"nas-bench-macro": "nas-bench-macro_cifar10.json", "mobilenet": "channel-bench-macro_mobilenet.json",
               "resnet": "channel-bench-macro_resnet.json"}  # fmt: skip


@pytest.fixture
def data(built_tables, shared_data, monkeypatch):
    """The session's data folder with every registered table built from ../shared/data."""
    monkeypatch.setenv("BENCHLAB_DATA", str(built_tables))
    return built_tables


@functools.lru_cache(maxsize=None)
def _raw_json(folder: Path, name: str) -> dict:
    with open(folder / "macro" / MACRO_FILES[name]) as f:
        return json.load(f)


# --------------------------------------------------------------------------- spaces (no data)


def test_nats_space_strings_and_official_index():
    s = NATSSizeSpace()
    assert s.size == 32768 and s.choices()[0] == ("layer 1 channels", (8, 16, 24, 32, 40, 48, 56, 64))
    cases = {"8:8:8:8:8": 0, "8:8:8:8:16": 1, "16:8:8:8:8": 8**4, "8:64:8:8:24": 7 * 8**3 + 2, "64:64:64:64:64": 32767}
    for text, index in cases.items():
        arch = s.from_str(text)
        assert s.to_id(arch) == index and s.from_id(index) == arch and s.to_str(arch) == text
    assert s.channels(s.from_id(32767)) == (64,) * 5
    every = list(s.enumerate())
    assert every == [tuple(c // 8 - 1 for c in chs) for chs in itertools.product(range(8, 72, 8), repeat=5)]
    assert all(s.to_id(s.from_str(s.to_str(a))) == i for i, a in enumerate(every))
    for bad in ("64:64:64:64", "64:64:64:64:65", "064:64:64:64:64", " 64:64:64:64:64", "64,64,64,64,64", 64, None):
        with pytest.raises(InvalidArchitecture):
            s.from_str(bad)
    for bad in ((8, 0, 0, 0, 0), (0, 0, 0, 0), [0] * 5, (0, 0, 0, 0, "0")):
        with pytest.raises(InvalidArchitecture):
            s.to_id(bad)
    with pytest.raises(InvalidArchitecture):
        s.from_id(32768)
    assert s.from_id(np.int64(5)) == s.from_id(5)
    assert len(pickle.dumps(s)) < 2000  # lookup tables are shared, not pickled


def test_nas_bench_macro_space():
    s = MacroSpace()
    assert s.size == 3**8 and s.choices()[0] == ("layer 1", ("identity", "mb3_k3", "mb6_k5"))
    for text, index in {"00000000": 0, "00000001": 1, "10000000": 3**7, "02012100": 0 * 3**7 + 2 * 3**6 + 0 + 1 * 3**4 + 2 * 3**3 + 1 * 3**2,
                        "22222222": 6560}.items():  # fmt: skip
        arch = s.from_str(text)
        assert s.to_id(arch) == index and s.to_str(s.from_id(index)) == text
    assert [s.to_str(a) for a in s.enumerate()] == ["".join(p) for p in itertools.product("012", repeat=8)]
    # identities after a stage's first layer are no-ops and move to the end of the stage
    assert s.to_str(s.canonical(s.from_str("02012100"))) == "02012100"
    assert s.to_str(s.canonical(s.from_str("02102100"))) == "02120100"
    assert s.to_str(s.canonical(s.from_str("00202010"))) == "00220010"
    assert len({s.canonical(a) for a in s.enumerate()}) == 3969
    for bad in ("0201210", "020121003", "02012130", "0201210a", "", 2012100):
        with pytest.raises(InvalidArchitecture):
            s.from_str(bad)


@pytest.mark.parametrize("model", ["mobilenet", "resnet"])
def test_channel_bench_macro_space(model):
    s = ChannelSpace(model)
    assert s.size == 4**7 and s.name == f"channel-bench-macro-{model}"
    for text, index in {"1111111": 0, "1111112": 1, "2111111": 4**6, "4444444": 16383}.items():
        assert s.to_id(s.from_str(text)) == index and s.to_str(s.from_id(index)) == text
    arch = s.from_str("4432214")
    assert s.to_id(arch) == int("3321103", 4)
    widths = {"mobilenet": (128, 768, 576, 384, 128, 384, 1024), "resnet": (256, 256, 192, 256, 256, 128, 512)}
    assert s.widths(arch) == widths[model]
    assert s.widths(s.from_str("1111111")) == tuple(m // 4 for m in macro.CHANNEL_MAX[model])
    for bad in ("0432214", "5432214", "443221", "44322144", "4432214 ", None):
        with pytest.raises(InvalidArchitecture):
            s.from_str(bad)
    with pytest.raises(InvalidConfig, match="no model"):
        ChannelSpace("vgg")


def test_public_names_exist():
    for module in (nats_sss, macro):
        assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert {"nats-sss", "nas-bench-macro", "channel-bench-macro"} <= set(benchlab.BENCHMARKS.names())
    assert {"nats-sss", "nas-bench-macro", "channel-bench-macro"} <= set(TABLE_BUILDERS)


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [(NATSSize, {}, "nats-sss"), (NASBenchMacro, {}, "nas-bench-macro"),
     (ChannelBenchMacro, {"model": "resnet"}, "channel-bench-macro")],
)  # fmt: skip
def test_unbuilt_table_names_the_build_command(tmp_path, monkeypatch, cls, kwargs, name):
    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match=rf"benchlab data build {name} --source DIR"):
        cls(**kwargs)
    with pytest.raises(DataError):
        benchlab.make_benchmark(name, kwargs, cache=False)


# --------------------------------------------------------------------------- parameter formulas
# Parameter counts written from the networks' definitions (NATS-Bench ``infer.shape.tiny``,
# the Channel-Bench-Macro and NAS-Bench-Macro ``model.py``). They pin the meaning and
# order of every digit / channel field: a wrong layer order would not reproduce the files.


def _nats_params(channels: np.ndarray, classes: int) -> np.ndarray:
    c0, c1, c2, c3, c4 = (channels[:, i].astype(np.int64) for i in range(5))

    def cell(ci, co):  # the fixed cell: 5 ReLU-conv3x3-BN (2 of them read the cell input) + a skip from the input
        skip = np.where(ci == co, 0, ci * co + 2 * co)  # skip_connect with a width change: 1x1 conv + BN
        return 2 * (9 * ci * co + 2 * co) + 3 * (9 * co * co + 2 * co) + skip

    def res(ci, co):  # residual reduction block: two conv3x3-BN, avgpool + 1x1 conv shortcut
        return 9 * ci * co + 2 * co + 9 * co * co + 2 * co + ci * co

    stem = 27 * c0 + 2 * c0
    head = 2 * c4 + c4 * classes + classes
    return stem + cell(c0, c0) + res(c0, c1) + cell(c1, c2) + res(c2, c3) + cell(c3, c4) + head


def _mobilenet_params(w) -> int:
    def mb(i, h, o):  # 1x1 expand + BN, depthwise 3x3 + BN, 1x1 project + BN
        return i * h + 2 * h + 9 * h + 2 * h + h * o + 2 * o

    c0, c1, c2, c3, c4, c5, c6 = w
    return 29 * c0 + mb(c0, c1, c0) + mb(c0, c2, c0) + mb(c0, c3, c4) + mb(c4, c5, c4) + c4 * c6 + 2 * c6 + 10 * c6 + 10


def _resnet_params(w) -> int:
    def block(i, h, o):  # conv3x3 + BN, conv3x3 + BN
        return 9 * i * h + 2 * h + 9 * h * o + 2 * o

    c0, c1, c2, c3, c4, c5, c6 = w
    body = block(c0, c1, c0) + block(c0, c2, c0) + block(c0, c3, c4) + block(c4, c5, c4) + block(c4, c6, c4)
    return 29 * c0 + body + 10 * c4 + 10


def _macro_params(arch) -> int:
    def op(o, ci, co, stride):
        if o == 0:  # identity; a strided or widening one is a 1x1 conv + BN
            return ci * co + 2 * co if (stride == 2 or ci != co) else 0
        t, k = (3, 3) if o == 1 else (6, 5)  # MobileNetV2 block
        h = ci * t
        return ci * h + 2 * h + k * k * h + 2 * h + h * co + 2 * co

    total, c, pos = 27 * 32 + 2 * 32, 32, 0
    for n in macro.MACRO_STAGES:
        for j in range(n):
            total += op(arch[pos], c, 2 * c, 2) if j == 0 else op(arch[pos], c, c, 1)
            c = 2 * c if j == 0 else c
            pos += 1
    return total + c * 1280 + 2 * 1280 + 1280 * 10 + 10


@pytest.mark.data
def test_nats_index_convention_reproduces_every_parameter_count(data):
    t = open_table("nats-sss")
    channels = np.array([NATSSizeSpace().channels(a) for a in NATSSizeSpace().enumerate()])
    for ds, k in NATS_CLASSES.items():
        params = np.asarray(t.column(f"{ds}/params"))
        assert np.array_equal(params, _nats_params(channels, k)), ds
        assert int(params.argmax()) == 32767 and int(params.argmin()) == 0  # "64:64:64:64:64" is the largest net
        grid = params.reshape((8,) * 5)
        assert all((np.diff(grid, axis=ax) > 0).all() for ax in range(5))  # monotone in every channel choice
    assert np.array_equal(np.asarray(t.column("official_index")), np.arange(32768))


@pytest.mark.data
def test_macro_digit_meaning_reproduces_every_parameter_count(data):
    t = open_table("nas-bench-macro")
    s = MacroSpace()
    assert np.asarray(t.column("cifar10/params")).tolist() == [_macro_params(a) for a in s.enumerate()]
    t = open_table("channel-bench-macro")
    for model, formula in (("mobilenet", _mobilenet_params), ("resnet", _resnet_params)):
        s = ChannelSpace(model)
        assert np.asarray(t.column(f"{model}/params")).tolist() == [formula(s.widths(a)) for a in s.enumerate()]


# --------------------------------------------------------------------------- tables


@pytest.mark.data
def test_build_writes_self_describing_tables(tmp_path, shared_data):
    shapes = {"nats-sss": 32768, "nas-bench-macro": 6561, "channel-bench-macro": 16384}
    for name, n in shapes.items():
        messages = []
        folder = TABLE_BUILDERS[name].build(shared_data, root=tmp_path, progress=messages.append)
        assert folder == tmp_path / name and any("checking" in m for m in messages)
        t = open_table(name, root=tmp_path)
        assert t.n_rows == n and t.verify() == []
        prov = t.meta["provenance"]
        assert prov and all(p["url"].startswith("https://raw.githubusercontent.com/") and len(p["sha256"]) == 64 for p in prov)
        for col in t.columns.values():
            assert col.description
            if col.metric.startswith("accuracy"):
                assert col.split == "test" and col.unit == "%" and col.dataset and col.fidelity in (50, 60, 90)
    nats = open_table("nats-sss", root=tmp_path)
    assert {c.fidelity for c in nats.columns.values() if c.metric == "accuracy"} == {90}
    assert {c.dataset for c in nats.columns.values() if c.metric == "accuracy"} == set(NATS_OPTIMA)
    m = open_table("nas-bench-macro", root=tmp_path)
    per_seed = m.columns["cifar10/test_acc_best_per_seed@50"]
    assert per_seed.axes == ("arch", "seed") and m.column(per_seed.name).shape == (6561, 3)
    assert len(np.unique(m.column("canonical_id"))) == 3969
    c = open_table("channel-bench-macro", root=tmp_path)
    assert {k.split("/")[0] for k in c.columns} == {"mobilenet", "resnet"}
    assert c.columns["resnet/test_acc_best_per_seed@60"].axes == ("arch", "seed")


@pytest.mark.data
def test_nats_optima_match_the_readme_and_spot_checks_match_the_csv(data, shared_data):
    for ds, best in NATS_OPTIMA.items():
        b = NATSSize(dataset=ds)
        assert b.optimum("test_acc") == pytest.approx(best, abs=1e-6)
        assert open_table("nats-sss").optimum(f"{ds}/test_acc@90") == pytest.approx(best, abs=1e-6)
        with open(shared_data / "nats-sss" / f"nats_sss_{ds}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        for i in (0, 1, 4097, 20000, 32698, 32767):
            arch = b.space.from_id(i)
            rep = b.report(arch)
            assert int(rows[i]["index"]) == i
            assert rep["test_acc"] == float(rows[i]["accuracy"]) == b.evaluate(arch).metrics["test_acc"]
            assert rep["params"] == float(rows[i]["num_param"])
        assert b.optimum("params") == float(rows[0]["num_param"])
    b = NATSSize()
    assert b.report(b.space.from_str("64:64:64:64:64")) == {"test_acc": 93.4, "params": 713674.0}
    assert b.space.to_str(b.space.from_id(32698)) == "64:64:56:64:24"  # the best CIFAR-10 network is not the largest


@pytest.mark.data
@pytest.mark.parametrize("name", ["nas-bench-macro", "mobilenet", "resnet"])
def test_macro_optima_and_spot_checks_match_the_json(data, shared_data, name):
    raw = _raw_json(shared_data, name)
    if name == "nas-bench-macro":
        b, acc, mean = NASBenchMacro(), "test_acc", "mean_acc"
        expected = {"opt": 93.12666320800781, "best": {"22212202", "22212220"}}
    else:
        b, acc, mean = ChannelBenchMacro(model=name), "acc", "mean"
        expected = {"mobilenet": {"opt": 91.88666280110677, "best": {"4444342"}},
                    "resnet": {"opt": 93.89332834879558, "best": {"4344424"}}}[name]  # fmt: skip
    top = max(r[mean] for r in raw.values())
    assert b.optimum("test_acc") == top == expected["opt"]
    assert {k for k, r in raw.items() if r[mean] == top} == expected["best"]
    assert b.optimum("params") == min(r["params"] for r in raw.values())
    assert b.optimum("flops") == min(r["flops"] for r in raw.values())
    keys = sorted(raw)
    for key in keys[:: len(keys) // 7] + [keys[-1], next(iter(raw))]:
        arch = b.space.from_str(key)
        rec = raw[key]
        assert b.report(arch) == {"test_acc": rec[mean], "test_acc_std": rec["std"], "params": rec["params"],
                                  "flops": rec["flops"]}  # fmt: skip
        assert _runs(b, arch) == rec[acc]
        assert b.evaluate(arch).metrics == {"test_acc": rec[mean]}
    with pytest.raises(InvalidConfig, match="uncertainty"):
        b.optimum("test_acc_std")
    with pytest.raises(InvalidConfig, match="no report metric"):
        b.optimum("valid_acc")


@pytest.mark.data
def test_equivalent_macro_strings_share_one_record(data, shared_data):
    raw = _raw_json(shared_data, "nas-bench-macro")
    s = MacroSpace()
    t = open_table("nas-bench-macro")
    canon = np.asarray(t.column("canonical_id"))
    for a in s.enumerate():
        assert raw[s.to_str(a)] == raw[s.to_str(s.canonical(a))]
    assert all(canon[i] == s.to_id(s.canonical(a)) for i, a in enumerate(s.enumerate()))


# --------------------------------------------------------------------------- benchmarks


def _runs(b, arch) -> list:
    """The per-seed accuracies of ``arch`` (the table's per-seed column, read through ``lookup``)."""
    col = "cifar10/test_acc_best_per_seed@50" if b.name == "nas-bench-macro" else f"{b.model}/test_acc_best_per_seed@60"
    return b.lookup(b.space.to_id(arch), col).tolist()


@pytest.mark.data
def test_benchmarks_declare_test_visibility_and_unit_cost(data):
    for b in (NATSSize(), NASBenchMacro(), ChannelBenchMacro(model="resnet")):
        assert b.visible_split.startswith("test (") and b.report_split == "test"
        assert b.cost_unit == "evaluation" and b.fidelity is None
        arch = b.space.sample(np.random.default_rng(0))
        ev = b.evaluate(arch)
        assert ev.cost == 1.0 and ev.seed is None and ev.fidelity is None and list(ev.metrics) == ["test_acc"]
        with pytest.raises(InvalidConfig, match="single fidelity"):
            b.evaluate(arch, 90)
        d = b.describe()
        assert d["report_metric"] == "test_acc" and d["cost_unit"] == "evaluation"


@pytest.mark.data
@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (NATSSize, {"dataset": "cifar10-valid"}, "no dataset"),
        (NATSSize, {"objective": "valid_acc"}, "no objective"),
        (NATSSize, {"objective": []}, "at least one"),
        (NASBenchMacro, {"seed_mode": "random"}, "seed_mode"),
        (NASBenchMacro, {"objective": ["test_acc", "test_acc"]}, "repeat"),
        (ChannelBenchMacro, {"model": "vgg"}, "no model"),
    ],
)
def test_bad_configuration_names_the_choices(data, cls, kwargs, message):
    with pytest.raises(InvalidConfig, match=message):
        cls(**kwargs)


@pytest.mark.data
def test_multi_objective_and_vectorised_queries(data):
    b = NASBenchMacro(objective=["test_acc", "flops"])
    assert [(o.name, o.direction) for o in b.objectives] == [("test_acc", "max"), ("flops", "min")]
    archs = [b.space.from_id(int(i)) for i in np.random.default_rng(1).integers(0, b.space.size, 500)]
    many = b.evaluate_many(archs)
    assert many == [b.evaluate(a) for a in archs]
    assert b.evaluate_many([]) == []
    n = NATSSize(dataset="cifar100", objective=["params", "test_acc"])
    assert n.report_metric == "params" and n.optimum("params") == 12524.0
    archs = list(n.space.enumerate())[::97]
    assert n.evaluate_many(archs) == [n.evaluate(a) for a in archs]
    with pytest.raises(InvalidArchitecture):
        n.evaluate_many([archs[0], (8, 0, 0, 0, 0)])


@pytest.mark.data
@pytest.mark.parametrize("cls, kwargs", [(NASBenchMacro, {}), (ChannelBenchMacro, {"model": "resnet"})])
def test_seed_mode_one_draws_a_training_run_with_the_runs_rng(data, cls, kwargs):
    b, mean = cls(**kwargs, seed_mode="one"), cls(**kwargs)
    archs = [b.space.from_id(int(i)) for i in np.random.default_rng(2).integers(0, b.space.size, 300)]
    first = [b.evaluate(a, rng=np.random.default_rng(7)) for a in archs]
    assert first == [b.evaluate(a, rng=np.random.default_rng(7)) for a in archs]  # deterministic per seed
    rng = np.random.default_rng(3)
    one = [b.evaluate(a, rng=rng) for a in archs]
    for a, ev in zip(archs, one):
        runs = _runs(b, a)
        assert ev.seed in (0, 1, 2) and ev.metrics["test_acc"] == runs[ev.seed]  # one of the training runs
        assert b.report(a) == mean.report(a)  # the report is always the seed mean
        assert b.report(a)["test_acc"] == pytest.approx(sum(runs) / 3, abs=1e-9)
    assert {ev.seed for ev in one} == {0, 1, 2}
    assert b.evaluate_many(archs, rng=np.random.default_rng(3)) == one  # the same draws, vectorised
    s1, s2 = benchlab.RandomStream(5), benchlab.RandomStream(5)
    assert b.evaluate_many(archs[:50], rng=s1) == [b.evaluate(a, rng=s2) for a in archs[:50]]
    with pytest.raises(InvalidConfig, match="rng"):
        b.evaluate(archs[0])
    assert mean.evaluate(archs[0]) == benchlab.Evaluation({"test_acc": mean.report(archs[0])["test_acc"]}, 1.0)


@pytest.mark.data
def test_runs_are_reproducible_end_to_end(data):
    for name, kwargs in (("nats-sss", {"dataset": "ImageNet16-120"}), ("nas-bench-macro", {"seed_mode": "one"}),
                         ("channel-bench-macro", {"model": "mobilenet", "seed_mode": "one"})):  # fmt: skip
        spec = benchlab.RunSpec(name, "regularized_evolution", benchmark_kwargs=kwargs, max_evaluations=60, seed=3)
        a, b = benchlab.run(spec), benchlab.run(spec)
        assert a.summary["status"] == "ok" and a.summary["benchmark"]["cost_unit"] == "evaluation"
        assert a.columns["arch"] == b.columns["arch"] and np.array_equal(a.columns["value"], b.columns["value"])
        assert a.summary["simulated_time"] == 60.0 and a.summary["final"]["regret"] >= 0


@pytest.mark.data
@pytest.mark.parametrize(
    "name, kwargs",
    [("nats-sss", {"dataset": "cifar100"}), ("nas-bench-macro", {"seed_mode": "one"}),
     ("channel-bench-macro", {"model": "resnet"}), ("channel-bench-macro", {"seed_mode": "one"})],
)  # fmt: skip
def test_conformance(data, name, kwargs):
    report = bt.check_benchmark(name, **kwargs)
    assert set(report.values()) == {"passed"}, report


# --------------------------------------------------------------------------- source files


@pytest.mark.data
def test_corrupt_or_missing_source_file_is_named_with_the_fix(tmp_path, shared_data):
    src = tmp_path / "src"
    shutil.copytree(shared_data / "macro", src / "macro")
    victim = src / "macro" / "channel-bench-macro_resnet.json"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"channel-bench-macro_resnet\.json has sha256 .*replace it with https://raw\.githubusercontent\.com/xiusu/Channel-Bench-Macro/4ff596e"):
        macro.build_channel(src, root=tmp_path / "tables")
    assert not (tmp_path / "tables" / "channel-bench-macro").exists()
    with pytest.raises(DataError, match=r"nats_sss_cifar10\.csv is missing.*--download"):
        nats_sss.build(src, root=tmp_path / "tables")
    macro.build_macro(src, root=tmp_path / "tables")  # its own file is intact
    assert open_table("nas-bench-macro", root=tmp_path / "tables").n_rows == 6561


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.data
def test_fetch_downloads_the_pinned_originals(tmp_path, shared_data, monkeypatch):
    """``--download`` against a local mirror laid out as ``/OWNER/REPO/COMMIT/PATH``."""
    mirror = tmp_path / "mirror"
    sources = [s for name in ("nats-sss", "nas-bench-macro", "channel-bench-macro") for s in TABLE_BUILDERS[name].sources]
    for s in sources:
        target = mirror / s.repo / s.commit / s.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / s.local, target)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(mirror)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        dest = tmp_path / "dest"
        for name in ("nats-sss", "nas-bench-macro", "channel-bench-macro"):
            said = []
            assert TABLE_BUILDERS[name].fetch(dest, said.append, base_url=base) == dest
            assert any(base in m for m in said)
        for s in sources:
            assert hashlib.sha256((dest / s.local).read_bytes()).hexdigest() == s.sha256
        said = []
        TABLE_BUILDERS["nas-bench-macro"].fetch(dest, said.append, base_url=base)
        assert said == ["macro/nas-bench-macro_cifar10.json already downloaded"]
        macro.build_macro(dest, root=tmp_path / "tables")
        # an upstream file that changed: refused, nothing kept
        s = TABLE_BUILDERS["channel-bench-macro"].sources[0]
        (mirror / s.repo / s.commit / s.path).write_text("{}")
        fresh = tmp_path / "fresh"
        with pytest.raises(DataError, match="sha256"):
            TABLE_BUILDERS["channel-bench-macro"].fetch(fresh, base_url=base)
        assert not (fresh / s.local).exists()
    finally:
        server.shutdown()
        server.server_close()
