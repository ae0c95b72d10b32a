from followir.models.generators import Sampling
from followir.synth.narrative import (
    NarrativeGenerator,
    altered_pairs,
    split_clauses,
    statement,
)
from followir.synth.pairs import SynthPair
from followir.synth.parse import parse_documents
from followir.synth.prompts import build_doc_prompt, parse_doc_prompt

NARR_301 = (
    "A relevant document must as a minimum identify the organization and the type of illegal "
    "activity (e.g., Columbian cartel exporting cocaine). Vague references to international drug "
    "trade without identification of the organization(s) involved would not be relevant."
)


def test_positive_and_negative_clauses_of_a_trec_narrative():
    pos, neg = split_clauses(NARR_301)
    assert [statement(c) for c in pos] == [
        "This report identifies the organization and the type of illegal activity "
        "(e.g., Columbian cartel exporting cocaine)."
    ]
    assert [statement(c) for c in neg] == [
        "This report covers vague references to international drug trade without "
        "identification of the organization(s) involved."
    ]


def test_altered_instruction_turns_a_relevant_document_into_a_negative():
    pair = SynthPair(
        "t:1",
        "polio outbreaks",
        "Relevant documents should report outbreaks of polio in Africa. "
        "Relevant documents should describe vaccination campaigns against polio.",
    )
    other = SynthPair("t:2", "hubble", "Relevant documents should report new hubble images of galaxies.")
    (alt,) = altered_pairs([pair])
    assert alt.pair_id == "t:1:altered"
    gen = NarrativeGenerator(pool=[pair, other])
    og = parse_documents(gen.generate(build_doc_prompt(pair.query, pair.instruction), Sampling(seed=0)))
    narrow = parse_documents(gen.generate(build_doc_prompt(alt.query, alt.instruction), Sampling(seed=0)))
    vaccination = "polio outbreaks. This report describes vaccination campaigns against polio."
    assert vaccination in og.relevant
    assert vaccination in narrow.nonrelevant and vaccination not in narrow.relevant
    assert "polio outbreaks. This report reports outbreaks of polio in Africa." in narrow.relevant
    # topics without exclusions get off-topic negatives from other pairs
    assert any(d.startswith("hubble.") for d in og.nonrelevant)


def test_the_pair_reads_back_from_the_prompt():
    """The narrative generator sees only the prompt, as an LLM would: the pair must survive."""
    query = "  What language differences\nimpede integration?  "
    instruction = "Relevant documents describe barriers.\n  Passing mentions are not relevant."
    assert parse_doc_prompt(build_doc_prompt(query, instruction)) == (
        "What language differences\nimpede integration?",
        "Relevant documents describe barriers. Passing mentions are not relevant.",
    )
    assert parse_doc_prompt("Query: q but no instruction line") is None
