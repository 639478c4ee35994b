"""Final-result tables: one row per strategy, written as CSV, Markdown and LaTeX."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._errors import InvalidConfig
from .._store import atomic_write_bytes
from ._load import ExperimentData

__all__ = ["summary_table", "write_tables", "format_markdown", "describe_setup", "TABLE_FORMATS"]

TABLE_FORMATS = ("csv", "md", "tex")
_COLUMNS = [
    "strategy",
    "name",
    "runs",
    "failed",
    "incomplete",
    "n_evaluations",
    "regret_mean",
    "regret_std",
    "regret_se",
    "regret_median",
    "test_mean",
    "test_std",
    "test_se",
]


def _stats(values: list[float]) -> tuple[float, float, float, float]:
    """mean, sample std (ddof=1), standard error, median of the finite values (NaN if none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    std = float(np.std(v, ddof=1)) if v.size > 1 else math.nan
    return float(v.mean()), std, std / math.sqrt(v.size), float(np.median(v))


def _budget_text(config: dict, cost_unit: str) -> str:
    parts = []
    if config.get("max_evaluations") is not None:
        parts.append(f"{config['max_evaluations']} evaluations")
    if config.get("max_seconds") is not None:
        parts.append(f"{config['max_seconds']:g} simulated {cost_unit or 's'}")
    text = " or ".join(parts) if parts else "no limit"
    workers = config.get("n_workers") or 1
    return f"{text} per run, {workers} worker{'s' if workers != 1 else ''}"


def describe_setup(data: ExperimentData) -> dict:
    """Metadata a table or plot must state: benchmark, objective, splits, budget, units."""
    b = data.benchmark
    cfg = data.config
    visible = str(b.get("visible_split") or "?")
    report = str(b.get("report_split") or "?")
    return {
        "experiment": data.name,
        "benchmark": data.benchmark_name,
        "benchmark_description": str(b.get("description") or ""),
        "objective": data.objective,
        "direction": data.direction,
        "objective_unit": data.unit(data.objective),
        "report_metric": data.report_metric,
        "report_unit": data.unit(data.report_metric),
        "optimum": data.optimum,
        "visible_split": visible,
        "report_split": report,
        "same_split": visible.split()[0] == report.split()[0] if visible != "?" else False,
        "cost_unit": str(b.get("cost_unit") or ""),
        "budget": _budget_text(cfg, str(b.get("cost_unit") or "")),
        "repeats": cfg.get("repeats"),
        "seed": cfg.get("seed"),
        "failures": [
            f"{f.strategy}/seed-{f.repeat}: {f.error_type}: {f.message}"
            for s in data.strategies.values()
            for f in s.failed
        ],
        **({"constraints": list(b["constraints"])} if b.get("constraints") else {}),
    }


def summary_table(data: ExperimentData):
    """One row per strategy, sorted by mean final regret (best first, strategies without
    completed runs last).

    Columns: ``strategy`` (label), ``name`` (registry name), ``runs`` (completed),
    ``failed``, ``incomplete``, ``n_evaluations`` (mean per completed run), final regret
    ``regret_mean/std/se/median`` and the final report metric of the incumbent
    ``test_mean/std/se`` (benchmark units, e.g. % accuracy), from ``summary.json``
    (``final.regret``, ``final.test``). ``std`` is the sample std (``ddof=1``); ``se`` is
    ``std / sqrt(runs)``. ``df.attrs["setup"]`` holds :func:`describe_setup`.

    On a constrained benchmark (hardware-aware NAS) regret is the feasible regret against
    the constrained optimum, averaged over the runs that have a feasible incumbent; the
    frame then also has ``no_feasible`` (completed runs without one) and
    ``feasibility_rate_mean/se`` (feasible fraction of a run's evaluations).
    """
    import pandas as pd

    rows = []
    for label, s in data.strategies.items():
        rm, rs, rse, rmed = _stats([r.final("regret") for r in s.runs])
        tm, ts, tse, _ = _stats([r.final("test") for r in s.runs])
        n_eval = float(np.mean([r.n_evaluations for r in s.runs])) if s.runs else math.nan
        rows.append([label, s.name, len(s.runs), len(s.failed), len(s.incomplete), n_eval, rm, rs, rse, rmed, tm, ts, tse])
    df = pd.DataFrame(rows, columns=_COLUMNS)
    if data.benchmark.get("constraints"):
        extra = []
        for s in data.strategies.values():
            no_feasible = sum(1 for r in s.runs if not math.isfinite(r.final("regret")))
            rates = [r.summary.get("feasibility_rate") for r in s.runs]
            fm, _, fse, _ = _stats([math.nan if x is None else x for x in rates])
            extra.append((no_feasible, fm, fse))
        df["no_feasible"], df["feasibility_rate_mean"], df["feasibility_rate_se"] = (list(c) for c in zip(*extra))
    df = df.sort_values(["regret_mean", "strategy"], na_position="last", kind="stable").reset_index(drop=True)
    df.attrs["setup"] = describe_setup(data)
    return df


def _decimals(values, minimum: int = 2, maximum: int = 6) -> int:
    """Decimals that show two significant digits of the smallest positive spread."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], dtype=np.float64)
    if v.size == 0:
        return minimum
    return int(min(maximum, max(minimum, 1 - math.floor(math.log10(v.min())))))


def _fmt(x: float, d: int) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{d}f}"


def _pm(mean: float, std: float, d: int) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:.{d}f}" if not np.isfinite(std) else f"{mean:.{d}f} ± {std:.{d}f}"


def _header_lines(setup: dict) -> list[str]:
    unit = setup.get("report_unit") or ""
    opt = setup.get("optimum")
    opt_text = f"{opt:.4g}{(' ' + unit) if unit else ''}" if isinstance(opt, float) and np.isfinite(opt) else "?"
    lines = [
        f"Experiment `{setup.get('experiment')}` on benchmark `{setup.get('benchmark')}`: objective "
        f"`{setup.get('objective')}` ({setup.get('direction')}"
        f"{', ' + setup['objective_unit'] if setup.get('objective_unit') else ''}); "
        f"strategies see the **{setup.get('visible_split')}** split, results are reported on the "
        f"**{setup.get('report_split')}** split (`{setup.get('report_metric')}`, optimum {opt_text}); "
        f"budget {setup.get('budget')}; cost unit: {setup.get('cost_unit') or '?'}; "
        f"{setup.get('repeats')} repeats, master seed {setup.get('seed')}.",
    ]
    if setup.get("same_split"):
        lines.append(
            f"Note: search and report use the same split ({setup.get('report_split')}), so the regret measures "
            "search efficiency, not generalisation; numbers are optimistic compared with papers that search on "
            "validation."
        )
    return lines


def _markdown(df, setup: dict) -> str:
    rd = _decimals(list(df["regret_std"]) + list(df["regret_se"]))
    td = _decimals(list(df["test_std"]) + list(df["test_se"]))
    test_name = setup.get("report_metric") or "test"
    unit = setup.get("report_unit") or ""
    u = f" ({unit})" if unit else ""
    head = [
        "strategy",
        f"final regret{u}, mean ± std",
        "SE",
        "median",
        f"{test_name} ({setup.get('report_split')}){u}, mean ± std",
        "SE",
        "evals",
        "runs",
        "failed",
        "incomplete",
    ]
    align = [":--", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"]
    constrained = "no_feasible" in df.columns
    if constrained:
        head[1] = f"final feasible regret{u}, mean ± std"
        head += ["no feasible incumbent", "feasibility rate"]
        align += ["--:", "--:"]
    lines = [f"# {setup.get('experiment')}: final results", ""]
    for line in _header_lines(setup):
        lines += [line, ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(align) + "|")
    for row in df.itertuples(index=False):
        cells = [
            f"{row.strategy}" + (f" ({row.name})" if row.name and row.name != row.strategy else ""),
            _pm(row.regret_mean, row.regret_std, rd),
            _fmt(row.regret_se, rd),
            _fmt(row.regret_median, rd),
            _pm(row.test_mean, row.test_std, td),
            _fmt(row.test_se, td),
            _fmt(row.n_evaluations, 0) if np.isfinite(row.n_evaluations) and row.n_evaluations == int(row.n_evaluations) else _fmt(row.n_evaluations, 1),
            str(row.runs),
            str(row.failed),
            str(row.incomplete),
        ]
        if constrained:
            cells += [str(row.no_feasible), f"{_fmt(row.feasibility_rate_mean, 3)} ± {_fmt(row.feasibility_rate_se, 3)}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Regret = optimum − report metric of the incumbent (the best architecture by the strategy-visible "
        "objective) at the end of each run; std is the sample standard deviation over runs, SE = std/√runs.",
    ]
    if constrained:
        lines += [
            "",
            f"Constraints {', '.join(f'`{c}`' for c in setup.get('constraints') or [])}: the incumbent is the best "
            "*feasible* architecture and the optimum is the constrained one (best report value among feasible "
            "architectures); runs without a feasible incumbent have no regret and are left out of its mean, median "
            "and std (counted under 'no feasible incumbent'); feasibility rate = feasible fraction of a run's "
            "evaluations, mean ± SE.",
        ]
    failures = setup.get("failures") or []
    if failures:
        lines += ["", f"Failed runs ({len(failures)}):", ""]
        lines += [f"- {f.splitlines()[0] if f else f}" for f in failures[:20]]
        if len(failures) > 20:
            lines.append(f"- ... and {len(failures) - 20} more (see their summary.json)")
    return "\n".join(lines) + "\n"


def format_markdown(df) -> str:
    """The Markdown report of a :func:`summary_table` frame (what ``summary.md`` holds)."""
    return _markdown(df, df.attrs.get("setup") or {})


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"), ("$", r"\$")):
        text = text.replace(a, b)
    return text


def _latex(df, setup: dict) -> str:
    rd = _decimals(list(df["regret_std"]))
    td = _decimals(list(df["test_std"]))
    unit = _tex_escape(setup.get("report_unit") or "")
    u = f" ({unit})" if unit else ""
    lines = [
        "% " + " ".join(_header_lines(setup)).replace("\n", " "),
        r"\begin{tabular}{lrrr}",
        r"\toprule",
        f"strategy & final regret{u} & {_tex_escape(setup.get('report_metric') or 'test')}{u} & runs \\\\",
        r"\midrule",
    ]
    for row in df.itertuples(index=False):
        reg = _pm(row.regret_mean, row.regret_std, rd).replace("±", r"$\pm$").replace("–", "--")
        tst = _pm(row.test_mean, row.test_std, td).replace("±", r"$\pm$").replace("–", "--")
        lines.append(f"{_tex_escape(row.strategy)} & {reg} & {tst} & {row.runs} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_tables(df, folder, formats=("csv", "md"), *, stem: str = "summary") -> dict[str, Path]:
    """Write ``df`` (from :func:`summary_table`) as ``<stem>.csv`` (full precision),
    ``<stem>.md`` (``mean ± std``, with a header stating benchmark, objective, visible vs
    report split, budget and cost unit) and/or ``<stem>.tex`` (booktabs tabular) into
    ``folder``; return ``{format: path}``. Files are replaced atomically.
    """
    formats = [formats] if isinstance(formats, str) else list(formats)
    bad = [f for f in formats if f not in TABLE_FORMATS]
    if bad:
        raise InvalidConfig(f"unknown table format(s) {bad}; choose from {', '.join(TABLE_FORMATS)}")
    setup = df.attrs.get("setup") or {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        if fmt == "csv":
            text = df.to_csv(index=False, float_format="%.10g")
        elif fmt == "md":
            text = _markdown(df, setup)
        else:
            text = _latex(df, setup)
        atomic_write_bytes(path, text.encode("utf-8"))
        out[fmt] = path
    return out
