"""The two TransNAS-Bench-101 search spaces (Duan et al., CVPR 2021).

**Micro (cell-level), 4**6 = 4,096 cells.** Every network has the same skeleton
(base width 64, five modules ``41414``: channels x2 and resolution /2, normal, x2 and /2,
normal, x2 and /2); the searched cell has 4 nodes and 6 edges, each edge one of 4
operations with the official codes ``0`` zero (none), ``1`` skip connection, ``2`` ReLU-conv
1x1-BN, ``3`` ReLU-conv 3x3-BN. The official string is ``64-41414-a_bc_def``: node 1 =
``a``(node 0); node 2 = ``b``(node 0) + ``c``(node 1); node 3 = ``d``(node 0) + ``e``(node 1)
+ ``f``(node 2), e.g. ``64-41414-1_02_333``. An architecture is the tuple of the 6 digits
``(a, b, c, d, e, f)``, i.e. the edges ``(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)``
with their official op codes. This is also the op-index tuple of NASLib's TransNAS-Bench-101
exports (NASLib writes the string as ``'64-41414-{}_{}{}_{}{}{}'.format(*op_indices)``; its
graph objects use another op order internally, which the exports do not). Checked on the
data: under this reading, the 169 cells whose node 3 can receive only zeros are exactly the
cells where NASLib's Zen-NAS score failed, and on the classification, jigsaw and
segmentation tasks they all share one constant result (an output independent of the
input); under the graph objects' reading they score like any other cells.
Benchlab ids are the tuples read as base-4 numbers, first edge most significant (the order
of ``itertools.product(range(4), repeat=6)``, NASLib's iterator order).

**Macro (skeleton-level), 3,256 networks.** The cell is fixed (a ResNet basic block,
``basic``); the skeleton is 4 to 6 modules (each of 2 blocks), each module one of ``1``
normal, ``2`` channels x2, ``3`` resolution /2 (stride 2), ``4`` both; a network
downsamples 1 to 4 times (modules 3 or 4) and doubles its channels 1 to 3 times
(modules 2 or 4). The official string is ``64-<modules>-basic``, e.g. ``64-1234-basic``.
An architecture is a 6-tuple of option indices: module code minus one (0..3) for each
module, then 4 (no module) for the positions after the last module of a 4- or 5-module
skeleton, e.g. ``64-1234-basic`` is ``(0, 1, 2, 3, 4, 4)``. Benchlab ids order the
skeletons by length (4, 5, 6 modules), then lexicographically by digits. Neither order is
the index of the official TransNAS-Bench-101 API, which only its ``.pth`` file carries.

The macro space is not a product of choices: its categorical view ``choices()`` has 6
decisions, modules 1-4 with the 4 module kinds and modules 5-6 with a fifth option "none",
and ``choices_are_archs = True``: an option tuple IS an architecture when ``validate``
accepts it (3,256 of the 6,400 tuples; the others downsample or double the channels too
often or never, or have a module after a "none"); decision-by-decision strategies redraw
the others, or sample inside the set (``allowed_choices()``). ``mutate`` changes one
decision to another valid skeleton (replace a module, append or drop a trailing one);
``neighbors`` lists all such skeletons.
"""

from __future__ import annotations

import itertools
import re
from types import MappingProxyType

import numpy as np

from benchlab.ext import CategoricalSpace, InvalidArchitecture, SearchSpace

__all__ = [
    "TNB101MicroSpace",
    "TNB101MacroSpace",
    "MICRO_OPS",
    "MICRO_EDGES",
    "MICRO_PREFIX",
    "MACRO_MODULES",
    "MACRO_LENGTHS",
    "NO_MODULE",
    "macro_arch",
]

MICRO_OPS = ("none", "skip_connect", "conv_1x1", "conv_3x3")  # official codes 0, 1, 2, 3
MICRO_EDGES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")
MICRO_PREFIX = "64-41414-"
#: Module kinds of the macro space; option index = official code - 1. Modules 5 and 6 have
#: a fifth option, index 4, "none" (no module).
MACRO_MODULES = ("normal", "channel_x2", "stride_2", "channel_x2_stride_2")
NO_MODULE = 4
MACRO_LENGTHS = (4, 5, 6)
_MACRO_DOWN = (1, 4)  # allowed number of stride-2 modules (codes 3, 4)
_MACRO_CHANNEL = (1, 3)  # allowed number of channel-doubling modules (codes 2, 4)

_MICRO_RE = re.compile(r"64-41414-([0-3])_([0-3])([0-3])_([0-3])([0-3])([0-3])")
_MACRO_RE = re.compile(r"64-([1-4]{4,6})-basic")
_ROUTES = ((3,), (0, 4), (1, 5), (0, 2, 5))  # input -> node 3 routes, as edge positions
_PATH_OFFSET = {1: 0, 2: 3, 3: 12}
_PATH_LENGTH = 3 + 9 + 27

# Lazily built lookup tables shared by all instances (module level: pickles stay small).
_CACHE: dict[str, tuple] = {}


def _micro_str(arch: tuple) -> str:
    a, b, c, d, e, f = arch
    return f"{MICRO_PREFIX}{a}_{b}{c}_{d}{e}{f}"


def _micro_tables() -> tuple:
    got = _CACHE.get("micro")
    if got is None:
        archs = tuple(itertools.product(range(4), repeat=6))
        strings = tuple(_micro_str(a) for a in archs)
        got = (archs, strings, MappingProxyType({a: i for i, a in enumerate(archs)}))
        _CACHE["micro"] = got
    return got


class TNB101MicroSpace(CategoricalSpace):
    """TransNAS-Bench-101 micro (cell) space: 6 edges x 4 ops = 4,096 cells, strings ``64-41414-a_bc_def``."""

    def __init__(self) -> None:
        super().__init__([(f"edge {e}", MICRO_OPS) for e in MICRO_EDGES], name="tnb101-micro")

    @property
    def all_archs(self) -> tuple:
        """Every architecture in id order (an immutable tuple)."""
        return _micro_tables()[0]

    @property
    def ids(self):
        """Read-only ``{arch: id}`` mapping."""
        return _micro_tables()[2]

    def to_id(self, arch) -> int:
        try:
            return _micro_tables()[2][arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_id(self, index: int) -> tuple:
        if type(index) is int and 0 <= index < 4096:
            return _micro_tables()[0][index]
        return CategoricalSpace.from_id(self, index)  # numpy integers, or the error for a bad id

    def enumerate(self):
        return iter(_micro_tables()[0])

    def sample(self, rng) -> tuple:
        return _micro_tables()[0][int(rng.integers(0, 4096))]

    def to_str(self, arch) -> str:
        _, strings, ids = _micro_tables()
        try:
            return strings[ids[arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_str(self, text: str) -> tuple:
        m = _MICRO_RE.fullmatch(text) if isinstance(text, str) else None
        if m is None:
            raise InvalidArchitecture(
                f"{text!r} is not a TransNAS-Bench-101 micro string: expected '64-41414-a_bc_def' with each digit an "
                "op code (0 none, 1 skip, 2 conv1x1, 3 conv3x3), e.g. '64-41414-1_02_333'"
            )
        return tuple(int(g) for g in m.groups())

    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        """``onehot`` (24 = 6 edges x 4 ops), ``categorical`` (the 6 op codes) or ``path``.

        ``path`` is the path encoding of BANANAS (White et al., AAAI 2021) on this cell: one
        bit per sequence of operations along a route from node 0 to node 3 (routes 0->3,
        0->1->3, 0->2->3, 0->1->2->3); a route through a zero edge carries nothing, so the
        alphabet is skip, conv1x1, conv3x3 and the vector has 3 + 9 + 27 = 39 entries.
        """
        if kind not in ("path", "onehot", "categorical"):
            raise ValueError(f"unknown encoding {kind!r}; TNB101MicroSpace offers 'onehot', 'categorical' and 'path'")
        if kind != "path":
            self.validate(arch)
            return super().encode(arch, kind)
        self.validate(arch)
        vec = np.zeros(_PATH_LENGTH, dtype=np.float64)
        for route in _ROUTES:
            ops = [arch[e] for e in route]
            if 0 in ops:
                continue
            index = 0
            for op in ops:
                index = index * 3 + (op - 1)
            vec[_PATH_OFFSET[len(ops)] + index] = 1.0
        return vec

    def describe_arch(self, arch) -> dict:
        """``{edge: op name}`` for humans."""
        self.validate(arch)
        return {f"edge {e}": MICRO_OPS[v] for e, v in zip(MICRO_EDGES, arch)}


def _macro_problem(arch) -> str:
    """Why ``arch`` is not a macro skeleton ("" when it is one)."""
    if type(arch) is not tuple or len(arch) != 6:
        return "expected a tuple of 6 option indices (module code - 1, or 4 = no module for modules 5 and 6)"
    if any(type(v) is not int or not 0 <= v <= (3 if i < 4 else 4) for i, v in enumerate(arch)):
        return "modules 1-4 take 0..3 (code - 1: normal, channels x2, stride 2, both), modules 5-6 also 4 (none)"
    if arch[4] == NO_MODULE and arch[5] != NO_MODULE:
        return "module 6 follows a missing module 5; a skeleton has 4 to 6 consecutive modules"
    codes = [v + 1 for v in arch if v != NO_MODULE]
    down = sum(c >= 3 for c in codes)
    chan = sum(c in (2, 4) for c in codes)
    if not _MACRO_DOWN[0] <= down <= _MACRO_DOWN[1]:
        return f"it downsamples {down} times (modules 3 or 4); a skeleton downsamples 1 to 4 times"
    if not _MACRO_CHANNEL[0] <= chan <= _MACRO_CHANNEL[1]:
        return f"it doubles its channels {chan} times (modules 2 or 4); a skeleton doubles them 1 to 3 times"
    return ""


def macro_arch(codes) -> tuple:
    """The architecture of a sequence of 4 to 6 official module codes (not validated)."""
    return tuple(int(c) - 1 for c in codes) + (NO_MODULE,) * (6 - len(codes))


def _macro_tables() -> tuple:
    got = _CACHE.get("macro")
    if got is None:
        archs = []
        for n in MACRO_LENGTHS:
            for digits in itertools.product(range(1, 5), repeat=n):
                arch = macro_arch(digits)
                if not _macro_problem(arch):
                    archs.append(arch)
        archs = tuple(archs)
        strings = tuple("64-" + "".join(str(v + 1) for v in a if v != NO_MODULE) + "-basic" for a in archs)
        ids = {a: i for i, a in enumerate(archs)}
        neighbors = []
        for a in archs:
            out = []
            for pos in range(6):
                for v in range(5 if pos >= 4 else 4):
                    if v != a[pos]:
                        b = a[:pos] + (v,) + a[pos + 1 :]
                        if b in ids:
                            out.append(b)
            neighbors.append(tuple(out))
        got = (archs, strings, MappingProxyType(ids), tuple(neighbors))
        _CACHE["macro"] = got
    return got


class TNB101MacroSpace(SearchSpace):
    """TransNAS-Bench-101 macro (skeleton) space: 3,256 networks of 4-6 modules, strings ``64-<modules>-basic``."""

    name = "tnb101-macro"
    choices_are_archs = True  # a choices() tuple is an architecture when validate accepts it

    @property
    def size(self) -> int:
        return 3256

    @property
    def all_archs(self) -> tuple:
        """Every architecture in id order (an immutable tuple)."""
        return _macro_tables()[0]

    @property
    def ids(self):
        """Read-only ``{arch: id}`` mapping."""
        return _macro_tables()[2]

    def validate(self, arch):
        try:
            known = arch in _macro_tables()[2]
        except TypeError:  # unhashable
            known = False
        if known and all(type(v) is int for v in arch):  # (True, ...) hashes like (1, ...): not an architecture
            return arch
        raise InvalidArchitecture(f"{arch!r} is not a {self.name} architecture: {_macro_problem(arch) or 'unknown'}")

    def sample(self, rng) -> tuple:
        return _macro_tables()[0][int(rng.integers(0, 3256))]

    def neighbors(self, arch) -> list:
        tables = _macro_tables()
        try:
            return list(tables[3][tables[2][arch]])
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def mutate(self, arch, rng) -> tuple:
        tables = _macro_tables()
        try:
            options = tables[3][tables[2][arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise
        return options[int(rng.integers(0, len(options)))]

    def to_id(self, arch) -> int:
        try:
            return _macro_tables()[2][arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_id(self, index: int) -> tuple:
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= index < 3256:
            return _macro_tables()[0][int(index)]
        raise InvalidArchitecture(f"id {index!r} is out of range: {self.name} ids are 0..3255")

    def enumerate(self):
        return iter(_macro_tables()[0])

    def to_str(self, arch) -> str:
        tables = _macro_tables()
        try:
            return tables[1][tables[2][arch]]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def from_str(self, text: str) -> tuple:
        m = _MACRO_RE.fullmatch(text) if isinstance(text, str) else None
        if m is None:
            raise InvalidArchitecture(
                f"{text!r} is not a TransNAS-Bench-101 macro string: expected '64-<4 to 6 module codes 1..4>-basic', "
                "e.g. '64-1234-basic'"
            )
        arch = macro_arch(m.group(1))
        problem = _macro_problem(arch)
        if problem:
            raise InvalidArchitecture(f"{text!r} is not a {self.name} skeleton: {problem}")
        return arch

    def modules(self, arch) -> tuple:
        """The official module codes of ``arch``, e.g. ``(1, 2, 3, 4)``."""
        self.validate(arch)
        return tuple(v + 1 for v in arch if v != NO_MODULE)

    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        """``onehot`` (26: a block of 4 per module 1-4, of 5 per module 5-6) or
        ``categorical`` (the 6 option indices as floats)."""
        if kind not in ("onehot", "categorical"):
            raise ValueError(f"unknown encoding {kind!r}; TNB101MacroSpace offers 'onehot' and 'categorical'")
        self.validate(arch)
        if kind == "categorical":
            return np.asarray(arch, dtype=np.float64)
        vec = np.zeros(26, dtype=np.float64)
        for pos, v in enumerate(arch):
            vec[(4 * pos if pos < 4 else 16 + 5 * (pos - 4)) + v] = 1.0
        return vec

    def allowed_choices(self) -> np.ndarray:
        """The 3,256 architectures as rows of option indices, in id order (a read-only
        ``(3256, 6)`` int64 array): strategies with a factorised policy sample inside this
        set instead of redrawing rejected tuples."""
        rows = _CACHE.get("macro_rows")
        if rows is None:
            rows = np.array(_macro_tables()[0], dtype=np.int64)
            rows.setflags(write=False)
            _CACHE["macro_rows"] = rows
        return rows

    def choices(self) -> list:
        """6 decisions: ``("module i", MACRO_MODULES)`` for modules 1-4 and the same plus
        ``"none"`` for modules 5-6. Only tuples that ``validate`` accepts are architectures
        (3,256 of the 6,400)."""
        return [(f"module {i + 1}", MACRO_MODULES if i < 4 else MACRO_MODULES + ("none",)) for i in range(6)]
