"""The NAS-Bench-Macro and Channel-Bench-Macro search spaces (Su et al., CVPR 2021 / 2021).

Both are products of per-layer choices written as digit strings, which are the keys of the
published JSON files; benchlab ids are those strings read as numbers in base 3 (or 4) with
the first layer most significant, which is the order in which the authors' scripts
enumerate the spaces (``itertools.product``; the JSON files themselves carry no index).

**NAS-Bench-Macro** (xiusu/NAS-Bench-Macro): a 32-channel stem, 8 searchable layers in
3 stages of 2, 3 and 3 layers (the first layer of each stage has stride 2 and doubles
the channels: 64, 128, 256), then a 1x1 convolution to 1280 channels and the classifier.
Each layer is one of ``0`` identity, ``1`` MobileNetV2 block with kernel 3 and expansion 3,
``2`` MobileNetV2 block with kernel 5 and expansion 6. The string is the 8 digits, e.g.
``"02012100"``; 3**8 = 6,561 architectures. An identity in the first layer of a stage is a
strided 1x1 convolution (it must change the shape); elsewhere it is a no-op, so moving it
to the end of its stage gives the same network: the authors trained only the 3,969
distinct networks and copied their results to the equivalent keys
(:meth:`MacroSpace.canonical` gives the representative).

**Channel-Bench-Macro** (xiusu/Channel-Bench-Macro): two fixed networks, MobileNet and
ResNet, whose 7 searchable widths each take 1/4, 2/4, 3/4 or 4/4 of a maximum. The string is
7 digits ``1``..``4`` (the multiple of 1/4), e.g. ``"4432214"``; 4**7 = 16,384
configurations per network. Options in :meth:`choices` are the resulting channel counts.

MobileNet (maxima 128, 768, 768, 768, 256, 1536, 1024): stride-2 3x3 stem with width 1;
MobileNetV2 blocks (kernel 3, 1x1 expand / depthwise / 1x1 project) ``w1 -> w2 -> w1``,
``w1 -> w3 -> w1`` (residual), ``w1 -> w4 -> w5`` (stride 2), ``w5 -> w6 -> w5`` (residual);
a 1x1 convolution to width 7, global pooling and the classifier. Widths 2, 3, 4 and 6 are
the expanded (hidden) widths of the four blocks, 1 and 5 the widths of the two residual
streams, 7 the final feature width.

ResNet (maxima 256, 256, 256, 512, 512, 512, 512): stride-2 3x3 stem with width 1; basic
blocks of two 3x3 convolutions ``w1 -> w2 -> w1`` and ``w1 -> w3 -> w1`` (residual),
``w1 -> w4 -> w5`` (stride 2, no shortcut), ``w5 -> w6 -> w5`` and ``w5 -> w7 -> w5``
(residual); global pooling and the classifier. Widths 2, 3, 4, 6 and 7 are the inner
widths of the five blocks, 1 and 5 the widths of the residual streams.
"""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import Mapping

from benchlab import CategoricalSpace, InvalidArchitecture, InvalidConfig

__all__ = ["MacroSpace", "ChannelSpace", "MACRO_OPS", "MACRO_STAGES", "CHANNEL_MAX", "CHANNEL_MODELS"]

MACRO_OPS = ("identity", "mb3_k3", "mb6_k5")
MACRO_STAGES = (2, 3, 3)
CHANNEL_MAX = {
    "mobilenet": (128, 768, 768, 768, 256, 1536, 1024),
    "resnet": (256, 256, 256, 512, 512, 512, 512),
}
CHANNEL_MODELS = tuple(CHANNEL_MAX)

# Lazily built lookup tables shared by all instances (module level: pickles stay small).
# key (radix, length, first digit) -> (archs in id order, strings, {arch: id})
_TABLES: dict[tuple, tuple[list, list, dict]] = {}


def _tables(radix: int, length: int, first: int) -> tuple:
    key = (radix, length, first)
    got = _TABLES.get(key)
    if got is None:
        archs = tuple(itertools.product(range(radix), repeat=length))
        strings = ["".join(str(v + first) for v in a) for a in archs]
        ids = {a: i for i, a in enumerate(archs)}
        got = (archs, strings, ids, MappingProxyType(ids))
        _TABLES[key] = got
    return got


class _DigitSpace(CategoricalSpace):
    """A categorical space whose official string is one digit per decision (``first`` + option)."""

    _first = 0
    _label = "digit"

    def _lookup(self) -> tuple:
        return _tables(self._radix[0], len(self._radix), self._first)

    @property
    def all_archs(self) -> tuple:
        """Every architecture in id order (a shared tuple)."""
        return self._lookup()[0]

    @property
    def ids(self) -> Mapping[tuple, int]:
        """``{arch: id}`` (a read-only view of the shared table)."""
        return self._lookup()[3]

    def to_id(self, arch) -> int:
        try:
            return self._lookup()[2][arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_id(self, index: int) -> tuple:
        archs = self._lookup()[0]
        if type(index) is int and 0 <= index < len(archs):
            return archs[index]
        return CategoricalSpace.from_id(self, index)  # numpy integers, or the error for a bad id

    def enumerate(self):
        return iter(self.all_archs)

    def to_str(self, arch) -> str:
        _, strings, ids, _ = self._lookup()
        try:
            return strings[ids[arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_str(self, text: str) -> tuple:
        n, r, first = len(self._radix), self._radix[0], self._first
        digits = "".join(str(first + v) for v in range(r))
        fix = f"expected {n} digits, each one of {', '.join(digits)} ({self._label}), e.g. {digits[-1] * n!r}"
        if not isinstance(text, str) or len(text) != n or any(c not in digits for c in text):
            raise InvalidArchitecture(f"{text!r} is not a {self.name} string: {fix}")
        return tuple(ord(c) - ord("0") - first for c in text)


class MacroSpace(_DigitSpace):
    """NAS-Bench-Macro: 8 layers x {identity, MBv2 k3 e3, MBv2 k5 e6}; 6,561 strings, 3,969 networks."""

    _first = 0
    _label = "0 identity, 1 MobileNetV2 k3 e3, 2 MobileNetV2 k5 e6"

    def __init__(self) -> None:
        super().__init__([(f"layer {i + 1}", MACRO_OPS) for i in range(sum(MACRO_STAGES))], name="nas-bench-macro")

    def canonical(self, arch) -> tuple:
        """The representative of ``arch``'s equivalence class: in every stage, identities
        after the first layer (no-ops) move to the end of the stage. The authors trained
        this network and copied its results to every equivalent string."""
        self.validate(arch)
        out: list[int] = []
        pos = 0
        for n in MACRO_STAGES:
            stage = arch[pos : pos + n]
            rest = [v for v in stage[1:] if v != 0]
            out += [stage[0], *rest] + [0] * (n - 1 - len(rest))
            pos += n
        return tuple(out)


class ChannelSpace(_DigitSpace):
    """Channel-Bench-Macro: 7 widths x 4 multiples (1/4..4/4) of the ``model``'s maxima; 16,384 each."""

    _first = 1
    _label = "the width in quarters of the layer's maximum"

    def __init__(self, model: str = "mobilenet") -> None:
        if model not in CHANNEL_MAX:
            raise InvalidConfig(f"Channel-Bench-Macro has no model {model!r}; choose from {', '.join(CHANNEL_MAX)}")
        self.model = model
        decisions = [(f"layer {i + 1} width", tuple(m * q // 4 for q in (1, 2, 3, 4))) for i, m in enumerate(CHANNEL_MAX[model])]
        super().__init__(decisions, name=f"channel-bench-macro-{model}")

    def widths(self, arch) -> tuple[int, ...]:
        """The 7 channel counts of ``arch``."""
        self.validate(arch)
        return tuple(opts[v] for (_, opts), v in zip(self._decisions, arch))
