"""Build benchlab's ``nas-bench-macro`` and ``channel-bench-macro`` tables from the public JSON files.

Both builders check their files against the pinned sha256 first (nothing is written
unless every file checks out), check that the keys are exactly the space's strings, and
write rows in benchlab id order (see :mod:`._space`).

What the accuracies are, from the authors' training scripts: every network was trained
3 times on CIFAR-10 (SGD, cosine schedule; 50 epochs for NAS-Bench-Macro, 60 for
Channel-Bench-Macro, the defaults of their ``train.py``: the JSON files do not record it),
and each run's value is its BEST test accuracy over the epochs: the scripts evaluate the
official CIFAR-10 test set after every epoch and keep the maximum. So the numbers are
test-set accuracies with test-set early stopping (optimistic by a few tenths of a point
against a last-epoch accuracy); the column names say ``test_acc_best``. There is no
validation split and there are no training times.

``nas-bench-macro`` columns (CIFAR-10): ``cifar10/test_acc_best@50`` (mean of the 3 runs,
%), ``cifar10/test_acc_best_per_seed@50`` (2-D, axes ``("arch", "seed")``, the 3 runs in
file order; the script seeds them 0, 1, 2), ``cifar10/test_acc_best_std@50`` (the file's
population standard deviation, ``ddof=0``), ``params``, ``flops`` (multiply-accumulates
of the convolution and linear layers at 32x32 input, as the authors count them) and
``canonical_id`` (benchlab id of the trained representative, see
:meth:`MacroSpace.canonical`; 3,969 distinct values).

``channel-bench-macro`` columns, for ``<model>`` in ``mobilenet``, ``resnet`` (CIFAR-10):
``<model>/test_acc_best@60``, ``<model>/test_acc_best_per_seed@60`` (runs in file order;
their seeds are not recorded), ``<model>/test_acc_best_std@60`` (the file's SAMPLE
standard deviation, ``ddof=1``, unlike NAS-Bench-Macro), ``<model>/params``,
``<model>/flops``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

import numpy as np

from benchlab import DataError
from benchlab.ext import Column, TableBuilder, check_source_file, fetch_sources, register_table_builder, write_table

from ._sources import CHANNEL_SOURCES, MACRO_SOURCES
from ._space import CHANNEL_MODELS, ChannelSpace, MacroSpace

__all__ = ["build_macro", "build_channel", "fetch_macro", "fetch_channel", "MACRO_NAME", "CHANNEL_NAME", "MACRO_EPOCHS", "CHANNEL_EPOCHS", "N_SEEDS"]

MACRO_NAME = "nas-bench-macro"
CHANNEL_NAME = "channel-bench-macro"
MACRO_EPOCHS = 50
CHANNEL_EPOCHS = 60
N_SEEDS = 3


def _read_json(path: Path, space, acc_key: str, mean_key: str) -> dict[str, np.ndarray]:
    """``per_seed``, ``mean``, ``std``, ``params``, ``flops`` in benchlab id order."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be parsed as JSON ({exc}); replace the file") from None
    strings = [space.to_str(a) for a in space.enumerate()]
    if not isinstance(data, dict) or set(data) != set(strings):
        raise DataError(
            f"{path} must map every one of the {len(strings)} {space.name} strings to a record; "
            f"found {len(data) if isinstance(data, dict) else type(data).__name__} keys"
        )
    n = len(strings)
    out = {"per_seed": np.empty((n, N_SEEDS)), "mean": np.empty(n), "std": np.empty(n),
           "params": np.empty(n, dtype=np.int64), "flops": np.empty(n, dtype=np.int64)}  # fmt: skip
    for row, key in enumerate(strings):
        rec = data[key]
        try:
            accs = [float(v) for v in rec[acc_key]]
            mean, std = float(rec[mean_key]), float(rec["std"])
            params, flops = rec["params"], rec["flops"]
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: record {key!r} lacks a numeric field ({exc}); it is not the expected file") from None
        if len(accs) != N_SEEDS or not all(math.isfinite(v) for v in accs + [mean, std]):
            raise DataError(f"{path}: record {key!r} must hold {N_SEEDS} finite accuracies, got {rec[acc_key]!r}")
        if abs(mean - sum(accs) / N_SEEDS) > 1e-6:
            raise DataError(f"{path}: record {key!r}: {mean_key} {mean} is not the mean of {accs}")
        if type(params) is not int or type(flops) is not int or params <= 0 or flops <= 0:
            raise DataError(f"{path}: record {key!r}: params and flops must be positive integers")
        out["per_seed"][row] = accs
        out["mean"][row], out["std"][row], out["params"][row], out["flops"][row] = mean, std, params, flops
    return out


def _columns(prefix: str, values: dict, epochs: int, what: str, seeds_note: str, std_note: str, src: str):
    acc = f"{prefix}test_acc_best@{epochs}"
    best = f"best CIFAR-10 test accuracy over the {epochs} training epochs"
    cols = {
        acc: values["mean"],
        f"{prefix}test_acc_best_per_seed@{epochs}": values["per_seed"],
        f"{prefix}test_acc_best_std@{epochs}": values["std"],
        f"{prefix}params": values["params"],
        f"{prefix}flops": values["flops"],
    }
    common = dict(dataset="cifar10", source=src)
    info = {
        acc: Column(acc, "float64", split="test", metric="accuracy_best_epoch", unit="%", fidelity=epochs,
                    description=f"{what}: {best}, mean of {N_SEEDS} training runs", **common),
        f"{prefix}test_acc_best_per_seed@{epochs}": Column(
            f"{prefix}test_acc_best_per_seed@{epochs}", "float64", split="test", metric="accuracy_best_epoch",
            unit="%", fidelity=epochs, axes=("arch", "seed"), labels={"seed": list(range(N_SEEDS))},
            description=f"{what}: {best}, each of the {N_SEEDS} training runs ({seeds_note})", **common),
        f"{prefix}test_acc_best_std@{epochs}": Column(
            f"{prefix}test_acc_best_std@{epochs}", "float64", split="test", metric="accuracy_best_epoch_std",
            unit="%", fidelity=epochs, description=f"{what}: standard deviation of the {N_SEEDS} runs ({std_note})",
            **common),
        f"{prefix}params": Column(f"{prefix}params", "int64", metric="params", description=f"{what}: parameter count",
                                  **common),
        f"{prefix}flops": Column(f"{prefix}flops", "int64", metric="flops", description=f"{what}: multiply-accumulates "
                                 "of the convolution and linear layers at 32x32 input (the authors' count)", **common),
    }  # fmt: skip
    return cols, info


def _meta(space: str, row_order: str, sources, builder: str, notes: list[str]) -> dict:
    return {
        "space": space,
        "row_order": row_order,
        "datasets": ["cifar10"],
        "notes": [
            "test accuracies only (best epoch of each run, selected on the test set): there is no validation split",
            "no training times: a query costs one evaluation",
            *notes,
        ],
        "provenance": [s.to_dict() for s in sources],
        "builder": builder,
    }


def build_macro(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``nas-bench-macro`` table from ``source_dir`` (laid out like ``../shared/data``)."""
    say = progress or (lambda msg: None)
    src = MACRO_SOURCES["nas-bench-macro"]
    say(f"checking {src.local}")
    path = check_source_file(Path(source_dir), src)
    space = MacroSpace()
    say(f"reading {path.name}")
    values = _read_json(path, space, "test_acc", "mean_acc")
    cols, info = _columns("cifar10/", values, MACRO_EPOCHS, "NAS-Bench-Macro", "seeded 0, 1, 2 by the authors' script",
                          "population std, ddof=0", src.key)  # fmt: skip
    canonical = np.fromiter((space.to_id(space.canonical(a)) for a in space.enumerate()), dtype=np.int64, count=space.size)
    cols["canonical_id"] = canonical
    info["canonical_id"] = Column(
        "canonical_id", "int64",
        description="benchlab id of the network actually trained for this string (identities after the first layer "
        "of a stage moved to the stage end); strings with the same canonical_id share one record",
    )  # fmt: skip
    say("writing table")
    meta = _meta("nas-bench-macro", "benchlab id = the 8-digit string read in base 3 (first layer most significant)",
                 MACRO_SOURCES.values(), "benchlab.benchmarks.macro._build",
                 [f"6,561 strings but {len(np.unique(canonical))} distinct trained networks (see canonical_id)"])  # fmt: skip
    return write_table(MACRO_NAME, cols, info, meta, root)


def build_channel(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``channel-bench-macro`` table (both models) from ``source_dir``."""
    say = progress or (lambda msg: None)
    paths = {}
    for key, src in CHANNEL_SOURCES.items():
        say(f"checking {src.local}")
        paths[key] = check_source_file(Path(source_dir), src)
    cols: dict[str, np.ndarray] = {}
    info: dict[str, Column] = {}
    for model in CHANNEL_MODELS:
        say(f"reading {paths[model].name}")
        values = _read_json(paths[model], ChannelSpace(model), "acc", "mean")
        c, i = _columns(f"{model}/", values, CHANNEL_EPOCHS, f"Channel-Bench-Macro {model}",
                        "separate jobs; their seeds are not recorded", "sample std, ddof=1", model)  # fmt: skip
        cols.update(c)
        info.update(i)
    say("writing table")
    meta = _meta("channel-bench-macro (mobilenet and resnet share the 7-digit strings; columns <model>/...)",
                 "benchlab id = the 7-digit string with digits 1..4 read as base-4 digits 0..3 (first layer most "
                 "significant)", CHANNEL_SOURCES.values(), "benchlab.benchmarks.macro._build", [])  # fmt: skip
    meta["models"] = list(CHANNEL_MODELS)
    return write_table(CHANNEL_NAME, cols, info, meta, root)


def fetch_macro(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
                bar: Callable | None = None) -> Path:
    """Download the original NAS-Bench-Macro JSON into ``dest_dir`` (``--source`` layout)."""
    return fetch_sources(MACRO_NAME, MACRO_SOURCES.values(), dest_dir, progress, base_url=base_url, bar=bar)


def fetch_channel(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
                  bar: Callable | None = None) -> Path:
    """Download the two original Channel-Bench-Macro JSON files into ``dest_dir``."""
    return fetch_sources(CHANNEL_NAME, CHANNEL_SOURCES.values(), dest_dir, progress, base_url=base_url, bar=bar)


register_table_builder(
    TableBuilder(
        name=MACRO_NAME,
        description="NAS-Bench-Macro: 6,561 macro architectures (3,969 distinct), CIFAR-10 best-epoch test acc of "
        "3 runs, params, FLOPs (public file)",
        sources=tuple(MACRO_SOURCES.values()),
        build=build_macro,
        fetch=fetch_macro,
    )
)
register_table_builder(
    TableBuilder(
        name=CHANNEL_NAME,
        description="Channel-Bench-Macro: 16,384 width configurations of a MobileNet and a ResNet, CIFAR-10 "
        "best-epoch test acc of 3 runs, params, FLOPs (public files)",
        sources=tuple(CHANNEL_SOURCES.values()),
        build=build_channel,
        fetch=fetch_channel,
    )
)
