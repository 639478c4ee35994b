"""TransNAS-Bench-101 (Duan et al., CVPR 2021): the micro and macro spaces, their tables and the
cross-task correlation protocol."""

from ._bench import OBJECTIVES, TNB101Macro, TNB101Micro
from ._build import MACRO_NAME, MICRO_NAME, build_macro, build_micro
from ._correlation import correlation, task_correlations
from ._sources import SOURCES, TASKS
from ._space import MACRO_MODULES, MICRO_EDGES, MICRO_OPS, TNB101MacroSpace, TNB101MicroSpace

__all__ = [
    "TNB101Micro",
    "TNB101Macro",
    "OBJECTIVES",
    "TNB101MicroSpace",
    "TNB101MacroSpace",
    "MICRO_OPS",
    "MICRO_EDGES",
    "MACRO_MODULES",
    "TASKS",
    "SOURCES",
    "MICRO_NAME",
    "MACRO_NAME",
    "build_micro",
    "build_macro",
    "correlation",
    "task_correlations",
]
