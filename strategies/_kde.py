"""Categorical kernel density estimates for BOHB's TPE-style model (Falkner et al., ICML 2018).

A product of Aitchison-Aitken kernels (Aitchison & Aitken, Biometrika 1976), the kernel
that hpbandster gets from ``statsmodels.nonparametric.KDEMultivariate`` with
``var_type='u'`` for every categorical hyper-parameter: for a decision with ``c``
options and bandwidth ``h``, ``k(x, x_i) = 1 - h`` if ``x == x_i`` else ``h / (c - 1)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CategoricalKDE"]


class CategoricalKDE:
    """A multivariate KDE over integer-coded categorical vectors.

    Parameters
    ----------
    data:
        ``(n, d)`` integer codes, column ``j`` in ``0..levels[j]-1``.
    levels:
        Number of options of each decision.
    min_bandwidth:
        Lower bound of every bandwidth (hpbandster's ``min_bandwidth``, default 1e-3 there).

    Bandwidths follow hpbandster: statsmodels' ``normal_reference`` rule on the codes,
    ``1.06 * std * n ** (-1 / (4 + d))``, raised to ``min_bandwidth``. They are also capped
    just below ``(c - 1) / c`` (by a relative ``1e-6``), where the Aitchison-Aitken kernel
    becomes uniform (statsmodels does not cap, and a larger ``h`` gives negative kernel
    weights). Just below rather than at: a decision at the cap still ranks candidates by
    their agreement with the data, by a tiny but exact margin (the limit of the kernel as
    ``h`` grows to the cap), instead of leaving the ranking to rounding.
    """

    __slots__ = ("_const", "_onehot", "_weights", "_zero", "bw", "data", "levels")

    def __init__(self, data: np.ndarray, levels, min_bandwidth: float = 1e-3) -> None:
        data = np.asarray(data, dtype=np.int64)
        if data.ndim != 2 or data.shape[0] < 1:
            raise ValueError("CategoricalKDE needs a non-empty (n, d) array of codes")
        self.data = data
        self.levels = np.asarray(levels, dtype=np.int64)
        n, d = data.shape
        bw = 1.06 * data.astype(np.float64).std(axis=0) * n ** (-1.0 / (4 + d))
        cap = (self.levels - 1) / self.levels * (1.0 - 1e-6)
        self.bw = np.minimum(np.maximum(bw, min_bandwidth), cap)
        # log k(x, x_i) = sum_j log(off_j) + sum_j [x_j == x_ij] * log((1 - h_j) / off_j):
        # the second sum is one matrix product of a weighted one-hot of x with the one-hot
        # data, so ``pdf`` costs O(m * n * sum(levels)) in BLAS instead of an (m, n, d) array.
        off = self.bw / np.maximum(self.levels - 1, 1)
        self._zero = off == 0  # h = 0 (min_bandwidth=0): an indicator kernel on that decision
        safe = np.where(self._zero, 1.0, off)
        self._const = float(np.log(safe).sum())
        self._weights = np.where(self._zero, 0.0, np.log1p(-self.bw) - np.log(safe))
        self._onehot = self._one_hot(data, np.ones(d))  # (n, sum(levels))

    def _one_hot(self, x: np.ndarray, values: np.ndarray) -> np.ndarray:
        starts = np.concatenate(([0], np.cumsum(self.levels)[:-1]))
        out = np.zeros((x.shape[0], int(self.levels.sum())), dtype=np.float64)
        rows = np.repeat(np.arange(x.shape[0]), x.shape[1])
        out[rows, (x + starts).ravel()] = np.tile(values, x.shape[0])
        return out

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Densities of the ``(m, d)`` codes ``x`` (mean over data of the kernel products)."""
        x = np.asarray(x, dtype=np.int64).reshape(-1, self.data.shape[1])
        log_k = self._one_hot(x, self._weights) @ self._onehot.T + self._const  # (m, n)
        k = np.exp(log_k)
        if self._zero.any():  # a mismatch on a zero-bandwidth decision gives a zero kernel
            z = self._zero.astype(np.float64)
            k[(self._one_hot(x, z) @ self._onehot.T) < z.sum() - 0.5] = 0.0
        return k.mean(axis=1)

    def sample(self, m: int, generator: np.random.Generator, bandwidth_factor: float = 1.0) -> np.ndarray:
        """``m`` draws as in hpbandster's BOHB: pick a datum uniformly, then keep each of its
        values with probability ``1 - min(1, bandwidth_factor * h)``, else draw that decision
        uniformly among its options."""
        n, d = self.data.shape
        rows = self.data[generator.integers(0, n, size=m)]
        h = np.minimum(1.0, bandwidth_factor * self.bw)
        redraw = generator.random((m, d)) < h
        uniform = (generator.random((m, d)) * self.levels).astype(np.int64)
        return np.where(redraw, uniform, rows)
