"""Random search with parameter sharing (Li & Talwalkar, "Random Search and
Reproducibility for Neural Architecture Search", UAI 2019), as NB201's ``RANDOM-NAS``.

Training: each iteration samples a cell uniformly (every edge's op uniform over the 5) and
takes an SGD step of the shared weights through that path only. Proposal: ``select_num``
uniformly sampled cells are each scored by the shared weights' accuracy on one valid
batch (the next batch of the valid stream for each, as the official ``search_find_best``
does), and the best is proposed; NB201 ``RANDOM-NAS.sh`` uses ``--select_num 100``.
"""

from __future__ import annotations

from ._engine import SearchEngine

__all__ = ["RspsSearch"]

_N_EDGES, _N_OPS = 6, 5


class RspsSearch(SearchEngine):
    """Uniform path sampling for training; best of ``select_num`` random cells to propose."""

    def _build(self) -> None:
        self.model = self.supernet()

    def _weights(self) -> list:
        return self.model.weight_parameters()

    def _sample(self) -> tuple:
        return tuple(int(v) for v in self.rng.integers(0, _N_OPS, size=_N_EDGES))

    def _step(self) -> None:
        arch = self._sample()
        xt, yt = self.train_batch()
        self.weight_step(lambda: self.criterion(self.model(xt, mode="arch", arch=arch), yt))

    def derive(self) -> tuple:
        self.model.eval()  # scored in eval mode, as the official search_find_best
        best, best_acc = None, -1.0
        for _ in range(int(self.p["select_num"])):
            arch = self._sample()
            x, y = self.valid_batch()
            acc = self.accuracy(x, y, mode="arch", arch=arch)
            if acc > best_acc:
                best, best_acc = arch, acc
        self.last_valid_acc = best_acc
        return best
