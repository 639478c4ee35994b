"""REINFORCE with an autoregressive LSTM controller (Zoph & Le, ICLR 2017; ENAS, Pham et al.,
ICML 2018), with the controller as NAS-Bench-201 configures it.

Two backends run the same controller: ``backend="numpy"`` (default; backpropagation through
time written in float64 numpy, so the strategy needs no torch, is bit-reproducible, pickles
mid-run, and runs faster than torch at this size on a CPU) and ``backend="torch"`` (a
``torch.nn.LSTM`` trained by autograd and ``torch.optim.Adam``, the optional extra; see
``strategies/_lstm_torch.py``). tests/test_reinforce.py checks the numpy gradient against
torch autograd and that both backends propose the same architectures.
"""

from __future__ import annotations

import importlib.util
import math
import time

import numpy as np

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._valid import MAX_DRAWS, categorical_view, give_up, is_valid

__all__ = ["ReinforceLSTM"]

_INIT = 0.1  # ENAS controller: every weight uniform in [-0.1, 0.1]
_ADAM_BETA1 = 0.0  # NB201 configs/nas-benchmark/algos/ENAS.config: controller_betas [0, 0.999]
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-3  # ENAS.config controller_eps
_CLIP_NORM = 5.0  # ENAS.py: clip_grad_norm_(controller.parameters(), 5.0)
_BACKENDS = ("numpy", "torch")


def _has_torch() -> bool:
    """Whether torch is installed, checked without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a stub or a blocked entry in sys.modules
        return False


_HAS_TORCH = _has_torch()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@register_strategy("reinforce_lstm")
class ReinforceLSTM(Strategy):
    """An LSTM controller samples one decision of ``space.choices()`` after another, feeding
    the embedding of each choice into the next step; REINFORCE trains it.

    Controller (NB201's ENAS controller, ``search_model_enas_utils.Controller``): a
    ``num_layers``-layer LSTM of ``hidden_size`` units, a learned first input, one output
    head per decision with logits ``tanh_constant * tanh(z / temperature)``, a learned
    embedding per option; all weights uniform in [-0.1, 0.1]. Works on any
    ``CategoricalSpace`` (decisions may have different numbers of options).

    Update (ENAS ``train_controller``): reward ``R = reward_scale * score + entropy_weight *
    H`` (``score`` is the primary objective as a value to maximise, ``H`` the policy's
    entropy along the sampled sequence, treated as a constant); the baseline starts at the
    first reward and moves as ``b <- b - (1 - baseline_decay) (b - R)`` (updated before the
    advantage is taken, as in ENAS); loss ``-(R - b) * log p(arch)``; gradients clipped to
    norm 5; Adam with betas (0, 0.999), eps 1e-3. One step per told result, in arrival
    order (Zoph & Le's asynchronous workers); the log-probability is recomputed under the
    current controller at tell time. ENAS averaged 20 samples per step: with the ~100
    queries of a tabular budget that would leave ~5 steps, so each result steps on its own.
    NaN/inf results update the incumbent but not the controller.

    Randomness: choices are drawn by inverse CDF from ``self.rng`` and the initial weights
    from ``self.rng.generator``. The controller is numpy float64 (LSTM gates in the order
    input, forget, cell, output, as torch's ``nn.LSTM``), so runs are bit-reproducible and
    pickle mid-run.

    Parameters
    ----------
    hidden_size:
        LSTM units. Default 32: NB201's ENAS controller (``lstm_size=32``); Zoph & Le used 35.
    num_layers:
        LSTM layers. Default 2: NB201's ENAS controller and Zoph & Le.
    learning_rate:
        Adam step size. Default 0.001: NB201 ``ENAS.config`` ``controller_lr``.
    baseline_decay:
        Decay of the moving-average baseline. Default 0.99: NB201 ``ENAS.sh``
        ``--controller_bl_dec 0.99``.
    entropy_weight:
        Weight of the entropy bonus in the reward. Default 1e-4: NB201 ``ENAS.sh``
        ``--controller_entropy_weight 0.0001``.
    tanh_constant, temperature:
        Logit squashing ``tanh_constant * tanh(z / temperature)``. Defaults 2.5 and 5.0:
        NB201's ENAS controller.
    reward_scale:
        Multiplies the objective to form the reward. Default 0.01: ENAS feeds top-1 accuracy
        as a fraction (``val_top1 / 100``) and benchlab's accuracies are in %.
    backend:
        ``"numpy"`` (default: no torch needed, fastest on a CPU at this size) or ``"torch"``
        (``torch.nn.LSTM`` + autograd + ``torch.optim.Adam``; needs the ``train`` extra). Both
        start from the same weights and draw from the same stream, so they propose the same
        architectures up to float64 rounding.
    """

    description = "REINFORCE with an LSTM controller (Zoph & Le 2017; ENAS settings from NAS-Bench-201)"

    parameters = {
        "hidden_size": Param(int, low=1, doc="LSTM units (NB201 ENAS controller: 32)"),
        "num_layers": Param(int, low=1, doc="LSTM layers"),
        "learning_rate": Param(float, low=0, low_open=True, doc="Adam step size"),
        "baseline_decay": Param(float, low=0, high=1, high_open=True, doc="decay of the moving-average reward baseline"),
        "entropy_weight": Param(float, low=0, doc="weight of the entropy bonus in the reward"),
        "tanh_constant": Param(float, low=0, low_open=True, doc="logits are tanh_constant * tanh(z / temperature)"),
        "temperature": Param(float, low=0, low_open=True, doc="logits are tanh_constant * tanh(z / temperature)"),
        "reward_scale": Param(float, low=0, low_open=True, doc="reward = reward_scale * score (+ entropy bonus)"),
        "backend": Param(str, choices=_BACKENDS, doc="numpy controller, or torch (needs the train extra)"),
    }

    def __init__(
        self,
        hidden_size: int = 32,
        num_layers: int = 2,
        learning_rate: float = 0.001,
        baseline_decay: float = 0.99,
        entropy_weight: float = 1e-4,
        tanh_constant: float = 2.5,
        temperature: float = 5.0,
        reward_scale: float = 0.01,
        backend: str = "numpy",
    ) -> None:
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay
        self.entropy_weight = entropy_weight
        self.tanh_constant = tanh_constant
        self.temperature = temperature
        self.reward_scale = reward_scale
        self.backend = backend

    # the conformance suite runs both backends when torch is installed
    # one case: the torch backend proposes the same architectures as NumPy's (and resumes from
    # a pickle), both checked in tests/test_reinforce.py
    conformance_cases = [{}]

    # -- setup -------------------------------------------------------------------------
    def _check(self) -> None:
        def number(name, v, ok, what):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not ok(v):
                raise InvalidConfig(f"reinforce_lstm: {name} must be {what}, got {v!r}")

        for name in ("hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidConfig(f"reinforce_lstm: {name} must be a positive integer, got {v!r}")
        number("learning_rate", self.learning_rate, lambda v: v > 0, "a positive number")
        number("baseline_decay", self.baseline_decay, lambda v: 0 <= v < 1, "a number in [0, 1)")
        number("entropy_weight", self.entropy_weight, lambda v: v >= 0, "a number >= 0")
        number("tanh_constant", self.tanh_constant, lambda v: v > 0, "a positive number")
        number("temperature", self.temperature, lambda v: v > 0, "a positive number")
        number("reward_scale", self.reward_scale, lambda v: v > 0, "a positive number")
        if self.backend not in _BACKENDS:
            raise InvalidConfig(f"reinforce_lstm: backend must be one of {list(_BACKENDS)}, got {self.backend!r}")
        if self.backend == "torch" and not _HAS_TORCH:
            raise InvalidConfig(
                "reinforce_lstm: backend='torch' needs torch; install it with `pip install torch==2.13.0` "
                "(or `pip install benchlab[train]`), or use backend='numpy' (same controller, no torch)"
            )

    def _setup(self) -> None:
        self._check()
        radix = [len(options) for _, options in categorical_view(self.space, self.name)]
        self._radix = radix
        self._offsets = [0]
        for r in radix:
            self._offsets.append(self._offsets[-1] + r)
        n, h, n_layers = self._offsets[-1], int(self.hidden_size), int(self.num_layers)
        shapes = [("input", (h,)), ("embed", (n, h)), ("head_w", (n, h)), ("head_b", (n,))]
        for layer in range(n_layers):
            shapes += [(f"w{layer}", (4 * h, 2 * h)), (f"b{layer}", (4 * h,))]
        size = sum(int(np.prod(shape)) for _, shape in shapes)
        self._theta = self.rng.generator.uniform(-_INIT, _INIT, size=size)
        self._shapes = shapes
        self._adam_m = np.zeros(size)
        self._adam_v = np.zeros(size)
        self._steps = 0
        self._baseline = None
        self._ask_s: list[float] = []
        self._tell_s: list[float] = []
        self._torch = None
        if self.backend == "torch":
            from ._lstm_torch import TorchController

            self._torch = TorchController(
                self._theta, shapes, radix, h, n_layers, self.tanh_constant, self.temperature, self.learning_rate,
                (_ADAM_BETA1, _ADAM_BETA2), _ADAM_EPS, _CLIP_NORM,
            )  # fmt: skip

    def _views(self, flat: np.ndarray) -> dict:
        """Named views into a flat parameter (or gradient) vector."""
        out, pos = {}, 0
        for name, shape in self._shapes:
            k = int(np.prod(shape))
            out[name] = flat[pos : pos + k].reshape(shape)
            pos += k
        return out

    # -- the controller ----------------------------------------------------------------
    def _forward(self, actions=None, keep: bool = False):
        """Sample (``actions`` None) or score ``actions``: ``(arch, entropy, cache)``."""
        p = self._views(self._theta)
        h_size, n_layers = int(self.hidden_size), int(self.num_layers)
        tc, temp = float(self.tanh_constant), float(self.temperature)
        x = p["input"]
        hs = [np.zeros(h_size) for _ in range(n_layers)]
        cs = [np.zeros(h_size) for _ in range(n_layers)]
        arch, entropy, cache = [], 0.0, []
        for i, r in enumerate(self._radix):
            cells = []
            for layer in range(n_layers):
                xh = np.concatenate([x, hs[layer]])
                z = p[f"w{layer}"] @ xh + p[f"b{layer}"]
                gi = _sigmoid(z[:h_size])
                gf = _sigmoid(z[h_size : 2 * h_size])
                gg = np.tanh(z[2 * h_size : 3 * h_size])
                go = _sigmoid(z[3 * h_size :])
                c_prev = cs[layer]
                c = gf * c_prev + gi * gg
                tanh_c = np.tanh(c)
                h = go * tanh_c
                if keep:
                    cells.append((xh, gi, gf, gg, go, c_prev, tanh_c))
                cs[layer], hs[layer] = c, h
                x = h
            a = self._offsets[i]
            squash = np.tanh((p["head_w"][a : a + r] @ x + p["head_b"][a : a + r]) / temp)
            logits = tc * squash
            logits = logits - logits.max()
            probs = np.exp(logits)
            probs /= probs.sum()
            if actions is None:
                cdf = np.cumsum(probs)
                k = min(int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right")), r - 1)
            else:
                k = int(actions[i])
            arch.append(k)
            entropy -= float(np.sum(probs * np.log(np.maximum(probs, 1e-300))))
            if keep:
                cache.append((cells, x, squash, probs, k))
            x = p["embed"][a + k]
        return tuple(arch), entropy, cache

    def _grad_log_prob(self, cache) -> np.ndarray:
        """Gradient of ``log p(arch)`` in the flat parameters (backpropagation through time)."""
        p = self._views(self._theta)
        grad = np.zeros_like(self._theta)
        g = self._views(grad)
        h_size, n_layers = int(self.hidden_size), int(self.num_layers)
        tc, temp = float(self.tanh_constant), float(self.temperature)
        dh_next = [np.zeros(h_size) for _ in range(n_layers)]
        dc_next = [np.zeros(h_size) for _ in range(n_layers)]
        dx_next = None  # gradient reaching the input of the next step (an embedding)
        for i in range(len(self._radix) - 1, -1, -1):
            cells, top, squash, probs, k = cache[i]
            a, r = self._offsets[i], self._radix[i]
            if dx_next is not None:
                g["embed"][a + k] += dx_next
            dlogits = -probs
            dlogits[k] += 1.0  # d log softmax(l)[k] / dl
            dy = dlogits * tc * (1.0 - squash * squash) / temp
            g["head_w"][a : a + r] += np.outer(dy, top)
            g["head_b"][a : a + r] += dy
            dh = p["head_w"][a : a + r].T @ dy
            for layer in range(n_layers - 1, -1, -1):
                xh, gi, gf, gg, go, c_prev, tanh_c = cells[layer]
                dh = dh + dh_next[layer]
                dc = dc_next[layer] + dh * go * (1.0 - tanh_c * tanh_c)
                dz = np.concatenate([
                    dc * gg * gi * (1.0 - gi),
                    dc * c_prev * gf * (1.0 - gf),
                    dc * gi * (1.0 - gg * gg),
                    dh * tanh_c * go * (1.0 - go),
                ])
                g[f"w{layer}"] += np.outer(dz, xh)
                g[f"b{layer}"] += dz
                dxh = p[f"w{layer}"].T @ dz
                dh_next[layer] = dxh[h_size:]
                dc_next[layer] = dc * gf
                dh = dxh[:h_size]  # to the layer below, or to this step's input
            dx_next = dh
        g["input"] += dx_next
        return grad

    def ask(self):
        t0 = time.perf_counter()
        for _ in range(MAX_DRAWS):  # spaces whose choices() can spell invalid cells (NB101): redraw
            arch = self._torch.sample(self.rng) if self._torch is not None else self._forward()[0]
            if is_valid(self.space, arch):
                break
        else:
            raise give_up(self.space, self.name)
        self._ask_s.append(time.perf_counter() - t0)
        return self._trial(arch)

    def _tell(self, trial, evaluation, score) -> None:
        if not math.isfinite(score):
            return
        t0 = time.perf_counter()
        if self._torch is not None:
            self._torch.step(trial.arch, lambda entropy: self._advantage(score, entropy))
            self._steps += 1
            self._tell_s.append(time.perf_counter() - t0)
            return
        _, entropy, cache = self._forward(trial.arch, keep=True)
        advantage = self._advantage(score, entropy)
        grad = -advantage * self._grad_log_prob(cache)  # loss = -(R - b) log p
        norm = math.sqrt(float(np.sum(grad * grad)))  # not BLAS: a threaded dot stalls on busy machines
        if norm > _CLIP_NORM:
            grad *= _CLIP_NORM / (norm + 1e-6)
        self._steps += 1
        t = self._steps
        self._adam_m = _ADAM_BETA1 * self._adam_m + (1.0 - _ADAM_BETA1) * grad
        self._adam_v = _ADAM_BETA2 * self._adam_v + (1.0 - _ADAM_BETA2) * grad * grad
        c1, c2 = 1.0 - _ADAM_BETA1**t, 1.0 - _ADAM_BETA2**t
        self._theta = self._theta - (float(self.learning_rate) / c1) * self._adam_m / (np.sqrt(self._adam_v) / math.sqrt(c2) + _ADAM_EPS)
        self._tell_s.append(time.perf_counter() - t0)

    def _advantage(self, score: float, entropy: float) -> float:
        """Reward ``R`` with its entropy bonus; moves the baseline first, then returns ``R - b``."""
        reward = float(self.reward_scale) * score + float(self.entropy_weight) * entropy
        if self._baseline is None:
            self._baseline = reward
        else:
            self._baseline -= (1.0 - float(self.baseline_decay)) * (self._baseline - reward)
        return reward - self._baseline

    def stats(self) -> dict:
        if not hasattr(self, "_theta"):
            return {}
        out = {"policy_steps": self._steps, "baseline": self._baseline, "asks": len(self._ask_s)}
        for name, xs in (("ask", self._ask_s), ("tell", self._tell_s)):
            if xs:
                out[f"{name}_seconds_mean"] = sum(xs) / len(xs)
                out[f"{name}_seconds_max"] = max(xs)
        return out
