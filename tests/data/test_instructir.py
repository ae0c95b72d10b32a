"""InstructIR: variants of one base query, and the groups Robustness@k needs."""

from __future__ import annotations

import math

import pytest

from followir.data.instructir import query_groups, read_instructir
from followir.errors import DataError
from followir.metrics.base import EvalInput, parse_measure


def test_released_form_splits_at_sep(fixtures):
    b = read_instructir(fixtures / "instructir")
    q = b.queries["100_2"]
    assert q.text == "how long to roast whole chicken"
    assert q.instruction_og == "I cook for children and want quick recipes."
    assert query_groups(b) == {"100_1": "100", "100_2": "100", "200_1": "200"}
    assert b.qrels_og["100_2"] == {"100_2": 1}  # "qid pid score" header read positionally


def test_followir_form_with_base_id(tmp_path, write):
    write(tmp_path / "corpus.jsonl", '{"_id": "d", "text": "x"}\n')
    write(
        tmp_path / "queries.jsonl",
        '{"_id": "a", "text": "q", "instruction": "i1", "base_id": 7}\n'
        '{"_id": "b", "text": "q", "instruction": "i2", "base_id": 7}\n',
    )
    write(tmp_path / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\na\td\t1\nb\td\t1\n")
    b = read_instructir(tmp_path)
    assert query_groups(b) == {"a": "7", "b": "7"}
    assert b.queries["b"].instruction_og == "i2" and b.queries["b"].text == "q"


def test_variant_without_instruction_or_base(tmp_path, write):
    write(tmp_path / "corpus.jsonl", '{"_id": "d", "text": "x"}\n')
    write(tmp_path / "qrels" / "test.tsv", "a\td\t1\n")
    write(tmp_path / "queries.jsonl", '{"_id": "a_1", "text": "no separator here"}\n')
    with pytest.raises(DataError, match=r"queries.jsonl:1: query 'a_1': no 'instruction' field and no '\[SEP\]'"):
        read_instructir(tmp_path)
    write(tmp_path / "queries.jsonl", '{"_id": "a", "text": "i [SEP] q"}\n')
    with pytest.raises(DataError, match="no 'base_id' field and the id has no '<base>_<n>' form"):
        read_instructir(tmp_path)


def test_groups_drive_robustness(fixtures):
    """Robustness@10 is the worst variant per base query: computed by hand below."""
    b = read_instructir(fixtures / "instructir")
    run = {
        "100_1": {"100_1": 2.0, "x": 1.0},  # target at rank 1: nDCG 1
        "100_2": {"x": 2.0, "100_2": 1.0},  # target at rank 2: nDCG 1/log2(3)
        "200_1": {"200_1": 1.0},  # rank 1
    }
    m = parse_measure("Robustness@10")
    per = m.per_query(EvalInput(run_og=run, qrels_og=b.qrels_og, groups=query_groups(b)))
    assert per["100"] == pytest.approx(1 / math.log2(3))
    assert per["200"] == pytest.approx(1.0)
