from __future__ import annotations

import pytest

from followir.data.types import Benchmark, Document, Query
from followir.errors import SpecError
from followir.evaluation.retrieve import full_retrieval, retrieved_changed_docs
from tests.analysis.standins import OverlapModel


def make_bench() -> Benchmark:
    corpus = {
        "d1": Document("d1", "solar panels electricity"),
        "d2": Document("d2", "solar water heating"),
        "d3": Document("d3", "wind turbines electricity"),
        "d4": Document("d4", "coal steam"),
    }
    q = Query("q1", "solar electricity", "heating water", "panels only")
    return Benchmark(
        name="energy",
        queries={"q1": q},
        corpus=corpus,
        qrels_og={"q1": {"d1": 1, "d2": 1, "d4": 1}},
        qrels_changed={"q1": {"d1": 1, "d2": 0, "d4": 0}},
        main_measure="MAP@1000",
    )


def test_full_retrieval_by_hand():
    # OverlapModel: score = distinct shared words; top k=2, ties by doc id descending.
    # none    "solar electricity":               d1=2, d2=1, d3=1 -> [d1, d3]
    #         AP vs qrels_og (d1, d2, d4 relevant: R=3) = (1/1) / 3 = 1/3
    # og      + "heating water":                 d2=3, d1=2       -> [d2, d1]
    #         AP = (1/1 + 2/2) / 3 = 2/3;  delta og - none = 1/3
    # changed + "panels only":                   d1=3, d3=1, d2=1 -> [d1, d3]
    #         AP vs qrels_changed (only d1) = 1/1 = 1.0
    # p-MRR: changed docs d2, d4; d4 is in neither run -> excluded; d2 rank 1 in og, absent
    #         from changed -> rank max(2, 2) + 1 = 3 -> 1 - 1/3 = 2/3.
    report, runs = full_retrieval(make_bench(), OverlapModel(), "overlap", k=2, n_boot=0)
    assert runs["none"] == {"q1": {"d1": 2.0, "d3": 1.0}}
    assert runs["og"] == {"q1": {"d2": 3.0, "d1": 2.0}}
    assert report.scores["none"].value == pytest.approx(1 / 3)
    assert report.scores["og"].value == pytest.approx(2 / 3)
    assert report.scores["changed"].value == pytest.approx(1.0)
    assert report.delta_instruction == pytest.approx(1 / 3)
    assert report.pmrr.value == pytest.approx(2 / 3)
    assert (report.n_changed, report.n_changed_retrieved) == (2, 1)
    res = report.to_eval_result()
    assert res.measures["MAP@1000"].value == pytest.approx(2 / 3)
    assert res.measures["none:MAP@1000"].value == pytest.approx(1 / 3)
    assert res.settings["protocol"] == "full-retrieval"
    assert "p-MRR=66.7 (1/2 changed docs retrieved)" in report.summary()


def test_retrieved_then_reranked_by_hand():
    # pool = union of top-2 runs: [d2, d1] + [d1, d3] -> [d2, d1, d3]; reranked by overlap:
    # og      d2=3, d1=2, d3=1 -> AP = (1 + 1) / 3 = 2/3
    # changed d1=3, d3=1, d2=1 -> [d1, d3, d2]; AP vs qrels_changed = 1.0
    # none    d1=2, d3=1, d2=1 -> [d1, d3, d2]; AP = (1/1 + 2/3) / 3 = 5/9
    # p-MRR: d2 rank 1 -> 3: 1 - 1/3 = 2/3 (d4 excluded again)
    report, runs = full_retrieval(
        make_bench(), OverlapModel(), "overlap", k=2, reranker=OverlapModel(),
        reranker_name="overlap", top_k=2, n_boot=0,
    )
    assert set(runs["og"]["q1"]) == {"d1", "d2", "d3"}
    assert report.scores["og"].value == pytest.approx(2 / 3)
    assert report.scores["changed"].value == pytest.approx(1.0)
    assert report.scores["none"].value == pytest.approx(5 / 9)
    assert report.pmrr.value == pytest.approx(2 / 3)
    assert report.to_eval_result().model == "overlap>>overlap"


def test_absent_from_both_runs_is_excluded_but_one_run_is_enough():
    kept = retrieved_changed_docs({"q": ["a", "b", "c"]}, {"q": {"a": 1.0}}, {"q": {"b": 1.0}})
    assert kept == {"q": ["a", "b"]}


def test_a_scorer_that_cannot_search_is_refused():
    class PairsOnly:
        name = "pairs"
        fingerprint = "p"

        def score(self, pairs):
            return [0.0] * len(pairs)

    with pytest.raises(SpecError, match="--rerank"):
        full_retrieval(make_bench(), PairsOnly(), "pairs")


def test_instructir_ndcg_and_robustness_by_hand():
    from followir.evaluation.retrieve import evaluate_instructir

    corpus = {
        "d1": Document("d1", "python snake habitat"),
        "d2": Document("d2", "python programming language"),
        "d3": Document("d3", "snake venom"),
    }

    def v(qid, base, text, instruction):
        return Query(qid, text, instruction, extra={"base_id": base})

    queries = {
        "b1_1": v("b1_1", "b1", "python", "programming"),
        "b1_2": v("b1_2", "b1", "python", "snake"),
        "b1_3": v("b1_3", "b1", "python", "language"),
        "b2_1": v("b2_1", "b2", "venom", "snake"),
    }
    qrels = {"b1_1": {"d2": 1}, "b1_2": {"d1": 1}, "b1_3": {"d1": 1}, "b2_1": {"d3": 1}}
    bench = Benchmark("iir", queries, corpus, qrels, main_measure="nDCG@10")
    # Overlap retrieval (no pools -> whole corpus), one relevant doc per variant, so
    # nDCG@10 = 1 / log2(1 + rank of the relevant doc):
    # b1_1 "python programming": d2=2, d1=1          -> d2 rank 1 -> 1
    # b1_2 "python snake":       d1=2, d2=1, d3=1    -> d1 rank 1 -> 1
    # b1_3 "python language":    d2=2, d1=1          -> d1 rank 2 -> 1/log2(3) = 0.630930
    # b2_1 "venom snake":        d3=2, d1=1          -> d3 rank 1 -> 1
    # nDCG@10 = (1 + 1 + 0.630930 + 1) / 4 = 0.907732
    # Robustness@10 = mean over bases of the worst variant = (0.630930 + 1) / 2 = 0.815465
    res = evaluate_instructir(bench, OverlapModel(), "overlap", k=10)
    assert res.measures["nDCG@10"].value == pytest.approx(0.907732, abs=1e-6)
    assert res.measures["Robustness@10"].value == pytest.approx(0.815465, abs=1e-6)
    assert res.measures["Robustness@10"].per_query == pytest.approx({"b1": 0.630930, "b2": 1.0}, abs=1e-6)
    assert res.settings["base_queries"] == 2


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name, map_range, ndcg_range",
    [
        # published BM25 MAP: CISI ~0.19-0.23; Vaswani ~0.29-0.31 (Terrier)
        ("cisi", (0.17, 0.25), (0.30, 0.45)),
        ("vaswani", (0.27, 0.33), (0.38, 0.52)),
    ],
)
def test_bm25_full_retrieval_on_real_collections(name, map_range, ndcg_range):
    from followir.data.registry import load_benchmark
    from followir.evaluation.retrieve import evaluate_runs_full, index_corpus, retrieve_runs
    from followir.models.registry import load_model
    from followir.paths import shared_data

    root = shared_data()
    if root is None or not (root / name).is_dir():
        pytest.skip(f"shared data {name} not available")
    bench = load_benchmark(root / name)
    bm25 = load_model("bm25")
    index_corpus(bench, bm25)
    runs = retrieve_runs(bench, bm25, k=1000, variants=("og",))
    assert all(len(docs) <= 1000 for docs in runs["og"].values())
    m = evaluate_runs_full(bench, runs, "bm25", 1000, "MAP@1000", n_boot=0).scores["og"].value
    n = evaluate_runs_full(bench, runs, "bm25", 1000, "nDCG@10", n_boot=0).scores["og"].value
    print(f"\n{name}: {len(bench.queries)} queries, {len(bench.corpus)} docs, BM25 MAP@1000={m:.4f} nDCG@10={n:.4f}")
    assert map_range[0] <= m <= map_range[1]
    assert ndcg_range[0] <= n <= ndcg_range[1]
