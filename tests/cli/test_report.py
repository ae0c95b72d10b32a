from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from followir.cli.app import app
from tests.analysis.test_report import make_results

FIXTURES = Path(__file__).parents[1] / "analysis" / "data"


def test_report_cli_all_formats_and_mteb_export(tmp_path):
    make_results(tmp_path / "runs")
    out = tmp_path / "report"
    args = ["report", str(tmp_path / "runs"), str(FIXTURES), "--out", str(out), "--mteb", str(tmp_path / "mteb")]
    for f in ("md", "latex", "csv", "html"):
        args += ["--format", f]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("report.md", "report.tex", "report.csv", "report.html", "pmrr.png", "pmrr.svg"):
        assert (out / name).exists(), name
    assert "GritLM/GritLM-7B" in (out / "report.md").read_text()
    exported = json.loads((tmp_path / "mteb" / "bm25" / "Robust04InstructionRetrieval.json").read_text())
    assert exported["scores"]["test"][0]["p-MRR"] == -0.10


def test_report_cli_empty_folder_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and "no results" in str(result.exception)
