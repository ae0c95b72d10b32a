"""The scoring loop of the reranking protocol: each distinct pair scored once, and a
scorer whose fingerprint moves mid-run never gets its scores cached under the old key."""

from __future__ import annotations

import pytest

from followir.data.types import Benchmark, Document, Query
from followir.evaluation.cache import ScoreCache
from followir.evaluation.rerank import rerank, score_pairs
from followir.models.base import Pair
from followir.models.bm25 import BM25Scorer
from tests.evaluation.scorers import CountingScorer


def test_a_pair_repeated_within_one_call_is_scored_once(tmp_path):
    # q1 and q2 carry the same text and instruction over the same pool: 4 pairs, 2 distinct.
    corpus = {"a": Document("a", "solar power"), "b": Document("b", "wind power")}
    queries = {q: Query(q, "energy", "renewables only") for q in ("q1", "q2")}
    bench = Benchmark("dup", queries, corpus, {"q1": {"a": 1}}, pools={"q1": ["a", "b"], "q2": ["a", "b"]})
    scorer = CountingScorer()
    out = rerank(bench, scorer, cache=ScoreCache(tmp_path / "c.sqlite"))
    assert len(scorer.pairs_seen) == 2
    assert (out.pairs_scored, out.pairs_cached) == (2, 2)
    assert out.runs["og"]["q1"] == out.runs["og"]["q2"] and set(out.runs["og"]["q1"]) == {"a", "b"}


def test_fingerprint_change_while_scoring_is_refused(tmp_path):
    # BM25 indexed on one document drops its corpus-level IDF when it meets another; the
    # scores of that chunk must not be cached under the fingerprint that named the old IDF.
    bm = BM25Scorer()
    bm.index(["a"], ["solar power"])
    before = bm.fingerprint
    pairs = [Pair("solar", "", "a", "solar power"), Pair("solar", "", "b", "wind power")]
    cache = ScoreCache(tmp_path / "c.sqlite")
    with pytest.raises(RuntimeError, match="changed its fingerprint"):
        score_pairs(bm, pairs, cache=cache)
    assert bm.fingerprint != before
    assert len(cache) == 0
