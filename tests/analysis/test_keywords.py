from __future__ import annotations

import json

import pytest

from followir.analysis.ablate import variant_texts
from followir.analysis.keywords import extract_keywords, keywords_text, short_instruction
from followir.data.types import Benchmark, Query
from followir.paths import shared_data


def test_keywords_ranked_by_frequency_then_position():
    text = (
        "A relevant document discusses solar panels. Panels on roofs count; "
        "solar farms count too. Documents about wind are not relevant."
    )
    # content words in order: solar panels panels roofs count solar farms count wind
    # counts: solar 2 (first at 0), panels 2 (1), count 2 (4), roofs 1, farms 1, wind 1
    assert extract_keywords(text, k=4) == ["solar", "panels", "count", "roofs"]
    assert keywords_text(text, k=2) == "solar panels"


def test_keywords_drop_stopwords_and_narrative_boilerplate():
    assert extract_keywords("The relevant documents must mention information about it.") == []
    with pytest.raises(ValueError):
        extract_keywords("x", k=0)


def test_short_instruction_takes_first_sentence_and_caps_words():
    text = "Find reports of river floods in Europe. Older floods are not relevant."
    assert short_instruction(text) == "Find reports of river floods in Europe."
    assert short_instruction(text, max_words=3) == "Find reports of."
    # one sentence that already fits: cut to 2/3 of its 6 words so it is strictly shorter
    assert short_instruction("Relevant documents name a flood year.") == "Relevant documents name a."


def _followir_narratives():
    root = shared_data()
    if root is None or not (root / "followir-instructions").is_dir():
        pytest.skip("shared FollowIR instruction pairs not available")
    rows = []
    for name in ("robust04", "core17", "news21"):
        path = root / "followir-instructions" / f"{name}.queries.jsonl"
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


@pytest.mark.shared_data
def test_offline_variants_for_all_real_followir_queries():
    rows = _followir_narratives()
    assert len(rows) == 104
    queries = {}
    for r in rows:
        og = r.get("instruction_og") or r["instruction_changed"]  # news21 has one narrative
        queries[r["_id"]] = Query(r["_id"], r["text"], og, r["instruction_changed"])
    bench = Benchmark("followir-pairs", queries, {}, {}, qrels_changed={})
    for variant in ("keywords", "short"):
        texts = variant_texts(bench, variant)
        assert texts.source == "offline"
        assert set(texts.og) == set(queries) and set(texts.changed) == set(queries)
        for qid, q in queries.items():
            for full, short in ((q.instruction_og, texts.og[qid]), (q.instruction_changed, texts.changed[qid])):
                assert short.strip(), (variant, qid)
                assert len(short) < len(full), (variant, qid, short)
                assert len(short.split()) < len(full.split()), (variant, qid, short)
