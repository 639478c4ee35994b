"""Built-in search strategies. Importing this package registers them with ``benchlab``."""

from .evolution import RegularizedEvolution
from .random_search import RandomSearch

__all__ = ["RandomSearch", "RegularizedEvolution"]
