"""Built-in search strategies. Importing this package registers them with ``benchlab``."""

from .bananas import Bananas
from .bayesopt import GPBayesOpt
from .constrained import ConstrainedGPBayesOpt, ConstrainedRandomSearch, ConstrainedRegularizedEvolution
from .evolution import RegularizedEvolution
from .local_search import LocalSearch
from .multi_fidelity import ASHA, BOHB, Hyperband, SuccessiveHalving
from .nsga2 import NSGA2, MORandomSearch
from .oneshot import ENAS, GDAS, RSPS, SNAS, DartsLatency, DartsV1, DartsV2
from .optuna_adapter import TPE, OptunaStrategy
from .proxy_search import ProxyREA, ProxySearch
from .random_search import RandomSearch
from .reinforce import Reinforce
from .reinforce_lstm import ReinforceLSTM
from .smac import SMACRandomForest
from .transfer import RGPE, WarmStartLocalSearch, WarmStartREA, ZeroShotRanking

__all__ = [
    "ASHA",
    "BOHB",
    "Bananas",
    "ConstrainedGPBayesOpt",
    "ConstrainedRandomSearch",
    "ConstrainedRegularizedEvolution",
    "DartsLatency",
    "DartsV1",
    "DartsV2",
    "ENAS",
    "GDAS",
    "GPBayesOpt",
    "Hyperband",
    "LocalSearch",
    "MORandomSearch",
    "NSGA2",
    "OptunaStrategy",
    "ProxyREA",
    "ProxySearch",
    "Reinforce",
    "ReinforceLSTM",
    "RandomSearch",
    "RGPE",
    "RSPS",
    "SNAS",
    "RegularizedEvolution",
    "SMACRandomForest",
    "SuccessiveHalving",
    "TPE",
    "WarmStartLocalSearch",
    "WarmStartREA",
    "ZeroShotRanking",
]
