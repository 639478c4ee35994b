"""Live benchmarks: train the networks for real behind the Benchmark interface (needs torch).

Importing this package registers ``nb201-live`` and ``nb101-live``; it does not import
torch (the networks and the trainer are imported when a query trains).
"""

from ._live import NB101Live, NB201Live

__all__ = ["NB101Live", "NB201Live"]
