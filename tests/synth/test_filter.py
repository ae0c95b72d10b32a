import pytest

from followir.errors import DataError
from followir.models.base import Pair
from followir.synth.filter import filter_documents, read_synth


class KeywordJudge:
    """A stand-in judge (not the code under test): P(true) = 0.9 if 'cartel' in the doc."""

    name = "keyword"
    fingerprint = "keyword"

    def __init__(self):
        self.seen: list[Pair] = []

    def score(self, pairs):
        self.seen.extend(pairs)
        return [0.9 if "cartel" in p.doc_text else 0.1 for p in pairs]


LONG = " with enough words to pass the length check easily"


def row(pid, label, doc, option=1):
    return {"pair_id": pid, "query": "q " + pid, "instruction": "inst " + pid, "label": label,
            "option": option, "document": doc}


def test_reasons_are_counted_and_pairs_balanced():
    rows = list(enumerate([
        row("a", 1, "the cartel shipped cocaine" + LONG),
        row("a", 1, "another cartel story about smuggling" + LONG, 2),
        row("a", 0, "weather report" + LONG),
        row("a", 0, "a cartel was named here" + LONG, 2),  # judge says relevant: disagreed
        row("b", 1, "too short"),
        row("a", 0, "weather report" + LONG, 3),  # duplicate within pair a
        row("c", 1, "sports results" + LONG),  # judge says not relevant: disagreed
        row("c", 0, "stock prices" + LONG),  # agreed, but c has no relevant left
        {"pair_id": "d", "error": "unparseable", "query": "q", "instruction": "i"},
    ], 1))
    judge = KeywordJudge()
    kept, stats = filter_documents(rows, judge, progress=False)
    counts = stats.to_dict()
    assert counts["generated"] == 8
    assert counts["rejected"] == {
        "unparseable": 1, "too_short": 1, "duplicate": 1, "judge_disagreed": 2, "balance": 2,
    }
    assert counts["kept"] == 2 and counts["pairs_kept"] == 1
    assert [(r["pair_id"], r["label"]) for r in kept] == [("a", 1), ("a", 0)]
    # the judge saw each document under its own query and instruction
    assert all(p.instruction == "inst " + p.query[2:] for p in judge.seen)


def test_threshold_decides_the_judged_label():
    rows = list(enumerate([row("a", 1, "cartel" + LONG), row("a", 0, "x" + LONG)], 1))
    _, stats = filter_documents(rows, KeywordJudge(), threshold=0.95, progress=False)
    assert stats.rejected["judge_disagreed"] == 1 and stats.kept == 0


def test_read_synth_names_the_bad_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"pair_id": "a", "query": "q", "instruction": "i", "document": "d", "label": 1}\n'
                    '{"pair_id": "a", "query": "q", "instruction": "i", "document": "d", "label": "yes"}\n')
    with pytest.raises(DataError, match=r"s.jsonl:2: label must be 0 or 1"):
        read_synth(path)


def test_same_text_under_another_instruction_is_not_a_duplicate():
    doc = "the cartel story" + LONG
    rows = list(enumerate([row("og", 1, doc), row("og", 0, "weather" + LONG),
                           row("narrow", 0, doc), row("narrow", 1, "cartel two" + LONG)], 1))
    kept, stats = filter_documents(rows, None, progress=False)
    assert stats.rejected["duplicate"] == 0 and stats.kept == 4
