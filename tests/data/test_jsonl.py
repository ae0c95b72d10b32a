"""Line-aware table readers: every bad input names its file and line."""

from __future__ import annotations

import sys

import pytest

from followir.data.jsonl import (
    iter_table,
    pools_from_records,
    read_corpus,
    read_pools,
    read_qrels_table,
    write_jsonl,
    write_qrels_tsv,
)
from followir.errors import DataError, MissingDependency


def test_bad_json_names_file_and_line(tmp_path, write):
    p = write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "x"}\n\n{"_id": "b", "text": \n')
    with pytest.raises(DataError) as e:
        read_corpus(p)
    assert e.value.line == 3 and e.value.path == str(p)
    assert f"{p}:3:" in str(e.value) and "invalid JSON" in str(e.value)


def test_non_object_line(tmp_path, write):
    p = write(tmp_path / "corpus.jsonl", '["a", "b"]\n')
    with pytest.raises(DataError, match="expected a JSON object, got list"):
        read_corpus(p)


def test_missing_field_names_field_and_line(tmp_path, write):
    p = write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "x"}\n{"title": "t", "text": "y"}\n')
    with pytest.raises(DataError, match="missing field '_id'") as e:
        read_corpus(p)
    assert e.value.line == 2
    p = write(tmp_path / "c2.jsonl", '{"_id": "a", "title": "t"}\n')
    with pytest.raises(DataError, match="document 'a': missing field 'text'"):
        read_corpus(p)


def test_duplicate_document_names_both_lines(tmp_path, write):
    p = write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "text": "y"}\n{"_id": "a", "text": "z"}\n')
    with pytest.raises(DataError, match=r"duplicate document id 'a' \(first at .*corpus.jsonl:1\)") as e:
        read_corpus(p)
    assert e.value.line == 3


def test_integer_ids_become_strings(tmp_path, write):
    p = write(tmp_path / "corpus.jsonl", '{"_id": 7, "title": "T", "text": "x"}\n')
    corpus = read_corpus(p)
    assert list(corpus) == ["7"] and corpus["7"].full_text == "T\nx"
    p = write(tmp_path / "bad.jsonl", '{"_id": true, "text": "x"}\n')
    with pytest.raises(DataError, match="string or integer"):
        read_corpus(p)


def test_qrels_tsv_header_and_values(tmp_path, write):
    p = write(tmp_path / "test.tsv", "query-id\tcorpus-id\tscore\n1\td1\t2\n1\td2\t0\n2\td1\t1\n")
    assert read_qrels_table(p) == {"1": {"d1": 2, "d2": 0}, "2": {"d1": 1}}


def test_qrels_instructir_header_is_positional(tmp_path, write):
    p = write(tmp_path / "test.tsv", "qid\tpid\tscore\n5_1\t9_1\t1\n")
    assert read_qrels_table(p) == {"5_1": {"9_1": 1}}


@pytest.mark.parametrize("score,ok", [("1", 1), ("1.0", 1), ("-1", -1), ("0.5", None), ("yes", None)])
def test_qrels_scores_must_be_integers(tmp_path, score, ok, write):
    p = write(tmp_path / "test.tsv", f"query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t{score}\n")
    if ok is None:
        with pytest.raises(DataError, match="not an integer") as e:
            read_qrels_table(p)
        assert e.value.line == 3
    else:
        assert read_qrels_table(p)["1"]["d2"] == ok


def test_qrels_duplicate_pair(tmp_path, write):
    p = write(tmp_path / "test.tsv", "1\td1\t1\n1\td2\t1\n1\td1\t0\n")
    with pytest.raises(DataError, match=r"duplicate judgment for query '1', document 'd1' \(first at .*:1\)") as e:
        read_qrels_table(p)
    assert e.value.line == 3


def test_qrels_column_count(tmp_path, write):
    p = write(tmp_path / "test.tsv", "1\td1\n")
    with pytest.raises(DataError, match="expected 3 tab-separated columns"):
        read_qrels_table(p)
    p = write(tmp_path / "trec.tsv", "301 0 FT-1 1\n")
    with pytest.raises(DataError, match="TREC qrels"):
        read_qrels_table(p)


def test_pools_list_and_pair_forms_agree(tmp_path, write):
    lists = write(tmp_path / "a.jsonl", '{"qid": "1", "pids": ["d1", "d2"]}\n{"qid": 2, "pids": [3]}\n')
    pairs = write(
        tmp_path / "b.jsonl",
        '{"qid": "1", "pid": "d1"}\n{"qid": "1", "pid": "d2"}\n{"qid": "2", "pid": 3}\n',
    )
    assert read_pools(lists) == read_pools(pairs) == {"1": ["d1", "d2"], "2": ["3"]}


def test_pools_reject_repeats(tmp_path, write):
    p = write(tmp_path / "top.jsonl", '{"qid": "1", "pids": ["d1", "d2", "d1"]}\n')
    with pytest.raises(DataError, match="'d1' listed twice in the pool of query '1'"):
        read_pools(p)
    p = write(tmp_path / "top2.jsonl", '{"qid": "1", "pids": ["d1"]}\n{"qid": "1", "pids": ["d2"]}\n')
    with pytest.raises(DataError, match="duplicate pool for query '1'") as e:
        read_pools(p)
    assert e.value.line == 2
    p = write(tmp_path / "top3.jsonl", '{"qid": "1", "pids": "d1"}\n')
    with pytest.raises(DataError, match="must be a list"):
        read_pools(p)


def test_parquet_tables_and_row_errors(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"_id": "a", "title": "", "text": "x"}, {"_id": "b", "title": "", "text": "y"}]), tmp_path / "corpus.parquet")
    assert sorted(read_corpus(tmp_path / "corpus.parquet")) == ["a", "b"]
    pq.write_table(pa.Table.from_pylist([{"query-id": 1, "corpus-id": "a", "score": 1}, {"query-id": 1, "corpus-id": "a", "score": 2}]), tmp_path / "qrels.parquet")
    with pytest.raises(DataError, match=r"qrels.parquet: row 2: duplicate judgment"):
        read_qrels_table(tmp_path / "qrels.parquet")


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch, write):
    p = write(tmp_path / "corpus.parquet", "not really parquet")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as if pyarrow were not installed
    with pytest.raises(MissingDependency, match=r"followir\[parquet\]"):
        read_corpus(p)


def test_unsupported_suffix(tmp_path, write):
    p = write(tmp_path / "corpus.xml", "<x/>")
    with pytest.raises(DataError, match="unsupported table format '.xml'"):
        list(iter_table(p))


def test_writers_round_trip(tmp_path):
    write_jsonl(tmp_path / "x" / "top.jsonl", [{"qid": "1", "pids": ["a", "b"]}])
    assert read_pools(tmp_path / "x" / "top.jsonl") == {"1": ["a", "b"]}
    qrels = {"1": {"a": 1, "b": 0}, "q 2": {"c": 2}}
    write_qrels_tsv(tmp_path / "q" / "test.tsv", qrels)
    assert (tmp_path / "q" / "test.tsv").read_text().startswith("query-id\tcorpus-id\tscore\n")
    assert read_qrels_table(tmp_path / "q" / "test.tsv") == qrels


def test_pools_from_in_memory_rows():
    from followir.data.jsonl import iter_rows

    rows = [{"query-id": "1", "corpus-ids": ["a"]}, {"query-id": "2", "corpus-ids": None}]
    with pytest.raises(DataError, match=r"mem: row 2: field 'corpus-ids' must be a list"):
        pools_from_records(iter_rows(rows, "mem"))


def test_qrels_header_after_blank_lines(tmp_path, write):
    # the header is the first non-blank line, not line 1
    p = write(tmp_path / "q.tsv", "\nquery-id\tcorpus-id\tscore\n1\td1\t1\n")
    assert read_qrels_table(p) == {"1": {"d1": 1}}
    # only the first one: a later non-numeric score is still an error on its line
    p = write(tmp_path / "q2.tsv", "1\td1\t1\nquery-id\tcorpus-id\tscore\n")
    with pytest.raises(DataError, match="not an integer") as e:
        read_qrels_table(p)
    assert e.value.line == 2


def test_qrels_tsv_and_parquet_for_one_split_is_ambiguous(tmp_path, write):
    from followir.data.jsonl import find_qrels

    write(tmp_path / "test.tsv", "1\td1\t1\n")
    assert find_qrels(tmp_path, "test") == tmp_path / "test.tsv"
    write(tmp_path / "test.parquet", "")
    with pytest.raises(DataError, match="both test.tsv and test.parquet exist"):
        find_qrels(tmp_path, "test")
