"""`benchlab data build | list | info | verify` and the NB201 download path.

The real originals cannot be downloaded here (no network): the download tests serve
files written in exactly the original formats (tests/_fixtures_nb201.py, generated from
../shared/data at test time) from a loopback HTTP server.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import shutil
import socket
import zipfile
from pathlib import Path

import numpy as np
import pytest

import _fixtures_nb201 as fx
from benchlab import DataError
from benchlab._tables import open_table
from benchlab.cli import main
from benchlab.benchmarks.nb201 import _fetch
from benchlab.benchmarks.nb201._sources import HELP_DEVICES, SOURCES

NAME = "nb201"


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _link_sources(shared: Path, dest: Path, *, skip: tuple = ()) -> Path:
    """A source folder whose NB201 files are symlinks to the shared ones (except ``skip``)."""
    (dest / "nb201").mkdir(parents=True, exist_ok=True)
    for key, src in SOURCES.items():
        if key not in skip:
            (dest / src.local).symlink_to(shared / src.local)
    return dest


def _leftovers(folder: Path) -> list[str]:
    """Temporary files and folders of failed writes."""
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.endswith((".part", ".tmp")) or ".old-" in p.name)


def _free_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


# --------------------------------------------------------------------------- build, list, info, verify


@pytest.fixture(scope="module")
def build_run(shared_data, tmp_path_factory):
    """`benchlab data build nb201 --source ../shared/data --root ROOT`, once: (root, exit code, stdout)."""
    root = tmp_path_factory.mktemp("data-cli")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["data", "build", NAME, "--source", str(shared_data), "--root", str(root)])
    return root, code, out.getvalue()


@pytest.fixture(scope="module")
def built(build_run):
    """A data folder with nb201 built from ../shared/data by the CLI."""
    root, code, _ = build_run
    assert code == 0
    return root


@pytest.mark.data
def test_build_from_source_logs_steps_and_writes_the_table(build_run, shared_data):
    root, code, out = build_run
    assert code == 0
    assert f"building nb201 from {shared_data}" in out
    assert "checking nb201/nb201_test_200ep_mean.csv" in out and "writing table" in out
    table = open_table(NAME, root / "tables")
    assert f"built nb201: 15625 rows, {len(table.columns)} columns" in out
    assert f"set BENCHLAB_DATA={root}" in out  # --root is not where benchmarks look
    assert table.verify() == [] and _leftovers(root) == []


@pytest.mark.data
def test_list_shows_built_and_unbuilt_tables(built, tmp_path, capsys):
    code, out, _ = _run(["data", "list", "--root", built], capsys)
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.split()[:1] == [NAME])
    table = open_table(NAME, built / "tables")
    assert line.split()[1:4] == ["built", "15625", str(len(table.columns))]
    assert "MiB" in line
    code, out, _ = _run(["data", "list", "--root", tmp_path], capsys)  # nothing built there
    line = next(ln for ln in out.splitlines() if ln.split()[:1] == [NAME])
    assert line.split()[1:3] == ["not", "built"]
    assert "benchlab data build NAME --source DIR" in out


@pytest.mark.data
def test_list_follows_benchlab_data(built, monkeypatch, capsys):
    monkeypatch.setenv("BENCHLAB_DATA", str(built))
    code, out, _ = _run(["data", "list"], capsys)
    assert code == 0 and f"tables in {built / 'tables'}" in out
    assert next(ln for ln in out.splitlines() if ln.split()[:1] == [NAME]).split()[1] == "built"


@pytest.mark.data
def test_info_describes_columns_optima_and_provenance(built, capsys):
    code, out, _ = _run(["data", "info", NAME, "--root", built], capsys)
    assert code == 0
    assert "space:     nb201" in out and "rows:      15625" in out
    assert "datasets:  cifar10-valid, cifar10, cifar100, ImageNet16-120" in out
    row = next(ln for ln in out.splitlines() if ln.split()[:1] == ["cifar10/test_acc@200"]).split()
    assert row[1:8] == ["cifar10", "test", "accuracy", "%", "200", "15625", "float64"]
    assert row[9] == "94.3733"  # the published optimum
    row = next(ln for ln in out.splitlines() if ln.split()[:1] == ["cifar10-valid/valid_acc@200"]).split()
    assert row[2] == "valid" and row[9] == "91.6067"
    for src in SOURCES.values():
        assert f"{src.repo}@{src.commit}:{src.path}" in out
        assert src.sha256 in out and src.license in out
        if src.derived:
            assert src.values_sha256 in out
    code, out, _ = _run(["data", "info", NAME, "--root", built, "--json"], capsys)
    import json

    meta = json.loads(out)
    assert meta["name"] == NAME and meta["n_rows"] == 15625


@pytest.mark.data
def test_verify_ok_then_detects_a_flipped_byte(built, tmp_path, capsys):
    code, out, _ = _run(["data", "verify", NAME, "--root", built], capsys)
    assert code == 0 and out.startswith("nb201: OK (")
    code, out, _ = _run(["data", "verify", "all", "--root", built], capsys)
    assert code == 0 and "nb201: OK" in out

    shutil.copytree(built / "tables", tmp_path / "tables")
    folder = tmp_path / "tables" / NAME
    meta = open_table(NAME, tmp_path / "tables").meta["columns"]["cifar10/test_acc@200"]
    path = folder / meta["file"]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    code, out, _ = _run(["data", "verify", NAME, "--root", tmp_path], capsys)
    assert code == 1
    assert f"{meta['file']} (cifar10/test_acc@200) has the wrong sha256" in out
    assert "benchlab data build nb201 --source DIR" in out
    code, out, _ = _run(["data", "verify", "all", "--root", tmp_path], capsys)
    assert code == 1 and "nb201: 1 problem(s)" in out


def test_verify_all_with_nothing_built(tmp_path, capsys):
    code, out, _ = _run(["data", "verify", "all", "--root", tmp_path], capsys)
    assert code == 0 and "no table is built" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "build", "nb20", "--source", "."], "unknown table 'nb20': did you mean 'nb201'?"),
        (["data", "info", "nope"], "unknown table 'nope'"),
        (["data", "verify", "nope"], "unknown table 'nope'"),
        (["data", "info", NAME], "table 'nb201' is not built in"),
        (["data", "verify", NAME], "benchlab data build nb201 --source DIR"),
        (["data", "build", NAME, "--source", "/no/such/folder"], "does not exist or is not a folder"),
    ],
)
def test_errors_are_one_line_naming_the_fix(argv, message, tmp_path, capsys):
    code, out, err = _run([*argv, "--root", tmp_path], capsys)
    assert code == 2
    assert err.startswith("benchlab: error: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data"], "required: SUBCOMMAND"),
        (["data", "build", NAME], "one of the arguments --source --download is required"),
        (["data", "build", NAME, "--source", ".", "--download"], "not allowed with argument"),
    ],
)
def test_usage_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


@pytest.mark.data
def test_build_all_builds_the_tables_whose_sources_are_present(shared_data, tmp_path, capsys):
    source = _link_sources(shared_data, tmp_path / "src")  # only the NB201 files
    code, out, err = _run(["data", "build", "all", "--source", source, "--root", tmp_path / "d", "-q"], capsys)
    assert code == 0, err
    assert "built nb201: 15625 rows" in out
    from benchlab._tables import TABLE_BUILDERS

    # tables without source files (nb101-space: derived, shipped with benchlab) always build
    free = sorted(n for n in TABLE_BUILDERS if not TABLE_BUILDERS[n].sources)
    others = sorted(set(TABLE_BUILDERS) - {NAME} - set(free))
    for name in others:
        assert f"skipped {name} (" in out
    assert f"{1 + len(free)} built, 0 failed, {len(others)} skipped" in out
    assert open_table(NAME, tmp_path / "d" / "tables").verify() == []


def test_build_all_with_no_sources_is_an_error(tmp_path, capsys, monkeypatch):
    from benchlab._tables import TABLE_BUILDERS

    # tables without source files (nb101-space) always build: leave them out here
    free = [n for n in TABLE_BUILDERS if not TABLE_BUILDERS[n].sources]
    monkeypatch.setattr("benchlab.cli._data._builders",
                        lambda: {n: b for n, b in TABLE_BUILDERS.items() if n not in free})  # fmt: skip
    code, _, err = _run(["data", "build", "all", "--source", tmp_path, "--root", tmp_path], capsys)
    assert code == 2 and "no table is with all their sources in" in err


# --------------------------------------------------------------------------- bad source files


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        b = bytearray(data)
        b[len(b) // 3] ^= 0x10
        path.write_bytes(bytes(b))
    elif how == "appended":
        path.write_bytes(data + b"0,0,0\n")


@pytest.mark.data
@pytest.mark.parametrize("how", ["truncated", "flipped", "appended", "missing"])
def test_bad_source_file_names_the_file_and_keeps_the_good_table(built, shared_data, tmp_path, how, capsys):
    src = SOURCES["cifar10_valid_200ep"]
    source = _link_sources(shared_data, tmp_path / "src", skip=("cifar10_valid_200ep",))
    if how != "missing":
        shutil.copyfile(shared_data / src.local, source / src.local)
        _corrupt(source / src.local, how)
    shutil.copytree(built / "tables", tmp_path / "tables")  # an existing good table
    before = {p.name: p.read_bytes() for p in (tmp_path / "tables" / NAME).iterdir()}

    code, out, err = _run(["data", "build", NAME, "--source", source, "--root", tmp_path, "-q"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert str(source / src.local) in err
    if how == "missing":
        assert "is missing" in err and "--download" in err
    else:
        assert "truncated, corrupt or another version" in err and src.url in err
    after = {p.name: p.read_bytes() for p in (tmp_path / "tables" / NAME).iterdir()}
    assert after == before
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [NAME]  # no temp folders
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- download


@pytest.fixture(scope="module")
def originals(shared_data, tmp_path_factory):
    """Every NB201 source in its original format (HELP .pt zips, BRP-NAS pickle, pandas pickle)."""
    return fx.originals(shared_data, tmp_path_factory.mktemp("originals"))


@pytest.mark.data
def test_download_end_to_end_equals_the_source_build(built, originals, tmp_path, monkeypatch, capsys):
    with fx.serve(originals) as (base, hits):
        monkeypatch.setenv("BENCHLAB_DOWNLOAD_BASE", base)
        code, out, err = _run(["data", "build", NAME, "--download", "--root", tmp_path], capsys)
    assert code == 0, err
    assert len(hits) == len(originals) == 6 + len(HELP_DEVICES) + 2
    assert f"downloading {base}/HayeonLee/HELP/" in out
    assert "converting mini-bench-arch-cell-accs.pd to nb201/nb201_12epoch_accuracies.csv" in out
    assert "built nb201: 15625 rows" in out
    downloads = tmp_path / "downloads"
    for src in SOURCES.values():  # the converted files are the pinned ones, byte for byte
        assert hashlib.sha256((downloads / src.local).read_bytes()).hexdigest() == src.sha256
    a, b = open_table(NAME, built / "tables"), open_table(NAME, tmp_path / "tables")
    assert sorted(a.columns) == sorted(b.columns)
    for col in a.columns:
        np.testing.assert_array_equal(a.column(col), b.column(col), err_msg=col)
    assert b.verify() == []
    assert _leftovers(tmp_path) == []

    # everything is cached: a second fetch makes no request (the server is gone)
    _fetch.fetch(downloads, base_url=_free_port_url())


@pytest.mark.data
def test_download_without_network_is_a_clear_error(tmp_path, capsys):
    url = _free_port_url()
    code, _, err = _run(["data", "build", NAME, "--download", "--root", tmp_path, "--mirror", url], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"cannot download {url}/v-tao/nats-bench-landscape/" in err
    assert "no network" in err and "--source DIR" in err
    assert not (tmp_path / "tables").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def _one_route(originals: dict, key: str) -> tuple[str, Path]:
    src = SOURCES[key]
    path = f"/{src.repo}/{src.commit}/{src.path}"
    return path, originals[path]


@pytest.mark.data
def test_interrupted_download_leaves_no_partial_file(originals, tmp_path):
    path, file = _one_route(originals, "valid_cifar100")
    dest = tmp_path / "nb201" / "x.csv"
    with fx.serve(originals, truncate={path: 1000}) as (base, _):
        with pytest.raises(DataError, match=rf"{base}{path}.*(truncated|failed).*nothing was kept"):
            _fetch.download(base + path, dest, sha256=SOURCES["valid_cifar100"].sha256)
    assert list(dest.parent.iterdir()) == []

    class Interrupt:  # a progress bar that sees Ctrl-C after the first block
        def __init__(self, total, desc):
            self.total, self.closed = total, False

        def update(self, n):
            raise KeyboardInterrupt

        def close(self):
            self.closed = True

    with fx.serve(originals) as (base, _):
        with pytest.raises(KeyboardInterrupt):
            _fetch.download(base + path, dest, bar=Interrupt)
        assert list(dest.parent.iterdir()) == []
        # a stale temporary file of a killed run is cleaned up by the next download
        (dest.parent / f".{dest.name}.abc.part").write_bytes(b"stale")
        _fetch.download(base + path, dest, sha256=SOURCES["valid_cifar100"].sha256)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["x.csv"]
    assert dest.read_bytes() == file.read_bytes()


@pytest.mark.data
def test_wrong_checksum_and_http_errors_keep_nothing(originals, tmp_path):
    path, file = _one_route(originals, "valid_cifar100")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(file.read_bytes()[:-1] + b"9")
    dest = tmp_path / "out" / "x.csv"
    with fx.serve({path: bad}) as (base, _):
        with pytest.raises(DataError, match=r"has sha256 .* expected .*corrupt or the file changed"):
            _fetch.download(base + path, dest, sha256=SOURCES["valid_cifar100"].sha256)
        with pytest.raises(DataError, match=r"HTTP 404"):
            _fetch.download(base + "/nope", dest)
    pointer = tmp_path / "pointer"
    pointer.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 12\n")
    with fx.serve({path: pointer}) as (base, _):
        with pytest.raises(DataError, match=r"is a Git LFS pointer"):
            _fetch.download(base + path, dest, sha256=SOURCES["valid_cifar100"].sha256)
    assert list(dest.parent.iterdir()) == []


def _downloaded_but(shared: Path, dest: Path, key: str) -> Path:
    """A downloads folder that already holds every source but ``key``."""
    return _link_sources(shared, dest, skip=(key,))


@pytest.mark.data
def test_corrupt_derived_original_is_named_and_dropped(shared_data, originals, tmp_path):
    plain_downloaded = _downloaded_but(shared_data, tmp_path / "downloads", "latency_help")
    routes = dict(originals)
    src = SOURCES["latency_help"]
    path = f"/{src.repo}/{src.commit}/{src.path.format(device='pixel3')}"
    broken = tmp_path / "pixel3.pt"
    broken.write_bytes(originals[path].read_bytes()[:200])  # a truncated zip
    routes[path] = broken
    with fx.serve(routes) as (base, _):
        with pytest.raises(DataError, match=r"pixel3\.pt .*(zip|read)"):
            _fetch.fetch(plain_downloaded, base_url=base)
    assert not (plain_downloaded / src.local).exists()
    originals_dir = plain_downloaded / "originals" / src.repo / src.commit / "data/nasbench201/latency"
    assert not (originals_dir / "pixel3.pt").exists()  # not reused by the next run
    assert _leftovers(plain_downloaded) == []


@pytest.mark.data
def test_changed_original_fails_values_sha256_and_is_deleted(shared_data, originals, tmp_path):
    dest = _downloaded_but(shared_data, tmp_path / "downloads", "latency_i7")
    src = SOURCES["latency_i7"]
    path = f"/{src.repo}/{src.commit}/{src.path}"
    table = _fetch.read_brp_nas_pickle(originals[path].read_bytes())
    table[(3, 3, 3, 3, 3, 3)] *= 1.01
    changed = tmp_path / "changed.pkl"
    changed.write_bytes(pickle.dumps(table, protocol=4))
    with fx.serve({**originals, path: changed}) as (base, hits):
        with pytest.raises(DataError, match=r"values_sha256 .* expected .*original is corrupt or changed.*deleted"):
            _fetch.fetch(dest, base_url=base)
    assert hits == [path]
    assert not (dest / "originals" / src.repo / src.commit / src.path).exists()  # re-downloaded next time
    assert not (dest / src.local).exists()
    assert _leftovers(dest) == []


# --------------------------------------------------------------------------- original formats


def test_torch_list_reader_accepts_both_archive_names_and_refuses_tensors(tmp_path):
    for archive in ("archive", "raspi4"):
        p = fx.write_torch_list(tmp_path / "raspi4.pt", [1.5, 2, 3.25], archive=archive)
        assert _fetch.read_torch_list(p.read_bytes()) == [1.5, 2, 3.25]

    class Storage:
        pass

    class WithTensors(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", "FloatStorage", "0", "cpu", 2) if isinstance(obj, Storage) else None

    import io

    buf = io.BytesIO()
    WithTensors(buf, protocol=2).dump([Storage()])
    p = tmp_path / "tensor.pt"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("archive/data.pkl", buf.getvalue())
    with pytest.raises(DataError, match="tensors or storages"):
        _fetch.read_torch_list(p.read_bytes(), "tensor.pt")
    with zipfile.ZipFile(p, "a") as z:
        z.writestr("archive/data/0", b"\0" * 8)
    with pytest.raises(DataError, match="holds tensor storages"):
        _fetch.read_torch_list(p.read_bytes(), "tensor.pt")
    with pytest.raises(DataError, match="neither a torch.save zip"):
        _fetch.read_torch_list(b"garbage", "x.pt")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "reader", [_fetch.read_torch_list, _fetch.read_brp_nas_pickle, _fetch.read_pandas_pickle]
)
def test_restricted_unpicklers_refuse_arbitrary_globals(reader, tmp_path):
    data = pickle.dumps([_Evil()], protocol=2)
    if reader is _fetch.read_torch_list:
        p = fx.write_torch_list(tmp_path / "x.pt", [])
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("x/data.pkl", data)
        data = p.read_bytes()
    with pytest.raises(DataError, match=r"refers to (posix|os|nt)\.system, which this reader does not allow"):
        reader(data, "evil")


@pytest.mark.data
def test_brp_nas_pickle_round_trip_and_key_encoding(shared_data, tmp_path):
    p = fx.write_brp_nas_pickle(tmp_path / "i7.pkl", shared_data, protocol=2)  # numpy scalars, protocol 2
    table = _fetch.read_brp_nas_pickle(p.read_bytes())
    assert len(table) == 15284 and all(isinstance(k, tuple) and len(k) == 6 for k in table)
    data = _fetch.convert_brp_nas(table, "i7.pkl")
    assert hashlib.sha256(data).hexdigest() == SOURCES["latency_i7"].sha256
    # the op-tuple is (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2) with ops none, skip, 1x1, 3x3, avg pool
    first = data.split(b"\r\n")[1].decode()
    assert first.startswith("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|,")
    assert (0, 0, 0, 1, 0, 0) in table


@pytest.mark.data
def test_pandas_pickles_of_both_layouts_load_and_pyarrow_strings_are_refused(shared_data, tmp_path):
    import pandas as pd

    legacy = fx.write_mini_bench_pickle(tmp_path / "a.pd", shared_data, legacy=True)
    modern = fx.write_mini_bench_pickle(tmp_path / "b.pd", shared_data, legacy=False)
    want = SOURCES["12epoch"].sha256
    for p in (legacy, modern):
        frame = _fetch.read_pandas_pickle(p.read_bytes(), p.name)
        assert hashlib.sha256(_fetch.convert_mini_bench(frame, p.name)).hexdigest() == want
    frame = pd.DataFrame({"arch": [0], "cellstr": ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]})
    if str(frame["cellstr"].dtype) == "object":
        pytest.skip("this pandas does not use pyarrow strings by default")
    with pytest.raises(DataError, match="which this reader does not allow"):
        _fetch.read_pandas_pickle(pickle.dumps(frame), "strings.pd")


def test_values_sha256_depends_on_values_not_formatting(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text("arch,x,y\n|p|,9,1.50\n|q|,2.0,\n")
    b.write_text("arch,x,y\r\n|other|,9.0,1.5\r\n|q|,2,\r\n")
    c.write_text("arch,x,y\n|p|,9,1.5000001\n|q|,2.0,\n")
    ha, hb, hc = (_fetch.values_sha256(p, ("arch",)) for p in (a, b, c))
    assert ha == hb != hc
    expected = np.array([[9.0, 1.5], [2.0, np.nan]], dtype="<f8")
    assert ha == hashlib.sha256(expected.tobytes()).hexdigest()
    with pytest.raises(DataError, match="not a number"):
        _fetch.values_sha256(a, ())


@pytest.mark.data
def test_values_pins_match_the_shared_files(shared_data):
    pins = _fetch.compute_values_pins(shared_data)
    assert pins == {k: s.values_sha256 for k, s in SOURCES.items() if s.derived}
    assert all(len(v) == 64 for v in pins.values())


def test_download_base_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(_fetch.BASE_ENV, raising=False)
    src = SOURCES["latency_help"]
    assert _fetch.source_url(src, device="fpga") == src.url.format(device="fpga")
    assert src.url.startswith("https://raw.githubusercontent.com/HayeonLee/HELP/11970ec72b43")
    monkeypatch.setenv(_fetch.BASE_ENV, "http://127.0.0.1:9/")
    assert _fetch.source_url(src, device="fpga").startswith("http://127.0.0.1:9/HayeonLee/HELP/")
    monkeypatch.setenv(_fetch.BASE_ENV, "ftp://x")
    with pytest.raises(DataError, match="must be an http"):
        _fetch.download_base()
