"""`followir synth` through typer's CliRunner (offline narrative generator)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from followir.cli.app import app
from followir.errors import SpecError

TOPICS = """<top>
<num> Number: 401
<title> Foreign minorities, Germany
<desc> Description:
What language and cultural differences impede the integration of foreign minorities in Germany?
<narr> Narrative:
A relevant document will focus on the causes of the lack of integration in a significant way.
Relevant documents should describe language barriers faced by Turkish workers in Germany.
Documents that mention minorities only in passing are not relevant.
</top>
<top>
<num> Number: 402
<title> Behavioral genetics
<desc> Description:
What is happening in the field of behavioral genetics?
<narr> Narrative:
Relevant documents should report studies linking genes to specific human behaviours.
</top>
"""


def test_synth_narrative_writes_labelled_documents_and_resumes(tmp_path):
    topics = tmp_path / "topics.t.txt"
    topics.write_text(TOPICS)
    out = tmp_path / "docs.jsonl"
    args = ["synth", str(topics), "--generator", "narrative", "--out", str(out), "--altered",
            "--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 pairs (0 already done)" in result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["pair_id"] for r in rows} == {"t:401", "t:402", "t:401:altered"}
    assert all(r["generator"] == "narrative" and r["prompt_id"] for r in rows)
    by = {(r["pair_id"], r["label"], r["document"]) for r in rows}
    lang = ("What language and cultural differences impede the integration of foreign minorities "
            "in Germany. This report describes language barriers faced by Turkish workers in Germany.")
    assert ("t:401", 1, lang) in by and ("t:401:altered", 0, lang) in by
    again = CliRunner().invoke(app, args)
    assert "3 pairs (3 already done): 0 documents" in again.output
    assert len(out.read_text().splitlines()) == len(rows)


def test_synth_unknown_generator_is_a_clear_error(tmp_path):
    topics = tmp_path / "topics.t.txt"
    topics.write_text(TOPICS)
    result = CliRunner().invoke(app, ["synth", str(topics), "-g", "gpt5", "--out", str(tmp_path / "o.jsonl")])
    assert isinstance(result.exception, SpecError) and "OpenAI-compatible base URL" in str(result.exception)
