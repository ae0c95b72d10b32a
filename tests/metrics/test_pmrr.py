"""p-MRR against hand-computed values (FollowIR's definition, trec_eval's tie rule)."""

from __future__ import annotations

import pytest

from followir.metrics import parse_measure
from followir.metrics.base import EvalInput
from followir.metrics.pmrr import pmrr, pmrr_per_query
from followir.metrics.ranking import ranked_ids, ranks

OG = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}  # ranks a=1 b=2 c=3


def test_moved_down_is_positive():
    changed = {"q": {"a": 1.0, "b": 2.0, "c": 3.0}}  # a: 1 -> 3
    assert pmrr_per_query(OG, changed, {"q": ["a"]}) == {"q": pytest.approx(1 - 1 / 3)}


def test_moved_up_is_negative():
    changed = {"q": {"a": 1.0, "b": 2.0, "c": 3.0}}  # c: 3 -> 1
    assert pmrr_per_query(OG, changed, {"q": ["c"]}) == {"q": pytest.approx(1 / 3 - 1)}


def test_unchanged_is_zero():
    changed = {"q": {"a": 5.0, "b": 4.0, "c": 0.0}}  # b stays at 2
    assert pmrr_per_query(OG, changed, {"q": ["b"]}) == {"q": 0.0}


def test_ties_follow_trec_eval_not_insertion_order():
    # og: a and b tie at 1.0; trec_eval breaks ties by doc id descending -> b=1, a=2.
    og = {"q": {"a": 1.0, "b": 1.0, "c": 0.5}}
    # changed: c=1, then a/b tie -> b=2, a=3.
    changed = {"q": {"c": 2.0, "a": 1.0, "b": 1.0}}
    assert ranked_ids(og["q"]) == ["b", "a", "c"]
    assert ranks(changed["q"]) == {"c": 1, "b": 2, "a": 3}
    # a goes 2 -> 3: 1 - 2/3.  Insertion order (or id ascending) would give a 1 -> 2: 0.5.
    assert pmrr_per_query(og, changed, {"q": ["a"]})["q"] == pytest.approx(1 / 3)


def test_tie_rule_independent_of_dict_order():
    one = {"x": 1.0, "y": 1.0, "z": 1.0}
    two = {"z": 1.0, "x": 1.0, "y": 1.0}
    assert ranked_ids(one) == ranked_ids(two) == ["z", "y", "x"]


def test_doc_missing_from_one_run_ranks_past_the_longer_run():
    changed = {"q": {"b": 2.0, "c": 1.0}}  # a absent: rank max(3, 2) + 1 = 4
    assert pmrr_per_query(OG, changed, {"q": ["a"]})["q"] == pytest.approx(1 - 1 / 4)


def test_doc_missing_from_one_run_ranks_past_its_pool():
    changed = {"q": {"b": 2.0, "c": 1.0}}  # pool of 10: a absent -> rank 11
    got = pmrr_per_query(OG, changed, {"q": ["a"]}, pool_sizes={"q": 10})
    assert got["q"] == pytest.approx(1 - 1 / 11)


def test_doc_missing_from_both_runs_scores_zero():
    changed = {"q": {"a": 1.0, "b": 2.0, "c": 3.0}}
    assert pmrr_per_query(OG, changed, {"q": ["zz"]}) == {"q": 0.0}


def test_query_missing_from_both_runs_scores_zero():
    assert pmrr_per_query({}, {}, {"q": ["a"]}) == {"q": 0.0}


def test_macro_average_differs_from_micro():
    og = {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}, "q2": {"x": 3.0, "y": 2.0, "z": 1.0}}
    changed = {"q1": {"a": 1.0, "b": 2.0, "c": 3.0}, "q2": {"x": 3.0, "y": 2.0, "z": 1.0}}
    docs = {"q1": ["a"], "q2": ["x", "y", "z"]}
    per_query = pmrr_per_query(og, changed, docs)
    assert per_query == {"q1": pytest.approx(2 / 3), "q2": 0.0}
    # macro: per query, then over queries = (2/3 + 0) / 2 = 1/3, x100.
    # micro over the 4 documents would be (2/3) / 4 = 1/6.
    assert pmrr(og, changed, docs) == pytest.approx(100 / 3)
    assert pmrr(og, changed, docs) != pytest.approx(100 / 6)


def test_queries_without_changed_docs_are_not_averaged():
    changed = {"q": {"a": 1.0, "b": 2.0, "c": 3.0}}
    assert pmrr_per_query(OG, changed, {"q": ["a"], "other": []}) == {"q": pytest.approx(2 / 3)}


def test_measure_object_uses_changed_docs_and_pools():
    m = parse_measure("p-MRR")
    assert str(m) == "p-MRR" and m.needs_changes
    changed = {"q": {"b": 2.0, "c": 1.0}}
    inp = EvalInput(run_og=OG, qrels_og={}, run_changed=changed, changed_docs={"q": ["a"]},
                    pool_sizes={"q": 4})
    assert m.per_query(inp)["q"] == pytest.approx(1 - 1 / 5)
