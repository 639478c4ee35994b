"""The NAS-Bench-201 network in torch (Dong & Yang, ICLR 2020, section 2.1 and Fig. 1).

Stem (3x3 conv ``in_channels -> C`` + BatchNorm), then three stages of ``N`` cells at
``C``, ``2C`` and ``4C`` channels separated by residual reduction blocks
(:class:`~benchlab.nn.ResNetBasicBlock`, stride 2), then BatchNorm + ReLU, global
average pooling and a linear classifier. Benchmark defaults: C=16, N=5 (paper, section
2.1). A cell has 4 nodes; node ``j`` is the sum over ``i < j`` of ``op_{j<-i}(node i)``
and node 3 is the cell's output. Parameter counts equal the benchmark's for every one of
the 15,625 cells (tested against the ``num_param`` column of the public NB201 results);
:func:`nb201_param_count` gives them without torch.

Differences from the reference ``TinyNetwork`` (``xautodl``), none of which changes a
parameter, a shape or (for finite inputs) an output value:

- ``forward`` returns the logits only (the reference returns ``(features, logits)``),
  so the model plugs straight into a loss.
- ``none`` edges are skipped instead of adding ``x * 0``, and a node whose output feeds
  only ``none`` edges is not computed (its BatchNorm running statistics stay untouched);
  a node whose inputs are all ``none`` is zeros, as in the reference.
- Weights are drawn from a ``torch.Generator`` seeded by ``init_seed`` (PyTorch's default
  distributions, which the reference keeps); building a network never touches the global
  RNG, and the same seed gives bit-identical weights.
"""

from __future__ import annotations

import torch
from torch import nn

from benchlab import InvalidConfig

from ._flops import nb201_arch, nb201_param_count
from ._ops import OPS, ResNetBasicBlock, Zero, make_op, reset_parameters

__all__ = ["NB201Cell", "NB201Network", "make_generator", "nb201_param_count"]

_SOURCES = (0, 0, 1, 0, 1, 2)  # source node of each edge, in edge order
_TARGETS = (1, 2, 2, 3, 3, 3)  # target node of each edge


def make_generator(init_seed) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (or the generator itself, passed through)."""
    if isinstance(init_seed, torch.Generator):
        return init_seed
    if isinstance(init_seed, bool) or not isinstance(init_seed, int) or init_seed < 0:
        raise InvalidConfig(f"init_seed must be a non-negative int or a torch.Generator, got {init_seed!r}")
    gen = torch.Generator(device="cpu")
    gen.manual_seed(init_seed)
    return gen


class NB201Cell(nn.Module):
    """One NB201 cell: 6 edges ``(1<-0),(2<-0),(2<-1),(3<-0),(3<-1),(3<-2)``, each an op of :data:`OPS`.

    Edges out of node 0 map ``C_in -> C_out`` with ``stride``; the others ``C_out -> C_out``
    (stride 1). In the NB201 network ``C_in == C_out`` and stride is 1.
    """

    def __init__(self, arch, C_in: int, C_out: int, stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.arch = nb201_arch(arch)
        self.edges = nn.ModuleList(
            make_op(OPS[op], C_in if src == 0 else C_out, C_out, stride if src == 0 else 1, affine, track_running_stats)
            for op, src in zip(self.arch, _SOURCES)
        )
        # Which nodes are needed (feed node 3 through a non-none edge) and which edges to run.
        needed = {3}
        for node in (2, 1):
            if any(self.arch[e] != 0 and _SOURCES[e] == node and _TARGETS[e] in needed for e in range(6)):
                needed.add(node)
        self._plan = tuple(
            (node, tuple(e for e in range(6) if _TARGETS[e] == node and self.arch[e] != 0))
            for node in (1, 2, 3) if node in needed
        )  # fmt: skip
        self._zero = Zero(C_in, C_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = {0: x}
        for node, edges in self._plan:
            if not edges:  # all inputs are `none`
                nodes[node] = self._zero(x)
                continue
            out = self.edges[edges[0]](nodes[_SOURCES[edges[0]]])
            for e in edges[1:]:
                out = out + self.edges[e](nodes[_SOURCES[e]])
            nodes[node] = out
        return nodes[3]

    def extra_repr(self) -> str:
        return (
            "|"
            + "|+|".join("|".join(f"{OPS[self.arch[e]]}~{_SOURCES[e]}" for e in es) for es in ((0,), (1, 2), (3, 4, 5)))
            + "|"
        )


class NB201Network(nn.Module):
    """The NAS-Bench-201 network for one cell; ``forward(x)`` returns logits ``(batch, num_classes)``.

    Parameters
    ----------
    arch : the cell: 6 op names of :data:`OPS` (or their ids), one per edge in the order
        (1<-0),(2<-0),(2<-1),(3<-0),(3<-1),(3<-2); ``net.arch`` holds the op ids.
    num_classes : 10 (CIFAR-10), 100 (CIFAR-100), 120 (ImageNet16-120), ...
    C, N : stem channels and cells per stage; the benchmark's 16 and 5 by default.
    in_channels : image channels (3; 1 for Fashion-MNIST or digits).
    init_seed : int seed (or a ``torch.Generator`` the caller owns) of the initial weights.

    Inputs must have height and width divisible by 4 (two stride-2 reductions). The model
    is built on the CPU in float32; move it with ``.to(device)``.
    """

    def __init__(self, arch, num_classes: int = 10, C: int = 16, N: int = 5, in_channels: int = 3,
                 init_seed=0) -> None:  # fmt: skip
        super().__init__()
        self.arch = nb201_arch(arch)
        nb201_param_count(self.arch, num_classes, C, N, in_channels)  # validates the sizes
        generator = make_generator(init_seed)
        self.num_classes, self.C, self.N, self.in_channels = num_classes, C, N, in_channels
        with torch.device("meta"):  # no memory, no random draws: weights are set below
            self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
            cells = []
            c_prev = C
            for stage, c in enumerate((C, 2 * C, 4 * C)):
                if stage > 0:
                    cells.append(ResNetBasicBlock(c_prev, c, 2))
                cells.extend(NB201Cell(self.arch, c, c) for _ in range(N))
                c_prev = c
            self.cells = nn.Sequential(*cells)
            self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
            self.classifier = nn.Linear(c_prev, num_classes)
        self.to_empty(device="cpu")
        reset_parameters(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise InvalidConfig(
                f"NB201Network expects (batch, {self.in_channels}, H, W) images, got shape {tuple(x.shape)}"
            )
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise InvalidConfig(
                f"NB201Network halves the image twice: H and W must be multiples of 4, got {x.shape[2]}x{x.shape[3]}; "
                "pad or resize the images"
            )
        out = self.lastact(self.cells(self.stem(x)))
        out = torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1)
        return self.classifier(out)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, C={self.C}, N={self.N}, in_channels={self.in_channels}"
