"""Built-in benchmarks. Importing this package registers them with ``benchlab``."""

from . import analognas, nb201

__all__ = ["analognas", "nb201"]
