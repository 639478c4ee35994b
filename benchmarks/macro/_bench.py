"""NAS-Bench-Macro and Channel-Bench-Macro: recipes over benchlab's tables."""

from __future__ import annotations

from benchlab import InvalidConfig, register_benchmark
from benchlab.ext import Metric, Param, TableRecipe, TabularBenchmark

from ._build import CHANNEL_EPOCHS, CHANNEL_NAME, MACRO_EPOCHS, MACRO_NAME
from ._space import CHANNEL_MODELS, ChannelSpace, MacroSpace

__all__ = ["NASBenchMacro", "ChannelBenchMacro", "OBJECTIVES", "SEED_MODES"]

#: Objectives a run may optimise: name -> (direction, unit, description).
OBJECTIVES = {
    "test_acc": ("max", "%", "CIFAR-10 test accuracy, best epoch of a training run (seed mean or one run, see seed_mode)"),
    "params": ("min", "", "parameter count"),
    "flops": ("min", "", "multiply-accumulates at 32x32 input"),
}
SEED_MODES = ("mean", "one")
_PARAMS = {
    "objective": Param(object, doc="'test_acc' (max), 'params' or 'flops' (min), or a list of them (first primary)"),
    "seed_mode": Param(str, choices=SEED_MODES, doc="'mean' of the 3 runs, or 'one' run drawn with the run's rng"),
    "constraints": Param(list, none=True, doc="bounds on model properties 'params' / 'flops', e.g. [\"flops<=5e7\"]"),
}


def _recipe(table: str, prefix: str, epochs: int, space) -> TableRecipe:
    """Both tables: per-seed best-epoch CIFAR-10 test accuracies, their mean and std, params, FLOPs
    (params and FLOPs are also constraint metrics: ``constraints=["flops<=5e7"]``)."""
    col = {"test_acc": f"{prefix}test_acc_best@{epochs}", "test_acc_std": f"{prefix}test_acc_best_std@{epochs}",
           "params": f"{prefix}params", "flops": f"{prefix}flops"}  # fmt: skip
    seeds = {"test_acc": f"{prefix}test_acc_best_per_seed@{epochs}"}
    metrics = {n: Metric(col[n], *OBJECTIVES[n], seeds=seeds.get(n, "")) for n in OBJECTIVES}
    return TableRecipe(table=table, space=space, metrics=metrics, report=col, uncertain=("test_acc_std",),
                       epochs=(epochs,), seed_draw="uniform",
                       constraints={"params": f"{prefix}params", "flops": f"{prefix}flops"})  # fmt: skip


@register_benchmark("nas-bench-macro")
class NASBenchMacro(TabularBenchmark):
    """NAS-Bench-Macro (Su et al., CVPR 2021): 6,561 macro architectures on CIFAR-10.

    Parameters
    ----------
    objective:
        ``"test_acc"`` (default, maximised), ``"params"`` or ``"flops"`` (minimised); a
        list makes a multi-objective benchmark with the first one primary.
    seed_mode:
        ``"mean"`` (default): a query sees the mean of the 3 training runs. ``"one"``: it sees
        one run drawn with the ``rng`` passed to ``evaluate`` (the run's generator), and
        ``Evaluation.seed`` is that run's index (0, 1, 2).

    The table has CIFAR-10 test accuracies only, each the best epoch of a 50-epoch run
    (selected on the test set by the authors' script), and no validation split: strategies
    see the test accuracy the report uses (``visible_split`` says so). It has no training
    times: every query costs one unit (``cost_unit = "evaluation"``). ``report`` gives the
    seed-mean ``test_acc`` and ``test_acc_std`` (%), ``params`` and ``flops`` whatever the
    seed_mode. Build the table first with ``benchlab data build nas-bench-macro --source DIR``
    (the authors' JSON file, pinned in ``_sources.py``).
    """

    description = "NAS-Bench-Macro (public file): 6,561 macro archs, CIFAR-10 best-epoch test acc (3 runs), params, FLOPs; cost 1/eval"
    visible_split = ("test (NAS-Bench-Macro publishes CIFAR-10 test accuracies only, each the best epoch of a run: "
                     "strategies see the test accuracy)")  # fmt: skip
    cost_unit = "evaluation"
    conformance_cases = [{}, {"seed_mode": "one"}, {"objective": ["test_acc", "flops"], "seed_mode": "one"}]
    parameters = _PARAMS
    recipe = _recipe(MACRO_NAME, "cifar10/", MACRO_EPOCHS, MacroSpace)

    def __init__(self, objective: str | list = "test_acc", seed_mode: str = "mean", constraints: list | None = None) -> None:
        super().__init__(objective=objective, seed_mode=seed_mode, cost="evaluation", constraints=constraints)


@register_benchmark("channel-bench-macro")
class ChannelBenchMacro(TabularBenchmark):
    """Channel-Bench-Macro (Su et al., 2021): 16,384 width configurations of a MobileNet or a ResNet.

    Parameters
    ----------
    model:
        ``"mobilenet"`` (default) or ``"resnet"``: the network whose 7 widths are searched.
    objective:
        ``"test_acc"`` (default, maximised), ``"params"`` or ``"flops"`` (minimised); a list
        makes a multi-objective benchmark with the first one primary.
    seed_mode:
        ``"mean"`` (default) or ``"one"``: one of the 3 training runs, drawn with the ``rng``
        passed to ``evaluate``; ``Evaluation.seed`` is the run's index (0, 1, 2).

    CIFAR-10 test accuracies only (best epoch of 60-epoch runs, selected on the test set),
    no validation split, no training times: strategies see the test accuracy and every query
    costs one unit. ``report`` gives the seed-mean ``test_acc`` and ``test_acc_std`` (the
    file's sample std), ``params`` and ``flops``. Build the table first with
    ``benchlab data build channel-bench-macro --source DIR`` (the authors' two JSON files).
    """

    description = "Channel-Bench-Macro (public files): 16,384 widths of a MobileNet/ResNet, CIFAR-10 best-epoch test acc (3 runs); cost 1/eval"
    visible_split = ("test (Channel-Bench-Macro publishes CIFAR-10 test accuracies only, each the best epoch of a run: "
                     "strategies see the test accuracy)")  # fmt: skip
    cost_unit = "evaluation"
    conformance_cases = [{}, {"model": "resnet", "seed_mode": "one"}, {"objective": ["test_acc", "params"]}]
    parameters = {"model": Param(str, choices=CHANNEL_MODELS, doc="network whose 7 widths are searched"), **_PARAMS}
    recipe = _recipe(CHANNEL_NAME, "{model}/", CHANNEL_EPOCHS, ChannelSpace)

    def __init__(self, model: str = "mobilenet", objective: str | list = "test_acc", seed_mode: str = "mean",
                 constraints: list | None = None) -> None:  # fmt: skip
        self.model = model
        if model not in CHANNEL_MODELS:
            raise InvalidConfig(f"channel-bench-macro has no model {model!r}; choose from {', '.join(CHANNEL_MODELS)}")
        super().__init__(objective=objective, seed_mode=seed_mode, cost="evaluation", space=ChannelSpace(model),
                         fields={"model": model}, constraints=constraints)  # fmt: skip
