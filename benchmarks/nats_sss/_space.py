"""The NATS-Bench size search space (Dong et al., TPAMI 2021): 8**5 = 32,768 networks.

Every network has the same cell topology (the best NAS-Bench-201 cell on CIFAR-100,
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|``)
in a 5-layer macro skeleton: cell, residual reduction block, cell, residual reduction
block, cell. What varies is the output channel count of each of the 5 layers, each one of
``8, 16, 24, 32, 40, 48, 56, 64`` (the stem outputs the first layer's channels).

An architecture is a tuple of 5 option indices (0..7, channel = 8 * (index + 1)). The
official string is ``"C1:C2:C3:C4:C5"``, e.g. ``"64:64:64:64:64"``. Integer ids are the
official NATS-Bench size-space indices: the authors enumerate the networks as the
Cartesian product of the 5 channel lists with the first layer outermost (``traverse_net``
in AutoDL-Projects ``exps/NATS-Bench/main-sss.py``), so the index is the base-8 number
of the option indices with the first layer most significant: ``"8:8:8:8:8"`` is 0,
``"8:8:8:8:16"`` is 1 and ``"64:64:64:64:64"`` (the largest network) is 32767.
tests/test_tables_nats_macro.py checks this by reproducing all 3 x 32,768 parameter counts of the
public data from the network definition.
"""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import Mapping

from benchlab import CategoricalSpace, InvalidArchitecture

__all__ = ["NATSSizeSpace", "CHANNELS", "N_LAYERS"]

CHANNELS = (8, 16, 24, 32, 40, 48, 56, 64)
N_LAYERS = 5
_SIZE = len(CHANNELS) ** N_LAYERS
_OPTION = {str(c): i for i, c in enumerate(CHANNELS)}

# Shared, lazily built lookup tables (module level, so that pickled spaces stay small).
_ARCHS: list[tuple] = []
_STRINGS: list[str] = []
_IDS: dict[tuple, int] = {}
_PUBLIC: list = []  # what the properties hand out: all_archs as a tuple, ids as a read-only view


def _tables() -> None:
    if _IDS:
        return
    archs = list(itertools.product(range(len(CHANNELS)), repeat=N_LAYERS))  # id order
    _STRINGS.extend(":".join(str(CHANNELS[v]) for v in a) for a in archs)
    _IDS.update((a, i) for i, a in enumerate(archs))
    _ARCHS.extend(archs)
    _PUBLIC.extend((tuple(archs), MappingProxyType(_IDS)))


class NATSSizeSpace(CategoricalSpace):
    """NATS-Bench size space (``sss``): 5 layers x 8 channel counts, ids = official indices."""

    def __init__(self) -> None:
        super().__init__([(f"layer {i + 1} channels", CHANNELS) for i in range(N_LAYERS)], name="nats-sss")

    @property
    def all_archs(self) -> tuple:
        """Every architecture in id (= official index) order (a shared tuple)."""
        _tables()
        return _PUBLIC[0]

    @property
    def ids(self) -> Mapping[tuple, int]:
        """``{arch: id}`` for every architecture (a read-only view of the shared table)."""
        _tables()
        return _PUBLIC[1]

    def to_id(self, arch) -> int:
        _tables()
        try:
            return _IDS[arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_id(self, index: int) -> tuple:
        _tables()
        if type(index) is int and 0 <= index < _SIZE:
            return _ARCHS[index]
        return CategoricalSpace.from_id(self, index)  # numpy integers, or the error for a bad id

    def enumerate(self):
        return iter(self.all_archs)

    def to_str(self, arch) -> str:
        _tables()
        try:
            return _STRINGS[_IDS[arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_str(self, text: str) -> tuple:
        fix = "expected 5 channel counts joined by ':' (e.g. '64:64:64:64:64'), each one of " + ", ".join(_OPTION)
        if not isinstance(text, str):
            raise InvalidArchitecture(f"{text!r} is not a NATS-Bench size-space string: {fix}")
        parts = text.split(":")
        if len(parts) != N_LAYERS:
            raise InvalidArchitecture(f"{text!r} is not a NATS-Bench size-space string: it has {len(parts)} fields, {fix}")
        try:
            return tuple(_OPTION[p] for p in parts)
        except KeyError:
            bad = next(p for p in parts if p not in _OPTION)
            raise InvalidArchitecture(f"{text!r}: {bad!r} is not an allowed channel count; {fix}") from None

    def channels(self, arch) -> tuple[int, ...]:
        """The 5 channel counts of ``arch``."""
        self.validate(arch)
        return tuple(CHANNELS[v] for v in arch)
