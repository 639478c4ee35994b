"""NAS-Bench-Macro and Channel-Bench-Macro: search spaces, table builders and benchmarks."""

from ._bench import OBJECTIVES, SEED_MODES, ChannelBenchMacro, NASBenchMacro
from ._build import build_channel, build_macro, fetch_channel, fetch_macro
from ._space import CHANNEL_MAX, CHANNEL_MODELS, MACRO_OPS, MACRO_STAGES, ChannelSpace, MacroSpace

__all__ = [
    "MacroSpace",
    "ChannelSpace",
    "NASBenchMacro",
    "ChannelBenchMacro",
    "MACRO_OPS",
    "MACRO_STAGES",
    "CHANNEL_MAX",
    "CHANNEL_MODELS",
    "OBJECTIVES",
    "SEED_MODES",
    "build_macro",
    "build_channel",
    "fetch_macro",
    "fetch_channel",
]
