"""Build the ``nb101-naslib500`` table: real NAS-Bench-101 results of a few hundred cells.

Source: automl/NASLib @ f461fb57c441bd9b30402e4a53a57561397dc8ad :
``naslib/data/zc_nasbench101.json`` (Apache-2.0; ``nb101/naslib_zc_nasbench101_500.json`` in
a ``--source`` folder). It maps 500 NASLib keys to ``val_accuracy`` and 13 zero-cost scores.

Key format (NASLib ``naslib/search_spaces/nasbench101/conversions.py``,
``convert_spec_to_tuple``): the string of a Python tuple of 56 ints: the raw 7x7
adjacency matrix flattened row-major (49 values), then 7 op codes indexing NASLib's
``all_ops = [input, output, maxpool3x3, conv1x1-bn-relu, conv3x3-bn-relu]``, i.e.

    NASLib code  0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu
    benchlab op  -        -         2             1                  0

The raw spec is pruned and hashed with the official module hash
(:func:`benchlab.benchmarks.nb101._graph.module_hash`); the 500 keys are 292 distinct cells (NASLib
sampled raw matrices, many of which prune to the same small cell: 55 keys are the
input -> output cell). The ``val_accuracy`` values of the keys of one cell come from
a set of at most 3 (the cell's 3 training runs) and, but for 3 cells, they share one
``params``: what the official data predicts, a check of both the key decoding and the hash.

``val_accuracy`` is what NASLib's NB101 query returns: the official ``NASBench.query``
at 108 epochs, i.e. the validation accuracy of ONE of the 3 training runs drawn at random,
times 100. The table stores, per cell, the distinct values NASLib recorded
(``cifar10/valid_acc_seeds@108``, up to 3, repeat order unknown, NaN past them; as
fractions, divided by 100) and their mean (``cifar10/valid_acc@108``; with fewer than 3
distinct values it is not the official 3-run mean). There is no test accuracy and no
training time: the benchmark reports validation accuracy (and says so).

Further columns: ``naslib/params_m`` and ``naslib/flops_m`` (NASLib's PyTorch model, in
millions; not the official ``trainable_parameters``) and ``naslib/score_<proxy>`` (the mean
over the cell's keys of each zero-cost proxy: the raw tuples of one cell are different
networks for NASLib's proxies).
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchlab import DataError
from benchlab.ext import Column, Source, TableBuilder, check_source_file, fetch_sources, register_table_builder, write_table

from ._import import REPEATS, encode_spec, hash_bytes, spec_columns

__all__ = ["NASLIB_NAME", "NASLIB_OPS", "SOURCES", "build_naslib500", "fetch_naslib500"]

NASLIB_NAME = "nb101-naslib500"
#: NASLib's op codes (``all_ops`` of its conversions.py), index = code.
NASLIB_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")
SOURCES = {
    "naslib_zc": Source("naslib_zc", "nb101/naslib_zc_nasbench101_500.json", "automl/NASLib",
                        "f461fb57c441bd9b30402e4a53a57561397dc8ad", "naslib/data/zc_nasbench101.json",
                        "c34840bc9af68b6ebaa7f052e42c1749a9a737d7243078be2a5548052bc5a0c2", "Apache-2.0"),
}  # fmt: skip
_PROXIES = ("epe_nas", "fisher", "grad_norm", "grasp", "jacov", "l2_norm", "plain", "snip", "synflow")


def decode_naslib_key(key: str) -> tuple[np.ndarray, list[str]]:
    """The raw ``(7x7 matrix, 7 ops)`` of a NASLib NB101 key (see the module doc)."""
    try:
        values = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        values = None
    if not isinstance(values, tuple) or len(values) != 56 or not all(type(v) is int for v in values):
        raise ValueError(f"{key[:60]!r} is not a NASLib NB101 key (a tuple of 49 adjacency bits + 7 op codes)")
    if any(v not in (0, 1) for v in values[:49]) or any(not 0 <= v < len(NASLIB_OPS) for v in values[49:]):
        raise ValueError(f"{key[:60]!r}: adjacency bits must be 0/1 and op codes 0..4")
    return np.array(values[:49], dtype=np.int8).reshape(7, 7), [NASLIB_OPS[c] for c in values[49:]]


def build_naslib500(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build ``nb101-naslib500`` from ``source_dir`` (laid out like ``../shared/data``)."""
    from ._graph import module_hash, prune, spec_problem

    say = progress or (lambda msg: None)
    src = SOURCES["naslib_zc"]
    say(f"checking {src.local}")
    path = check_source_file(Path(source_dir), src)
    try:
        data = json.loads(path.read_text())["nasbench101"]["cifar10"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not NASLib's zc_nasbench101.json ({type(exc).__name__}: {exc}); replace it") from None
    cells: dict[str, dict] = {}
    for key, rec in data.items():
        try:
            matrix, ops = decode_naslib_key(key)
            problem = spec_problem(matrix, ops)
            if problem:
                raise ValueError(f"not a valid NB101 cell: {problem}")
            pm, po = prune(matrix, ops)
            h = module_hash(pm, po)
            acc = float(rec["val_accuracy"])
            scores = {p: float(rec[p]) for p in _PROXIES}
            params, flops = float(rec["params"]), float(rec["flops"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: key {key[:40]}...: {exc}; the file is not the expected one") from None
        cell = cells.setdefault(h, {"spec": encode_spec(pm.tolist(), po), "accs": [], "scores": [], "params": set(),
                                    "flops": set(), "keys": 0})  # fmt: skip
        cell["keys"] += 1
        if acc not in cell["accs"]:
            cell["accs"].append(acc)
        cell["scores"].append(scores)
        cell["params"].add(params)
        cell["flops"].add(flops)
    order = sorted(cells, key=hash_bytes)
    n = len(order)
    say(f"{len(data)} NASLib keys, {n} distinct cells")
    seeds = np.full((n, REPEATS), np.nan)
    cols: dict[str, np.ndarray] = {
        "hash": np.array([hash_bytes(h) for h in order], dtype="S16"),
        "n_vertices": np.array([cells[h]["spec"][0] for h in order], dtype=np.uint8),
        "adjacency": np.array([cells[h]["spec"][1] for h in order], dtype=np.uint32),
        "ops": np.array([cells[h]["spec"][2] for h in order], dtype=np.uint8),
        "naslib_keys": np.array([cells[h]["keys"] for h in order], dtype=np.int64),
    }
    for row, h in enumerate(order):
        accs = cells[h]["accs"]
        if len(accs) > REPEATS:
            raise DataError(f"{path}: cell {h} has {len(accs)} distinct validation accuracies over its keys; one cell "
                            f"has {REPEATS} training runs: the file is not the expected one")  # fmt: skip
        seeds[row, : len(accs)] = np.array(accs) / 100.0
    count = (~np.isnan(seeds)).sum(axis=1)
    cols["cifar10/valid_acc_seeds@108"] = seeds
    cols["cifar10/valid_acc@108"] = np.nansum(seeds, axis=1) / count
    cols["naslib/params_m"] = np.array([float(np.mean(sorted(cells[h]["params"]))) for h in order])
    cols["naslib/flops_m"] = np.array([float(np.mean(sorted(cells[h]["flops"]))) for h in order])
    for p in _PROXIES:
        cols[f"naslib/score_{p}"] = np.array([math.fsum(s[p] for s in cells[h]["scores"]) / len(cells[h]["scores"])
                                              for h in order])  # fmt: skip
    info = spec_columns()
    common = {"dataset": "cifar10", "source": src.key}
    info.update({
        "naslib_keys": Column("naslib_keys", "int64", description="NASLib keys (raw 7x7 specs) of this cell in the file",
                              source=src.key),
        "cifar10/valid_acc_seeds@108": Column(
            "cifar10/valid_acc_seeds@108", "float64", split="valid", metric="accuracy", unit="fraction", fidelity=108,
            axes=("arch", "repeat"), labels={"repeat": list(range(REPEATS))},
            description="CIFAR-10 validation accuracy after 108 epochs of the distinct training runs NASLib recorded "
            "(official query = one of 3 runs drawn at random); repeat order unknown, NaN past them", **common),
        "cifar10/valid_acc@108": Column(
            "cifar10/valid_acc@108", "float64", split="valid", metric="accuracy", unit="fraction", fidelity=108,
            description="mean of the distinct 108-epoch validation accuracies NASLib recorded for the cell (1-3 of "
            "its 3 runs)", **common),
        "naslib/params_m": Column("naslib/params_m", "float64", metric="params", unit="M",
                                  description="parameters of NASLib's PyTorch model (millions); mean over the cell's "
                                  "keys (3 cells have keys whose PyTorch models differ by < 1%)", **common),
        "naslib/flops_m": Column("naslib/flops_m", "float64", metric="flops", unit="M",
                                 description="FLOPs of NASLib's PyTorch model (millions)", **common),
    })  # fmt: skip
    for p in _PROXIES:
        info[f"naslib/score_{p}"] = Column(f"naslib/score_{p}", "float64", metric=f"score_{p}",
                                           description=f"zero-cost proxy {p} at initialisation (NASLib), mean over the "
                                           "cell's keys", **common)  # fmt: skip
    meta = {
        "space": "nb101",
        "row_order": "sorted by module hash (column hash, 16 bytes)",
        "datasets": ["cifar10"],
        "epochs": [108],
        "repeats": REPEATS,
        "complete": False,
        "accuracy_unit": "fraction",
        "splits": ["valid"],
        "provenance": [s.to_dict() for s in SOURCES.values()],
        "builder": "benchlab.benchmarks.nb101._build",
        "notes": [
            f"{len(data)} NASLib keys = {n} distinct cells (module hash of the pruned spec)",
            "validation accuracy only (108 epochs, the runs NASLib happened to draw); no test accuracy, no training time",
        ],
    }
    say("writing table")
    return write_table(NASLIB_NAME, cols, info, meta, root)


def fetch_naslib500(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
                    bar: Callable | None = None) -> Path:
    """Download NASLib's ``zc_nasbench101.json`` into ``dest_dir`` (``--source`` layout)."""
    return fetch_sources(NASLIB_NAME, SOURCES.values(), dest_dir, progress, base_url=base_url, bar=bar)  # fmt: skip


register_table_builder(
    TableBuilder(
        name=NASLIB_NAME,
        description="NAS-Bench-101 subset: 292 real cells (500 NASLib keys), 108-epoch validation accuracy of 1-3 "
        "runs, zero-cost scores (public file)",
        sources=tuple(SOURCES.values()),
        build=build_naslib500,
        fetch=fetch_naslib500,
    )
)
