"""`followir author SOURCES OUT` (and `--check`) through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from followir.cli.app import app
from followir.errors import DataError
from tests.build.test_mini import make_topic, write_topic


def test_author_builds_then_check_passes_and_detects_edits(tmp_path):
    src, out = tmp_path / "sources", tmp_path / "out"
    write_topic(src, make_topic("t01"))
    write_topic(src, make_topic("t02"))
    result = CliRunner().invoke(app, ["author", str(src), str(out)])
    assert result.exit_code == 0, result.output
    assert "2 topics, 60 passages, domains energy" in result.output
    assert (out / "qrels_changed" / "test.tsv").is_file()

    result = CliRunner().invoke(app, ["author", str(src), str(out), "--check"])
    assert result.exit_code == 0 and "up to date" in result.output

    topic = json.loads((src / "t01.json").read_text())
    topic["query"] = "rooftop photovoltaics"
    write_topic(src, topic)
    result = CliRunner().invoke(app, ["author", str(src), str(out), "--check"])
    assert result.exit_code == 1
    assert "queries.jsonl" in result.output and "corpus.jsonl" not in result.output


def test_author_reports_bad_source(tmp_path):
    topic = make_topic("t01")
    topic["passages"][2]["og"] = 0
    write_topic(tmp_path / "src", topic)
    result = CliRunner().invoke(app, ["author", str(tmp_path / "src"), str(tmp_path / "out")])
    assert isinstance(result.exception, DataError)
    assert "t01.json" in str(result.exception) and "t01-p03" in str(result.exception)
