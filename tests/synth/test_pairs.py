import json

import pytest

from followir.errors import DataError
from followir.synth.pairs import read_pairs

TOPICS = """<top>
<num> Number: 301
<title> International Organized Crime
<desc> Description:
Identify organizations that participate in international criminal activity.
<narr> Narrative:
A relevant document must identify the organization. Vague references
would not be relevant.
</top>
<top>
<num> Number: 302
<title> Polio
<desc> Description:
Is polio under control?
<narr> Narrative:
</top>
"""


def test_trec_topics_description_is_query_narrative_is_instruction(tmp_path):
    path = tmp_path / "topics.robust04.txt"
    path.write_text(TOPICS)
    pairs = read_pairs(path)
    assert [p.pair_id for p in pairs] == ["robust04:301"]  # 302 has no narrative
    assert pairs[0].query.startswith("Identify organizations")
    assert pairs[0].instruction.endswith("Vague references would not be relevant.")


def test_followir_layout_gives_one_pair_per_instruction(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [{"_id": "7", "text": "q", "instruction_og": "og text", "instruction_changed": "narrow"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    pairs = read_pairs(path)
    assert [(p.pair_id, p.instruction) for p in pairs] == [("q:7", "og text"), ("q:7:changed", "narrow")]


def test_plain_jsonl_and_errors_name_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"query": "a", "instruction": "b"}\n{"q": "x"}\n')
    with pytest.raises(DataError, match=r"p.jsonl:2: .*expected \{query, instruction\}"):
        read_pairs(path)
    path.write_text('{"id": 1, "query": "a", "instruction": "b"}\n{"id": 1, "query": "c", "instruction": "d"}\n')
    with pytest.raises(DataError, match=r":2: duplicate id"):
        read_pairs(path)
