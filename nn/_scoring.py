"""Zero-cost proxies of NB201 cells on live networks, and their rank correlations with a table.

Data-independent proxies (``params``, ``flops``, ``synflow``) are computed on the
benchmark's own network: :class:`benchlab.nn.NB201Network` with the table dataset's
classes, 3 input channels and its image size (32x32; 16x16 for ImageNet16-120), so
``params`` equals the table's parameter count. Data-dependent proxies use one batch of a
live dataset (its channels, image size and classes), drawn from the *train* split with
the caller's seed.
"""

from __future__ import annotations

import time

import numpy as np

from benchlab import UnknownName

__all__ = ["BENCH_IMAGE", "DATA_INDEPENDENT", "PROXY_NAMES", "CellScorer", "rank_correlations"]

#: Names of the zero-cost proxies (the keys of :data:`benchlab.nn.PROXIES`), known without torch.
PROXY_NAMES = ("params", "flops", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov", "naswot")
#: The proxies that need no data (computed on the benchmark's own network and image size).
DATA_INDEPENDENT = ("params", "flops", "synflow")

#: (classes, image side) of the networks NB201 trains, per table dataset.
BENCH_IMAGE = {"cifar10-valid": (10, 32), "cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}


class CellScorer:
    """Computes proxies of NB201 cells.

    Parameters
    ----------
    names:
        proxy names of :data:`PROXIES`.
    bench_dataset:
        NB201 table dataset whose network the data-independent proxies use.
    data:
        live dataset name for the data-dependent proxies (None if none is asked).
    C, N:
        network width and depth (NB201: 16, 5).
    batch_size:
        images in the data batch (64, as in Abdelfattah et al. 2021's NB201 runs).
    seed:
        seeds the batch choice and, per cell, the network initialisation.
    """

    def __init__(self, names, bench_dataset: str = "cifar10-valid", data: str | None = None, C: int = 16, N: int = 5,
                 batch_size: int = 64, seed: int = 0, device: str = "cpu") -> None:  # fmt: skip
        import torch

        from ._proxies import PROXIES

        unknown = [n for n in names if n not in PROXIES]
        if unknown:
            raise UnknownName(f"unknown proxies {unknown}; choose from {', '.join(PROXIES)}")
        if bench_dataset not in BENCH_IMAGE:
            raise UnknownName(f"unknown NB201 dataset {bench_dataset!r}; choose one of {', '.join(BENCH_IMAGE)}")
        self.names = list(names)
        self.C, self.N, self.seed = C, N, seed
        self.device = torch.device(device)
        self.bench_classes, side = BENCH_IMAGE[bench_dataset]
        self.bench_input = torch.zeros((1, 3, side, side), device=self.device)
        self.independent = [n for n in self.names if n in DATA_INDEPENDENT]
        self.dependent = [n for n in self.names if n not in DATA_INDEPENDENT]
        self._fns = PROXIES
        self.x = self.y = None
        if self.dependent:
            from ._data import load_dataset

            if data is None:
                raise UnknownName(f"proxies {self.dependent} need data: pass a live dataset (e.g. 'digits', 'fashion-mnist')")
            d = load_dataset(data)
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(d.x_train), size=min(batch_size, len(d.x_train)), replace=False)
            mean = np.asarray(d.mean, dtype=np.float32).reshape(1, -1, 1, 1)
            std = np.asarray(d.std, dtype=np.float32).reshape(1, -1, 1, 1)
            x = (np.asarray(d.x_train[idx], dtype=np.float32) / 255.0 - mean) / std
            self.x = torch.from_numpy(x).to(self.device)
            self.y = torch.from_numpy(np.array(d.y_train[idx], dtype=np.int64)).to(self.device)
            self.data_classes, self.data_channels = int(d.num_classes), int(x.shape[1])
        self.seconds = {n: 0.0 for n in self.names}

    def _net(self, arch, num_classes: int, in_channels: int, init_seed: int):
        from ._nb201_net import NB201Network

        return NB201Network(arch, num_classes=num_classes, C=self.C, N=self.N, in_channels=in_channels,
                            init_seed=init_seed).to(self.device)  # fmt: skip

    def score(self, arch, init_seed: int | None = None) -> dict:
        """``{proxy: value}`` of one cell (6 op names or ids, one per edge, as
        :class:`~benchlab.nn.NB201Network` takes them); the networks start from ``init_seed``
        (default: the scorer's seed)."""
        seed = self.seed if init_seed is None else init_seed
        out = {}
        if self.independent:
            net = self._net(arch, self.bench_classes, 3, seed)
            for name in self.independent:
                t0 = time.perf_counter()
                out[name] = self._fns[name](net, self.bench_input, None)
                self.seconds[name] += time.perf_counter() - t0
        if self.dependent:
            net = self._net(arch, self.data_classes, self.data_channels, seed)
            for name in self.dependent:
                t0 = time.perf_counter()
                out[name] = self._fns[name](net, self.x, self.y)
                self.seconds[name] += time.perf_counter() - t0
        return out


def rank_correlations(scores, accuracies) -> dict:
    """Spearman's rho and Kendall's tau (scipy) of ``scores`` with ``accuracies``; pairs
    with a non-finite value are dropped (``n`` says how many remain)."""
    from scipy.stats import kendalltau, spearmanr

    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    ok = ~np.isnan(s) & np.isfinite(a)  # -inf (e.g. NASWOT of a dead cell) ranks last
    if ok.sum() < 3 or np.ptp(s[ok]) == 0:
        return {"spearman": float("nan"), "kendall": float("nan"), "n": int(ok.sum())}
    return {"spearman": float(spearmanr(s[ok], a[ok])[0]), "kendall": float(kendalltau(s[ok], a[ok])[0]), "n": int(ok.sum())}
