"""AnalogNAS-Bench, the embedded default table (PyPI ``analog-nasbench``)."""

from ._table import METRICS, AnalogNAS, load_table, to_nb201

__all__ = ["AnalogNAS", "METRICS", "load_table", "to_nb201"]
