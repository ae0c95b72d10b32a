"""The evaluation spine on a tiny benchmark whose numbers are computed by hand.

Runs (see `RUNS`): og q1 ranks d2 d3 d4 d1, og q2 ranks d3 d4 d5 d6; changed q1 ranks
d1 d3 d4 d2, changed q2 ranks d5 d3 d4 d6.
  AP q1 vs qrels_og (d1, d2 relevant)   = (1/1 + 2/4) / 2 = 3/4
  AP q2 vs qrels_og (d5, d6 relevant)   = (1/3 + 2/4) / 2 = 5/12   -> MAP = 7/12
  (against qrels_changed the same run would give (1/4 + 1/1) / 2 = 5/8: mixing shows)
  p-MRR q1: d2 1 -> 4: 1 - 1/4 = 3/4;  q2: d5 3 -> 1: 1/3 - 1;  d6 4 -> 4: 0  -> -1/3
  p-MRR = (3/4 - 1/3) / 2 = 5/24
"""

from __future__ import annotations

import json

import pytest

from followir.data.types import Benchmark
from followir.errors import DataError
from followir.evaluation.cache import ScoreCache
from followir.evaluation.evaluate import (
    default_measures,
    eval_input,
    evaluate_model,
    evaluate_runs,
    resolve_measures,
)
from followir.evaluation.rerank import rerank
from followir.evaluation.results import EvalResult
from followir.evaluation.runs import output_paths, read_run
from followir.metrics import parse_measure
from tests.evaluation.scorers import CorpusStatsScorer, CountingScorer, TableScorer

RUNS = {
    "og": {
        "q1": {"d1": 0.1, "d2": 0.9, "d3": 0.5, "d4": 0.2},
        "q2": {"d3": 0.9, "d4": 0.8, "d5": 0.7, "d6": 0.1},
    },
    "changed": {
        "q1": {"d1": 0.9, "d2": 0.0, "d3": 0.5, "d4": 0.2},
        "q2": {"d3": 0.9, "d4": 0.8, "d5": 0.95, "d6": 0.1},
    },
}
MAP_OG = (3 / 4 + 5 / 12) / 2
MAP_MIXED = (1 / 4 + 1) / 2
PMRR = (3 / 4 - 1 / 3) / 2


def table_scorer(bench: Benchmark) -> TableScorer:
    table = {}
    for variant, run in RUNS.items():
        for qid, docs in run.items():
            instruction = bench.queries[qid].instruction(variant)
            for did, s in docs.items():
                table[(instruction, did)] = s
    return TableScorer(table)


def test_original_measures_use_qrels_og_never_qrels_changed(tiny_benchmark):
    res = evaluate_runs(tiny_benchmark, RUNS, ["MAP@1000"], n_boot=50)
    assert res["MAP@1000"].per_query == {"q1": pytest.approx(3 / 4), "q2": pytest.approx(5 / 12)}
    assert res["MAP@1000"].value == pytest.approx(MAP_OG)
    assert MAP_OG != pytest.approx(MAP_MIXED)  # the case really tells the two apart


def test_pmrr_from_og_and_changed_runs(tiny_benchmark):
    assert tiny_benchmark.changed_docs() == {"q1": ["d2"], "q2": ["d5", "d6"]}
    res = evaluate_runs(tiny_benchmark, RUNS, ["p-MRR"], n_boot=50)
    assert res["p-MRR"].per_query == {"q1": pytest.approx(3 / 4), "q2": pytest.approx(-1 / 3)}
    assert res["p-MRR"].value == pytest.approx(PMRR)
    swapped = evaluate_runs(tiny_benchmark, {"og": RUNS["changed"], "changed": RUNS["og"]}, ["p-MRR"])
    assert swapped["p-MRR"].value != pytest.approx(PMRR)


def test_missing_changed_doc_ranks_past_the_pool(tiny_benchmark):
    runs = {"og": RUNS["og"], "changed": {q: dict(d) for q, d in RUNS["changed"].items()}}
    del runs["changed"]["q1"]["d2"]  # absent: rank pool size (4) + 1 = 5 -> 1 - 1/5
    assert eval_input(tiny_benchmark, runs).pool_sizes == {"q1": 4, "q2": 4}
    res = evaluate_runs(tiny_benchmark, runs, ["p-MRR"])
    assert res["p-MRR"].per_query["q1"] == pytest.approx(1 - 1 / 5)


def test_cis_and_defaults(tiny_benchmark):
    res = evaluate_runs(tiny_benchmark, RUNS, n_boot=200, seed=1)
    assert list(res) == ["MAP@1000", "nDCG@5", "p-MRR"]
    for m in res.values():
        assert m.ci_low <= m.value <= m.ci_high
    assert res == evaluate_runs(tiny_benchmark, RUNS, n_boot=200, seed=1)


def test_measures_needing_changes_are_dropped_without_changes(tiny_benchmark):
    plain = tiny_benchmark.subset(["q1", "q2"])
    plain.qrels_changed = None
    assert [str(m) for m in default_measures(plain)] == ["MAP@1000", "nDCG@5"]
    assert resolve_measures(plain, ["p-MRR", "nDCG@10"]) == [
        parse_measure("MAP@1000"),
        parse_measure("nDCG@10"),
    ]
    with pytest.raises(DataError, match="no run under the original"):
        evaluate_runs(tiny_benchmark, {"changed": RUNS["changed"]})


def test_evaluate_model_end_to_end_writes_runs_and_json(tiny_benchmark, tmp_path):
    scorer = table_scorer(tiny_benchmark)
    result = evaluate_model(tiny_benchmark, scorer, tmp_path, n_boot=100)
    assert result.measures["MAP@1000"].value == pytest.approx(MAP_OG)
    assert result.measures["p-MRR"].value == pytest.approx(PMRR)
    assert result.counts == {"pairs_scored": 16, "pairs_cached": 0}
    paths = output_paths(tmp_path, "tiny", "table")
    assert read_run(paths["og"]) == RUNS["og"]
    assert read_run(paths["changed"]) == RUNS["changed"]
    first = paths["og"].read_text().splitlines()[0].split()
    assert first[:5] == ["q1", "Q0", "d2", "1", "0.9"]
    loaded = EvalResult.load(paths["json"])
    assert loaded == result
    data = json.loads(paths["json"].read_text())
    assert data["versions"]["followir"] and "numpy" in data["versions"]
    assert data["settings"]["n_boot"] == 100
    assert (tmp_path / "cache.sqlite").exists()


def test_second_run_reads_the_cache(tiny_benchmark, tmp_path):
    counting = CountingScorer()
    first = evaluate_model(tiny_benchmark, counting, tmp_path, n_boot=20)
    assert counting.calls > 0
    again = CountingScorer()
    second = evaluate_model(tiny_benchmark, again, tmp_path, n_boot=20)
    assert again.calls == 0
    assert second.counts == {"pairs_scored": 0, "pairs_cached": 16}
    assert second.measures == first.measures


def test_shared_cache_object_stays_open(tiny_benchmark, tmp_path):
    cache = ScoreCache(tmp_path / "shared.sqlite")
    evaluate_model(tiny_benchmark, CountingScorer(), tmp_path / "out", cache=cache, write=False)
    assert len(cache) == 16  # still usable: evaluate_model does not close a cache it was given
    assert not (tmp_path / "out").exists()


def test_random_baseline_spec(tiny_benchmark, tmp_path):
    result = evaluate_model(tiny_benchmark, "random?seed=0", tmp_path, n_boot=20)
    assert result.model == "random?seed=0"
    assert result.fingerprint
    assert set(result.measures) == {"MAP@1000", "nDCG@5", "p-MRR"}
    assert -1 <= result.measures["p-MRR"].value <= 1
    assert (tmp_path / "tiny" / "random_seed=0.json").exists()
    again = evaluate_model(tiny_benchmark, "random?seed=0", tmp_path / "b", cache=False, n_boot=20)
    assert again.measures == result.measures


def test_non_finite_scores_are_refused(tiny_benchmark, tmp_path):
    scorer = table_scorer(tiny_benchmark)
    key = (tiny_benchmark.queries["q1"].instruction_og, "d3")
    scorer.table[key] = float("nan")
    with pytest.raises(RuntimeError, match=r"non-finite.*'d3'"):
        evaluate_model(tiny_benchmark, scorer, tmp_path)


def test_corpus_statistics_scorer_is_indexed_first_so_chunking_cannot_matter(tiny_benchmark, tmp_path):
    # unindexed, the scorer's numbers depend on how pairs are chunked (the hazard) ...
    small = rerank(tiny_benchmark, CorpusStatsScorer(), chunk_size=2, prepare=False).runs
    large = rerank(tiny_benchmark, CorpusStatsScorer(), chunk_size=100, prepare=False).runs
    assert small != large
    # ... so the evaluation indexes the whole corpus first, and chunking no longer matters
    a = evaluate_model(tiny_benchmark, CorpusStatsScorer(), tmp_path / "a", batch_size=2)
    b = evaluate_model(tiny_benchmark, CorpusStatsScorer(), tmp_path / "b", batch_size=100)
    assert a.measures == b.measures
    assert a.fingerprint.startswith("corpus-stats|") and "seen" not in a.fingerprint
    assert "rerank_index" in a.timings
