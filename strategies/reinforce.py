"""REINFORCE with a factorised categorical policy (Williams, 1992), as run in NAS-Bench-201.

Reference: Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020, section 5 and their search script
``exps/NAS-Bench-201-algos/reinforce.py`` (D-X-Y/AutoDL-Projects), itself modified from
the PyTorch REINFORCE example.
"""

from __future__ import annotations

import math

import numpy as np

from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param

from ._valid import MAX_DRAWS, categorical_view, give_up, is_valid, restricted_sampler

__all__ = ["Reinforce"]

_OPTIMIZERS = ("adam", "sgd")
# torch.optim.Adam defaults, which the reference uses unchanged.
_ADAM_BETA1, _ADAM_BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8
_INIT_SCALE = 1e-3  # reference: arch_parameters = 1e-3 * randn(num_edges, num_ops)


@register_strategy("reinforce")
class Reinforce(Strategy):
    """REINFORCE on independent per-decision softmax policies with an EMA reward baseline.

    The policy holds one vector of logits per decision of ``space.choices()`` (initialised
    to ``1e-3 * N(0, 1)``, as the reference's ``arch_parameters``); an architecture is one
    independent categorical draw per decision. When the result of a trial comes back its
    reward ``r`` (the primary objective as a score to maximise: the validation accuracy in
    % for NB201, unscaled, as the reference feeds ``valid-accuracy`` straight in; the
    negated value for a minimised objective) first updates the baseline ``b``, a
    bias-corrected exponential moving average with momentum ``baseline_momentum`` (the
    reference's ``ExponentialMovingAverage``: numerator and denominator both decayed, so
    the first baseline equals the first reward), and then the logits take one optimizer
    step on the loss ``-(r - b) * sum_i log p_i(a_i)``; its gradient in the logits of
    decision ``i`` is ``-(r - b) * (onehot(a_i) - p_i)``.

    Parallel workers (asynchronous REINFORCE): every told result makes its own step, in the
    order results arrive; the gradient uses the probabilities the trial was sampled with
    (the log-probability the reference keeps from sampling time). A NaN/inf result updates
    the incumbent bookkeeping but not the policy (its advantage is undefined).

    ``recommend()`` is the best architecture seen by validation, which is what the
    reference reports (``best_arch = max(trace)``; its first version used the policy's
    argmax instead).

    Parameters
    ----------
    learning_rate:
        Step size of the optimizer on the logits. Default 0.005: ``--learning_rate 0.005`` in
        the authors' ``scripts-search/algos/REINFORCE.sh`` version that runs the Table 5
        protocol (``--time_budget 12000``, ``--EMA_momentum 0.9``; D-X-Y/AutoDL-Projects). Other
        versions of the script differ: the first (100 ``RL_steps``, no time budget) fixes
        0.001, a later one takes the rate as an argument and ``GRID-RL.sh`` sweeps 0.01-0.5,
        NATS-Bench (TPAMI 2021) used 0.01, and DESIGN.md section 5 records 0.5. Measured with
        ``benchlab reproduce nb201-table5`` (500 runs, seed-mean reward): 0.005 and 0.001 fall
        inside every tolerance of the paper's row; at 0.5 Adam moves every logit by ~0.5 per
        step whatever the reward scale, the policy collapses within ~20 queries and the search
        does worse than random search (C10 valid 90.29±0.94 against the paper's 91.09±0.37).
    baseline_momentum:
        Momentum of the EMA baseline. Default 0.9: ``--EMA_momentum 0.9`` in the authors'
        ``REINFORCE.sh``.
    optimizer:
        ``"adam"`` (default; the reference's ``torch.optim.Adam`` with betas (0.9, 0.999),
        eps 1e-8, implemented here in numpy) or ``"sgd"`` (plain gradient steps; the
        reference has it commented out).
    """

    description = "REINFORCE, factorised softmax policy + EMA baseline (NAS-Bench-201: Adam, lr 0.005, momentum 0.9)"

    parameters = {
        "learning_rate": Param(float, low=0, low_open=True, doc="optimizer step size on the logits (NB201 REINFORCE.sh: 0.005)"),
        "baseline_momentum": Param(float, low=0, high=1, high_open=True, doc="momentum of the EMA reward baseline"),
        "optimizer": Param(str, choices=_OPTIMIZERS, doc="adam (the reference's) or plain sgd steps"),
    }

    def __init__(self, learning_rate: float = 0.005, baseline_momentum: float = 0.9, optimizer: str = "adam") -> None:
        self.learning_rate = learning_rate
        self.baseline_momentum = baseline_momentum
        self.optimizer = optimizer

    def _setup(self) -> None:
        lr, mom, opt = self.learning_rate, self.baseline_momentum, self.optimizer
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and lr > 0):
            raise InvalidConfig(f"reinforce: learning_rate must be a positive number, got {lr!r}")
        if isinstance(mom, bool) or not isinstance(mom, (int, float)) or not 0 <= mom < 1:
            raise InvalidConfig(f"reinforce: baseline_momentum must be a number in [0, 1), got {mom!r}")
        if opt not in _OPTIMIZERS:
            raise InvalidConfig(f"reinforce: optimizer must be one of {list(_OPTIMIZERS)}, got {opt!r}")
        radix = [len(options) for _, options in categorical_view(self.space, self.name)]
        self._radix = radix
        self._offsets = np.concatenate([[0], np.cumsum(radix)]).astype(np.int64)
        self._restricted = restricted_sampler(self.space, radix)  # None unless the space lists its cells
        self.logits = _INIT_SCALE * self.rng.generator.standard_normal(int(self._offsets[-1]))
        self._m = np.zeros_like(self.logits)  # Adam first moment
        self._v = np.zeros_like(self.logits)  # Adam second moment
        self._steps = 0
        self._ema_num = 0.0
        self._ema_den = 0.0
        self._pending: dict = {}  # trial id -> (flat indices of the sampled options, probabilities used)

    # -- the policy --------------------------------------------------------------------
    def probabilities(self) -> list[np.ndarray]:
        """The current policy: one probability vector per decision of ``space.choices()``."""
        flat = self._softmax()
        return [flat[a:b] for a, b in zip(self._offsets[:-1], self._offsets[1:])]

    def _softmax(self) -> np.ndarray:
        out = np.empty_like(self.logits)
        for a, b in zip(self._offsets[:-1], self._offsets[1:]):
            z = self.logits[a:b]
            e = np.exp(z - z.max())
            out[a:b] = e / e.sum()
        return out

    @property
    def baseline(self) -> float:
        """The bias-corrected EMA of the rewards told so far (NaN before the first)."""
        return self._ema_num / self._ema_den if self._ema_den > 0 else math.nan

    def ask(self):
        probs = self._softmax()
        if self._restricted is not None:  # a partial table: the policy conditioned on its cells
            arch = self._restricted.draw([probs[a:b] for a, b in zip(self._offsets[:-1], self._offsets[1:])], self.rng.random())
            trial = self._trial(arch)
            self._pending[trial.id] = (self._offsets[:-1] + np.asarray(arch, dtype=np.int64), probs)
            return trial
        for _ in range(MAX_DRAWS):  # spaces whose choices() can spell invalid cells (NB101): redraw
            arch = []
            flat = np.empty(len(self._radix), dtype=np.int64)
            for i, (a, r) in enumerate(zip(self._offsets[:-1], self._radix)):
                cdf = np.cumsum(probs[a : a + r])
                k = int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"))
                k = min(k, r - 1)
                arch.append(k)
                flat[i] = a + k
            if is_valid(self.space, tuple(arch)):
                break
        else:
            raise give_up(self.space, self.name)
        trial = self._trial(tuple(arch))
        self._pending[trial.id] = (flat, probs)
        return trial

    def _tell(self, trial, evaluation, score) -> None:
        entry = self._pending.pop(trial.id, None)
        if not math.isfinite(score):
            return
        if entry is None:  # a trial this instance did not ask: score it under the current policy
            flat = self._offsets[:-1] + np.asarray(trial.arch, dtype=np.int64)
            entry = (flat, self._softmax())
        flat, probs = entry
        mom = float(self.baseline_momentum)
        self._ema_num = mom * self._ema_num + (1.0 - mom) * score
        self._ema_den = mom * self._ema_den + (1.0 - mom)
        advantage = score - self._ema_num / self._ema_den
        grad = probs.copy()  # d loss / d logits = -(r - b) * (onehot - p)
        grad[flat] -= 1.0
        grad *= advantage
        self._step(grad)

    def _step(self, grad: np.ndarray) -> None:
        lr = float(self.learning_rate)
        self._steps += 1
        if self.optimizer == "sgd":
            self.logits -= lr * grad
            return
        t = self._steps
        self._m = _ADAM_BETA1 * self._m + (1.0 - _ADAM_BETA1) * grad
        self._v = _ADAM_BETA2 * self._v + (1.0 - _ADAM_BETA2) * grad * grad
        c1 = 1.0 - _ADAM_BETA1**t
        c2 = 1.0 - _ADAM_BETA2**t
        self.logits -= (lr / c1) * self._m / (np.sqrt(self._v) / math.sqrt(c2) + _ADAM_EPS)

    def stats(self) -> dict:
        if not hasattr(self, "logits"):
            return {}
        probs = self.probabilities()
        entropy = float(sum(-(p * np.log(np.maximum(p, 1e-300))).sum() for p in probs))
        b = self.baseline
        return {"policy_steps": self._steps, "policy_entropy": entropy, "baseline": b if math.isfinite(b) else None}
