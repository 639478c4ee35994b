"""NAS-Bench-201: the cell search space, its table builder and the benchmark."""

from ._benchmark import NB201
from ._build import DATASETS, build
from ._import import import_nats, import_nb201_pth
from ._space import EDGES, OPS, NB201Space
from . import _h2h, _hw, _table5  # noqa: F401  (register `benchlab reproduce nb201-table5 | nb201-h2h | hw-constrained`)

__all__ = ["NB201", "NB201Space", "OPS", "EDGES", "DATASETS", "build", "import_nb201_pth", "import_nats"]
