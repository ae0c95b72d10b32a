"""`followir compare A.json B.json`: paired tests from saved per-query values."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from followir.cli.app import app
from followir.errors import DataError
from followir.evaluation.results import EvalResult, MeasureResult

runner = CliRunner()


def _save(path, model, per_query, bench="b"):
    vals = list(per_query.values())
    r = EvalResult(
        model=model,
        benchmark=bench,
        measures={"nDCG@5": MeasureResult(sum(vals) / len(vals), per_query)},
        main_measure="nDCG@5",
    )
    return r.save(path)


def test_compare_reports_both_tests(tmp_path):
    base = {f"q{i}": (i % 5) / 10 for i in range(20)}
    better = {q: v + 0.1 for q, v in base.items()}
    a = _save(tmp_path / "a.json", "A", better)
    b = _save(tmp_path / "b.json", "B", base)
    out = tmp_path / "cmp.json"
    res = runner.invoke(app, ["compare", str(a), str(b), "--json", str(out), "--n-boot", "200",
                              "--n-samples", "2000"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "+10.0" in res.output  # diff x100
    data = json.loads(out.read_text())
    (test,) = data["tests"]
    assert test["measure"] == "nDCG@5"
    assert test["bootstrap"]["diff"] == pytest.approx(0.1)
    # every query improves by 0.1: only the all-same-sign flips reach it (p ~ 2 / 2**20)
    assert test["randomization"]["p_value"] == pytest.approx(1 / 2001)
    assert test["bootstrap"]["ci_low"] == pytest.approx(0.1)


def test_compare_refuses_different_query_sets(tmp_path):
    a = _save(tmp_path / "a.json", "A", {"q1": 0.5, "q2": 0.1})
    b = _save(tmp_path / "b.json", "B", {"q1": 0.5, "q3": 0.1})
    with pytest.raises(DataError, match="same queries"):
        runner.invoke(app, ["compare", str(a), str(b)], catch_exceptions=False)


def test_compare_refuses_different_benchmarks(tmp_path):
    a = _save(tmp_path / "a.json", "A", {"q1": 0.5}, bench="robust04")
    b = _save(tmp_path / "b.json", "B", {"q1": 0.5}, bench="core17")
    with pytest.raises(DataError, match="different benchmarks"):
        runner.invoke(app, ["compare", str(a), str(b)], catch_exceptions=False)
