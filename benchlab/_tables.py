"""benchlab's own table store: self-describing, no pickle, memory-mapped columns.

A table is a folder ``<data dir>/tables/<name>/`` holding ``meta.json`` and one ``.npy``
file per column. ``meta.json`` says what the table is (search space, number of rows,
row order), describes every column (dataset, split, metric, unit, fidelity, dtype,
sha256 of its file) and records the optimum of every numeric column and the provenance
(URL, commit, sha256) of every source file. Columns are opened with ``numpy.load(...,
mmap_mode="r")``: opening a table reads only ``meta.json``.

Tables are written atomically: into a temporary sibling folder that is renamed into
place, so a failed build never leaves a half-written table behind (a build killed midway
leaves a hidden temporary folder, removed by the next build).

Integrity: ``meta.sha256`` holds the sha256 of ``meta.json`` (optima included) and is
checked on every open, as are the files' kinds (no symlinks, FIFOs or folders inside a
table) and sizes (the ``.npy`` header plus the shape and dtype ``meta.json`` records). The
content of the columns is re-hashed at most once per version of the files: the first time
a column is read after a file changed (size or modification time differs from the stamp
``.verified.json``, which the build writes). ``benchlab data verify`` re-hashes everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ._errors import DataError, InvalidConfig
from ._names import check_component
from ._paths import data_dir
from ._registry import TABLES

__all__ = [
    "Column",
    "Table",
    "Source",
    "TableBuilder",
    "TABLE_BUILDERS",
    "register_table_builder",
    "write_table",
    "open_table",
    "table_dir",
    "list_tables",
    "read_checked_file",
    "write_checked_file",
    "FORMAT",
]

FORMAT = "benchlab-table/1"
META_FILE = "meta.json"
META_SHA_FILE = "meta.sha256"
STAMP_FILE = ".verified.json"


@dataclass(frozen=True)
class Column:
    """Description of one column. ``split`` is ``train``/``valid``/``test`` or "" (not a
    metric of a data split: parameters, latency, cost); ``fidelity`` is epochs or None.

    Columns are arrays whose first axis is the table's rows; ``axes`` names every axis
    (e.g. ``("arch", "seed", "epoch")`` for per-seed learning curves) and ``labels`` may
    give the coordinates of the other axes (e.g. ``{"seed": [777, 888, 999]}``)."""

    name: str
    dtype: str
    dataset: str = ""
    split: str = ""
    metric: str = ""
    unit: str = ""
    fidelity: int | None = None
    description: str = ""
    source: str = ""
    sha256: str = ""
    axes: tuple = ("arch",)
    labels: dict | None = None

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["axes"] = list(self.axes)
        return d


_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class Source:
    """One public source file of a table, pinned by repository commit and sha256.

    ``local`` is the file's path inside a source folder laid out like ``../shared/data``
    (``benchlab data build NAME --source DIR``); ``sha256`` pins that local file. A
    ``derived`` file is a plain-text conversion of an original in another format (a zip of
    a pickled list, a pickled dict, a pandas pickle): ``--download`` fetches the original
    from ``url`` and converts it, and checks the conversion against ``values_sha256``, the
    sha256 of the float64 values of the local file in its row order. ``path`` may hold a
    ``{device}``-style placeholder when one logical source is several original files.
    """

    key: str
    local: str
    repo: str
    commit: str
    path: str
    sha256: str
    license: str
    derived: bool = False
    values_sha256: str = ""

    @property
    def url(self) -> str:
        return _RAW.format(repo=self.repo, commit=self.commit, path=self.path)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["url"] = self.url
        return d


@dataclass(frozen=True)
class TableBuilder:
    """How to build table ``name``: ``build(source_dir, root, progress) -> folder``.

    ``fetch(dest_dir, progress)`` downloads the originals into ``dest_dir`` in the
    ``--source`` layout (converting derived files); None when the sources cannot be
    downloaded (the user must supply them).
    """

    name: str
    description: str
    sources: tuple
    build: Callable
    fetch: Callable | None = None


TABLE_BUILDERS = TABLES  # name -> TableBuilder (the one Registry class; entry point group benchlab.tables)


def register_table_builder(builder: TableBuilder) -> TableBuilder:
    """Make ``benchlab data build NAME`` know a table; a name taken by another builder is an error."""
    return TABLES.add(builder.name, builder)


def table_dir(name: str, root: Path | None = None) -> Path:
    """Folder of table ``name`` under ``root`` (default ``<data dir>/tables``).

    ``name`` must be one safe folder name (:func:`benchlab._names.check_component`): a
    table name never reaches outside the store."""
    return (Path(root) if root is not None else data_dir() / "tables") / check_component(name, "table name")


def _file_name(column: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in column)
    return f"{safe}-{hashlib.sha256(column.encode()).hexdigest()[:8]}.npy"


def _sha256_file(path: Path) -> str:
    from ._download import sha256_file

    return sha256_file(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_builds(parent: Path, name: str) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` / ``.<name>.old-<pid>`` folders of builds whose process is gone."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        rest = entry.name[len(name) + 2 :] if entry.name.startswith(f".{name}.") else ""
        pid = rest.split(".", 1)[0].removeprefix("old-") if rest.endswith(".tmp") or rest.startswith("old-") else ""
        if pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _file_stats(folder: Path) -> dict[str, list[int]]:
    """``{file name: [size, mtime_ns]}`` of the regular files in ``folder``; DataError on anything else."""
    out = {}
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise DataError(f"{folder} cannot be listed ({exc.strerror}); rebuild the table") from None
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        if not entry.is_file(follow_symlinks=False):
            kind = "a symlink" if entry.is_symlink() else "a folder" if entry.is_dir(follow_symlinks=False) else "not a regular file"
            raise DataError(
                f"{entry.path} is {kind}: a table holds regular files only; delete {folder} and rebuild the table"
            )
        out[entry.name] = [st.st_size, st.st_mtime_ns]
    return out


def _write_stamp(folder: Path, meta_sha: str, files: dict) -> None:
    """Record that the column files, as they are now, match ``meta.json`` (best effort)."""
    from ._store import atomic_write_bytes

    body = json.dumps({"meta": meta_sha, "files": files}, sort_keys=True) + "\n"
    try:
        atomic_write_bytes(folder / STAMP_FILE, body.encode())
    except OSError:
        pass  # a read-only store: the content is then re-checked once per process


def write_checked_file(path, data: bytes) -> None:
    """Write ``data`` atomically with a ``<path>.sha256`` sidecar (for caches of derived data).

    :func:`read_checked_file` then serves the bytes only while they match it.
    """
    from ._store import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, data)
    atomic_write_bytes(path.with_name(path.name + ".sha256"), (hashlib.sha256(data).hexdigest() + "\n").encode())


def read_checked_file(path) -> bytes | None:
    """The bytes of a file written by :func:`write_checked_file`, or None when it must be rebuilt.

    None when the file or its sidecar is absent, the file is not a regular file (a symlink
    or FIFO is never opened) or its sha256 differs from the sidecar (a flipped byte, a
    truncation, a replaced file).
    """
    import stat

    path = Path(path)
    side = path.with_name(path.name + ".sha256")
    try:
        for p in (path, side):
            if not stat.S_ISREG(os.lstat(p).st_mode):
                return None
        want = side.read_text().strip()
        data = path.read_bytes()
    except (OSError, UnicodeDecodeError):
        return None
    return data if hashlib.sha256(data).hexdigest() == want else None


def write_table(
    name: str,
    columns: Mapping[str, np.ndarray],
    info: Mapping[str, Column],
    meta: Mapping,
    root: Path | None = None,
) -> Path:
    """Write a table atomically and return its folder.

    ``columns`` maps names to 1-d arrays of equal length; ``info`` describes each one;
    ``meta`` adds table-level fields (``space``, ``row_order``, ``provenance``...).
    """
    target = table_dir(name, root)
    lengths = {np.shape(v)[0] if np.ndim(v) else -1 for v in columns.values()}
    if len(lengths) != 1:
        raise InvalidConfig(f"table {name}: columns have different lengths {sorted(lengths)}")
    missing = set(columns) - set(info)
    if missing:
        raise InvalidConfig(f"table {name}: columns without a description: {sorted(missing)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # readable by whoever may read new folders (mkdtemp: 0700)
        described = {}
        optimum = {}
        for col, values in columns.items():
            arr = np.ascontiguousarray(values)
            if arr.ndim < 1 or arr.dtype == object:
                raise InvalidConfig(f"table {name}: column {col!r} must be a numeric or fixed-width array, rows first")
            if len(info[col].axes) != arr.ndim:
                raise InvalidConfig(f"table {name}: column {col!r} has {arr.ndim} axes but describes {list(info[col].axes)}")
            fname = _file_name(col)
            np.save(tmp / fname, arr, allow_pickle=False)
            c = info[col]
            described[col] = {
                **c.to_dict(),
                "name": col,
                "dtype": str(arr.dtype),
                "shape": list(arr.shape),
                "file": fname,
                "sha256": _sha256_file(tmp / fname),
            }
            if arr.dtype.kind in "iu" and arr.size:
                optimum[col] = {"max": float(arr.max()), "min": float(arr.min())}
            elif arr.dtype.kind == "f":
                finite = np.isfinite(arr)
                if finite.any():
                    values = arr[finite]
                    optimum[col] = {"max": float(values.max()), "min": float(values.min())}
        body = {
            "format": FORMAT,
            "name": name,
            "n_rows": lengths.pop(),
            **dict(meta),
            "columns": described,
            "optimum": optimum,
        }
        meta_bytes = (json.dumps(body, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()
        (tmp / META_FILE).write_bytes(meta_bytes)
        meta_sha = hashlib.sha256(meta_bytes).hexdigest()
        (tmp / META_SHA_FILE).write_text(meta_sha + "\n")
        stats = _file_stats(tmp)
        _write_stamp(tmp, meta_sha, {c["file"]: stats[c["file"]] for c in described.values()})
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


class Table:
    """A read-only table opened from its folder; columns are memory-mapped on first use.

    The first column read checks the content of every column file against ``meta.json``
    unless the stamp says the files are unchanged since the last check (see the module
    docstring); a damaged file is a :class:`DataError` naming the rebuild command.
    """

    def __init__(self, folder: Path, meta: dict, meta_sha256: str = "", files: dict | None = None) -> None:
        self.folder = Path(folder)
        self.meta = meta
        self._meta_sha = meta_sha256
        self._files = files  # {file: [size, mtime_ns]} seen on open; None: not checked
        self._content_checked = files is None
        self.name: str = meta["name"]
        self.n_rows: int = int(meta["n_rows"])
        self.columns: dict[str, Column] = {
            k: Column(**{f: (tuple(v[f]) if f == "axes" else v[f]) for f in Column.__dataclass_fields__ if f in v})
            for k, v in meta["columns"].items()
        }
        self._cache: dict[str, np.ndarray] = {}

    def __contains__(self, column: str) -> bool:
        return column in self.columns

    def __repr__(self) -> str:
        return f"Table({self.name!r}, rows={self.n_rows}, columns={len(self.columns)}, folder={str(self.folder)!r})"

    @property
    def fingerprint(self) -> str:
        """First 16 hex digits of the sha256 of ``meta.json``: one per version of the table.

        ``meta.json`` records the sha256 of every column file (checked when the columns are
        read), so the fingerprint stands for the whole content. Runs record it, and an
        experiment refuses to mix runs scored against different versions.
        """
        if not self._meta_sha:
            self._meta_sha = hashlib.sha256((self.folder / META_FILE).read_bytes()).hexdigest()
        return self._meta_sha[:16]

    def _check_content(self) -> None:
        """Re-hash the column files changed since the stamp (at most once per file version)."""
        if self._content_checked:
            return
        try:
            stamp = json.loads((self.folder / STAMP_FILE).read_text())
            seen = stamp["files"] if stamp.get("meta") == self._meta_sha else {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            seen = {}
        files = {}
        for k, c in self.meta["columns"].items():
            now = self._files.get(c["file"])
            if seen.get(c["file"]) != now:
                if _sha256_file(self.folder / c["file"]) != c["sha256"]:
                    raise DataError(
                        f"{self.folder / c['file']} ({k}) does not match the sha256 in meta.json: the file was changed; "
                        f"rebuild with `benchlab data build {self.name} --source DIR` or --download"
                    )
            files[c["file"]] = now
        if files != seen:
            _write_stamp(self.folder, self._meta_sha, files)
        self._content_checked = True

    def column(self, name: str) -> np.ndarray:
        """The column as a read-only memory-mapped array."""
        arr = self._cache.get(name)
        if arr is not None:
            return arr
        if name not in self.columns:
            raise InvalidConfig(f"table {self.name} has no column {name!r}; run `benchlab data info {self.name}` to list them")
        self._check_content()
        path = self.folder / self.meta["columns"][name]["file"]
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(
                f"{path} cannot be read ({exc}); rebuild with `benchlab data build {self.name} --source DIR` or --download"
            ) from None
        expected = tuple(self.meta["columns"][name].get("shape", (self.n_rows,)))
        if arr.shape != expected:
            raise DataError(f"{path} has shape {arr.shape}, expected {expected}; the file is truncated: rebuild the table")
        dtype = self.meta["columns"][name].get("dtype")
        if dtype and str(arr.dtype) != dtype:
            raise DataError(f"{path} holds {arr.dtype}, meta.json says {dtype}; the file was replaced: rebuild the table")
        self._cache[name] = arr
        return arr

    def find(self, **fields) -> list[str]:
        """Names of the columns whose description matches every given field."""
        return [k for k, c in self.columns.items() if all(getattr(c, f) == v for f, v in fields.items())]

    def optimum(self, name: str, direction: str = "max") -> float:
        try:
            return float(self.meta["optimum"][name][direction])
        except KeyError:
            raise InvalidConfig(f"table {self.name}: no optimum recorded for column {name!r}") from None

    def verify(self) -> list[str]:
        """Problems found by re-hashing every column file (empty list: all good)."""
        problems = []
        side = self.folder / META_SHA_FILE
        try:
            if side.read_text().strip() != hashlib.sha256((self.folder / META_FILE).read_bytes()).hexdigest():
                problems.append(f"{META_FILE} does not match {META_SHA_FILE}: it was changed after the build")
        except OSError:
            problems.append(f"{META_SHA_FILE} is missing: the table was built by an older benchlab")
        for k, c in self.meta["columns"].items():
            path = self.folder / c["file"]
            if path.is_symlink():
                problems.append(f"{path.name} ({k}) is a symlink; a table holds regular files only")
            elif not path.is_file():
                problems.append(f"{path.name} ({k}) is missing")
            elif _sha256_file(path) != c["sha256"]:
                problems.append(f"{path.name} ({k}) has the wrong sha256")
        return problems


def _check_meta(meta, path: Path, name: str) -> None:
    """The structure ``Table`` relies on; a one-line DataError for anything else."""
    rebuild = f"rebuild with `benchlab data build {name}`"
    if not isinstance(meta, dict):
        raise DataError(f"{path} does not hold a JSON object; {rebuild}")
    if meta.get("format") != FORMAT:
        raise DataError(f"{path} has format {meta.get('format')!r}, this benchlab reads {FORMAT!r}; rebuild the table")
    n_rows, columns = meta.get("n_rows"), meta.get("columns")
    if not isinstance(meta.get("name"), str) or isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 0:
        raise DataError(f"{path} lacks a valid name or n_rows; {rebuild}")
    if not isinstance(columns, dict) or not isinstance(meta.get("optimum", {}), dict):
        raise DataError(f"{path} lacks a valid columns table; {rebuild}")
    for k, c in columns.items():
        ok = isinstance(c, dict) and isinstance(c.get("file"), str) and isinstance(c.get("sha256"), str)
        try:
            ok = ok and check_component(c["file"], "column file") == c["file"] and c["file"] not in (META_FILE, META_SHA_FILE)
            shape = c.get("shape", [n_rows]) if ok else None
            ok = ok and isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            ok = ok and len(shape) >= 1 and np.dtype(c.get("dtype", "f8")).kind != "O"
        except (InvalidConfig, TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(f"{path}: column {k!r} is not described properly (file, sha256, shape, dtype); {rebuild}")


def open_table(name: str, root: Path | None = None) -> Table:
    """Open a built table; raise ``DataError`` naming the build command when it is absent.

    Checks ``meta.json`` against ``meta.sha256``, that the folder holds regular files only
    and that every column file has the size its shape and dtype imply; the content is
    checked on the first column read (see :class:`Table`).
    """
    folder = table_dir(name, root)
    path = folder / META_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = f"{folder} has no {META_FILE}: delete it, then run" if folder.is_dir() else "run"
        raise DataError(
            f"table {name!r} is not built in {folder.parent}: {hint} `benchlab data build {name} --source DIR` "
            f"(a folder with the public files) or `benchlab data build {name} --download`"
        ) from None
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror}); rebuild with `benchlab data build {name}`") from None
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is corrupt ({exc}); rebuild with `benchlab data build {name}`") from None
    _check_meta(meta, path, name)
    meta_sha = hashlib.sha256(raw).hexdigest()
    files = _file_stats(folder)
    try:
        recorded = (folder / META_SHA_FILE).read_text().strip()
    except (OSError, UnicodeDecodeError):
        raise DataError(
            f"{folder / META_SHA_FILE} is missing: the table was built by an older benchlab or damaged; "
            f"rebuild with `benchlab data build {name} --source DIR` or --download"
        ) from None
    if recorded != meta_sha:
        raise DataError(
            f"{path} does not match {META_SHA_FILE}: it was changed after the build (optima included); "
            f"rebuild with `benchlab data build {name} --source DIR` or --download"
        )
    for k, c in meta["columns"].items():
        size = files.get(c["file"], [None])[0]
        if size is None:
            raise DataError(f"{folder / c['file']} ({k}) is missing; rebuild with `benchlab data build {name}`")
        nbytes = int(np.prod(c.get("shape", [meta["n_rows"]]), dtype=np.int64)) * np.dtype(c.get("dtype", "f8")).itemsize
        header = size - nbytes
        if not (10 <= header <= 1 << 20 and header % 16 == 0):
            raise DataError(
                f"{folder / c['file']} ({k}) has {size} bytes, not the {nbytes} bytes of data its shape and dtype need plus "
                f"a header: the file is truncated or replaced; rebuild with `benchlab data build {name}`"
            )
    return Table(folder, meta, meta_sha, files)


def list_tables(root: Path | None = None) -> list[str]:
    """Names of the table folders in the store (a folder without ``meta.json`` included:
    opening it is an error naming the fix, so ``data verify all`` reports it)."""
    base = Path(root) if root is not None else data_dir() / "tables"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
