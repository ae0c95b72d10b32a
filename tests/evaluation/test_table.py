"""The FollowIR results table (x100 with CIs), Markdown and rich."""

from __future__ import annotations

from rich.console import Console

from followir.evaluation.results import EvalResult, MeasureResult
from followir.evaluation.table import build_table, format_cell, markdown_table, print_table


def _result(model, bench, main, value, pmrr=None):
    measures = {main: MeasureResult(value, {"q": value}, value - 0.1, value + 0.1)}
    if pmrr is not None:
        measures["p-MRR"] = MeasureResult(pmrr, {"q": pmrr}, pmrr - 0.05, pmrr + 0.05)
    return EvalResult(model=model, benchmark=bench, measures=measures, main_measure=main)


RESULTS = [
    _result("bm25", "robust04", "MAP@1000", 0.2, -0.031),
    _result("bm25", "news21", "nDCG@5", 0.5, 0.011),
    _result("random?seed=0", "robust04", "MAP@1000", 0.05, 0.004),
]


def test_cell_format():
    assert format_cell(MeasureResult(0.752, {}, 0.669, 0.840)) == "75.2 [66.9, 84.0]"
    assert format_cell(MeasureResult(-0.0312, {}, None, None)) == "-3.1"
    assert format_cell(MeasureResult(0.752, {}, 0.669, 0.84), ci=False) == "75.2"
    assert format_cell(MeasureResult(float("nan"), {})) == "–"
    assert format_cell(None) == "–"


def test_columns_rows_and_mean_pmrr():
    t = build_table(RESULTS)
    assert [c.header for c in t.columns] == [
        "robust04 MAP@1000", "robust04 p-MRR", "news21 nDCG@5", "news21 p-MRR", "mean p-MRR",
    ]
    assert t.rows[0] == (
        "bm25",
        ["20.0 [10.0, 30.0]", "-3.1 [-8.1, 1.9]", "50.0 [40.0, 60.0]", "1.1 [-3.9, 6.1]", "-1.0"],
    )
    # the random baseline was not run on news21: dashes, and no mean over a partial set
    assert t.rows[1] == ("random?seed=0", ["5.0 [-5.0, 15.0]", "0.4 [-4.6, 5.4]", "–", "–", "–"])


def test_markdown_and_rich_show_the_same_cells():
    md = markdown_table(RESULTS)
    lines = md.splitlines()
    assert lines[0].startswith("| Model | robust04 MAP@1000 |")
    assert lines[1] == "|:---|---:|---:|---:|---:|---:|"
    assert "| bm25 | 20.0 [10.0, 30.0] |" in md
    console = Console(record=True, width=250)
    print_table(RESULTS, console=console)
    text = console.export_text()
    assert "20.0 [10.0, 30.0]" in text and "random?seed=0" in text


def test_explicit_measures_select_columns():
    t = build_table(RESULTS, measures=["p-MRR"], ci=False)
    assert [c.header for c in t.columns] == ["robust04 p-MRR", "news21 p-MRR", "mean p-MRR"]
    assert t.rows[0][1] == ["-3.1", "1.1", "-1.0"]
