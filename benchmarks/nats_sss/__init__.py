"""NATS-Bench size space: the search space, its table builder and the benchmark."""

from ._bench import OBJECTIVES, NATSSize
from ._build import DATASETS, build, fetch
from ._space import CHANNELS, NATSSizeSpace

__all__ = ["NATSSizeSpace", "NATSSize", "CHANNELS", "DATASETS", "OBJECTIVES", "build", "fetch"]
