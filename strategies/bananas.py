"""BANANAS: Bayesian optimisation with a neural-network ensemble on the path encoding.

White, Neiswanger & Savani, "BANANAS: Bayesian Optimization with Neural Architectures for
Neural Architecture Search", AAAI 2021. Reference implementation: naszilla
(github.com/naszilla/naszilla, ``nas_algorithms.py::bananas``, ``params.py``,
``meta_neural_net.py``, ``acquisition_functions.py``, ``nas_benchmarks.py::get_candidates``,
``nas_bench_201/cell_201.py::mutate``).
"""

from __future__ import annotations

import math
import time
from typing import ClassVar

import numpy as np

from benchlab import CategoricalSpace, InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._blas import one_blas_thread
from ._mlp import MLPEnsemble

__all__ = ["Bananas"]

_PATIENCE = 5  # naszilla get_candidates: patience_factor=5
_ENUMERATE_LIMIT = 1_000_000  # spaces up to this size are enumerated when rejection sampling stalls
_REJECTION_TRIES = 64


@register_strategy("bananas")
class Bananas(Strategy):
    """BANANAS: a neural ensemble predictor + Thompson sampling over mutated candidates.

    Loop (naszilla ``bananas``): ``num_init`` uniformly random architectures; then,
    repeatedly, (1) train an ensemble of ``num_ensemble`` feed-forward networks on the
    encodings of all *told* architectures to predict the visible objective, (2) build
    ``num_candidates`` unseen candidates by mutating the best architectures found so far,
    (3) score them with the acquisition function and (4) propose the ``k`` best, one per
    ``ask``. The ensemble is refit when those ``k`` have been handed out (and only if new
    results arrived), so the model is trained once per batch of ``k`` new observations.

    Parallel workers: the model trains on told results only; pending (asked, not yet told)
    and evaluated architectures are never candidates, so nothing is proposed twice
    (tag ``exhaustive``: ``ask`` returns None once the space is used up). Before
    ``num_init`` results (with at least two finite ones) are in, trials are uniform random
    unseen architectures, also when more than ``num_init`` are asked concurrently.

    Parameters (defaults and their sources)
    ---------------------------------------
    num_init: 10
        Random architectures before the model is used (naszilla ``DEFAULT_NUM_INIT = 10``,
        the paper's experimental setup).
    k: 10
        Architectures proposed per model fit (naszilla ``DEFAULT_K = 10``: the top-``k`` of
        the acquisition ranking are queried per iteration). ``k=1`` refits after every
        new result (sequential BO).
    num_candidates: 100
        Candidates scored per iteration (naszilla ``get_candidates(num=100)``).
    num_arches_to_mutate: 1
        The candidates come from ``num_candidates / num_arches_to_mutate`` mutations of each
        of the best architectures in turn, best first, until at least ``num_candidates``
        distinct unseen ones are collected (the last parent may overshoot), over at most ``5 * num_arches_to_mutate`` parents (naszilla
        ``bananas(num_arches_to_mutate=1)``, ``patience_factor=5``).
    edit_prob: 0.25
        Mutation of categorical spaces as in naszilla's NB201 cell: every decision changes,
        independently with probability ``edit_prob``, to a uniformly drawn other option
        (``mutation_rate / (OP_SPOTS - 2) = 1 / 4``). Mutations that change nothing are
        dropped as duplicates. ``None`` (and any non-categorical space) uses the space's
        own ``mutate`` (one decision changes).
    num_ensemble, num_layers, layer_width: 5, 10, 20
        Five networks of 10 fully connected ReLU layers of width 20 (naszilla
        ``params.py::meta_neuralnet_params('standard')``, as the paper describes).
    epochs, batch_size, lr: 150, 32, 0.01
        Adam (beta1 0.9, beta2 0.99) training per network (same source; betas from
        ``meta_neural_net.py``).
    loss: "mae"
        Training loss, as in the reference (``'loss': 'mae'``); ``"mse"`` is offered too.
        Targets are the primary objective as a score to maximise, standardised (the
        reference regresses raw validation error; standardising only fixes the scale).
        NaN/-inf scores are replaced by the worst finite score told, +inf by the best.
    acquisition: "its"
        ``"its"``: independent Thompson sampling, one draw from
        ``N(mean_i, std_i)`` per candidate over the ensemble predictions (the paper's
        default, ``explore_type='its'``); ``"ucb"``: ``mean + explore_factor * std``.
    explore_factor: 0.5
        UCB weight of the ensemble standard deviation (``acquisition_functions.py``:
        ``explore_factor = 0.5``).
    refit_growth: None
        None (the paper): the ensemble is refit whenever new results arrived since the last
        fit, i.e. once per batch of ``k``. A number ``g``: refit only once the told results
        number at least ``(1 + g)`` times those of the last fit; in between, each batch of
        ``k`` is still chosen from fresh candidates scored by the current model. For runs
        of thousands of evaluations (the NB101 protocol to 1e7 simulated seconds), where
        refitting every ``k`` costs time quadratic in the run length.
    max_fit_steps: None
        None (the paper): every fit trains ``epochs`` passes over all told results. A number
        caps the Adam steps per fit: with ``n`` results, ``min(epochs, max(1, max_fit_steps
        // ceil(n / batch_size)))`` passes, so a fit costs at most that many steps however
        long the run (all results still enter every pass).
    encoding: "path"
        Feature vector ``space.encode(arch, encoding)``; the path encoding is the paper's
        (84 dims on NB201). Spaces without it fall back to ``"onehot"``
        (``stats()['encoding']`` says which was used).

    Speed: the 5 networks are trained together as one vectorised NumPy ensemble in single
    precision; ``stats()`` reports per-ask wall-clock seconds (model fit + acquisition).
    """

    description = "BANANAS (White et al. 2021): MLP ensemble on path encoding, ITS over mutated candidates"
    tags = frozenset({"exhaustive", "model_based"})
    # The conformance suite drives many 150-evaluation runs; the paper-sized networks
    # (10 x 20, 150 epochs) cost ~2 s of CPU per run there, so it checks the same code
    # paths with smaller networks and fewer epochs (batch mode with ITS; sequential k=1
    # with UCB and the space's own mutation operator).
    conformance_cases: ClassVar[list[dict]] = [
        {"num_layers": 3, "epochs": 20},
        {"num_layers": 2, "epochs": 5, "k": 1, "acquisition": "ucb", "edit_prob": None},
    ]

    parameters = {
        "num_init": Param(int, low=1, doc="random architectures before the model is used"),
        "k": Param(int, low=1, doc="architectures proposed per model fit"),
        "num_candidates": Param(int, low=1, doc="mutated candidates scored per iteration"),
        "num_arches_to_mutate": Param(int, low=1, doc="best architectures the candidates are mutated from"),
        "edit_prob": Param(float, low=0, high=1, low_open=True, none=True,
                           doc="per-decision mutation probability (None: the space's own mutate)"),
        "num_ensemble": Param(int, low=1, doc="networks in the ensemble"),
        "num_layers": Param(int, low=0, doc="hidden layers per network"),
        "layer_width": Param(int, low=1, doc="units per hidden layer"),
        "epochs": Param(int, low=1, doc="training epochs per network and fit"),
        "batch_size": Param(int, low=1, doc="minibatch size"),
        "lr": Param(float, low=0, doc="Adam learning rate"),
        "loss": Param(str, choices=("mae", "mse"), doc="training loss"),
        "acquisition": Param(str, choices=("its", "ucb"), doc="independent Thompson sampling or UCB"),
        "explore_factor": Param(float, low=0, doc="UCB weight of the ensemble standard deviation"),
        "encoding": Param(str, doc="space.encode encoding (path falls back to onehot where absent)"),
        "refit_growth": Param(float, low=0, none=True,
                              doc="refit only once the told results grew by this fraction (None: every batch)"),
        "max_fit_steps": Param(int, low=1, none=True, doc="cap on Adam steps per fit (None: epochs full passes)"),
    }

    def __init__(
        self,
        num_init: int = 10,
        k: int = 10,
        num_candidates: int = 100,
        num_arches_to_mutate: int = 1,
        edit_prob: float | None = 0.25,
        num_ensemble: int = 5,
        num_layers: int = 10,
        layer_width: int = 20,
        epochs: int = 150,
        batch_size: int = 32,
        lr: float = 0.01,
        loss: str = "mae",
        acquisition: str = "its",
        explore_factor: float = 0.5,
        encoding: str = "path",
        refit_growth: float | None = None,
        max_fit_steps: int | None = None,
    ) -> None:
        self.num_init = num_init
        self.k = k
        self.num_candidates = num_candidates
        self.num_arches_to_mutate = num_arches_to_mutate
        self.edit_prob = edit_prob
        self.num_ensemble = num_ensemble
        self.num_layers = num_layers
        self.layer_width = layer_width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.loss = loss
        self.acquisition = acquisition
        self.explore_factor = explore_factor
        self.encoding = encoding
        self.refit_growth = refit_growth
        self.max_fit_steps = max_fit_steps

    # -- setup -------------------------------------------------------------------------
    def _check(self) -> None:
        ints = {
            "num_init": (self.num_init, 1), "k": (self.k, 1), "num_candidates": (self.num_candidates, 1),
            "num_arches_to_mutate": (self.num_arches_to_mutate, 1), "num_ensemble": (self.num_ensemble, 1),
            "num_layers": (self.num_layers, 0), "layer_width": (self.layer_width, 1),
            "epochs": (self.epochs, 1), "batch_size": (self.batch_size, 1),
        }
        for name, (v, lo) in ints.items():
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise InvalidConfig(f"bananas: {name} must be an integer >= {lo}, got {v!r}")
        for name, v in (("lr", self.lr), ("explore_factor", self.explore_factor)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InvalidConfig(f"bananas: {name} must be a finite number >= 0, got {v!r}")
        if self.edit_prob is not None and (
            isinstance(self.edit_prob, bool) or not isinstance(self.edit_prob, (int, float)) or not 0 < self.edit_prob <= 1
        ):
            raise InvalidConfig(f"bananas: edit_prob must be in (0, 1] or None, got {self.edit_prob!r}")
        g = self.refit_growth
        if g is not None and (isinstance(g, bool) or not isinstance(g, (int, float)) or not math.isfinite(g) or g < 0):
            raise InvalidConfig(f"bananas: refit_growth must be None or a finite number >= 0, got {g!r}")
        m = self.max_fit_steps
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
            raise InvalidConfig(f"bananas: max_fit_steps must be None or an integer >= 1, got {m!r}")
        if self.loss not in ("mae", "mse"):
            raise InvalidConfig(f"bananas: loss must be 'mae' or 'mse', got {self.loss!r}")
        if self.acquisition not in ("its", "ucb"):
            raise InvalidConfig(f"bananas: acquisition must be 'its' or 'ucb', got {self.acquisition!r}")
        if not isinstance(self.encoding, str):
            raise InvalidConfig(f"bananas: encoding must be a string, got {self.encoding!r}")

    def _setup(self) -> None:
        self._check()
        space = self.space
        self._encoding = None  # decided on the first architecture encoded (see _encode)
        self._categorical = isinstance(space, CategoricalSpace) and self.edit_prob is not None
        self._radix = np.array([len(opts) for _, opts in space.choices()]) if self._categorical else None
        self._seen: set = set()  # asked (pending or told)
        self._X: list[np.ndarray] = []  # encodings of told architectures
        self._y: list[float] = []  # their scores (maximise; may be +-inf)
        self._archs: list = []  # told architectures, in tell order
        self._queue: list = []  # ranked proposals of the current model, best first
        self._model: MLPEnsemble | None = None
        self._fit_n = -1  # number of told results the current model was trained on
        self._ask_seconds: list[float] = []
        self._fit_seconds: list[float] = []

    # -- ask / tell --------------------------------------------------------------------
    def ask(self):
        t0 = time.perf_counter()
        try:
            arch = self._next_arch()
        finally:
            self._ask_seconds.append(time.perf_counter() - t0)
        if arch is None:
            return None
        self._seen.add(arch)
        return self._trial(arch)

    def _tell(self, trial, evaluation, score) -> None:
        self._archs.append(trial.arch)
        self._X.append(self._encode(trial.arch))
        self._y.append(float(score))

    def _next_arch(self):
        while self._queue:
            arch = self._queue.pop(0)
            if arch not in self._seen:
                return arch
        finite = sum(1 for v in self._y if math.isfinite(v))
        if len(self._y) < self.num_init or finite < 2:
            return self._random_unseen()
        with one_blas_thread():
            if self._needs_fit():
                self._fit()
            candidates = self._candidates()
            if not candidates:
                return None
            scores = self._acquire(self._model.predict(np.stack([self._encode(a) for a in candidates])))
        order = np.argsort(-scores, kind="stable")[: self.k]
        self._queue = [candidates[i] for i in order]
        return self._queue.pop(0)

    # -- model -------------------------------------------------------------------------
    def _encode(self, arch) -> np.ndarray:
        if self._encoding is None:
            try:
                vec = self.space.encode(arch, self.encoding)
                self._encoding = self.encoding
            except (ValueError, NotImplementedError, KeyError):
                self._encoding = "onehot"  # the space lacks that encoding (e.g. no path encoding)
                vec = self.space.encode(arch, "onehot")
            return np.asarray(vec, dtype=np.float64)
        return np.asarray(self.space.encode(arch, self._encoding), dtype=np.float64)

    def _targets(self) -> np.ndarray:
        y = np.array(self._y, dtype=np.float64)
        fin = np.isfinite(y)
        lo, hi = y[fin].min(), y[fin].max()
        y = np.where(np.isnan(y) | (y == -np.inf), lo, y)
        y = np.where(y == np.inf, hi, y)
        sd = y.std()
        return (y - y.mean()) / (sd if sd > 0 else 1.0)

    def _needs_fit(self) -> bool:
        n = len(self._y)
        if self._model is None or self.refit_growth is None:
            return self._fit_n != n
        return n >= self._fit_n * (1.0 + self.refit_growth) and n > self._fit_n

    def _fit(self) -> None:
        t0 = time.perf_counter()
        n, epochs = len(self._y), self.epochs
        if self.max_fit_steps is not None:
            epochs = min(epochs, max(1, self.max_fit_steps // -(-n // self.batch_size)))
        model = MLPEnsemble(self.num_ensemble, self.num_layers, self.layer_width, self.loss, lr=self.lr)
        model.fit(np.stack(self._X), self._targets(), epochs=epochs, batch_size=self.batch_size,
                  rng=self.rng.generator)
        self._model = model
        self._fit_n = len(self._y)
        self._fit_seconds.append(time.perf_counter() - t0)

    def _acquire(self, predictions: np.ndarray) -> np.ndarray:
        """Acquisition values to maximise from ensemble predictions ``(n_models, n_cands)``."""
        return acquisition_values(predictions, self.acquisition, self.explore_factor, self.rng.generator)

    # -- candidates --------------------------------------------------------------------
    def _mutations(self, parent, n: int) -> list:
        if not self._categorical:
            return [self.space.mutate(parent, self.rng) for _ in range(n)]
        gen = self.rng.generator
        radix = self._radix
        base = np.asarray(parent, dtype=np.int64)
        change = gen.random((n, radix.size)) < self.edit_prob
        offset = gen.integers(1, radix, size=(n, radix.size))  # uniform over the other options
        new = np.where(change, (base + offset) % radix, base)
        return [tuple(int(v) for v in row) for row in new]

    def _candidates(self) -> list:
        """Unseen mutations of the best told architectures (naszilla ``get_candidates``)."""
        num, m = self.num_candidates, self.num_arches_to_mutate
        order = sorted(range(len(self._y)), key=lambda i: -self._y[i])  # scores are never NaN
        parents = []
        for i in order:  # best first, distinct architectures
            if self._archs[i] not in parents:
                parents.append(self._archs[i])
            if len(parents) >= m * _PATIENCE:
                break
        out, taken = [], set()
        per_parent = max(1, num // m)
        for parent in parents:
            if len(out) >= num:
                break
            for arch in self._mutations(parent, per_parent):
                if arch not in self._seen and arch not in taken:
                    taken.add(arch)
                    out.append(arch)
        if not out:  # neighbourhoods used up (tiny spaces): fall back to random unseen ones
            for _ in range(num):
                arch = self._random_unseen(exclude=taken)
                if arch is None:
                    break
                taken.add(arch)
                out.append(arch)
        return out

    def _random_unseen(self, exclude=frozenset()):
        space = self.space
        for _ in range(_REJECTION_TRIES):
            arch = space.sample(self.rng)
            if arch not in self._seen and arch not in exclude:
                return arch
        size = space.size
        if math.isfinite(size) and size <= _ENUMERATE_LIMIT:
            rest = [a for a in space.enumerate() if a not in self._seen and a not in exclude]
            return rest[self.rng.index(len(rest))] if rest else None
        return None

    # -- diagnostics -------------------------------------------------------------------
    def stats(self) -> dict:
        t = self._ask_seconds if hasattr(self, "_ask_seconds") else []
        f = self._fit_seconds if hasattr(self, "_fit_seconds") else []
        return {
            "ask_seconds_mean": float(np.mean(t)) if t else 0.0,
            "ask_seconds_max": float(np.max(t)) if t else 0.0,
            "asks": len(t),
            "model_fits": len(f),
            "fit_seconds_mean": float(np.mean(f)) if f else 0.0,
            "fit_seconds_max": float(np.max(f)) if f else 0.0,
            "encoding": getattr(self, "_encoding", None) or self.encoding,
        }


def acquisition_values(predictions: np.ndarray, kind: str, explore_factor: float, generator) -> np.ndarray:
    """Acquisition values (higher is better) of candidates from ensemble predictions.

    ``predictions`` has shape ``(n_models, n_candidates)`` and predicts a score to maximise.
    ``std`` is the population standard deviation over the ensemble (naszilla
    ``np.sqrt(np.var(predictions, axis=0))``). ``"its"``: one independent draw
    ``N(mean_i, std_i)`` per candidate; ``"ucb"``: ``mean + explore_factor * std`` (the
    reference's ``mean - 0.5 * std`` on a loss to minimise).
    """
    p = np.asarray(predictions, dtype=np.float64)
    mean = p.mean(axis=0)
    std = np.sqrt(p.var(axis=0))
    if kind == "its":
        return mean + std * generator.standard_normal(mean.shape[0])
    if kind == "ucb":
        return mean + explore_factor * std
    raise InvalidConfig(f"bananas: unknown acquisition {kind!r}; use 'its' or 'ucb'")
