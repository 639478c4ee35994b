"""TransNAS-Bench-101: the micro and macro spaces, their tables, benchmarks and the
``tnb101-correlation`` protocol.

Space tests run everywhere; tests marked ``data`` read ``../shared/data`` (through the
session's ``built_tables``) and skip cleanly when it is absent.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import re
import zipfile
from collections import deque
from types import MappingProxyType

import numpy as np
import pytest

import benchlab
import benchlab.testing as bt
from benchlab.ext import PROTOCOLS
from benchlab import DataError, InvalidArchitecture, InvalidConfig, RunSpec, make_benchmark, make_strategy, run
from benchlab.benchmarks.tnb101 import TASKS, TNB101MacroSpace, TNB101MicroSpace, build_macro, correlation
from benchlab.benchmarks.tnb101._build import read_zip

ZIPS = {"micro": "tnb101/naslib_tnb101_micro_zen.zip", "macro": "tnb101/naslib_tnb101_macro_zen.zip"}


@pytest.fixture
def data(built_tables, shared_data, monkeypatch):
    """The session's data folder with every registered table built from ../shared/data."""
    monkeypatch.setenv("BENCHLAB_DATA", str(built_tables))
    return built_tables


# --------------------------------------------------------------------------- spaces (no data)


def test_micro_space_official_strings():
    s = TNB101MicroSpace()
    assert s.size == 4096 and s.choices()[0] == ("edge 1<-0", ("none", "skip_connect", "conv_1x1", "conv_3x3"))
    # the README of yawen-d/TransNASBench: node1 = skip(node0); node2 = none(node0) + conv1x1(node1); node3 = 3x conv3x3
    assert s.from_str("64-41414-1_02_333") == (1, 0, 2, 3, 3, 3)
    assert s.describe_arch((1, 0, 2, 3, 3, 3))["edge 2<-1"] == "conv_1x1"
    for text, index in {"64-41414-0_00_000": 0, "64-41414-0_00_001": 1, "64-41414-1_00_000": 4**5,
                        "64-41414-3_33_333": 4095}.items():  # fmt: skip
        arch = s.from_str(text)
        assert s.to_id(arch) == index and s.from_id(index) == arch and s.to_str(arch) == text
    assert [s.to_str(a) for a in s.enumerate()][:3] == ["64-41414-0_00_000", "64-41414-0_00_001", "64-41414-0_00_002"]
    for bad in ("64-41414-4_00_000", "64-41414-1_02_33", "64-4141-1_02_333", "64-41414-102333", "64-41414-1_02_333 ",
                "32-41414-1_02_333", "1_02_333", None, 1023):  # fmt: skip
        with pytest.raises(InvalidArchitecture):
            s.from_str(bad)
    # path encoding: the all-conv3x3 cell has sequences of 1, 2 (two routes) and 3 convs; a zero-output cell none
    assert s.encode((3,) * 6, "path").sum() == 3 and s.encode((0,) * 6, "path").sum() == 0
    assert s.encode((0, 0, 0, 1, 0, 0), "path").tolist().index(1.0) == 0  # 0->3 by skip
    assert s.encode((1, 2, 3, 0, 0, 0), "onehot").shape == (24,)
    assert isinstance(s.all_archs, tuple) and isinstance(s.ids, MappingProxyType)
    assert len(pickle.dumps(s)) < 2000


def test_macro_space_official_strings_and_constraints():
    s = TNB101MacroSpace()
    assert s.size == 3256 == len(set(s.enumerate()))
    lengths = [len(s.modules(a)) for a in s.enumerate()]
    assert [lengths.count(n) for n in (4, 5, 6)] == [210, 750, 2296]  # sum over lengths of C(down) x C(channel)
    assert lengths == sorted(lengths)
    # the README's example, and the official API's index-1 network '64-2311-basic'
    assert s.from_str("64-1234-basic") == (0, 1, 2, 3, 4, 4) and s.modules((0, 1, 2, 3, 4, 4)) == (1, 2, 3, 4)
    for text in ("64-2311-basic", "64-4111-basic", "64-123412-basic", "64-41414-basic"):
        assert s.to_str(s.from_str(text)) == text
    assert s.to_str(s.from_id(0)) == "64-1114-basic"
    for bad, why in {"64-1111-basic": "downsamples 0", "64-4444-basic": "doubles its channels 4",
                     "64-333334-basic": "downsamples 6", "64-123-basic": None, "64-1234567-basic": None,
                     "64-1234-BASIC": None, "64-1254-basic": None, "64-1234-3_33_333": None}.items():  # fmt: skip
        with pytest.raises(InvalidArchitecture, match=why):
            s.from_str(bad)
    for bad in ((0, 1, 2, 3, 4, 0), (0, 1, 2, 4, 4, 4), (0, 1, 2, 3), [0, 1, 2, 3, 4, 4], (True, 1, 2, 3, 4, 4)):
        with pytest.raises(InvalidArchitecture):
            s.validate(bad)
    # the categorical view spells every skeleton; 3,256 of its 6,400 tuples are skeletons
    radix = [len(o) for _, o in s.choices()]
    assert radix == [4, 4, 4, 4, 5, 5] and s.choices_are_archs
    rows = s.allowed_choices()
    assert rows.shape == (3256, 6) and not rows.flags.writeable
    assert [tuple(r) for r in rows.tolist()] == list(s.enumerate())
    # neighbours: one decision changed, still a skeleton; the graph is connected
    arch = s.from_str("64-1234-basic")
    nb = s.neighbors(arch)
    assert s.from_str("64-12341-basic") in nb and s.from_str("64-1134-basic") in nb
    assert all(sum(x != y for x, y in zip(arch, b)) == 1 for b in nb)
    seen, todo = {arch}, deque([arch])
    while todo:
        for b in s.neighbors(todo.popleft()):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    assert len(seen) == 3256
    assert s.encode(arch, "onehot").shape == (26,) and s.encode(arch, "onehot").sum() == 6
    assert isinstance(s.all_archs, tuple) and isinstance(s.ids, MappingProxyType)
    assert len(pickle.dumps(s)) < 2000


@pytest.mark.parametrize("space", [TNB101MicroSpace(), TNB101MacroSpace()], ids=lambda s: s.name)
def test_spaces_conform(space):
    assert set(bt.check_space(space).values()) == {"passed"}


# --------------------------------------------------------------------------- tables and benchmarks (data)


def _raw_records(folder, kind: str) -> dict:
    """``{task: {official string: record}}`` read straight from the zip (independently of the builder)."""
    out: dict = {}
    with zipfile.ZipFile(folder / ZIPS[kind]) as zf:
        for name in zf.namelist():
            m = re.search(r"--(\w+)--\d+\.json$", name)
            if m is None:
                continue
            for rec in json.loads(zf.read(name)):
                digits = json.loads(rec["arch"].replace("(", "[").replace(")", "]"))
                text = ("64-41414-{}_{}{}_{}{}{}" if kind == "micro" else "64-" + "{}" * len(digits) + "-basic").format(*digits)
                out.setdefault(m.group(1), {})[text] = rec
    return out


@pytest.mark.data
@pytest.mark.parametrize("kind", ["micro", "macro"])
def test_benchmark_values_match_the_files(data, shared_data, kind):
    raw = _raw_records(shared_data, kind)
    assert set(raw) == set(TASKS)
    rng = np.random.default_rng(0)
    for task, records in raw.items():
        bench = make_benchmark(f"tnb101-{kind}", {"task": task, "objective": [TASKS[task][0], "zen"]}, cache=False)
        space = bench.space
        assert len(records) == space.size
        texts = sorted(records)
        for text in [texts[i] for i in rng.choice(len(texts), 10, replace=False)]:
            ev = bench.evaluate(space.from_str(text))
            rec = records[text]
            assert ev.metrics == {TASKS[task][0]: rec["val_accuracy"], "zen": rec["zen"]["score"]} and ev.cost == 1.0
            assert bench.report(space.from_str(text)) == ev.metrics


@pytest.mark.data
def test_benchmarks_directions_splits_and_errors(data):
    micro = make_benchmark("tnb101-micro", {"task": "class_scene"}, cache=False)
    # a known record: NASLib idx 1000, arch (1, 3, 0, 3, 2, 1), class_scene
    assert micro.evaluate(micro.space.from_str("64-41414-1_30_321")).metrics == {"valid_top1": 52.950836181640625}
    layout = make_benchmark("tnb101-macro", {"task": "room_layout"}, cache=False)
    obj = layout.objectives[0]
    assert (obj.name, obj.direction) == ("valid_neg_loss", "max") and "NEGATED" in obj.description
    values = [layout.evaluate(a).metrics["valid_neg_loss"] for a in layout.space.enumerate()]
    assert max(values) < 0 and layout.optimum("valid_neg_loss") == max(values)
    for bench in (micro, layout):
        assert bench.report_split == "validation" and bench.visible_split.startswith("validation (")
        assert "no test split" in bench.visible_split and "no test split" in bench.description
        assert bench.cost_unit == "evaluation" and bench.fidelity is None
        d = bench.describe()
        assert d["task"] in TASKS and d["report_metric"] == bench.objectives[0].name
    # the zen score: an objective of its own, maximised; -1e8 marks NASLib's failures (cells with a zero output)
    zen = make_benchmark("tnb101-micro", {"task": "jigsaw", "objective": "zen"}, cache=False)
    failed = [a for a in zen.space.enumerate() if zen.evaluate(a).metrics["zen"] == -1e8]
    assert len(failed) == 169 and (0, 0, 0, 0, 0, 0) in failed
    acc = make_benchmark("tnb101-micro", {"task": "jigsaw"}, cache=False)
    assert len({acc.evaluate(a).metrics["valid_top1"] for a in failed if a[3] == a[4] == a[5] == 0}) == 1
    with pytest.raises(InvalidConfig, match="no objective 'valid_top1'"):
        make_benchmark("tnb101-micro", {"task": "normal", "objective": "valid_top1"}, cache=False)
    with pytest.raises(InvalidConfig, match="task"):
        make_benchmark("tnb101-macro", {"task": "depth"}, cache=False)


def test_unbuilt_table_names_the_build_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match="benchlab data build tnb101-macro"):
        make_benchmark("tnb101-macro", {}, cache=False)


@pytest.mark.data
def test_builder_rejects_an_incomplete_export(shared_data, tmp_path):
    src = shared_data / ZIPS["macro"]
    out = tmp_path / "trimmed.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            if "jigsaw--0.json" not in name:
                zout.writestr(name, zin.read(name))
    with pytest.raises(DataError, match="task jigsaw covers 3006 of the 3256"):
        read_zip(out, TNB101MacroSpace())
    with pytest.raises(DataError, match="missing"):
        build_macro(tmp_path, root=tmp_path / "tables")


# The zoo on both spaces: everything that needs no training and no fidelity axis runs.
# Multi-fidelity strategies decline (the export has one best-epoch value per task) with an
# error naming the problem; those are checked for that message. (Optuna's TPE draws from
# the macro space's categorical view, where about half the tuples are not skeletons: see
# test_tpe_does_not_stall_on_invalid_macro_tuples.)
@pytest.mark.data
@pytest.mark.parametrize("kind", ["micro", "macro"])
def test_every_strategy_runs(data, kind):
    single = make_benchmark(f"tnb101-{kind}", {"task": "jigsaw"}, cache=False)
    multi = make_benchmark(f"tnb101-{kind}", {"task": "jigsaw", "objective": ["valid_top1", "zen"]}, cache=False)
    ran = []
    for name in benchlab.STRATEGIES.names():
        if name.startswith("_"):
            continue
        strategy = make_strategy(name, {})
        tags = set(strategy.tags)
        if "needs_training" in tags:
            continue
        bench = multi if "multi_objective" in tags else single
        result = run(RunSpec(f"tnb101-{kind}", name, max_evaluations=12), benchmark=bench, strategy=strategy)
        if "multi_fidelity" in tags:
            assert "no fidelity axis" in result.summary["error"]["message"], name
            continue
        assert result.summary["status"] != "error", (name, result.summary.get("error"))
        assert len(result.columns["value"]) == 12
        ran.append(name)
    assert {"random_search", "regularized_evolution", "local_search", "bananas", "reinforce", "smac_rf"} <= set(ran)


@pytest.mark.data
@pytest.mark.parametrize("strategy", ["tpe", "optuna"])
def test_tpe_does_not_stall_on_invalid_macro_tuples(data, strategy):
    """The adapter tells an invalid tuple as a pruned trial, which TPE ranks among the worst;
    told as failed, TPE ignored it and re-proposed it until giving up (every run at 60 evaluations)."""
    result = run(RunSpec("tnb101-macro", strategy, {"task": "jigsaw"}, max_evaluations=80))
    assert result.summary["status"] == "ok", result.summary.get("error")
    assert len(result.columns["value"]) == 80


# --------------------------------------------------------------------------- the protocol (data)


@pytest.mark.data
def test_correlation_protocol_writes_three_files(data, tmp_path):
    result = correlation(root=tmp_path)
    folder = tmp_path / "tnb101-correlation"
    assert {p.name for p in folder.iterdir()} == {"tnb101-correlation.md", "tnb101-correlation.csv",
                                                   "tnb101-correlation.png"}  # fmt: skip
    assert (folder / "tnb101-correlation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(io.StringIO((folder / "tnb101-correlation.csv").read_text())))
    assert len(rows) == 2 * (49 + 7)
    text = (folder / "tnb101-correlation.md").read_text()
    assert "none printed" in text and "## micro (4,096 architectures)" in text and "## macro (3,256" in text
    for space, res in result["results"].items():
        m = res["matrix"]
        assert m.shape == (7, 7) and np.allclose(m, m.T) and np.allclose(np.diag(m), 1.0)
        assert (m > -1).all() and (m <= 1 + 1e-12).all()
        # independent check of one entry: Spearman = Pearson of the ranks (no ties in these metrics)
        bench_a = make_benchmark(f"tnb101-{space}", {"task": "class_scene"}, cache=False)
        bench_b = make_benchmark(f"tnb101-{space}", {"task": "jigsaw"}, cache=False)
        archs = list(bench_a.space.enumerate())
        a = np.array([e.metrics["valid_top1"] for e in bench_a.evaluate_many(archs)])
        b = np.array([e.metrics["valid_top1"] for e in bench_b.evaluate_many(archs)])
        from scipy.stats import spearmanr

        assert abs(spearmanr(a, b)[0] - m[0, 2]) < 1e-9
    assert PROTOCOLS.get("tnb101-correlation").run is correlation
