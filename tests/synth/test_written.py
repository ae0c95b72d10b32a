import json

import pytest

from followir.errors import DataError
from followir.paths import shared_data
from followir.synth.written import KINDS, read_written, written_rows
from followir.train.data import TrainExample, leak_check, read_train

TOPICS = """<top>
<num> Number: 301
<title> International Organized Crime
<desc> Description:
Identify organizations that participate in international criminal activity.
<narr> Narrative:
A relevant document must identify the organization.
</top>
"""


def _passage(n, kind):
    og, changed = KINDS[kind]
    return {"id": f"r301-p{n}", "title": f"T{n}", "text": f"text {n}", "og": og, "changed": changed, "kind": kind}


def _write(tmp_path, passages, topic="301"):
    folder = tmp_path / "set" / "topics"
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"topic": topic, "constraint": "Only  Asian groups are relevant.", "passages": passages}
    (folder / f"r{topic}.json").write_text(json.dumps(doc))
    topics = tmp_path / "topics.robust04.txt"
    topics.write_text(TOPICS)
    return tmp_path / "set", topics


def test_each_passage_appears_under_both_instructions_with_its_labels(tmp_path):
    folder, topics = _write(tmp_path, [_passage(1, "kept"), _passage(2, "trap"), _passage(3, "hard_negative")])
    rows = written_rows(folder, topics)
    assert len(rows) == 6
    narr = "A relevant document must identify the organization."
    og = {r["doc_id"]: r for r in rows if r["variant"] == "og"}
    ch = {r["doc_id"]: r for r in rows if r["variant"] == "changed"}
    assert og["r301-p1"]["instruction"] == narr
    assert ch["r301-p1"]["instruction"] == narr + " Only Asian groups are relevant."
    assert og["r301-p1"]["query"] == "International Organized Crime"  # <title>
    assert [og[i]["label"] for i in ("r301-p1", "r301-p2", "r301-p3")] == [1, 1, 0]
    assert [ch[i]["label"] for i in ("r301-p1", "r301-p2", "r301-p3")] == [1, 0, 0]
    assert og["r301-p2"]["document"] == "T2\ntext 2"


def test_description_can_be_the_query(tmp_path):
    folder, topics = _write(tmp_path, [_passage(1, "kept"), _passage(2, "negated")])
    rows = written_rows(folder, topics, query_field="description")
    assert rows[0]["query"].startswith("Identify organizations")


def test_rows_are_read_by_followir_train(tmp_path):
    from followir.synth.filter import write_jsonl

    folder, topics = _write(tmp_path, [_passage(1, "kept"), _passage(2, "excluded")])
    write_jsonl(tmp_path / "train.jsonl", written_rows(folder, topics))
    examples = read_train(tmp_path / "train.jsonl")
    assert [e.label for e in examples] == [1, 1, 1, 0]


def test_kind_that_disagrees_with_its_labels_names_file_and_passage(tmp_path):
    bad = _passage(2, "trap") | {"changed": 1}
    folder, topics = _write(tmp_path, [_passage(1, "kept"), bad])
    with pytest.raises(DataError, match=r"r301-p2.*trap") as err:
        read_written(folder)
    assert "r301.json" in str(err.value)


def test_topic_missing_from_trec_file_is_named(tmp_path):
    folder, topics = _write(tmp_path, [_passage(1, "kept")], topic="999")
    with pytest.raises(DataError, match="999"):
        written_rows(folder, topics)


def test_bundled_set_is_valid():
    topics = read_written("teach-robust04")
    assert len(topics) >= 150
    for t in topics:
        kinds = sorted(p["kind"] for p in t.passages)
        assert kinds == sorted(["kept", "kept", "excluded", "trap", "trap", "negated", "hard_negative", "hard_negative"]), t.source


def test_bundled_set_on_real_robust04_topics_passes_the_leak_check():
    data = shared_data()
    if data is None or not (data / "trec" / "topics.robust04.txt").is_file():
        pytest.skip("shared TREC topics not available")
    rows = written_rows("teach-robust04", data / "trec" / "topics.robust04.txt")
    assert len(rows) == 16 * len(read_written("teach-robust04"))
    examples = [TrainExample(r["query"], r["instruction"], r["document"], r["label"], r["pair_id"]) for r in rows]
    leak_check(examples)  # raises DataError on overlap with followir-mini
    # and the check is live on this data: a benchmark-like topic is caught
    mini = TrainExample("exercise therapy for knee osteoarthritis", "", "d", 1, "probe")
    with pytest.raises(DataError):
        leak_check([*examples, mini])


def test_bundled_set_holds_no_followir_test_topic():
    """Core17 reuses Robust04 topic numbers, so a Robust04 topic can be a FollowIR Core17
    test topic: a model trained on it and evaluated on FollowIR would have seen its narrative."""
    data = shared_data()
    folder = data / "followir-instructions" if data else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared FollowIR query files not available")
    test_ids = {
        json.loads(line)["_id"]
        for f in sorted(folder.glob("*.queries.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert len(test_ids) >= 100  # Robust04 52 + Core17 20 + News21 32: the files were read
    ours = {t.topic for t in read_written("teach-robust04")}
    assert not ours & test_ids, sorted(ours & test_ids)


def test_duplicate_passage_ids_are_caught_even_when_one_is_a_number(tmp_path):
    # rows carry str(id), so 7 and "7" would be the same doc_id in the training file
    folder, topics = _write(tmp_path, [_passage(1, "kept") | {"id": 7}, _passage(2, "trap") | {"id": "7"}])
    with pytest.raises(DataError, match="duplicate id '7'"):
        read_written(folder)
