"""`followir evaluate` end to end on the tiny benchmark written in the plain layout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from followir.cli.app import app, main
from followir.data.plain import write_plain
from followir.evaluation.results import EvalResult
from followir.evaluation.runs import read_run
from tests.conftest import make_tiny_benchmark

runner = CliRunner()


@pytest.fixture
def tiny_dir(tmp_path):
    return write_plain(make_tiny_benchmark(), tmp_path / "tiny")


def _invoke(*args: str):
    result = runner.invoke(app, ["evaluate", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_evaluate_writes_runs_results_and_table(tiny_dir, tmp_path):
    out = tmp_path / "out"
    res = _invoke(
        str(tiny_dir), "--model", "test-counting", "--random-baseline",
        "--plugin", "tests.evaluation.scorers", "--out", str(out), "--n-boot", "50", "--no-progress",
    )
    bench = json.loads((out / "tiny" / "test-counting.json").read_text())["benchmark"]
    assert bench == "tiny"
    for slug in ("test-counting", "random_seed=0"):
        result = EvalResult.load(out / "tiny" / f"{slug}.json")
        assert set(result.measures) == {"MAP@1000", "nDCG@5", "p-MRR"}
        assert set(read_run(out / "tiny" / f"{slug}.og.trec")) == {"q1", "q2"}
        assert set(read_run(out / "tiny" / f"{slug}.changed.trec")) == {"q1", "q2"}
        m = result.measures["MAP@1000"]
        cell = f"{100 * m.value:.1f} [{100 * m.ci_low:.1f}, {100 * m.ci_high:.1f}]"
        assert cell in (out / "results.md").read_text()
    assert "random?seed=0" in res.output and "p-MRR" in res.output
    assert (out / "cache.sqlite").exists()


def test_query_subset_and_measure_option(tiny_dir, tmp_path):
    out = tmp_path / "out"
    _invoke(
        str(tiny_dir), "-m", "random?seed=0", "--out", str(out), "--queries", "1",
        "--measure", "nDCG@10", "--n-boot", "20", "--no-progress",
    )
    result = EvalResult.load(out / "tiny" / "random_seed=0.json")
    assert list(result.measures) == ["MAP@1000", "nDCG@10"]
    assert set(result.measures["MAP@1000"].per_query) == {"q1"}
    assert result.settings["n_queries"] == 1


def test_rerun_reuses_the_cache(tiny_dir, tmp_path):
    out = tmp_path / "out"
    args = (str(tiny_dir), "-m", "random?seed=0", "--out", str(out), "--n-boot", "20", "--no-progress")
    _invoke(*args)
    first = EvalResult.load(out / "tiny" / "random_seed=0.json")
    _invoke(*args)
    second = EvalResult.load(out / "tiny" / "random_seed=0.json")
    assert first.counts == {"pairs_scored": 16, "pairs_cached": 0}
    assert second.counts == {"pairs_scored": 0, "pairs_cached": 16}
    assert second.measures == first.measures


def test_bad_model_spec_is_one_clear_line(tiny_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["followir", "evaluate", str(tiny_dir), "-m", "bm52", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown model spec 'bm52'" in err and "Did you mean bm25" in err


def test_bundled_followir_mini_if_present(tmp_path):
    import followir.data

    mini = Path(followir.data.__file__).parent / "bundled" / "followir-mini"
    if not (mini / "qrels_og").is_dir():
        pytest.skip("followir-mini not bundled yet")
    out = tmp_path / "out"
    _invoke("followir-mini", "-m", "random?seed=0", "--out", str(out), "--n-boot", "20", "--no-progress")
    assert list((out / "followir-mini").glob("*.json"))
