"""Trec measures (ir_measures/pytrec_eval) against an independent hand computation."""

from __future__ import annotations

import math

import pytest

from followir.metrics import parse_measure
from followir.metrics.base import EvalInput

# d1 rel 1 at rank 1, d2 non-judged at rank 2, d3 rel 2 at rank 3, d4 non-judged at rank 4.
QRELS = {"q1": {"d1": 1, "d3": 2, "d5": 0}, "q2": {"x": 1}, "q3": {"y": 0}}
RUN = {"q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7, "d4": 0.6}}


def _per_query(name: str) -> dict[str, float]:
    return parse_measure(name).per_query(EvalInput(run_og=RUN, qrels_og=QRELS))


def test_average_precision_by_hand():
    # relevant at ranks 1 and 3, R = 2: AP = (1/1 + 2/3) / 2
    assert _per_query("MAP@1000")["q1"] == pytest.approx((1 + 2 / 3) / 2)


def test_ndcg_at_5_by_hand():
    # trec_eval gain = relevance label, discount log2(rank + 1)
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert _per_query("nDCG@5")["q1"] == pytest.approx(dcg / idcg)


def test_cutoff_changes_value():
    # at @2 only d1 counts: DCG 1; IDCG@2 = 2 + 1/log2(3)
    assert _per_query("nDCG@2")["q1"] == pytest.approx(1 / (2 + 1 / math.log2(3)))


def test_query_without_results_scores_zero_and_unjudged_query_is_skipped():
    got = _per_query("MAP@1000")
    assert got["q2"] == 0.0  # judged with a relevant doc, nothing retrieved
    assert "q3" not in got  # no relevant document: undefined, left out as trec_eval does
    assert set(got) == {"q1", "q2"}


def test_mrr_and_parse_round_trip():
    assert _per_query("MRR@10")["q1"] == pytest.approx(1.0)
    for text in ("MAP@1000", "nDCG@5", "MRR@10", "p-MRR"):
        assert str(parse_measure(text)) == text


def test_trec_measures_break_ties_like_our_ranking():
    # a and b tie; trec_eval ranks b (higher id) first, so relevant a sits at rank 2: AP 1/2.
    # Insertion order would put a first (AP 1) — our p-MRR ranks must agree with trec_eval's.
    run = {"q": {"a": 1.0, "b": 1.0}}
    got = parse_measure("MAP@1000").per_query(EvalInput(run_og=run, qrels_og={"q": {"a": 1}}))
    assert got["q"] == pytest.approx(0.5)
