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
    at ``(c - 1) / c``, where the Aitchison-Aitken kernel becomes uniform (statsmodels
    does not cap, and a larger ``h`` gives negative kernel weights).
    """

    __slots__ = ("bw", "data", "levels")

    def __init__(self, data: np.ndarray, levels, min_bandwidth: float = 1e-3) -> None:
        data = np.asarray(data, dtype=np.int64)
        if data.ndim != 2 or data.shape[0] < 1:
            raise ValueError("CategoricalKDE needs a non-empty (n, d) array of codes")
        self.data = data
        self.levels = np.asarray(levels, dtype=np.int64)
        n, d = data.shape
        bw = 1.06 * data.astype(np.float64).std(axis=0) * n ** (-1.0 / (4 + d))
        cap = (self.levels - 1) / self.levels
        self.bw = np.minimum(np.maximum(bw, min_bandwidth), cap)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Densities of the ``(m, d)`` codes ``x`` (mean over data of the kernel products)."""
        x = np.asarray(x, dtype=np.int64)
        same = x[:, None, :] == self.data[None, :, :]  # (m, n, d)
        h = self.bw
        off = h / (self.levels - 1)
        k = np.where(same, 1.0 - h, off)
        return k.prod(axis=2).mean(axis=1)

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
