"""benchlab: fast, reproducible Neural Architecture Search research.

Search strategies (``strategies``) run against benchmarks (``benchmarks``) through one
ask/tell interface; the harness repeats seeds on a simulated clock, stores every
trajectory and turns them into regret curves and tables.
"""

from ._benchmark import Benchmark
from ._config import load_experiment_file
from ._errors import BenchlabError, DataError, InvalidArchitecture, InvalidConfig, ResultsConflict, UnknownName
from ._experiment import Experiment, StrategyConfig, run_experiment
from ._paths import data_dir
from ._registry import BENCHMARKS, STRATEGIES, Registry, register_benchmark, register_strategy
from ._rng import RandomStream, run_seed_sequence, stable_hash
from ._runner import RunResult, make_benchmark, make_strategy, run
from ._space import CategoricalSpace, SearchSpace
from ._spec import RunSpec
from ._store import read_summary, read_trials, write_run
from ._strategy import Strategy
from ._tables import Column, Table, list_tables, open_table
from ._types import Evaluation, Fidelity, Objective, Trial

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
