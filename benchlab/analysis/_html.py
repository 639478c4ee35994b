"""One-page reports: ``report.html`` (self-contained, plots embedded as base64 PNG data
URIs, no external resource) and ``report.md`` (the same sections, linking the PNG files)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from .._store import atomic_write_bytes
from ._tables import _decimals, _fmt, _header_lines, _pm, format_markdown

__all__ = ["write_pages"]

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee;margin:.5em 0}"
    "pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}.note{color:#555}"
)


def _friedman_lines(stats: dict | None, error: str | None) -> list[str]:
    """Plain-text sentences on the Friedman/Nemenyi result (shared by HTML and Markdown)."""
    if stats is None:
        return [f"Friedman test not available: {error}"]
    p = stats["p_value"]
    lines = []
    if np.isfinite(stats["statistic"]):
        verdict = "reject" if p < stats["alpha"] else "do not reject"
        lines.append(
            f"Friedman test over final regrets: chi-square = {stats['statistic']:.4g} with {stats['k'] - 1} df, "
            f"p = {p:.3g} over N = {stats['n_blocks']} blocks (repeats completed by all {stats['k']} strategies); "
            f"at alpha = {stats['alpha']:g} we {verdict} that all strategies perform alike."
        )
    else:
        lines.append(f"Friedman test: every block is a complete tie over N = {stats['n_blocks']} blocks; no statistic.")
    lines.append(
        f"Nemenyi critical difference (Demšar 2006): CD = q_alpha * sqrt(k(k+1)/(6N)) = {stats['q_alpha']:.3f} * "
        f"sqrt({stats['k']}*{stats['k'] + 1}/(6*{stats['n_blocks']})) = {stats['cd']:.4g}."
    )
    if stats["cliques"]:
        groups = "; ".join("{" + ", ".join(g) + "}" for g in stats["cliques"])
        lines.append(f"Not significantly different (average ranks differ by less than CD): {groups}.")
    else:
        lines.append("Every pair of strategies differs by at least CD.")
    if stats["excluded"]:
        lines.append(f"Left out (no completed run): {', '.join(stats['excluded'])}.")
    return lines


def _table_html(df) -> str:
    rd = _decimals(list(df["regret_std"]) + list(df["regret_se"]))
    td = _decimals(list(df["test_std"]) + list(df["test_se"]))
    setup = df.attrs.get("setup") or {}
    unit = setup.get("report_unit") or ""
    u = f" ({unit})" if unit else ""
    head = [
        "strategy",
        f"final regret{u}, mean ± std",
        "SE",
        "median",
        f"{setup.get('report_metric') or 'test'} ({setup.get('report_split')}){u}, mean ± std",
        "evals",
        "runs",
        "failed",
        "incomplete",
    ]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for row in df.itertuples(index=False):
        n_eval = row.n_evaluations
        cells = [
            str(row.strategy) + (f" ({row.name})" if row.name and row.name != row.strategy else ""),
            _pm(row.regret_mean, row.regret_std, rd),
            _fmt(row.regret_se, rd),
            _fmt(row.regret_median, rd),
            _pm(row.test_mean, row.test_std, td),
            _fmt(n_eval, 0 if np.isfinite(n_eval) and n_eval == int(n_eval) else 1),
            str(row.runs),
            str(row.failed),
            str(row.incomplete),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_pages(data, table, out, images: dict[str, Path], stats: dict | None, stats_error: str | None = None) -> dict[str, Path]:
    """Write ``out/report.html`` and ``out/report.md``; return ``{"html": ..., "report.md": ...}``.

    ``table``: a :func:`summary_table` frame; ``images``: ``{caption: PNG path}`` (embedded
    in the HTML, linked relative to ``out`` in the Markdown); ``stats``: a
    :func:`friedman` dict, or None with ``stats_error`` saying why.
    """
    out = Path(out)
    setup = table.attrs.get("setup") or {}
    esc = html.escape
    # HTML
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(str(setup.get('experiment')))}: benchlab report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(str(setup.get('experiment')))}: benchlab report</h1>",
        "<h2>Setup</h2>",
        *(f"<p>{esc(line)}</p>" for line in _header_lines(setup)),
    ]
    if setup.get("benchmark_description"):
        parts.append(f"<p class=\"note\">{esc(setup['benchmark_description'])}</p>")
    parts += ["<h2>Final results</h2>", _table_html(table)]
    parts.append(
        '<p class="note">Regret = optimum − report metric of the incumbent (best architecture by the '
        "strategy-visible objective) at the end of each run; std: sample standard deviation over runs; "
        "SE = std/√runs.</p>"
    )
    parts.append("<h2>Statistical comparison</h2>")
    parts += [f"<p>{esc(line)}</p>" for line in _friedman_lines(stats, stats_error)]
    if stats is not None:
        parts.append("<table><tr><th>strategy</th><th>average rank (1 = best)</th></tr>")
        parts += [f"<tr><td>{esc(k)}</td><td>{v:.3f}</td></tr>" for k, v in stats["average_ranks"].items()]
        parts.append("</table>")
    parts.append("<h2>Plots</h2>")
    for caption, path in images.items():
        b64 = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{b64}"><figcaption>{esc(caption)}</figcaption></figure>')
    failed = [f for s in data.strategies.values() for f in s.failed]
    incomplete = sum(len(s.incomplete) for s in data.strategies.values())
    parts.append(f"<h2>Failed runs ({len(failed)})</h2>")
    if failed:
        parts.append("<ul>")
        for f in failed:
            parts.append(
                f"<li>{esc(f.strategy)}/seed-{f.repeat} after {f.n_evaluations} evaluations: "
                f"<pre>{esc(f.error_type)}: {esc(f.message)}</pre></li>"
            )
        parts.append("</ul><p class=\"note\">Tracebacks are in each run's summary.json.</p>")
    else:
        parts.append("<p>None.</p>")
    if incomplete:
        parts.append(f"<p>{incomplete} run(s) incomplete or not started: re-run the experiment to complete them.</p>")
    parts.append("</body></html>")
    html_path = out / "report.html"
    atomic_write_bytes(html_path, ("\n".join(parts) + "\n").encode("utf-8"))

    # Markdown: the summary.md text, the statistics, then links to the PNGs
    md = [format_markdown(table).rstrip("\n"), "", "## Statistical comparison", ""]
    md += [line + "\n" for line in _friedman_lines(stats, stats_error)]
    if stats is not None:
        md += ["| strategy | average rank (1 = best) |", "|:--|--:|"]
        md += [f"| {k} | {v:.3f} |" for k, v in stats["average_ranks"].items()]
        md.append("")
    md += ["## Plots", ""]
    for caption, path in images.items():
        rel = Path(path).relative_to(out) if Path(path).is_relative_to(out) else Path(path)
        md += [f"![{caption}]({rel.as_posix()})", ""]
    md_path = out / "report.md"
    atomic_write_bytes(md_path, ("\n".join(md).rstrip("\n") + "\n").encode("utf-8"))
    return {"html": html_path, "report.md": md_path}

