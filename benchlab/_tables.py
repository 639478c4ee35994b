"""benchlab's own table store: self-describing, no pickle, memory-mapped columns.

A table is a folder ``<data dir>/tables/<name>/`` holding ``meta.json`` and one ``.npy``
file per column. ``meta.json`` says what the table is (search space, number of rows,
row order), describes every column (dataset, split, metric, unit, fidelity, dtype,
sha256 of its file) and records the optimum of every numeric column and the provenance
(URL, commit, sha256) of every source file. Columns are opened with ``numpy.load(...,
mmap_mode="r")``: opening a table reads only ``meta.json``.

Tables are written atomically: into a temporary sibling folder that is renamed into
place, so a failed build never leaves a half-written table behind.
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
from ._paths import data_dir

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
    "FORMAT",
]

FORMAT = "benchlab-table/1"
META_FILE = "meta.json"


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


TABLE_BUILDERS: dict[str, TableBuilder] = {}


def register_table_builder(builder: TableBuilder) -> TableBuilder:
    """Make ``benchlab data build NAME`` know a table; names must be unique."""
    old = TABLE_BUILDERS.get(builder.name)
    if old is not None and old.build is not builder.build:
        raise InvalidConfig(f"a table builder named {builder.name!r} is already registered")
    TABLE_BUILDERS[builder.name] = builder
    return builder


def table_dir(name: str, root: Path | None = None) -> Path:
    """Folder of table ``name`` under ``root`` (default ``<data dir>/tables``)."""
    return (Path(root) if root is not None else data_dir() / "tables") / name


def _file_name(column: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in column)
    return f"{safe}-{hashlib.sha256(column.encode()).hexdigest()[:8]}.npy"


def _sha256_file(path: Path) -> str:
    from ._download import sha256_file

    return sha256_file(path)


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
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
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
        (tmp / META_FILE).write_text(json.dumps(body, indent=1, sort_keys=True, allow_nan=False) + "\n")
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


class Table:
    """A read-only table opened from its folder; columns are memory-mapped on first use."""

    def __init__(self, folder: Path, meta: dict) -> None:
        self.folder = Path(folder)
        self.meta = meta
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

    def column(self, name: str) -> np.ndarray:
        """The column as a read-only memory-mapped array."""
        arr = self._cache.get(name)
        if arr is not None:
            return arr
        if name not in self.columns:
            raise InvalidConfig(f"table {self.name} has no column {name!r}; run `benchlab data info {self.name}` to list them")
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
        for k, c in self.meta["columns"].items():
            path = self.folder / c["file"]
            if not path.is_file():
                problems.append(f"{path.name} ({k}) is missing")
            elif _sha256_file(path) != c["sha256"]:
                problems.append(f"{path.name} ({k}) has the wrong sha256")
        return problems


def open_table(name: str, root: Path | None = None) -> Table:
    """Open a built table; raise ``DataError`` naming the build command when it is absent."""
    folder = table_dir(name, root)
    path = folder / META_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataError(
            f"table {name!r} is not built in {folder.parent}: run `benchlab data build {name} --source DIR` "
            f"(a folder with the public files) or `benchlab data build {name} --download`"
        ) from None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is corrupt ({exc}); rebuild with `benchlab data build {name}`") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"{path} has format {meta.get('format')!r}, this benchlab reads {FORMAT!r}; rebuild the table")
    return Table(folder, meta)


def list_tables(root: Path | None = None) -> list[str]:
    """Names of the built tables."""
    base = Path(root) if root is not None else data_dir() / "tables"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / META_FILE).is_file() and not p.name.startswith("."))
