"""Built-in benchmarks. Importing this package registers them (and their table builders)."""

from . import analognas, live, macro, nats_sss, nb101, nb201

__all__ = ["analognas", "live", "macro", "nats_sss", "nb101", "nb201"]
