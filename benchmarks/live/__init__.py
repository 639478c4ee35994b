"""Live benchmarks: train the networks for real behind the Benchmark interface (needs torch).

Importing this package registers ``nb201-live`` and ``nb101-live`` and the ``benchlab live``
command (export cached trainings as a table); it does not import torch (the networks and
the trainer of :mod:`benchlab.nn` are imported when a query trains).
"""

import benchlab.nn
from benchlab.ext import register_command

from ._live import NB101Live, NB201Live

register_command(benchlab.nn.LIVE_COMMAND)

__all__ = ["NB101Live", "NB201Live"]
