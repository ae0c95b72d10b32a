"""`followir convert SRC OUT` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from followir.cli.app import app
from followir.data.plain import read_plain
from followir.data.registry import load_benchmark
from followir.errors import DataError, SpecError

FIXTURES = Path(__file__).parents[1] / "data" / "fixtures"


def test_convert_mteb_copy_to_plain(tmp_path):
    out = tmp_path / "plain"
    result = CliRunner().invoke(app, ["convert", str(FIXTURES / "mteb_v2"), str(out)])
    assert result.exit_code == 0, result.output
    assert "2 queries, 5 documents, altered-instruction qrels: yes" in result.output
    got, src = read_plain(out), load_benchmark(FIXTURES / "mteb_v2")
    assert got.queries == src.queries and got.qrels_changed == src.qrels_changed and got.pools == src.pools


def test_convert_refuses_non_empty_output(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    result = CliRunner().invoke(app, ["convert", str(FIXTURES / "instructir"), str(tmp_path)])
    assert isinstance(result.exception, DataError) and "--force" in str(result.exception)
    result = CliRunner().invoke(app, ["convert", str(FIXTURES / "instructir"), str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert read_plain(tmp_path).queries["100_1"].extra == {"base_id": "100"}


def test_convert_unknown_source(tmp_path):
    result = CliRunner().invoke(app, ["convert", "robust4", str(tmp_path / "o")])
    assert isinstance(result.exception, SpecError) and "Did you mean 'robust04'" in str(result.exception)


def test_convert_to_an_existing_file_is_a_clear_error(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = CliRunner().invoke(app, ["convert", str(FIXTURES / "instructir"), str(target)])
    assert isinstance(result.exception, DataError), result.exception
    assert "not a directory" in str(result.exception) and str(target) in str(result.exception)
