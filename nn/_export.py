"""Export live training records as a benchlab table: build your own tabular benchmark.

Every finished training of a live benchmark is a JSON record in its cache folder (see
:mod:`benchlab.nn._benchmark`). :func:`export_table` gathers the records of one
configuration into a table of the store (:func:`benchlab.open_table`): one row per
trained architecture, its validation and test accuracies, training times and costs per
epochs budget (means over the training seeds, with the seed counts), and its parameter
count. Train on many GPUs (``benchlab run --executor dask`` with a shared ``cache_dir``),
export, and later runs query the table in microseconds.

Columns (``DS`` is the dataset name, ``E`` each epochs budget present in the records):

* ``arch``: the architecture's string form (the space's ``to_str``), rows sorted by it;
* ``DS/valid_acc@E``, ``DS/test_acc@E``, ``DS/train_acc@E`` (%; mean over seeds, NaN where
  the architecture was not trained for E epochs), ``DS/valid_acc_std@E`` (% , population
  standard deviation over seeds; 0 for one seed);
* ``DS/train_time@E`` (s, training only), ``DS/cost@E`` (s, training + one validation
  pass: the live benchmark's cost), ``DS/n_seeds@E`` (trainings averaged);
* ``DS/params`` (parameter count).

The table's ``meta.json`` records the live configuration (the cache key: dataset, data
slice, network, recipe, numerics) under ``live``, the search space, the devices the
records came from, and as provenance the cache folder with a sha256 over its records.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchlab import DataError, InvalidConfig
from benchlab.ext import Column, write_table
from ._benchmark import CACHE_FORMAT, LiveBenchmark, read_records

__all__ = ["cache_folders", "export_table"]


def cache_folders(source) -> list[Path]:
    """The live cache folders that ``source`` names: a :class:`LiveBenchmark`, a cache
    folder (holding ``config.json``), or a results folder whose runs used live benchmarks
    (their ``summary.json`` names the cache folder)."""
    if isinstance(source, LiveBenchmark):
        return [source.folder]
    path = Path(source)
    if (path / "config.json").is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path} is neither a live cache folder (with config.json) nor a results folder")
    found = set()
    for summary in sorted(path.rglob("summary.json")):
        try:
            bench = json.loads(summary.read_text()).get("benchmark") or {}
        except (OSError, json.JSONDecodeError):
            continue
        folder = bench.get("cache_folder")
        if folder:
            found.add(Path(folder))
    if not found:
        raise DataError(
            f"{path} holds no live cache (config.json) and no run of a live benchmark (summary.json with a "
            "cache_folder); pass the cache folder, e.g. <data dir>/live/nb201-live-<hash>"
        )
    return sorted(found)


def _mean(values: list[float]) -> float:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else math.nan


def export_table(source, name: str, *, root: Path | None = None) -> Path:
    """Write the records of ``source`` (see :func:`cache_folders`; exactly one configuration)
    as table ``name`` under ``root`` (default ``<data dir>/tables``); return its folder."""
    if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidConfig(f"table name {name!r} must be letters, digits, '-', '_' or '.'")
    folders = cache_folders(source)
    if len(folders) != 1:
        listing = "\n  ".join(str(f) for f in folders)
        raise InvalidConfig(
            f"the source holds {len(folders)} live configurations; export one cache folder at a time:\n  {listing}"
        )
    folder = folders[0]
    try:
        config = json.loads((folder / "config.json").read_text())
    except FileNotFoundError:
        raise DataError(f"{folder} holds no config.json: no training of this configuration has finished yet") from None
    records = read_records(folder)
    if not records:
        raise DataError(f"{folder} holds no finished training record; run some evaluations first")
    ds = config.get("dataset", "data")
    archs = sorted({r["arch"] for r in records})
    row = {a: i for i, a in enumerate(archs)}
    epochs = sorted({int(r["epochs"]) for r in records})
    grouped: dict[tuple[str, int], list[dict]] = defaultdict(list)
    params = np.zeros(len(archs), dtype=np.int64)
    for r in records:
        grouped[(r["arch"], int(r["epochs"]))].append(r)
        params[row[r["arch"]]] = int(r["params"])

    columns: dict[str, np.ndarray] = {"arch": np.array(archs, dtype=str)}
    info: dict[str, Column] = {
        "arch": Column("arch", "str", description="architecture string (the search space's to_str); rows sorted by it"),
        f"{ds}/params": Column(
            f"{ds}/params", "int64", dataset=ds, metric="params", unit="", description="parameter count"
        ),
    }
    columns[f"{ds}/params"] = params
    fields = (("valid_acc", "valid", "%", "validation accuracy"), ("test_acc", "test", "%", "test accuracy"),
              ("train_acc", "train", "%", "training accuracy (augmented batches, last epoch)"))  # fmt: skip
    for e in epochs:
        n = np.zeros(len(archs), dtype=np.int64)
        for key, split, unit, what in fields:
            col = f"{ds}/{key}@{e}"
            vals = np.full(len(archs), np.nan)
            for (a, ee), recs in grouped.items():
                if ee == e:
                    vals[row[a]] = _mean([r.get(key) for r in recs])
            columns[col] = vals
            info[col] = Column(col, "float64", dataset=ds, split=split, metric=key.split("_")[0] + "_acc", unit=unit,
                               fidelity=e, description=f"{what} after {e} epochs, mean over training seeds")  # fmt: skip
        std = np.full(len(archs), np.nan)
        train_time = np.full(len(archs), np.nan)
        cost = np.full(len(archs), np.nan)
        for (a, ee), recs in grouped.items():
            if ee != e:
                continue
            i = row[a]
            n[i] = len(recs)
            accs = [float(r["valid_acc"]) for r in recs if r.get("valid_acc") is not None]
            std[i] = float(np.std(accs)) if accs else np.nan
            train_time[i] = _mean([r.get("train_seconds") for r in recs])
            cost[i] = _mean([r.get("cost_seconds") for r in recs])
        extra = {
            f"{ds}/valid_acc_std@{e}": (std, "valid", "valid_acc_std", "%", "standard deviation of the validation accuracy over seeds"),
            f"{ds}/train_time@{e}": (train_time, "", "train_time", "s", "measured training seconds (mean over seeds)"),
            f"{ds}/cost@{e}": (cost, "", "cost", "s", "training + one validation pass, seconds (the live benchmark's cost)"),
            f"{ds}/n_seeds@{e}": (n, "", "n_seeds", "", "number of trainings (seeds) averaged"),
        }  # fmt: skip
        for col, (vals, split, metric, unit, what) in extra.items():
            columns[col] = vals
            info[col] = Column(col, str(vals.dtype), dataset=ds, split=split, metric=metric, unit=unit, fidelity=e,
                               description=f"{what}, {e} epochs")  # fmt: skip
    devices = sorted({str(r.get("device_name") or r.get("device")) for r in records})
    digest = hashlib.sha256()
    for r in sorted(records, key=lambda r: (r["arch"], int(r["epochs"]), int(r["seed"]))):
        digest.update(json.dumps(r, sort_keys=True).encode())
    meta = {
        "space": _space_of(config),
        "datasets": [ds],
        "builder": "benchlab live export",
        "row_order": "architecture strings, sorted",
        "key_column": "arch",
        "live": {
            "config": config,
            "cache_folder": str(folder),
            "record_format": CACHE_FORMAT,
            "n_records": len(records),
            "devices": devices,
            "torch": sorted({str(r.get("torch")) for r in records}),
        },
        "provenance": [
            {
                "key": "live-records",
                "repo": "(local live trainings)",
                "commit": "",
                "path": str(folder),
                "local": str(folder),
                "sha256": digest.hexdigest(),
                "license": "your own trainings",
            }
        ],
    }
    return write_table(name, columns, info, meta, root=root)


def _space_of(config: dict) -> str:
    bench = str(config.get("benchmark", ""))
    return bench.removesuffix("-live")
