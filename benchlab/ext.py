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
  group ``benchlab.benchmarks``); a table benchmark is a :class:`TabularBenchmark` subclass
  whose :class:`TableRecipe` maps :class:`Metric` names to table columns;
* a reader of third-party pickles: :func:`restricted_load` with the globals it may resolve;
* a transfer strategy: declare ``source``/``transfer_from`` parameters and read them with
  :func:`load_transfer_prior` (a :class:`TransferPrior` of strategy-visible values of other
  tasks or earlier runs, with the identity to record in ``stats()``);
* a paper protocol for ``benchlab reproduce NAME``: a :class:`Protocol`, registered with
  :func:`register_protocol` or the group ``benchlab.protocols``;
* an importer of official files for ``benchlab data import NAME PATH``: an :class:`Importer`,
  registered with :func:`register_importer` or the group ``benchlab.importers``;
* a command-line command ``benchlab NAME``: a :class:`Command`, registered with
  :func:`register_command` or the group ``benchlab.commands``.

Every kind lives in one :class:`Registry` (``STRATEGIES``, ``BENCHMARKS``, ``TABLES``,
``PROTOCOLS``, ``IMPORTERS``, ``COMMANDS``) with the same rule: a name registered twice by different
objects is an error naming both. An entry point may name the object itself or a module
whose import registers it.
"""

from __future__ import annotations

from ._benchmark import Benchmark
from ._commands import Command, Importer, register_command, register_importer
from ._constraints import Constraint, ConstraintSet, parse_constraint
from ._download import BASE_ENV, DEFAULT_BASE, check_source_file, download, download_base, fetch_sources, sha256_file, source_url
from ._errors import BenchlabError, DataError, InvalidArchitecture, InvalidConfig, UnknownName
from ._params import Param, check_params, declared_parameters
from ._paths import data_dir
from ._protocols import Protocol, register_protocol, write_text_and_csv
from ._registry import BENCHMARKS, COMMANDS, IMPORTERS, PROTOCOLS, STRATEGIES, TABLES, Registry, register_benchmark, register_strategy
from ._rng import RandomStream
from ._space import CategoricalSpace, SearchSpace
from ._store import atomic_write_bytes, atomic_write_json, read_summary, read_trials
from ._strategy import Strategy
from ._tables import Column, Source, Table, TableBuilder, open_table, register_table_builder, write_table
from ._tables import read_checked_file, write_checked_file
from ._types import Evaluation, Fidelity, Objective, Trial
from ._tabular import ArrayTable, Metric, TableRecipe, TabularBenchmark
from ._transfer import TransferPrior, TransferSource, folder_fingerprint, load_transfer_prior, resolve_source
from ._unpickle import restricted_load

__all__ = [
    "BASE_ENV",
    "DEFAULT_BASE",
    "download_base",
    "source_url",
    "ArrayTable",
    "Metric",
    "TableRecipe",
    "TransferPrior",
    "TransferSource",
    "folder_fingerprint",
    "load_transfer_prior",
    "resolve_source",
    "TabularBenchmark",
    "BENCHMARKS",
    "Benchmark",
    "BenchlabError",
    "COMMANDS",
    "CategoricalSpace",
    "Command",
    "Column",
    "Constraint",
    "ConstraintSet",
    "DataError",
    "Evaluation",
    "Fidelity",
    "IMPORTERS",
    "Importer",
    "InvalidArchitecture",
    "InvalidConfig",
    "Objective",
    "PROTOCOLS",
    "Param",
    "Protocol",
    "RandomStream",
    "Registry",
    "STRATEGIES",
    "SearchSpace",
    "Source",
    "Strategy",
    "TABLES",
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
    "parse_constraint",
    "read_summary",
    "read_checked_file",
    "read_trials",
    "register_benchmark",
    "register_command",
    "register_importer",
    "register_protocol",
    "register_strategy",
    "register_table_builder",
    "restricted_load",
    "sha256_file",
    "write_checked_file",
    "write_table",
    "write_text_and_csv",
]
