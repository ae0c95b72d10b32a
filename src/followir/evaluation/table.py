"""The FollowIR results table: models as rows, each benchmark's main measure and p-MRR as
columns, every cell ``value [low, high]`` x100 with its bootstrap CI.

The table is built once as plain strings (`ResultsTable`) and rendered either with rich on
a terminal or as Markdown for a README or paper draft, so both always show the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from followir.evaluation.results import EvalResult, MeasureResult

PMRR = "p-MRR"
MISSING = "–"


def format_value(value: float | None, digits: int = 1) -> str:
    """x100 with fixed decimals; a missing or NaN value shows as a dash."""
    if value is None or math.isnan(value):
        return MISSING
    return f"{100 * value:.{digits}f}"


def format_cell(m: MeasureResult | None, ci: bool = True, digits: int = 1) -> str:
    """``75.2 [66.9, 84.0]`` (or ``75.2`` without CI, or a dash when absent)."""
    if m is None:
        return MISSING
    text = format_value(m.value, digits)
    if ci and m.ci_low is not None and m.ci_high is not None and text != MISSING:
        if not (math.isnan(m.ci_low) or math.isnan(m.ci_high)):
            text += f" [{format_value(m.ci_low, digits)}, {format_value(m.ci_high, digits)}]"
    return text


@dataclass(frozen=True)
class Column:
    benchmark: str  # "" for a summary column
    measure: str

    @property
    def header(self) -> str:
        return f"{self.benchmark} {self.measure}".strip()


@dataclass
class ResultsTable:
    """Columns and rows of formatted cells; rendering never recomputes a number."""

    columns: list[Column]
    rows: list[tuple[str, list[str]]]

    def to_markdown(self) -> str:
        head = ["Model", *(c.header for c in self.columns)]
        lines = [
            "| " + " | ".join(head) + " |",
            "|" + "|".join([":---", *(["---:"] * len(self.columns))]) + "|",
        ]
        for model, cells in self.rows:
            lines.append("| " + " | ".join([model.replace("|", "\\|"), *cells]) + " |")
        return "\n".join(lines) + "\n"

    def to_rich(self, title: str | None = "FollowIR results (x100, 95% CI)"):
        from rich.table import Table

        table = Table(title=title)
        table.add_column("Model", no_wrap=True)
        for c in self.columns:
            header = f"{c.benchmark}\n{c.measure}" if c.benchmark else c.measure
            table.add_column(header, justify="right")
        for model, cells in self.rows:
            style = "dim italic" if model.startswith("random") else None
            table.add_row(model, *cells, style=style)
        return table


def build_table(
    results: Iterable[EvalResult],
    measures: Sequence[str] | None = None,
    ci: bool = True,
    digits: int = 1,
) -> ResultsTable:
    """Rows = models (first-seen order), columns = per benchmark the main measure and
    p-MRR (or the given ``measures``), plus the mean p-MRR when several benchmarks have one.
    """
    results = list(results)
    by_key: dict[tuple[str, str], EvalResult] = {}
    models: list[str] = []
    benches: list[str] = []
    for r in results:
        if r.model not in models:
            models.append(r.model)
        if r.benchmark not in benches:
            benches.append(r.benchmark)
        by_key[(r.model, r.benchmark)] = r
    columns: list[Column] = []
    for b in benches:
        present = [r for r in results if r.benchmark == b]
        wanted = list(measures) if measures else [present[0].main_measure, PMRR]
        for m in wanted:
            if any(m in r.measures for r in present) and Column(b, m) not in columns:
                columns.append(Column(b, m))
    pmrr_benches = [c.benchmark for c in columns if c.measure == PMRR]
    rows: list[tuple[str, list[str]]] = []
    for model in models:
        cells = []
        for c in columns:
            r = by_key.get((model, c.benchmark))
            cells.append(format_cell(r.measures.get(c.measure) if r else None, ci, digits))
        if len(pmrr_benches) > 1:
            vals = [
                by_key[(model, b)].measures[PMRR].value
                for b in pmrr_benches
                if (model, b) in by_key and PMRR in by_key[(model, b)].measures
            ]
            mean = sum(vals) / len(vals) if len(vals) == len(pmrr_benches) else None
            cells.append(format_value(mean, digits))
        rows.append((model, cells))
    if len(pmrr_benches) > 1:
        columns.append(Column("", f"mean {PMRR}"))
    return ResultsTable(columns, rows)


def markdown_table(results: Iterable[EvalResult], measures: Sequence[str] | None = None, ci: bool = True) -> str:
    """The results table as GitHub Markdown."""
    return build_table(results, measures, ci).to_markdown()


def print_table(results: Iterable[EvalResult], measures: Sequence[str] | None = None, ci: bool = True, console=None) -> None:
    """Print the results table with rich (to ``console`` or stdout)."""
    from rich.console import Console

    (console or Console()).print(build_table(results, measures, ci).to_rich())
