"""Built-in benchmarks. Importing this package registers them (and their table builders)."""

from . import analognas, macro, nats_sss, nb201

__all__ = ["analognas", "macro", "nats_sss", "nb201"]
