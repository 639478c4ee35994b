"""Weight-sharing NAS on the NB201 supernet (DARTS, GDAS, RSPS, ENAS) and zero-cost proxies.

Everything here needs torch, which is imported only when a name is first used (``import
benchlab.oneshot`` alone does not import it). The strategies that drive these engines are
registered by :mod:`benchlab.strategies.oneshot` (``darts_v1``, ``darts_v2``, ``gdas``, ``rsps``,
``enas``) and :mod:`benchlab.strategies.proxy_search` (``proxy_search``, ``proxy_rea``);
``benchlab proxies`` correlates the proxies with a table.
"""

from __future__ import annotations

import importlib

__all__ = [
    "NB201SuperNet",
    "SearchEngine",
    "DartsSearch",
    "GdasSearch",
    "RspsSearch",
    "EnasSearch",
    "PROXIES",
    "DATA_INDEPENDENT",
    "CellScorer",
    "rank_correlations",
]

_WHERE = {
    "NB201SuperNet": "_supernet",
    "SearchEngine": "_engine",
    "DartsSearch": "_darts",
    "GdasSearch": "_gdas",
    "RspsSearch": "_rsps",
    "EnasSearch": "_enas",
    "PROXIES": "_proxies",
    "DATA_INDEPENDENT": "_proxies",
    "CellScorer": "_scoring",
    "rank_correlations": "_scoring",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'benchlab.oneshot' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
