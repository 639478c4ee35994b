"""Transfer knowledge as data: what a strategy may know about other tasks before it starts.

A transfer strategy receives prior knowledge only through its own parameters, so the
knowledge is part of the run spec and of its hash, never read implicitly:

* ``transfer_from=PATH``: a benchlab results folder (an experiment, a benchmark or strategy
  folder of one, or a single run). Every completed run in it whose search space is the
  target's contributes the architectures it evaluated and their strategy-visible objective
  values (the ``arch`` and ``value`` columns of ``trials.parquet``); nothing else of the
  folder is read: neither the test columns of the trials (``incumbent_test``, ``regret``)
  nor the summaries' reports. Runs are grouped by benchmark (name and keyword arguments):
  one source task each.
* ``source="TASK"`` or ``source="NAME:key=value,..."`` (or a list of them): a task of a
  registered table benchmark. A bare ``TASK`` names a ``dataset``/``task`` of the benchmark
  family whose search space is the target's (on NAS-Bench-201, ``source="cifar10-valid"``
  is ``nb201:dataset=cifar10-valid``; on TransNAS-Bench-101, ``source="jigsaw"`` is
  ``tnb101-micro:task=jigsaw`` or ``tnb101-macro:task=jigsaw`` by the space). The source
  benchmark is built with ``make_benchmark`` and read only through ``evaluate_many`` at its
  highest fidelity: its strategy-visible (validation) metric of every architecture of the
  space, never ``report`` or ``optimum``.

:func:`load_transfer_prior` turns either into a :class:`TransferPrior`: one
:class:`TransferSource` per source task (architectures and scores to maximise) and one
aggregated ranking (mean normalised rank over the sources that evaluated an architecture,
as Wistuba et al. 2015 aggregate rankings over tasks). ``identity`` records what was read:
the resolved folder and a content fingerprint of its summary and trials files, or the source
benchmark, its metric, fidelity and table fingerprint. Transfer strategies put it into
``stats()``, hence into ``summary.json``, so a changed source is visible even though the
spec (which holds only the path or the task name) is unchanged.

Priors are cached per process by identity (fingerprints included): the 50 runs of a
protocol read a source once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._errors import BenchlabError, DataError, InvalidArchitecture, InvalidConfig
from ._registry import BENCHMARKS
from ._space import SearchSpace
from ._store import SUMMARY_FILE, TRIALS_FILE, read_summary, read_trial_columns

__all__ = ["TransferSource", "TransferPrior", "load_transfer_prior", "resolve_source", "folder_fingerprint", "clear_cache"]

#: At most this many run folders are read from one ``transfer_from`` folder.
MAX_SOURCE_RUNS = 100_000
#: A space is enumerated for a benchmark source only up to this many architectures.
MAX_SOURCE_ARCHS = 1_000_000
_TASK_KEYS = ("dataset", "task")
_PRIOR_CACHE: dict[str, "TransferPrior"] = {}
_CACHE_LIMIT = 32


@dataclass(frozen=True, eq=False)
class TransferSource:
    """One source task: ``archs`` (target-space architectures, in a fixed order) and
    ``scores`` (their values as numbers to maximise: the objective times its sign; NaN and
    the wrong infinity are ``-inf``), a read-only float64 array. ``label`` names the task
    (``"nb201:dataset=cifar10-valid"``); ``identity`` is JSON describing what was read."""

    label: str
    archs: tuple
    scores: np.ndarray
    identity: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.archs)


@dataclass(frozen=True, eq=False)
class TransferPrior:
    """Prior knowledge for one target space.

    ``sources``: the source tasks. ``ranking``: every architecture any source evaluated,
    best first by the mean over sources of its normalised rank (1 = a source's best, 0 its
    worst; ties share the mean rank); ties keep the order in which the sources list the
    architectures (a benchmark source: the space's enumeration order; a results folder:
    sorted by official string), so the order is deterministic. ``rank_scores``: those mean normalised ranks, aligned with
    ``ranking``. ``identity``: JSON for ``summary.json`` (``fingerprint`` stands for the
    whole prior).
    """

    space: str
    sources: tuple
    ranking: tuple
    rank_scores: np.ndarray
    identity: dict

    def top(self, k: int) -> list:
        """The ``k`` best architectures of the aggregated ranking (fewer if it is shorter)."""
        return list(self.ranking[: max(int(k), 0)])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _normalised_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (1 = best), ties sharing the mean rank; one value -> 1."""
    n = scores.size
    if n <= 1:
        return np.ones(n)
    finite = np.where(np.isfinite(scores), scores, -np.inf)
    values, inverse = np.unique(finite, return_inverse=True)
    counts = np.bincount(inverse, minlength=values.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mean_rank = starts + (counts - 1) / 2.0  # 0-based ascending
    return mean_rank[inverse] / (n - 1)


def _aggregate(sources: Sequence[TransferSource]) -> tuple[tuple, np.ndarray]:
    index: dict = {}
    total: list = []
    count: list = []
    for src in sources:
        for arch, r in zip(src.archs, _normalised_ranks(src.scores).tolist()):
            i = index.get(arch)
            if i is None:
                index[arch] = len(total)
                total.append(r)
                count.append(1)
            else:
                total[i] += r
                count[i] += 1
    archs = list(index)  # first seen first: the tie-break
    mean = np.asarray(total, dtype=np.float64) / np.asarray(count, dtype=np.float64)
    order = np.argsort(-mean, kind="stable")
    scores = mean[order]
    scores.setflags(write=False)
    return tuple(archs[i] for i in order.tolist()), scores


def _fingerprint(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _remember(key: str, prior: TransferPrior) -> TransferPrior:
    if len(_PRIOR_CACHE) >= _CACHE_LIMIT:
        _PRIOR_CACHE.pop(next(iter(_PRIOR_CACHE)))
    _PRIOR_CACHE[key] = prior
    return prior


def clear_cache() -> None:
    """Forget every cached prior (the conformance suite reads sources afresh)."""
    _PRIOR_CACHE.clear()


# -- benchmark sources ------------------------------------------------------------------------
def _family(space: SearchSpace, task: str) -> list[tuple[str, str]]:
    """``(benchmark name, task keyword)`` of registered table benchmarks that offer ``task``
    as a dataset/task and whose search space is named like ``space``."""
    from ._params import declared_parameters

    out = []
    for name in BENCHMARKS.names():
        cls = BENCHMARKS.get(name)
        recipe = getattr(cls, "recipe", None)
        if recipe is None or task not in tuple(getattr(recipe, "datasets", ()) or ()):
            continue
        key = next((k for k in _TASK_KEYS if k in declared_parameters(cls)), None)
        if key is None:
            continue
        try:
            space_name = recipe.space().name
        except Exception:  # a space that cannot be built here is not this family
            continue
        if space_name == space.name:
            out.append((name, key))
    return out


def resolve_source(text: Any, space: SearchSpace) -> tuple[str, dict]:
    """``(benchmark name, keyword arguments)`` of one ``source`` entry for a run on ``space``.

    ``"NAME:key=value,..."`` is taken as written; a bare ``"TASK"`` is looked up among the
    registered table benchmarks whose space is ``space`` (see the module docstring).
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidConfig(f"source {text!r} must be a task name such as 'cifar10-valid' or 'NAME:key=value' text")
    text = text.strip()
    if ":" in text:
        from ._experiment import _parse_component

        name, kwargs, label = _parse_component(text)
        if label:
            raise InvalidConfig(f"source {text!r}: no '@LABEL' here; write NAME:key=value,...")
        if name not in BENCHMARKS:
            raise InvalidConfig(f"source {text!r}: no benchmark {name!r} is registered; run `benchlab list benchmarks`")
        return name, kwargs
    found = _family(space, text)
    if not found:
        raise InvalidConfig(
            f"source {text!r}: no registered table benchmark on the {space.name} space offers a dataset or task "
            f"{text!r}; name it fully as 'NAME:dataset=...' or 'NAME:task=...', or pass transfer_from=FOLDER"
        )
    if len(found) > 1:
        options = " or ".join(f"'{n}:{k}={text}'" for n, k in found)
        raise InvalidConfig(f"source {text!r} is ambiguous on the {space.name} space: write {options}")
    name, key = found[0]
    return name, {key: text}


def _benchmark_source(text: str, space: SearchSpace) -> TransferSource:
    from ._runner import make_benchmark
    from ._spec import canonical_json

    name, kwargs = resolve_source(text, space)
    label = name + (":" + ",".join(f"{k}={v}" for k, v in sorted(kwargs.items())) if kwargs else "")
    try:
        bench = make_benchmark(name, kwargs)
    except BenchlabError as exc:
        raise type(exc)(f"source {text!r}: {_one_line(exc)}") from None
    if bench.space.name != space.name:
        raise InvalidConfig(f"source {text!r} searches the {bench.space.name} space, not the target's {space.name}; "
                            "choose a task of the same benchmark family")  # fmt: skip
    size = bench.space.size
    if not (math.isfinite(size) and size <= MAX_SOURCE_ARCHS):
        raise InvalidConfig(f"source {text!r}: its space has {size} architectures, too many to read as a table "
                            f"(at most {MAX_SOURCE_ARCHS:,}); pass transfer_from=FOLDER of earlier runs instead")  # fmt: skip
    table = getattr(bench, "_table", None)
    table_fp = getattr(table, "fingerprint", None) if table is not None else None
    fid = bench.fidelity.max if bench.fidelity is not None else None
    objective = bench.objectives[0]
    identity = {
        "kind": "benchmark",
        "source": text,
        "benchmark": name,
        "benchmark_kwargs": json.loads(canonical_json(kwargs)),
        "metric": objective.name,
        "direction": objective.direction,
        "fidelity": fid,
        "table": getattr(table, "name", None),
        "table_fingerprint": table_fp,
    }
    key = "benchmark:" + canonical_json({**identity, "space": space.name})
    cached = _PRIOR_CACHE.get(key)
    if cached is not None:
        return cached.sources[0]
    archs = list(bench.space.enumerate())
    # strategy-visible values only (a seed-mean table ignores the generator; a seeded one draws from a fixed one)
    evals = bench.evaluate_many(archs, fid, rng=np.random.default_rng(0))
    values = np.array([e.metrics.get(objective.name, math.nan) for e in evals], dtype=np.float64)
    scores = objective.sign * values
    scores = np.where(np.isnan(scores), -np.inf, scores)
    scores.setflags(write=False)
    if bench.space is not space and type(bench.space) is not type(space):
        archs = [space.from_str(bench.space.to_str(a)) for a in archs]
    identity["n_archs"] = len(archs)
    src = TransferSource(label, tuple(archs), scores, identity)
    _remember(key, TransferPrior(space.name, (src,), (), np.zeros(0), identity))
    return src


# -- results-folder sources -------------------------------------------------------------------
def _resolve_folder(path: Any) -> Path:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise InvalidConfig(f"transfer_from {path!r} must be the path of a benchlab results folder")
    try:
        folder = Path(path).expanduser().resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise DataError(f"transfer_from {path!r}: no such folder ({type(exc).__name__}); pass the results folder of "
                        "earlier runs, e.g. results/c10-study") from None  # fmt: skip
    if not folder.is_dir():
        raise DataError(f"transfer_from {path!r} is not a folder; pass a results folder (one holding seed-*/summary.json)")
    return folder


def _run_folders(folder: Path) -> list[Path]:
    """Folders under ``folder`` (itself included) holding a ``summary.json``; links (folders or
    run files) are not followed, so nothing outside ``folder`` is read."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        if SUMMARY_FILE in files:
            if not any(os.path.islink(os.path.join(top, f)) for f in (SUMMARY_FILE, TRIALS_FILE)):
                found.append(Path(top))  # a run whose files are links (possibly out of the folder) is not read
            dirs[:] = []  # a run folder holds no runs
            if len(found) > MAX_SOURCE_RUNS:
                raise DataError(f"transfer_from {str(folder)!r} holds more than {MAX_SOURCE_RUNS:,} runs; pass a smaller folder")
    return found


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_fingerprint(path: Any) -> dict:
    """``{"folder", "runs", "fingerprint"}`` of a results folder: the sha256 (16 hex digits)
    of the relative paths and contents of every run's ``summary.json`` and ``trials.parquet``."""
    folder = _resolve_folder(path)
    entries = []
    for run in _run_folders(folder):
        rel = run.relative_to(folder).as_posix()
        for name in (SUMMARY_FILE, TRIALS_FILE):
            p = run / name
            if p.is_file() and not p.is_symlink():
                entries.append([f"{rel}/{name}", _sha256(p)])
    return {"folder": str(folder), "runs": len({e[0].rsplit('/', 1)[0] for e in entries}), "fingerprint": _fingerprint(entries)}


def _folder_sources(path: Any, space: SearchSpace) -> tuple[list[TransferSource], dict]:
    from ._spec import canonical_json

    info = folder_fingerprint(path)
    key = "folder:" + canonical_json({**info, "space": space.name})
    cached = _PRIOR_CACHE.get(key)
    if cached is not None:
        return list(cached.sources), {"kind": "folder", "transfer_from": str(path), **cached.identity}
    folder = Path(info["folder"])
    groups: dict = {}  # benchmark key -> {arch: [scores]}
    used = skipped = 0
    for run in _run_folders(folder):
        summary = read_summary(run)
        if not summary or summary.get("status") != "ok":
            continue
        bench = summary.get("benchmark") or {}
        if bench.get("space") != space.name:
            skipped += 1
            continue
        direction = summary.get("direction")
        if direction not in ("max", "min"):
            raise DataError(f"{run / SUMMARY_FILE} has no objective direction; is it a benchlab summary?")
        spec = summary.get("spec") or {}
        gkey = canonical_json({"benchmark": spec.get("benchmark"), "kwargs": spec.get("benchmark_kwargs") or {}})
        cols = read_trial_columns(run, ("arch", "value"))  # the visible columns only, never the test ones
        sign = 1.0 if direction == "max" else -1.0
        bucket = groups.setdefault(gkey, {})
        for text, value in zip(cols["arch"].tolist(), cols["value"].tolist()):
            try:
                arch = space.from_str(str(text))
            except InvalidArchitecture:
                raise DataError(f"{run / TRIALS_FILE}: {text!r} is not an architecture of the {space.name} space; "
                                "the folder does not hold runs of this space") from None  # fmt: skip
            score = sign * float(value)
            bucket.setdefault(arch, []).append(score if score == score else -math.inf)
        used += 1
    if not used:
        raise DataError(f"transfer_from {info['folder']!r} holds no completed run on the {space.name} space "
                        f"({skipped} runs on other spaces); pass the results folder of runs on this space")  # fmt: skip
    sources = []
    for gkey in sorted(groups):
        bucket = groups[gkey]
        archs = tuple(sorted(bucket, key=space.to_str))
        scores = np.array([float(np.mean(bucket[a])) if all(math.isfinite(s) for s in bucket[a]) else
                           max(bucket[a]) for a in archs], dtype=np.float64)  # fmt: skip
        scores = np.where(np.isnan(scores), -np.inf, scores)
        scores.setflags(write=False)
        g = json.loads(gkey)
        kw = g["kwargs"]
        label = f"{g['benchmark']}" + (":" + ",".join(f"{k}={v}" for k, v in sorted(kw.items())) if kw else "")
        sources.append(TransferSource(label, archs, scores, {"kind": "folder", "benchmark": g["benchmark"],
                                                             "benchmark_kwargs": kw, "n_archs": len(archs)}))  # fmt: skip
    identity = {**info, "runs_used": used, "runs_other_spaces": skipped}
    _remember(key, TransferPrior(space.name, tuple(sources), (), np.zeros(0), identity))
    return sources, {"kind": "folder", "transfer_from": str(path), **identity}


# -- the entry point --------------------------------------------------------------------------
def load_transfer_prior(space: SearchSpace, *, source: Any = None, transfer_from: Any = None) -> TransferPrior | None:
    """The prior knowledge a transfer strategy was given, or None when it was given none.

    ``source``: None, a task string or a list of them (module docstring); ``transfer_from``:
    None or a results folder. Both may be given (their sources are pooled). Errors are one
    line: :class:`InvalidConfig` for a malformed or unknown source, :class:`DataError` for a
    missing or unreadable folder.
    """
    from ._spec import canonical_json

    if source is None and transfer_from is None:
        return None
    texts: list = []
    if source is not None:
        if isinstance(source, str):
            texts = [source]
        elif isinstance(source, (list, tuple)) and source:
            texts = list(source)
        else:
            raise InvalidConfig(f"source {source!r} must be a task name, 'NAME:key=value' text or a non-empty list of them")
    sources: list[TransferSource] = []
    parts: list[dict] = []
    for text in texts:
        src = _benchmark_source(text, space)
        sources.append(src)
        parts.append(src.identity)
    if transfer_from is not None:
        folder_srcs, ident = _folder_sources(transfer_from, space)
        sources.extend(folder_srcs)
        parts.append(ident)
    labels = [s.label for s in sources]
    if len(set(labels)) != len(labels):
        raise InvalidConfig(f"source {source!r}: a source task is named twice ({', '.join(labels)})")
    identity = {"space": space.name, "sources": parts, "fingerprint": _fingerprint(parts)}
    key = "prior:" + canonical_json(identity)
    cached = _PRIOR_CACHE.get(key)
    if cached is not None:
        return cached
    ranking, scores = _aggregate(sources)
    prior = TransferPrior(space.name, tuple(sources), ranking, scores, identity)
    return _remember(key, prior)
