"""ENAS on the NB201 cell (Pham et al., "Efficient Neural Architecture Search via Parameter
Sharing", ICML 2018), as NB201's ``ENAS`` script.

An LSTM controller samples one op per edge autoregressively (the previous op's embedding
is the next input). Each ask runs, in turn:

1. ``steps`` iterations of the shared weights (the NB201 supernet in ``"arch"`` mode),
   each through a cell sampled from the controller (no controller gradient);
2. ``controller_steps`` controller updates, each aggregating ``controller_aggregate``
   REINFORCE samples: reward = shared-weight accuracy (fraction) of the sampled cell on
   one valid batch + ``entropy_weight`` x the sample's entropy; the moving-average
   baseline ``b <- bl_dec * b + (1 - bl_dec) * reward``; loss ``-log p(cell) (reward - b)``;
3. a proposal: the best of ``select_num`` controller samples on one valid batch each.

Defaults from the NB201 ``ENAS.sh`` / ``ENAS.config``: entropy weight 1e-4, baseline decay
0.99, 50 controller steps x 20 samples per epoch, 100 samples for the final choice;
controller Adam lr 1e-3, betas (0, 0.999), eps 1e-3; LSTM of 2 layers x 32 units, logits
``2.5 * tanh(logits / 5)`` (tanh constant and temperature of the official controller, from
Pham et al.'s code).
"""

from __future__ import annotations

import torch
from torch import nn

from ._engine import SearchEngine

__all__ = ["Controller", "EnasSearch"]

_N_EDGES, _N_OPS = 6, 5


class Controller(nn.Module):
    """The ENAS controller: ``sample()`` -> (cell, sum of log-probabilities, sum of entropies).

    An LSTM (``lstm_layers`` x ``lstm_size``) reads a learned start token, then the
    embedding of each chosen op; op logits are ``tanh_constant * tanh(head(h) / temperature)``
    (ENAS code defaults 2.5 and 5.0; NB201 keeps them). Parameters start uniform in
    [-0.1, 0.1] as in ENAS.
    """

    def __init__(self, lstm_size: int = 32, lstm_layers: int = 2, tanh_constant: float = 2.5, temperature: float = 5.0) -> None:
        super().__init__()
        self.tanh_constant, self.temperature = tanh_constant, temperature
        self.start = nn.Parameter(torch.zeros(1, 1, lstm_size))
        self.lstm = nn.LSTM(lstm_size, lstm_size, num_layers=lstm_layers)
        self.embed = nn.Embedding(_N_OPS, lstm_size)
        self.head = nn.Linear(lstm_size, _N_OPS)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def sample(self, greedy: bool = False):
        x, state = self.start, None
        cell, log_p, entropy = [], 0.0, 0.0
        for _ in range(_N_EDGES):
            out, state = self.lstm(x, state)
            logits = self.tanh_constant * torch.tanh(self.head(out.view(1, -1)) / self.temperature)
            dist = torch.distributions.Categorical(logits=logits)
            op = logits.argmax(dim=-1) if greedy else dist.sample()
            log_p = log_p + dist.log_prob(op).sum()
            entropy = entropy + dist.entropy().sum()
            cell.append(int(op.item()))
            x = self.embed(op).view(1, 1, -1)
        return tuple(cell), log_p, entropy


class EnasSearch(SearchEngine):
    """Shared weights trained on controller samples; controller trained by REINFORCE."""

    def _build(self) -> None:
        self.model = self.supernet()
        self.controller = Controller()
        self.c_optimizer = torch.optim.Adam(self.controller.parameters(), lr=self.p["controller_lr"], betas=(0.0, 0.999), eps=1e-3)
        self.baseline = None

    def _step(self) -> None:
        with torch.no_grad():
            arch, _, _ = self.controller.sample()
        xt, yt = self.train_batch()
        self.weight_step(lambda: self.criterion(self.model(xt, mode="arch", arch=arch), yt))

    def after_steps(self) -> None:
        """Controller training (called by ``search`` after the weight iterations of an ask)."""
        self.model.eval()
        self.controller.train()
        n_agg = int(self.p["controller_aggregate"])
        for _ in range(int(self.p["controller_steps"])):
            self.c_optimizer.zero_grad(set_to_none=True)
            for _ in range(n_agg):
                arch, log_p, entropy = self.controller.sample()
                x, y = self.valid_batch()
                reward = self.accuracy(x, y, mode="arch", arch=arch) / 100.0 + self.p["entropy_weight"] * float(entropy.detach())
                dec = float(self.p["bl_dec"])
                self.baseline = reward if self.baseline is None else dec * self.baseline + (1.0 - dec) * reward
                loss = -log_p * (reward - self.baseline) / n_agg
                loss.backward()
            self.c_optimizer.step()

    def derive(self) -> tuple:
        self.model.eval()
        best, best_acc = None, -1.0
        with torch.no_grad():
            for _ in range(int(self.p["select_num"])):
                arch, _, _ = self.controller.sample()
                x, y = self.valid_batch()
                acc = self.accuracy(x, y, mode="arch", arch=arch)
                if acc > best_acc:
                    best, best_acc = arch, acc
        return best
