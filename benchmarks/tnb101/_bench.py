"""The ``tnb101-micro`` and ``tnb101-macro`` benchmarks: recipes on the generic table benchmark."""

from __future__ import annotations

from benchlab import register_benchmark
from benchlab.ext import InvalidConfig, Metric, Param, TableRecipe, TabularBenchmark

from ._build import MACRO_NAME, MICRO_NAME
from ._sources import TASKS
from ._space import TNB101MacroSpace, TNB101MicroSpace

__all__ = ["TNB101Micro", "TNB101Macro", "OBJECTIVES"]

#: Objective names a run may pick: each task offers its own validation metric and ``zen``.
OBJECTIVES = {
    "valid_top1": Metric("{dataset}/valid_top1", "max", "%", "{dataset}: top-1 validation accuracy, best epoch"),
    "valid_neg_loss": Metric("{dataset}/valid_neg_loss", "max", "",
                             "{dataset}: NEGATED validation L2 loss (stored negated by TransNAS-Bench-101: maximise it "
                             "to minimise the loss), best epoch"),
    "valid_acc": Metric("{dataset}/valid_acc", "max", "%", "{dataset}: validation pixel accuracy, best epoch"),
    "valid_ssim": Metric("{dataset}/valid_ssim", "max", "", "{dataset}: validation SSIM, best epoch"),
    "zen": Metric("{dataset}/zen", "max", "", "{dataset}: Zen-NAS zero-cost score at initialisation (NASLib; "
                  "-1e8 where it failed)"),
}  # fmt: skip

_VISIBLE = ("validation (TransNAS-Bench-101 as exported by NASLib has no test split: strategies and the report both "
            "use the best-epoch validation metric)")  # fmt: skip
_TASK_DOC = "one of " + ", ".join(TASKS)
PARAMETERS = {
    "task": Param(str, choices=tuple(TASKS), doc="the Taskonomy task whose results are queried"),
    "objective": Param(object, none=True, doc="the task's validation metric (default), 'zen', or a list of them "
                       "(first primary), e.g. ['valid_top1', 'zen']"),
}  # fmt: skip


class _TNB101(TabularBenchmark):
    visible_split = _VISIBLE
    report_split = "validation"  # the same split: there is no other
    conformance_cases = [{}, {"task": "room_layout"}, {"task": "autoencoder", "objective": ["valid_ssim", "zen"]}]
    parameters = PARAMETERS

    def __init__(self, task: str = "class_scene", objective: str | list | None = None) -> None:
        self.task = task
        if task not in TASKS:
            raise InvalidConfig(f"{self.name} has no task {task!r}; choose {_TASK_DOC}")
        metric = TASKS[task][0]
        names = [metric] if objective is None else [objective] if isinstance(objective, str) else objective
        if not isinstance(names, (list, tuple)) or not names:
            raise InvalidConfig(f"{self.name}: objective must be a metric name or a non-empty list, got {objective!r}")
        for n in names:
            if n not in (metric, "zen"):
                raise InvalidConfig(f"{self.name} task {task} has no objective {n!r}; choose {metric!r} (the task's "
                                    "validation metric) or 'zen' (the Zen-NAS score)")  # fmt: skip
        super().__init__(dataset=task, objective=list(names))
        self.objective = objective

    def describe(self) -> dict:
        d = super().describe()
        d["task"] = self.task
        return d


@register_benchmark(MICRO_NAME)
class TNB101Micro(_TNB101):
    """TransNAS-Bench-101 micro (Duan et al., CVPR 2021): 4,096 cells, 7 Taskonomy tasks.

    Parameters
    ----------
    task:
        ``class_scene`` (default), ``class_object``, ``jigsaw`` (top-1 accuracy, %),
        ``room_layout`` (the L2 loss stored NEGATED, so maximised like the others),
        ``segmentsemantic`` (pixel accuracy, %), ``normal`` or ``autoencoder`` (SSIM).
    objective:
        None (default): the task's validation metric (``valid_top1``, ``valid_neg_loss``,
        ``valid_acc`` or ``valid_ssim``), maximised. ``"zen"``: the Zen-NAS zero-cost score
        (Lin et al., ICCV 2021) NASLib computed for the task's network, maximised. A list, e.g.
        ``["valid_top1", "zen"]``, makes a multi-objective benchmark.

    The data are NASLib's export of TransNAS-Bench-101: each task's validation metric at the
    best epoch and the Zen-NAS score. There is no test split: strategies and the report both
    see the validation metric (``visible_split`` and ``report_split`` say so), and ``report``
    adds the Zen-NAS score. No training times: every query costs one unit
    (``cost_unit = "evaluation"``). Build the table with
    ``benchlab data build tnb101-micro --source DIR``.
    """

    description = ("TransNAS-Bench-101 micro (NASLib export): 4,096 cells x 7 tasks; strategies and report see the "
                   "best-epoch validation metric (no test split), Zen-NAS score extra; cost 1/eval")  # fmt: skip
    recipe = TableRecipe(table=MICRO_NAME, space=TNB101MicroSpace, metrics=OBJECTIVES,
                         report={n: m.column for n, m in OBJECTIVES.items()}, datasets=tuple(TASKS),
                         describe=("dataset", "table", "cost"))  # fmt: skip


@register_benchmark(MACRO_NAME)
class TNB101Macro(_TNB101):
    """TransNAS-Bench-101 macro (Duan et al., CVPR 2021): 3,256 skeletons, 7 Taskonomy tasks.

    Parameters
    ----------
    task:
        ``class_scene`` (default), ``class_object``, ``jigsaw`` (top-1 accuracy, %),
        ``room_layout`` (the L2 loss stored NEGATED, so maximised like the others),
        ``segmentsemantic`` (pixel accuracy, %), ``normal`` or ``autoencoder`` (SSIM).
    objective:
        None (default): the task's validation metric, maximised; ``"zen"``: the Zen-NAS
        score, maximised; or a list of both (multi-objective).

    Same data and conventions as ``tnb101-micro``: best-epoch validation metrics only (no
    test split, the report uses them too), the Zen-NAS score as an extra column, one unit per
    query. The space is not a product of choices: its categorical view has 6 module
    decisions (modules 5 and 6 may be "none") and decision-by-decision strategies redraw the
    tuples that are not skeletons. Build the table with ``benchlab data build tnb101-macro --source DIR``.
    """

    description = ("TransNAS-Bench-101 macro (NASLib export): 3,256 skeletons x 7 tasks; strategies and report see the "
                   "best-epoch validation metric (no test split), Zen-NAS score extra; cost 1/eval")  # fmt: skip
    recipe = TableRecipe(table=MACRO_NAME, space=TNB101MacroSpace, metrics=OBJECTIVES,
                         report={n: m.column for n, m in OBJECTIVES.items()}, datasets=tuple(TASKS),
                         describe=("dataset", "table", "cost"))  # fmt: skip
