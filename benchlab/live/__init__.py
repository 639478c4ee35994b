"""Live training: NB201/NB101 networks in torch, datasets from official files, a GPU-resident trainer.

Importing this package does not import torch; the functions that need it import it lazily.
"""

from ._benchmark import LiveBenchmark
from ._data import DATASETS, ImageData, load_dataset
from ._export import export_table
from ._flops import (  # torch-free cost arithmetic (helper C)
    count_flops,
    nb101_param_count,
    nb101_prune,
    nb101_vertex_channels,
    nb201_arch,
    nb201_flops,
    nb201_param_count,
)
from ._trainer import NB101_RECIPE, NB201_RECIPE, RECIPES, TrainConfig, TrainResult, images_per_second, train

# Torch modules, imported on first access so that `import benchlab.live` never imports torch.
_LAZY = {
    "NB201Network": "._nb201_net",
    "NB201Cell": "._nb201_net",
    "NB101Network": "._nb101_net",
    "NB101Cell": "._nb101_net",
    "make_op": "._ops",
    "ResNetBasicBlock": "._ops",
    "reset_parameters": "._ops",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__: list[str] = ["DATASETS", "ImageData", "load_dataset"]
__all__ += [  # trainer and live benchmark base (helper D)
    "LiveBenchmark",
    "export_table",
    "NB101_RECIPE",
    "NB201_RECIPE",
    "RECIPES",
    "TrainConfig",
    "TrainResult",
    "images_per_second",
    "train",
]
__all__ += [  # models and costs (helper C)
    "NB101Cell",
    "NB101Network",
    "NB201Cell",
    "NB201Network",
    "ResNetBasicBlock",
    "count_flops",
    "make_op",
    "nb101_param_count",
    "nb101_prune",
    "nb101_vertex_channels",
    "nb201_arch",
    "nb201_flops",
    "nb201_param_count",
    "reset_parameters",
]
