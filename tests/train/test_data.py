import json

import pytest

from followir.errors import DataError
from followir.train.data import Topic, TrainExample, benchmark_topics, leak_check, read_train


def test_read_train_accepts_filter_output_and_followir_train_labels(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [
        {"query": "q", "instruction": "i", "document": "d1", "label": 1},
        {"query": "q", "instruction": "i", "document": "d2", "label": "false"},
        {"pair_id": "x", "error": "unparseable"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert [e.label for e in read_train(path)] == [1, 0]
    path.write_text(json.dumps({"query": "q", "instruction": "i", "document": "d", "label": "maybe"}))
    with pytest.raises(DataError, match="t.jsonl:1: label must be"):
        read_train(path)
    path.write_text(json.dumps({"query": "q", "document": "d", "label": 1}))
    with pytest.raises(DataError, match=r"t.jsonl:1: missing field\(s\) \['instruction'\]"):
        read_train(path)


TOPICS = [Topic("fm01", "exercise therapy for knee osteoarthritis",
                "A relevant document reports evidence about structured exercise programmes for knee osteoarthritis pain.")]


def ex(query, instruction="Relevant documents discuss it.", source="train.jsonl:3"):
    return TrainExample(query, instruction, "doc", 1, source)


def test_leak_check_refuses_same_query_and_high_overlap():
    with pytest.raises(DataError, match=r"train.jsonl:3 .* ~ benchmark topic fm01"):
        leak_check([ex("Exercise therapy for knee osteoarthritis!")], TOPICS)
    paraphrase = ex("knee osteoarthritis exercise therapy",
                    "A relevant document reports evidence about structured exercise programmes for knee pain.")
    with pytest.raises(DataError, match="followir-mini"):
        leak_check([paraphrase], TOPICS)
    leak_check([ex("international organized crime", "Relevant documents name the cartel.")], TOPICS)


def test_leak_check_uses_the_bundled_benchmark():
    topics = benchmark_topics()
    if not topics:
        pytest.skip("followir-mini not bundled yet")
    t = topics[0]
    with pytest.raises(DataError, match=t.topic_id):
        leak_check([ex(t.query, t.instruction)])
