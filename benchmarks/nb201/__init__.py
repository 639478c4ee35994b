"""NAS-Bench-201: the cell search space, its table builder and the benchmark."""

from ._build import DATASETS, build
from ._space import EDGES, OPS, NB201Space

__all__ = ["NB201Space", "OPS", "EDGES", "DATASETS", "build"]
