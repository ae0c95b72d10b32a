from __future__ import annotations

import json

from typer.testing import CliRunner

from followir.cli.app import app
from followir.data.plain import write_plain
from followir.evaluation.results import EvalResult
from tests.conftest import make_tiny_benchmark


def test_retrieve_cli_writes_runs_and_result(tmp_path):
    bench_dir = write_plain(make_tiny_benchmark(), tmp_path / "tiny")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["retrieve", str(bench_dir), "--model", "bm25", "--out", str(out), "--k", "3", "--n-boot", "50"]
    )
    assert result.exit_code == 0, result.output
    assert "bm25 tiny MAP@1000 (top 3): none=" in result.output and "p-MRR=" in result.output
    for variant in ("none", "og", "changed"):
        lines = (out / "tiny" / f"bm25.{variant}.trec").read_text().splitlines()
        assert lines and all(int(line.split()[3]) <= 3 for line in lines)
    res = EvalResult.load(out / "tiny" / "bm25.json")
    assert res.settings["protocol"] == "full-retrieval" and res.settings["k"] == 3
    assert {"MAP@1000", "none:MAP@1000", "changed:MAP@1000", "p-MRR"} <= set(res.measures)


def test_retrieve_cli_refuses_a_non_retriever(tmp_path):
    bench_dir = write_plain(make_tiny_benchmark(), tmp_path / "tiny")
    result = CliRunner().invoke(app, ["retrieve", str(bench_dir), "-m", "random", "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "--rerank" in str(result.exception)


def test_instructir_cli(tmp_path):
    d = tmp_path / "iir"
    (d / "qrels").mkdir(parents=True)
    docs = {"d1": "python snake habitat", "d2": "python programming language", "d3": "snake venom"}
    (d / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in docs.items()))
    queries = [("b1_1", "programming [SEP] python"), ("b1_2", "snake [SEP] python"), ("b2_1", "snake [SEP] venom")]
    (d / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries))
    (d / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nb1_1\td2\t1\nb1_2\td1\t1\nb2_1\td3\t1\n")
    result = CliRunner().invoke(app, ["instructir", str(d), "--model", "bm25", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    res = EvalResult.load(tmp_path / "o" / "iir" / "bm25.json")
    assert set(res.measures) == {"nDCG@10", "Robustness@10"}
    assert set(res.measures["Robustness@10"].per_query) == {"b1", "b2"}
    assert res.measures["Robustness@10"].value <= res.measures["nDCG@10"].value
