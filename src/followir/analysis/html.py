"""One self-contained HTML report: the results table plus every figure as inline SVG.

No external CSS, scripts or image files, so the page can be mailed or attached as is.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence

from followir.analysis.report import PMRR, ReportTable, fmt, pct

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.family td{background:#f3f4f6;font-style:italic;text-align:left}
td.neg{color:#b91c1c} td.pos{color:#166534}
figure{margin:1.5em 0} figcaption{font-size:13px;color:#555}
"""


def svg_of(fig) -> str:
    """A matplotlib figure as an inline ``<svg>`` element (XML prologue stripped)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def table_html(table: ReportTable, ci: bool = True) -> str:
    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in table.columns)
    out = [f"<table><thead><tr><th>Model</th>{head}</tr></thead><tbody>"]
    for family, rows in table.families():
        out.append(f'<tr class="family"><td colspan="{len(table.columns) + 1}">{html.escape(family)}</td></tr>')
        for r in rows:
            cells = []
            for c, m in zip(table.columns, r.cells, strict=True):
                cls = ""
                if c.measure == PMRR and m is not None and m.value == m.value:
                    cls = ' class="neg"' if m.value < 0 else ' class="pos"'
                cells.append(f"<td{cls}>{html.escape(fmt(m, c.measure == PMRR, ci))}</td>")
            out.append(f"<tr><td>{html.escape(r.model)}</td>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


CAPTIONS = {
    "pmrr": "p-MRR per model and benchmark (x100) with 95% bootstrap CIs; above 0 means the "
    "model moved documents down when the instruction made them non-relevant.",
    "pmrr_per_query": "Per-topic p-MRR; the worst topics of each model are labelled.",
}


def html_report(
    table: ReportTable, figures: Mapping[str, object], ablations: Sequence = (), ci: bool = True
) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>followir report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>followir report</h1>",
        "<h2>Results (x100, 95% CI)</h2>",
        table_html(table, ci),
    ]
    for ab in ablations:
        parts.append(f"<h2>Instruction ablation: {html.escape(ab.benchmark)}</h2>")
        parts.append(_ablation_html(ab))
    for name, fig in figures.items():
        caption = CAPTIONS.get(name, "Δ of the main measure vs. the query alone, per instruction variant.")
        parts.append(f"<figure>{svg_of(fig)}<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _ablation_html(ab) -> str:
    m = html.escape(ab.main_measure)
    out = [f"<table><thead><tr><th>Model</th><th>variant</th><th>source</th><th>{m}</th><th>Δ {m}</th><th>p-MRR</th></tr></thead><tbody>"]
    for r in ab.rows():
        delta = "–" if r.variant == "none" else pct(r.delta, True)
        out.append(
            f"<tr><td>{html.escape(r.model)}</td><td>{r.variant}</td><td>{html.escape(r.source)}</td>"
            f"<td>{pct(r.main)}</td><td>{delta}</td><td>{pct(r.pmrr, True)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)
