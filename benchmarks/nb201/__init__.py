"""NAS-Bench-201 search space (the tables that use it live beside it)."""

from ._space import EDGES, OPS, NB201Space

__all__ = ["NB201Space", "OPS", "EDGES"]
