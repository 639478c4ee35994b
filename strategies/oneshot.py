"""Weight-sharing NAS on the NB201 supernet: DARTS-V1/V2, GDAS, RSPS, ENAS, SNAS and latency-aware DARTS.

Every ``ask`` advances the search by ``steps_per_ask`` iterations (default: one epoch of
the dataset's train split) and proposes the cell the method currently derives; the harness
scores it on the benchmark's table, which gives NB201's anytime curves of weight-sharing
methods (Dong & Yang, ICLR 2020, section 5 and Fig. 7). ``tell`` is ignored: these methods
never see the table. ``recommend()`` is the last derived cell (what the method itself
returns), not the best one by the table's validation accuracy.

The search trains live networks (torch, imported in ``setup``) on ``dataset`` from
:mod:`benchlab.nn` -- never on CIFAR unless you have it: the default is Fashion-MNIST,
and tests use scikit-learn's 8x8 digits. Weights train on the train split, architecture
parameters / rewards use the valid split (SNAS, single-level, trains both on the train
split), the test split is never read. ``darts_latency`` and SNAS with a latency cost read
one ``latency/<device>`` column of the table to fit their latency model, nothing else.

Cost: each trial carries ``Trial.cost``, charged by the harness instead of the table's
training time. ``cost="seconds"`` (default) is the measured wall-clock time of the ask;
``cost="steps"`` is the number of training iterations in the ask, which is deterministic
(the trajectory file is then identical across runs; with seconds only the cost columns
differ).

Defaults are the NB201 search configurations (``configs/nas-benchmark/algos/*.config`` and
``scripts-search/algos/*.sh`` of the NAS-Bench-201 code): C=16, N=5; SGD with Nesterov
momentum 0.9, lr 0.025 cosine-annealed to 0.001, weight decay 5e-4, batch size 64,
gradient clip 5; search cells with ``affine=False`` BN and ``--track_running_stats 1``;
schedule length 50 epochs (DARTS), 240 (GDAS), 250 (RSPS), 310 (ENAS, whose lr is 0.05 ->
0.0005, weight decay 2.5e-4 and batch 128). The NB201 paper's Table 5 reports for
CIFAR-10 valid/test: DARTS-V1 39.77/54.30, GDAS 89.89/93.61, ENAS 37.51/53.89 (DARTS
and ENAS collapse to cells of skip connections).
"""

from __future__ import annotations

import dataclasses

import benchlab.nn
from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

__all__ = ["ENAS", "GDAS", "RSPS", "SNAS", "DartsLatency", "DartsV1", "DartsV2"]


def _torch_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a blocked or broken torch counts as missing
        return False


#: Declarations shared by every weight-sharing strategy (defaults differ per method).
_COMMON_PARAMS = {
    "dataset": Param(str, doc="live dataset the supernet trains on (benchlab.nn.load_dataset: fashion-mnist, digits, ...)"),
    "C": Param(int, low=1, doc="supernet channels of the first stage (NB201: 16)"),
    "N": Param(int, low=1, doc="cells per stage (NB201: 5)"),
    "batch_size": Param(int, low=1, doc="mini-batch size of the train and valid batches"),
    "epochs": Param(float, low=0, low_open=True, doc="length of the cosine LR schedule, in epochs of the train split"),
    "steps_per_ask": Param(int, low=0, none=True, doc="search iterations per ask; null = one epoch of the train split"),
    "lr": Param(float, low=0, low_open=True, doc="peak learning rate of the weights' SGD"),
    "lr_min": Param(float, low=0, doc="final learning rate of the cosine schedule"),
    "momentum": Param(float, low=0, high=1, doc="SGD momentum"),
    "nesterov": Param(bool, doc="Nesterov momentum"),
    "weight_decay": Param(float, low=0, doc="L2 weight decay of the weights"),
    "grad_clip": Param(float, low=0, low_open=True, doc="maximum global gradient norm"),
    "track_running_stats": Param(bool, doc="BatchNorm running statistics in the search cells (NB201 scripts: true)"),
    "device": Param(str, doc="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ..."),
    "cost": Param(str, choices=("seconds", "steps"), doc="trial cost: measured seconds or deterministic iterations"),
}
_ARCH_PARAMS = {
    "arch_lr": Param(float, low=0, low_open=True, doc="Adam learning rate of the architecture parameters"),
    "arch_weight_decay": Param(float, low=0, doc="weight decay of the architecture parameters"),
}


class _OneShot(Strategy):
    """Common plumbing of the weight-sharing strategies (see the module docstring)."""

    tags = frozenset({"needs_training"})
    # The generic conformance suite drives strategies on toy spaces, which have no network
    # to train: these strategies opt out, and tests/test_oneshot.py checks determinism,
    # pickling mid-run, the global RNGs and the harness on the NB201 space instead.
    conformance_cases: list = []
    _engine = ""  # the search engine's name in benchlab.nn

    def _engine_params(self) -> dict:
        return dict(self.get_params())

    def _check(self) -> None:
        options = benchlab.nn.nb201_edge_options(self.space, self.name)
        # engine op id (benchlab.nn.NB201_OPS order) -> the space's option index, per edge
        self._to_space = [tuple(opts.index(op) for op in benchlab.nn.NB201_OPS) for opts in options]
        for key in ("C", "N", "batch_size"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidConfig(f"{self.name}: {key} must be a positive integer, got {v!r}")
        s = self.steps_per_ask
        if s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 0):
            raise InvalidConfig(f"{self.name}: steps_per_ask must be None (one epoch) or an integer >= 0, got {s!r}")
        if self.cost not in ("seconds", "steps"):
            raise InvalidConfig(f"{self.name}: cost must be 'seconds' (measured) or 'steps' (deterministic), got {self.cost!r}")
        if not (isinstance(self.epochs, (int, float)) and self.epochs > 0):
            raise InvalidConfig(f"{self.name}: epochs (length of the LR schedule) must be > 0, got {self.epochs!r}")

    def _setup(self) -> None:
        self._check()
        if not _torch_available():
            raise InvalidConfig(f"{self.name} trains a supernet and needs torch: `pip install benchlab[train]` (or torch)")
        engine_cls = getattr(benchlab.nn, self._engine)
        seed = int(self.rng.generator.integers(0, 2**62))
        self._search = engine_cls(self._engine_params(), seed)
        self._steps_per_ask = self.steps_per_ask if self.steps_per_ask is not None else self._search.train_batches.per_epoch
        self._last = None

    def ask(self):
        engine = self._search
        seconds = engine.search(self._steps_per_ask)
        cell, derive_s = engine.timed_propose()
        arch = tuple(to_space[op] for to_space, op in zip(self._to_space, cell))
        self._last = arch
        total = seconds + derive_s
        cost = float(self._steps_per_ask) if self.cost == "steps" else total
        info = {"steps": engine.steps, "epoch": engine.steps / engine.train_batches.per_epoch, "seconds": total}
        return dataclasses.replace(self._trial(arch, info=info), cost=cost)

    def recommend(self):
        return self._last if self._last is not None else super().recommend()

    def stats(self) -> dict:
        engine = getattr(self, "_search", None)
        if engine is None:
            return {}
        out = {"steps": engine.steps, "device": str(engine.device)}
        alpha = getattr(getattr(engine, "model", None), "alpha", None)
        if alpha is not None and self._engine in ("DartsSearch", "GdasSearch"):
            out["alpha_softmax"] = [[round(float(v), 4) for v in row] for row in alpha.detach().softmax(-1).cpu().tolist()]
        return out


_COMMON_DOC = """
    Parameters (shared by the weight-sharing strategies)
    ----------------------------------------------------
    dataset:
        live dataset of :func:`benchlab.nn.load_dataset` (default ``"fashion-mnist"``;
        ``"digits"`` for smoke tests; CIFAR-10 etc. when you have the files).
    C, N:
        supernet channels and cells per stage (NB201: 16, 5).
    batch_size, epochs:
        mini-batch size and the length (in epochs of the train split) of the cosine LR
        schedule (and of GDAS's temperature annealing).
    steps_per_ask:
        search iterations per ask; None = one epoch of the train split.
    lr, lr_min, momentum, nesterov, weight_decay, grad_clip:
        the weights' SGD (NB201 configs).
    track_running_stats:
        BN option of the search cells (NB201 scripts: 1).
    device:
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ...
    cost:
        ``"seconds"`` (measured) or ``"steps"`` (deterministic), see the module docstring.
"""


def _doc(cls):
    cls.__doc__ = (cls.__doc__ or "") + _COMMON_DOC
    return cls


@register_strategy("darts_v1")
@_doc
class DartsV1(_OneShot):
    """DARTS, first-order approximation (Liu, Simonyan & Yang, ICLR 2019), on the NB201
    supernet as NB201's DARTS-V1: 50-epoch cosine schedule; architecture Adam lr 3e-4,
    betas (0.5, 0.999), weight decay 1e-3 (``arch_lr``, ``arch_weight_decay``).
    """

    description = "DARTS first order (Liu et al. ICLR 2019) on the NB201 supernet, live training; NB201 DARTS-V1 defaults"
    _engine = "DartsSearch"
    parameters = {**_COMMON_PARAMS, **_ARCH_PARAMS}
    _order = 1

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 64,
        epochs: float = 50,
        steps_per_ask: int | None = None,
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        grad_clip: float = 5.0,
        arch_lr: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        self.dataset = dataset
        self.C = C
        self.N = N
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_ask = steps_per_ask
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.arch_lr = arch_lr
        self.arch_weight_decay = arch_weight_decay
        self.track_running_stats = track_running_stats
        self.device = device
        self.cost = cost

    def _engine_params(self) -> dict:
        return {**self.get_params(), "order": self._order}


@register_strategy("darts_v2")
@_doc
class DartsV2(DartsV1):
    """DARTS, second order (Liu et al., ICLR 2019, eq. 7-8): the architecture gradient at the
    one-step unrolled weights, its Hessian-vector product by central finite differences
    (eps = 0.01 / ||v||). Same defaults as ``darts_v1`` (NB201's DARTS-V2). About 3x the
    cost of an iteration of DARTS-V1.
    """

    description = "DARTS second order (unrolled, finite-difference Hessian-vector product; Liu et al. 2019) on the NB201 supernet"
    _order = 2


@register_strategy("gdas")
@_doc
class GDAS(_OneShot):
    """GDAS (Dong & Yang, CVPR 2019): straight-through Gumbel-softmax sampling of one path
    per forward, temperature annealed linearly from ``tau_max=10`` to ``tau_min=0.1``
    (NB201 ``GDAS.sh``); 240-epoch schedule (NB201 ``GDAS.config``); architecture Adam
    as DARTS.
    """

    description = "GDAS (Dong & Yang CVPR 2019): Gumbel-softmax one-path supernet search, tau 10->0.1; NB201 defaults"
    _engine = "GdasSearch"
    parameters = {
        **_COMMON_PARAMS,
        **_ARCH_PARAMS,
        "tau_max": Param(float, low=0, low_open=True, doc="Gumbel-softmax temperature at the start (NB201 GDAS.sh: 10)"),
        "tau_min": Param(float, low=0, low_open=True, doc="temperature at the end of the schedule (NB201: 0.1)"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 64,
        epochs: float = 240,
        steps_per_ask: int | None = None,
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        grad_clip: float = 5.0,
        arch_lr: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        tau_max: float = 10.0,
        tau_min: float = 0.1,
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        self.dataset = dataset
        self.C = C
        self.N = N
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_ask = steps_per_ask
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.arch_lr = arch_lr
        self.arch_weight_decay = arch_weight_decay
        self.tau_max = tau_max
        self.tau_min = tau_min
        self.track_running_stats = track_running_stats
        self.device = device
        self.cost = cost


@register_strategy("rsps")
@_doc
class RSPS(_OneShot):
    """Random search with parameter sharing (Li & Talwalkar, UAI 2019; NB201 RANDOM-NAS):
    uniformly sampled paths train the shared weights; each ask proposes the best of
    ``select_num`` random cells by shared-weight accuracy on a valid batch each (NB201
    ``RANDOM-NAS.sh``: 100). 250-epoch schedule (NB201 ``RANDOM.config``).
    """

    description = "random search with parameter sharing (Li & Talwalkar UAI 2019) on the NB201 supernet; NB201 defaults"
    _engine = "RspsSearch"
    parameters = {
        **_COMMON_PARAMS,
        "select_num": Param(int, low=1, doc="random cells compared by shared-weight accuracy per proposal (NB201: 100)"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 64,
        epochs: float = 250,
        steps_per_ask: int | None = None,
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        grad_clip: float = 5.0,
        select_num: int = 100,
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        self.dataset = dataset
        self.C = C
        self.N = N
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_ask = steps_per_ask
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.select_num = select_num
        self.track_running_stats = track_running_stats
        self.device = device
        self.cost = cost

    def _check(self) -> None:
        super()._check()
        if isinstance(self.select_num, bool) or not isinstance(self.select_num, int) or self.select_num < 1:
            raise InvalidConfig(f"{self.name}: select_num must be a positive integer, got {self.select_num!r}")


@register_strategy("enas")
@_doc
class ENAS(_OneShot):
    """ENAS (Pham et al., ICML 2018) on the NB201 cell: an LSTM controller (2 x 32 units)
    samples cells; the shared weights train on its samples; the controller learns by
    REINFORCE with the shared-weight valid accuracy as reward, entropy bonus
    ``entropy_weight`` and a moving-average baseline (``bl_dec``); ``controller_steps`` x
    ``controller_aggregate`` samples per ask; the proposal is the best of ``select_num``
    controller samples. Defaults of NB201 ``ENAS.sh``/``ENAS.config``: lr 0.05 -> 0.0005,
    weight decay 2.5e-4, batch 128, 310 epochs, controller Adam lr 1e-3, entropy 1e-4,
    baseline decay 0.99, 50 x 20 samples, 100 for the proposal.
    """

    description = "ENAS (Pham et al. ICML 2018): LSTM controller + REINFORCE on shared NB201 weights; NB201 defaults"
    _engine = "EnasSearch"
    parameters = {
        **_COMMON_PARAMS,
        "controller_lr": Param(float, low=0, low_open=True, doc="Adam learning rate of the LSTM controller"),
        "entropy_weight": Param(float, low=0, doc="entropy bonus of the controller's REINFORCE loss"),
        "bl_dec": Param(float, low=0, high=1, doc="decay of the reward's moving-average baseline"),
        "controller_steps": Param(int, low=0, doc="controller updates per ask"),
        "controller_aggregate": Param(int, low=1, doc="controller samples per update"),
        "select_num": Param(int, low=1, doc="controller samples compared for the proposal"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 128,
        epochs: float = 310,
        steps_per_ask: int | None = None,
        lr: float = 0.05,
        lr_min: float = 0.0005,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 2.5e-4,
        grad_clip: float = 5.0,
        controller_lr: float = 1e-3,
        entropy_weight: float = 1e-4,
        bl_dec: float = 0.99,
        controller_steps: int = 50,
        controller_aggregate: int = 20,
        select_num: int = 100,
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        self.dataset = dataset
        self.C = C
        self.N = N
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_ask = steps_per_ask
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.controller_lr = controller_lr
        self.entropy_weight = entropy_weight
        self.bl_dec = bl_dec
        self.controller_steps = controller_steps
        self.controller_aggregate = controller_aggregate
        self.select_num = select_num
        self.track_running_stats = track_running_stats
        self.device = device
        self.cost = cost

    def _check(self) -> None:
        super()._check()
        for key in ("controller_steps", "controller_aggregate", "select_num"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if key == "controller_steps" else 1):
                kind = "non-negative" if key == "controller_steps" else "positive"
                raise InvalidConfig(f"{self.name}: {key} must be a {kind} integer, got {v!r}")


@register_strategy("snas")
@_doc
class SNAS(_OneShot):
    """SNAS (Xie, Zheng, Liu & Lin, ICLR 2019): every forward mixes the ops of each edge by a
    concrete (Gumbel-softmax) sample of the one-hot choice, temperature annealed linearly
    from ``tau_max=1`` to ``tau_min=0.03``; weights and architecture take one single-level
    step on the same train-batch loss (no valid split); ``alpha`` starts at N(1, 0.01). The
    resource-aware penalty ``resource_weight * E[C(child)]`` (``resource``: ``"flops"``,
    ``"params"``, ``"mac"`` or ``"latency/<device>"``, scaled so the dearest cell costs 1)
    is estimated with the paper's score-function estimator (``resource_estimator="score"``)
    or pathwise on the soft sample (``"reparam"``); ``resource_weight=0`` is plain SNAS.
    Defaults of the official code (SNAS-Series ``train_search.py`` and its README command):
    150 epochs, SGD momentum 0.9 without Nesterov, weight decay 3e-4; architecture Adam lr
    3e-4, betas (0.5, 0.999), weight decay 1e-3 (DARTS's; the official distributed setup),
    gradient clip 10. ``resource_weight`` defaults to 0 because the official weights belong
    to its own cost scales; on the normalised cost here 1 to 10 is a strong penalty. See
    :mod:`benchlab.nn._snas`.
    """

    description = "SNAS (Xie et al. ICLR 2019): concrete relaxation, single-level, resource penalty by score function"
    _engine = "SnasSearch"
    parameters = {
        **_COMMON_PARAMS,
        **_ARCH_PARAMS,
        "arch_grad_clip": Param(float, low=0, low_open=True, doc="maximum gradient norm of alpha (official: 10)"),
        "tau_max": Param(float, low=0, low_open=True, doc="concrete temperature at the start (SNAS: 1)"),
        "tau_min": Param(float, low=0, low_open=True, doc="temperature at the end of the schedule (SNAS: 0.03)"),
        "resource": Param(str, doc="cost of the child: flops, params, mac or latency/<device> (of latency_table)"),
        "resource_weight": Param(float, low=0, doc="eta: weight of the expected cost (0..1) in the loss; 0 = none"),
        "resource_estimator": Param(str, choices=("score", "reparam"), doc="E[cost] gradient: score function or pathwise"),
        "latency_table": Param(str, doc="table whose latency/<device> column fits the latency cost model"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 64,
        epochs: float = 150,
        steps_per_ask: int | None = None,
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 3e-4,
        grad_clip: float = 5.0,
        arch_lr: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        arch_grad_clip: float = 10.0,
        tau_max: float = 1.0,
        tau_min: float = 0.03,
        resource: str = "flops",
        resource_weight: float = 0.0,
        resource_estimator: str = "score",
        latency_table: str = "nb201",
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        self.dataset = dataset
        self.C = C
        self.N = N
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_ask = steps_per_ask
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.arch_lr = arch_lr
        self.arch_weight_decay = arch_weight_decay
        self.arch_grad_clip = arch_grad_clip
        self.tau_max = tau_max
        self.tau_min = tau_min
        self.resource = resource
        self.resource_weight = resource_weight
        self.resource_estimator = resource_estimator
        self.latency_table = latency_table
        self.track_running_stats = track_running_stats
        self.device = device
        self.cost = cost

    def _check(self) -> None:
        super()._check()
        r = self.resource
        if not isinstance(r, str) or not (r in ("flops", "params", "mac") or (r.startswith("latency/") and len(r) > 8)):
            raise InvalidConfig(
                f"{self.name}: resource must be 'flops', 'params', 'mac' or 'latency/<device>' (e.g. 'latency/pixel3'), got {r!r}"
            )
        if self.resource_estimator not in ("score", "reparam"):
            raise InvalidConfig(f"{self.name}: resource_estimator must be 'score' or 'reparam', got {self.resource_estimator!r}")

    def stats(self) -> dict:
        out = super().stats()
        engine = getattr(self, "_search", None)
        if engine is not None:
            probs = engine.model.alpha.detach().softmax(-1).cpu().tolist()
            out["alpha_softmax"] = [[round(float(v), 4) for v in row] for row in probs]
            out["tau"] = engine.tau
            out["expected_cost"] = engine.expected_cost()
        return out


@register_strategy("darts_latency")
@_doc
class DartsLatency(DartsV1):
    """Latency-aware DARTS: DARTS-V1 on the NB201 supernet whose architecture loss adds
    ProxylessNAS's additive expected-latency penalty (Cai, Zhu & Han, ICLR 2019, section
    3.3; the official code's ``add#linear``, default lambda 0.1):
    ``L_val + latency_weight * (E[LAT] - T) / T`` with
    ``E[LAT] = b + sum_e sum_o softmax(alpha_e)_o w[e, o]`` (ms) from an additive per-op
    latency model fitted by least squares on all rows of ``latency_table``'s
    ``latency/<latency_device>`` column (28 columns on ``nb201``: e.g. pixel3, raspi4,
    1080ti_32; R^2 0.79 to 1.00, see :mod:`benchlab.nn._latency`). ``T`` is
    ``latency_target`` (ms) or, when None, the model's mean latency over the space;
    ``latency_hinge`` penalises only ``max(E[LAT] - T, 0)``. Only the latency column is
    read, never an accuracy. Other defaults: ``darts_v1``'s (NB201 DARTS-V1).
    ``latency_device`` names the hardware; ``device`` stays the torch device.
    """

    description = "latency-aware DARTS: CE + lambda (E[latency] - T) / T (ProxylessNAS) from the table's per-op latency fit"
    _engine = "DartsLatencySearch"
    parameters = {
        **DartsV1.parameters,
        "latency_device": Param(str, doc="hardware: a latency/<device> column of latency_table (e.g. pixel3)"),
        "latency_weight": Param(float, low=0, doc="lambda: loss per relative latency (E[LAT] - T) / T; 0 = DARTS-V1"),
        "latency_target": Param(float, low=0, low_open=True, none=True, doc="T in ms; null: the mean latency of the space"),
        "latency_hinge": Param(bool, doc="penalise only the expected latency above latency_target"),
        "latency_table": Param(str, doc="table holding the latency/<device> columns (nb201)"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        C: int = 16,
        N: int = 5,
        batch_size: int = 64,
        epochs: float = 50,
        steps_per_ask: int | None = None,
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        grad_clip: float = 5.0,
        arch_lr: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        latency_device: str = "pixel3",
        latency_weight: float = 0.1,
        latency_target: float | None = None,
        latency_hinge: bool = False,
        latency_table: str = "nb201",
        track_running_stats: bool = True,
        device: str = "auto",
        cost: str = "seconds",
    ) -> None:
        super().__init__(dataset=dataset, C=C, N=N, batch_size=batch_size, epochs=epochs, steps_per_ask=steps_per_ask,
                         lr=lr, lr_min=lr_min, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                         grad_clip=grad_clip, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                         track_running_stats=track_running_stats, device=device, cost=cost)  # fmt: skip
        self.latency_device = latency_device
        self.latency_weight = latency_weight
        self.latency_target = latency_target
        self.latency_hinge = latency_hinge
        self.latency_table = latency_table

    def _check(self) -> None:
        super()._check()
        if not isinstance(self.latency_device, str) or not self.latency_device.strip("/"):
            raise InvalidConfig(f"{self.name}: latency_device must name a device such as 'pixel3', got {self.latency_device!r}")
        w = self.latency_weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w >= 0:
            raise InvalidConfig(f"{self.name}: latency_weight must be a number >= 0, got {w!r}")

    def stats(self) -> dict:
        out = super().stats()
        engine = getattr(self, "_search", None)
        if engine is not None:
            model = engine.latency
            probs = engine.model.alpha.detach().softmax(-1).cpu().tolist()
            out["alpha_softmax"] = [[round(float(v), 4) for v in row] for row in probs]
            out["expected_latency_ms"] = float(engine.expected_latency().detach())
            out["reference_latency_ms"] = engine.reference_ms
            out["latency_model"] = {"column": model.column, "r2": round(model.r2, 4), "rmse_ms": round(model.rmse, 4)}
        return out
