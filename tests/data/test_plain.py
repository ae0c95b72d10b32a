"""The plain FollowIR layout: read, write, round-trip, and the real FollowIR query pairs."""

from __future__ import annotations

import json

import pytest

from followir.data.plain import read_plain, read_queries, write_plain
from followir.data.registry import load_benchmark
from followir.data.types import Benchmark, Document, Query
from followir.errors import DataError


def _bench() -> Benchmark:
    return Benchmark(
        name="tiny",
        queries={
            "1": Query("1", "q one", "og one", "changed one", {"keywords": "one", "short_query": "q1"}),
            "2": Query("2", "q two", "og two", None),
        },
        corpus={"a": Document("a", "alpha", "A"), "b": Document("b", "beta"), "c": Document("c", "gamma")},
        qrels_og={"1": {"a": 1, "b": 1}, "2": {"c": 2}},
        qrels_changed={"1": {"a": 1, "b": 0}},
        pools={"1": ["a", "b", "c"], "2": ["c", "a"]},
        main_measure="nDCG@5",
        metadata={"note": "hand-made"},
    )


def test_round_trip(tmp_path):
    b = _bench()
    write_plain(b, tmp_path / "out")
    assert (tmp_path / "out" / "qrels_og" / "test.tsv").read_text().startswith("query-id\tcorpus-id\tscore")
    r = read_plain(tmp_path / "out")
    assert r.name == "tiny" and r.main_measure == "nDCG@5"
    assert r.queries == b.queries and r.corpus == b.corpus
    assert r.qrels_og == b.qrels_og and r.qrels_changed == b.qrels_changed and r.pools == b.pools
    assert r.changed_docs()["1"] == ["b"]
    assert r.metadata["note"] == "hand-made" and r.metadata["layout"] == "plain"


def test_round_trip_of_hub_fixture_keeps_extras(tmp_path, fixtures):
    b = load_benchmark(fixtures / "followir_hub")
    r = read_plain(write_plain(b, tmp_path / "plain"))
    assert r.queries == b.queries and r.qrels_changed == b.qrels_changed and r.pools == b.pools
    assert r.queries["302"].extra == {"keywords": "crashworthy vehicles", "short_query": "safe cars"}
    assert r.metadata["origin"] == str(fixtures / "followir_hub")


def test_parquet_alternatives(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    b = _bench()
    d = write_plain(b, tmp_path / "p")
    for stem in ("corpus", "queries", "top_ranked"):
        rows = [json.loads(line) for line in (d / f"{stem}.jsonl").read_text().splitlines()]
        pq.write_table(pa.Table.from_pylist(rows), d / f"{stem}.parquet")
        (d / f"{stem}.jsonl").unlink()
    r = read_plain(d)
    assert r.queries == b.queries and r.corpus == b.corpus and r.pools == b.pools


def test_both_jsonl_and_parquet_is_ambiguous(tmp_path, write):
    d = write_plain(_bench(), tmp_path / "p")
    write(d / "corpus.parquet", "")
    with pytest.raises(DataError, match="both corpus.jsonl and corpus.parquet exist"):
        read_plain(d)


def test_missing_qrels_names_the_file(tmp_path):
    d = write_plain(_bench(), tmp_path / "p")
    (d / "qrels_og" / "test.tsv").unlink()
    with pytest.raises(DataError, match=r"missing qrels_og/test.tsv"):
        read_plain(d)


def test_qrels_naming_unknown_document(tmp_path, write):
    d = write_plain(_bench(), tmp_path / "p")
    write(d / "qrels_changed" / "test.tsv", "query-id\tcorpus-id\tscore\n1\tzzz\t1\n")
    with pytest.raises(DataError, match="qrels_changed for query '1' names unknown document id 'zzz'"):
        read_plain(d)


def test_changed_qrels_need_an_altered_instruction(tmp_path, write):
    d = write_plain(_bench(), tmp_path / "p")
    write(d / "qrels_changed" / "test.tsv", "query-id\tcorpus-id\tscore\n2\tc\t0\n")
    with pytest.raises(DataError, match="without an 'instruction_changed': \\['2'\\]"):
        read_plain(d)


def test_conflicting_instruction_fields(tmp_path, write):
    p = write(tmp_path / "q.jsonl", '{"_id": "1", "text": "t", "instruction": "a", "instruction_og": "b"}\n')
    with pytest.raises(DataError, match="both 'instruction' and 'instruction_og'") as e:
        read_queries(p)
    assert e.value.line == 1


def test_duplicate_query_id(tmp_path, write):
    p = write(tmp_path / "q.jsonl", '{"_id": 1, "text": "t"}\n{"_id": "1", "text": "u"}\n')
    with pytest.raises(DataError, match="duplicate query id '1'") as e:
        read_queries(p)
    assert e.value.line == 2


@pytest.mark.shared_data
@pytest.mark.parametrize("name,count,has_og", [("robust04", 52, True), ("core17", 20, True), ("news21", 32, False)])
def test_real_followir_pairs(shared, name, count, has_og):
    queries = read_queries(shared / "followir-instructions" / f"{name}.queries.jsonl")
    assert len(queries) == count
    assert all(q.instruction_changed for q in queries.values())
    assert all(bool(q.instruction_og) == has_og for q in queries.values())
    if has_og:
        # the altered instruction is a *different* text from the original in every pair
        assert all(q.instruction_changed != q.instruction_og for q in queries.values())


@pytest.mark.parametrize("meta", ["[1, 2]", '{"name": "x", "metadata": "oops"}'])
def test_benchmark_json_of_the_wrong_shape_names_the_file(tmp_path, write, meta):
    d = write_plain(_bench(), tmp_path / "p")
    write(d / "benchmark.json", meta)
    with pytest.raises(DataError, match="benchmark.json: expected") as e:
        read_plain(d)
    assert e.value.path == str(d / "benchmark.json")


def test_benchmark_json_is_written_as_utf8_whatever_the_locale(tmp_path):
    # non-ASCII metadata, written with ensure_ascii=False, must not depend on the locale's
    # encoding (read_plain reads UTF-8); -X warn_default_encoding flags any open() without one
    import subprocess
    import sys

    code = (
        "import sys; from followir.data.plain import write_plain, read_plain; "
        "sys.path.insert(0, sys.argv[2]); from test_plain import _bench; b = _bench(); "
        "b.name = 't\\u00efny\\u2603'; write_plain(b, sys.argv[1]); assert read_plain(sys.argv[1]).name == b.name"
    )
    from pathlib import Path

    res = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", "-W", "error::EncodingWarning", "-c", code,
         str(tmp_path / "p"), str(Path(__file__).parent)],
        capture_output=True, text=True, env={"PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "LC_ALL": "C", "PATH": ""},
    )
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "p" / "benchmark.json").read_bytes().decode("utf-8"))["name"] == "t\u00efny\u2603"
