"""The NAS-Bench-201 cell operations and reduction block as torch modules.

Written after the operations of the NAS-Bench-201 paper (Dong & Yang, "NAS-Bench-201:
Extending the Scope of Reproducible Neural Architecture Search", ICLR 2020, section 2.1)
and of the authors' reference implementation (``xautodl.models.cell_operations``), so
that a network built from them has exactly the benchmark's parameter counts:

- ``none``: outputs zeros of the right shape (no parameters).
- ``skip_connect``: identity; a :class:`FactorizedReduce` when the stride is 2 or the
  channel count changes (never inside an NB201 cell, where stride is 1 and C_in == C_out).
- ``nor_conv_1x1`` / ``nor_conv_3x3``: ReLU -> Conv (no bias when ``affine``) -> BatchNorm.
- ``avg_pool_3x3``: 3x3 average pooling, stride 1, padding 1, ``count_include_pad=False``,
  preceded by a 1x1 ReLU-Conv-BN only when the channel count changes.

Like the reference code, every convolution inside an operation carries a bias exactly when
its BatchNorm is *not* affine (``bias=not affine``): the supernets of DARTS/GDAS build their
operations with ``affine=False`` and so get conv biases, while the stand-alone networks of
the benchmark (``affine=True``) have none.

This module imports torch; :mod:`benchlab.nn` loads it lazily.
"""

from __future__ import annotations

import torch
from torch import nn

from benchlab import InvalidConfig, UnknownName

from ._flops import NB201_OPS

__all__ = [
    "OPS",
    "AvgPool3x3",
    "FactorizedReduce",
    "Identity",
    "ReLUConvBN",
    "ResNetBasicBlock",
    "Zero",
    "make_op",
    "reset_parameters",
]

#: The operation names, in the order of their ids (the official NB201 order: none=0 ... avg_pool_3x3=4).
OPS = NB201_OPS


def _check_stride(stride: int, what: str) -> int:
    if stride not in (1, 2) or isinstance(stride, bool):
        raise InvalidConfig(f"{what}: stride must be 1 or 2, got {stride!r}")
    return int(stride)


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d -> BatchNorm2d (the ``nor_conv_kxk`` operations of NB201).

    The convolution has a bias only when the BatchNorm is not affine (as the reference).
    """

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=not affine),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` operation: a tensor of zeros with the output's shape (no parameters).

    Multiplying by zero (rather than allocating) keeps the result on the input's device,
    dtype and memory format and inside autograd, as the reference does.
    """

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, _check_stride(stride, "none")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = x[:, :, ::2, ::2]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        shape = list(x.shape)
        shape[1] = self.C_out
        return x.new_zeros(shape)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class Identity(nn.Module):
    """The ``skip_connect`` operation when stride is 1 and channels match."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class FactorizedReduce(nn.Module):
    """``skip_connect`` when the shape changes (DARTS, Liu et al. ICLR 2019; NB201 reference).

    Stride 2: ReLU, then two 1x1 stride-2 convolutions, the second on the input shifted by one
    pixel, concatenated to ``C_out`` channels (``C_out // 2`` + the rest), then BatchNorm.
    Stride 1: a 1x1 convolution then BatchNorm.
    """

    def __init__(self, C_in: int, C_out: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, _check_stride(stride, "FactorizedReduce")
        self.relu = nn.ReLU(inplace=False)
        if self.stride == 2:
            halves = (C_out // 2, C_out - C_out // 2)
            self.convs = nn.ModuleList(nn.Conv2d(C_in, c, 1, stride=2, padding=0, bias=not affine) for c in halves)
        else:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=not affine)
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
            out = torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class AvgPool3x3(nn.Module):
    """``avg_pool_3x3``: [1x1 ReLU-Conv-BN when C_in != C_out] -> AvgPool2d(3, stride, pad 1).

    ``count_include_pad=False`` as the reference: border pixels average only real pixels.
    """

    def __init__(self, C_in: int, C_out: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:  # fmt: skip
        super().__init__()
        stride = _check_stride(stride, "avg_pool_3x3")
        self.preprocess = (
            None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0, affine, track_running_stats)
        )  # fmt: skip
        self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


def make_op(name: str, C_in: int, C_out: int, stride: int, affine: bool = True,
            track_running_stats: bool = True) -> nn.Module:  # fmt: skip
    """One NB201 operation as a module.

    ``name`` is one of :data:`OPS`; ``stride`` 1 or 2. ``affine=False,
    track_running_stats=False`` gives the weight-sharing supernet variant of DARTS/GDAS
    (NB201 paper, section 5). Raises :class:`~benchlab.UnknownName` for another name.
    """
    stride = _check_stride(stride, name)
    if name == "none":
        return Zero(C_in, C_out, stride)
    if name == "skip_connect":
        if stride == 1 and C_in == C_out:
            return Identity()
        return FactorizedReduce(C_in, C_out, stride, affine, track_running_stats)
    if name == "nor_conv_1x1":
        return ReLUConvBN(C_in, C_out, 1, stride, 0, affine, track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C_in, C_out, 3, stride, 1, affine, track_running_stats)
    if name == "avg_pool_3x3":
        return AvgPool3x3(C_in, C_out, stride, affine, track_running_stats)
    raise UnknownName(f"unknown NB201 operation {name!r}; choose one of {', '.join(OPS)}")


class ResNetBasicBlock(nn.Module):
    """The residual reduction block between NB201 stages (NB201 paper, Fig. 1 / section 2.1).

    ``conv_a`` = ReLU-Conv3x3(stride)-BN (C_in -> C_out), ``conv_b`` = ReLU-Conv3x3-BN
    (C_out -> C_out); the shortcut is AvgPool2d(2, 2) then a bias-free 1x1 conv (stride 2),
    a 1x1 ReLU-Conv-BN (stride 1, channels change) or the identity. Output =
    shortcut + conv_b(conv_a(x)). With stride 2, spatial sizes must be even (the two paths
    round odd sizes differently, as in the reference).
    """

    def __init__(self, C_in: int, C_out: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:  # fmt: skip
        super().__init__()
        stride = _check_stride(stride, "ResNetBasicBlock")
        self.C_in, self.C_out, self.stride = C_in, C_out, stride
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, affine, track_running_stats)
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0, affine, track_running_stats)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


def reset_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every parameter of ``module`` in place from ``generator``; returns it.

    The distributions of PyTorch's own ``reset_parameters`` (which the NB201 reference
    networks keep: they define no initialisation of their own), drawn from the caller's
    generator instead of the global RNG: Conv2d/Linear weights and biases uniform in
    ``+-1/sqrt(fan_in)`` (``kaiming_uniform_(a=sqrt(5))`` for the weights), BatchNorm scale 1
    and shift 0, running statistics reset. Modules are visited in ``modules()`` order, so the
    same seed gives bit-identical weights.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                bound = 1.0 / fan_in**0.5
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(m, nn.modules.batchnorm._NormBase):
                m.reset_parameters()  # ones/zeros and running stats: no random draw
    return module
