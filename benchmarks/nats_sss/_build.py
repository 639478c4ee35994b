"""Build benchlab's NATS-Bench size-space table (``nats-sss``) from the public CSV files.

``build(source_dir)`` checks the three files of :mod:`._sources` against their pinned
sha256 (nothing is written unless all check out), reads them, checks that row ``i`` holds
official index ``i`` (which is also the benchlab id, see :mod:`._space`) and writes the
table atomically.

Columns (``<dataset>/...`` for ``cifar10``, ``cifar100``, ``ImageNet16-120``):

- ``<dataset>/test_acc@90``: test accuracy in % after the 90-epoch schedule (NATS-Bench
  ``hp=90``, the paper's "full training" of the size space); the test split is
  ``ori-test`` for CIFAR-10 and ``x-test`` (half of the official test set) for CIFAR-100
  and ImageNet16-120. Every value is an exact multiple of 1/10000, 1/5000 and 1/3000
  respectively (one test image): ONE training run per network, not a mean over seeds.
  Which seed is not recorded (MONET's code reads NATS-Bench with
  ``get_more_info(index, dataset, hp="90")``, whose default ``is_random=True`` returns one
  stored seed's result).
- ``<dataset>/params``: parameter count (it differs between datasets by the classifier).
- ``<dataset>/score_ntk``, ``score_nasi`` (not for ImageNet16-120), ``score_naswot``:
  training-free scores at initialisation, as computed by the MONET authors.
- ``official_index``: the NATS-Bench size-space index (equal to the row number).

There is no validation split, no training time and no 12-epoch result in these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from benchlab import DataError
from benchlab.ext import Column, TableBuilder, check_source_file, fetch_sources, register_table_builder, write_table

from ._sources import SOURCES
from ._space import CHANNELS, N_LAYERS

__all__ = ["build", "fetch", "NAME", "DATASETS", "N", "EPOCHS"]

NAME = "nats-sss"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
N = len(CHANNELS) ** N_LAYERS
EPOCHS = 90
_TEST_SPLIT = {"cifar10": "ori-test (10,000 images)", "cifar100": "x-test (5,000 images)",
               "ImageNet16-120": "x-test (3,000 images)"}  # fmt: skip
_SCORES = (("score", "ntk", "NTK-based score (MONET)"), ("score_nasi", "nasi", "NASI score"),
           ("score_naswot", "naswot", "NASWOT score"))  # fmt: skip


def _read(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"{path} cannot be parsed as CSV ({exc}); replace the file") from None
    for col in ("index", "num_param", "accuracy"):
        if col not in frame.columns:
            raise DataError(f"{path} has no column {col!r}; it is not the expected NATS-Bench size-space file")
    if len(frame) != N:
        raise DataError(f"{path} has {len(frame)} rows, expected {N}")
    return frame


def _values(frame, column: str, path: Path) -> np.ndarray:
    try:
        return frame[column].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: column {column!r} is not numeric ({exc})") from None


def build(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``nats-sss`` table from ``source_dir`` (laid out like ``../shared/data``)."""
    source_dir = Path(source_dir)
    say = progress or (lambda msg: None)
    paths = {}
    for key, src in SOURCES.items():
        say(f"checking {src.local}")
        paths[key] = check_source_file(source_dir, src)

    cols: dict[str, np.ndarray] = {"official_index": np.arange(N, dtype=np.int64)}
    info: dict[str, Column] = {
        "official_index": Column("official_index", "int64", description="NATS-Bench size-space index (= benchlab id)")
    }
    for ds in DATASETS:
        path = paths[ds]
        say(f"reading {path.name}")
        frame = _read(path)
        if not np.array_equal(_values(frame, "index", path), np.arange(N)):
            raise DataError(f"{path}: column 'index' must hold 0..{N - 1} in order (the official size-space index)")
        acc = _values(frame, "accuracy", path)
        if not (np.isfinite(acc).all() and (acc >= 0).all() and (acc <= 100).all()):
            raise DataError(f"{path}: column 'accuracy' must hold percentages in [0, 100]")
        params = _values(frame, "num_param", path)
        if not (np.isfinite(params).all() and (params > 0).all() and (params == np.round(params)).all()):
            raise DataError(f"{path}: column 'num_param' must hold positive parameter counts")
        name = f"{ds}/test_acc@{EPOCHS}"
        cols[name] = acc
        info[name] = Column(
            name, "float64", dataset=ds, split="test", metric="accuracy", unit="%", fidelity=EPOCHS,
            description=f"{ds} test accuracy on {_TEST_SPLIT[ds]} after the {EPOCHS}-epoch schedule (hp={EPOCHS}); "
            "one training run per network, not a seed mean", source=ds,
        )  # fmt: skip
        name = f"{ds}/params"
        cols[name] = params.astype(np.int64)
        info[name] = Column(name, "int64", dataset=ds, metric="params", unit="",
                            description=f"parameter count of the {ds} network", source=ds)  # fmt: skip
        for col, short, what in _SCORES:
            if col in frame.columns:
                name = f"{ds}/score_{short}"
                cols[name] = _values(frame, col, path)
                info[name] = Column(name, "float64", dataset=ds, metric=f"score_{short}", source=ds,
                                    description=f"training-free {what} at initialisation on {ds}")  # fmt: skip

    say("writing table")
    meta = {
        "space": "nats-sss",
        "row_order": "benchlab id = official NATS-Bench size-space index (base 8, first layer most significant)",
        "datasets": list(DATASETS),
        "notes": [
            "test accuracies only: there is no validation split in these files",
            "one training run per network (values are multiples of one test image), not a mean over seeds",
            "no training times: a query costs one evaluation",
        ],
        "provenance": [s.to_dict() for s in SOURCES.values()],
        "builder": "benchlab.benchmarks.nats_sss._build",
    }
    return write_table(NAME, cols, info, meta, root)


def fetch(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
          bar: Callable | None = None) -> Path:
    """Download the three original CSV files into ``dest_dir`` (``--source`` layout); see
    :func:`._sources.fetch_sources` for ``base_url`` and ``bar``."""
    return fetch_sources(NAME, SOURCES.values(), dest_dir, progress, base_url=base_url, bar=bar)


register_table_builder(
    TableBuilder(
        name=NAME,
        description="NATS-Bench size space: 32,768 channel configurations, 90-epoch test accuracy on CIFAR-10/100 "
        "and ImageNet16-120 (one run), params, training-free scores (public files)",
        sources=tuple(SOURCES.values()),
        build=build,
        fetch=fetch,
    )
)
