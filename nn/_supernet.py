"""The NAS-Bench-201 supernet: every edge of the cell carries all 5 operations at once.

The macro skeleton is the one NAS-Bench-201 trains every cell in (Dong & Yang, ICLR 2020,
section 2.1): a 3x3 conv + BN stem, three stages of ``N`` cells with ``C``, ``2C`` and
``4C`` channels separated by ResNet basic blocks of stride 2, then BN + ReLU, global
average pooling and a linear classifier. In the search cell each of the 6 edges is a
*mixed* operation over ``none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3``
built without affine BN parameters, as the official NB201 search models do
(``affine=False``; ``track_running_stats`` is the ``--track_running_stats`` switch of the
official search scripts, 1 in all of them).

Forward modes (``mode=``):

* ``"softmax"`` -- DARTS (Liu et al., ICLR 2019): each edge returns
  ``sum_k softmax(alpha_e)_k * op_k(x)``.
* ``"gumbel"`` -- GDAS (Dong & Yang, CVPR 2019): one Gumbel-softmax sample per forward,
  shared by all cells; the edge evaluates only the sampled op and multiplies it by the
  straight-through one-hot weight ``hard - soft.detach() + soft``, so gradients reach
  every ``alpha`` while the forward cost is that of one path.
* ``"arch"`` -- a given discrete cell (a 6-tuple of op ids): random search with parameter
  sharing (Li & Talwalkar, UAI 2019) and the ENAS child models (Pham et al., ICML 2018).

Architecture parameters ``alpha`` (6 edges x 5 ops) start at ``1e-3 * N(0, 1)`` as in the
DARTS code; ``derive()`` is the per-edge argmax (the NB201 ``genotype()``, which ranks
``none`` like every other op).
"""

from __future__ import annotations

import torch
from torch import nn

from ._ops import OPS, ResNetBasicBlock, make_op

__all__ = ["EDGE_SOURCES", "NODE_EDGES", "NB201SuperNet", "SearchCell", "gumbel_weights"]

#: Source node of each edge, in the NB201 string's edge order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2).
EDGE_SOURCES = (0, 0, 1, 0, 1, 2)
#: Incoming edge positions of nodes 1, 2 and 3.
NODE_EDGES = ((0,), (1, 2), (3, 4, 5))
N_EDGES = 6


class SearchCell(nn.Module):
    """One NB201 cell with a mixed operation (all 5 ops) on each of its 6 edges."""

    def __init__(self, C: int, affine: bool = False, track_running_stats: bool = True) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(op, C, C, 1, affine=affine, track_running_stats=track_running_stats) for op in OPS)
            for _ in range(N_EDGES)
        )

    def _edge(self, e: int, x, mode: str, weights, index):
        ops = self.edges[e]
        if mode == "softmax":
            w = weights[e]
            return sum(w[k] * op(x) for k, op in enumerate(ops))
        if mode == "gumbel":
            k = index[e]
            w = weights[e]
            out = w[k] * ops[k](x)
            # the other (zero) weights join as constants so that their gradient reaches alpha
            return out + (w.sum() - w[k])
        return ops[index[e]](x)

    def forward(self, x, mode: str, weights=None, index=None):
        nodes = [x]
        for edges in NODE_EDGES:
            total = None
            for e in edges:
                out = self._edge(e, nodes[EDGE_SOURCES[e]], mode, weights, index)
                total = out if total is None else total + out
            nodes.append(total)
        return nodes[-1]


def gumbel_weights(alpha, tau: float):
    """GDAS's straight-through Gumbel-softmax sample of one op per edge.

    Returns ``(hard, index)``: ``hard`` (6 x 5) is one-hot in value with the gradient of
    ``softmax((log_softmax(alpha) + g) / tau)``; ``index`` the sampled op ids. ``g`` is
    standard Gumbel noise from torch's (seeded, forked) generator. Samples with
    non-finite values are redrawn, as in the official GDAS code.
    """
    while True:
        gumbels = -torch.empty_like(alpha).exponential_().log()
        logits = (alpha.log_softmax(dim=1) + gumbels) / tau
        probs = logits.softmax(dim=1)
        index = probs.max(dim=-1, keepdim=True)[1]
        one_hot = torch.zeros_like(logits).scatter_(-1, index, 1.0)
        hard = one_hot - probs.detach() + probs
        if torch.isfinite(gumbels).all() and torch.isfinite(probs).all() and torch.isfinite(hard).all():
            return hard, index.view(-1).tolist()


class NB201SuperNet(nn.Module):
    """The NB201 network with search cells (see the module docstring).

    Parameters
    ----------
    C, N:
        Channels of the first stage and cells per stage (NB201: 16 and 5).
    num_classes, in_channels:
        Classifier outputs and image channels of the dataset.
    affine, track_running_stats:
        BN options inside the search cells (official search models: False and True).
    """

    def __init__(
        self,
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
        affine: bool = False,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        cells = []
        c = C
        for stage in range(3):
            if stage > 0:
                cells.append(ResNetBasicBlock(c, 2 * c, 2))
                c *= 2
            cells.extend(SearchCell(c, affine, track_running_stats) for _ in range(N))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(N_EDGES, len(OPS)))

    def weight_parameters(self) -> list:
        """Every parameter except the architecture parameters ``alpha``."""
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def forward(self, x, mode: str = "softmax", arch=None, tau: float = 1.0):
        """Logits of ``x``; ``mode`` is ``"softmax"``, ``"gumbel"`` (with ``tau``) or
        ``"arch"`` (with ``arch``, a 6-tuple of op ids)."""
        weights = index = None
        if mode == "softmax":
            weights = self.alpha.softmax(dim=-1)
        elif mode == "gumbel":
            weights, index = gumbel_weights(self.alpha, tau)
        elif mode == "arch":
            if arch is None or len(arch) != N_EDGES:
                raise ValueError(f"mode='arch' needs a 6-tuple of op ids, got {arch!r}")
            index = list(arch)
        else:
            raise ValueError(f"unknown supernet mode {mode!r}; use 'softmax', 'gumbel' or 'arch'")
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h, mode, weights, index) if isinstance(cell, SearchCell) else cell(h)
        h = self.pool(self.lastact(h)).flatten(1)
        return self.classifier(h)

    def derive(self) -> tuple:
        """The argmax cell of ``alpha`` as a 6-tuple of NB201 op ids."""
        return tuple(int(i) for i in self.alpha.detach().argmax(dim=-1).tolist())
