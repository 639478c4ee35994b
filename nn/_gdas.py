"""GDAS on the NB201 supernet (Dong & Yang, "Searching for a Robust Neural Architecture in
Four GPU Hours", CVPR 2019).

Every forward samples one op per edge with the straight-through Gumbel-softmax (see
``gumbel_weights``), so a step costs one path while ``alpha`` still gets gradients. Each
iteration: an SGD step of the weights on a train batch, then an Adam step of ``alpha`` on
a valid batch (the NB201 ``GDAS.py`` loop). The temperature anneals linearly from
``tau_max = 10`` to ``tau_min = 0.1`` over the schedule (NB201 ``GDAS.sh``:
``--tau_max 10 --tau_min 0.1``; the paper anneals 10 -> 0.1 too). Architecture optimizer:
Adam, lr 3e-4, betas (0.5, 0.999), weight decay 1e-3 (``GDAS.sh``). The derived cell is
the per-edge argmax of ``alpha``.
"""

from __future__ import annotations

from ._engine import SearchEngine

__all__ = ["GdasSearch"]


class GdasSearch(SearchEngine):
    """GDAS with a linearly annealed Gumbel temperature."""

    def _build(self) -> None:
        import torch

        self.model = self.supernet()
        self.a_optimizer = torch.optim.Adam(
            [self.model.alpha], lr=self.p["arch_lr"], betas=(0.5, 0.999), weight_decay=self.p["arch_weight_decay"]
        )

    @property
    def tau(self) -> float:
        hi, lo = float(self.p["tau_max"]), float(self.p["tau_min"])
        return hi - (hi - lo) * self.progress

    def _step(self) -> None:
        tau = self.tau
        xt, yt = self.train_batch()
        self.weight_step(lambda: self.criterion(self.model(xt, mode="gumbel", tau=tau), yt))
        xv, yv = self.valid_batch()
        self.model.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        self.criterion(self.model(xv, mode="gumbel", tau=tau), yv).backward()
        self.a_optimizer.step()

    def derive(self) -> tuple:
        return self.model.derive()
