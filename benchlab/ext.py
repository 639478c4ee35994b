"""The public extension API: everything a plug-in needs, ours included.

A plug-in (a package of its own, or ``benchlab.strategies`` / ``benchlab.benchmarks``)
imports from here and from ``benchlab`` only, never from a private ``benchlab._*`` module;
``tests/test_layering.py`` enforces it. What it can define, and where it registers:

* a search space: subclass :class:`SearchSpace` or :class:`CategoricalSpace`;
* a strategy: subclass :class:`Strategy`, declare ``parameters`` with :class:`Param`,
  register with :func:`register_strategy` or the entry point group ``benchlab.strategies``;
* a table: pinned :class:`Source` files (sha256), a :class:`TableBuilder` that turns them
  into :class:`Column` arrays with :func:`write_table`, registered with
  :func:`register_table_builder` or the group ``benchlab.tables``;
* a benchmark: subclass :class:`Benchmark` (register with :func:`register_benchmark` or the
  group ``benchlab.benchmarks``);
* a paper protocol for ``benchlab reproduce NAME``: a :class:`Protocol`, registered with
  :func:`register_protocol` or the group ``benchlab.protocols``.
"""

from __future__ import annotations

from ._benchmark import Benchmark
from ._download import check_source_file, download, fetch_sources, sha256_file
from ._errors import BenchlabError, DataError, InvalidArchitecture, InvalidConfig, UnknownName
from ._params import Param, check_params, declared_parameters
from ._paths import data_dir
from ._protocols import Protocol, register_protocol, write_text_and_csv
from ._registry import BENCHMARKS, STRATEGIES, Registry, register_benchmark, register_strategy
from ._rng import RandomStream
from ._space import CategoricalSpace, SearchSpace
from ._store import atomic_write_bytes, atomic_write_json, read_summary, read_trials
from ._strategy import Strategy
from ._tables import Column, Source, Table, TableBuilder, open_table, register_table_builder, write_table
from ._types import Evaluation, Fidelity, Objective, Trial

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchlabError",
    "CategoricalSpace",
    "Column",
    "DataError",
    "Evaluation",
    "Fidelity",
    "InvalidArchitecture",
    "InvalidConfig",
    "Objective",
    "Param",
    "Protocol",
    "RandomStream",
    "Registry",
    "STRATEGIES",
    "SearchSpace",
    "Source",
    "Strategy",
    "Table",
    "TableBuilder",
    "Trial",
    "UnknownName",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_params",
    "check_source_file",
    "data_dir",
    "declared_parameters",
    "download",
    "fetch_sources",
    "open_table",
    "read_summary",
    "read_trials",
    "register_benchmark",
    "register_protocol",
    "register_strategy",
    "register_table_builder",
    "sha256_file",
    "write_table",
    "write_text_and_csv",
]
