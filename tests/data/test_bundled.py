"""The shipped followir-mini benchmark: in sync with its sources and structurally sound.

These checks read the shipped files through the normal loader (not the builder), so they
would catch a builder bug as well as a bad topic.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from followir.build.mini import KINDS, bundled_dir, bundled_sources_dir, stale_files, word_count
from followir.data.registry import load_benchmark
from followir.data.types import Benchmark

STOP = {"only", "such", "including", "that", "this", "from", "have", "with", "other", "about",
        "those", "which", "their", "they", "them", "were", "been", "into", "also", "relevant",
        "documents", "document", "studies", "made"}


@pytest.fixture(scope="module")
def bench() -> Benchmark:
    return load_benchmark("followir-mini")


@pytest.fixture(scope="module")
def sources() -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(bundled_sources_dir().glob("*.json"))
    }


def test_shipped_files_are_rebuilt_exactly_from_sources() -> None:
    assert stale_files(bundled_sources_dir(), bundled_dir()) == [], (
        "run `followir author` to rebuild followir-mini from its sources"
    )


def test_every_source_is_shipped(bench: Benchmark, sources: dict[str, dict]) -> None:
    assert sorted(bench.queries) == sorted(sources)


def test_size_and_domains(bench: Benchmark) -> None:
    assert len(bench.queries) >= 10
    domains = {q.extra["domain"] for q in bench.queries.values()}
    assert len(domains) >= 3
    for qid, judged in bench.qrels_og.items():
        assert len(judged) >= 30, qid
        assert set(judged) == set(bench.qrels_changed[qid]), qid


def test_passage_lengths_and_uniqueness(bench: Benchmark) -> None:
    for doc in bench.corpus.values():
        assert 60 <= word_count(doc.text) <= 200, doc.doc_id
        assert doc.title.strip(), doc.doc_id
    texts = Counter(doc.text for doc in bench.corpus.values())
    assert texts.most_common(1)[0][1] == 1
    # every passage is judged for exactly one topic
    owners = Counter(d for judged in bench.qrels_og.values() for d in judged)
    assert set(owners) == set(bench.corpus) and set(owners.values()) == {1}


def test_altered_instruction_only_narrows(bench: Benchmark) -> None:
    for qid, q in bench.queries.items():
        assert q.instruction_changed and q.instruction_changed.startswith(q.instruction_og), qid
        og, new = bench.qrels_og[qid], bench.qrels_changed[qid]
        relevant_og = {d for d, r in og.items() if r > 0}
        relevant_new = {d for d, r in new.items() if r > 0}
        assert relevant_new < relevant_og, qid  # strictly fewer, never a new relevant doc
        ratio = len(relevant_og - relevant_new) / len(relevant_og)
        assert 0.3 <= ratio <= 0.7, (qid, ratio)


def test_every_kind_in_every_topic_matches_shipped_labels(
    bench: Benchmark, sources: dict[str, dict]
) -> None:
    for tid, topic in sources.items():
        kinds = Counter(p["kind"] for p in topic["passages"])
        assert set(kinds) == set(KINDS), tid
        for p in topic["passages"]:
            shipped = (bench.qrels_og[tid][p["id"]], bench.qrels_changed[tid][p["id"]])
            assert shipped == KINDS[p["kind"]], p["id"]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in STOP}


def test_traps_use_the_words_of_the_added_constraint(sources: dict[str, dict]) -> None:
    """A trap must tempt a keyword matcher: it shares words that only the constraint adds."""
    for tid, topic in sources.items():
        og = topic["instruction_og"]
        added = _words(topic["instruction_changed"][len(og):]) - _words(og)
        assert added, tid
        for p in topic["passages"]:
            if p["kind"] == "trap":
                assert _words(p["title"] + " " + p["text"]) & added, p["id"]


def test_pools_hold_the_judged_passages_and_distractors(bench: Benchmark) -> None:
    manifest = json.loads((bundled_dir() / "manifest.json").read_text(encoding="utf-8"))
    for qid, pool in bench.pools.items():
        judged = set(bench.qrels_og[qid])
        assert len(pool) == len(set(pool))
        assert judged <= set(pool)
        assert len(set(pool) - judged) == manifest["pool_extra"], qid
    assert manifest["topics"] == len(bench.queries)
    assert manifest["passages"] == len(bench.corpus)


def test_keyword_matching_fails_to_follow_the_altered_instructions(bench: Benchmark) -> None:
    """BM25 over query + instruction is pulled *towards* the traps (p-MRR < 0), as in FollowIR."""
    pytest.importorskip("bm25s")
    from followir.evaluation.rerank import rerank
    from followir.metrics.pmrr import pmrr
    from followir.models.registry import load_model

    runs = rerank(bench, load_model("bm25")).runs
    assert pmrr(runs["og"], runs["changed"], bench.changed_docs()) < 0
