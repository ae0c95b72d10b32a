"""mteb interop, on an excerpt of a real mteb 1.12 result file (embeddings-benchmark/results,
GritLM-7B on Robust04InstructionRetrieval: the keys kept are copied verbatim)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followir.analysis.mteb_results import (
    followir_measure,
    mteb_key,
    read_mteb,
    task_name,
    to_mteb,
    write_mteb,
)
from followir.errors import DataError
from followir.evaluation.results import EvalResult, MeasureResult

FIXTURE = (
    Path(__file__).parent / "data" / "GritLM__GritLM-7B"
    / "13f00a0e36500c80ce12870ea513846a066004af" / "Robust04InstructionRetrieval.json"
)


def test_read_real_mteb_file():
    r = read_mteb(FIXTURE)
    assert r.model == "GritLM/GritLM-7B"  # folder name, revision folder skipped
    assert r.benchmark == "robust04" and r.main_measure == "MAP@1000"
    assert r.measures["MAP@1000"].value == 0.29126  # "individual" -> "original"
    assert r.measures["nDCG@5"].value == 0.39421
    assert r.measures["changed:MAP@1000"].value == 0.39774
    assert r.measures["p-MRR"].value == pytest.approx(0.024389676564299665)  # a fraction
    assert r.measures["p-MRR"].per_query == {} and r.measures["p-MRR"].ci_low is None


def test_write_then_read_round_trip(tmp_path):
    res = EvalResult(
        model="dense:BAAI/bge-small",
        benchmark="core17",
        measures={
            "MAP@1000": MeasureResult(0.25, {"1": 0.25}),
            "nDCG@5": MeasureResult(0.5, {"1": 0.5}),
            "p-MRR": MeasureResult(-0.031, {"1": -0.031}),
        },
        main_measure="MAP@1000",
    )
    path = write_mteb(res, tmp_path)
    assert path.name == "Core17InstructionRetrieval.json"
    data = json.loads(path.read_text())
    [entry] = data["scores"]["test"]
    assert entry["og"] == {"map_at_1000": 0.25, "ndcg_at_5": 0.5}
    assert entry["p-MRR"] == entry["main_score"] == -0.031
    back = read_mteb(path, model="bge")
    assert back.benchmark == "core17"
    assert {k: v.value for k, v in back.measures.items()} == {"MAP@1000": 0.25, "nDCG@5": 0.5, "p-MRR": -0.031}
    assert to_mteb(res)["task_name"] == "Core17InstructionRetrieval"


def test_names_and_errors(tmp_path):
    assert mteb_key("nDCG@5") == "ndcg_at_5" and mteb_key("p-MRR") is None
    assert followir_measure("precision_at_10") == "P@10" and followir_measure("naucs_at_5_max") is None
    assert task_name("/data/news21-instructions") == "News21InstructionRetrieval"
    bad = tmp_path / "x.json"
    bad.write_text('{"a": 1}')
    with pytest.raises(DataError, match="not an mteb result"):
        read_mteb(bad)


def test_null_main_score_reads_back_and_bad_entries_name_the_file(tmp_path):
    # a result without its main measure is written with "main_score": null; reading it
    # back used to fail with a bare TypeError from float(None)
    res = EvalResult("bm25", "scifact", {"Recall@100": MeasureResult(0.75, {})}, "nDCG@10")
    back = read_mteb(write_mteb(res, tmp_path), model="bm25")
    assert {k: v.value for k, v in back.measures.items()} == {"Recall@100": 0.75}
    bad = tmp_path / "bad" / "T.json"
    bad.parent.mkdir()
    bad.write_text('{"task_name": "T", "scores": {"test": ["oops"]}}')
    with pytest.raises(DataError, match="'default' subset") as err:
        read_mteb(bad)
    assert str(bad) in str(err.value)
    bad.write_text('{"task_name": "T", "scores": {"test": [{"p-MRR": "high"}]}}')
    with pytest.raises(DataError, match="'p-MRR' must be a number"):
        read_mteb(bad)
