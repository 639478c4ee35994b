"""Build benchlab's NAS-Bench-201 table from the public source files.

``build(source_dir)`` reads the files listed in :mod:`._sources` from a folder laid out
like ``../shared/data`` (each checked against its pinned sha256 first), aligns every file
to benchlab ids by its architecture strings (or the official index, which all the files
share), and writes the table atomically. Nothing is written unless every file checks out.

Column names read ``<dataset>/<split>_<metric>@<epochs>`` (accuracies in %), e.g.
``cifar10-valid/valid_acc@12`` (the NB201 search reward) or ``cifar10/test_acc@200``.
Datasets follow NAS-Bench-201: ``cifar10-valid`` is trained on the 25k train split and
evaluated on the 25k valid split (``valid``) and the official test set (``test``);
``cifar10`` is trained on train+valid and evaluated on the test set only; ``cifar100``
and ``ImageNet16-120`` split their test sets into ``valid`` (x-valid) and ``test`` (x-test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from benchlab import DataError
from benchlab.ext import Column, TableBuilder, check_source_file, register_table_builder, write_table

from ._fetch import fetch
from ._sources import HELP_DEVICES, SOURCES
from ._space import NB201Space

__all__ = ["build", "NAME", "DATASETS"]

NAME = "nb201"
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
N = 15625


def _read_csv(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"{path} cannot be parsed as CSV ({exc}); replace the file") from None
    return frame


def _rows_by_string(frame, column: str, path: Path, space: NB201Space, allow_missing: bool = False) -> np.ndarray:
    """benchlab id of every row, from the row's architecture string."""
    try:
        ids = np.fromiter((space.to_id(space.from_str(s)) for s in frame[column]), dtype=np.int64, count=len(frame))
    except Exception as exc:
        raise DataError(f"{path}: column {column!r} holds an invalid NB201 string ({exc})") from None
    if not allow_missing and (len(ids) != N or len(np.unique(ids)) != N):
        raise DataError(f"{path}: expected all {N} NB201 cells once, found {len(np.unique(ids))} distinct of {len(ids)} rows")
    return ids


def _values(frame, column: str, path: Path, scale: float = 1.0) -> np.ndarray:
    if column not in frame.columns:
        raise DataError(f"{path} has no column {column!r}; it is not the expected file")
    try:
        return frame[column].to_numpy(dtype=np.float64) * scale
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: column {column!r} is not numeric ({exc})") from None


def build(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``nb201`` table from ``source_dir``; returns the table folder."""
    source_dir = Path(source_dir)
    say = progress or (lambda msg: None)
    space = NB201Space()
    paths = {}
    for key, src in SOURCES.items():
        say(f"checking {src.local}")
        paths[key] = check_source_file(source_dir, src)

    cols: dict[str, np.ndarray] = {}
    info: dict[str, Column] = {}

    def put(name, row_ids, values, **desc):
        out = np.full(N, np.nan)
        out[row_ids] = values
        cols[name] = out
        info[name] = Column(name=name, dtype="float64", **desc)

    # Official index order: row i of the reference file is official index i.
    say("reading 200-epoch test accuracies")
    ref_path = paths["test_200ep_mean"]
    ref = _read_csv(ref_path)
    official = _rows_by_string(ref, "ArchitectureString", ref_path, space)  # official index -> benchlab id
    if len(ref) != N:
        raise DataError(f"{ref_path} has {len(ref)} rows, expected {N}")
    index = np.empty(N, dtype=np.int64)
    index[official] = np.arange(N)
    cols["official_index"] = index
    info["official_index"] = Column(
        "official_index", "int64", description="official NAS-Bench-201 / NATS-Bench topology index of the cell",
        source="test_200ep_mean",
    )  # fmt: skip
    src = "test_200ep_mean"
    for ds, col in (("cifar10", "CIFAR10TestAccuracy200Epochs"), ("cifar100", "CIFAR100TestAccuracy200Epochs"),
                    ("ImageNet16-120", "ImageNetTestAccuracy200Epochs")):  # fmt: skip
        put(f"{ds}/test_acc@200", official, _values(ref, col, ref_path), dataset=ds, split="test", metric="accuracy",
            unit="%", fidelity=200, description=f"{ds} test accuracy after 200 epochs, mean over training seeds", source=src)  # fmt: skip

    say("reading single-seed accuracies")
    p = paths["test_single_seed"]
    f = _read_csv(p)
    ids = _rows_by_string(f, "ArchitectureString", p, space)
    for ds, stem in (("cifar10", "Cifar10"), ("cifar100", "Cifar100"), ("ImageNet16-120", "ImageNet16")):
        for ep in (12, 200):
            put(f"{ds}/test_acc_one_seed@{ep}", ids, _values(f, f"{stem}TestAccuracy{ep}Epochs", p), dataset=ds,
                split="test", metric="accuracy_one_seed", unit="%", fidelity=ep,
                description=f"{ds} test accuracy after {ep} epochs of ONE training seed", source="test_single_seed")  # fmt: skip

    say("reading cifar10-valid learning results")
    p = paths["cifar10_valid_200ep"]
    f = _read_csv(p)
    ids = _rows_by_string(f, "arch_str", p, space)
    for split, name in (("train", "train"), ("valid", "valid"), ("test", "test")):
        put(f"cifar10-valid/{split}_loss@200", ids,
            _values(f, f"{name}-loss", p), dataset="cifar10-valid", split=split, metric="loss", unit="",
            fidelity=200, description=f"cifar10-valid {split} loss after 200 epochs, seed mean", source="cifar10_valid_200ep")  # fmt: skip
    put("cifar10-valid/train_acc@200", ids, _values(f, "train-accuracy", p), dataset="cifar10-valid", split="train",
        metric="accuracy", unit="%", fidelity=200, description="cifar10-valid train accuracy after 200 epochs",
        source="cifar10_valid_200ep")  # fmt: skip
    put("cifar10-valid/test_acc@200", ids, _values(f, "test-accuracy", p), dataset="cifar10-valid", split="test",
        metric="accuracy", unit="%", fidelity=200,
        description="test accuracy of the network trained on the 25k train split only (cifar10-valid), 200 epochs",
        source="cifar10_valid_200ep")  # fmt: skip
    put("cifar10-valid/train_time_epoch", ids, _values(f, "train-per-time", p), dataset="cifar10-valid", split="train",
        metric="time_per_epoch", unit="s", description="training time of one epoch on the 25k train split",
        source="cifar10_valid_200ep")  # fmt: skip
    put("cifar10-valid/valid_time", ids, _values(f, "valid-per-time", p), dataset="cifar10-valid", split="valid",
        metric="eval_time", unit="s", description="time of one evaluation pass over the 25k valid split",
        source="cifar10_valid_200ep")  # fmt: skip

    for ds in ("cifar10-valid", "cifar100", "ImageNet16-120"):
        key = f"valid_{ds}"
        p = paths[key]
        say(f"reading {ds} validation accuracies and scores")
        f = _read_csv(p)
        if len(f) != N or not np.array_equal(_values(f, "index", p), np.arange(N)):
            raise DataError(f"{p}: expected rows with index 0..{N - 1} in order")
        put(f"{ds}/valid_acc@200", official, _values(f, "accuracy", p, 100.0), dataset=ds, split="valid",
            metric="accuracy", unit="%", fidelity=200, description=f"{ds} validation accuracy after 200 epochs, seed mean",
            source=key)  # fmt: skip
        put(f"{ds}/params", official, _values(f, "num_param", p), dataset=ds, metric="params", unit="",
            description=f"parameter count of the {ds} network", source=key)  # fmt: skip
        for score, what in (("score", "ntk"), ("score_nasi", "nasi"), ("score_naswot", "naswot")):
            if score in f.columns:
                put(f"{ds}/score_{what}", official, _values(f, score, p), dataset=ds, metric=f"score_{what}",
                    description=f"training-free {what.upper()} score at initialisation ({ds}); -inf for degenerate cells",
                    source=key)  # fmt: skip

    say("reading 12-epoch accuracies")
    p = paths["12epoch"]
    f = _read_csv(p)
    ids = _rows_by_string(f, "arch", p, space)
    for ds, stem in (("cifar10-valid", "cifar10-val"), ("cifar10", "cifar10-test"), ("cifar100", "cifar100-val"),
                     ("cifar100", "cifar100-test"), ("ImageNet16-120", "imagenet-val"), ("ImageNet16-120", "imagenet-test")):  # fmt: skip
        split = "valid" if stem.endswith("-val") else "test"
        put(f"{ds}/{split}_acc@12", ids, _values(f, stem, p), dataset=ds, split=split, metric="accuracy", unit="%",
            fidelity=12, description=f"{ds} {split} accuracy after 12 epochs (hp=12 schedule), seed mean", source="12epoch")  # fmt: skip

    say("reading latencies")
    p = paths["latency_help"]
    f = _read_csv(p)
    ids = _rows_by_string(f, "arch_str", p, space)
    for dev in HELP_DEVICES:
        put(f"latency/{dev}", ids, _values(f, dev, p), metric="latency", unit="ms",
            description=f"inference latency on {dev} (HELP; batch size after the underscore for GPUs)", source="latency_help")  # fmt: skip
    p = paths["latency_i7"]
    f = _read_csv(p)
    ids = _rows_by_string(f, "arch", p, space, allow_missing=True)
    put("latency/i7-7820x", ids, _values(f, "latency_ms", p), metric="latency", unit="ms",
        description="inference latency on an Intel i7-7820X CPU, fp32 (BRP-NAS); NaN for the 341 cells whose output "
        "is disconnected from the input", source="latency_i7")  # fmt: skip

    say("writing table")
    meta = {
        "space": "nb201",
        "row_order": "benchlab id (base-5, edge 1<-0 most significant); column official_index maps to the official index",
        "datasets": list(DATASETS),
        "provenance": [s.to_dict() for s in SOURCES.values()],
        "builder": "benchlab.benchmarks.nb201._build",
    }
    return write_table(NAME, cols, info, meta, root)


register_table_builder(
    TableBuilder(
        name=NAME,
        description="NAS-Bench-201: 15,625 cells, 4 datasets, 12/200-epoch valid/test accuracies, times, params, "
        "latencies, training-free scores (public files)",
        sources=tuple(SOURCES.values()),
        build=build,
        fetch=fetch,
    )
)
