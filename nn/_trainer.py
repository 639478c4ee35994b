"""A fast, deterministic, resumable image-classification trainer (torch, imported lazily).

What makes it fast (the loop nasbench-pytorch's ``trainer.train`` runs is the baseline,
``scripts/bench_trainer.py`` measures both):

* the whole dataset lives on the device as one uint8 tensor; a batch is an index
  gather, not a DataLoader with worker processes and per-image Python transforms;
* augmentation (random crop with zero padding, horizontal flip) runs on the device on
  whole batches, on the uint8 images, before normalisation;
* the batch order and the augmentation draws of an epoch are drawn at the start of the
  epoch from a CPU ``torch.Generator`` seeded from ``seed`` and moved to the device once,
  so the same seed gives the same batches on every device;
* losses and accuracies accumulate on the device: one host sync per epoch, not per batch;
* ``channels_last`` memory format and bf16 autocast on CUDA; optional ``torch.compile``;
  fused/foreach optimizer kernels where torch has them.

Reproducibility: the model is built inside ``torch.random.fork_rng`` after
``torch.manual_seed(seed)`` (the global torch RNG is restored afterwards) and every other
draw comes from the trainer's own generator. With ``deterministic=True`` (the default)
training runs under ``torch.use_deterministic_algorithms`` (warn-only) with cuDNN
benchmarking off; on CPU the same seed gives bit-identical weights and metrics. A
checkpoint (model, optimizer, generator, epoch, metrics so far) is written atomically
after every epoch; training resumes from it and ends bit-identical to an uninterrupted run.

Recipes: :data:`NB201_RECIPE` and :data:`NB101_RECIPE` hold the papers' hyper-parameters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlab import InvalidConfig

__all__ = [
    "NB101_RECIPE",
    "NB201_RECIPE",
    "RECIPES",
    "TrainConfig",
    "TrainResult",
    "images_per_second",
    "resolve_device",
    "train",
]

_AUGMENT = ("auto", "crop-flip", "crop", "flip", "none")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and execution settings of one training run.

    Optimisation: ``optimizer`` ``"sgd"`` (``momentum``, ``nesterov``) or ``"rmsprop"``
    (``rmsprop_alpha`` = TF's decay, ``rmsprop_eps``); ``lr`` the peak learning rate;
    ``weight_decay`` coupled L2 (torch's ``weight_decay``, as both benchmarks' code);
    ``schedule`` ``"cosine"`` (per step from ``lr`` to ``eta_min`` over all steps, as
    NB101's ``COSINE_BY_STEP`` and NB201's per-iteration cosine) or ``"constant"``;
    ``label_smoothing`` for the cross-entropy; ``grad_clip`` the max global gradient norm
    (None: no clipping).

    Data: ``augment`` ``"auto"`` (random crop + horizontal flip, but crop only for
    ``digits``, whose digits a mirror would change), ``"crop-flip"``, ``"crop"``,
    ``"flip"`` or ``"none"``; ``pad`` the crop's zero padding in pixels (None: image side
    // 8, i.e. 4 for 32x32 as CIFAR recipes, 2 for 16x16 as NB201's ImageNet16, 3 for
    28x28, 1 for 8x8); ``batch_size``; ``eval_batch_size`` for validation/test passes;
    ``valid_every`` validate every k epochs (0: only after the last epoch; the last epoch
    is always validated).

    Execution: ``device`` ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
    ``"cuda"``, ``"cuda:1"``...; ``amp`` ``"auto"`` (bf16 autocast on CUDA, off on CPU),
    ``"bf16"`` or ``"off"``; ``channels_last`` ``"auto"`` (on CUDA) / True / False;
    ``compile`` wraps the model in ``torch.compile``; ``deterministic`` (see the module
    docstring; on CUDA it also sets ``CUBLAS_WORKSPACE_CONFIG`` when unset and turns cuDNN
    benchmarking off, at some cost in speed).
    """

    epochs: int = 200
    batch_size: int = 256
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    rmsprop_alpha: float = 0.9
    rmsprop_eps: float = 1.0
    schedule: str = "cosine"
    eta_min: float = 0.0
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    augment: str = "auto"
    pad: int | None = None
    eval_batch_size: int = 1024
    valid_every: int = 1
    device: str = "auto"
    amp: str = "auto"
    channels_last: Any = "auto"
    compile: bool = False
    deterministic: bool = True

    def __post_init__(self) -> None:
        def bad(what: str) -> None:
            raise InvalidConfig(f"TrainConfig: {what}")

        if not isinstance(self.epochs, int) or self.epochs < 1:
            bad(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            bad(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1:
            bad(f"eval_batch_size must be an integer >= 1, got {self.eval_batch_size!r}")
        if self.optimizer not in ("sgd", "rmsprop"):
            bad(f"optimizer must be 'sgd' or 'rmsprop', got {self.optimizer!r}")
        if self.schedule not in ("cosine", "constant"):
            bad(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        for name in ("lr", "momentum", "weight_decay", "eta_min", "label_smoothing", "rmsprop_eps"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                bad(f"{name} must be a finite number >= 0, got {v!r}")
        if self.label_smoothing >= 1:
            bad(f"label_smoothing must be < 1, got {self.label_smoothing}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            bad(f"grad_clip must be > 0 or None, got {self.grad_clip!r}")
        aug = (
            {True: "crop-flip", False: "none"}.get(self.augment, self.augment)
            if isinstance(self.augment, bool)
            else self.augment
        )
        if aug not in _AUGMENT:
            bad(f"augment must be one of {', '.join(_AUGMENT)}, got {self.augment!r}")
        object.__setattr__(self, "augment", aug)
        if self.pad is not None and (not isinstance(self.pad, int) or self.pad < 0):
            bad(f"pad must be an integer >= 0 or None, got {self.pad!r}")
        if not isinstance(self.valid_every, int) or self.valid_every < 0:
            bad(f"valid_every must be an integer >= 0, got {self.valid_every!r}")
        if self.amp not in ("auto", "bf16", "off"):
            bad(f"amp must be 'auto', 'bf16' or 'off', got {self.amp!r}")
        if self.channels_last not in ("auto", True, False):
            bad(f"channels_last must be 'auto', True or False, got {self.channels_last!r}")
        if not isinstance(self.device, str) or not self.device:
            bad(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {self.device!r}")

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` (unknown names raise ``InvalidConfig``)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            names = ", ".join(f.name for f in dataclasses.fields(self))
            raise InvalidConfig(f"TrainConfig has no field(s) {sorted(unknown)}; its fields are {names}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def training_dict(self) -> dict:
        """The fields that change what is learned (not where or how fast it runs); with
        ``deterministic`` and the resolved numerics (amp) they key caches and checkpoints."""
        d = self.to_dict()
        for k in ("device", "compile", "channels_last", "eval_batch_size"):
            d.pop(k)
        return d


#: NAS-Bench-201 (Dong & Yang, ICLR 2020, Sec. 2.3 and the ``200E``/``12E`` hyper-parameter
#: configs of its code): SGD, Nesterov momentum 0.9, lr 0.1 cosine-annealed to 0, weight decay
#: 5e-4, batch 256, 200 epochs (``replace(epochs=12)`` for the hp=12 search schedule), plain
#: cross-entropy (no label smoothing), random crop (padding 4 on CIFAR, 2 on ImageNet16) and flip.
NB201_RECIPE = TrainConfig(
    epochs=200, batch_size=256, optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
    schedule="cosine", eta_min=0.0, label_smoothing=0.0, grad_clip=None, augment="auto",
)  # fmt: skip

#: NAS-Bench-101 (Ying et al., ICML 2019; ``nasbench/lib/config.py`` and ``model_builder.py``):
#: RMSProp with momentum 0.9 and epsilon 1.0 (TF's decay 0.9), base lr 0.1 scaled by the 2 TPU
#: shards = 0.2, cosine decay by step to 0, L2 weight decay 1e-4, batch 256, 108 epochs (4/12/36
#: in the table's other budgets), no label smoothing, crop + flip. Torch's RMSprop puts epsilon
#: outside the square root and starts the mean square at 0 (TF: inside, at 1), as
#: nasbench-pytorch's default optimizer (RMSprop lr 0.2, momentum 0.9, eps 1.0, wd 1e-4) does.
NB101_RECIPE = TrainConfig(
    epochs=108, batch_size=256, optimizer="rmsprop", lr=0.2, momentum=0.9, nesterov=False, weight_decay=1e-4,
    rmsprop_alpha=0.9, rmsprop_eps=1.0, schedule="cosine", eta_min=0.0, label_smoothing=0.0, grad_clip=None,
    augment="auto",
)  # fmt: skip

RECIPES = {"nb201": NB201_RECIPE, "nb101": NB101_RECIPE}


@dataclass
class TrainResult:
    """Metrics and measured times of one training run.

    Accuracies are in percent. ``valid_acc[e]`` is NaN for epochs that were not validated
    (``valid_every``). ``train_seconds`` is the wall time of the training epochs (forward,
    backward, update, augmentation; synchronised with the device), ``valid_seconds`` that
    of the last validation pass, ``eval_seconds`` of all validation and test passes.
    ``resumed_from`` is the epoch a checkpoint provided (0: trained from scratch).
    ``model`` is the trained module (on its device; not serialised by ``to_dict``).
    """

    epochs: int
    seed: int
    train_loss: list[float]
    train_acc: list[float]
    valid_acc: list[float]
    valid_loss: float
    test_acc: float
    test_loss: float
    train_seconds: float
    valid_seconds: float
    eval_seconds: float
    n_params: int
    device: str
    resumed_from: int = 0
    config: dict = field(default_factory=dict)
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def final_valid_acc(self) -> float:
        return self.valid_acc[-1]

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        return d


# --------------------------------------------------------------------------- helpers
def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; other names pass
    through after a check that torch can use them."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidConfig(f"device {device!r} asked for but torch sees no CUDA device; use device='cpu' or 'auto'")
    try:
        torch.device(device)
    except RuntimeError as exc:
        raise InvalidConfig(f"device {device!r} is not a torch device ({exc}); use 'auto', 'cpu' or 'cuda'") from None
    return device


@contextlib.contextmanager
def _determinism(on: bool, device: str):
    """Deterministic algorithms and cuDNN flags for the block; the previous global settings
    are restored afterwards."""
    import torch
    import torch.utils.deterministic as tud

    old = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
           torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, tud.fill_uninitialized_memory)  # fmt: skip
    try:
        if on:
            if device.startswith("cuda"):
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            # NaN-filling fresh memory is a debugging aid of deterministic mode that costs a
            # fill per allocation; nothing here reads uninitialised memory.
            tud.fill_uninitialized_memory = False
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        elif device.startswith("cuda"):
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.use_deterministic_algorithms(old[0], warn_only=old[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old[2], old[3]
        tud.fill_uninitialized_memory = old[4]


def build_model(model_fn: Callable[[], Any], seed: int):
    """``model_fn()`` with torch's global RNG seeded by ``seed`` for the weight initialisation
    only (``fork_rng`` restores the global state afterwards); built on the CPU so the initial
    weights are the same on every device."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = model_fn()
    if not isinstance(model, torch.nn.Module):
        raise InvalidConfig(f"model_fn returned {type(model).__name__}; it must return a torch.nn.Module")
    return model


def _atomic_save(obj, path: Path) -> None:
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fingerprint(config: TrainConfig, seed: int, data, amp: bool, model) -> str:
    """What a checkpoint must match to be resumed: the training hyper-parameters, numerics,
    seed, dataset and model shapes."""
    shapes = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    described = {k: v for k, v in data.describe().items() if k != "source"}  # the files may move
    body = {"config": config.training_dict(), "amp": amp, "seed": int(seed), "data": described, "model": shapes}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- the loop
class _Loop:
    """Device-resident data, augmentation, one optimisation step and evaluation passes."""

    def __init__(self, model, data, config: TrainConfig, device: str) -> None:
        import torch

        self.torch = torch
        self.config = config
        self.device = torch.device(device)
        cuda = self.device.type == "cuda"
        self.amp = config.amp == "bf16" or (config.amp == "auto" and cuda)
        self.channels_last = config.channels_last is True or (config.channels_last == "auto" and cuda)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=fmt)
        self.module = self.model
        self.step_model = torch.compile(self.model) if config.compile else self.model
        c, h, w = data.image_shape
        self.shape = (c, h, w)
        aug = config.augment
        if aug == "auto":
            aug = "crop" if data.name == "digits" else "crop-flip"
        self.crop = aug in ("crop-flip", "crop")
        self.flip = aug in ("crop-flip", "flip")
        self.pad = (config.pad if config.pad is not None else max(1, min(h, w) // 8)) if self.crop else 0
        put = lambda a: torch.from_numpy(a.copy() if not a.flags.writeable else a).to(self.device)
        self.x_train, self.y_train = put(data.x_train), put(data.y_train)
        self.x_valid, self.y_valid = put(data.x_valid), put(data.y_valid)
        self.x_test, self.y_test = put(data.x_test), put(data.y_test)
        mean = torch.tensor(data.mean, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        std = torch.tensor(data.std, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        self.scale = 1.0 / (255.0 * std)
        self.shift = mean / std
        self.n_train = int(self.x_train.shape[0])
        self.steps_per_epoch = max(1, math.ceil(self.n_train / config.batch_size))
        self.total_steps = self.steps_per_epoch * config.epochs
        if self.crop:
            self.rows = torch.arange(h, device=self.device)
            self.cols = torch.arange(w, device=self.device)
        params = [p for p in self.model.parameters() if p.requires_grad]
        fast = {"fused": True} if cuda else {}
        if config.optimizer == "sgd":
            try:
                self.opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov and config.momentum > 0,
                                           weight_decay=config.weight_decay, **fast)  # fmt: skip
            except (RuntimeError, TypeError, ValueError):
                self.opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov and config.momentum > 0,
                                           weight_decay=config.weight_decay)  # fmt: skip
        else:
            self.opt = torch.optim.RMSprop(params, lr=config.lr, alpha=config.rmsprop_alpha, eps=config.rmsprop_eps,
                                           momentum=config.momentum, weight_decay=config.weight_decay,
                                           foreach=True if cuda else None)  # fmt: skip
        self.loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.params = params

    # -- schedule ----------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        c = self.config
        if c.schedule == "constant":
            return c.lr
        return c.eta_min + (c.lr - c.eta_min) * 0.5 * (1.0 + math.cos(math.pi * step / self.total_steps))

    # -- data --------------------------------------------------------------------------
    def epoch_plan(self, generator):
        """Permutation and augmentation draws of one epoch, drawn on the CPU generator."""
        torch = self.torch
        n = self.n_train
        perm = torch.randperm(n, generator=generator)
        offsets = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=generator) if self.crop else None
        flips = torch.rand(n, generator=generator) < 0.5 if self.flip else None
        to = self.device
        return (perm.to(to, non_blocking=True), None if offsets is None else offsets.to(to, non_blocking=True),
                None if flips is None else flips.to(to, non_blocking=True))  # fmt: skip

    def _normalise(self, x):
        x = x.float()
        if self.channels_last:
            x = x.contiguous(memory_format=self.torch.channels_last)
        return x.mul_(self.scale).sub_(self.shift)

    def train_batch(self, idx, offsets, flips):
        torch = self.torch
        x = self.x_train.index_select(0, idx)
        if self.crop:
            p = self.pad
            padded = torch.nn.functional.pad(x, (p, p, p, p))
            rows = (offsets[:, 0:1] + self.rows).unsqueeze(2)  # (B, H, 1)
            cols = (offsets[:, 1:2] + self.cols).unsqueeze(1)  # (B, 1, W)
            b = torch.arange(x.shape[0], device=x.device).view(-1, 1, 1)
            x = padded.permute(0, 2, 3, 1)[b, rows, cols]  # (B, H, W, C)
            x = x.permute(0, 3, 1, 2)
        if self.flip:
            x = torch.where(flips.view(-1, 1, 1, 1), x.flip(3), x)
        return self._normalise(x), self.y_train.index_select(0, idx)

    # -- steps -------------------------------------------------------------------------
    def autocast(self):
        if self.amp:
            return self.torch.autocast(device_type=self.device.type, dtype=self.torch.bfloat16)
        return contextlib.nullcontext()

    def step(self, x, y, lr: float, loss_sum, correct):
        for group in self.opt.param_groups:
            group["lr"] = lr
        with self.autocast():
            out = self.step_model(x)
            loss = self.loss_fn(out.float(), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip is not None:
            self.torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.opt.step()
        with self.torch.no_grad():
            loss_sum += loss.detach() * y.shape[0]
            correct += (out.argmax(1) == y).sum()

    def run_epoch(self, generator, epoch: int) -> tuple[float, float]:
        torch = self.torch
        self.model.train()
        perm, offsets, flips = self.epoch_plan(generator)
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float32)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        bs = self.config.batch_size
        base = epoch * self.steps_per_epoch
        for i in range(self.steps_per_epoch):
            sl = slice(i * bs, min((i + 1) * bs, self.n_train))
            x, y = self.train_batch(
                perm[sl], None if offsets is None else offsets[sl], None if flips is None else flips[sl]
            )
            self.step(x, y, self.lr_at(base + i), loss_sum, correct)
        return float(loss_sum.item()) / self.n_train, 100.0 * float(correct.item()) / self.n_train

    def evaluate(self, x_all, y_all) -> tuple[float, float]:
        """(loss, accuracy %) on a split, without augmentation."""
        torch = self.torch
        self.model.eval()
        n = int(x_all.shape[0])
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float32)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        bs = self.config.eval_batch_size
        with torch.inference_mode(), self.autocast():
            for i in range(0, n, bs):
                x = self._normalise(x_all[i : i + bs])
                y = y_all[i : i + bs]
                out = self.step_model(x).float()
                loss_sum += torch.nn.functional.cross_entropy(out, y, reduction="sum")
                correct += (out.argmax(1) == y).sum()
        return float(loss_sum.item()) / n, 100.0 * float(correct.item()) / n

    def sync(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)


def _timed(loop: _Loop, fn, *args):
    loop.sync()
    t0 = time.perf_counter()
    out = fn(*args)
    loop.sync()
    return out, time.perf_counter() - t0


def train(
    model_fn: Callable[[], Any],
    data,
    config: TrainConfig,
    seed: int,
    checkpoint_path: str | os.PathLike | None = None,
    *,
    progress: bool = False,
    callback: Callable[[int, dict], None] | None = None,
    checkpoint_last: bool = True,
) -> TrainResult:
    """Train ``model_fn()`` on ``data`` (an :class:`~benchlab.nn.ImageData`) with ``config``.

    ``seed`` seeds the weight initialisation and the trainer's generator (batch order and
    augmentation). With ``checkpoint_path``, a checkpoint is written atomically after every
    epoch (after the last one too unless ``checkpoint_last=False``, for callers that store
    the result themselves) and an existing one is resumed (it must come from the same config, seed, data and
    model; else ``InvalidConfig``). ``callback(epoch, metrics)`` is called after each epoch
    is checkpointed (a progress hook; an exception from it stops training, leaving the
    checkpoint to resume from). ``progress`` shows a tqdm bar over epochs.
    """
    import torch

    if not isinstance(config, TrainConfig):
        raise InvalidConfig(f"config must be a benchlab.nn.TrainConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidConfig(f"seed must be an integer >= 0, got {seed!r}")
    device = resolve_device(config.device)
    with _determinism(config.deterministic, device):
        model = build_model(model_fn, seed)
        loop = _Loop(model, data, config, device)
        generator = torch.Generator(device="cpu")
        generator.manual_seed(int(seed))
        fingerprint = _fingerprint(config, seed, data, loop.amp, loop.module)
        state = {"epoch": 0, "train_loss": [], "train_acc": [], "valid_acc": [], "valid_loss": math.nan,
                 "train_seconds": 0.0, "eval_seconds": 0.0, "valid_seconds": 0.0}  # fmt: skip
        resumed = 0
        path = Path(checkpoint_path) if checkpoint_path is not None else None
        if path is not None and path.is_file():
            try:
                ckpt = torch.load(path, map_location="cpu", weights_only=True)
            except (
                RuntimeError,
                OSError,
                EOFError,
                ValueError,
                KeyError,
                pickle.UnpicklingError,
            ) as exc:  # a truncated or foreign file
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InvalidConfig(
                    f"checkpoint {path} cannot be read ({first}); delete it to train from scratch"
                ) from None
            if ckpt.get("fingerprint") != fingerprint:
                raise InvalidConfig(
                    f"checkpoint {path} belongs to another training (config, seed, data or model differ); "
                    "delete it or choose another checkpoint path"
                )
            loop.module.load_state_dict(ckpt["model"])
            loop.opt.load_state_dict(ckpt["optimizer"])
            generator.set_state(ckpt["generator"])
            state = ckpt["state"]
            resumed = int(state["epoch"])
        epochs = range(resumed, config.epochs)
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=config.epochs, initial=resumed, desc="epochs", leave=False)
            except ImportError:
                bar = None
        try:
            for epoch in epochs:
                (loss, acc), secs = _timed(loop, loop.run_epoch, generator, epoch)
                state["train_loss"].append(loss)
                state["train_acc"].append(acc)
                state["train_seconds"] += secs
                last = epoch == config.epochs - 1
                if last or (config.valid_every and (epoch + 1) % config.valid_every == 0):
                    (vloss, vacc), vsecs = _timed(loop, loop.evaluate, loop.x_valid, loop.y_valid)
                    state["valid_acc"].append(vacc)
                    state["valid_loss"] = vloss
                    state["valid_seconds"] = vsecs
                    state["eval_seconds"] += vsecs
                else:
                    state["valid_acc"].append(math.nan)
                state["epoch"] = epoch + 1
                if path is not None and (checkpoint_last or not last):
                    _atomic_save({"fingerprint": fingerprint, "model": loop.module.state_dict(),
                                  "optimizer": loop.opt.state_dict(), "generator": generator.get_state(),
                                  "state": state}, path)  # fmt: skip
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", train=f"{acc:.1f}%", valid=f"{state['valid_acc'][-1]:.1f}%")
                if callback is not None:
                    callback(epoch + 1, {k: (v[-1] if isinstance(v, list) else v) for k, v in state.items()})
        finally:
            if bar is not None:
                bar.close()
        (test_loss, test_acc), tsecs = _timed(loop, loop.evaluate, loop.x_test, loop.y_test)
        n_params = sum(p.numel() for p in loop.module.parameters())
    return TrainResult(
        epochs=config.epochs,
        seed=int(seed),
        train_loss=list(state["train_loss"]),
        train_acc=list(state["train_acc"]),
        valid_acc=list(state["valid_acc"]),
        valid_loss=float(state["valid_loss"]),
        test_acc=test_acc,
        test_loss=test_loss,
        train_seconds=float(state["train_seconds"]),
        valid_seconds=float(state["valid_seconds"]),
        eval_seconds=float(state["eval_seconds"]) + tsecs,
        n_params=int(n_params),
        device=str(loop.device),
        resumed_from=resumed,
        config=config.to_dict(),
        model=loop.module,
    )


def images_per_second(model_fn: Callable[[], Any], data, config: TrainConfig, *, steps: int = 20, warmup: int = 3,
                      seed: int = 0) -> float:  # fmt: skip
    """Training throughput of this trainer's loop (augmentation + forward + backward +
    update), in images per second, over ``steps`` batches after ``warmup`` batches
    (compilation, cuDNN autotuning). Synchronises the device around the timed region."""
    import torch

    if steps < 1 or warmup < 0:
        raise InvalidConfig(f"images_per_second: steps must be >= 1 and warmup >= 0, got {steps}, {warmup}")
    device = resolve_device(config.device)
    with _determinism(config.deterministic, device):
        loop = _Loop(build_model(model_fn, seed), data, config, device)
        generator = torch.Generator(device="cpu")
        generator.manual_seed(int(seed))
        loop.model.train()
        loss_sum = torch.zeros((), device=loop.device)
        correct = torch.zeros((), device=loop.device, dtype=torch.int64)
        bs = config.batch_size
        plan = loop.epoch_plan(generator)
        pos = 0

        def one():
            nonlocal plan, pos
            if pos + bs > loop.n_train:
                plan, pos = loop.epoch_plan(generator), 0
            sl = slice(pos, pos + bs)
            pos += bs
            perm, offsets, flips = plan
            x, y = loop.train_batch(
                perm[sl], None if offsets is None else offsets[sl], None if flips is None else flips[sl]
            )
            loop.step(x, y, config.lr, loss_sum, correct)
            return int(y.shape[0])

        for _ in range(warmup):
            one()
        loop.sync()
        t0 = time.perf_counter()
        n = sum(one() for _ in range(steps))
        loss_sum.item()
        loop.sync()
        return n / (time.perf_counter() - t0)
