"""AnalogNAS-Bench, the embedded default table (PyPI ``analog-nasbench``)."""

from ._bench import AnalogNAS
from ._table import METRICS, load_records, load_table, to_nb201

__all__ = ["AnalogNAS", "METRICS", "load_records", "load_table", "to_nb201"]
