import json
import math

import pytest

from followir.errors import DataError
from followir.models.base import Pair, Retriever, Scorer
from followir.models.bm25 import BM25Scorer
from followir.models.registry import load_model

DOCS = {
    "d1": "apple banana apple",
    "d2": "banana cherry",
    "d3": "cherry date elder fig",
    "d4": "grape",
}


def lucene_bm25(query: list[str], docs: dict[str, list[str]], k1=0.9, b=0.4) -> dict[str, float]:
    """Textbook Lucene BM25, written independently of bm25s."""
    n = len(docs)
    avgdl = sum(len(t) for t in docs.values()) / n
    out = {}
    for did, toks in docs.items():
        s = 0.0
        for term in query:
            df = sum(term in t for t in docs.values())
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = toks.count(term)
            s += idf * tf / (tf + k1 * (1 - b + b * len(toks) / avgdl))
        out[did] = s
    return out


def plain() -> BM25Scorer:
    return load_model("bm25?stemmer=none&stopwords=none")


def test_matches_lucene_formula_with_corpus_level_idf():
    bm = plain()
    bm.index(list(DOCS), list(DOCS.values()))
    pairs = [Pair("apple", "cherry", d, DOCS[d]) for d in ("d1", "d2")]  # a pool of two
    expected = lucene_bm25(["apple", "cherry"], {d: t.split() for d, t in DOCS.items()})
    assert bm.score(pairs) == pytest.approx([expected["d1"], expected["d2"]], rel=1e-5)
    assert "idf=corpus:" in bm.fingerprint
    assert isinstance(bm, Scorer) and isinstance(bm, Retriever)


def test_without_index_idf_comes_from_documents_seen():
    bm = plain()
    pool = {d: DOCS[d] for d in ("d1", "d2")}
    pairs = [Pair("apple", "cherry", d, t) for d, t in pool.items()]
    expected = lucene_bm25(["apple", "cherry"], {d: t.split() for d, t in pool.items()})
    assert bm.score(pairs) == pytest.approx([expected["d1"], expected["d2"]], rel=1e-5)
    assert bm.fingerprint.endswith("idf=seen")


def test_instruction_reaches_the_model():
    bm = load_model("bm25")
    doc = "Parliament elections were held in Europe"
    a, b = bm.score(
        [Pair("europe", "about the elections", "d", doc), Pair("europe", "about sport", "d", doc)]
    )
    assert a > b > 0


def test_stemming_and_stopwords():
    bm = load_model("bm25")
    bm.index(["d1", "d2"], ["the election results", "weather report"])
    assert bm.score([Pair("elections", "", "d1", "the election results")])[0] > 0
    assert bm.score([Pair("the", "", "d1", "the election results")]) == [0.0]


def test_retrieve_top_k_and_ties():
    bm = plain()
    bm.index(list(DOCS), list(DOCS.values()))
    expected = lucene_bm25(["banana"], {d: t.split() for d, t in DOCS.items()})
    got = bm.retrieve("banana", "", k=2)
    best = sorted(expected, key=lambda d: -expected[d])[:2]
    assert list(got) == best
    # d3 and d4 both score 0 for "banana": the tie breaks by doc id descending
    assert list(bm.retrieve("banana", "", k=4))[2:] == ["d4", "d3"]


def test_save_load_roundtrip(tmp_path):
    bm = plain()
    bm.index(list(DOCS), list(DOCS.values()))
    bm.save(tmp_path / "idx")
    files = {p.name for p in (tmp_path / "idx").iterdir()}
    assert all(name.endswith((".npy", ".json")) for name in files)
    assert json.loads((tmp_path / "idx" / "doc_ids.json").read_text())["doc_ids"] == list(DOCS)
    loaded = BM25Scorer.load(tmp_path / "idx")
    assert loaded.fingerprint == bm.fingerprint
    assert loaded.retrieve("cherry", "apple", 3) == bm.retrieve("cherry", "apple", 3)
    assert loaded.score([Pair("cherry", "", "d2", DOCS["d2"])]) == bm.score(
        [Pair("cherry", "", "d2", DOCS["d2"])]
    )
    with pytest.raises(DataError, match="not in the loaded bm25 index"):
        loaded.score([Pair("q", "", "d9", "new doc")])


def test_inconsistent_document_text_is_an_error():
    bm = plain()
    bm.score([Pair("q", "", "d1", "apple")])
    with pytest.raises(DataError, match="d1"):
        bm.score([Pair("q", "", "d1", "pear")])


def test_empty_documents_and_queries():
    bm = plain()
    bm.index(["a", "b"], ["", "apple"])
    assert bm.score([Pair("apple", "", "a", ""), Pair("", "", "b", "apple")]) == [0.0, 0.0]
    assert bm.score([]) == []


def test_rerank_protocol_gives_corpus_idf_independent_of_chunking(tiny_benchmark):
    from followir.evaluation.rerank import rerank

    whole = rerank(tiny_benchmark, load_model("bm25"), chunk_size=1000)
    tiny = rerank(tiny_benchmark, load_model("bm25"), chunk_size=1)
    assert whole.runs == tiny.runs
    # the og and changed instructions give different BM25 runs
    assert whole.runs["og"] != whole.runs["changed"]
    # the reference: one index over the whole corpus, scored directly
    bm = load_model("bm25")
    ids = list(tiny_benchmark.corpus)
    bm.index(ids, [tiny_benchmark.corpus[d].full_text for d in ids])
    q = tiny_benchmark.queries["q1"]
    doc = tiny_benchmark.corpus["d1"]
    expected = bm.score([Pair(q.text, q.instruction_og, "d1", doc.full_text)])[0]
    assert whole.runs["og"]["q1"]["d1"] == pytest.approx(expected)


def test_load_names_a_missing_or_broken_index_file(tmp_path):
    bm = plain()
    bm.index(list(DOCS), list(DOCS.values()))
    bm.save(tmp_path / "idx")
    (tmp_path / "idx" / "doc_ids.json").unlink()
    with pytest.raises(DataError, match=r"doc_ids\.json: file is missing"):
        BM25Scorer.load(tmp_path / "idx")
    (tmp_path / "idx" / "doc_ids.json").write_text('{"doc_ids": [\n')
    with pytest.raises(DataError, match=r"doc_ids\.json:2: not valid JSON"):
        BM25Scorer.load(tmp_path / "idx")
