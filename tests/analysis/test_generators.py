"""The ablation's prompts and answer parsers (the generators are in tests/models)."""

from __future__ import annotations

from followir.analysis.generators import (
    KEYWORDS_PROMPT,
    PLACEHOLDER,
    SHORT_PROMPT,
    fill,
    parse_keywords,
    parse_short,
)


def test_paper_prompts_are_quoted_with_their_placeholder():
    assert SHORT_PROMPT.count(PLACEHOLDER) == 1 and KEYWORDS_PROMPT.count(PLACEHOLDER) == 1
    assert "abstract command" in SHORT_PROMPT and 'Use the word "question".' in SHORT_PROMPT
    assert 'Keywords: ["Quora", "duplicated"]' in KEYWORDS_PROMPT
    filled = fill(KEYWORDS_PROMPT, "Find  a\nPubMed paper.")
    assert "Instruction: Find a PubMed paper.\nKeywords (either one" in filled


def test_parse_answers():
    assert parse_keywords('Keywords: ["news", "crashworthiness"]\n') == "news crashworthiness"
    assert parse_keywords("news, vehicles") == "news vehicles"
    assert parse_short('Abstract Command: "Find news articles that answer this question."') == (
        "Find news articles that answer this question."
    )
    assert parse_short("\n\nRetrieve a news story for the question.\nMore text") == (
        "Retrieve a news story for the question."
    )
