"""Seeding: stable hashes, per-run seed sequences and a fast buffered random stream.

Every random draw in benchlab comes from a generator that the drawing component owns,
seeded from the experiment's master seed (DESIGN section 3). Nothing touches the global
``random`` or ``numpy.random`` state.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["stable_hash", "run_seed_sequence", "RandomStream"]

_BUFFER = 1024


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process and Python version.

    Python's ``hash`` of a string is salted per process, so it must never seed anything.
    """
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def run_seed_sequence(master_seed: int, benchmark: str, strategy: str, repeat: int) -> np.random.SeedSequence:
    """Seed sequence of one run: ``SeedSequence(master, spawn_key=(h(benchmark), h(strategy), repeat))``.

    ``benchmark`` and ``strategy`` are the canonical JSON of the name and keyword
    arguments, so two configurations of one strategy get independent streams.
    """
    return np.random.SeedSequence(
        int(master_seed), spawn_key=(stable_hash(benchmark), stable_hash(strategy), int(repeat))
    )


class RandomStream:
    """A seeded random source with cheap scalar draws, for hot ask/tell loops.

    ``numpy.random.Generator.integers`` costs about 2 us per scalar call; a table query
    costs less than that. This class draws uniform doubles from its own ``Generator`` in
    blocks of 1024 and serves them one at a time (about 0.1 us). ``integers(n)`` maps a
    53-bit uniform double to ``floor(u * n)``, whose bias is below n / 2**53.

    It implements the subset of the ``Generator`` API that search spaces and strategies
    use (``random``, ``integers``, ``choice`` on a length), so either can be passed as
    ``rng``. The state (generator + unread buffer) pickles, so a pickled strategy resumes
    with exactly the draws it would have made.
    """

    __slots__ = ("generator", "_buf", "_pos")

    def __init__(self, seed: int | np.random.SeedSequence | np.random.Generator | None) -> None:
        if isinstance(seed, np.random.Generator):
            self.generator = seed
        else:
            self.generator = np.random.default_rng(seed)
        self._buf: list[float] = []
        self._pos = 0

    def random(self) -> float:
        """One uniform double in [0, 1)."""
        pos = self._pos
        if pos >= len(self._buf):
            self._buf = self.generator.random(_BUFFER).tolist()
            pos = 0
        self._pos = pos + 1
        return self._buf[pos]

    def uniforms(self, n: int) -> list[float]:
        """``n`` uniform doubles in [0, 1): the same values as ``n`` calls of :meth:`random`."""
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        return [self.random() for _ in range(n)]

    def integers(self, low: int, high: int | None = None) -> int:
        """One integer uniform in [low, high), or in [0, low) when ``high`` is None."""
        if high is None:
            low, high = 0, low
        if high <= low:
            raise ValueError(f"integers({low}, {high}): the range is empty")
        return low + int(self.random() * (high - low))

    def index(self, n: int) -> int:
        """One integer uniform in [0, n)."""
        return int(self.random() * n)

    def shuffle_indices(self, n: int) -> np.ndarray:
        """A random permutation of ``range(n)``, drawn from the owned generator."""
        return self.generator.permutation(n)

    def __getstate__(self):
        return {"generator": self.generator, "_buf": self._buf, "_pos": self._pos}

    def __setstate__(self, state) -> None:
        self.generator = state["generator"]
        self._buf = state["_buf"]
        self._pos = state["_pos"]
