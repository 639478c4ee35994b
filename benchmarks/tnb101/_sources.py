"""Public sources of the TransNAS-Bench-101 tables, and what each task's metric is.

Both files are NASLib's zero-cost benchmark exports (automl/NASLib, branch ``experiments``,
Apache-2.0), byte-identical to the originals: ``--download`` fetches them from the pinned
commit and checks the sha256. See :class:`benchlab.ext.Source` for the fields.
"""

from __future__ import annotations

from benchlab.ext import Source

__all__ = ["SOURCES", "TASKS", "NASLIB_COMMIT"]

NASLIB_COMMIT = "ba4ffd845db508e475085f48f3bd3f40af05b551"

SOURCES = {
    "micro": Source("micro", "tnb101/naslib_tnb101_micro_zen.zip", "automl/NASLib", NASLIB_COMMIT,
                    "naslib/data/zc_benchmarks/all_benchmarks_zen.zip",
                    "d70d3ddcda2264806a467d3fb3840e8ce04c5b0129776110a62018ea68e6d7f2", "Apache-2.0"),
    "macro": Source("macro", "tnb101/naslib_tnb101_macro_zen.zip", "automl/NASLib", NASLIB_COMMIT,
                    "run/results/benchmarks/tnb101_macro_zen.zip",
                    "c34526c4f37f06205e61efeeb80bce5340dbce555ad558a10d6a897258d0de7b", "Apache-2.0"),
}  # fmt: skip

#: task -> (official TransNAS-Bench-101 validation metric, unit, what it is). Every metric is
#: maximised; NASLib's ``val_accuracy`` is that metric (its ``Metric.VAL_ACCURACY`` mapping) at
#: the best epoch (``get_single_metric(..., mode="best")``, the maximum over the epochs).
TASKS = {
    "class_scene": ("valid_top1", "%", "scene classification (Taskonomy), top-1 validation accuracy"),
    "class_object": ("valid_top1", "%", "object classification (Taskonomy), top-1 validation accuracy"),
    "jigsaw": ("valid_top1", "%", "jigsaw puzzle (permutation classification), top-1 validation accuracy"),
    "room_layout": ("valid_neg_loss", "", "room layout regression: the NEGATED validation L2 loss as "
                    "TransNAS-Bench-101 stores it (higher is better; the loss is minus this value)"),
    "segmentsemantic": ("valid_acc", "%", "semantic segmentation, validation pixel accuracy (NASLib's "
                        "val_accuracy for this task, not mIoU)"),
    "normal": ("valid_ssim", "", "surface normal estimation, validation SSIM"),
    "autoencoder": ("valid_ssim", "", "autoencoding (image reconstruction), validation SSIM"),
}  # fmt: skip
