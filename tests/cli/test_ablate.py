from __future__ import annotations

import json

from typer.testing import CliRunner

from followir.cli.app import app
from followir.data.plain import write_plain
from tests.conftest import make_tiny_benchmark


def test_ablate_cli_with_bm25(tmp_path):
    bench_dir = write_plain(make_tiny_benchmark(), tmp_path / "tiny")
    out = tmp_path / "out"
    args = ["ablate", str(bench_dir), "--model", "bm25", "--out", str(out), "--n-boot", "50"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "| bm25 | keywords | offline |" in result.output
    summary = json.loads((out / "tiny" / "ablation.json").read_text())
    rows = {r["variant"]: r for r in summary["rows"]}
    assert set(rows) == {"none", "keywords", "short", "full"}
    assert rows["none"]["pmrr"] is None and rows["full"]["pmrr"] is not None
    for v in ("keywords", "short", "full"):
        assert abs(rows[v]["delta"] - (rows[v]["main"] - rows["none"]["main"])) < 1e-12
    assert (out / "tiny" / "bm25.short.json").exists() and (out / "generations").exists() is False
    before = (out / "tiny" / "ablation.md").read_text()
    again = CliRunner().invoke(app, args)  # resumes from the saved results: no scoring
    assert again.exit_code == 0 and "scoring" not in again.output
    assert (out / "tiny" / "ablation.md").read_text() == before


def test_ablate_cli_rejects_unknown_generator(tmp_path):
    bench_dir = write_plain(make_tiny_benchmark(), tmp_path / "tiny")
    result = CliRunner().invoke(
        app, ["ablate", str(bench_dir), "-m", "bm25", "--out", str(tmp_path / "o"), "--generator", "gpt"]
    )
    assert result.exit_code != 0 and "unknown generator" in str(result.exception)
