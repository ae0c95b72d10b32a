"""Seq2seq scorer on tiny random T5s: monoT5 / FLAN first-token scores and TART's head."""

from __future__ import annotations

import os

import pytest

from followir.errors import SpecError
from followir.models.base import Pair
from followir.models.registry import load_model
from followir.models.seq2seq import Seq2SeqScorer

try:
    from tests.models.tiny import build_t5, build_tart
except ModuleNotFoundError:  # tests/ is not a package: pytest put this folder on sys.path
    from tiny import build_t5, build_tart

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Q = "capital of France"
I1 = "A relevant document names the city."
I2 = "Documents about taxes in 1990 are not relevant."
FOX = "The quick brown fox jumps over the lazy dog near the river bank at sunset. "
PAIRS = [
    Pair(Q, I1, "d1", "Paris is the capital."),
    Pair(Q, I2, "d1", "Paris is the capital."),
    Pair(Q, I1, "d2", FOX * 4),
    Pair("cake", "", "d3", "yes"),
]


@pytest.fixture(scope="module")
def t5_path(tmp_path_factory):
    return build_t5(tmp_path_factory.mktemp("t5"))


@pytest.fixture(scope="module")
def tart_path(tmp_path_factory):
    return build_tart(tmp_path_factory.mktemp("tart"))


@pytest.mark.parametrize("template,words", [("monot5", ("true", "false")), ("flan", ("yes", "no"))])
def test_answer_ids_are_the_first_decoder_tokens(t5_path, template, words):
    s = load_model(f"t5:{t5_path}?template={template}")
    toks = s.tokenizer.convert_ids_to_tokens([s.true_id, s.false_id])
    assert toks == ["\u2581" + w for w in words]


@pytest.mark.parametrize("template", ["monot5", "flan"])
def test_instruction_changes_the_score_and_batching_is_exact(t5_path, template):
    wide = Seq2SeqScorer(str(t5_path), template=template)
    narrow = Seq2SeqScorer(str(t5_path), template=template, max_tokens=40)
    together = wide.score(PAIRS)
    assert abs(together[0] - together[1]) > 1e-3
    alone = [wide.score([p])[0] for p in PAIRS]
    assert together == pytest.approx(alone, abs=1e-4)
    assert narrow.score(PAIRS) == pytest.approx(alone, abs=1e-4)


def test_score_matches_a_manual_decoder_step(t5_path):
    import torch

    s = Seq2SeqScorer(str(t5_path))
    text = f"Query: {Q} {I1} Document: Paris is the capital. Relevant:"
    enc = s.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        logits = s.model(**enc, decoder_input_ids=torch.tensor([[0]])).logits[0, 0]
    t = s.tokenizer.convert_tokens_to_ids("\u2581true")
    f = s.tokenizer.convert_tokens_to_ids("\u2581false")
    assert s.score(PAIRS[:1])[0] == pytest.approx((logits[t] - logits[f]).item(), abs=1e-4)


def test_truncation_keeps_the_relevant_cue(t5_path):
    s = Seq2SeqScorer(str(t5_path), max_length=40)
    ids = s.encode([Pair(Q, I1, "long", FOX * 20)])[0]
    assert len(ids) == 40
    assert s.tokenizer.decode(ids, skip_special_tokens=True).endswith("Relevant:")
    assert ids[-1] == s.tokenizer.eos_token_id


def test_tart_classifier(tart_path):
    s = load_model(f"t5:{tart_path}")
    assert s.template.name == "tart" and (s.true_id, s.false_id) == (1, 0)
    together = s.score(PAIRS)
    assert abs(together[0] - together[1]) > 1e-3
    assert together == pytest.approx([s.score([p])[0] for p in PAIRS], abs=1e-4)


def test_template_must_fit_the_model(t5_path, tart_path):
    with pytest.raises(SpecError, match="valid: flan, monot5"):
        Seq2SeqScorer(str(t5_path), template="tart")
    with pytest.raises(SpecError, match="valid: tart"):
        Seq2SeqScorer(str(tart_path), template="monot5")
    with pytest.raises(SpecError, match="Valid: flan, monot5, tart"):
        Seq2SeqScorer(str(t5_path), template="followir")
