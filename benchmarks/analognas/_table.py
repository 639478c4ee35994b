"""AnalogNAS-Bench (Benmeziane et al., 2025): the NB201 space retrained on CIFAR-10.

The PyPI package ``analog-nasbench`` ships ``data.anb``, a pickle of its own classes.
benchlab never runs a bare ``pickle.load`` on it: a restricted unpickler admits exactly
the two record classes of that file and nothing else, and the result is converted once
into plain ``.npy`` columns in the data cache (keyed by the file's sha256).

Its tuples are ``(e(1<-0), e(2<-0), e(3<-0), e(2<-1), e(3<-1), e(3<-2))`` with ops
0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3; benchlab maps them
to NB201 notation. The table holds 200-epoch CIFAR-10 TEST accuracies only: there is no
validation split and there are no training times. A strategy therefore sees the same
test accuracy that the report uses, and every query costs one unit ("evaluation").
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
from pathlib import Path

import numpy as np

from benchlab import DataError
from benchlab.ext import data_dir, read_checked_file, restricted_load, write_checked_file

from ..nb201 import NB201Space

__all__ = ["METRICS", "load_table", "load_records", "to_nb201"]

# data.anb of analog-nasbench 0.1.3 (the only published version with this file).
PINNED_SHA256 = {"0.1.3": "85f3435b877aa2d36268d55ce07f6ff6d73643d17a840f1941745da5eb80db32"}
_DRIFT_TIMES = (60, 3600, 86400, 2592000)
METRICS = {
    "baseline_accuracy": "CIFAR-10 test accuracy of the digitally trained network (200 epochs)",
    "ptq_accuracy": "test accuracy after post-training 8-bit quantisation",
    "qat_accuracy": "test accuracy after quantisation-aware training",
    "noisy_accuracy": "test accuracy with hardware-aware noise injected during training",
    "analog_accuracy": "test accuracy on simulated analog in-memory-computing hardware",
    **{f"baseline_drift_{t}": f"digital-trained network on analog hardware after {t} s of conductance drift" for t in _DRIFT_TIMES},
    **{f"analog_drift_{t}": f"analog-trained network on analog hardware after {t} s of conductance drift" for t in _DRIFT_TIMES},
}
_SCALAR = ("baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy")
# AnalogNAS op id -> NB201 op id; AnalogNAS edge position -> NB201 edge position.
_OP_MAP = (1, 0, 3, 2, 4)
_EDGE_ORDER = (0, 1, 3, 2, 4, 5)  # NB201 edge i comes from AnalogNAS position _EDGE_ORDER[i]


class _Record:
    """Stand-in for analognasbench.data.Architecture / DriftMeasurement: attributes only."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("unexpected record state in data.anb")
        self.__dict__.update(state)


_RECORDS = {("analognasbench.data", "Architecture"): _Record, ("analognasbench.data", "DriftMeasurement"): _Record}


def load_records(raw: bytes) -> dict:
    """The pickled dict of ``data.anb``, admitting its two record classes and nothing else."""
    return restricted_load(raw, _RECORDS, refuse="is not an AnalogNAS-Bench record")


def to_nb201(arch: tuple) -> tuple:
    """An AnalogNAS-Bench tuple in NB201 notation (edge order and op ids)."""
    return tuple(_OP_MAP[arch[p]] for p in _EDGE_ORDER)


def _package_file() -> tuple[Path, str]:
    spec = importlib.util.find_spec("analognasbench")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the analog-nasbench package is not installed: run `pip install analog-nasbench==0.1.3`")
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("analog-nasbench")
    except PackageNotFoundError:
        ver = "unknown"
    path = Path(list(spec.submodule_search_locations)[0]) / "data.anb"
    if not path.is_file():
        raise DataError(f"{path} is missing: reinstall with `pip install --force-reinstall analog-nasbench==0.1.3`")
    return path, ver


def _convert(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    try:
        records = load_records(raw)
    except Exception as exc:
        raise DataError(f"{path} is corrupt or truncated ({exc}); reinstall analog-nasbench") from None
    if not isinstance(records, dict) or len(records) != 15625:
        raise DataError(f"{path} should map 15,625 architectures, found {len(records) if isinstance(records, dict) else type(records).__name__}")
    space = NB201Space()
    cols = {m: np.full(15625, np.nan) for m in METRICS}
    cols.update({f"{m}_std": np.full(15625, np.nan) for m in METRICS if "drift" in m})
    seen = np.zeros(15625, dtype=bool)
    for key, rec in records.items():
        try:
            row = space.to_id(to_nb201(tuple(int(v) for v in key)))
        except Exception:
            raise DataError(f"{path}: key {key!r} is not an AnalogNAS-Bench architecture tuple") from None
        seen[row] = True
        for m in _SCALAR:
            cols[m][row] = float(getattr(rec, m))
        for m in METRICS:
            if "drift" in m:
                d = getattr(rec, m)
                cols[m][row] = float(d.value)
                cols[f"{m}_std"][row] = float(d.uncertainty)
    if not seen.all():
        raise DataError(f"{path}: {int((~seen).sum())} NB201 cells are missing")
    return cols


def load_table() -> tuple[dict[str, np.ndarray], dict]:
    """Columns (NB201 benchlab-id order) and provenance; cached as .npz by sha256."""
    path, ver = _package_file()
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    pinned = PINNED_SHA256.get(ver)
    if pinned is not None and sha != pinned:
        raise DataError(
            f"{path} has sha256 {sha[:16]}..., not the published {pinned[:16]}... of analog-nasbench {ver}: "
            "the file is damaged; run `pip install --force-reinstall analog-nasbench==0.1.3`"
        )
    provenance = {"package": "analog-nasbench", "version": ver, "file": "data.anb", "sha256": sha}
    cache = data_dir() / "analognas" / f"table-{sha[:16]}.npz"
    cached = read_checked_file(cache)  # None when absent, not a regular file or not matching its sha256 sidecar
    if cached is not None:
        try:
            with np.load(io.BytesIO(cached), allow_pickle=False) as z:
                cols = {k: z[k] for k in z.files}
            if set(cols) >= set(METRICS):
                return cols, provenance
        except Exception:  # OSError, ValueError, BadZipFile, EOFError...: any damage means rebuild
            pass
    cols = _convert(raw, path)
    try:
        buf = io.BytesIO()
        np.savez(buf, **cols)
        write_checked_file(cache, buf.getvalue())
    except OSError:
        pass  # read-only cache folder: work from memory
    return cols, provenance
