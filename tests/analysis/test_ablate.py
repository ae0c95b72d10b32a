from __future__ import annotations

import json

import pytest

from followir.analysis.ablate import VARIANTS, run_ablation, variant_texts
from followir.data.types import Benchmark, Document, Query
from followir.errors import SpecError
from followir.evaluation.results import EvalResult
from tests.analysis.standins import ExplodingModel, OverlapModel


def make_bench(extra: dict | None = None) -> Benchmark:
    """One query, three docs; d1 is relevant under the original instruction only."""
    corpus = {
        "d1": Document("d1", "apple orchard farming"),
        "d2": Document("d2", "apple pie recipe"),
        "d3": Document("d3", "banana bread"),
    }
    q = Query("q1", "apple", "orchard farming", "pie recipe", extra=extra or {})
    return Benchmark(
        name="fruit",
        queries={"q1": q},
        corpus=corpus,
        qrels_og={"q1": {"d1": 1}},
        qrels_changed={"q1": {"d1": 0, "d2": 1}},
        pools={"q1": ["d1", "d2", "d3"]},
        main_measure="MAP@1000",
    )


def test_ablation_scores_by_hand(tmp_path):
    # OverlapModel scores = number of distinct words of query+instruction in the doc.
    # none:  "apple" -> d1=1, d2=1, d3=0; tie broken by doc id descending -> d2, d1, d3;
    #        relevant d1 at rank 2 -> AP = 1/2 = 0.5.
    # full:  "apple orchard farming" -> d1=3, d2=1 -> d1 first -> AP = 1.0, delta = +0.5.
    #        changed "apple pie recipe" -> d2=3, d1=1: changed doc d1 goes rank 1 -> 2,
    #        p-MRR = 1 - 1/2 = 0.5.
    # keywords (offline): "orchard farming" (both content words) -> as full: AP 1.0, p-MRR 0.5.
    # short (offline): "orchard farming" is one 2-word sentence -> cut to 2*2//3 = 1 word,
    #        "orchard." -> d1=2, d2=1 -> AP 1.0; changed "pie." -> d2=2, d1=1 -> p-MRR 0.5.
    res = run_ablation(make_bench(), {"overlap": OverlapModel()}, tmp_path)
    rows = {r.variant: r for r in res.rows()}
    assert list(rows) == list(VARIANTS)
    assert rows["none"].main == pytest.approx(0.5) and rows["none"].pmrr is None
    for v in ("keywords", "short", "full"):
        assert rows[v].main == pytest.approx(1.0)
        assert rows[v].delta == pytest.approx(0.5)
        assert rows[v].pmrr == pytest.approx(0.5)
    assert rows["short"].source == "offline" and rows["full"].source == "benchmark"
    saved = EvalResult.load(tmp_path / "fruit" / "overlap.short.json")
    assert saved.variant == "short" and saved.measures["MAP@1000"].per_query == {"q1": 1.0}
    variants = [json.loads(x) for x in (tmp_path / "fruit" / "variants.jsonl").read_text().splitlines()]
    assert variants == [
        {"_id": "q1", "none": "", "keywords": "orchard farming", "keywords_changed": "pie recipe",
         "short": "orchard.", "short_changed": "pie.", "full": "orchard farming",
         "full_changed": "pie recipe"}
    ]
    md = (tmp_path / "fruit" / "ablation.md").read_text()
    assert "| overlap | full | benchmark | 100.0 | +50.0 |" in md

    # resumable: a second run loads every saved result and never scores
    again = run_ablation(make_bench(), {"overlap": ExplodingModel()}, tmp_path)
    assert [r.main for r in again.rows()] == [r.main for r in res.rows()]


def test_data_fields_win_and_have_no_altered_side():
    bench = make_bench(extra={"keywords": '["banana"]', "short_query": "Find bread recipes."})
    kw = variant_texts(bench, "keywords")
    assert (kw.source, kw.og, kw.changed) == ("data", {"q1": "banana"}, None)
    assert variant_texts(bench, "short").og == {"q1": "Find bread recipes."}
    assert variant_texts(bench, "short", use_data=False).source == "offline"
    with pytest.raises(SpecError, match="keywords"):
        variant_texts(bench, "medium")


class FixedLLM:
    """A generator stand-in that answers like the paper's prompts expect."""

    name = "fixed-llm"
    fingerprint = "fixed-llm"

    def __init__(self):
        self.settings = []

    def generate(self, prompt: str, sampling=None) -> str:
        self.settings.append(sampling)
        if prompt.startswith("I have instructions that are specific to a question"):
            return "Abstract Command: Find a farming document for this question."
        return 'Keywords: ["farming"]'


def test_generator_writes_short_then_keywords_from_short():
    bench = make_bench()
    assert variant_texts(bench, "short", FixedLLM()).og == {"q1": "Find a farming document for this question."}
    llm = FixedLLM()
    kw = variant_texts(bench, "keywords", llm)
    assert kw.og == {"q1": "farming"} and kw.changed == {"q1": "farming"} and kw.source == "fixed-llm"
    assert llm.settings and all(s is not None and s.greedy for s in llm.settings)  # reproducible


def test_empty_altered_variant_is_an_error_naming_the_query():
    # the altered instruction has no content word, so the offline keywords are empty;
    # before, only the original side was checked and p-MRR compared against the query alone
    from dataclasses import replace

    from followir.errors import DataError

    bench = make_bench()
    bench.queries["q1"] = replace(bench.queries["q1"], instruction_changed="it is not about this")
    with pytest.raises(DataError, match=r"empty keywords instruction for queries \['q1 \(altered\)'\]"):
        variant_texts(bench, "keywords")
