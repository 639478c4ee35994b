"""The NAS-Bench-201 cell search space (Dong & Yang, ICLR 2020).

A cell has 4 nodes and 6 edges; each edge carries one of 5 operations. An architecture
is a tuple of 6 op ids in the official string's edge order
``(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)``, with op ids in the official order
``none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3``. The official string
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|``
lists node 1's, node 2's and node 3's incoming edges, each as ``op~source``.

Integer ids (``to_id``/``from_id``) are benchlab ids: base-5 numbers with edge (1<-0) most
significant. They are NOT the official NAS-Bench-201 indices, whose order is a fixed
permutation carried only by the official data files.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np

from benchlab import CategoricalSpace, InvalidArchitecture

__all__ = ["NB201Space", "OPS", "EDGES"]

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")
_NODE_EDGES = ((0,), (1, 2), (3, 4, 5))  # positions of each node's incoming edges
_SOURCES = (0, 0, 1, 0, 1, 2)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_ROUTES = ((3,), (0, 4), (1, 5), (0, 2, 5))  # input->output routes as edge positions
_PATH_OFFSET = {1: 0, 2: 4, 3: 20}


def _format(arch: tuple) -> str:
    nodes = ["|" + "|".join(f"{OPS[arch[e]]}~{_SOURCES[e]}" for e in edges) + "|" for edges in _NODE_EDGES]
    return "+".join(nodes)


class NB201Space(CategoricalSpace):
    """NAS-Bench-201: 5**6 = 15,625 cells (6 edges x 5 operations)."""

    def __init__(self) -> None:
        super().__init__([(f"edge {e}", OPS) for e in EDGES], name="nb201")
        self._archs: tuple | None = None
        self._strings: list[str] | None = None
        self._ids: dict[tuple, int] | None = None

    def __getstate__(self):
        # the id tables are caches: rebuilt on demand, never pickled (a pickled strategy stays small)
        return {**self.__dict__, "_archs": None, "_strings": None, "_ids": None}

    def _tables(self) -> None:
        archs = tuple(self.from_id_slow(i) for i in range(self.size))
        self._archs = archs
        self._strings = [_format(a) for a in archs]
        self._ids = {a: i for i, a in enumerate(archs)}

    def from_id_slow(self, index: int) -> tuple:
        return CategoricalSpace.from_id(self, index)

    @property
    def ids(self) -> Mapping[tuple, int]:
        """Architecture -> id, for table lookups (a read-only view of the cached table)."""
        if self._ids is None:
            self._tables()
        return MappingProxyType(self._ids)

    @property
    def all_archs(self) -> tuple:
        """Every architecture, in id order (a cached tuple)."""
        if self._archs is None:
            self._tables()
        return self._archs

    def from_id(self, index: int) -> tuple:
        archs = self.all_archs
        if type(index) is int and 0 <= index < 15625:
            return archs[index]
        return CategoricalSpace.from_id(self, index)  # raises the error, or handles numpy ints

    def to_id(self, arch) -> int:
        if self._ids is None:
            self._tables()
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def enumerate(self):
        return iter(self.all_archs)

    def sample(self, rng) -> tuple:
        return self.all_archs[int(rng.integers(0, 15625))]

    def to_str(self, arch) -> str:
        if self._ids is None:
            self._tables()
        try:
            return self._strings[self._ids[arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_str(self, text: str) -> tuple:
        bad = f"{text!r} is not a NAS-Bench-201 architecture string"
        fix = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in " + ", ".join(OPS)
        if not isinstance(text, str):
            raise InvalidArchitecture(f"{bad}: {fix}")
        nodes = text.strip().split("+")
        if len(nodes) != 3:
            raise InvalidArchitecture(f"{bad}: it has {len(nodes)} node groups, {fix}")
        arch = []
        for node in (1, 2, 3):
            group = nodes[node - 1]
            if not (group.startswith("|") and group.endswith("|")):
                raise InvalidArchitecture(f"{bad}: node {node} group {group!r} must start and end with '|'; {fix}")
            items = group[1:-1].split("|")
            if len(items) != node:
                raise InvalidArchitecture(f"{bad}: node {node} needs {node} inputs, got {len(items)}; {fix}")
            for src, item in enumerate(items):
                op, tilde, source = item.partition("~")
                if op not in _OP_INDEX:
                    raise InvalidArchitecture(f"{bad}: unknown operation {op!r}; {fix}")
                if not tilde or source != str(src):
                    raise InvalidArchitecture(f"{bad}: {item!r} must read '{op}~{src}' (edge {node}<-{src}); {fix}")
                arch.append(_OP_INDEX[op])
        return tuple(arch)

    def encode(self, arch, kind: str = "onehot"):
        """``onehot`` (30 = 6 edges x 5 ops), ``categorical`` (6 op ids) or ``path``.

        ``path`` is the path encoding of BANANAS (White et al., AAAI 2021): one bit per
        sequence of operations along a route from the cell's input to its output. The
        routes are 0->3, 0->1->3, 0->2->3 and 0->1->2->3; a route through a ``none`` edge
        carries nothing and sets no bit, so the alphabet is the 4 other ops and the
        vector has 4 + 4**2 + 4**3 = 84 entries (length-1 sequences first).
        """
        if kind != "path":
            return super().encode(arch, kind)
        self.validate(arch)
        vec = np.zeros(84, dtype=np.float64)
        for route in _ROUTES:
            ops = [arch[e] for e in route]
            if 0 in ops:  # a none edge cuts the route
                continue
            index = 0
            for op in ops:
                index = index * 4 + (op - 1)
            vec[_PATH_OFFSET[len(ops)] + index] = 1.0
        return vec

    def describe_arch(self, arch) -> dict:
        """``{edge: op name}`` for humans."""
        self.validate(arch)
        return {f"edge {e}": OPS[v] for e, v in zip(EDGES, arch)}
