"""Results on disk: ``<root>/<experiment>/<benchmark>/<strategy>/seed-<k>/``.

Each run folder holds ``spec.json``, ``trials.parquet`` and ``summary.json``; the summary
is written last and atomically (temp file + ``os.replace``), so a folder without it is an
incomplete run that ``resume`` re-runs. Trials files are byte-identical for the same spec.
A write killed midway leaves a hidden ``.<name>.<pid>.*.tmp`` file; :func:`remove_stray_temps`
(called by every experiment run) deletes those whose process is gone.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import DataError

__all__ = [
    "write_run",
    "write_failed_run",
    "read_summary",
    "read_trials",
    "read_trial_columns",
    "is_complete",
    "atomic_write_bytes",
    "atomic_write_json",
    "remove_stray_temps",
]

SPEC_FILE = "spec.json"
TRIALS_FILE = "trials.parquet"
SUMMARY_FILE = "summary.json"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``.

    The file gets the mode of any newly created file (0o666 & ~umask), not the private
    0o600 of a temp file, so results can be shared.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stray_temps(folders) -> int:
    """Delete the temp files of killed writes (``.<name>.<pid>.*.tmp`` of a dead ``pid``) in
    ``folders``; return how many. Temp files of live processes are left alone."""
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            parts = name[:-4].split(".")
            pids = [int(x) for x in parts[2:] if x.isascii() and x.isdigit()]
            if pids and (pids[0] == os.getpid() or _pid_alive(pids[0])):
                continue
            try:
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                pass
    return removed


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None  # JSON has no NaN/inf
    return obj


def atomic_write_json(path: Path, obj: Any) -> None:
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def _trials_bytes(columns: dict) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: (pa.array(v, type=pa.string()) if isinstance(v, list) else pa.array(v)) for k, v in columns.items()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return sink.getvalue().to_pybytes()


def write_run(run_dir: Path, result) -> None:
    """Write one run's spec, trials and (last, atomically) summary."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / SPEC_FILE, result.spec.to_dict())
    atomic_write_bytes(run_dir / TRIALS_FILE, _trials_bytes(result.columns))
    atomic_write_json(run_dir / SUMMARY_FILE, result.summary)


def write_failed_run(run_dir: Path, spec, error_type: str, message: str, extra: dict | None = None) -> dict:
    """Record a run that produced no result (its process died or ran out of time).

    Writes ``spec.json`` and a ``summary.json`` with ``status: "error"``, so the report lists
    it among the failed runs and a re-run redoes it; returns the summary.
    """
    run_dir = Path(run_dir)
    summary = {
        "status": "error",
        "run_id": spec.run_id,
        "spec": spec.to_dict(),
        "stop_reason": "error",
        "n_evaluations": 0,
        "final": None,
        "error": {"type": error_type, "message": message, "traceback": ""},
        **(extra or {}),
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / SPEC_FILE, spec.to_dict())
    atomic_write_json(run_dir / SUMMARY_FILE, summary)
    return summary


def read_summary(run_dir: Path) -> dict | None:
    """The run's summary, or None when the run is incomplete (no summary yet)."""
    path = Path(run_dir) / SUMMARY_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is corrupt ({exc}); delete it and re-run the experiment to redo that run") from None
    if not isinstance(summary, dict):
        raise DataError(f"{path} does not hold a JSON object; delete it and re-run the experiment to redo that run")
    return summary


def is_complete(run_dir: Path) -> bool:
    summary = read_summary(run_dir)
    return summary is not None and summary.get("status") == "ok"


def read_trial_columns(run_dir: Path, columns) -> dict[str, np.ndarray]:
    """Selected columns of ``trials.parquet`` as numpy arrays (no pandas; the analysis' path)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(run_dir) / TRIALS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} is missing; re-run the experiment to redo that run") from None
    try:
        table = pq.ParquetFile(pa.BufferReader(raw)).read(columns=list(columns), use_threads=False)
    except Exception as exc:  # pyarrow raises several types for damaged files or missing columns
        raise DataError(f"{path} cannot be read ({exc}); delete the run folder and re-run the experiment") from None
    return {name: table.column(name).to_numpy() for name in columns}


def read_trials(run_dir: Path):
    """The run's trajectory as a pandas DataFrame."""
    import pyarrow.parquet as pq

    path = Path(run_dir) / TRIALS_FILE
    try:
        return pq.read_table(path).to_pandas()
    except FileNotFoundError:
        raise DataError(f"{path} is missing; re-run the experiment to redo that run") from None
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise DataError(f"{path} cannot be read ({exc}); delete the run folder and re-run the experiment") from None
