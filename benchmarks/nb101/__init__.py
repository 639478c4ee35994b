"""NAS-Bench-101 (Ying et al., ICML 2019): graph search space, TensorFlow-free importer, table and benchmark.

- :class:`NB101Space` and the graph functions (:func:`module_hash`, :func:`prune`, ...):
  the cell space with the official pruning and hash.
- :func:`import_nb101`: the official ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``
  into a benchlab table (``benchlab data import nb101 FILE [--full FILE]``), read with
  :mod:`._tfrecord` (TFRecord framing, CRC-32C) and :mod:`._proto` (``ModelMetrics``).
- ``nb101-naslib500``: a table of 292 real cells from NASLib's public file
  (``benchlab data build nb101-naslib500 --source DIR``).
- :func:`enumerate_cells`: the whole space (423,624 cells) as the official generator
  lists it; ``nb101-space``: that enumeration as a table (hash -> spec), shipped with
  benchlab (``benchlab data build nb101-space --download`` needs no file).
- ``nb101-20k``: 20,001 real cells (one run each) at 4/12/36/108 epochs from nasbench-vis,
  mapped to their specs through the enumeration; :func:`param_count` is the closed-form
  parameter count of a cell's network.
- :class:`NB101`: the ``nb101`` benchmark; ``benchlab reproduce nb101`` runs the paper's
  regret-vs-time protocol.
"""

from . import _protocol  # noqa: F401  (registers `benchlab reproduce nb101`)
from ._benchmark import NB101
from ._build import NASLIB_NAME, build_naslib500, decode_naslib_key
from ._cells import SPACE_NAME, build_space, find_cell, load_cells
from ._enumerate import brute_force_cells, enumerate_cells
from ._graph import OPS, arch_hash, from_spec, is_valid, module_hash, prune, spec_hash, to_spec
from ._import import EPOCHS, N_CELLS, decode_spec, encode_spec, import_nb101
from ._params import param_count
from ._proto import EvaluationData, ModelMetrics, decode_model_metrics, encode_model_metrics, format_row, parse_row
from ._space import NB101Space
from ._tfrecord import crc32c, iter_record_batches, iter_records, masked_crc32c, write_records
from ._vis20k import VIS20K_NAME, build_vis20k

__all__ = [
    "EPOCHS",
    "EvaluationData",
    "ModelMetrics",
    "NASLIB_NAME",
    "NB101",
    "NB101Space",
    "N_CELLS",
    "OPS",
    "SPACE_NAME",
    "VIS20K_NAME",
    "arch_hash",
    "brute_force_cells",
    "build_naslib500",
    "build_space",
    "build_vis20k",
    "crc32c",
    "decode_model_metrics",
    "decode_naslib_key",
    "decode_spec",
    "encode_model_metrics",
    "encode_spec",
    "enumerate_cells",
    "format_row",
    "from_spec",
    "import_nb101",
    "is_valid",
    "iter_record_batches",
    "iter_records",
    "find_cell",
    "load_cells",
    "masked_crc32c",
    "module_hash",
    "param_count",
    "parse_row",
    "prune",
    "spec_hash",
    "to_spec",
    "write_records",
]
