"""Build the ``nb101-20k`` table: 20,001 real NAS-Bench-101 cells at 4, 12, 36 and 108 epochs.

Source: tiga1231/nasbench-vis @ 7aec0e76fbcd963371799af25f78223069897b58 :
``static/data/data-20k.json`` (no licence file; deleted from the repository after that
commit; ``nb101/nasbench-vis_data-20k.json`` in a ``--source`` folder). Parallel JSON lists:
``key`` (module hash: the first 20,001 hashes of the dataset in sorted order, so a uniform
4.7 % sample of the 423,624 cells), ``{4,12,36,108}_final_validation_accuracy``
(fractions), ``final_training_time`` (seconds, 108 epochs) and ``trainable_parameters``.
Each value is ONE training run of the official dataset (which of the 3 is not stated; they
are not the 3-run means). The file has no adjacency or ops: every key is mapped to its cell
through the enumeration of the space (:mod:`._cells`; all 20,001 are found), and the file's
``trainable_parameters`` must equal the closed-form count of that cell's network
(:func:`._params.param_count`; the build checks every row: a check of the key -> spec map).

Columns (rows sorted by module hash): the spec columns of every NB101 table (``hash``,
``n_vertices``, ``adjacency``, ``ops``), ``params``, and per epoch budget ``E`` in 4, 12,
36, 108: ``cifar10/valid_acc@E`` and ``cifar10/valid_acc_seeds@E`` (the one run, axis
``repeat`` of length 1), ``cifar10/train_time@E`` and ``cifar10/train_time_seeds@E``.
There is no test split: strategies see and reports use validation accuracy.

Training time: only the 108-epoch time is in the file. The 4/12/36-epoch costs are
**approximated as proportional to the epochs**, ``E / 108 x`` the 108-epoch time (the
official 4/12/36-epoch runs are separate trainings with their own schedule, about as long
per epoch); the columns and ``meta.json`` say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchlab import DataError
from benchlab.ext import Column, Source, TableBuilder, check_source_file, fetch_sources, register_table_builder, write_table

from ._cells import find_rows, load_cells, spec_of
from ._import import spec_columns
from ._params import param_count

__all__ = ["SOURCES", "VIS20K_NAME", "build_vis20k", "fetch_vis20k"]

VIS20K_NAME = "nb101-20k"
EPOCHS = (4, 12, 36, 108)
SOURCES = {
    "vis20k": Source("vis20k", "nb101/nasbench-vis_data-20k.json", "tiga1231/nasbench-vis",
                     "7aec0e76fbcd963371799af25f78223069897b58", "static/data/data-20k.json",
                     "7eaca9658aebf16443d3df5b38e61fe75d85787abc485cfc9a2088328443c3e9", "none stated"),
}  # fmt: skip
_FIELDS = tuple(f"{e}_final_validation_accuracy" for e in EPOCHS) + ("final_training_time", "trainable_parameters", "key")


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        cols = {f: list(data[f]) for f in _FIELDS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not nasbench-vis data-20k.json ({type(exc).__name__}: {exc}); replace it") from None
    n = len(cols["key"])
    if any(len(v) != n for v in cols.values()):
        raise DataError(f"{path}: the lists have different lengths; replace the file")
    return cols


def build_vis20k(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build ``nb101-20k`` from ``source_dir`` (laid out like ``../shared/data``)."""
    say = progress or (lambda msg: None)
    src = SOURCES["vis20k"]
    say(f"checking {src.local}")
    path = check_source_file(Path(source_dir), src)
    raw = _read(path)
    try:
        keys = np.array([bytes.fromhex(k) for k in raw["key"]], dtype="S16")
    except (TypeError, ValueError):
        raise DataError(f"{path}: a key is not a 32-hex-digit module hash; replace the file") from None
    n = len(keys)
    if len(np.unique(keys)) != n:
        raise DataError(f"{path}: repeated keys; replace the file")
    say("mapping the keys to cells through the NB101 enumeration")
    cells = load_cells()
    by_hash = np.argsort(cells["hash8"], kind="stable")
    rows = find_rows({k: v[by_hash] for k, v in cells.items()}, keys)  # prefix match, full hash confirmed
    missing = np.nonzero(rows < 0)[0]
    if len(missing):
        raise DataError(f"{path}: {len(missing)} keys are not NAS-Bench-101 cells (e.g. {raw['key'][missing[0]]}); "
                        "replace the file")  # fmt: skip
    rows = by_hash[rows]
    order = np.argsort(keys, kind="stable")  # rows sorted by module hash
    rows = rows[order]
    cols: dict[str, np.ndarray] = {"hash": keys[order], **{k: cells[k][rows] for k in ("n_vertices", "adjacency", "ops")}}
    params = np.asarray(raw["trainable_parameters"], dtype=np.int64)[order]
    say("checking every parameter count against the closed form")
    closed = np.array([param_count(*spec_of(cells, r)) for r in rows.tolist()], dtype=np.int64)
    bad = np.nonzero(closed != params)[0]
    if len(bad):
        i = int(bad[0])
        key = bytes(cols["hash"][i]).ljust(16, b"\0").hex()
        raise DataError(f"{path}: {len(bad)} cells' trainable_parameters differ from the NB101 network's count (e.g. "
                        f"{key}: file {params[i]}, closed form {closed[i]}); "
                        "the key -> cell map or the file is wrong")  # fmt: skip
    cols["params"] = params
    t108 = np.asarray(raw["final_training_time"], dtype=np.float64)[order]
    common = {"dataset": "cifar10", "source": src.key}
    info = spec_columns()
    info["params"] = Column("params", "int64", metric="params", unit="count", source=src.key,
                            description="trainable parameters (file; equal to the closed form of every cell)")  # fmt: skip
    for e in EPOCHS:
        acc = np.asarray(raw[f"{e}_final_validation_accuracy"], dtype=np.float64)[order]
        time = t108 * (e / 108.0)
        cols[f"cifar10/valid_acc@{e}"] = acc
        cols[f"cifar10/valid_acc_seeds@{e}"] = acc[:, None]
        cols[f"cifar10/train_time@{e}"] = time
        cols[f"cifar10/train_time_seeds@{e}"] = time[:, None]
        what = f"CIFAR-10 validation accuracy after {e} epochs of the {e}-epoch schedule, one training run"
        if e == 108:
            how = "training time of the 108-epoch run (file, seconds)"
        else:
            how = f"APPROXIMATED: {e}/108 x the 108-epoch training time (the file has no {e}-epoch time)"
        info[f"cifar10/valid_acc@{e}"] = Column(f"cifar10/valid_acc@{e}", "float64", split="valid", metric="accuracy",
                                                unit="fraction", fidelity=e, description=what, **common)  # fmt: skip
        info[f"cifar10/valid_acc_seeds@{e}"] = Column(
            f"cifar10/valid_acc_seeds@{e}", "float64", split="valid", metric="accuracy", unit="fraction", fidelity=e,
            axes=("arch", "repeat"), labels={"repeat": [0]}, description=what + " (which of the 3 is not stated)",
            **common)  # fmt: skip
        info[f"cifar10/train_time@{e}"] = Column(f"cifar10/train_time@{e}", "float64", metric="train_time", unit="s",
                                                 fidelity=e, description=how, **common)  # fmt: skip
        info[f"cifar10/train_time_seeds@{e}"] = Column(f"cifar10/train_time_seeds@{e}", "float64", metric="train_time",
                                                       unit="s", fidelity=e, axes=("arch", "repeat"),
                                                       labels={"repeat": [0]}, description=how, **common)  # fmt: skip
    meta = {
        "space": "nb101",
        "row_order": "sorted by module hash (column hash, 16 bytes)",
        "datasets": ["cifar10"],
        "epochs": list(EPOCHS),
        "repeats": 1,
        "complete": False,
        "accuracy_unit": "fraction",
        "splits": ["valid"],
        "provenance": [s.to_dict() for s in SOURCES.values()],
        "builder": "benchlab.benchmarks.nb101._vis20k",
        "notes": [
            f"{n} cells: the first {n} module hashes in sorted order (a uniform 4.7% sample of the 423,624 cells); "
            "specs recovered through the enumeration of the space (nb101-space)",
            "one training run per cell and budget (not the 3-run mean); validation accuracy only: no test split",
            "training time of 4/12/36 epochs APPROXIMATED as epochs/108 x the 108-epoch training time",
            "trainable_parameters equal the closed-form count of the NB101 network for every cell",
        ],
    }
    say("writing table")
    return write_table(VIS20K_NAME, cols, info, meta, root)


def fetch_vis20k(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
                 bar: Callable | None = None) -> Path:  # fmt: skip
    """Download nasbench-vis's ``data-20k.json`` (pinned commit) into ``dest_dir`` (``--source`` layout)."""
    return fetch_sources(VIS20K_NAME, SOURCES.values(), dest_dir, progress, base_url=base_url, bar=bar)


register_table_builder(
    TableBuilder(
        name=VIS20K_NAME,
        description="NAS-Bench-101 subset: 20,001 real cells (one run each), validation accuracy at 4/12/36/108 "
        "epochs, 108-epoch training time (4/12/36 approximated), params; strategies see validation accuracy",
        sources=tuple(SOURCES.values()),
        build=build_vis20k,
        fetch=fetch_vis20k,
    )
)
