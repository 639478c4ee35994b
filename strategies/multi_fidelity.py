"""Multi-fidelity strategies: successive halving, Hyperband, BOHB and ASHA.

They spend little budget on many architectures at a low fidelity (few training epochs)
and promote the best to higher fidelities, over the benchmark's fidelity axis
(``self.fidelity``: allowed values and a default). A benchmark without a fidelity axis
raises :class:`benchlab.InvalidConfig` in ``setup``.

Rungs
-----
The rungs are Hyperband's geometric ladder (Li et al., JMLR 2018, Algorithm 1:
``r_i = R * eta ** (i - s)``; hpbandster's ``budgets = max_budget * eta ** -k``):
``max_fidelity * eta ** -k`` for ``k = s_max, ..., 1, 0`` with
``s_max = floor(log_eta(max_fidelity / min_fidelity))``. Each is snapped to the nearest
allowed fidelity in ``[min_fidelity, max_fidelity]`` (ties to the lower one), and
duplicates are dropped, so the ladder always ends at ``max_fidelity``. On an axis 1..81
with ``eta=3`` the rungs are 1, 3, 9, 27, 81; on NAS-Bench-201's public table (12, 200)
they are 22.2 -> 12, 66.7 -> 12, 200 -> 200, i.e. two rungs (12, 200); on an imported
official table (every epoch 1..200) 2.5, 7.4, 22.2, 66.7, 200 become 2, 7, 22, 67, 200.

``rung_fidelities`` (instead of ``min_fidelity``/``max_fidelity``) gives the rungs
explicitly: a non-decreasing list of allowed fidelities. Equal consecutive rungs are
allowed: a promotion between them re-evaluates the architecture at the same fidelity, from
scratch and at full cost. ``rung_fidelities=(12, 12, 12)`` with ``eta=3`` is the
NAS-Bench-201 paper's BOHB protocol (its script gave hpbandster the budgets 12..200, i.e.
22.2, 66.7, 200, but answered every query with the 12-epoch reward and charged the
12-epoch cost).

Continuation
------------
With ``continue_training=True`` (default) an architecture promoted from rung ``r`` to
rung ``r'`` is asked with ``Trial(fidelity=r', resume_from=r)``: the harness charges only
``cost(r') - cost(r)``, as if the network trained at ``r`` epochs were trained further
(only when ``r < r'``).
Tables that store only final results approximate this: on NAS-Bench-201's public table
the 12- and 200-epoch results come from two different training schedules (``hp=12`` and
``hp=200``, each with its own cosine learning-rate decay), so the 200-epoch result stands
in for training the 12-epoch network further, and the charge is the 200-epoch cost minus
the 12-epoch cost. ``continue_training=False`` trains every promoted architecture from
scratch and charges the full cost of its fidelity.

Pending trials and recommendation
---------------------------------
Synchronous successive halving (also inside Hyperband and BOHB) promotes only once a
rung is complete: while its last results are pending, ``ask()`` returns None and the
harness waits for a result. ASHA never waits. Results may be told in any order.
``recommend()`` is the best architecture (primary objective, NaN worst) at the highest
fidelity observed so far; if every result at that fidelity is NaN/-inf, the next lower
fidelity with a usable result is used.
"""

from __future__ import annotations

import bisect

import math
import time
from collections import deque

import numpy as np

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._blas import one_blas_thread
from ._kde import CategoricalKDE
from ._valid import categorical_view, is_valid

__all__ = ["ASHA", "BOHB", "Hyperband", "SuccessiveHalving", "bracket_schedule", "rung_ladder"]

_EPS = 1e-9


def rung_ladder(values, min_fidelity, max_fidelity, eta) -> tuple:
    """The rung fidelities (increasing) for allowed ``values`` between ``min_fidelity`` and
    ``max_fidelity``: ``max * eta**-k`` for ``k = s_max..0`` snapped to the nearest allowed
    value (ties to the lower), duplicates dropped (see the module docstring)."""
    allowed = [v for v in values if min_fidelity <= v <= max_fidelity]
    s_max = math.floor(math.log(max_fidelity / min_fidelity) / math.log(eta) + _EPS)
    out: list = []
    for k in range(s_max, -1, -1):
        target = max_fidelity * float(eta) ** (-k)
        snapped = min(allowed, key=lambda v: (abs(v - target), v))
        if not out or snapped != out[-1]:
            out.append(snapped)
    return tuple(out)


def bracket_schedule(n_rungs: int, eta, s: int) -> list[tuple[int, int]]:
    """Bracket ``s`` of Hyperband (Li et al. 2018, Algorithm 1) over a ladder of ``n_rungs``
    rungs: ``[(n_i, rung index), ...]`` with ``n = ceil((s_max + 1) / (s + 1) * eta**s)``,
    ``n_i = floor(n * eta**-i)`` at rung ``s_max - s + i``, ``i = 0..s``."""
    s_max = n_rungs - 1
    n = math.ceil((s_max + 1) / (s + 1) * float(eta) ** s - _EPS)
    return [(max(1, math.floor(n * float(eta) ** (-i) + _EPS)), s_max - s + i) for i in range(s + 1)]


class _Bracket:
    """One run of synchronous successive halving: rung ``level`` is being evaluated."""

    __slots__ = ("counts", "done", "fids", "id", "level", "offset", "queue", "results", "sampled")

    def __init__(self, bracket_id: int, fids: list, counts: list, offset: int) -> None:
        self.id = bracket_id
        self.offset = offset  # index of its first rung in the strategy's ladder
        self.fids = fids  # fidelity of each rung of this bracket
        self.counts = counts  # configurations evaluated at each rung
        self.level = 0
        self.sampled = 0  # new configurations started at rung 0
        self.queue: deque = deque()  # promoted architectures still to start at ``level``
        self.results: list = []  # (score, tell order, arch) of the current rung
        self.done = False


class _MultiFidelity(Strategy):
    """Shared machinery: fidelity-axis checks, rungs, per-fidelity incumbents."""

    tags = frozenset({"multi_fidelity"})

    parameters = {
        "eta": Param(float, low=1, low_open=True, doc="reduction factor between rungs"),
        "min_fidelity": Param(float, low=0, low_open=True, none=True, doc="lowest rung (None: the axis minimum)"),
        "max_fidelity": Param(float, low=0, low_open=True, none=True, doc="highest rung (None: the axis maximum)"),
        "continue_training": Param(bool, doc="promotions continue from the lower rung, charged the difference"),
        "rung_fidelities": Param(list, none=True, doc="explicit non-decreasing rungs instead of min/max_fidelity"),
    }

    def _check_axis(self) -> None:
        name = self.name
        fid = self.fidelity
        if fid is None:
            raise InvalidConfig(
                f"{name} is a multi-fidelity strategy but the benchmark has no fidelity axis "
                "(self.fidelity is None); use a benchmark with a fidelity (e.g. nb201) or a single-fidelity strategy"
            )
        eta = self.eta
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1 or not math.isfinite(eta):
            raise InvalidConfig(f"{name}: eta must be a number > 1, got {eta!r}")
        if not isinstance(self.continue_training, bool):
            raise InvalidConfig(f"{name}: continue_training must be True or False, got {self.continue_training!r}")
        self._best_at: dict = {}  # fidelity -> (score, arch), first best kept
        explicit = self.rung_fidelities
        if explicit is not None:
            if self.min_fidelity is not None or self.max_fidelity is not None:
                raise InvalidConfig(f"{name}: give either rung_fidelities or min_fidelity/max_fidelity, not both")
            rungs = tuple(explicit) if isinstance(explicit, (list, tuple)) else ()
            if not rungs or any(v not in fid.values for v in rungs) or list(rungs) != sorted(rungs):
                raise InvalidConfig(
                    f"{name}: rung_fidelities must be a non-empty, non-decreasing list of allowed fidelities "
                    f"({list(fid.values)}), got {explicit!r}"
                )
            self.rungs = rungs
            return
        lo = fid.min if self.min_fidelity is None else self.min_fidelity
        hi = fid.max if self.max_fidelity is None else self.max_fidelity
        for what, v in (("min_fidelity", lo), ("max_fidelity", hi)):
            if v not in fid.values:
                raise InvalidConfig(f"{name}: {what}={v!r} is not an allowed fidelity; choose one of {list(fid.values)}")
        if not 0 < lo <= hi:
            raise InvalidConfig(f"{name}: need 0 < min_fidelity <= max_fidelity, got {lo!r} and {hi!r}")
        self.rungs = rung_ladder(fid.values, lo, hi, eta)

    def _promoted_trial(self, arch, fidelity, previous, info):
        resume = previous if self.continue_training and previous < fidelity else None
        return self._trial(arch, fidelity=fidelity, info=info, resume_from=resume)

    def _record(self, trial, evaluation, score) -> None:
        f = evaluation.fidelity if evaluation.fidelity is not None else trial.fidelity
        best = self._best_at.get(f)
        if best is None or score > best[0]:
            self._best_at[f] = (score, trial.arch)

    def recommend(self):
        """Best architecture at the highest fidelity observed (falling back to lower
        fidelities when every result there is NaN/-inf); None before any result."""
        if not self._n_told:
            return None
        for f in sorted(self._best_at, reverse=True):
            score, arch = self._best_at[f]
            if score > -math.inf:
                return arch
        return self._best_arch


class _SynchronousSH(_MultiFidelity):
    """Brackets of synchronous successive halving; subclasses choose brackets and samples."""

    def _setup(self) -> None:
        self._check_axis()
        self._bracket: _Bracket | None = None
        self._n_brackets = 0

    def _bracket_plan(self, k: int) -> list[tuple[int, int]]:
        """``[(n_i, rung index), ...]`` of the ``k``-th bracket (0, 1, 2, ...)."""
        raise NotImplementedError

    def _sample(self, fidelity):
        return self.space.sample(self.rng)

    def ask(self):
        while True:
            b = self._bracket
            if b is None or b.done:
                plan = self._bracket_plan(self._n_brackets)
                fids, counts = [self.rungs[r] for _, r in plan], [n for n, _ in plan]
                b = self._bracket = _Bracket(self._n_brackets, fids, counts, plan[0][1])
                self._n_brackets += 1
            if b.level == 0 and b.sampled < b.counts[0]:
                b.sampled += 1
                return self._trial(self._sample(b.fids[0]), fidelity=b.fids[0], info=(b.id, 0, b.offset))
            if b.queue:
                arch = b.queue.popleft()
                info = (b.id, b.level, b.offset + b.level)
                return self._promoted_trial(arch, b.fids[b.level], b.fids[b.level - 1], info)
            if len(b.results) < b.counts[b.level]:
                return None  # the rung waits for pending results
            if b.level == len(b.counts) - 1:
                b.done = True
                continue
            ranked = sorted(b.results, key=lambda r: (-r[0], r[1]))
            b.level += 1
            b.queue.extend(r[2] for r in ranked[: b.counts[b.level]])
            b.results = []

    def _tell(self, trial, evaluation, score) -> None:
        self._record(trial, evaluation, score)
        b = self._bracket
        if b is not None and trial.info[:2] == (b.id, b.level):
            b.results.append((score, self._n_told, trial.arch))


@register_strategy("successive_halving")
class SuccessiveHalving(_SynchronousSH):
    """Synchronous successive halving (Jamieson & Talwalkar, AISTATS 2016; Li et al.,
    JMLR 2018, Algorithm 1's inner loop), repeated until the budget ends.

    Each bracket starts ``n_configs`` uniform random architectures at the lowest rung and
    keeps the best ``floor(n_i / eta)`` of each rung for the next, up to ``max_fidelity``
    (rungs and continuation: see the module docstring). Every bracket is the same.

    Parameters
    ----------
    eta:
        Reduction factor, default 3 (Li et al. 2018, section 2.6 and hpbandster).
    min_fidelity, max_fidelity:
        Lowest and highest rung; None (default) = the fidelity axis' min and max.
    n_configs:
        Architectures per bracket at the lowest rung. None (default): ``eta ** s_max``
        (``s_max + 1`` rungs), Hyperband's most exploratory bracket, so that exactly one
        architecture reaches ``max_fidelity``. Later rungs keep ``max(1, floor(n *
        eta**-i))``.
    continue_training:
        True (default): promoted architectures continue from the lower rung and are
        charged the cost difference; False: charged the full cost.
    rung_fidelities:
        None (default), or the rungs given explicitly (see the module docstring).
    """

    description = "synchronous successive halving (Jamieson & Talwalkar 2016), eta=3"

    parameters = {"n_configs": Param(int, low=1, none=True, doc="architectures per bracket at the lowest rung")}

    def __init__(self, eta: float = 3, min_fidelity=None, max_fidelity=None, n_configs=None,
                 continue_training: bool = True, rung_fidelities=None) -> None:  # fmt: skip
        self.eta = eta
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.n_configs = n_configs
        self.continue_training = continue_training
        self.rung_fidelities = rung_fidelities

    def _setup(self) -> None:
        super()._setup()
        n = self.n_configs
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise InvalidConfig(f"successive_halving: n_configs must be None or a positive integer, got {n!r}")

    def _bracket_plan(self, k):
        s = len(self.rungs) - 1
        if self.n_configs is None:
            return bracket_schedule(len(self.rungs), self.eta, s)
        return [(max(1, math.floor(self.n_configs * float(self.eta) ** (-i) + _EPS)), i) for i in range(s + 1)]


@register_strategy("hyperband")
class Hyperband(_SynchronousSH):
    """Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar, JMLR 2018, Algorithm 1).

    Brackets ``s = s_max, ..., 0`` of successive halving, then again from ``s_max``, until
    the harness ends the run: bracket ``s`` starts ``n = ceil((s_max+1)/(s+1) * eta**s)``
    uniform random architectures at rung ``s_max - s`` and keeps ``floor(n * eta**-i)`` at
    its ``i``-th rung (``s_max + 1`` = number of rungs; rungs and continuation: see the
    module docstring). On an axis 1..81 with ``eta=3`` this is the paper's Table 1.

    Parameters
    ----------
    eta:
        Reduction factor, default 3 (Li et al. 2018, section 2.6; hpbandster's default).
    min_fidelity, max_fidelity:
        Lowest and highest rung; None (default) = the fidelity axis' min and max.
    continue_training:
        True (default): promoted architectures continue from the lower rung and are
        charged the cost difference; False: charged the full cost.
    rung_fidelities:
        None (default), or the rungs given explicitly (see the module docstring).
    """

    description = "Hyperband (Li et al. 2018): brackets of successive halving, eta=3"

    def __init__(self, eta: float = 3, min_fidelity=None, max_fidelity=None, continue_training: bool = True,
                 rung_fidelities=None) -> None:  # fmt: skip
        self.eta = eta
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.continue_training = continue_training
        self.rung_fidelities = rung_fidelities

    def _bracket_plan(self, k):
        s_max = len(self.rungs) - 1
        return bracket_schedule(len(self.rungs), self.eta, s_max - k % (s_max + 1))


class _RungData:
    """BOHB's observations at one rung, kept ranked as they arrive: codes in a growing array
    and the rank order ``(-score, tell index)`` maintained by insertion, so a model refit
    costs one gather instead of a sort of every result (runs of thousands of evaluations)."""

    __slots__ = ("_codes", "_keys", "n")

    def __init__(self, d: int) -> None:
        self._codes = np.empty((64, d), dtype=np.int64)
        self._keys: list[tuple[float, int]] = []
        self.n = 0

    def add(self, arch, score: float) -> None:
        if self.n == len(self._codes):
            self._codes = np.concatenate([self._codes, np.empty_like(self._codes)])
        self._codes[self.n] = arch
        bisect.insort(self._keys, (-score, self.n))
        self.n += 1

    def __len__(self) -> int:
        return self.n

    def ranked_codes(self) -> np.ndarray:
        return self._codes[np.fromiter((i for _, i in self._keys), dtype=np.int64, count=self.n)]


@register_strategy("bohb")
class BOHB(Hyperband):
    """BOHB (Falkner, Klein & Hutter, ICML 2018): Hyperband whose new architectures come
    from a TPE-style model instead of uniform sampling.

    Per rung ``b`` (hpbandster keeps one model per budget; with distinct rungs that is one
    per fidelity) the results ``D_b`` are split as in the paper's model description into the best
    ``n_l = max(N_min, floor(top_n_percent * |D_b| / 100))`` and the worst
    ``n_g = max(N_min, |D_b| - n_l)`` (they may overlap when ``|D_b|`` is small; hpbandster
    instead takes the next ``n_g`` after the good ones and fits only once both sets hold
    more than ``d`` points); each set gets a multivariate KDE over the categorical
    encoding (one integer code per decision of ``space.choices()``) with a product of
    Aitchison-Aitken kernels, the kernel hpbandster uses for categorical hyper-parameters
    (see ``strategies/_kde.py``; kernels use each decision's true number of options, where
    statsmodels counts the options present in the data). A model exists at ``b`` once
    ``|D_b| >= N_min + 2`` (paper, Algorithm 2); the model of the highest such rung is
    used. A new architecture is uniform random with probability ``random_fraction`` (or while no model exists); otherwise ``num_samples`` candidates
    are drawn from the good KDE with bandwidths widened by ``bandwidth_factor`` and the one
    maximising ``l(x) / g(x)`` is taken. Pending trials do not enter the model.

    Parameters (defaults are hpbandster's ``BOHB`` optimizer defaults, checked in
    automl/HpBandSter ``hpbandster/optimizers/bohb.py``)
    ----------
    eta, min_fidelity, max_fidelity, continue_training, rung_fidelities:
        As in :class:`Hyperband` (``eta=3``).
    min_points_in_model:
        ``N_min``; None (default) = number of decisions + 1 (hpbandster).
    top_n_percent:
        15 (hpbandster; the paper's ``q = 0.15``).
    num_samples:
        64 candidates per model-based draw (hpbandster).
    random_fraction:
        1/3 (hpbandster; the paper's ``rho``).
    bandwidth_factor:
        3 (hpbandster): sampling bandwidths are this multiple of the KDE's.
    min_bandwidth:
        1e-3 (hpbandster): lower bound of every KDE bandwidth.

    The NAS-Bench-201 paper's script (D-X-Y/AutoDL-Projects ``exps/algos/BOHB.py`` with
    ``scripts-search/algos/BOHB.sh``) used ``eta=3, min_budget=12, max_budget=200,
    num_samples=4, random_fraction=0.0, bandwidth_factor=3, min_bandwidth=0.3`` and a
    worker that ignored the budget (every query: 12-epoch reward, 12-epoch cost); here that
    is ``rung_fidelities=(12, 12, 12)`` with those values (promotions between equal rungs
    re-evaluate at full cost, as the script's did).

    ``stats()`` reports the per-ask compute (model fitting + acquisition) in seconds.
    """

    description = "BOHB (Falkner et al. 2018): Hyperband + TPE-style categorical KDE, hpbandster defaults"

    parameters = {
        "min_points_in_model": Param(int, low=1, none=True, doc="N_min (None: number of decisions + 1)"),
        "top_n_percent": Param(float, low=0, high=100, low_open=True, high_open=True, doc="percent of results in the good KDE"),
        "num_samples": Param(int, low=1, doc="candidates drawn from the good KDE per model-based draw"),
        "random_fraction": Param(float, low=0, high=1, doc="fraction of uniformly random new architectures"),
        "bandwidth_factor": Param(float, low=0, low_open=True, doc="sampling bandwidths are this multiple of the KDE's"),
        "min_bandwidth": Param(float, low=0, high=1, high_open=True, doc="lower bound of every KDE bandwidth"),
    }

    def __init__(self, eta: float = 3, min_fidelity=None, max_fidelity=None, continue_training: bool = True,
                 rung_fidelities=None, min_points_in_model=None, top_n_percent: float = 15, num_samples: int = 64,
                 random_fraction: float = 1 / 3, bandwidth_factor: float = 3, min_bandwidth: float = 1e-3) -> None:  # fmt: skip
        super().__init__(eta, min_fidelity, max_fidelity, continue_training, rung_fidelities)
        self.min_points_in_model = min_points_in_model
        self.top_n_percent = top_n_percent
        self.num_samples = num_samples
        self.random_fraction = random_fraction
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth

    def _setup(self) -> None:
        super()._setup()
        self._levels = np.asarray([len(opts) for _, opts in categorical_view(self.space, self.name)], dtype=np.int64)
        d = len(self._levels)
        n_min = d + 1 if self.min_points_in_model is None else self.min_points_in_model
        if isinstance(n_min, bool) or not isinstance(n_min, int) or n_min < 1:
            raise InvalidConfig(f"bohb: min_points_in_model must be None or a positive integer, got {self.min_points_in_model!r}")
        self._n_min = n_min
        checks = (
            ("top_n_percent", self.top_n_percent, lambda v: 0 < v < 100),
            ("num_samples", self.num_samples, lambda v: isinstance(v, int) and v >= 1),
            ("random_fraction", self.random_fraction, lambda v: 0 <= v <= 1),
            ("bandwidth_factor", self.bandwidth_factor, lambda v: v > 0),
            ("min_bandwidth", self.min_bandwidth, lambda v: 0 <= v < 1),
        )
        for name, v, ok in checks:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not ok(v):
                raise InvalidConfig(f"bohb: {name}={v!r} is out of range")
        self._obs: dict = {}  # rung index (hpbandster: budget) -> _RungData
        self._model = None  # (rung index, n observations, good KDE, bad KDE)
        self._ask_seconds: list[float] = []
        self._model_asks = 0

    def _tell(self, trial, evaluation, score) -> None:
        rung = self._obs.get(trial.info[2])
        if rung is None:
            rung = self._obs[trial.info[2]] = _RungData(len(self._levels))
        rung.add(trial.arch, score)
        super()._tell(trial, evaluation, score)

    def _fit(self):
        usable = [f for f, obs in self._obs.items() if len(obs) >= self._n_min + 2]
        if not usable:
            return None
        f = max(usable)
        obs = self._obs[f]
        if self._model is not None and self._model[0] == f and self._model[1] == obs.n:
            return self._model
        n = obs.n
        n_good = max(self._n_min, int(self.top_n_percent * n // 100))
        n_bad = max(self._n_min, n - n_good)
        codes = obs.ranked_codes()  # best first; ties in tell order
        good = CategoricalKDE(codes[:n_good], self._levels, self.min_bandwidth)
        bad = CategoricalKDE(codes[n - n_bad:], self._levels, self.min_bandwidth)
        self._model = (f, n, good, bad)
        return self._model

    def _sample(self, fidelity):
        t0 = time.perf_counter()
        model = self._fit()
        if model is None or self.rng.random() < self.random_fraction:
            arch = self.space.sample(self.rng)
        else:
            _, _, good, bad = model
            cand = good.sample(self.num_samples, self.rng.generator, self.bandwidth_factor)
            with one_blas_thread():  # the densities are one small matrix product each
                ratio = np.maximum(good.pdf(cand), 1e-32) / np.maximum(bad.pdf(cand), 1e-32)
            # the best valid candidate (NB101's categorical view spells some invalid cells)
            order = np.argsort(-ratio, kind="stable")
            valid = (tuple(int(v) for v in cand[i]) for i in order)
            arch = next((a for a in valid if is_valid(self.space, a)), None)
            if arch is None:
                arch = self.space.sample(self.rng)
            self._model_asks += 1
        self._ask_seconds.append(time.perf_counter() - t0)
        return arch

    def stats(self) -> dict:
        s = getattr(self, "_ask_seconds", None)
        if not s:
            return {}
        return {"ask_seconds_mean": float(np.mean(s)), "ask_seconds_max": float(np.max(s)), "asks": len(s),
                "model_asks": self._model_asks}  # fmt: skip


@register_strategy("asha")
class ASHA(_MultiFidelity):
    """Asynchronous successive halving (Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt,
    Recht & Talwalkar, MLSys 2020, Algorithm 2, early-stopping rate ``s = 0``).

    ``ask()``: from the highest rung below the top down to the lowest, promote the first
    architecture that is among the top ``floor(|rung k| / eta)`` results told at rung ``k``
    and not yet promoted from it (to rung ``k + 1``); if there is none, start a new uniform
    random architecture at the lowest rung. It never waits (never returns None). Rungs
    and continuation: see the module docstring.

    Parameters
    ----------
    eta:
        Reduction factor, default 3 (Li et al. 2020, section 4 experiments; Hyperband's).
    min_fidelity, max_fidelity:
        Lowest and highest rung; None (default) = the fidelity axis' min and max.
    continue_training:
        True (default): promotions continue from the lower rung and are charged the cost
        difference; False: charged the full cost.
    rung_fidelities:
        None (default), or the rungs given explicitly (see the module docstring).
    """

    description = "ASHA (Li et al. 2020): asynchronous successive halving, eta=3"

    def __init__(self, eta: float = 3, min_fidelity=None, max_fidelity=None, continue_training: bool = True,
                 rung_fidelities=None) -> None:  # fmt: skip
        self.eta = eta
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.continue_training = continue_training
        self.rung_fidelities = rung_fidelities

    def _setup(self) -> None:
        self._check_axis()
        self._rung_results: list[list] = [[] for _ in self.rungs]  # (score, tell order, config id, arch)
        self._promoted: list[set] = [set() for _ in self.rungs]
        self._n_configs = 0

    def ask(self):
        eta = float(self.eta)
        for k in range(len(self.rungs) - 2, -1, -1):
            results = self._rung_results[k]
            top = math.floor(len(results) / eta + _EPS)
            if top < 1:
                continue
            promoted = self._promoted[k]
            for score, _, cid, arch in sorted(results, key=lambda r: (-r[0], r[1]))[:top]:
                if cid not in promoted:
                    promoted.add(cid)
                    return self._promoted_trial(arch, self.rungs[k + 1], self.rungs[k], (cid, k + 1))
        cid = self._n_configs
        self._n_configs += 1
        return self._trial(self.space.sample(self.rng), fidelity=self.rungs[0], info=(cid, 0))

    def _tell(self, trial, evaluation, score) -> None:
        self._record(trial, evaluation, score)
        cid, k = trial.info
        self._rung_results[k].append((score, self._n_told, cid, trial.arch))
