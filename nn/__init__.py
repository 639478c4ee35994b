"""benchlab's torch layer: networks, datasets, trainer, costs, supernet, one-shot engines, proxies.

Installed as ``benchlab.nn`` (the repository folder ``nn/``). It depends on the core's
public API only (:mod:`benchlab`, :mod:`benchlab.ext`), never on a search space, a
benchmark or a strategy: cells come in neutral forms (an NB201 cell as 6 op names or ids
per edge, an NB101 cell as an adjacency matrix and one op name per vertex), and the live
benchmarks (``benchlab.benchmarks.live``) and the one-shot and proxy strategies
(``benchlab.strategies.oneshot``, ``benchlab.strategies.proxy_search``) convert their
architectures into them.

What is here:

* datasets read from their official files (:func:`load_dataset`, :class:`ImageData`);
* the NB201 and NB101 networks (:class:`NB201Network`, :class:`NB101Network`), their
  operations (:func:`make_op`), closed-form parameter and FLOP counts and a FLOP counter;
* a fast, deterministic, resumable trainer (:func:`train`, :class:`TrainConfig`, the
  papers' :data:`RECIPES`);
* :class:`LiveBenchmark`, the base of benchmarks that train their architectures (caching,
  seeding, costs, reports), and :func:`export_table` (cached trainings -> a table);
* the NB201 supernet and the DARTS, GDAS, RSPS, ENAS, SNAS and latency-aware DARTS search
  engines, and per-op latency models fitted on a table's latency column;
* zero-cost proxies (:data:`PROXIES`, :class:`CellScorer`, :func:`rank_correlations`);
* the ``benchlab live`` and ``benchlab proxies`` commands (:data:`LIVE_COMMAND`,
  :data:`PROXIES_COMMAND`), registered by the plug-ins that use them.

``import benchlab.nn`` imports neither torch nor any of these modules: every name loads its
module on first access, and only the modules that build torch objects import torch.
"""

from __future__ import annotations

import importlib

#: public name -> private module that defines it
_WHERE = {
    # datasets
    "DATASETS": "_data",
    "ImageData": "_data",
    "load_dataset": "_data",
    # closed-form costs and the FLOP counter
    "NB101_OPS": "_flops",
    "NB201_EDGES": "_flops",
    "NB201_OPS": "_flops",
    "count_flops": "_flops",
    "nb101_param_count": "_flops",
    "nb101_prune": "_flops",
    "nb101_vertex_channels": "_flops",
    "nb201_arch": "_flops",
    "nb201_edge_options": "_flops",
    "nb201_flops": "_flops",
    "nb201_param_count": "_flops",
    # networks and operations (torch)
    "NB101Cell": "_nb101_net",
    "NB101Network": "_nb101_net",
    "NB201Cell": "_nb201_net",
    "NB201Network": "_nb201_net",
    "ResNetBasicBlock": "_ops",
    "make_op": "_ops",
    "reset_parameters": "_ops",
    # trainer
    "NB101_RECIPE": "_trainer",
    "NB201_RECIPE": "_trainer",
    "RECIPES": "_trainer",
    "TrainConfig": "_trainer",
    "TrainResult": "_trainer",
    "images_per_second": "_trainer",
    "resolve_device": "_trainer",
    "train": "_trainer",
    # live benchmarks and their tables
    "LiveBenchmark": "_benchmark",
    "read_records": "_benchmark",
    "cache_folders": "_export",
    "export_table": "_export",
    # weight sharing (torch)
    "NB201SuperNet": "_supernet",
    "SearchEngine": "_engine",
    "DartsSearch": "_darts",
    "GdasSearch": "_gdas",
    "RspsSearch": "_rsps",
    "EnasSearch": "_enas",
    "SnasSearch": "_snas",
    "DartsLatencySearch": "_latency",
    # per-op latency models fitted on a table's latency column
    "LatencyModel": "_latency",
    "fit_latency_model": "_latency",
    "latency_devices": "_latency",
    # zero-cost proxies
    "PROXIES": "_proxies",
    "PROXY_NAMES": "_scoring",
    "DATA_INDEPENDENT": "_scoring",
    "BENCH_IMAGE": "_scoring",
    "CellScorer": "_scoring",
    "rank_correlations": "_scoring",
    # command-line commands
    "LIVE_COMMAND": "_cli_live",
    "PROXIES_COMMAND": "_cli_proxies",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
