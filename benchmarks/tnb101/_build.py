"""Build benchlab's ``tnb101-micro`` and ``tnb101-macro`` tables from NASLib's zip exports.

Each zip holds JSON lists of records ``{idx, arch, zen: {score, time}, val_accuracy}`` in
files ``zen/benchmark--transbench101_<space>--<task>--<offset>.json``. ``arch`` is the
string of a tuple of official codes: the 6 cell digits (micro, which are benchlab's
architecture) or the 4 to 6 module codes (macro, mapped to benchlab's option-index tuple,
see :mod:`._space`). ``idx`` is NASLib's own enumeration, neither benchlab's id
nor the official API index, and is not kept.

The builder checks the sha256 first, then that every task covers every architecture of
the space exactly once with finite values, and writes rows in benchlab id order. Columns,
for each of the 7 tasks:

* ``<task>/<metric>``: the validation metric NASLib reports as ``val_accuracy`` (best
  epoch; see :data:`._sources.TASKS`): ``valid_top1`` (%), ``valid_neg_loss`` (room
  layout: the negated L2 loss), ``valid_acc`` (pixel accuracy, %) or ``valid_ssim``;
* ``<task>/zen``: the Zen-NAS zero-cost score (Lin et al., ICCV 2021) NASLib computed for
  the task's network at initialisation. NASLib writes -1e8 where the score fails; here that
  happens for the 169 micro cells whose output node receives only zeros (the network's
  output is constant, the score would be log 0). The value is kept as in the file.

There is no test split, no training time and no parameter count in these files.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from benchlab.ext import (
    Column,
    DataError,
    TableBuilder,
    check_source_file,
    fetch_sources,
    register_table_builder,
    write_table,
)

from ._sources import SOURCES, TASKS
from ._space import TNB101MacroSpace, TNB101MicroSpace, macro_arch

__all__ = ["build_micro", "build_macro", "read_zip", "MICRO_NAME", "MACRO_NAME", "ZEN_FAILED"]

MICRO_NAME = "tnb101-micro"
MACRO_NAME = "tnb101-macro"
ZEN_FAILED = -1e8  # NASLib's value for a Zen-NAS score that could not be computed

_FILE = re.compile(r"(?:.*/)?benchmark--transbench101_(micro|macro)--(\w+)--(\d+)\.json")


def _arch(text, space, path: Path, name: str):
    """The benchlab architecture of a record's ``arch`` field (a tuple written as text)."""
    if not isinstance(text, str) or not re.fullmatch(r"\(\s*\d(\s*,\s*\d)*\s*,?\s*\)", text):
        raise DataError(f"{path}:{name}: arch {text!r} is not a tuple of digits; it is not the expected file")
    digits = tuple(int(c) for c in re.findall(r"\d", text))
    arch = macro_arch(digits) if space.name == MACRO_NAME and 4 <= len(digits) <= 6 else digits
    try:
        space.validate(arch)
    except Exception:
        raise DataError(f"{path}:{name}: arch {text!r} is not a {space.name} architecture") from None
    return arch


def read_zip(path: Path, space) -> dict[str, dict[str, np.ndarray]]:
    """``{task: {"metric": values, "zen": values}}`` in benchlab id order, checked."""
    kind = space.name.split("-")[1]
    n = space.size
    values = {t: {"metric": np.full(n, np.nan), "zen": np.full(n, np.nan)} for t in TASKS}
    seen = {t: np.zeros(n, dtype=bool) for t in TASKS}
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable zip ({exc}); replace the file") from None
    with zf:
        for name in zf.namelist():
            if name.endswith("/"):
                continue
            m = _FILE.fullmatch(name)
            if m is None or m.group(1) != kind or m.group(2) not in TASKS:
                raise DataError(f"{path}: unexpected member {name!r}; expected "
                                f"benchmark--transbench101_{kind}--<task>--<offset>.json for the 7 tasks")  # fmt: skip
            task = m.group(2)
            try:
                records = json.loads(zf.read(name))
            except ValueError as exc:
                raise DataError(f"{path}:{name} is not JSON ({exc}); replace the file") from None
            if not isinstance(records, list):
                raise DataError(f"{path}:{name} must hold a JSON list of records")
            for rec in records:
                try:
                    arch = _arch(rec["arch"], space, path, name)
                    metric, zen = float(rec["val_accuracy"]), float(rec["zen"]["score"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise DataError(f"{path}:{name}: a record lacks a numeric field ({exc}); it is not the expected "
                                    "file") from None  # fmt: skip
                if not (math.isfinite(metric) and math.isfinite(zen)):
                    raise DataError(f"{path}:{name}: record {rec.get('idx')!r} has a non-finite value")
                row = space.to_id(arch)
                if seen[task][row]:
                    raise DataError(f"{path}:{name}: {space.to_str(arch)} appears twice for task {task}")
                seen[task][row] = True
                values[task]["metric"][row] = metric
                values[task]["zen"][row] = zen
    for task, got in seen.items():
        if not got.all():
            missing = space.to_str(space.from_id(int(np.flatnonzero(~got)[0])))
            raise DataError(f"{path}: task {task} covers {int(got.sum())} of the {n} architectures (e.g. {missing} "
                            "is missing); it is not the complete export")  # fmt: skip
    return values


def _build(name: str, key: str, space, source_dir: Path, root, progress) -> Path:
    say = progress or (lambda msg: None)
    src = SOURCES[key]
    say(f"checking {src.local}")
    path = check_source_file(Path(source_dir), src)
    say(f"reading {path.name}")
    values = read_zip(path, space)
    cols: dict[str, np.ndarray] = {}
    info: dict[str, Column] = {}
    failed = {}
    for task, (metric, unit, what) in TASKS.items():
        col = f"{task}/{metric}"
        cols[col] = values[task]["metric"]
        info[col] = Column(col, "float64", dataset=task, split="valid", metric=metric, unit=unit,
                           description=f"{what}; best epoch (NASLib val_accuracy)", source=src.key)  # fmt: skip
        zen = f"{task}/zen"
        cols[zen] = values[task]["zen"]
        failed[task] = int((values[task]["zen"] == ZEN_FAILED).sum())
        info[zen] = Column(zen, "float64", dataset=task, metric="zen_nas_score",
                           description=f"Zen-NAS zero-cost score of the {task} network at initialisation (NASLib); "
                           f"{ZEN_FAILED:g} = the score failed ({failed[task]} architectures)", source=src.key)  # fmt: skip
    say("writing table")
    meta = {
        "space": space.name,
        "row_order": "benchlab id (see benchlab.benchmarks.tnb101: " + (
            "the 6 cell digits read in base 4, first edge most significant)" if key == "micro"
            else "skeletons by length 4, 5, 6, then lexicographically by module digits)"),
        "datasets": list(TASKS),
        "tasks": {t: {"metric": m, "unit": u, "description": d} for t, (m, u, d) in TASKS.items()},
        "notes": [
            "validation metrics only (best epoch, as NASLib queries TransNAS-Bench-101): there is no test split",
            "no training times: a query costs one evaluation",
            "room_layout/valid_neg_loss is the negated L2 loss: higher is better",
            f"zen = Zen-NAS score; {ZEN_FAILED:g} where NASLib could not compute it: {failed}",
        ],
        "provenance": [src.to_dict()],
        "builder": "benchlab.benchmarks.tnb101._build",
    }  # fmt: skip
    return write_table(name, cols, info, meta, root)


def build_micro(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``tnb101-micro`` table from ``source_dir`` (laid out like ``../shared/data``)."""
    return _build(MICRO_NAME, "micro", TNB101MicroSpace(), source_dir, root, progress)


def build_macro(source_dir: Path, root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build the ``tnb101-macro`` table from ``source_dir`` (laid out like ``../shared/data``)."""
    return _build(MACRO_NAME, "macro", TNB101MacroSpace(), source_dir, root, progress)


def _fetch(key: str, name: str):
    def fetch(dest_dir: Path, progress: Callable[[str], None] | None = None, *, base_url: str | None = None,
              bar: Callable | None = None) -> Path:  # fmt: skip
        """Download NASLib's original zip into ``dest_dir`` (``--source`` layout)."""
        return fetch_sources(name, [SOURCES[key]], dest_dir, progress, base_url=base_url, bar=bar)

    return fetch


register_table_builder(
    TableBuilder(
        name=MICRO_NAME,
        description="TransNAS-Bench-101 micro: 4,096 cells x 7 Taskonomy tasks, best-epoch validation metric and "
        "Zen-NAS score (NASLib export)",
        sources=(SOURCES["micro"],),
        build=build_micro,
        fetch=_fetch("micro", MICRO_NAME),
    )
)
register_table_builder(
    TableBuilder(
        name=MACRO_NAME,
        description="TransNAS-Bench-101 macro: 3,256 skeletons x 7 Taskonomy tasks, best-epoch validation metric and "
        "Zen-NAS score (NASLib export)",
        sources=(SOURCES["macro"],),
        build=build_macro,
        fetch=_fetch("macro", MACRO_NAME),
    )
)
