"""The torch form of ``reinforce_lstm``'s controller (``backend="torch"``).

A ``torch.nn.LSTM`` (gates i, f, g, o), option embeddings and one linear head per
decision, trained by autograd, ``torch.optim.Adam`` and ``clip_grad_norm_`` as NB201's
ENAS controller is (``search_model_enas_utils.Controller``, ``ENAS.py``). It starts from
the same flat parameter vector as the numpy controller and draws choices from the same
uniform numbers, so both backends propose the same architectures up to float64 rounding
(tests/test_reinforce.py checks this). torch is imported here only, when the backend is
chosen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TorchController"]


class TorchController:
    """Controller state in torch; ``flat`` is the numpy controller's initial parameter vector."""

    def __init__(self, flat: np.ndarray, shapes, radix, hidden_size: int, num_layers: int, tanh_constant: float,
                 temperature: float, learning_rate: float, betas, eps: float, clip_norm: float) -> None:  # fmt: skip
        import torch

        self.radix = list(radix)
        self.offsets = np.concatenate([[0], np.cumsum(self.radix)]).astype(int).tolist()
        self.tc, self.temp, self.clip = float(tanh_constant), float(temperature), float(clip_norm)
        h = int(hidden_size)
        views, pos = {}, 0
        for name, shape in shapes:
            k = int(np.prod(shape))
            views[name] = torch.tensor(flat[pos : pos + k].reshape(shape), dtype=torch.float64)
            pos += k
        with torch.random.fork_rng(devices=[]):  # nn.LSTM's own init draws from torch's global RNG
            self.lstm = torch.nn.LSTM(h, h, num_layers=int(num_layers)).double()
        with torch.no_grad():
            for layer in range(int(num_layers)):
                w = views[f"w{layer}"]  # numpy layout: one (4h, 2h) matrix over [input, hidden]
                getattr(self.lstm, f"weight_ih_l{layer}").copy_(w[:, :h])
                getattr(self.lstm, f"weight_hh_l{layer}").copy_(w[:, h:])
                getattr(self.lstm, f"bias_ih_l{layer}").copy_(views[f"b{layer}"])
                bias_hh = getattr(self.lstm, f"bias_hh_l{layer}")
                bias_hh.zero_()
                bias_hh.requires_grad_(False)  # one bias per gate, as the numpy controller
        self.input = torch.nn.Parameter(views["input"])
        self.embed = torch.nn.Parameter(views["embed"])
        self.head_w = torch.nn.Parameter(views["head_w"])
        self.head_b = torch.nn.Parameter(views["head_b"])
        self.params = [p for p in self.lstm.parameters() if p.requires_grad] + [self.input, self.embed, self.head_w, self.head_b]
        self.opt = torch.optim.Adam(self.params, lr=float(learning_rate), betas=tuple(betas), eps=float(eps))

    def forward(self, rng=None, actions=None):
        """Sample with ``rng`` (inverse CDF of ``rng.random()``) or score ``actions``:
        ``(arch, log_prob tensor, entropy float)``."""
        import torch

        x = self.input.view(1, 1, -1)
        state = None
        arch, log_prob, entropy = [], 0.0, 0.0
        for i, r in enumerate(self.radix):
            out, state = self.lstm(x, state)
            a = self.offsets[i]
            top = out.view(-1)
            logits = self.tc * torch.tanh((self.head_w[a : a + r] @ top + self.head_b[a : a + r]) / self.temp)
            logp = torch.log_softmax(logits, dim=0)
            probs = logp.exp()
            if actions is None:
                p = probs.detach().numpy()
                cdf = np.cumsum(p)
                k = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), r - 1)
            else:
                k = int(actions[i])
            arch.append(k)
            log_prob = log_prob + logp[k]
            entropy -= float((probs * logp).sum().detach())
            x = self.embed[a + k].view(1, 1, -1)
        return tuple(arch), log_prob, entropy

    def sample(self, rng) -> tuple:
        import torch

        with torch.no_grad():
            return self.forward(rng=rng)[0]

    def step(self, arch, reward_of_entropy) -> None:
        """One REINFORCE step on ``arch``; ``reward_of_entropy(H) -> advantage``."""
        _, log_prob, entropy = self.forward(actions=arch)
        advantage = reward_of_entropy(entropy)
        self.opt.zero_grad()
        (-advantage * log_prob).backward()
        import torch

        torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()
