from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from followir.analysis.report import build_report_table, load_results, to_markdown, write_report
from followir.errors import DataError, SpecError
from followir.evaluation.results import EvalResult, MeasureResult

FIXTURES = Path(__file__).parent / "data"


def mr(value, per_query=None, lo=None, hi=None):
    return MeasureResult(value, per_query or {}, lo, hi)


def make_results(root: Path) -> None:
    rows = [
        # model, benchmark, main, main value, p-MRR value, per-query p-MRR
        ("bm25", "robust04", "MAP@1000", 0.20, -0.10, {"301": -0.3, "302": 0.1}),
        ("bm25", "news21", "nDCG@5", 0.40, 0.02, {"901": 0.02}),
        ("dense:e5", "robust04", "MAP@1000", 0.30, 0.04, {"301": 0.0, "302": 0.08}),
        ("dense:e5", "news21", "nDCG@5", 0.50, 0.06, {"901": 0.06}),
    ]
    for model, bench, main, value, pmrr, pq in rows:
        EvalResult(
            model=model,
            benchmark=bench,
            measures={main: mr(value, lo=value - 0.05, hi=value + 0.05), "p-MRR": mr(pmrr, pq, pmrr - 0.1, pmrr + 0.1)},
            main_measure=main,
        ).save(root / bench / f"{model.replace(':', '_')}.json")


def test_table2_layout_with_families_and_averages(tmp_path):
    make_results(tmp_path)
    table = build_report_table(load_results([tmp_path]))
    assert [c.header for c in table.columns] == [
        "robust04 MAP@1000", "robust04 p-MRR", "news21 nDCG@5", "news21 p-MRR", "Average score", "Average p-MRR",
    ]
    md = to_markdown(table)
    # bm25: average score (20 + 40) / 2 = 30.0; average p-MRR (-10 + 2) / 2 = -4.0
    assert "| bm25 | 20.0 [15.0, 25.0] | -10.0 [-20.0, +0.0] | 40.0 [35.0, 45.0] | +2.0 [-8.0, +12.0] | 30.0 | -4.0 |" in md
    # dense: (30 + 50) / 2 = 40.0; (4 + 6) / 2 = +5.0
    assert md.index("**Lexical**") < md.index("| bm25 |") < md.index("**Bi-encoders**") < md.index("| dense:e5 |")
    assert "| 40.0 | +5.0 |" in md


def test_all_formats_plots_and_mteb_rows(tmp_path):
    make_results(tmp_path / "runs")
    shutil.copytree(FIXTURES, tmp_path / "mteb")
    out = write_report([tmp_path / "runs", tmp_path / "mteb"], tmp_path / "report", formats=["md", "latex", "csv", "html"])
    md = out["md"].read_text()
    assert "**mteb results**" in md and "| GritLM/GritLM-7B | 29.1 | +2.4 | – | – | – | – |" in md
    tex = out["latex"].read_text()
    assert r"\multicolumn{2}{c}{robust04}" in tex and r"\textit{Lexical}" in tex and r"\bottomrule" in tex
    rows = list(csv.DictReader(io.StringIO(out["csv"].read_text())))
    bm25 = next(r for r in rows if r["model"] == "bm25")
    assert bm25["family"] == "Lexical" and float(bm25["robust04 p-MRR"]) == pytest.approx(-10.0)
    assert float(bm25["robust04 p-MRR ci_high"]) == pytest.approx(0.0)
    html = out["html"].read_text()
    assert html.count("<svg") == 2 and "src=" not in html and "<link" not in html
    for stem in ("pmrr", "pmrr_per_query"):
        assert (tmp_path / "report" / f"{stem}.png").stat().st_size > 1000
        assert (tmp_path / "report" / f"{stem}.svg").read_text().lstrip().startswith("<?xml")


def test_errors(tmp_path):
    with pytest.raises(DataError, match="no results"):
        load_results([tmp_path])
    make_results(tmp_path)
    with pytest.raises(SpecError, match="pdf"):
        write_report([tmp_path], tmp_path / "r", formats=["pdf"])


def test_duplicate_results_shown_once(tmp_path):
    """A model found in two result folders appears once in the table and in the plots."""
    from followir.analysis.report import load_results
    from followir.evaluation.results import EvalResult, MeasureResult

    res = EvalResult("bm25", "b", {"MAP@1000": MeasureResult(0.5, {"q": 0.5})}, "MAP@1000")
    res.save(tmp_path / "a" / "bm25.json")
    res.save(tmp_path / "b" / "bm25.json")
    loaded = load_results([tmp_path / "a", tmp_path / "b"])
    assert [(r.model, r.benchmark) for r in loaded] == [("bm25", "b")]


def test_malformed_result_files_name_file_and_line(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text('{\n"schema": "followir.result/1",\n"model": }')
    with pytest.raises(DataError, match="not valid JSON") as err:
        load_results([bad])
    assert err.value.path == str(bad) and err.value.line == 3
    # the right schema but a field missing: a DataError naming the file, not a bare KeyError
    bad.write_text('{"schema": "followir.result/1", "model": "bm25", "benchmark": "b"}')
    with pytest.raises(DataError, match="malformed followir result") as err:
        load_results([bad])
    assert err.value.path == str(bad)
