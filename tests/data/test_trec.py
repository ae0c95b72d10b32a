"""TREC topics, qrels, runs and SGML documents: real NIST files and hand-made broken ones."""

from __future__ import annotations

import pytest

from followir.data import trec
from followir.data.plain import read_queries
from followir.errors import DataError


@pytest.mark.shared_data
def test_robust04_topics(shared):
    topics = trec.read_topics(shared / "trec" / "topics.robust04.txt")
    assert len(topics) == 250 and all(t.narrative for t in topics.values())
    t = topics["301"]
    assert t.title == "International Organized Crime" and t.line == 1
    assert t.description.startswith("Identify organizations that participate")
    assert t.narrative.startswith("A relevant document must as a minimum identify")
    assert not any("Narrative" in x.narrative[:12] or "Description" in x.description[:14] for x in topics.values())


@pytest.mark.shared_data
def test_core17_and_core18_topics(shared):
    core17 = trec.read_topics(shared / "trec" / "topics.core17.txt")
    core18 = trec.read_topics(shared / "trec" / "topics.core18.txt")  # has </num>, </narr> closing tags
    assert len(core17) == len(core18) == 50
    assert core18["321"].title == "Women in Parliaments"
    assert core18["321"].narrative.startswith("Pertinent documents relating to this issue")
    assert "</" not in core18["321"].narrative


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["robust04", "core17"])
def test_followir_instructions_are_the_trec_narratives(shared, name):
    """FollowIR's original instruction is the topic's narrative and its query the description."""
    topics = trec.read_topics(shared / "trec" / f"topics.{name}.txt")
    queries = read_queries(shared / "followir-instructions" / f"{name}.queries.jsonl")
    for qid, q in queries.items():
        converted = topics[qid].to_query()
        assert converted.instruction_og == " ".join(q.instruction_og.split())
        assert converted.text == " ".join(q.text.split())


@pytest.mark.shared_data
def test_covid_xml_topics(shared):
    topics = trec.read_topics(shared / "trec" / "topics.covid-round5.xml")
    assert len(topics) == 50
    assert topics["1"].title == "coronavirus origin"
    assert topics["1"].description == "what is the origin of COVID-19"
    assert topics["1"].to_query().instruction_og.startswith("seeking range of information")


@pytest.mark.shared_data
def test_real_qrels(shared):
    core17 = trec.read_qrels(shared / "trec" / "qrels.core17.txt")
    lines = [line for line in (shared / "trec" / "qrels.core17.txt").read_text().splitlines() if line.strip()]
    assert len(core17) == 50 and sum(map(len, core17.values())) == len(lines)
    covid = trec.read_qrels(shared / "trec" / "qrels.covid-complete.txt")  # iteration column "4.5"
    assert covid["1"]["005b2j4b"] == 2


@pytest.mark.shared_data
def test_vaswani(shared):
    docs = trec.read_trec_docs(shared / "vaswani" / "doc-text.trec")
    assert len(docs) == 11429
    assert docs["1"].text.startswith("compact memories have flexible capacities")
    topics = trec.read_topics(shared / "vaswani" / "query-text.trec")
    assert len(topics) == 93 and topics["1"].title.startswith("MEASUREMENT OF DIELECTRIC")
    b = trec.read_trec_dir(shared / "vaswani")
    assert len(b.queries) == 93 and b.queries["1"].text == topics["1"].title


def test_topic_errors(tmp_path, write):
    p = write(tmp_path / "t.txt", "<top>\n<num> Number: 1\n<title> a\n</top>\n\n<top>\n<num> Number: 1\n<title> b\n</top>\n")
    with pytest.raises(DataError, match="duplicate topic number '1' \\(first at line 1\\)") as e:
        trec.read_topics(p)
    assert e.value.line == 6
    p = write(tmp_path / "u.txt", "<top>\n<num> Number: 1\n<title> a\n\n<top>\n<num> Number: 2\n<title> b\n</top>\n")
    with pytest.raises(DataError, match="never closed") as e:
        trec.read_topics(p)
    assert e.value.line == 1
    p = write(tmp_path / "v.txt", "<top>\n<title> a\n</top>\n")
    with pytest.raises(DataError, match="topic without a <num>"):
        trec.read_topics(p)


def test_qrels_errors(tmp_path, write):
    p = write(tmp_path / "q", "1 0 d1 1\n1 0 d2 x\n")
    with pytest.raises(DataError, match="relevance 'x' is not an integer") as e:
        trec.read_qrels(p)
    assert e.value.line == 2
    p = write(tmp_path / "r", "1 0 d1 1\n1 d2 1\n")
    with pytest.raises(DataError, match="expected 4 columns"):
        trec.read_qrels(p)
    p = write(tmp_path / "s", "1 0 d1 1\n1 0 d1 0\n")
    with pytest.raises(DataError, match="duplicate judgment .* \\(first at line 1\\)"):
        trec.read_qrels(p)


def test_qrels_round_trip(tmp_path):
    qrels = {"301": {"FT-1": 1, "FT-2": 0}, "302": {"LA-9": 2}}
    trec.write_qrels(tmp_path / "qrels.txt", qrels)
    assert trec.read_qrels(tmp_path / "qrels.txt") == qrels


def test_run_write_uses_trec_eval_tie_rule(tmp_path):
    # ties broken by doc id descending: b before a; c has the top score
    trec.write_run(tmp_path / "run.txt", {"q1": {"a": 1.0, "c": 2.0, "b": 1.0}}, tag="bm25")
    lines = (tmp_path / "run.txt").read_text().splitlines()
    assert [line.split()[2:4] for line in lines] == [["c", "1"], ["b", "2"], ["a", "3"]]
    assert all(line.split()[1] == "Q0" and line.split()[5] == "bm25" for line in lines)
    assert trec.read_run(tmp_path / "run.txt") == {"q1": {"a": 1.0, "c": 2.0, "b": 1.0}}


def test_run_errors(tmp_path, write):
    p = write(tmp_path / "run", "1 Q0 d1 1 0.5 t\n1 Q0 d2 2 high t\n")
    with pytest.raises(DataError, match="score 'high' is not a number") as e:
        trec.read_run(p)
    assert e.value.line == 2
    p = write(tmp_path / "run2", "1 Q0 d1 1 0.5 t\n1 Q0 d1 2 0.4 t\n")
    with pytest.raises(DataError, match="'d1' appears twice for query '1'"):
        trec.read_run(p)
    p = write(tmp_path / "run3", "1 Q0 d1 0.5 t\n")
    with pytest.raises(DataError, match="expected 6 columns"):
        trec.read_run(p)
    with pytest.raises(DataError, match="one non-empty word"):
        trec.write_run(tmp_path / "x", {"1": {"a": 1.0}}, tag="two words")


def test_sgml_newswire_fields(tmp_path, write):
    p = write(
        tmp_path / "docs.sgml",
        "<DOC>\n<DOCNO> LA010189-0001 </DOCNO>\n<HEADLINE><P>Dam Opens</P></HEADLINE>\n"
        "<TEXT>\n<P>The dam opened.</P>\n</TEXT>\n<TEXT>More.</TEXT>\n</DOC>\n"
        "<DOC><DOCNO>X2</DOCNO>just text</DOC>\n",
    )
    docs = trec.read_trec_docs(p)
    assert docs["LA010189-0001"].title == "Dam Opens"
    assert docs["LA010189-0001"].text == "The dam opened. More."
    assert docs["X2"].text == "just text"


def test_sgml_errors(tmp_path, write):
    cases = {
        "<DOC>\ntext\n</DOC>\n": ("without a <DOCNO>", 1),
        "<DOC>\n<DOCNO>1</DOCNO>\n<DOC>\n": ("<DOC> inside the document opened at line 1", 3),
        "<DOC>\n<DOCNO>1</DOCNO>\ntext\n": ("never closed", 1),
        "<DOC><DOCNO>1</DOCNO>a</DOC>\n<DOC><DOCNO>1</DOCNO>b</DOC>\n": ("duplicate DOCNO '1'", 2),
        "stray\n<DOC><DOCNO>1</DOCNO>a</DOC>\n": ("text outside <DOC>", 1),
    }
    for i, (text, (msg, line)) in enumerate(cases.items()):
        p = write(tmp_path / f"d{i}.trec", text)
        with pytest.raises(DataError, match=msg) as e:
            trec.read_trec_docs(p)
        assert e.value.line == line, text


def test_trec_dir_duplicate_docno_across_files_names_both_places(tmp_path, write):
    write(tmp_path / "topics.txt", "<top>\n<num> Number: 1\n<title> t\n<desc> d\n<narr> n\n</top>\n")
    write(tmp_path / "qrels.txt", "1 0 A 1\n")
    write(tmp_path / "a.sgml", "<DOC><DOCNO>A</DOCNO>x</DOC>\n")
    b = write(tmp_path / "b.sgml", "\n<DOC><DOCNO>B</DOCNO>y</DOC>\n<DOC><DOCNO>A</DOCNO>z</DOC>\n")
    with pytest.raises(DataError, match=r"duplicate DOCNO 'A' \(first at .*a\.sgml:1\)") as e:
        trec.read_trec_dir(tmp_path)
    assert e.value.path == str(b) and e.value.line == 3
