"""``benchlab reproduce tnb101-correlation``: how architecture rankings agree across tasks.

For each TransNAS-Bench-101 space (micro: 4,096 cells; macro: 3,256 skeletons), the 7x7
Spearman rank correlation between the tasks' validation metrics over all architectures
of the space (best-epoch values as NASLib exports them; room layout as the negated loss,
so that for every task higher is better and a positive correlation means the tasks agree
on which architectures are good). As a side table, the Spearman correlation between the
Zen-NAS score and each task's metric. Written as ``tnb101-correlation.md`` (tables),
``tnb101-correlation.csv`` (one row per space and task pair) and ``tnb101-correlation.png``
(one heat map per space) in ``<root>/tnb101-correlation/``.

The TransNAS-Bench-101 paper (Duan et al., CVPR 2021) presents its cross-task correlation
analysis in figures; no text source with their values could be found (the stored copies of
the paper, its repository and NASLib were searched), so the report prints no published
numbers and says so rather than guessing values off an image.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from benchlab.ext import Protocol, atomic_write_bytes, open_table, register_protocol, write_text_and_csv

from ._build import MACRO_NAME, MICRO_NAME
from ._sources import TASKS

__all__ = ["correlation", "task_correlations", "SPACES"]

SPACES = {"micro": MICRO_NAME, "macro": MACRO_NAME}
_SHORT = {"class_scene": "scene", "class_object": "object", "jigsaw": "jigsaw", "room_layout": "layout",
          "segmentsemantic": "segment", "normal": "normal", "autoencoder": "autoenc"}  # fmt: skip
PAPER_NOTE = (
    "Published values: none printed. The TransNAS-Bench-101 paper (Duan et al., CVPR 2021) presents its cross-task "
    "correlation analysis in figures, and no text source with their numbers could be found, so nothing is put "
    "beside these matrices and no differences are computed (the CSV's paper and difference columns are empty); "
    "compare the heat map with the paper's figure by eye."
)


def _spearman(columns: np.ndarray) -> np.ndarray:
    """Spearman correlation matrix of the columns of ``columns`` (average ranks for ties)."""
    from scipy.stats import rankdata

    ranks = np.column_stack([rankdata(c) for c in columns.T])
    return np.corrcoef(ranks, rowvar=False)


def task_correlations(table_name: str, root: Path | None = None) -> dict:
    """``{"tasks", "n", "matrix" (7x7), "zen" (task -> rho of the task's Zen-NAS score vs its metric)}``."""
    table = open_table(table_name, root)
    tasks = list(TASKS)
    metrics = np.column_stack([np.asarray(table.column(f"{t}/{TASKS[t][0]}"), dtype=np.float64) for t in tasks])
    zen = {}
    for i, t in enumerate(tasks):
        pair = np.column_stack([metrics[:, i], np.asarray(table.column(f"{t}/zen"), dtype=np.float64)])
        zen[t] = float(_spearman(pair)[0, 1])
    return {"tasks": tasks, "n": int(metrics.shape[0]), "matrix": _spearman(metrics), "zen": zen}


def _markdown(results: dict) -> str:
    lines = [
        "# TransNAS-Bench-101: Spearman rank correlation between tasks",
        "",
        "Over every architecture of each space: the validation metric of each task at its best epoch (NASLib's "
        "export; there is no test split), room_layout as the negated L2 loss so that higher is better for every task.",
        "",
    ]
    tasks = list(TASKS)
    for space, res in results.items():
        m = res["matrix"]
        lines += [f"## {space} ({res['n']:,} architectures)", "",
                  "| task | " + " | ".join(_SHORT[t] for t in tasks) + " |",
                  "|:--|" + "--:|" * len(tasks)]  # fmt: skip
        for i, t in enumerate(tasks):
            lines.append(f"| {t} | " + " | ".join(f"{m[i, j]:.3f}" for j in range(len(tasks))) + " |")
        off = m[~np.eye(len(tasks), dtype=bool)]
        lines += ["", f"Off-diagonal: mean {off.mean():.3f}, min {off.min():.3f}, max {off.max():.3f}.", ""]
    lines += ["## Zen-NAS score vs task metric (Spearman)", "",
              "| space | " + " | ".join(_SHORT[t] for t in tasks) + " |", "|:--|" + "--:|" * len(tasks)]  # fmt: skip
    for space, res in results.items():
        lines.append(f"| {space} | " + " | ".join(f"{res['zen'][t]:.3f}" for t in tasks) + " |")
    lines += ["", PAPER_NOTE, ""]
    return "\n".join(lines)


def _heatmaps(results: dict, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tasks = list(TASKS)
    fig = Figure(figsize=(5.2 * len(results) + 0.8, 5.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    image = None
    for ax, (space, res) in zip(axes, results.items()):
        m = res["matrix"]
        image = ax.imshow(m, vmin=-1.0, vmax=1.0, cmap="RdBu_r")
        ax.set_xticks(range(len(tasks)), [_SHORT[t] for t in tasks], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(tasks)), [_SHORT[t] for t in tasks], fontsize=8)
        for i in range(len(tasks)):
            for j in range(len(tasks)):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(m[i, j]) > 0.6 else "black")  # fmt: skip
        ax.set_title(f"{space} ({res['n']:,} architectures)", fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="Spearman rho")
    fig.suptitle("TransNAS-Bench-101: rank correlation of validation metrics between tasks", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    atomic_write_bytes(path, buf.getvalue())
    return path


def correlation(runs: int = 1, root: Path = Path("results"), executor: str = "inprocess", jobs=None,
                progress: bool = True, seed: int = 0, tables_root: Path | None = None, **_ignored) -> dict:  # fmt: skip
    """Compute both matrices from the built tables and write the Markdown, CSV and PNG.

    The computation is exact and deterministic: ``runs``, ``executor``, ``jobs`` and ``seed``
    (the common ``reproduce`` options) do not apply. ``tables_root`` overrides where the
    tables are read (default: the data folder's ``tables``).
    """
    results = {space: task_correlations(name, tables_root) for space, name in SPACES.items()}
    folder = Path(root) / "tnb101-correlation"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for space, res in results.items():
        tasks, m = res["tasks"], res["matrix"]
        for i, a in enumerate(tasks):
            for j, b in enumerate(tasks):
                rows.append({"space": space, "task_a": a, "task_b": b, "spearman": round(float(m[i, j]), 6),
                             "paper": "", "difference": ""})  # fmt: skip
        for t in tasks:
            rows.append({"space": space, "task_a": "zen", "task_b": t, "spearman": round(res["zen"][t], 6),
                         "paper": "", "difference": ""})  # fmt: skip
    text = _markdown(results)
    md, csv_path = write_text_and_csv(folder, "tnb101-correlation", text, rows)
    png = _heatmaps(results, folder / "tnb101-correlation.png")
    return {"text": text, "markdown": md, "csv": csv_path, "plot": png, "results": results, "rows": rows}


register_protocol(
    Protocol(
        name="tnb101-correlation",
        description="TransNAS-Bench-101: 7x7 Spearman correlation between tasks, micro and macro (Markdown, CSV, heat map)",
        default_runs=1,
        run=correlation,
    )
)
