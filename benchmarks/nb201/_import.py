"""Import the official NAS-Bench-201 and NATS-Bench files into benchlab tables.

Two readers, one per official format, each writing one benchlab table (``write_table``):

- :func:`import_nb201_pth`: ``NAS-Bench-201-v1_0-e61699.pth`` or
  ``NAS-Bench-201-v1_1-096897.pth``. The file is a ``torch.save``'d dict ``{"meta_archs":
  [15,625 arch strings in official index order], "arch2infos": {official index: {"less":
  ArchResults state, "full": ArchResults state}}, "evaluated_indexes": [...]}``; ``less`` is
  the 12-epoch schedule (hp ``12``), ``full`` the 200-epoch one (hp ``200``). Both versions
  share this layout; they differ in content: in v1_0 ``less`` holds ``cifar10-valid``
  only, v1_1 adds the other datasets at 12 epochs and more seeds at 200 epochs. The
  ``torch.save`` container (legacy pre-1.6 format, as the 2020 files, or zip) is read with a
  restricted unpickler (containers, numbers, strings and numpy scalars only: no code from
  the file runs; as safe as ``torch.load(weights_only=True)``, which the official loader
  now defaults to, but ~30x faster and without an allow-list for numpy) and every result
  is interpreted with the ``nas_201_api`` package's own ``ArchResults`` class.
- :func:`import_nats`: NATS-Bench topology (``tss``, the NB201 cells, hp ``12``/``200``) or
  size (``sss``, 32,768 channel configurations ``"C1:C2:C3:C4:C5"``, hp ``01``/``12``/``90``)
  archives: a ``NATS-{tss,sss}-v1_0-*-simple`` (or ``-full``) folder of bz2 pickles
  ``meta.pickle.pbz2`` + one ``{index:06d}.pickle.pbz2`` per architecture (``{hp: ArchResults
  state}``), or the single-file ``NATS-*.pickle.pbz2`` dict. Unpickled with a restricted
  unpickler (plain containers and numpy scalars only; the network weights of ``-full``
  archives are dropped without being rebuilt) and interpreted with ``nats_bench``'s own
  ``ArchResults`` class.

Rows are benchlab ids (NB201: ``NB201Space().to_id(NB201Space().from_str(arch string))``;
size space: ``NATSSizeSpace``, whose ids are the official size-space indices); a table has
a row for every architecture of the space, NaN where the file has no result, and the
column ``present`` (int8) says which rows the file holds. Columns, for every dataset
``ds`` and schedule ``E`` (epochs: 12/200, or 1/12/90) present in the file:

- ``{ds}/{split}_acc@{E}`` and ``{ds}/{split}_loss@{E}``: after the last epoch, mean over
  the seeds of that architecture (what the official API returns with ``is_random=False``);
  splits: ``train``; ``valid`` (x-valid; not for ``cifar10``, trained on train+valid);
  ``test`` (ori-test for ``cifar10-valid`` and ``cifar10``, x-test for ``cifar100`` and
  ``ImageNet16-120``); ``valtest`` (ori-test of ``cifar100``/``ImageNet16-120`` = both halves,
  valid AND test: marked split "test", never search on it).
- ``{ds}/{split}_acc_seeds@{E}``: per seed, shape (rows, seeds), axes ``("arch", "seed")``,
  labels ``{"seed": [...]}`` (sorted), NaN where a seed was not run.
- ``{ds}/{split}_acc_curve@{E}`` (rows, E) and ``{ds}/{split}_acc_curve_seeds@{E}`` (rows,
  seeds, E): learning curves, value after epoch ``e`` at index ``e - 1`` (train/valid/test).
- ``{ds}/train_time_epoch@{E}`` (s per training epoch), ``{ds}/valid_time@{E}`` and
  ``{ds}/test_time@{E}`` (s per evaluation pass), seed means; ``{ds}/train_time_epoch`` and
  ``{ds}/valid_time`` repeat the full schedule's (200 or 90 epochs) values under the names of
  the public ``nb201`` table.
- ``{ds}/params`` (parameter count), ``{ds}/flops`` (MFLOPs), ``{ds}/latency`` (ms, as
  measured by the authors); ``official_index`` (int64, -1 if the file lacks the arch string).
"""

from __future__ import annotations

import bz2
import codecs
import collections
import hashlib
import pickle
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from benchlab import DataError, InvalidConfig
from benchlab.ext import Column, restricted_load, sha256_file, write_table

from ._space import NB201Space

__all__ = ["import_nb201_pth", "import_nats", "NB201_NAME", "NATS_NAMES", "DATASETS", "SPLITS"]

NB201_NAME = "nb201-official"
NATS_NAMES = {"tss": "nats-tss-official", "sss": "nats-sss-official"}
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
# benchlab split -> official evaluation-set name, per dataset
SPLITS = {
    "cifar10-valid": {"train": "train", "valid": "x-valid", "test": "ori-test"},
    "cifar10": {"train": "train", "test": "ori-test"},
    "cifar100": {"train": "train", "valid": "x-valid", "test": "x-test", "valtest": "ori-test"},
    "ImageNet16-120": {"train": "train", "valid": "x-valid", "test": "x-test", "valtest": "ori-test"},
}
_CURVE_SPLITS = ("train", "valid", "test")
_EXTRA = "pip install 'benchlab[import]'"
_NAN = float("nan")
_HELP = {
    "train": {"cifar10": "the 50k train+valid images", "other": "the training split"},
    "valid": "x-valid (the validation split)",
    "test": {"cifar10-valid": "ori-test (the 10k CIFAR-10 test set)", "cifar10": "ori-test (the 10k CIFAR-10 test set)",
             "other": "x-test (the test half of the official test set)"},
    "valtest": "ori-test: the whole official test set = x-valid + x-test halves (contains the test half; never search on it)",
}  # fmt: skip


# -- reading the files ---------------------------------------------------------------------


def _need(module: str, package: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DataError(
            f"reading {what} needs the official package {package!r} ({exc}); install it with {_EXTRA} "
            f"(or `pip install {package}`)"
        ) from exc


def _drop(*args, **kwargs):
    return None


# The official files: plain containers, numpy scalars/arrays (under numpy 1.x's or 2.x's
# module names), nothing else; network weights (torch tensors) become None without being
# rebuilt. Anything else is refused, so no code from a file ever runs.
_OFFICIAL = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): codecs.encode,  # how pickle protocol 2 stores bytes
    **{(m, n): f"numpy.core.multiarray:{n}" for m in ("numpy.core.multiarray", "numpy._core.multiarray")
       for n in ("scalar", "_reconstruct")},
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}  # fmt: skip


def _official_family(module: str, name: str):
    """numpy's dtype classes, and torch's tensor/storage rebuild callables (dropped)."""
    if module == "numpy.dtypes" and name.endswith("DType"):
        import numpy.dtypes

        return getattr(numpy.dtypes, name, None)
    if module.split(".")[0] == "torch" and (name.startswith("_rebuild_") or name == "_load_from_bytes" or name.endswith("Storage")):
        return _drop
    return None


def _load_one(f):
    """The next pickle of ``f`` (torch.save's tensor storages: dropped unread)."""
    return restricted_load(f, _OFFICIAL, fallback=_official_family, persistent=_drop, refuse="a benchmark file does not hold")


_TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # torch.save's legacy (pre-1.6) format


def _load_pth(path: Path):
    """The object ``torch.save`` wrote to ``path``, legacy or zip format, read with the
    restricted unpickler (as safe as ``torch.load(weights_only=True)``, ~30x faster: minutes
    less on the 4.7 GB v1_1 file, and it needs no allow-list for the numpy scalars)."""
    import zipfile

    def bad(exc) -> DataError:
        return DataError(f"{path} cannot be read as a NAS-Bench-201 benchmark file ({type(exc).__name__}: {exc}); it is "
                         "truncated, corrupt or not a NAS-Bench-201-v1_0/v1_1 .pth")  # fmt: skip

    try:
        if zipfile.is_zipfile(path):  # torch >= 1.6: <archive>/data.pkl (+ storages, never read)
            with zipfile.ZipFile(path) as z:
                pkl = [n for n in z.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
                if len(pkl) != 1:
                    raise pickle.UnpicklingError(f"a zip archive with {len(pkl)} data.pkl files")
                with z.open(pkl[0]) as f:
                    return _load_one(f)
        with open(path, "rb") as f:  # magic number, protocol, system info, then the object
            if _load_one(f) != _TORCH_MAGIC:
                raise pickle.UnpicklingError("no torch.save magic number")
            if _load_one(f) != 1001:
                raise pickle.UnpicklingError("unknown torch.save protocol version")
            _load_one(f)
            return _load_one(f)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            OSError, zipfile.BadZipFile) as exc:  # fmt: skip
        raise bad(exc) from None


def _load_pbz2(path: Path):
    try:
        with bz2.BZ2File(path, "rb") as f:
            return _load_one(f)
    except Exception as exc:
        raise DataError(f"{path} cannot be read as a NATS-Bench archive file ({type(exc).__name__}: {exc}); "
                        "it is truncated, corrupt or not a NATS-Bench .pickle.pbz2") from None  # fmt: skip


# -- collecting the results ----------------------------------------------------------------


def _series(container, keys) -> np.ndarray | None:
    """Values of ``container`` (a dict, or a list indexed by epoch) at ``keys``; NaN if absent."""
    if container is None:
        return None
    if isinstance(container, dict):
        vals = [container.get(k) for k in keys]
    else:
        n = len(container)
        vals = [container[k] if isinstance(k, int) and 0 <= k < n else None for k in keys]
    try:
        return np.array(vals, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_NAN if v is None else float(v) for v in vals], dtype=np.float64)


def _scalar(value) -> float:
    try:
        return _NAN if value is None else float(value)
    except (TypeError, ValueError):
        return _NAN


class _Group:
    """Per-seed results of one (dataset, schedule), compact: one slot per architecture that
    has results (axis 0) and per seed (axis 1); scattered to all rows at the end."""

    def __init__(self, epochs: int, curves: bool) -> None:
        self.epochs, self.curves = epochs, curves
        self.seeds: dict = {}
        self.rows: dict = {}
        self.caps = [64, 3]
        self.arrays: dict = {}

    def _grow(self, axis: int) -> None:
        grow = self.caps[axis]
        for k, a in self.arrays.items():
            shape = list(a.shape)
            shape[axis] = grow
            self.arrays[k] = np.concatenate([a, np.full(shape, np.nan)], axis=axis)
        self.caps[axis] += grow

    def slots(self, row: int, seed) -> tuple[int, int]:
        r = self.rows.get(row)
        if r is None:
            r = self.rows[row] = len(self.rows)
            if r >= self.caps[0]:
                self._grow(0)
        s = self.seeds.get(seed)
        if s is None:
            s = self.seeds[seed] = len(self.seeds)
            if s >= self.caps[1]:
                self._grow(1)
        return r, s

    def put(self, key, r: int, s: int, value, tail: tuple = ()) -> None:
        arr = self.arrays.get(key)
        if arr is None:
            arr = self.arrays[key] = np.full(tuple(self.caps) + tail, np.nan)
        arr[r, s] = value

    def finish(self) -> tuple[list, np.ndarray, dict]:
        """Sorted seeds, the table row of each slot, and the arrays (slots x sorted seeds)."""
        order = sorted(self.seeds, key=lambda s: (str(type(s)), s))
        idx = [self.seeds[s] for s in order]
        n = len(self.rows)
        return order, np.fromiter(self.rows, dtype=np.int64, count=n), {k: a[:n][:, idx] for k, a in self.arrays.items()}


class _Collector:
    def __init__(self, n: int, curves) -> None:
        self.n = n
        if isinstance(curves, bool):
            self.curves = curves
        else:
            try:
                self.curves = {int(e) for e in curves}
            except (TypeError, ValueError):
                raise InvalidConfig(f"curves must be True, False or a list of schedules (epochs), got {curves!r}") from None
        self.groups: dict[tuple, _Group] = {}
        self.present = np.zeros(n, dtype=np.int8)
        self.notes: set = set()
        self._keys: dict = {}

    def _eval_keys(self, name: str, epochs: int) -> list:
        k = (name, epochs)
        if k not in self._keys:
            self._keys[k] = [f"{name}@{e}" for e in range(epochs)]
        return self._keys[k]

    def add(self, row: int, hp: int, archres) -> None:
        """Every trial of one ``ArchResults`` (one architecture, one schedule)."""
        for ds, seeds in archres.dataset_seed.items():
            if ds not in SPLITS:
                self.notes.add(f"dataset {ds!r} is not one of {', '.join(DATASETS)}: skipped")
                continue
            group = self.groups.get((ds, hp))
            if group is None:
                want = self.curves if isinstance(self.curves, bool) else hp in self.curves
                group = self.groups[(ds, hp)] = _Group(hp, want)
            for seed in seeds:
                rc = archres.all_results.get((ds, seed))
                if rc is None:
                    continue
                self.present[row] = 1
                self._trial(group, ds, *group.slots(row, seed), rc)

    def _trial(self, g: _Group, ds: str, row: int, slot: int, rc) -> None:
        """One training run; ``row``/``slot`` index the group's compact arrays."""
        epochs = int(getattr(rc, "epochs", 0) or 0)
        if epochs <= 0:
            self.notes.add(f"{ds}: a trial without a number of epochs was skipped")
            return
        if epochs != g.epochs:
            self.notes.add(f"{ds}: trials of the {g.epochs}-epoch schedule report {epochs} epochs; the final value is "
                           f"the official one (after epoch {epochs}), curves hold the first {min(epochs, g.epochs)}")  # fmt: skip
        hp, last = g.epochs, epochs - 1
        eval_names = set(getattr(rc, "eval_names", None) or [])
        for split, name in SPLITS[ds].items():
            if name == "train":
                acc = _series(getattr(rc, "train_acc1es", None), range(epochs))
                loss = _series(getattr(rc, "train_losses", None), range(epochs))
                times = _series(getattr(rc, "train_times", None), range(epochs))
            else:
                if name not in eval_names:
                    continue
                keys = self._eval_keys(name, epochs)
                acc = _series(getattr(rc, "eval_acc1es", None), keys)
                loss = _series(getattr(rc, "eval_losses", None), keys)
                times = _series(getattr(rc, "eval_times", None), keys)
            if acc is not None:
                g.put(("acc", split), row, slot, acc[last])
                if g.curves and split in _CURVE_SPLITS:
                    k = min(epochs, hp)
                    g.put(("curve", split), row, slot, np.pad(acc[:k], (0, hp - k), constant_values=np.nan), (hp,))
            if loss is not None:
                g.put(("loss", split), row, slot, loss[last])
            if times is not None and np.isfinite(times).all() and split != "valtest":
                g.put(("time", split), row, slot, times.mean())
        g.put(("params",), row, slot, _scalar(getattr(rc, "params", None)))
        g.put(("flops",), row, slot, _scalar(getattr(rc, "flop", None)))
        lat = getattr(rc, "latency", None)
        lat = _NAN if not lat else _scalar(sum(lat) / len(lat))
        g.put(("latency",), row, slot, lat if lat > 0 else _NAN)


def _nanmean(a: np.ndarray, axis: int = 1) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _legacy_fix(values: np.ndarray, seeds: list) -> np.ndarray:
    """nats_bench >= 1.6: when a network's seeds disagree on params/flops (to 5 decimals),
    the official API reports seed 888's value (a legacy weight-migration issue)."""
    out = _nanmean(values)
    if 888 not in seeds:
        return out
    s888 = seeds.index(888)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
    for r in np.flatnonzero(spread > 0):
        row = values[r][np.isfinite(values[r])]
        if len({f"{x:.5f}" for x in row}) > 1 and np.isfinite(values[r, s888]):
            out[r] = values[r, s888]
    return out


def _columns(col: _Collector, full_hp: int, source: str, cost_rule: str) -> tuple[dict, dict, dict]:
    cols: dict[str, np.ndarray] = {}
    info: dict[str, Column] = {}
    seeds_meta: dict[str, list] = {}

    def spread(values, rows):
        out = np.full((col.n,) + values.shape[1:], np.nan)
        out[rows] = values
        return out

    def put(name, values, rows=None, **desc):
        """Column ``name``; ``values`` are per slot (scattered to ``rows``) or per table row."""
        values = np.asarray(values)
        if values.dtype.kind == "f" and not np.isfinite(values).any():
            return
        axes = desc.pop("axes", ("arch",))
        cols[name] = values if rows is None else spread(values, rows)
        info[name] = Column(name, str(values.dtype), source=source, axes=axes, **desc)

    costs: dict = {}  # ds -> {kind: (hp, per-row value)} from the longest schedule that has it
    for (ds, hp), g in sorted(col.groups.items(), key=lambda kv: (DATASETS.index(kv[0][0]), kv[0][1])):
        seeds, rows, arrays = g.finish()
        if not seeds:
            continue
        seeds_meta[f"{ds}@{hp}"] = [int(s) if isinstance(s, (int, np.integer)) else s for s in seeds]
        labels = {"seed": seeds_meta[f"{ds}@{hp}"]}
        epochs_label = {"epoch": list(range(1, hp + 1))}
        for split in SPLITS[ds]:
            what = _HELP[split] if isinstance(_HELP[split], str) else _HELP[split].get(ds, _HELP[split]["other"])
            sp = "test" if split == "valtest" else split
            common = dict(dataset=ds, split=sp, unit="%", fidelity=hp)
            acc = arrays.get(("acc", split))
            if acc is not None:
                put(f"{ds}/{split}_acc@{hp}", _nanmean(acc), rows, metric="accuracy", **common,
                    description=f"{ds} accuracy on {what} after the {hp}-epoch schedule, mean over seeds")  # fmt: skip
                put(f"{ds}/{split}_acc_seeds@{hp}", acc, rows, metric="accuracy_seeds", **common, axes=("arch", "seed"),
                    labels=labels, description=f"{ds} accuracy on {what} after the {hp}-epoch schedule, one column per "
                    "training seed (NaN: seed not run)")  # fmt: skip
            loss = arrays.get(("loss", split))
            if loss is not None:
                put(f"{ds}/{split}_loss@{hp}", _nanmean(loss), rows, metric="loss", dataset=ds, split=sp, unit="",
                    fidelity=hp, description=f"{ds} loss on {what} after the {hp}-epoch schedule, mean over seeds")  # fmt: skip
            curve = arrays.get(("curve", split))
            if curve is not None:
                put(f"{ds}/{split}_acc_curve@{hp}", _nanmean(curve), rows, metric="accuracy_curve", **common,
                    axes=("arch", "epoch"), labels=epochs_label,
                    description=f"{ds} accuracy on {what} after each epoch of the {hp}-epoch schedule (index e-1: "
                    "after epoch e), mean over seeds")  # fmt: skip
                put(f"{ds}/{split}_acc_curve_seeds@{hp}", curve, rows, metric="accuracy_curve_seeds", **common,
                    axes=("arch", "seed", "epoch"), labels={**labels, **epochs_label},
                    description=f"{ds} accuracy on {what} after each epoch of the {hp}-epoch schedule, per seed")  # fmt: skip
        t = arrays.get(("time", "train"))
        if t is not None:
            put(f"{ds}/train_time_epoch@{hp}", _nanmean(t), rows, dataset=ds, split="train", metric="time_per_epoch",
                unit="s", fidelity=hp, description=f"{ds}: seconds per training epoch in the {hp}-epoch schedule "
                "(the authors' GPUs), mean over epochs and seeds")  # fmt: skip
            if hp == full_hp:
                costs.setdefault(ds, {})["train_time_epoch"] = spread(_nanmean(t), rows)
        for split in ("valid", "test"):
            t = arrays.get(("time", split))
            if t is not None:
                put(f"{ds}/{split}_time@{hp}", _nanmean(t), rows, dataset=ds, split=split, metric="eval_time", unit="s",
                    fidelity=hp, description=f"{ds}: seconds per evaluation pass over the {split} split "
                    f"({hp}-epoch schedule), mean over epochs and seeds")  # fmt: skip
                if hp == full_hp and split == "valid":
                    costs.setdefault(ds, {})["valid_time"] = spread(_nanmean(t), rows)
        for kind, scale in (("params", 1e6), ("flops", 1.0), ("latency", 1000.0)):
            a = arrays.get((kind,))
            if a is None:
                continue
            v = _legacy_fix(a, seeds) if (cost_rule == "nats" and kind != "latency") else _nanmean(a)
            v = spread(v * scale, rows)
            if kind == "params":
                v = np.round(v)
            old = costs.setdefault(ds, {}).get(kind)
            costs[ds][kind] = v if old is None else np.where(np.isfinite(v), v, old)  # longer schedule wins
    for ds in sorted(costs, key=DATASETS.index):
        c = costs[ds]
        if "train_time_epoch" in c:
            put(f"{ds}/train_time_epoch", c["train_time_epoch"], dataset=ds, split="train", metric="time_per_epoch",
                unit="s", description=f"{ds}: seconds per training epoch of the {full_hp}-epoch schedule (same values "
                f"as {ds}/train_time_epoch@{full_hp})")  # fmt: skip
        if "valid_time" in c:
            put(f"{ds}/valid_time", c["valid_time"], dataset=ds, split="valid", metric="eval_time", unit="s",
                description=f"{ds}: seconds per evaluation pass over the valid split (same values as "
                f"{ds}/valid_time@{full_hp})")  # fmt: skip
        if "params" in c:
            put(f"{ds}/params", c["params"], dataset=ds, metric="params", unit="",
                description=f"parameter count of the {ds} network (official value in millions x 1e6)")  # fmt: skip
        if "flops" in c:
            put(f"{ds}/flops", c["flops"], dataset=ds, metric="flops", unit="MFLOPs",
                description=f"FLOPs of the {ds} network in millions (official value)")  # fmt: skip
        if "latency" in c:
            put(f"{ds}/latency", c["latency"], dataset=ds, metric="latency", unit="ms",
                description=f"inference latency of the {ds} network measured by the benchmark authors "
                "(batch 256, their GPU), mean over seeds")  # fmt: skip
    return cols, info, seeds_meta


def _rows(meta_archs, to_row: Callable[[str], int], n: int, path) -> tuple[dict, np.ndarray]:
    """``{official index: row}`` and the ``official_index`` column."""
    if not isinstance(meta_archs, (list, tuple)) or not meta_archs:
        raise DataError(f"{path}: 'meta_archs' must list the architecture strings in official index order")
    if len(meta_archs) > n:
        raise DataError(f"{path}: 'meta_archs' lists {len(meta_archs)} architectures, the space has only {n}")
    index = np.full(n, -1, dtype=np.int64)
    rows = {}
    for i, s in enumerate(meta_archs):
        try:
            r = to_row(s)
        except Exception as exc:
            raise DataError(f"{path}: meta_archs[{i}] = {s!r} is not an architecture of this space ({exc})") from None
        if index[r] != -1:
            raise DataError(f"{path}: meta_archs lists {s!r} twice (indices {index[r]} and {i})")
        index[r] = i
        rows[i] = r
    return rows, index


def _by_index(arch2infos, path) -> dict:
    """``arch2infos`` keyed by int official index."""
    if not isinstance(arch2infos, dict):
        raise DataError(f"{path}: 'arch2infos' is a {type(arch2infos).__name__}, expected a dict keyed by official index")
    out = {}
    for key, entry in arch2infos.items():
        try:
            out[int(key)] = entry
        except (TypeError, ValueError):
            raise DataError(f"{path}: arch2infos has the key {key!r}, which is not an official index") from None
    return out


def _write(name, root, col: _Collector, full_hp: int, official_index, space: str, source: dict,
           cost_rule: str, extra_notes: list, say) -> Path:  # fmt: skip
    if not col.present.any():
        raise DataError(f"{source['local']}: no architecture has results; it is not a benchmark file")
    say("building columns")
    cols, info, seeds = _columns(col, full_hp, source["local"], cost_rule)
    cols["official_index"] = official_index
    info["official_index"] = Column("official_index", "int64", source=source["local"],
                                    description="official index of the architecture (-1: not listed in the file)")  # fmt: skip
    cols["present"] = col.present
    info["present"] = Column("present", "int8", source=source["local"],
                             description="1 if the file holds results for the architecture, 0 if not (its values are NaN)")  # fmt: skip
    datasets = [d for d in DATASETS if any(k.startswith(f"{d}@") for k in seeds)]
    meta = {
        "space": space,
        "row_order": "benchlab id of the space; column official_index maps each row to the official index",
        "datasets": datasets,
        "schedules": sorted({int(k.rsplit("@", 1)[1]) for k in seeds}),
        "seeds": seeds,
        "n_present": int(col.present.sum()),
        "notes": sorted(col.notes) + list(extra_notes),
        "provenance": [source],
        "builder": "benchlab.benchmarks.nb201._import",
    }
    say(f"writing table {name} ({int(col.present.sum())} architectures with results)")
    return write_table(name, cols, info, meta, root)


# -- NAS-Bench-201 .pth ----------------------------------------------------------------------


def import_nb201_pth(path, name: str = NB201_NAME, root: Path | None = None, curves=True,
                     progress: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Import ``NAS-Bench-201-v1_{0,1}-*.pth`` into table ``name``; returns the table folder.

    Needs ``torch`` and the official ``nas-bench-201`` package (``pip install
    'benchlab[import]'``). ``curves``: True (default) writes the learning-curve columns of
    every schedule (about 1.1 GB for the 200-epoch schedule), False none, a list of epochs
    (e.g. ``[200]``) those schedules' only. See the module docstring for the columns.
    """
    path = Path(path)
    say = progress or (lambda msg: None)
    if not path.is_file():
        raise DataError(f"{path} is not a file: pass the NAS-Bench-201 .pth (e.g. NAS-Bench-201-v1_1-096897.pth)")
    api = _need("nas_201_api", "nas-bench-201", "NAS-Bench-201 .pth files")
    say(f"loading {path.name} (the complete files are several GB: expect minutes and much memory)")
    data = _load_pth(path)
    if not isinstance(data, dict) or not all(k in data for k in ("meta_archs", "arch2infos", "evaluated_indexes")):
        found = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path} is not a NAS-Bench-201 benchmark file: expected a dict with meta_archs, arch2infos and "
                        f"evaluated_indexes, found {found}")  # fmt: skip
    space = NB201Space()
    rows, official_index = _rows(data["meta_archs"], lambda s: space.to_id(space.from_str(s)), space.size, path)
    col = _Collector(space.size, curves)
    hp_of = {"less": 12, "full": 200, "12": 12, "200": 200}
    arch2infos = _by_index(data["arch2infos"], path)
    say(f"reading {len(arch2infos)} architectures")
    for k, idx in enumerate(sorted(arch2infos)):
        if idx not in rows:
            raise DataError(f"{path}: arch2infos has index {idx!r}, which meta_archs does not list")
        entry = arch2infos[idx]
        if not isinstance(entry, dict):
            raise DataError(f"{path}: arch2infos[{idx}] is a {type(entry).__name__}, expected {{'less': ..., 'full': ...}}")
        for key, state in entry.items():
            if str(key) not in hp_of:
                col.notes.add(f"schedule {key!r} is not 'less'/'full': skipped")
                continue
            try:
                res = api.ArchResults.create_from_state_dict(state)
            except Exception as exc:
                raise DataError(f"{path}: arch2infos[{idx}][{key!r}] is not an ArchResults state ({exc})") from None
            if res.arch_str not in (-1, None) and res.arch_str != data["meta_archs"][idx]:
                raise DataError(f"{path}: arch2infos[{idx}] describes {res.arch_str!r} but meta_archs[{idx}] is "
                                f"{data['meta_archs'][idx]!r}; the file is inconsistent")  # fmt: skip
            col.add(rows[idx], hp_of[str(key)], res)
        if (k + 1) % 2000 == 0:
            say(f"  {k + 1}/{len(arch2infos)}")
    version = "v1_0" if "v1_0" in path.name else "v1_1" if "v1_1" in path.name else "unknown"
    say(f"hashing {path.name}")
    source = {
        "key": "official",
        "local": path.name,
        "sha256": sha256_file(path),
        "format": f"NAS-Bench-201 benchmark file (.pth, torch.save), version {version}",
        "reader": f"nas_201_api {getattr(api, 'NAS_BENCH_201_API_VERSION', '?')}",
        "repo": "D-X-Y/NAS-Bench-201",
        "commit": "-",
        "path": path.name,
        "license": "",
        "url": "https://github.com/D-X-Y/NAS-Bench-201 (a user-supplied copy of the file the authors distribute "
        "via Google Drive)",
    }
    notes = []
    if version == "v1_0":
        notes.append("NAS-Bench-201 v1_0: the 12-epoch schedule (hp=12) covers cifar10-valid only")
    return _write(name, root, col, 200, official_index, "nb201", source, "nb201", notes, say)


# -- NATS-Bench archives ---------------------------------------------------------------------


def _nats_space(space: str):
    if space in ("tss", "topology"):
        s = NB201Space()
        return "tss", "nb201", s.size, (lambda text: s.to_id(s.from_str(text))), 200
    if space in ("sss", "size"):
        from benchlab.benchmarks.nats_sss._space import NATSSizeSpace

        s = NATSSizeSpace()
        return "sss", "nats-sss", s.size, (lambda text: s.to_id(s.from_str(text))), 90
    raise InvalidConfig(f"NATS-Bench space must be 'tss' (topology) or 'sss' (size), got {space!r}")


def _archive_files(folder: Path) -> dict[int, Path]:
    out = {}
    for p in folder.iterdir():
        stem = p.name[: -len(".pickle.pbz2")] if p.name.endswith(".pickle.pbz2") else None
        if stem is not None and stem.isdigit():
            i = int(stem)
            if i in out:
                raise DataError(f"{folder}: two files for index {i} ({out[i].name}, {p.name})")
            out[i] = p
    return out


def import_nats(path, space: str = "tss", name: str | None = None, root: Path | None = None, curves=True,
                progress: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Import a NATS-Bench archive (``tss`` or ``sss``) into table ``name``; returns the folder.

    ``path``: a ``NATS-{tss,sss}-v1_0-*-simple`` or ``-full`` folder (``meta.pickle.pbz2`` and
    one ``NNNNNN.pickle.pbz2`` per architecture) or the single-file ``NATS-*.pickle.pbz2``.
    Needs the official ``nats_bench`` package (``pip install 'benchlab[import]'``); default
    table name ``nats-tss-official`` / ``nats-sss-official``; ``curves`` as in
    :func:`import_nb201_pth`.
    """
    path = Path(path)
    say = progress or (lambda msg: None)
    key, space_name, n, to_row, full_hp = _nats_space(space)
    name = name or NATS_NAMES[key]
    nats = _need("nats_bench", "nats_bench", "NATS-Bench archives")
    from nats_bench.api_utils import ArchResults

    col = _Collector(n, curves)

    def add(idx, rows, entry, where):
        if not isinstance(entry, dict):
            raise DataError(f"{where}: expected a dict {{hp: ArchResults state}}, found {type(entry).__name__}")
        for hp, state in entry.items():
            try:
                epochs = int(hp)
            except (TypeError, ValueError):
                col.notes.add(f"schedule {hp!r} is not a number of epochs: skipped")
                continue
            try:
                res = ArchResults.create_from_state_dict(state)
            except Exception as exc:
                raise DataError(f"{where}: entry {hp!r} is not an ArchResults state ({exc})") from None
            col.add(rows[idx], epochs, res)

    if path.is_dir():
        meta_path = path / "meta.pickle.pbz2"
        if not meta_path.is_file():
            raise DataError(f"{path} has no meta.pickle.pbz2: pass a NATS-Bench archive folder such as "
                            "NATS-tss-v1_0-3ffb9-simple (or the single NATS-*.pickle.pbz2 file)")  # fmt: skip
        meta = _load_pbz2(meta_path)
        if not isinstance(meta, dict) or "meta_archs" not in meta:
            raise DataError(f"{meta_path} has no 'meta_archs'; it is not a NATS-Bench archive")
        rows, official_index = _rows(meta["meta_archs"], to_row, n, meta_path)
        files = _archive_files(path)
        bad = sorted(i for i in files if i not in rows)
        if bad:
            raise DataError(f"{path}: files for indices {bad[:5]} which meta_archs does not list")
        say(f"reading {len(files)} architecture files")
        for k, idx in enumerate(sorted(files)):
            add(idx, rows, _load_pbz2(files[idx]), files[idx])
            if (k + 1) % 2000 == 0:
                say(f"  {k + 1}/{len(files)}")
        h = hashlib.sha256()
        for i in sorted(files):
            h.update(f"{files[i].name}:{sha256_file(files[i])}\n".encode())
        source = {"key": "official", "local": path.name, "sha256": sha256_file(meta_path), "files": len(files),
                  "files_sha256": h.hexdigest(),
                  "format": f"NATS-Bench {key} archive folder (bz2 pickles: meta + one file per architecture)"}  # fmt: skip
    elif path.is_file():
        data = _load_pbz2(path)
        if not isinstance(data, dict) or not all(k in data for k in ("meta_archs", "arch2infos")):
            raise DataError(f"{path} is not a NATS-Bench benchmark file (expected a dict with meta_archs and arch2infos)")
        rows, official_index = _rows(data["meta_archs"], to_row, n, path)
        arch2infos = _by_index(data["arch2infos"], path)
        say(f"reading {len(arch2infos)} architectures")
        for idx in sorted(arch2infos):
            if idx not in rows:
                raise DataError(f"{path}: arch2infos has index {idx!r}, which meta_archs does not list")
            add(idx, rows, arch2infos[idx], f"{path} [arch {idx}]")
        source = {"key": "official", "local": path.name, "sha256": sha256_file(path),
                  "format": f"NATS-Bench {key} benchmark file (bz2 pickle of the whole benchmark)"}  # fmt: skip
    else:
        raise DataError(f"{path} does not exist: pass a NATS-Bench archive folder (e.g. NATS-{key}-v1_0-*-simple) or file")
    source["reader"] = f"nats_bench {nats.version() if hasattr(nats, 'version') else '?'}"
    source.update(repo="D-X-Y/NATS-Bench", commit="-", path=path.name, license="",
                  url="https://github.com/D-X-Y/NATS-Bench (a user-supplied copy of the archive the authors "
                  "distribute via Google Drive)")  # fmt: skip
    return _write(name, root, col, full_hp, official_index, space_name, source, "nats", [], say)
