"""benchlab: fast, reproducible Neural Architecture Search research.

Search strategies (``strategies``) run against benchmarks (``benchmarks``) through one
ask/tell interface; the harness repeats seeds on a simulated clock, stores every
trajectory and turns them into regret curves and tables.
"""

from ._benchmark import Benchmark
from ._errors import BenchlabError, DataError, InvalidArchitecture, InvalidConfig, ResultsConflict, UnknownName
from ._paths import data_dir
from ._registry import BENCHMARKS, STRATEGIES, Registry, register_benchmark, register_strategy
from ._rng import RandomStream, run_seed_sequence, stable_hash
from ._space import CategoricalSpace, SearchSpace
from ._strategy import Strategy
from ._types import Evaluation, Fidelity, Objective, Trial

# Imported on first use (PEP 562), so that ``import benchlab`` and the registries stay light:
# plug-ins and ``benchlab list`` need none of these.
_LAZY = {
    "load_experiment_file": "._config",
    "Experiment": "._experiment",
    "StrategyConfig": "._experiment",
    "run_experiment": "._experiment",
    "RunResult": "._runner",
    "make_benchmark": "._runner",
    "make_strategy": "._runner",
    "run": "._runner",
    "RunSpec": "._spec",
    "read_summary": "._store",
    "read_trials": "._store",
    "write_run": "._store",
    "Column": "._tables",
    "Table": "._tables",
    "list_tables": "._tables",
    "open_table": "._tables",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'benchlab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchlabError",
    "CategoricalSpace",
    "Column",
    "DataError",
    "Evaluation",
    "Experiment",
    "Fidelity",
    "InvalidArchitecture",
    "InvalidConfig",
    "Objective",
    "RandomStream",
    "Registry",
    "ResultsConflict",
    "RunResult",
    "RunSpec",
    "STRATEGIES",
    "SearchSpace",
    "Strategy",
    "StrategyConfig",
    "Table",
    "Trial",
    "UnknownName",
    "data_dir",
    "list_tables",
    "load_experiment_file",
    "make_benchmark",
    "make_strategy",
    "open_table",
    "read_summary",
    "read_trials",
    "register_benchmark",
    "register_strategy",
    "run",
    "run_experiment",
    "run_seed_sequence",
    "stable_hash",
    "write_run",
]
