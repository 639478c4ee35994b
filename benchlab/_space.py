"""The search-space interface that strategies program against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Hashable, Iterator, Sequence

import numpy as np

from ._errors import InvalidArchitecture

__all__ = ["SearchSpace", "CategoricalSpace"]

Arch = Hashable


class SearchSpace(ABC):
    """A set of architectures with the operations search strategies need.

    Architectures are small immutable hashable values. ``rng`` arguments take a
    ``numpy.random.Generator`` or a :class:`benchlab.RandomStream` (anything with
    ``integers(low, high)`` and ``random()``); a space never draws from a global RNG.
    """

    name: str = "space"

    @property
    @abstractmethod
    def size(self) -> int | float:
        """Number of architectures (``math.inf`` if unbounded)."""

    @abstractmethod
    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` if it belongs to the space, else raise ``InvalidArchitecture``."""

    @abstractmethod
    def sample(self, rng) -> Arch:
        """One architecture drawn uniformly at random."""

    @abstractmethod
    def mutate(self, arch: Arch, rng) -> Arch:
        """A random neighbour of ``arch`` (always different from ``arch``)."""

    @abstractmethod
    def neighbors(self, arch: Arch) -> list[Arch]:
        """All architectures one mutation away, in a fixed order."""

    @abstractmethod
    def to_str(self, arch: Arch) -> str:
        """The official string form."""

    @abstractmethod
    def from_str(self, text: str) -> Arch:
        """Parse the official string form; raise ``InvalidArchitecture`` on bad input."""

    @abstractmethod
    def encode(self, arch: Arch, kind: str = "onehot") -> np.ndarray:
        """A numeric vector for surrogate models; ``kind`` names the encoding."""

    @abstractmethod
    def choices(self) -> list[tuple[str, tuple]]:
        """Categorical view: ``[(decision name, options), ...]`` (REINFORCE, TPE, BO)."""

    # Finite spaces: integer ids 0..size-1 and enumeration.
    def to_id(self, arch: Arch) -> int:
        raise NotImplementedError(f"{type(self).__name__} has no integer ids")

    def from_id(self, index: int) -> Arch:
        raise NotImplementedError(f"{type(self).__name__} has no integer ids")

    def enumerate(self) -> Iterator[Arch]:
        """Every architecture in id order (finite spaces only)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be enumerated")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class CategoricalSpace(SearchSpace):
    """A product of categorical decisions: an architecture is a tuple of option indices.

    ``decisions`` is ``[(name, options), ...]``; architecture ``a`` picks
    ``options[a[i]]`` for decision ``i``. Ids are mixed-radix numbers with the first
    decision most significant. Subclasses give official string forms.
    """

    def __init__(self, decisions: Sequence[tuple[str, Sequence]], name: str = "categorical") -> None:
        self.name = name
        self._decisions = [(str(n), tuple(o)) for n, o in decisions]
        self._radix = tuple(len(o) for _, o in self._decisions)
        if not self._radix or min(self._radix) < 2:
            raise ValueError("every decision needs at least two options")
        size = 1
        for r in self._radix:
            size *= r
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    @property
    def n_decisions(self) -> int:
        return len(self._radix)

    def choices(self) -> list[tuple[str, tuple]]:
        return list(self._decisions)

    def validate(self, arch):
        if type(arch) is not tuple or len(arch) != len(self._radix):
            raise InvalidArchitecture(
                f"{arch!r} is not a {self.name} architecture: expected a tuple of {len(self._radix)} option indices"
            )
        for v, r in zip(arch, self._radix):
            if type(v) is not int or not 0 <= v < r:
                raise InvalidArchitecture(
                    f"{arch!r} is not a {self.name} architecture: entries must be ints in range of {self._radix}"
                )
        return arch

    def sample(self, rng):
        return tuple(int(rng.integers(0, r)) for r in self._radix)

    def mutate(self, arch, rng):
        i = int(rng.integers(0, len(self._radix)))
        new = int(rng.integers(0, self._radix[i] - 1))
        if new >= arch[i]:
            new += 1
        return arch[:i] + (new,) + arch[i + 1 :]

    def neighbors(self, arch):
        out = []
        for i, r in enumerate(self._radix):
            for v in range(r):
                if v != arch[i]:
                    out.append(arch[:i] + (v,) + arch[i + 1 :])
        return out

    def to_id(self, arch) -> int:
        self.validate(arch)
        index = 0
        for v, r in zip(arch, self._radix):
            index = index * r + v
        return index

    def from_id(self, index: int):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self._size:
            raise InvalidArchitecture(f"id {index!r} is out of range: {self.name} ids are 0..{self._size - 1}")
        index = int(index)
        out = []
        for r in reversed(self._radix):
            index, v = divmod(index, r)
            out.append(v)
        return tuple(reversed(out))

    def enumerate(self):
        return (self.from_id(i) for i in range(self._size))

    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        if kind == "onehot":
            vec = np.zeros(sum(self._radix), dtype=np.float64)
            offset = 0
            for v, r in zip(arch, self._radix):
                vec[offset + v] = 1.0
                offset += r
            return vec
        if kind == "categorical":
            return np.asarray(arch, dtype=np.float64)
        raise ValueError(f"unknown encoding {kind!r}; {type(self).__name__} offers 'onehot' and 'categorical'")

    def to_str(self, arch) -> str:
        self.validate(arch)
        return ",".join(str(self._decisions[i][1][v]) for i, v in enumerate(arch))

    def from_str(self, text: str):
        parts = str(text).split(",")
        if len(parts) != len(self._radix):
            raise InvalidArchitecture(f"{text!r} is not a {self.name} string: expected {len(self._radix)} comma-separated options")
        out = []
        for (name, opts), p in zip(self._decisions, parts):
            names = [str(o) for o in opts]
            if p not in names:
                raise InvalidArchitecture(f"{text!r}: {p!r} is not an option of {name} ({', '.join(names)})")
            out.append(names.index(p))
        return tuple(out)
