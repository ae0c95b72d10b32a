"""BEIR(+) directories, on small made-up sets and on the real shared ones."""

from __future__ import annotations

import pytest

from followir.data.beir import read_beir
from followir.errors import DataError


def _make(write, root, qrels_name="test"):
    write(root / "corpus.jsonl", '{"_id": "d1", "title": "", "text": "x"}\n{"_id": "d2", "title": "", "text": "y"}\n')
    write(root / "queries.jsonl", '{"_id": "1", "text": "a", "instruction": "be strict"}\n{"_id": 2, "text": "b"}\n')
    write(root / "qrels" / f"{qrels_name}.tsv", "query-id\tcorpus-id\tscore\n1\td1\t1\n")
    return root


def test_instruction_field_and_unjudged_queries(tmp_path, write):
    d = _make(write, tmp_path / "b")
    b = read_beir(d)
    assert list(b.queries) == ["1"]  # query 2 has no judgments: dropped, as BEIR does
    assert b.queries["1"].instruction_og == "be strict" and not b.has_changes
    assert set(read_beir(d, keep_unjudged=True).queries) == {"1", "2"}


def test_other_split_and_missing_split(tmp_path, write):
    d = _make(write, tmp_path / "b", qrels_name="dev")
    assert read_beir(d, split="dev").qrels_og == {"1": {"d1": 1}}
    with pytest.raises(DataError, match=r"no qrels/test.tsv; splits present: \['dev'\]"):
        read_beir(d)


def test_pool_naming_unknown_document(tmp_path, write):
    d = _make(write, tmp_path / "b")
    write(d / "top_ranked.jsonl", '{"qid": "1", "pids": ["d1", "nope"]}\n')
    with pytest.raises(DataError, match="pool of query '1' names unknown document id 'nope'"):
        read_beir(d)


@pytest.mark.shared_data
def test_cisi(shared):
    b = read_beir(shared / "cisi")
    assert (len(b.queries), len(b.corpus), sum(map(len, b.qrels_og.values()))) == (76, 1460, 3114)
    assert b.pools is None and not b.has_changes


@pytest.mark.shared_data
def test_birco_clinical_trial(shared):
    b = read_beir(shared / "birco-clinical-trial-dev")
    assert (len(b.queries), len(b.corpus)) == (9, 248)
    assert all(q.instruction_og for q in b.queries.values())
    assert {g for docs in b.qrels_og.values() for g in docs.values()} <= {0, 1, 2}
    assert set(b.pools) == set(b.queries)
    assert b.pool("201415")[0] == "NCT00003702"


@pytest.mark.shared_data
def test_birco_wtb(shared):
    b = read_beir(shared / "birco-wtb-dev")
    assert (len(b.queries), len(b.corpus)) == (57, 2404)
    assert sum(map(len, b.pools.values())) > 0 and set(b.pools) == set(b.queries)
