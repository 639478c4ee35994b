"""``nb201-live`` and ``nb101-live``: the NAS-Bench-201 and NAS-Bench-101 spaces, trained for real.

Both implement :class:`benchlab.Benchmark` through :class:`benchlab.nn.LiveBenchmark`
(caching, seeding, costs, reports: read its module docstring). The networks come from
:mod:`benchlab.nn`, which takes cells in neutral forms: an NB201 architecture becomes its 6
op names, an NB101 architecture its adjacency matrix and op names. Swap ``nb201`` for
``nb201-live`` in a run specification and the same strategy trains its architectures.

A CPU-friendly search (seconds per query)::

    benchlab run --benchmark 'nb201-live:dataset=digits,C=4,N=1,epochs=[1,2],fidelity=2,device="cpu"' \\
        --strategies random_search regularized_evolution --seeds 2 --max-evals 4

Fashion-MNIST on a GPU with the benchmark's network (C=16, N=5) and NB201's 12-epoch
search schedule is the default configuration: ``--benchmark nb201-live``.
"""

from __future__ import annotations

from benchlab import InvalidConfig, register_benchmark
from benchlab.ext import Param
from benchlab.nn import LiveBenchmark

from ..nb101 import NB101Space, to_spec
from ..nb201 import OPS as NB201_OPS
from ..nb201 import NB201Space

__all__ = ["NB101Live", "NB201Live"]


def _positive(name: str, value, bench: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfig(f"{bench}: {name} must be an integer >= 1, got {value!r}")
    return value


@register_benchmark("nb201-live")
class NB201Live(LiveBenchmark):
    """NAS-Bench-201 cells (Dong & Yang, ICLR 2020) trained live with the NB201 recipe.

    The network is :class:`benchlab.nn.NB201Network` (stem, 3 stages of ``N`` cells at
    ``C``/2C/4C channels, residual reductions; the benchmark's C=16, N=5 by default), with
    the dataset's channels and classes. The recipe is :data:`benchlab.nn.NB201_RECIPE`
    (SGD Nesterov, lr 0.1 cosine, wd 5e-4, batch 256).

    Defaults: ``dataset="fashion-mnist"`` (installed on Debian/Ubuntu by
    ``dataset-fashion-mnist``; CIFAR-10 ``cifar10-valid`` is the paper's), ``epochs`` =
    1, 2, 4, 12, 200 with ``fidelity`` 12 (NB201's hp=12 search reward; 200 is its final
    schedule; the largest of ``epochs`` when 12 is not offered), ``report_epochs`` = the
    fidelity. On a CPU, shrink the network and the data:
    ``dataset=digits,C=4,N=1`` or ``subset=[5000,1000,1000]``. All other parameters are
    :class:`~benchlab.nn.LiveBenchmark`'s.
    """

    description = (
        "NAS-Bench-201 cells trained live (needs torch): fashion-mnist/CIFAR/ImageNet16/digits, cached, resumable"
    )
    parameters = {
        "C": Param(int, low=1, doc="channels of the first stage (NB201: 16)"),
        "N": Param(int, low=1, doc="cells per stage (NB201: 5)"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        fidelity: int | None = None,
        epochs: list | tuple = (1, 2, 4, 12, 200),
        C: int = 16,
        N: int = 5,
        recipe: str = "nb201",
        train: dict | None = None,
        device: str | None = None,
        cost: str = "seconds",
        seeds: list | None = None,
        report_epochs: int | None = None,
        report_seed: int = 0,
        subset: list | None = None,
        split: str = "nb201",
        cache_dir: str | None = None,
        data_root: str | None = None,
        optimum: float = 100.0,
        keep_checkpoints: bool = False,
        progress: bool = False,
    ) -> None:
        self.C = _positive("C", C, self.name)
        self.N = _positive("N", N, self.name)
        self._setup(dataset=dataset, split=split, fidelity=fidelity, epochs=epochs, report_epochs=report_epochs,
                    report_seed=report_seed, seeds=seeds, recipe=recipe, train=train, device=device, cost=cost,
                    subset=subset, cache_dir=cache_dir, data_root=data_root, optimum=optimum,
                    keep_checkpoints=keep_checkpoints, progress=progress)  # fmt: skip
        self.space = NB201Space()

    def network_config(self) -> dict:
        return {"network": "NB201Network", "C": self.C, "N": self.N}

    def make_model(self, arch, data, seed: int):
        from benchlab.nn import NB201Network

        ops = tuple(NB201_OPS[v] for v in arch)  # the cell as op names per edge
        return NB201Network(ops, num_classes=data.num_classes, C=self.C, N=self.N, in_channels=data.channels,
                            init_seed=seed)  # fmt: skip


@register_benchmark("nb101-live")
class NB101Live(LiveBenchmark):
    """NAS-Bench-101 cells (Ying et al., ICML 2019) trained live with the NB101 recipe.

    The network is :class:`benchlab.nn.NB101Network` (3x3 conv stem of
    ``stem_channels``, ``num_stacks`` stacks of ``modules_per_stack`` cells with 2x2 max
    pooling and channel doubling between stacks; the paper's 128/3/3 by default). The
    recipe is :data:`benchlab.nn.NB101_RECIPE` (RMSProp, lr 0.2 cosine, wd 1e-4, batch
    256); ``epochs`` are NB101's budgets 4, 12, 36, 108 with ``fidelity`` 108 (the largest
    of ``epochs`` when 108 is not offered).
    ``dataset="cifar10"`` with ``split="nb101"`` is the paper's setting; the default is
    Fashion-MNIST. All other parameters are :class:`~benchlab.nn.LiveBenchmark`'s.
    """

    default_fidelity = 108
    description = "NAS-Bench-101 cells trained live (needs torch): NB101 recipe, cached, resumable"
    parameters = {
        "stem_channels": Param(int, low=1, doc="channels of the stem and the first stack (NB101: 128)"),
        "num_stacks": Param(int, low=1, doc="stacks of cells, 2x2 max pooling between them (NB101: 3)"),
        "modules_per_stack": Param(int, low=1, doc="cells per stack (NB101: 3)"),
    }

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        fidelity: int | None = None,
        epochs: list | tuple = (4, 12, 36, 108),
        stem_channels: int = 128,
        num_stacks: int = 3,
        modules_per_stack: int = 3,
        recipe: str = "nb101",
        train: dict | None = None,
        device: str | None = None,
        cost: str = "seconds",
        seeds: list | None = None,
        report_epochs: int | None = None,
        report_seed: int = 0,
        subset: list | None = None,
        split: str = "nb201",
        cache_dir: str | None = None,
        data_root: str | None = None,
        optimum: float = 100.0,
        keep_checkpoints: bool = False,
        progress: bool = False,
    ) -> None:
        self.stem_channels = _positive("stem_channels", stem_channels, self.name)
        self.num_stacks = _positive("num_stacks", num_stacks, self.name)
        self.modules_per_stack = _positive("modules_per_stack", modules_per_stack, self.name)
        self._setup(dataset=dataset, split=split, fidelity=fidelity, epochs=epochs, report_epochs=report_epochs,
                    report_seed=report_seed, seeds=seeds, recipe=recipe, train=train, device=device, cost=cost,
                    subset=subset, cache_dir=cache_dir, data_root=data_root, optimum=optimum,
                    keep_checkpoints=keep_checkpoints, progress=progress)  # fmt: skip
        self.space = NB101Space()

    def network_config(self) -> dict:
        return {"network": "NB101Network", "stem_channels": self.stem_channels, "num_stacks": self.num_stacks,
                "modules_per_stack": self.modules_per_stack}  # fmt: skip

    def make_model(self, arch, data, seed: int):
        from benchlab.nn import NB101Network

        matrix, ops = to_spec(arch)  # adjacency + op names; the network drops vertices off every path
        return NB101Network(matrix, ops, num_classes=data.num_classes, stem_channels=self.stem_channels,
                            num_stacks=self.num_stacks, modules_per_stack=self.modules_per_stack,
                            in_channels=data.channels, init_seed=seed)  # fmt: skip
