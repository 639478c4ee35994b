"""NAS-Bench-101 data side: TFRecord/CRC-32C, the ModelMetrics protobuf, the importer, the
NASLib table, the benchmark's lookups, and the full-size store's cold load (slow)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _fixtures_nb101 as F
import numpy as np
import pytest

from benchlab import DataError, InvalidArchitecture, InvalidConfig
from benchlab._tables import open_table
from benchlab.benchmarks.nb101 import NB101, import_nb101
from benchlab.benchmarks.nb101._import import decode_spec, encode_spec, hash_bytes
from benchlab.benchmarks.nb101._proto import (
    EvaluationData,
    ModelMetrics,
    decode_model_metrics,
    encode_model_metrics,
    format_row,
    parse_row,
    run_values,
)
from benchlab.benchmarks.nb101._tfrecord import (
    crc32c,
    crc32c_many,
    iter_record_batches,
    iter_records,
    masked_crc32c,
    write_records,
)

ROOT = Path(__file__).resolve().parents[1]


class _Quiet:
    def update(self, n):
        pass

    def close(self):
        pass


def _quiet(total, desc):
    return _Quiet()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHLAB_DATA", str(tmp_path))
    return tmp_path


# -- CRC-32C and TFRecord framing -------------------------------------------------------------


def test_crc32c_known_values_and_vectorised():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720, appendix B.4)
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    rng = np.random.default_rng(0)
    recs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 300, 200)]
    buf = b"".join(recs)
    lens = np.array([len(r) for r in recs])
    many = crc32c_many(buf, np.cumsum(lens) - lens, lens, backend="numpy")
    assert many.tolist() == [crc32c(r) for r in recs]
    assert masked_crc32c(many).tolist() == [masked_crc32c(int(c)) for c in many]


def test_tfrecord_round_trip_and_large_records(tmp_path):
    rng = np.random.default_rng(1)
    recs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 2000, 300)]
    recs.insert(100, b"x" * 70_000)  # longer than a read chunk below, and than the lock-step limit
    path = tmp_path / "a.tfrecord"
    assert write_records(path, recs) == len(recs)
    assert list(iter_records(path)) == recs
    assert [r for b in iter_record_batches(path, chunk_bytes=4096) for r in b] == recs
    # TensorFlow's framing, byte for byte, for one record
    one = tmp_path / "one.tfrecord"
    write_records(one, [b"abc"])
    raw = one.read_bytes()
    assert raw[:8] == (3).to_bytes(8, "little") and raw[12:15] == b"abc" and len(raw) == 19
    assert int.from_bytes(raw[8:12], "little") == masked_crc32c(crc32c(raw[:8]))
    assert int.from_bytes(raw[15:], "little") == masked_crc32c(crc32c(b"abc"))


# -- the ModelMetrics protobuf ----------------------------------------------------------------


def _metrics(path="") -> ModelMetrics:
    return ModelMetrics((EvaluationData(0.0, 0.0, 0.1, 0.1, 0.1), EvaluationData(54.0, 577.9, 0.9, 0.88, 0.87),
                         EvaluationData(108.0, 1155.85302734375, 1.0, 0.9376001358032227, 0.9311898946762085, path)),
                        2694282, 1769.1)  # fmt: skip


def test_proto_round_trip_and_wire_bytes():
    m = _metrics("gs://bucket/model.ckpt-1234")
    blob = encode_model_metrics(m)
    assert decode_model_metrics(blob) == m
    # hand-checked wire bytes: evaluation_data = field 1, length-delimited (0x0a); first double key 0x09
    assert blob[0] == 0x0A and blob[2] == 0x09
    assert blob[-9] == 0x19 and blob.find(bytes([0x10]) + bytes([0x8A, 0xB9, 0xA4, 0x01])) > 0  # 2694282 as varint
    neg = ModelMetrics(m.evaluation_data, -7, 0.0)
    assert decode_model_metrics(encode_model_metrics(neg)).trainable_parameters == -7
    # unknown fields (a varint 7, a fixed32 8, bytes 9) are skipped like the protobuf runtime does
    extra = blob + bytes([7 << 3 | 0, 5, 8 << 3 | 5, 1, 2, 3, 4, 9 << 3 | 2, 2, 0x61, 0x62])
    assert decode_model_metrics(extra) == m
    for bad in (blob[:-3], blob + b"\x0a\x40", b"\x0b"):
        with pytest.raises(ValueError, match="ModelMetrics"):
            decode_model_metrics(bad)


def test_run_values_fast_path_equals_general_decoder():
    for m in (_metrics(), _metrics("ckpt"), ModelMetrics(_metrics().evaluation_data, 2**31 - 1, 3.0)):
        blob = encode_model_metrics(m)
        params, half, final = run_values(blob)
        h, f = m.evaluation_data[1], m.evaluation_data[2]
        assert params == m.trainable_parameters
        assert half == (h.train_accuracy, h.validation_accuracy, h.test_accuracy, h.training_time)
        assert final == (f.train_accuracy, f.validation_accuracy, f.test_accuracy, f.training_time)
    with pytest.raises(ValueError, match="3"):
        run_values(encode_model_metrics(ModelMetrics(_metrics().evaluation_data[:2], 1, 1.0)))


def test_row_format_matches_the_official_reader():
    """The official ``NASBench.__init__`` reads ``json.loads`` -> 5 items; adjacency chars
    reshaped to sqrt(len) x sqrt(len); ops split on commas; base64 ModelMetrics."""
    m = _metrics()
    rec = format_row("a" * 32, 108, [[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"], m)
    row = json.loads(rec.decode("utf-8"))
    assert row[:4] == ["a" * 32, 108, "011001000", "input,maxpool3x3,output"]
    assert decode_model_metrics(base64.b64decode(row[4])) == m
    assert parse_row(rec)[4] == m


def test_spec_encoding_round_trip():
    for arch, h, m, ops in F.sample_cells(40, seed=3):
        nv, bits, codes = encode_spec(m.tolist(), ops)
        m2, ops2 = decode_spec(nv, bits, codes)
        assert np.array_equal(m2, m) and ops2 == ops and len(codes) == 5
    with pytest.raises(ValueError, match="unknown op"):
        encode_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"])
    with pytest.raises(ValueError, match="32-hex"):
        hash_bytes("xyz")


# -- the importer -------------------------------------------------------------------------------


def _check_table(table, expected, epochs):
    hashes = [bytes(h).ljust(16, b"\0").hex() for h in table.column("hash").tolist()]
    assert hashes == sorted(hashes) and set(hashes) == set(expected["specs"])
    for row, h in enumerate(hashes):
        m, ops = expected["specs"][h]
        m2, ops2 = decode_spec(table.column("n_vertices")[row], table.column("adjacency")[row], table.column("ops")[row])
        assert np.array_equal(m2, m) and ops2 == ops
        assert table.column("params")[row] == expected["params"][h]
        for e in epochs:
            runs = expected[(h, e)]
            for k, name in ((2, ""), (1, "_halfway")):
                for field, col in (("train_accuracy", "train_acc"), ("validation_accuracy", "valid_acc"),
                                   ("test_accuracy", "test_acc"), ("training_time", "train_time")):  # fmt: skip
                    want = [getattr(r.evaluation_data[k], field) for r in runs]
                    assert table.column(f"cifar10/{col}{name}_seeds@{e}")[row].tolist() == want, (h, e, col, name)
                    if not name:
                        assert table.column(f"cifar10/{col}@{e}")[row] == (want[0] + want[1] + want[2]) / 3


def test_import_round_trip_to_benchmark(data_dir):
    path, expected = F.make_fixture(data_dir, 10, epochs=(4, 12, 36, 108), seed=5)
    folder = import_nb101(path, root=data_dir / "tables", bar=_quiet)
    table = open_table("nb101", data_dir / "tables")
    assert folder.name == "nb101" and table.n_rows == 10 and table.meta["epochs"] == [4, 12, 36, 108]
    assert table.meta["complete"] is False and table.meta["hash_checks"] == 10
    prov = table.meta["provenance"][0]
    assert prov["records"] == 120 and prov["size"] == path.stat().st_size and len(prov["sha256"]) == 64
    _check_table(table, expected, (4, 12, 36, 108))

    bench = NB101()
    assert bench.space.size == 10 and bench.fidelity.values == (4, 12, 36, 108)
    rng = np.random.default_rng(0)
    for h, arch in expected["archs"].items():
        for e in (4, 108):
            ev = bench.evaluate(arch, e, rng=rng)
            run = expected[(h, e)][ev.seed].evaluation_data[2]
            assert ev.metrics == {"valid_acc": run.validation_accuracy} and ev.cost == run.training_time
            assert ev.fidelity == e
        rep = bench.report(arch)
        finals = [r.evaluation_data[2] for r in expected[(h, 108)]]
        assert rep["test_acc"] == sum(f.test_accuracy for f in finals) / 3
        assert rep["valid_acc"] == sum(f.validation_accuracy for f in finals) / 3
        assert rep["params"] == expected["params"][h]
        mean = NB101(seed_mode="mean").evaluate(arch, 12)
        assert mean.metrics["valid_acc"] == sum(r.evaluation_data[2].validation_accuracy for r in expected[(h, 12)]) / 3
        assert mean.seed is None
    best = max(sum(f.evaluation_data[2].test_accuracy for f in expected[(h, 108)]) / 3 for h in expected["archs"])
    assert bench.optimum("test_acc") == best
    # every run index is drawn (the official query draws one of the 3 runs per query)
    arch = next(iter(expected["archs"].values()))
    assert {bench.evaluate(arch, rng=rng).seed for _ in range(60)} == {0, 1, 2}


def test_only108_then_full(data_dir):
    cells = F.sample_cells(6, seed=7)
    p108, e108 = F.make_fixture(data_dir, cells=cells, epochs=(108,), seed=1, name="nasbench_only108.tfrecord")
    pfull, efull = F.make_fixture(data_dir, cells=cells, epochs=(4, 12, 36, 108), seed=2, name="nasbench_full.tfrecord")
    import_nb101(p108, full=pfull, root=data_dir / "tables", bar=_quiet)
    table = open_table("nb101", data_dir / "tables")
    p1, p2 = table.meta["provenance"]
    assert p1["official_sha256"] is False and p1["epochs"] == [108] and p2["skipped_epochs"] == [108]
    for row, h in enumerate(sorted(e108["specs"])):  # 108 from the first file, 4/12/36 from the second
        assert table.column("cifar10/test_acc_seeds@108")[row].tolist() == [
            r.evaluation_data[2].test_accuracy for r in e108[(h, 108)]]  # fmt: skip
        assert table.column("cifar10/test_acc_seeds@36")[row].tolist() == [
            r.evaluation_data[2].test_accuracy for r in efull[(h, 36)]]  # fmt: skip


def _no_leftovers(tables: Path) -> None:
    assert not tables.exists() or [p.name for p in tables.iterdir()] == []


def test_bad_crc_is_a_clear_error_and_leaves_nothing(data_dir):
    path, _ = F.make_fixture(data_dir, 6)
    bad = data_dir / "nasbench_only108.tfrecord"
    offset = F.corrupt_crc(path, bad, record=5)
    with pytest.raises(DataError) as info:
        import_nb101(bad, root=data_dir / "tables", bar=_quiet)
    msg = str(info.value)
    assert str(bad) in msg and "record 5" in msg and f"byte offset {offset}" in msg and "data CRC" in msg
    assert "download it again from https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord" in msg
    assert "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1" in msg
    _no_leftovers(data_dir / "tables")
    # a damaged length field is caught by its own CRC
    raw = bytearray(path.read_bytes())
    raw[1] ^= 0x10
    bad.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="record 0 at byte offset 0: the CRC of its length field"):
        import_nb101(bad, root=data_dir / "tables", bar=_quiet)
    _no_leftovers(data_dir / "tables")


def test_truncated_file_is_a_clear_error_and_keeps_the_old_table(data_dir):
    path, _ = F.make_fixture(data_dir, 6)
    import_nb101(path, root=data_dir / "tables", bar=_quiet)
    before = sorted(p.name for p in (data_dir / "tables" / "nb101").iterdir())
    cut = data_dir / "cut.tfrecord"
    offset = F.truncate(path, cut, record=7)
    with pytest.raises(DataError, match=rf"is truncated: record 7 at byte offset {offset} needs \d+ bytes"):
        import_nb101(cut, root=data_dir / "tables", bar=_quiet)
    assert sorted(p.name for p in (data_dir / "tables").iterdir()) == ["nb101"]  # no temp folder left
    assert sorted(p.name for p in (data_dir / "tables" / "nb101").iterdir()) == before
    cut.write_bytes(path.read_bytes() + b"\x01\x02")
    with pytest.raises(DataError, match="2 stray bytes"):
        import_nb101(cut, root=data_dir / "tables", bar=_quiet)


def test_not_an_nb101_file(data_dir):
    bad = data_dir / "other.tfrecord"
    write_records(bad, [b'{"not": "a list"}'])
    with pytest.raises(DataError, match="record 0: not a NAS-Bench-101 row"):
        import_nb101(bad, root=data_dir / "tables", bar=_quiet)
    (h, e), m = ("0" * 32, 5), _metrics()
    write_records(bad, [format_row(h, e, [[0, 1], [0, 0]], ["input", "output"], m)])
    with pytest.raises(DataError, match="5 training epochs"):
        import_nb101(bad, root=data_dir / "tables", bar=_quiet)
    write_records(bad, [format_row("0" * 32, 108, [[0, 1], [0, 0]], ["input", "output"], m)])
    with pytest.raises(DataError, match="module hash of its spec is"):
        import_nb101(bad, root=data_dir / "tables", bar=_quiet)
    with pytest.raises(DataError, match="is not a file"):
        import_nb101(data_dir / "missing.tfrecord", root=data_dir / "tables", bar=_quiet)
    _no_leftovers(data_dir / "tables")


def test_unknown_cell_and_bad_input(data_dir):
    path, expected = F.make_fixture(data_dir, 5)
    import_nb101(path, root=data_dir / "tables", bar=_quiet)
    bench = NB101()
    rng = np.random.default_rng(0)
    other = next(a for a, h, _, _ in F.sample_cells(30, seed=99) if h not in expected["specs"])
    with pytest.raises(InvalidArchitecture, match="not one of the 5 cells"):
        bench.evaluate(other, rng=rng)
    with pytest.raises(InvalidArchitecture):
        bench.report((0,) * 26)  # no input -> output path
    with pytest.raises(InvalidConfig, match="fidelity 36 is not offered"):
        NB101(fidelity=36)
    with pytest.raises(InvalidConfig, match="seed_mode"):
        NB101(seed_mode="all")
    with pytest.raises(InvalidConfig, match="rng"):
        bench.evaluate(next(iter(expected["archs"].values())))
    with pytest.raises(InvalidConfig, match="no report metric"):
        bench.optimum("test_acc@12")


def test_missing_table_says_how_to_import(data_dir):
    with pytest.raises(DataError) as info:
        NB101()
    msg = str(info.value)
    assert "benchlab data import nb101 nasbench_only108.tfrecord" in msg
    assert "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord" in msg and "nb101-naslib500" in msg


def test_cli_import(data_dir, capsys):
    from benchlab.cli import main

    path, _ = F.make_fixture(data_dir, 4, epochs=(4, 108))
    assert main(["data", "import", "nb101", str(path), "--root", str(data_dir), "--name", "nb101-cli", "-q"]) == 0
    out = capsys.readouterr().out
    assert "imported nb101-cli: 4 cells, epochs [4, 108], INCOMPLETE" in out
    assert open_table("nb101-cli", data_dir / "tables").n_rows == 4
    assert main(["data", "import", "nb201", str(path), "--root", str(data_dir), "--full", str(path)]) == 2


# -- the 292 real cells of NASLib's file ----------------------------------------------------------


@pytest.mark.data
def test_naslib500_table(built_tables, shared_data):
    from benchlab.benchmarks.nb101 import decode_naslib_key, spec_hash

    table = open_table("nb101-naslib500")
    assert table.n_rows == 292 and int(table.column("naslib_keys").sum()) == 500
    bench = NB101(table="nb101-naslib500", seed_mode="mean")
    assert bench.fidelity is None and bench.report_metric == "valid_acc" and bench.cost_unit == "evaluation"
    assert bench.visible_split.startswith("valid") and bench.report_split.startswith("valid")
    assert bench.space.size == 292
    raw = json.loads((shared_data / "nb101" / "naslib_zc_nasbench101_500.json").read_text())["nasbench101"]["cifar10"]
    key = "(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)"  # fmt: skip
    m, ops = decode_naslib_key(key)
    assert ops == ["input", "maxpool3x3", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "output"]
    h = spec_hash(m, ops)
    row = int(np.searchsorted(table.column("hash"), np.array(bytes.fromhex(h), dtype="S16")))
    arch = bench.archs()[row]
    assert bench.space.cell_hash(arch) == h
    accs = table.column("cifar10/valid_acc_seeds@108")[row]
    assert raw[key]["val_accuracy"] / 100 in accs.tolist()
    assert bench.evaluate(arch).metrics["valid_acc"] == table.column("cifar10/valid_acc@108")[row]
    assert bench.optimum("valid_acc") == pytest.approx(0.9471153616905212)
    one = NB101(table="nb101-naslib500")
    rng = np.random.default_rng(0)
    a = bench.space.sample(rng)
    assert one.evaluate(a, rng=rng).metrics["valid_acc"] in one._col("cifar10/valid_acc_seeds@108")[one._row(a)].tolist()


# -- the full-size store: cold load ---------------------------------------------------------------

_COLD = """
import sys, time
t0 = time.perf_counter()
import numpy as np
from benchlab.benchmarks.nb101 import NB101
bench = NB101()
arch = tuple(int(v) for v in sys.argv[1].split(","))
ev = bench.evaluate(arch, rng=np.random.default_rng(0))
t1 = time.perf_counter()
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
print(t1 - t0, hwm, bench.space.size, ev.metrics["valid_acc"])
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc (Linux)")
def test_full_size_store_loads_cold_with_little_memory(tmp_path):
    """423,624 rows in the real layout (376 MB of columns): a fresh process opens the table,
    builds the benchmark and answers a query reading only a few pages. Asserts memory (a
    deterministic figure), prints the time (never asserted; scripts/bench_nb101.py)."""
    _, cells = F.write_synthetic_store(tmp_path / "tables", n_rows=423_624)
    env = {**os.environ, "BENCHLAB_DATA": str(tmp_path)}
    arch, _ = cells[0]
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _COLD, ",".join(map(str, arch))], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True).stdout.split()  # fmt: skip
    wall = time.perf_counter() - t
    seconds, rss_mb, size, value = float(out[0]), float(out[1]), int(out[2]), float(out[3])
    print(f"\nfull-size nb101 table: import+open+construct+query {seconds * 1e3:.0f} ms in-process "
          f"({wall:.2f} s with interpreter start), peak RSS {rss_mb:.0f} MB")
    assert size == 423_624 and 0.0 < value < 1.0
    assert rss_mb < 300
