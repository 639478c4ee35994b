"""Built-in benchmarks. Importing this package registers them (and their table builders,
protocols and importers)."""

from . import _importers, analognas, live, macro, nats_sss, nb101, nb201, tnb101, transfer  # noqa: F401  (_importers registers)

__all__ = ["analognas", "live", "macro", "nats_sss", "nb101", "nb201", "tnb101", "transfer"]
