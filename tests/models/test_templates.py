"""Prompt templates: texts, defaults, tokenization with document-only truncation, answer ids."""

from __future__ import annotations

import pytest

from followir.errors import DataError, SpecError
from followir.models.templates import (
    TEMPLATES,
    continuation_token_id,
    default_template,
    encode,
    get_template,
)

try:
    from tests.models.tiny import build_causal_lm
except ModuleNotFoundError:  # tests/ is not a package: pytest put this folder on sys.path
    from tiny import build_causal_lm

Q, INS, D = "capital of France", "A relevant document names the city.", "Paris is the capital."


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(build_causal_lm(tmp_path_factory.mktemp("lm")))


def test_followir_text_is_the_papers_prompt():
    expected = (
        "[INST] You are an expert Google searcher, whose job is to determine if the following "
        "document is relevant to the query (true/false). Answer using only one word, one of "
        "those two choices.\n\nQuery: capital of France A relevant document names the city.\n"
        "Document: Paris is the capital.\n"
        'Relevant (only output one word, either "true" or "false"): [/INST] '
    )
    assert TEMPLATES["followir"].render(Q, INS, D) == expected


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_contains_query_instruction_and_doc(name, tok):
    text = TEMPLATES[name].render(Q, INS, D, tok)
    for part in (Q, INS, D):
        assert part in text
    other = TEMPLATES[name].render(Q, "Only documents about taxes.", D, tok)
    assert other != text


def test_tart_puts_instruction_first():
    assert TEMPLATES["tart"].frame(Q, INS).head == f"{INS} [SEP] {Q}"


def test_unknown_or_mismatched_template_lists_valid_choices():
    with pytest.raises(SpecError, match="Valid: followir, generic, mistral"):
        get_template("monot5", ["causal"])
    with pytest.raises(SpecError, match="Did you mean followir"):
        get_template("folowir", ["causal"])


def test_generic_needs_a_chat_template():
    with pytest.raises(SpecError, match="chat template"):
        TEMPLATES["generic"].render(Q, INS, D, None)


def test_defaults_come_from_the_explicit_table(tok):
    assert default_template("jhu-clsp/FollowIR-7B", ["causal"]).name == "followir"
    assert default_template("castorini/monot5-base-msmarco-10k", ["seq2seq"]).name == "monot5"
    assert default_template("google/flan-t5-large", ["seq2seq"]).name == "flan"
    # not in the table: the chat template decides for causal LMs
    assert default_template("/some/local/folder", ["causal"], tok).name == "generic"
    assert default_template("/some/local/folder", ["causal"], None).name == "followir"


def test_encode_matches_plain_tokenization_when_short(tok):
    ids = encode(TEMPLATES["followir"], tok, [(Q, INS, D)], 2048, special_tokens=False)[0]
    text = TEMPLATES["followir"].render(Q, INS, D)
    assert ids == tok(text, add_special_tokens=True)["input_ids"]  # BOS added once
    assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1


def test_truncation_drops_document_tokens_only(tok):
    t = TEMPLATES["followir"]
    long_doc = "The quick brown fox jumps over the lazy dog near the river bank. " * 40
    full = encode(t, tok, [(Q, INS, long_doc)], 10_000, special_tokens=False)[0]
    limit = len(encode(t, tok, [(Q, INS, "")], 10_000, special_tokens=False)[0]) + 20
    ids = encode(t, tok, [(Q, INS, long_doc)], limit, special_tokens=False)[0]
    assert len(full) > limit and len(ids) == limit
    frame = t.frame(Q, INS)
    head = tok(frame.head, add_special_tokens=True)["input_ids"]
    tail = tok(frame.tail, add_special_tokens=False)["input_ids"]
    assert ids[: len(head) - 1] == head[:-1]  # question kept (last id may merge with doc)
    assert ids[-len(tail) :] == tail  # answer cue kept verbatim
    decoded = tok.decode(ids, skip_special_tokens=True)
    assert INS in decoded and decoded.endswith('either "true" or "false"): [/INST] ')
    assert decoded.count("quick brown fox") < long_doc.count("quick brown fox")


def test_question_longer_than_max_length_names_the_document(tok):
    with pytest.raises(DataError, match="doc-7"):
        encode(TEMPLATES["followir"], tok, [(Q, INS * 20, D)], 40, special_tokens=False, ids=["doc-7"])


def test_answer_token_after_trailing_space_is_the_bare_word(tok):
    # FollowIR's prompt ends with "[/INST] ": the model continues with "true", not " true"
    prompt = TEMPLATES["followir"].render(Q, INS, D)
    tid = continuation_token_id(tok, prompt, "true")
    assert tok.convert_ids_to_tokens(tid) == "true"
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    assert tok.decode([*p, tid]) == prompt + "true"


def test_answer_token_without_trailing_space_carries_the_space(tok):
    prompt = TEMPLATES["mistral"].render(Q, INS, D)
    assert prompt.endswith("[/INST]")
    tid = continuation_token_id(tok, prompt, "false")
    assert tok.convert_ids_to_tokens(tid) == "\u0120false"
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    assert tok.decode([*p, tid]) == prompt + " false"
