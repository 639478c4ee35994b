"""Shared machinery of the weight-sharing searches: data, batches, seeded torch, schedules.

A search engine owns a numpy ``Generator`` (seeded by the strategy from its own stream)
for batch order and for the seeds of every torch computation: each call runs inside
``torch.random.fork_rng`` with ``torch.manual_seed`` drawn from that generator, so the
global torch, numpy and ``random`` states are never touched and a run is bit-identical
under a seed on CPU (GPU kernels may be non-deterministic).

Data follow the NB201 search protocol (Dong & Yang, ICLR 2020, appendix): network weights
are trained on the *train* split, architecture parameters / rewards use the *valid*
split; the test split is never loaded into a search.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from collections.abc import Iterator

import numpy as np

from benchlab import InvalidConfig

__all__ = ["SearchData", "SearchEngine", "cosine_lr", "resolve_device", "seeded"]

_DATA_CACHE: dict = {}


def resolve_device(device: str):
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidConfig(f"device {device!r} is not a torch device ({exc}); use 'auto', 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidConfig(f"device {device!r}: CUDA is not available here; use device='cpu' or 'auto'")
    return dev


@contextmanager
def seeded(seed: int, device) -> Iterator[None]:
    """Run a block with torch's RNG (CPU, and ``device`` if CUDA) forked and seeded."""
    import torch

    devices = [device] if getattr(device, "type", "cpu") == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def cosine_lr(step: int, total: int, lr: float, lr_min: float) -> float:
    """Cosine annealing from ``lr`` to ``lr_min`` over ``total`` steps (SGDR without restarts,
    Loshchilov & Hutter 2017; the NB201 search configs' ``scheduler: cos``)."""
    t = min(step, total) / max(total, 1)
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * t))


class SearchData:
    """Train and valid splits of a live dataset as normalised float tensors on ``device``.

    Loaded once per process and dataset/device (``benchlab.nn`` ``load_dataset``); never
    pickled with a strategy.
    """

    def __init__(self, name: str, device, root=None) -> None:
        import torch

        from ._data import load_dataset

        data = load_dataset(name, root=root)
        mean = np.asarray(data.mean, dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(data.std, dtype=np.float32).reshape(1, -1, 1, 1)
        if float(mean.max()) > 1.0:  # statistics given on the 0..255 scale
            mean, std = mean / 255.0, std / 255.0

        def prep(x):
            x = (np.asarray(x, dtype=np.float32) / 255.0 - mean) / std
            return torch.from_numpy(np.ascontiguousarray(x)).to(device)

        self.name = name
        self.x_train = prep(data.x_train)
        self.y_train = torch.from_numpy(np.array(data.y_train, dtype=np.int64)).to(device)
        self.x_valid = prep(data.x_valid)
        self.y_valid = torch.from_numpy(np.array(data.y_valid, dtype=np.int64)).to(device)
        self.num_classes = int(data.num_classes)
        self.in_channels = int(self.x_train.shape[1])
        if len(self.x_train) == 0 or len(self.x_valid) == 0:
            raise InvalidConfig(f"dataset {name!r} has an empty train or valid split; the search needs both")

    @classmethod
    def get(cls, name: str, device, root=None) -> "SearchData":
        key = (name, str(device), None if root is None else str(root))
        data = _DATA_CACHE.get(key)
        if data is None:
            data = _DATA_CACHE[key] = cls(name, device, root)
        return data


class _Batches:
    """Shuffled mini-batches of one split, epoch after epoch (a DataLoader with
    ``shuffle=True, drop_last=False``), with the order drawn from the engine's generator."""

    def __init__(self, n: int, batch_size: int) -> None:
        self.n = n
        self.batch_size = min(batch_size, n)
        self.order = None
        self.pos = n

    def next(self, rng: np.random.Generator) -> np.ndarray:
        if self.pos >= self.n:
            self.order = rng.permutation(self.n)
            self.pos = 0
        idx = self.order[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx

    @property
    def per_epoch(self) -> int:
        return math.ceil(self.n / self.batch_size)


class SearchEngine:
    """Base class: a supernet (or shared model), its weight optimizer and the batch streams.

    ``params`` holds the strategy's hyper-parameters (dataset, C, N, batch_size, epochs, lr,
    lr_min, momentum, nesterov, weight_decay, grad_clip, track_running_stats, device and the
    method's own); ``seed`` seeds the engine's numpy generator.

    Subclasses implement ``_build()`` (set ``self.model`` and any architecture optimizer),
    ``_step()`` (one training iteration: weight update, and arch update where the method has
    one) and ``derive()`` (the current cell, a 6-tuple of op ids). ``search(n)`` runs ``n``
    iterations and returns the seconds it took.

    Weight optimizer and schedule: SGD with Nesterov momentum, cosine LR from ``lr`` to
    ``lr_min`` over ``epochs`` epochs of the train split, weight decay, gradient-norm clip
    (the NB201 search configs and scripts, e.g. ``configs/nas-benchmark/algos/DARTS.config``).
    """

    def __init__(self, params: dict, seed: int) -> None:
        import torch

        self.p = dict(params)
        self.device = resolve_device(self.p["device"])
        self.rng = np.random.default_rng(seed)
        data = SearchData.get(self.p["dataset"], self.device, self.p.get("data_root"))
        self.num_classes, self.in_channels = data.num_classes, data.in_channels
        self.train_batches = _Batches(len(data.x_train), int(self.p["batch_size"]))
        self.valid_batches = _Batches(len(data.x_valid), int(self.p["batch_size"]))
        self.total_steps = max(1, int(round(float(self.p["epochs"]) * self.train_batches.per_epoch)))
        self.steps = 0
        with seeded(self._seed(), self.device):
            self._build()
        self.model.to(self.device)
        self.w_optimizer = torch.optim.SGD(
            self._weights(),
            lr=self.p["lr"],
            momentum=self.p["momentum"],
            nesterov=self.p["nesterov"],
            weight_decay=self.p["weight_decay"],
        )
        self.criterion = torch.nn.CrossEntropyLoss()

    @property
    def data(self) -> SearchData:
        """The splits, from the process cache (an engine never holds them, so it pickles small)."""
        return SearchData.get(self.p["dataset"], self.device, self.p.get("data_root"))

    # -- helpers -------------------------------------------------------------------------
    def _seed(self) -> int:
        return int(self.rng.integers(0, 2**62))

    def _weights(self) -> list:
        return self.model.weight_parameters()

    def train_batch(self):
        idx = self.train_batches.next(self.rng)
        d = self.data
        return d.x_train[idx], d.y_train[idx]

    def valid_batch(self):
        idx = self.valid_batches.next(self.rng)
        d = self.data
        return d.x_valid[idx], d.y_valid[idx]

    @property
    def progress(self) -> float:
        """Fraction of the schedule done (0 at the start, 1 at ``epochs``)."""
        return min(self.steps / self.total_steps, 1.0)

    def _set_lr(self) -> float:
        lr = cosine_lr(self.steps, self.total_steps, self.p["lr"], self.p["lr_min"])
        for group in self.w_optimizer.param_groups:
            group["lr"] = lr
        return lr

    def weight_step(self, loss_fn) -> float:
        """One SGD step of the network weights on ``loss_fn()`` (clipped gradients)."""
        import torch

        self.model.train()
        self.w_optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self._weights(), self.p["grad_clip"])
        self.w_optimizer.step()
        return float(loss.detach())

    # -- API -----------------------------------------------------------------------------
    def search(self, n_steps: int) -> float:
        """Run ``n_steps`` search iterations; return the wall-clock seconds."""
        t0 = time.perf_counter()
        with seeded(self._seed(), self.device):
            for _ in range(n_steps):
                self._set_lr()
                self._step()
                self.steps += 1
            self.after_steps()
        if self.device.type == "cuda":
            import torch

            torch.cuda.synchronize(self.device)
        return time.perf_counter() - t0

    def propose(self) -> tuple:
        """The cell the method recommends now (may use valid batches and randomness)."""
        with seeded(self._seed(), self.device):
            return tuple(int(v) for v in self.derive())

    def timed_propose(self) -> tuple[tuple, float]:
        """``(propose(), wall-clock seconds it took)``."""
        t0 = time.perf_counter()
        arch = self.propose()
        return arch, time.perf_counter() - t0

    def _build(self) -> None:
        raise NotImplementedError

    def after_steps(self) -> None:
        """Work done once per ``search`` call after the iterations (ENAS: the controller)."""

    def _step(self) -> None:
        raise NotImplementedError

    def derive(self) -> tuple:
        raise NotImplementedError

    def accuracy(self, x, y, **forward) -> float:
        """Top-1 accuracy (%) of the supernet on one batch, without gradients."""
        import torch

        with torch.no_grad():
            logits = self.model(x, **forward)
        return float((logits.argmax(dim=1) == y).float().mean()) * 100.0

    def supernet(self):
        from ._supernet import NB201SuperNet

        return NB201SuperNet(
            C=int(self.p["C"]),
            N=int(self.p["N"]),
            num_classes=self.num_classes,
            in_channels=self.in_channels,
            affine=False,
            track_running_stats=bool(self.p["track_running_stats"]),
        )
