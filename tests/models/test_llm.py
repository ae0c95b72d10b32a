"""Pointwise causal-LM scorer on a tiny random Llama: instruction use, batching, padding."""

from __future__ import annotations

import math
import os

import pytest

from followir.errors import SpecError
from followir.models.base import Pair, Scorer
from followir.models.llm import PointwiseLLMScorer, length_batches
from followir.models.registry import load_model

try:
    from tests.models.tiny import build_causal_lm
except ModuleNotFoundError:  # tests/ is not a package: pytest put this folder on sys.path
    from tiny import build_causal_lm

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Q = "capital of France"
I1 = "A relevant document names the city."
I2 = "Documents about taxes in 1990 are not relevant."
FOX = "The quick brown fox jumps over the lazy dog near the river bank at sunset. "


def pairs():
    return [
        Pair(Q, I1, "d1", "Paris is the capital."),
        Pair(Q, I1, "d2", FOX * 3),
        Pair(Q, I2, "d1", "Paris is the capital."),
        Pair("recipes for cake", I2, "d3", "The stock market fell."),
        Pair("recipes for cake", "", "d4", FOX),
        Pair(Q, I1, "d5", "yes"),
    ]


@pytest.fixture(scope="module")
def lm_path(tmp_path_factory):
    return build_causal_lm(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def scorer(lm_path):
    return load_model(f"llm:{lm_path}?template=followir")


def test_is_a_scorer(scorer):
    assert isinstance(scorer, Scorer)
    assert scorer.name == f"llm:{scorer.target}"


def test_instruction_changes_the_score(scorer):
    a, b = scorer.score([Pair(Q, I1, "d1", "Paris is the capital."), Pair(Q, I2, "d1", "Paris is the capital.")])
    assert abs(a - b) > 1e-3


def test_batched_scores_equal_one_by_one(lm_path):
    wide = PointwiseLLMScorer(str(lm_path), template="followir")
    narrow = PointwiseLLMScorer(str(lm_path), template="followir", max_tokens=400)
    ps = pairs()
    together = wide.score(ps)
    split = narrow.score(ps)
    alone = [wide.score([p])[0] for p in ps]
    assert together == pytest.approx(alone, abs=1e-4)
    assert split == pytest.approx(alone, abs=1e-4)


def test_score_is_log_odds_of_true_computed_independently(scorer, lm_path):
    import torch

    p = pairs()[1]
    ids = scorer.encode([p])[0]
    with torch.inference_mode():
        logits = scorer.model(torch.tensor([ids])).logits[0, -1]  # no padding, all logits
    tid = scorer.tokenizer.convert_tokens_to_ids("true")
    fid = scorer.tokenizer.convert_tokens_to_ids("false")
    expected = (logits[tid] - logits[fid]).item()  # log-odds of the 2-way softmax
    assert scorer.score([p])[0] == pytest.approx(expected, abs=1e-4)
    prob = PointwiseLLMScorer(str(lm_path), template="followir", score="prob")
    assert prob.score([p])[0] == pytest.approx(1 / (1 + math.exp(-expected)), abs=1e-5)


def test_only_last_logits_are_computed(scorer):
    assert scorer._keep == "logits_to_keep"


def test_truncation_keeps_the_question_and_still_scores(lm_path):
    empty = len(PointwiseLLMScorer(str(lm_path), template="followir").encode([Pair(Q, I1, "e", "")])[0])
    s = PointwiseLLMScorer(str(lm_path), template="followir", max_length=empty + 15)
    long_pair = Pair(Q, I1, "long", FOX * 30)
    ids = s.encode([long_pair])[0]
    assert len(ids) == empty + 15
    assert s.tokenizer.decode(ids).endswith('"false"): [/INST] ')
    assert math.isfinite(s.score([long_pair])[0])


def test_chat_template_default(lm_path):
    s = load_model(f"llm:{lm_path}")
    assert s.template.name == "generic"
    a, b = s.score([Pair(Q, I1, "d", "Paris."), Pair(Q, I2, "d", "Paris.")])
    assert a != b


def test_fingerprint_covers_settings_and_weights(lm_path, tmp_path):
    base = PointwiseLLMScorer(str(lm_path), template="followir").fingerprint
    for opts in ({"template": "mistral"}, {"max_length": 512}, {"score": "prob"}, {"dtype": "bf16"}):
        assert PointwiseLLMScorer(str(lm_path), **{"template": "followir", **opts}).fingerprint != base
    other = build_causal_lm(tmp_path / "lm", seed=1)
    assert PointwiseLLMScorer(str(other), template="followir").fingerprint.split("@")[1] != base.split("@")[1]


def test_bf16_is_close_to_fp32(lm_path, scorer):
    s = PointwiseLLMScorer(str(lm_path), template="followir", dtype="bf16")
    assert s.score(pairs()) == pytest.approx(scorer.score(pairs()), abs=0.5)


def test_bad_options_are_named(lm_path):
    with pytest.raises(SpecError, match="colour"):
        PointwiseLLMScorer(str(lm_path), colour="red")
    with pytest.raises(SpecError, match="dtype"):
        PointwiseLLMScorer(str(lm_path), dtype="int3")
    with pytest.raises(SpecError, match="max_length"):
        load_model(f"llm:{lm_path}?max_length=lots")


def test_length_batches_respect_the_token_budget():
    lengths = [5, 100, 7, 50, 50, 3, 99]
    batches = list(length_batches(lengths, max_tokens=120, max_batch=3))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 120
    assert batches[0] == [1]  # longest first, alone: 2 x 100 > 120
