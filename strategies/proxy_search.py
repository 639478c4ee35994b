"""Training-free search: rank sampled NB201 cells by a zero-cost proxy.

``proxy_search`` scores ``n_candidates`` distinct uniformly sampled cells with a proxy of
:mod:`benchlab.nn` (default ``synflow``: data-independent, so it needs no dataset
and is deterministic for a seed) on the benchmark's own untrained network, and proposes
them best-first (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021;
Mellor et al., ICML 2021 for NASWOT's variant, which keeps the top-scored cell).

``proxy_rea`` (``warm_start=True`` of the same idea) is regularized evolution whose
initial population is the top ``population_size`` proxy cells instead of random ones
(Abdelfattah et al. 2021, section 5, "zero-cost warmup"); evolution then proceeds as in
:class:`~benchlab.strategies.evolution.RegularizedEvolution` (reused by subclassing).

Cost: scoring runs in the first ``ask``. With ``cost="seconds"`` (default) the first
trial carries the measured proxy seconds and the other ranked trials 0, i.e. the table
lookup of a proposed cell is free (training-free NAS: the table only reports what the
cell would reach). ``cost="steps"`` charges ``n_candidates`` units instead (deterministic).
``cost="table"`` leaves every trial to the benchmark's query cost (the proxy time is in
``stats()``). In ``proxy_rea`` the evolved trials are always charged by the benchmark.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time

import benchlab.nn
from benchlab import InvalidConfig, Strategy, register_strategy
from benchlab.ext import Param, register_command

from .evolution import RegularizedEvolution

__all__ = ["ProxyREA", "ProxySearch"]

# `benchlab proxies` (zero-cost proxies vs a table) ships with the proxy strategies.
register_command(benchlab.nn.PROXIES_COMMAND)

_PARAMS = {
    "proxy": Param(str, choices=benchlab.nn.PROXY_NAMES, doc="zero-cost proxy that ranks the cells"),
    "n_candidates": Param(int, low=1, doc="distinct random cells scored"),
    "bench_dataset": Param(str, choices=tuple(benchlab.nn.BENCH_IMAGE),
                           doc="NB201 dataset whose network (classes, image size) data-independent proxies use"),  # fmt: skip
    "data": Param(str, doc="live dataset of data-dependent proxies ('' for none; digits, fashion-mnist, ...)"),
    "batch_size": Param(int, low=1, doc="images in the batch of data-dependent proxies"),
    "C": Param(int, low=1, doc="network channels (NB201: 16)"),
    "N": Param(int, low=1, doc="cells per stage (NB201: 5)"),
    "cost": Param(str, choices=("seconds", "steps", "table"), doc="how the ranked trials are charged (module docstring)"),
}


class _Ranker:
    """Scores candidates with a proxy and hands them out best-first (mix-in)."""

    def _check_ranker(self) -> None:
        self._options = benchlab.nn.nb201_edge_options(self.space, f"{self.name} (proxies of NAS-Bench-201 networks)")
        n = self.n_candidates
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidConfig(f"{self.name}: n_candidates must be a positive integer, got {n!r}")
        if self.cost not in ("seconds", "steps", "table"):
            raise InvalidConfig(f"{self.name}: cost must be 'seconds', 'steps' or 'table', got {self.cost!r}")
        try:
            has_torch = importlib.util.find_spec("torch") is not None
        except (ImportError, ValueError):  # a blocked or broken torch counts as missing
            has_torch = False
        if not has_torch:
            raise InvalidConfig(f"{self.name} builds torch networks: install torch (`pip install torch`)")
        if self.proxy not in benchlab.nn.PROXY_NAMES:
            raise InvalidConfig(
                f"{self.name}: unknown proxy {self.proxy!r}; choose one of {', '.join(benchlab.nn.PROXY_NAMES)}"
            )
        if self.proxy not in benchlab.nn.DATA_INDEPENDENT and not self.data:
            raise InvalidConfig(f"{self.name}: proxy {self.proxy!r} needs data: pass data='digits' or 'fashion-mnist'")

    def _rank(self) -> None:
        space, rng = self.space, self.rng
        size = int(space.size)
        n = min(self.n_candidates, size)
        seen: set = set()
        cells = []
        while len(cells) < n:
            arch = space.sample(rng)
            if arch not in seen:
                seen.add(arch)
                cells.append(arch)
        seed = int(rng.generator.integers(0, 2**31))
        t0 = time.perf_counter()
        scorer = benchlab.nn.CellScorer([self.proxy], bench_dataset=self.bench_dataset, data=self.data or None, C=self.C, N=self.N,
                            batch_size=self.batch_size, seed=seed)  # fmt: skip
        scores = [scorer.score([opts[v] for opts, v in zip(self._options, a)])[self.proxy] for a in cells]
        self._proxy_seconds = time.perf_counter() - t0
        # best first; NaN last; ties keep the sampling order (a stable sort)
        order = sorted(range(n), key=lambda i: (scores[i] != scores[i], -scores[i] if scores[i] == scores[i] else 0.0))
        self._ranked = [(cells[i], float(scores[i])) for i in order]
        self._next = 0

    def _ranked_trial(self):
        if self._ranked is None:
            self._rank()
            first = True
        else:
            first = False
        if self._next >= len(self._ranked):
            return None
        arch, score = self._ranked[self._next]
        self._next += 1
        trial = self._trial(arch, info={"proxy": self.proxy, "score": score, "rank": self._next})
        if self.cost == "table":
            return trial
        if self.cost == "seconds":
            cost = self._proxy_seconds if first else 0.0
        else:
            cost = float(len(self._ranked)) if first else 0.0
        return dataclasses.replace(trial, cost=cost)

    def stats(self) -> dict:
        secs = getattr(self, "_proxy_seconds", None)
        return {} if secs is None else {"proxy_seconds": secs, "n_scored": len(self._ranked or [])}


@register_strategy("proxy_search")
class ProxySearch(_Ranker, Strategy):
    """Best-first proposals of ``n_candidates`` random NB201 cells ranked by ``proxy``.

    Parameters
    ----------
    proxy:
        a name of ``benchlab.nn.PROXIES`` (default ``synflow``, data-independent).
    n_candidates:
        cells scored (default 1000: our choice, about a minute of synflow on one CPU core
        at C=16; Abdelfattah et al. 2021 rank thousands). ``ask`` returns None after them.
    bench_dataset:
        NB201 dataset whose network (classes, image size) data-independent proxies use.
    data, batch_size:
        live dataset and batch for data-dependent proxies (``naswot``, ``snip``, ...).
    C, N:
        network size (NB201: 16, 5).
    cost:
        ``"seconds"``, ``"steps"`` or ``"table"`` (module docstring).
    """

    description = "training-free: NB201 cells ranked by a zero-cost proxy (synflow default; Abdelfattah et al. ICLR 2021)"
    tags = frozenset({"needs_training"})
    conformance_cases: list = []  # network-specific: checked on NB201 in tests/test_proxies.py
    parameters = _PARAMS

    def __init__(self, proxy: str = "synflow", n_candidates: int = 1000, bench_dataset: str = "cifar10-valid",
                 data: str = "", batch_size: int = 64, C: int = 16, N: int = 5, cost: str = "seconds") -> None:  # fmt: skip
        self.proxy = proxy
        self.n_candidates = n_candidates
        self.bench_dataset = bench_dataset
        self.data = data
        self.batch_size = batch_size
        self.C = C
        self.N = N
        self.cost = cost

    def _setup(self) -> None:
        self._check_ranker()
        self._ranked = None
        self._proxy_seconds = None

    def ask(self):
        return self._ranked_trial()


@register_strategy("proxy_rea")
class ProxyREA(_Ranker, RegularizedEvolution):
    """Regularized evolution warm-started with the top ``population_size`` of
    ``n_candidates`` proxy-ranked cells (Abdelfattah et al. 2021, "zero-cost warmup").
    Parameters as ``proxy_search`` plus ``population_size``/``sample_size`` of
    ``regularized_evolution`` (NB201 defaults 10 and 3).
    """

    description = "regularized evolution whose initial population is the top proxy-ranked cells (zero-cost warmup)"
    tags = frozenset({"needs_training"})
    conformance_cases: list = []
    parameters = _PARAMS  # population_size and sample_size: declared by regularized_evolution

    def __init__(self, population_size: int = 10, sample_size: int = 3, proxy: str = "synflow", n_candidates: int = 1000,
                 bench_dataset: str = "cifar10-valid", data: str = "", batch_size: int = 64, C: int = 16, N: int = 5,
                 cost: str = "seconds") -> None:  # fmt: skip
        self.population_size = population_size
        self.sample_size = sample_size
        self.proxy = proxy
        self.n_candidates = n_candidates
        self.bench_dataset = bench_dataset
        self.data = data
        self.batch_size = batch_size
        self.C = C
        self.N = N
        self.cost = cost

    def _setup(self) -> None:
        super()._setup()
        self._check_ranker()
        self._ranked = None
        self._proxy_seconds = None
        self._warm_asked = 0

    def ask(self):
        if self._warm_asked < self.population_size and len(self._population) < self.population_size:
            trial = self._ranked_trial()
            if trial is not None:
                self._warm_asked += 1
                return trial
        return super().ask()
