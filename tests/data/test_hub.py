"""FollowIR hub and mteb v2 layouts, read from committed fixture files in those exact schemas."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from followir.data.hub import from_followir_tables, local_tables, read_hub_dir
from followir.data.jsonl import iter_rows
from followir.errors import DataError


def _core(b):
    """What both layouts must agree on (mteb v2 drops keywords/short_query)."""
    queries = {q: (v.text, v.instruction_og, v.instruction_changed) for q, v in b.queries.items()}
    return queries, b.corpus, b.qrels_og, b.qrels_changed, b.pools


def test_followir_hub_copy(fixtures):
    b = read_hub_dir(fixtures / "followir_hub")
    assert b.metadata["layout"] == "followir-hub"
    assert set(b.queries) == {"301", "302"}  # the JSON integer 302 became a string
    assert b.queries["301"].extra == {"keywords": "hydroelectric projects", "short_query": "hydro projects"}
    # pools come one (qid, pid) pair per row and keep their order
    assert b.pools == {"301": ["FBIS3-1", "FBIS3-2", "FBIS3-3"], "302": ["FBIS3-3", "FT-4", "FT-5"]}
    # relevant under og (score 1) and not under changed (score 0): worked out by hand
    assert b.changed_docs() == {"301": ["FBIS3-2"], "302": ["FT-5"]}


def test_mteb_v2_pairs_queries_back(fixtures, caplog):
    with caplog.at_level(logging.WARNING):
        m = read_hub_dir(fixtures / "mteb_v2")
    assert m.metadata["layout"] == "mteb-v2"
    assert not any("-og" in q or "-changed" in q for q in [*m.queries, *m.qrels_og, *m.qrels_changed, *m.pools])
    assert _core(m) == _core(read_hub_dir(fixtures / "followir_hub"))
    assert not caplog.records  # the fixture's qrel_diff agrees with qrels_og vs qrels_changed


def test_mteb_v2_from_parquet_shards(tmp_path, fixtures):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    for src in (fixtures / "mteb_v2").glob("*/test.jsonl"):
        rows = [json.loads(line) for line in src.read_text().splitlines()]
        out = tmp_path / src.parent.name / "test-00000-of-00001.parquet"
        out.parent.mkdir()
        pq.write_table(pa.Table.from_pylist(rows), out)
    assert _core(read_hub_dir(tmp_path)) == _core(read_hub_dir(fixtures / "mteb_v2"))


def test_datasets_rows_use_the_same_conversion(fixtures):
    datasets = pytest.importorskip("datasets")
    tables = {}
    for sub in (fixtures / "followir_hub").iterdir():
        rows = [json.loads(line) for f in sub.glob("*.jsonl") for line in f.read_text().splitlines()]
        if sub.name == "queries":  # Arrow needs one type per column, as the hub has
            rows = [dict(r, _id=str(r["_id"])) for r in rows]
        if sub.name.startswith("qrels"):
            rows = [dict(r, **{"query-id": str(r["query-id"])}) for r in rows]
        tables[sub.name] = datasets.Dataset.from_list(rows)
    b = from_followir_tables(
        lambda c: iter_rows(tables[c], f"hub:{c}") if c in tables else None, "x", "hub"
    )
    assert _core(b) == _core(read_hub_dir(fixtures / "followir_hub"))


def _copy(fixtures, tmp_path, name="mteb_v2"):
    return shutil.copytree(fixtures / name, tmp_path / name)


def test_mteb_changed_without_og(tmp_path, fixtures, write):
    d = _copy(fixtures, tmp_path)
    write(d / "queries" / "test.jsonl", '{"_id": "301-changed", "text": "t"}\n{"_id": "302-og", "text": "u"}\n')
    with pytest.raises(DataError, match="'301-changed' has no '301-og' counterpart"):
        read_hub_dir(d)


def test_mteb_query_without_instruction(tmp_path, fixtures, write):
    d = _copy(fixtures, tmp_path)
    (d / "instruction" / "test.jsonl").unlink()
    (d / "instruction").rmdir()
    with pytest.raises(DataError, match=r"queries/test.jsonl:1: query '301-og' has no instruction"):
        read_hub_dir(d)


def test_mteb_instruction_column_when_no_config(tmp_path, fixtures, write):
    d = _copy(fixtures, tmp_path)
    shutil.rmtree(d / "instruction")
    shutil.rmtree(d / "qrel_diff")
    write(
        d / "queries" / "test.jsonl",
        '{"_id": "301-og", "text": "t", "instruction": "I1"}\n{"_id": "302-og", "text": "u", "instruction": "I2"}\n',
    )
    write(d / "default" / "test.jsonl", '{"query-id": "301-og", "corpus-id": "FT-4", "score": 1}\n')
    write(d / "top_ranked" / "test.jsonl", '{"query-id": "301-og", "corpus-ids": ["FT-4"]}\n')
    b = read_hub_dir(d)
    assert b.queries["301"].instruction_og == "I1" and b.queries["301"].instruction_changed is None
    assert b.qrels_changed is None  # no altered instructions at all: an ordinary benchmark


def test_mteb_qrel_diff_disagreement_is_reported(tmp_path, fixtures, write, caplog):
    d = _copy(fixtures, tmp_path)
    write(d / "qrel_diff" / "test.jsonl", '{"query-id": "301", "corpus-ids": ["FBIS3-1", "FBIS3-2"]}\n')
    with caplog.at_level(logging.WARNING):
        read_hub_dir(d)
    assert "qrel_diff for 301 lists 2 documents; qrels_og vs qrels_changed give 1" in caplog.text


def test_unknown_layout_lists_both(tmp_path, write):
    write(tmp_path / "corpus" / "test.jsonl", '{"_id": "a", "text": "x"}\n')
    with pytest.raises(DataError, match="match neither the FollowIR hub layout"):
        read_hub_dir(tmp_path)


def test_split_must_exist_when_several(tmp_path, fixtures):
    d = _copy(fixtures, tmp_path, "followir_hub")
    shutil.copy(d / "qrels_og" / "test.jsonl", d / "qrels_og" / "dev.jsonl")
    shutil.copy(d / "qrels_og" / "test.jsonl", d / "qrels_og" / "train.jsonl")
    (d / "qrels_og" / "test.jsonl").unlink()
    _, configs = local_tables(d, "dev")
    assert "qrels_og" in configs
    with pytest.raises(DataError, match="config 'qrels_og' has no split 'test'"):
        local_tables(d, "test")[0]("qrels_og")


def test_mteb_extra_fields_are_json_like_the_plain_layout(tmp_path, fixtures, write):
    # a non-string extra column must read the same in every layout: JSON, not a Python repr
    from followir.data.plain import read_queries

    d = _copy(fixtures, tmp_path)
    rows = ['{"_id": "301-og", "text": "t", "tags": ["a", "b"], "n": 3}',
            '{"_id": "301-changed", "text": "t"}', '{"_id": "302-og", "text": "u"}',
            '{"_id": "302-changed", "text": "u"}']
    write(d / "queries" / "test.jsonl", "\n".join(rows) + "\n")
    extra = read_hub_dir(d).queries["301"].extra
    assert extra == {"tags": '["a", "b"]', "n": "3"}
    plain = write(tmp_path / "q.jsonl", rows[0] + "\n")
    assert read_queries(plain)["301-og"].extra == extra
