"""Live benchmarks: ``evaluate(arch, fidelity=epochs)`` trains the network for real.

The same strategy object runs on a table or live: a live benchmark implements
:class:`benchlab.Benchmark` exactly as the tables do. Concrete benchmarks
(``benchlab.benchmarks.live``: ``nb201-live``, ``nb101-live``) only say which search space and which
network; this module holds the caching, seeding, costs and reports they share.

Seeds and reproducibility
-------------------------
Every query draws its training seed from the run's generator (``rng.integers``, one draw
per query, in query order), so a run's seeds, and on CPU its metrics, are a function of
the run specification only. ``seeds=[s1, s2, ...]`` instead draws one of a fixed set of
training seeds (as NAS-Bench-201's tables hold three seeds per architecture), so runs and
strategies share trainings through the cache and the cache grows into a table.

On CPU the trainer is bit-deterministic, so a re-run of the same specification - into a
fresh results folder and a fresh cache - evaluates the same architectures with the same
metrics. The *cost* is the measured wall time (``cost="seconds"``, the default: training
seconds + one validation pass, NAS-Bench-201's ``train-all-time + valid-per-time``) and is
never bit-identical between two trainings; with one worker and a budget in evaluations it
does not influence which architectures a strategy asks for, only the ``start``/``end``
columns. For bit-identical trajectories under a budget in seconds or with several
simulated workers, use ``cost="epochs"`` (cost = epochs trained). On CUDA, bf16 autocast and
cuDNN make metrics reproducible only up to floating-point noise unless ``train`` sets
``{"amp": "off", "deterministic": true}``.

Benchmark keyword arguments that do not change what is learned (``device``, ``cache_dir``,
``progress``) still enter the run's seed, as every benchmark argument does (the run id
hashes them): keep them identical between runs you compare.

Cache, resume after a kill, many GPUs
-------------------------------------
Finished trainings are stored as JSON records in ``cache_dir`` (default
``<benchlab data dir>/live/<benchmark>-<config hash>/``), keyed by the configuration
(benchmark, dataset, data slice, network, training recipe, numerics), the architecture,
the epochs and the seed; a query that finds its record costs nothing to compute and
returns the recorded metrics *and the recorded cost*, so a run re-executed after a kill
(``benchlab run`` re-runs every run without a ``summary.json``) replays its finished
trainings and resumes a partial one from its per-epoch checkpoint, with identical results.
A per-record lock file (POSIX ``flock``) keeps two processes from training the same record
at once. To train on many GPUs, run ``benchlab run --executor dask`` against a cluster with
one single-threaded worker per GPU (start each with its own ``CUDA_VISIBLE_DEVICES``) and a
``cache_dir`` on a filesystem they share; then export the records as a table
(:func:`benchlab.nn.export_table`, ``benchlab live export``).

Reports and regret
------------------
``report(arch)`` is the test accuracy of ``arch`` trained for ``report_epochs`` epochs
(default: the search fidelity) with the fixed ``report_seed`` (default 0), trained once
and cached like any query; the harness calls it only for incumbents. The optimum of a
live benchmark is unknown (nobody trained all 15,625 cells on your dataset with your
recipe): ``optimum("test_acc")`` returns ``optimum`` (default 100.0, the accuracy of a
perfect classifier), so regret is the test error in %-points - a monotone transform of
the test accuracy, which ranks and compares strategies exactly as true regret would, but
whose floor is not 0. Pass ``optimum=`` when you know a better bound (e.g. from a table
you exported).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import math
import os
from pathlib import Path
from typing import ClassVar

import numpy as np

from benchlab import Benchmark, DataError, Evaluation, Fidelity, InvalidArchitecture, InvalidConfig, Objective, data_dir
from benchlab.ext import Param

from ._data import DATASETS, load_dataset
from ._trainer import RECIPES

__all__ = ["CACHE_FORMAT", "LiveBenchmark", "read_records"]

CACHE_FORMAT = "benchlab-live-record/1"
_SEED_HIGH = 2**31 - 1
_REPORT_METRICS = ("test_acc", "valid_acc", "train_acc")


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _float(value) -> float:
    return math.nan if value is None else float(value)


class LiveBenchmark(Benchmark):
    """Base class of benchmarks that train their architectures (see the module docstring).

    Subclasses set ``space`` in ``__init__`` (after calling ``_setup``) and implement
    :meth:`make_model` and :meth:`network_config`.

    Parameters (shared by every live benchmark)
    -------------------------------------------
    dataset:
        A :func:`~benchlab.nn.load_dataset` name; the strategy sees its validation split.
    split:
        ``"nb201"`` or ``"nb101"`` (NB101's CIFAR-10 split), passed to ``load_dataset``.
    fidelity, epochs:
        The default training epochs of a query (None: ``default_fidelity`` when ``epochs``
        offers it, else the largest) and the epochs a strategy may ask for.
    report_epochs, report_seed:
        How ``report(arch)`` trains (default: ``fidelity`` epochs, seed 0).
    seeds:
        None: a fresh training seed per query from the run's generator; a list of ints: one
        of them per query (shared trainings, see the module docstring).
    recipe, train:
        ``"nb201"`` or ``"nb101"`` (:data:`~benchlab.nn.RECIPES`) and a dict of
        :class:`~benchlab.nn.TrainConfig` overrides (``{"lr": 0.05, "amp": "off"}``).
    device:
        ``"auto"``, ``"cpu"``, ``"cuda"``...; overrides ``train["device"]``.
    cost:
        ``"seconds"`` (measured) or ``"epochs"`` (deterministic).
    subset:
        ``[n_train, n_valid, n_test]``: train/validate/test on the first examples of each
        split only (null keeps a split whole), for quick runs.
    cache_dir, data_root:
        Where records go (see above) and where the dataset files are.
    optimum:
        The value ``optimum()`` returns for accuracy metrics (default 100.0).
    keep_checkpoints:
        Keep the final checkpoint of every training (default: deleted once the record is
        written; checkpoints of partial trainings are always kept until they finish).
    progress:
        Show a progress bar for every training.
    """

    visible_split = "valid"
    report_split = "test"
    cost_unit = "s"
    #: Declarations of the shared keyword arguments (a subclass adds its network's own).
    parameters = {
        "dataset": Param(str, choices=DATASETS, doc="live dataset (benchlab.nn.load_dataset); the strategy sees its valid split"),
        "split": Param(str, choices=("nb201", "nb101"), doc="NAS-Bench-201's splits, or NB101's CIFAR-10 split (cifar10 only)"),
        "fidelity": Param(int, low=1, none=True, doc="default training epochs of a query (one of epochs)"),
        "epochs": Param(object, doc="the training epochs a strategy may ask for: a list of integers >= 1"),
        "report_epochs": Param(int, low=1, none=True, doc="epochs of the training report(arch) reads (null: fidelity)"),
        "report_seed": Param(int, low=0, doc="training seed of report(arch)"),
        "seeds": Param(object, none=True, doc="null: a fresh training seed per query; a list of ints: one of them"),
        "recipe": Param(str, choices=tuple(RECIPES), doc="training recipe (the papers' hyper-parameters)"),
        "train": Param(dict, none=True, doc="TrainConfig overrides, e.g. {lr: 0.05, amp: 'off'}"),
        "device": Param(str, none=True, doc="'auto', 'cpu', 'cuda', ...; overrides train['device']"),
        "cost": Param(str, choices=("seconds", "epochs"), doc="query cost: measured seconds or epochs trained"),
        "subset": Param(list, none=True, doc="[n_train, n_valid, n_test]: the first examples of each split only"),
        "cache_dir": Param(str, none=True, doc="folder of the training records (default <data dir>/live/...)"),
        "data_root": Param(str, none=True, doc="folder holding the dataset folders"),
        "optimum": Param(float, doc="what optimum() returns for accuracies (default 100: regret = test error)"),
        "keep_checkpoints": Param(bool, doc="keep the final checkpoint of every training"),
        "progress": Param(bool, doc="show a progress bar for every training"),
    }
    #: The live benchmarks opt out of the registry-wide conformance parametrisation: its
    #: ``check_optimum`` enumerates all 15,625 NB201 cells and would train every one of them,
    #: and the optimum of a live benchmark is unknown anyway. The test suite
    #: (``tests/test_live_trainer.py``) runs every other benchmark check on a tiny configuration.
    conformance_cases: ClassVar[list] = []
    #: The default of ``fidelity`` when ``epochs`` offers it (else the largest epochs).
    default_fidelity: int = 12

    # -- construction ----------------------------------------------------------------------
    def _setup(self, *, dataset, split, fidelity, epochs, report_epochs, report_seed, seeds, recipe, train, device,
               cost, subset, cache_dir, data_root, optimum, keep_checkpoints, progress) -> None:  # fmt: skip
        try:
            has_torch = importlib.util.find_spec("torch") is not None  # checked without importing torch
        except (ImportError, ValueError):
            has_torch = False
        if not has_torch:
            raise DataError(f"{self.name}: live training needs torch; install it with `pip install 'benchlab[train]'`")
        if dataset not in DATASETS:
            raise InvalidConfig(f"{self.name}: unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        if split not in ("nb201", "nb101") or (split == "nb101" and dataset != "cifar10"):
            raise InvalidConfig(
                f"{self.name}: split must be 'nb201', or 'nb101' with dataset 'cifar10' (NB101's CIFAR-10 split); "
                f"got split={split!r} for {dataset!r}"
            )
        self.dataset = dataset
        self.split = split
        if isinstance(epochs, (list, tuple)) and not epochs:
            raise InvalidConfig(f"{self.name}: epochs must list at least one number of training epochs")
        values = tuple(
            sorted({self._int("epochs", e) for e in (epochs if isinstance(epochs, (list, tuple)) else [epochs])})
        )
        if fidelity is None:
            fid = self.default_fidelity if self.default_fidelity in values else values[-1]
        else:
            fid = self._int("fidelity", fidelity)
        if fid not in values:
            raise InvalidConfig(f"{self.name}: fidelity {fid} is not one of epochs={list(values)}; add it to epochs")
        self.fidelity = Fidelity("epochs", values, fid)
        self.report_epochs = self._int("report_epochs", report_epochs) if report_epochs is not None else fid
        self.report_seed = self._int("report_seed", report_seed, minimum=0)
        if seeds is not None:
            if isinstance(seeds, int) and not isinstance(seeds, bool):
                seeds = [seeds]
            if not isinstance(seeds, (list, tuple)) or not seeds:
                raise InvalidConfig(
                    f"{self.name}: seeds must be null or a non-empty list of integers >= 0, got {seeds!r}"
                )
            seeds = tuple(self._int("seeds", s, minimum=0) for s in seeds)
        self.seeds = seeds
        if recipe not in RECIPES:
            raise InvalidConfig(f"{self.name}: unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
        self.recipe = recipe
        if train is not None and not isinstance(train, dict):
            raise InvalidConfig(f"{self.name}: train must be a dict of TrainConfig overrides, got {train!r}")
        overrides = dict(train or {})
        if "epochs" in overrides:
            raise InvalidConfig(f"{self.name}: train['epochs'] is set by the fidelity; use fidelity=/epochs= instead")
        if device is not None:
            overrides["device"] = device
        self.train_overrides = overrides
        self.config = RECIPES[recipe].replace(**overrides)
        if cost not in ("seconds", "epochs"):
            raise InvalidConfig(
                f"{self.name}: cost must be 'seconds' (measured) or 'epochs' (deterministic), got {cost!r}"
            )
        self.cost = cost
        self.cost_unit = "s" if cost == "seconds" else "epochs"
        if subset is not None:
            if not isinstance(subset, (list, tuple)) or len(subset) != 3:
                raise InvalidConfig(
                    f"{self.name}: subset must be [n_train, n_valid, n_test] (null keeps a split), got {subset!r}"
                )
            subset = tuple(None if s is None else self._int("subset", s) for s in subset)
        self.subset = subset
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        self.data_root = None if data_root is None else str(data_root)
        if isinstance(optimum, bool) or not isinstance(optimum, (int, float)) or not math.isfinite(optimum):
            raise InvalidConfig(f"{self.name}: optimum must be a finite number (default 100.0), got {optimum!r}")
        self._optimum = float(optimum)
        self.keep_checkpoints = bool(keep_checkpoints)
        self.progress = bool(progress)
        self.objectives = (
            Objective("valid_acc", "max", "%", f"{dataset} validation accuracy after training for `fidelity` epochs"),
        )
        self._data = None
        self._records: dict[tuple, dict] = {}
        self._folder: Path | None = None

    def _int(self, what: str, value, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
            raise InvalidConfig(f"{self.name}: {what} must be integers >= {minimum}, got {value!r}")
        return int(value)

    def __getstate__(self):
        # the dataset and the in-memory records are caches: reloaded on demand, never pickled
        return {**self.__dict__, "_data": None, "_records": {}}

    # -- subclass hooks --------------------------------------------------------------------
    def make_model(self, arch, data, seed: int):
        """The torch module of ``arch`` for ``data``, its weights seeded by ``seed``."""
        raise NotImplementedError

    def network_config(self) -> dict:
        """The network's size parameters (part of the cache key)."""
        raise NotImplementedError

    # -- data, keys, records ---------------------------------------------------------------
    @property
    def data(self):
        """The (sliced) dataset, loaded on first use."""
        if self._data is None:
            data = load_dataset(self.dataset, root=self.data_root, split=self.split)
            if self.subset is not None:
                data = data.take(*self.subset)
            self._data = data
        return self._data

    def _numerics(self) -> dict:
        from ._trainer import resolve_device

        device = resolve_device(self.config.device)
        cuda = device.startswith("cuda")
        amp = self.config.amp == "bf16" or (self.config.amp == "auto" and cuda)
        return {"amp_bf16": amp}

    def cache_key(self) -> dict:
        """Everything a record depends on, except the architecture, epochs and seed."""
        return {
            "format": CACHE_FORMAT,
            "benchmark": self.name,
            "dataset": self.dataset,
            "split": self.split,
            "subset": list(self.subset) if self.subset is not None else None,
            "network": self.network_config(),
            "train": {k: v for k, v in self.config.training_dict().items() if k != "epochs"},
            "numerics": self._numerics(),
        }

    @property
    def folder(self) -> Path:
        """This configuration's record folder (created when the first record is written)."""
        if self._folder is None:
            digest = hashlib.sha256(json.dumps(self.cache_key(), sort_keys=True).encode()).hexdigest()[:16]
            base = Path(self.cache_dir) if self.cache_dir is not None else data_dir() / "live"
            self._folder = base / f"{self.name}-{digest}"
        return self._folder

    def _ensure_folder(self) -> None:
        cfg = self.folder / "config.json"
        if not cfg.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = cfg.with_name(f".config.json.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.cache_key(), indent=1, sort_keys=True) + "\n")
            os.replace(tmp, cfg)

    def _arch_str(self, arch) -> str:
        return self.space.to_str(arch)

    def _paths(self, arch_str: str, epochs: int, seed: int) -> tuple[Path, Path, Path]:
        h = hashlib.sha256(arch_str.encode()).hexdigest()[:20]
        stem = self.folder / h[:2] / f"{h}-e{epochs}-s{seed}"
        return stem.with_suffix(".json"), stem.with_suffix(".pt"), stem.with_suffix(".lock")

    def _read_record(self, path: Path, arch_str: str) -> dict | None:
        try:
            rec = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"{self.name}: cached record {path} is corrupt ({exc}); delete it to retrain") from None
        if rec.get("format") != CACHE_FORMAT or rec.get("arch") != arch_str:
            raise DataError(f"{self.name}: cached record {path} is not this architecture's; delete it to retrain")
        return rec

    def record(self, arch, epochs: int, seed: int) -> dict:
        """The training record of ``(arch, epochs, seed)``: from memory, from the cache, or
        trained now (resuming a checkpoint left by an interrupted training)."""
        arch_str = self._arch_str(arch)
        key = (arch_str, epochs, seed)
        rec = self._records.get(key)
        if rec is not None:
            return rec
        path, ckpt, lock = self._paths(arch_str, epochs, seed)
        rec = self._read_record(path, arch_str)
        if rec is None:
            self._ensure_folder()
            path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(lock):
                rec = self._read_record(path, arch_str)  # another process may have finished it
                if rec is None:
                    rec = self._train(arch, arch_str, epochs, seed, ckpt)
                    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                    tmp.write_text(json.dumps(_jsonable(rec), sort_keys=True) + "\n")
                    os.replace(tmp, path)
                    if not self.keep_checkpoints:
                        with contextlib.suppress(FileNotFoundError):
                            ckpt.unlink()
        self._records[key] = rec
        return rec

    def _train(self, arch, arch_str: str, epochs: int, seed: int, ckpt: Path) -> dict:
        import torch

        from ._trainer import train

        data = self.data
        config = self.config.replace(epochs=epochs)
        result = train(lambda: self.make_model(arch, data, seed), data, config, seed, checkpoint_path=ckpt,
                       progress=self.progress, checkpoint_last=self.keep_checkpoints)  # fmt: skip
        return {
            "format": CACHE_FORMAT,
            "benchmark": self.name,
            "arch": arch_str,
            "epochs": epochs,
            "seed": seed,
            "valid_acc": result.final_valid_acc,
            "test_acc": result.test_acc,
            "train_acc": result.train_acc[-1],
            "train_loss": result.train_loss[-1],
            "valid_loss": result.valid_loss,
            "test_loss": result.test_loss,
            "train_acc_curve": result.train_acc,
            "train_loss_curve": result.train_loss,
            "valid_acc_curve": result.valid_acc,
            "train_seconds": result.train_seconds,
            "valid_seconds": result.valid_seconds,
            "eval_seconds": result.eval_seconds,
            "cost_seconds": result.train_seconds + result.valid_seconds,
            "params": result.n_params,
            "device": result.device,
            "device_name": torch.cuda.get_device_name(result.device) if result.device.startswith("cuda") else "cpu",
            "resumed_from": result.resumed_from,
            "torch": torch.__version__,
        }

    def cached_records(self) -> list[dict]:
        """Every finished record of this configuration in the cache folder (for export)."""
        return read_records(self.folder)

    # -- Benchmark API ---------------------------------------------------------------------
    def _epochs(self, fidelity) -> int:
        return int(self.fidelity.check(fidelity))

    def _seed(self, rng) -> int:
        if self.seeds is not None:
            if rng is None:
                return self.seeds[0]
            return self.seeds[int(rng.integers(0, len(self.seeds)))]
        if rng is None:
            return self.report_seed
        return int(rng.integers(0, _SEED_HIGH))

    def _cost(self, rec: dict) -> float:
        return float(rec["cost_seconds"]) if self.cost == "seconds" else float(rec["epochs"])

    def _check(self, arch):
        if arch is None:
            raise InvalidArchitecture(f"{self.name}: None is not an architecture of {self.space.name}")
        self.space.validate(arch)
        return arch

    def evaluate(self, arch, fidelity=None, *, rng=None) -> Evaluation:
        """Train ``arch`` for ``fidelity`` epochs with a seed drawn from ``rng`` (or reuse the
        cached record); the validation accuracy in %, the cost in seconds or epochs."""
        self._check(arch)
        epochs = self._epochs(fidelity)
        seed = self._seed(rng)
        rec = self.record(arch, epochs, seed)
        return Evaluation({"valid_acc": _float(rec["valid_acc"])}, self._cost(rec), epochs, seed)

    def evaluate_many(self, archs, fidelity=None, *, rng=None) -> list[Evaluation]:
        for a in archs:  # every architecture is checked before anything is trained
            self._check(a)
        return [self.evaluate(a, fidelity, rng=rng) for a in archs]

    def query_cost(self, arch, fidelity=None) -> float:
        """The cost of training ``arch`` for ``fidelity`` epochs: exact for ``cost="epochs"``;
        for seconds, the cost of a finished training of ``(arch, fidelity)`` (any seed, the
        smallest seed first; the harness asks this for trials that continue a lower
        fidelity, which was trained before), else a training with the report seed."""
        self._check(arch)
        epochs = self._epochs(fidelity)
        if self.cost == "epochs":
            return float(epochs)
        arch_str = self._arch_str(arch)
        known = sorted((k for k in self._records if k[0] == arch_str and k[1] == epochs), key=lambda k: k[2])
        if known:
            return self._cost(self._records[known[0]])
        return self._cost(self.record(arch, epochs, self.report_seed))

    def report(self, arch) -> dict[str, float]:
        """Test (and validation) accuracy in % of ``arch`` trained for ``report_epochs`` epochs
        with ``report_seed``, its parameter count and training seconds. Harness only."""
        self._check(arch)
        rec = self.record(arch, self.report_epochs, self.report_seed)
        return {
            "test_acc": _float(rec["test_acc"]),
            "valid_acc": _float(rec["valid_acc"]),
            "train_acc": _float(rec["train_acc"]),
            "params": float(rec["params"]),
            "train_seconds": float(rec["train_seconds"]),
        }

    @property
    def report_metric(self) -> str:
        return "test_acc"

    def optimum(self, metric: str) -> float:
        """Unknown for a live benchmark: the ``optimum`` argument (default 100.0) for accuracy
        metrics, so regret is the test error (see the module docstring)."""
        if metric not in _REPORT_METRICS:
            raise InvalidConfig(
                f"{self.name}: no optimum for {metric!r}; live benchmarks define one for {', '.join(_REPORT_METRICS)}"
            )
        return self._optimum

    def describe(self) -> dict:
        d = super().describe()
        d.update(
            dataset=self.dataset,
            split=self.split,
            subset=list(self.subset) if self.subset is not None else None,
            network=self.network_config(),
            recipe=self.recipe,
            train={k: v for k, v in self.config.to_dict().items() if k != "epochs"},
            report_epochs=self.report_epochs,
            report_seed=self.report_seed,
            seeds=list(self.seeds) if self.seeds is not None else "drawn from the run's generator",
            cost=self.cost,
            optimum=self._optimum,
            optimum_note="unknown for a live benchmark: regret = optimum - test accuracy (default 100: the test error)",
            cache_folder=str(self.folder),
        )
        return d


def read_records(folder) -> list[dict]:
    """The finished training records under a live cache folder, in file-name order."""
    out = []
    for path in sorted(Path(folder).glob("*/*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(
                f"cached record {path} is corrupt ({exc}); delete it (the training reruns when needed)"
            ) from None
        if rec.get("format") == CACHE_FORMAT:
            out.append(rec)
    return out


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` (POSIX ``flock``; a no-op where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
