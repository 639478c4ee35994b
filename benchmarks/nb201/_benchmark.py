"""The ``nb201`` benchmark: NAS-Bench-201 tables with validation and test kept apart (a recipe)."""

from __future__ import annotations

from benchlab import register_benchmark
from benchlab.ext import Metric, Param, TableRecipe, TabularBenchmark

from ._build import DATASETS
from ._space import NB201Space

__all__ = ["NB201"]

_SEARCH_DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")
_T = "{dataset}/train_time_epoch"


@register_benchmark("nb201")
class NB201(TabularBenchmark):
    """NAS-Bench-201 (Dong & Yang, ICLR 2020) from benchlab's table store.

    The strategy sees the validation accuracy of ``dataset`` (cifar10-valid: trained on the
    25k train split, validated on the 25k valid split; cifar100 and ImageNet16-120: x-valid;
    plain cifar10 has no validation split) after ``fidelity`` epochs: 200 or 12 (the hp=12
    schedule, the paper's search reward), any of 1..200 when the table holds learning curves.
    ``seed_mode``: the mean over training seeds, or ``"one"`` seed drawn with the run's
    generator (per-seed columns: imported official files). ``cost="time"``: simulated seconds
    = fidelity x training time per epoch + one validation pass (the protocol's
    ``train-all-time + valid-per-time``), from that schedule's own runs where the table has
    them, else the 200-epoch runs' (the public files time cifar10-valid only);
    ``"evaluation"``: one unit per query; ``"auto"``: time where times exist.
    ``report_metric`` (regret) defaults to the dataset's 200-epoch test accuracy (for
    cifar10-valid ``cifar10/test_acc@200``, the paper's "CIFAR-10 test" column, trained on
    train+valid). ``extra_objectives`` are minimised after the accuracy: ``"params"``,
    ``"latency/<device>"`` (ms; ``benchlab data info nb201`` lists the 28 devices) or any
    column. ``report(arch)``: every dataset's 200-epoch valid and test accuracy and params.
    ``constraints`` (hardware-aware NAS): a list of ``"metric<=value"`` / ``"metric>=value"``
    over the model properties ``latency/<device>`` (ms, HW-NAS-Bench, Li et al. ICLR 2021:
    the 27 device columns of the table) and ``params`` (the dataset's parameter count);
    e.g. ``constraints=["latency/pixel3<=12"]``. Evaluations then carry those values and
    ``feasible``; regret is against the best test accuracy among feasible cells.
    Provenance: the public files pinned in ``_sources.py`` (``benchlab data build nb201``) or
    the official ``.pth``/NATS archives (``benchlab data import``, table ``nb201-official``).
    """

    description = "NAS-Bench-201 (needs `benchlab data build nb201`): 15,625 cells, valid/test kept apart, 12/200 epochs"
    visible_split = "valid"
    parameters = {
        "dataset": Param(str, doc="cifar10-valid, cifar100 or ImageNet16-120 (plain cifar10 has no validation split)"),
        "fidelity": Param(int, low=1, high=200, doc="training epochs of the visible accuracy (12 or 200; 1..200 with curves)"),
        "seed_mode": Param(str, choices=("mean", "one"), doc="'mean' over training seeds or 'one' seed drawn per query"),
        "cost": Param(str, choices=("auto", "time", "evaluation"), doc="simulated seconds ('time') or one unit per query"),
        "report_metric": Param(str, none=True, doc="report column regret uses (default: the dataset's 200-epoch test acc)"),
        "table": Param(str, doc="table name in the store (nb201, or nb201-official after an import)"),
        "extra_objectives": Param(list, none=True, doc="further columns to minimise: 'params', 'latency/<device>', ..."),
        "constraints": Param(list, none=True, doc="bounds on model properties, e.g. [\"latency/pixel3<=12\"] or "
                                                  "[\"params<=8e5\"]"),
    }
    recipe = TableRecipe(
        table="nb201", space=NB201Space, datasets=_SEARCH_DATASETS, epochs=(12, 200), multi_fidelity=True,
        dataset_hints={"cifar10": " (it has no validation split in NAS-Bench-201; search on cifar10-valid)"},
        metrics={"valid_acc": Metric(
            "{dataset}/valid_acc@{epochs}", "max", "%", "{dataset} validation accuracy after `fidelity` epochs ({seed_mode} of seeds)",
            curve="{dataset}/valid_acc_curve@200", seeds="{dataset}/valid_acc_seeds@{epochs}")},
        report={c: c for ds in DATASETS for c in (f"{ds}/valid_acc@200", f"{ds}/test_acc@200", f"{ds}/params")},
        optimum_any_column=True,
        train_time=(_T + "@{epochs}", _T + "@200", _T),
        eval_time=("{dataset}/valid_time@{epochs}", "{dataset}/valid_time@200", "{dataset}/valid_time"),
        time_hint=" (the public files time cifar10-valid only; or import the official files)",
        seeds_hint=" (the public files hold seed means only); import the official file with `benchlab data import "
                   "nb201 NAS-Bench-201-v1_1-096897.pth` and pass table='nb201-official'",
        extra_hint="'params', 'latency/<device>' or ", describe=("dataset", "seed_mode", "table", "cost"),
        constraints={"latency/*": "latency/*", "params": "{dataset}/params"},
    )  # fmt: skip

    def __init__(self, dataset: str = "cifar10-valid", fidelity: int = 200, seed_mode: str = "mean", cost: str = "auto",
                 report_metric: str | None = None, table: str = "nb201", extra_objectives: list | None = None,
                 constraints: list | None = None) -> None:  # fmt: skip
        test = f"{'cifar10' if dataset == 'cifar10-valid' else dataset}/test_acc@200"  # cifar10: trained on train+valid
        super().__init__(dataset=dataset, fidelity=fidelity, seed_mode=seed_mode, cost=cost, table=table,
                         report_metric=report_metric or test, extra_objectives=extra_objectives,
                         constraints=constraints)  # fmt: skip
