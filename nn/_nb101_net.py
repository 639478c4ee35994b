"""The NAS-Bench-101 network in torch (Ying et al., "NAS-Bench-101", ICML 2019, section 2.2).

Written after the paper and the official TensorFlow builder (``nasbench/lib/model_builder.py``
and ``base_ops.py`` of google-research/nasbench); checked against ``nasbench_pytorch``:

- stem: 3x3 conv-BN-ReLU, ``in_channels -> stem_channels`` (128);
- ``num_stacks`` (3) stacks of ``modules_per_stack`` (3) cells; before every stack but the
  first, 2x2 max pooling with stride 2 (TF ``padding='same'``: odd sizes round up) and the
  channel count doubles;
- global average pooling and a dense layer (with bias).

Inside a cell (one vertex per op): the channels of each vertex come from
:func:`~benchlab.nn.nb101_vertex_channels` (the output channels split among the
vertices feeding the output). A vertex sums its inputs: outputs of earlier interior
vertices, truncated to its channel count, and a 1x1 conv-BN-ReLU projection of the cell
input when the input feeds it; then applies its op (3x3 or 1x1 conv-BN-ReLU, or 3x3 max
pooling, stride 1). The cell output concatenates the vertices that feed it, plus a
projection of the cell input when the input feeds the output.

Parameter counts equal the official ``trainable_parameters`` (8,555,530 for the first
record of ``nasbench_only108.tfrecord``; 2,694,282 for the Inception-like cell of the
``nasbench`` README) and :func:`~benchlab.nn.nb101_param_count`. ``nasbench_pytorch``
1.3.1 reports a few dozen more because it registers a 1-element ``Placeholder.a``
parameter for every unused slot of a cell (tested: equal once those are left out).

Training-relevant defaults follow the official code: BatchNorm decay 0.997 (torch
``momentum=0.003``) and epsilon 1e-5; conv weights from TF1's
``variance_scaling_initializer()`` (truncated normal, std ``sqrt(1/fan_in)/0.8796``),
dense weights Glorot-uniform, biases zero — all drawn from a generator seeded by
``init_seed``, never from the global RNG.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from benchlab import InvalidConfig

from ._flops import nb101_param_count, nb101_prune, nb101_vertex_channels
from ._nb201_net import make_generator

__all__ = ["NB101Cell", "NB101Network", "nb101_param_count"]

BN_MOMENTUM = 1.0 - 0.997  # TF decay 0.997 (nasbench base_ops.BN_MOMENTUM) as a torch momentum
BN_EPSILON = 1e-5  # nasbench base_ops.BN_EPSILON
_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2] (TF VarianceScaling)


class ConvBNReLU(nn.Sequential):
    """Conv2d (no bias, 'same' padding) -> BatchNorm2d -> ReLU (nasbench ``conv_bn_relu``)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(C_in, C_out, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(C_out, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=True),
        )


def _vertex_op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    return nn.MaxPool2d(3, stride=1, padding=1)  # "maxpool3x3" (nb101_prune checked the names)


class NB101Cell(nn.Module):
    """One NB101 module for a pruned ``(matrix, ops)`` spec (see the module docstring)."""

    def __init__(self, matrix, ops, C_in: int, C_out: int) -> None:
        super().__init__()
        m, ops = nb101_prune(matrix, ops)
        v = len(m)
        self.channels = nb101_vertex_channels(C_in, C_out, m)
        self.proj = nn.ModuleDict(
            {str(t): ConvBNReLU(C_in, self.channels[t], 1) for t in range(1, v) if m[0][t]}
        )  # fmt: skip
        self.vertex = nn.ModuleDict({str(t): _vertex_op(ops[t], self.channels[t]) for t in range(1, v - 1)})
        # For each interior vertex: (vertex, interior sources, takes the projected input?)
        self._plan = tuple((t, tuple(s for s in range(1, t) if m[s][t]), bool(m[0][t])) for t in range(1, v - 1))
        self._concat = tuple(t for t in range(1, v - 1) if m[t][v - 1])
        self._input_to_output = bool(m[0][v - 1])
        self._v = v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ch = self.channels
        values: dict[int, torch.Tensor] = {}
        for t, sources, from_input in self._plan:
            parts = [values[s] if ch[s] == ch[t] else values[s][:, : ch[t]] for s in sources]
            if from_input:
                parts.append(self.proj[str(t)](x))
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            values[t] = self.vertex[str(t)](total)
        out_key = str(self._v - 1)
        if not self._concat:
            return self.proj[out_key](x)
        out = values[self._concat[0]] if len(self._concat) == 1 else torch.cat([values[t] for t in self._concat], 1)
        if self._input_to_output:
            out = out + self.proj[out_key](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network of one cell; ``forward(x)`` returns logits ``(batch, num_classes)``.

    Parameters
    ----------
    matrix, ops : the cell: a VxV upper-triangular 0/1 adjacency matrix (numpy array or
        nested lists) and V op labels ``"input"``, ``"conv3x3-bn-relu"``,
        ``"conv1x1-bn-relu"``, ``"maxpool3x3"``, ``"output"`` (:func:`~benchlab.nn.nb101_prune`:
        vertices off every input -> output path are dropped, as the official ``ModelSpec`` does).
    num_classes : 10 for CIFAR-10.
    stem_channels, num_stacks, modules_per_stack : the paper's 128, 3, 3.
    in_channels : image channels (3; 1 for Fashion-MNIST).
    init_seed : int seed (or a ``torch.Generator``) of the initial weights.
    """

    def __init__(self, matrix, ops, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                 modules_per_stack: int = 3, in_channels: int = 3, init_seed=0) -> None:  # fmt: skip
        super().__init__()
        self.param_count = nb101_param_count(matrix, ops, num_classes, stem_channels, num_stacks,
                                             modules_per_stack, in_channels)  # fmt: skip  # validates everything
        self.matrix, self.ops = nb101_prune(matrix, ops)
        self.num_classes, self.in_channels = num_classes, in_channels
        generator = make_generator(init_seed)
        with torch.device("meta"):  # no memory, no random draws: weights are set below
            layers: list[nn.Module] = [ConvBNReLU(in_channels, stem_channels, 3)]
            c_prev = c = stem_channels
            for stack in range(num_stacks):
                if stack > 0:
                    layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # TF 'same' padding
                    c *= 2
                for _ in range(modules_per_stack):
                    layers.append(NB101Cell(self.matrix, self.ops, c_prev, c))
                    c_prev = c
            self.layers = nn.Sequential(*layers)
            self.classifier = nn.Linear(c, num_classes)
        self.to_empty(device="cpu")
        self._init_weights(generator)

    def _init_weights(self, generator: torch.Generator) -> None:
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    std = math.sqrt(1.0 / m.weight[0].numel()) / _TRUNC_STD
                    nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std, generator=generator)
                elif isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight, generator=generator)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise InvalidConfig(f"NB101Network expects (batch, {self.in_channels}, H, W) images, got {tuple(x.shape)}")
        out = self.layers(x)
        return self.classifier(out.mean(dim=(2, 3)))
