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

from benchlab import Benchmark, DataError, Evaluation, InvalidArchitecture, InvalidConfig, Objective, register_benchmark
from benchlab._paths import data_dir
from benchlab._store import atomic_write_bytes

from ..nb201 import NB201Space

__all__ = ["AnalogNAS", "METRICS", "load_table"]

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


class _RestrictedUnpickler(pickle.Unpickler):
    _ALLOWED = {("analognasbench.data", "Architecture"), ("analognasbench.data", "DriftMeasurement")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return _Record
        raise pickle.UnpicklingError(
            f"data.anb refers to {module}.{name}, which is not an AnalogNAS-Bench record; refusing to load it"
        )


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
        records = _RestrictedUnpickler(io.BytesIO(raw)).load()
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
    try:
        with np.load(cache, allow_pickle=False) as z:
            cols = {k: z[k] for k in z.files}
        if set(cols) >= set(METRICS):
            return cols, provenance
    except Exception:  # OSError, ValueError, BadZipFile, EOFError...: any damage means rebuild
        pass  # no cache yet, or a damaged one: rebuild it
    cols = _convert(raw, path)
    try:
        buf = io.BytesIO()
        np.savez(buf, **cols)
        atomic_write_bytes(cache, buf.getvalue())
    except OSError:
        pass  # read-only cache folder: work from memory
    return cols, provenance


@register_benchmark("analognas")
class AnalogNAS(Benchmark):
    """AnalogNAS-Bench: NB201 cells retrained on CIFAR-10 (200 epochs), embedded, no download.

    Parameters
    ----------
    objective:
        Metric to maximise (default ``baseline_accuracy``); any of ``METRICS``. A list
        makes a multi-objective benchmark with the first one primary.

    The table has test accuracies only (no validation split) and no training times, so
    strategies see the test accuracy and each query costs one unit.
    """

    description = "AnalogNAS-Bench (PyPI): 15,625 NB201 cells, CIFAR-10 200-epoch test acc + analog/quantised accs; cost 1/eval"
    visible_split = "test (AnalogNAS-Bench has no validation split: strategies see the 200-epoch CIFAR-10 test accuracy)"
    report_split = "test"
    cost_unit = "evaluation"

    def __init__(self, objective: str | list = "baseline_accuracy") -> None:
        self.objective = objective
        names = [objective] if isinstance(objective, str) else list(objective)
        for n in names:
            if n not in METRICS:
                raise InvalidConfig(f"analognas has no metric {n!r}; choose from {', '.join(METRICS)}")
        if not names:
            raise InvalidConfig("analognas: objective must name at least one metric")
        self.space = NB201Space()
        self.objectives = tuple(Objective(n, "max", "%", METRICS[n]) for n in names)
        self.fidelity = None
        self._cols, self.provenance = load_table()
        self._names = names
        self._lists = {n: self._cols[n].tolist() for n in names}
        self.space.all_archs  # build id tables now, not in the first query
        self._ids = self.space._ids

    def _row(self, arch) -> int:
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.space.validate(arch)
            raise InvalidArchitecture(f"{arch!r} is not in the analognas table") from None

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        if fidelity is not None:
            raise InvalidConfig("analognas has a single fidelity (200 epochs); ask with fidelity=None")
        row = self._row(arch)
        return Evaluation({n: self._lists[n][row] for n in self._names}, 1.0)

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        rows = np.fromiter((self._row(a) for a in archs), dtype=np.int64, count=len(archs))
        cols = [self._cols[n][rows].tolist() for n in self._names]
        return [Evaluation(dict(zip(self._names, vals)), 1.0) for vals in zip(*cols)]

    def report(self, arch) -> dict[str, float]:
        row = self._row(arch)
        return {m: float(self._cols[m][row]) for m in self._cols}

    def optimum(self, metric: str) -> float:
        if metric not in self._cols:
            raise InvalidConfig(f"analognas has no metric {metric!r}; choose from {', '.join(self._cols)}")
        if metric.endswith("_std"):
            raise InvalidConfig(f"{metric} is an uncertainty, not something to optimise")
        return float(np.nanmax(self._cols[metric]))
