"""LoRA training on a tiny local Llama: finite loss, exact resume, merged model scores."""

import json
import os

import pytest

from followir.models.base import Pair
from followir.train.data import TrainExample, encode_examples
from followir.train.loop import TrainConfig, answer_logits, fine_tune, train
from followir.train.lora import add_lora, parse_targets, save_merged

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from tests.models.tiny import build_causal_lm

    return build_causal_lm(tmp_path_factory.mktemp("tiny") / "base")


def examples(n=12):
    out = []
    for i in range(n):
        rel = i % 2 == 0
        doc = "Mix flour and sugar to bake a cake." if rel else "The stock market fell today."
        out.append(TrainExample(f"cake recipes {i}", "Documents about the stock market are not relevant.", doc, int(rel), f"t:{i}"))
    return out


def write(path, exs):
    path.write_text("\n".join(json.dumps({"query": e.query, "instruction": e.instruction,
                                          "document": e.document, "label": e.label}) for e in exs))
    return path


def scorer_for(path, **kw):
    from followir.models.registry import load_model

    return load_model(f"llm:{path}", **kw)


CFG = dict(epochs=2, lr=5e-3, batch_size=2, grad_accum=2, max_length=256, lora_targets="all-linear", save_every=1)


def test_resume_reproduces_an_uninterrupted_run(base, tmp_path):
    import torch

    from followir.train.lora import adapter_state

    def run(out, stop_after=None, resume=False):
        s = scorer_for(base, max_length=256)
        model = add_lora(s.model, targets=parse_targets("all-linear"))
        enc = encode_examples(examples(), s)
        r = train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, out,
                  TrainConfig(**CFG, max_steps=4), stop_after=stop_after, resume=resume, progress=False)
        return r, adapter_state(model)

    full, w_full = run(tmp_path / "a")
    assert full.state.step == 4 and all(map(lambda x: x == x and abs(x) < 1e3, full.state.losses))
    half, _ = run(tmp_path / "b", stop_after=2)
    assert half.state.step == 2
    rest, w_rest = run(tmp_path / "b", resume=True)
    assert rest.state.step == 4
    assert rest.state.losses == pytest.approx(full.state.losses, abs=1e-6)
    assert w_rest.keys() == w_full.keys()
    for k in w_full:
        assert torch.allclose(w_full[k], w_rest[k], atol=1e-6), k
    # a changed setting refuses to resume
    from followir.errors import FollowIRError

    s = scorer_for(base, max_length=256)
    model = add_lora(s.model, targets=parse_targets("all-linear"))
    with pytest.raises(FollowIRError, match="settings changed"):
        train(encode_examples(examples(), s), model, (s.true_id, s.false_id), 0, tmp_path / "b",
              TrainConfig(**{**CFG, "lr": 1e-4}, max_steps=4), resume=True, progress=False)


def test_merged_model_scores_like_the_trained_adapter(base, tmp_path):
    import torch

    s = scorer_for(base, max_length=256, template="followir")
    model = add_lora(s.model, targets=parse_targets("q,v"))
    enc = encode_examples(examples(), s)
    train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, tmp_path / "ck",
          TrainConfig(**CFG, max_steps=2), progress=False)
    model.eval()
    with torch.no_grad():
        logits = answer_logits(model, [x for x, _ in enc[:4]], s.tokenizer.pad_token_id)
    expected = (logits[:, s.true_id] - logits[:, s.false_id]).tolist()
    stale = tmp_path / "merged" / "model-00001-of-00002.safetensors"  # an earlier, sharded save
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    out = save_merged(model, s.tokenizer, tmp_path / "merged", {"template": "followir", "max_length": 256})
    assert not stale.exists() and (out / "model.safetensors").exists()
    tuned = scorer_for(out, template="followir", max_length=256)
    pairs = [Pair(e.query, e.instruction, e.source, e.document) for e in examples()[:4]]
    assert tuned.score(pairs) == pytest.approx(expected, abs=1e-4)


def test_fine_tune_cli_path_and_ids_match_the_tuned_scorer(base, tmp_path):
    data = write(tmp_path / "train.jsonl", examples())
    cfg = TrainConfig(**{**CFG, "template": "followir"}, max_steps=3)
    result = fine_tune(data, str(base), tmp_path / "out", cfg, progress=False)
    assert result.state.step == 3
    card = json.loads((tmp_path / "out" / "followir-model.json").read_text())
    assert card["template"] == "followir" and card["max_length"] == 256
    # `llm:DIR` with no options must encode exactly as training did (template from the card)
    tuned = scorer_for(tmp_path / "out")
    trained_on = encode_examples(examples(), scorer_for(base, template="followir", max_length=256))
    assert encode_examples(examples(), tuned) == trained_on
    assert (tuned.true_id, tuned.false_id) == (card["true_id"], card["false_id"])
    scores = tuned.score([Pair("q", "i", "d", "Mix flour")])
    assert len(scores) == 1 and scores[0] == scores[0]


def test_checkpoints_folder_apart_from_out_and_resume_from_it(base, tmp_path):
    from followir.train.loop import list_checkpoints

    s = scorer_for(base, max_length=256)
    model = add_lora(s.model, targets=parse_targets("all-linear"))
    enc = encode_examples(examples(), s)
    cfg = dict(CFG, max_steps=2)
    train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, tmp_path / "out",
          TrainConfig(**cfg), stop_after=1, progress=False, checkpoints=tmp_path / "ck")
    assert [p.name for p in list_checkpoints(tmp_path / "ck")] == ["step-000001"]
    assert not (tmp_path / "out" / "checkpoints").exists()
    r = train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, tmp_path / "out",
              TrainConfig(**cfg), resume=True, progress=False, checkpoints=tmp_path / "ck")
    assert r.state.step == 2


def test_ranking_path_without_pairs_matches_the_pointwise_path(base, tmp_path):
    """The ranking path keeps every micro-batch's graph and backpropagates once; with rank
    keys that form no (relevant, non-relevant) pair its gradient is the pointwise one, so
    the trained weights must match the per-micro-batch backward path."""
    import torch

    from followir.train.lora import adapter_state

    def run(out, weight, keys):
        s = scorer_for(base, max_length=256)
        model = add_lora(s.model, targets=parse_targets("all-linear"))
        enc = encode_examples(examples(), s)
        cfg = TrainConfig(**{**CFG, "rank_weight": weight}, max_steps=3)
        r = train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, out, cfg,
                  progress=False, rank_keys=keys)
        return r, adapter_state(model)

    n = len(examples())
    plain, w_plain = run(tmp_path / "p", 0.0, None)
    lonely, w_lonely = run(tmp_path / "l", 1.0, list(range(n)))  # every row its own key
    assert lonely.state.losses == pytest.approx(plain.state.losses, abs=1e-5)
    for k in w_plain:
        assert torch.allclose(w_plain[k], w_lonely[k], atol=1e-5), k
    ranked, w_ranked = run(tmp_path / "r", 1.0, [0] * n)  # one key: every pos/neg pair ranks
    assert all(x == x for x in ranked.state.losses)
    assert ranked.state.losses[0] > plain.state.losses[0]  # the rank term is added, and > 0
    assert any(not torch.allclose(w_plain[k], w_ranked[k]) for k in w_plain)


def test_contrast_term_changes_training_and_needs_its_keys(base, tmp_path):
    """The contrast path adds its term to the logged loss and moves the weights away from
    the pointwise run; without per-row keys it refuses to start."""
    import torch

    from followir.train.lora import adapter_state

    s = scorer_for(base, max_length=256)
    enc = encode_examples(examples(), s)
    n = len(enc)
    from followir.errors import FollowIRError

    with pytest.raises(FollowIRError, match="contrast_weight"):
        train(enc, add_lora(s.model, targets=parse_targets("all-linear")), (s.true_id, s.false_id),
              s.tokenizer.pad_token_id, tmp_path / "x", TrainConfig(**{**CFG, "contrast_weight": 1.0}, max_steps=1),
              progress=False)

    def run(out, weight):
        s = scorer_for(base, max_length=256)
        model = add_lora(s.model, targets=parse_targets("all-linear"))
        cfg = TrainConfig(**{**CFG, "contrast_weight": weight, "grad_accum": 6}, max_steps=2)  # 12 rows a step
        # one query, two instructions; labels alternate 1, 0, so passages 0-2 and 5 flip
        # (1 -> 0) and passages 3 (rows 6, 8: 1 -> 1) and 4 (rows 7, 9: 0 -> 0) do not
        passage = [0, 0, 1, 1, 2, 2, 3, 4, 3, 4, 5, 5]
        keys = [(0, passage[i], int(i in (1, 3, 5, 8, 9, 11))) for i in range(n)]
        r = train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, out, cfg,
                  progress=False, contrast_keys=keys, groups=[0] * n)
        return r, adapter_state(model)

    plain, w_plain = run(tmp_path / "p", 0.0)
    contrast, w_contrast = run(tmp_path / "c", 1.0)
    assert contrast.state.losses[0] != pytest.approx(plain.state.losses[0], abs=1e-6)
    assert any(not torch.allclose(w_plain[k], w_contrast[k]) for k in w_plain)


def shared_examples():
    """One query, two instructions, four passages each: rows of one instruction share a
    long prompt prefix."""
    docs = ["Mix flour and sugar to bake a cake.", "The stock market fell today.",
            "Bake at 200 degrees for an hour.", "Shares rose after the report."]
    out = []
    for variant, instruction in enumerate(("Recipes are relevant.", "Recipes are relevant. Only baking is relevant.")):
        for j, doc in enumerate(docs):
            label = int(j % 2 == 0 and not (variant == 1 and j == 0))
            out.append(TrainExample("cake recipes", instruction, doc, label, f"t:{variant}:{j}"))
    return out


def test_shared_prefix_logits_and_gradients_match_the_unshared_pass(base):
    import torch

    from followir.train.loop import shared_answer_logits

    s = scorer_for(base, max_length=256)
    model = add_lora(s.model, dropout=0.0, targets=parse_targets("all-linear"))
    for name, p in model.named_parameters():  # LoRA B starts at zero: make the adapter matter
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.05)
    rows = [x for x, _ in encode_examples(shared_examples()[:4], s)]
    params = [p for p in model.parameters() if p.requires_grad]
    plain = answer_logits(model, rows, s.tokenizer.pad_token_id)
    shared = shared_answer_logits(model, rows, s.tokenizer.pad_token_id)
    assert shared is not None and torch.allclose(plain, shared, atol=1e-4)
    margin = lambda x: (x[:, s.true_id] - x[:, s.false_id]).sum()  # noqa: E731
    g_plain = torch.autograd.grad(margin(plain), params)
    g_shared = torch.autograd.grad(margin(shared), params)
    for a, b in zip(g_plain, g_shared, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)
    assert any(float(a.abs().max()) > 1e-3 for a in g_plain)  # the check above compared something
    # nothing to share: the caller takes the plain pass
    assert shared_answer_logits(model, rows[:1], s.tokenizer.pad_token_id) is None


def test_shared_prefix_training_matches_the_unshared_run(base, tmp_path, monkeypatch):
    """The same steps with and without prefix sharing give the same losses, and the
    shared run did take the shared pass."""
    from followir.train import loop

    calls = []
    real = loop.shared_answer_logits

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(loop, "shared_answer_logits", spy)

    def run(out, share):
        s = scorer_for(base, max_length=256)
        model = add_lora(s.model, dropout=0.0, targets=parse_targets("all-linear"))
        exs = shared_examples()
        enc = encode_examples(exs, s)
        keys = [0 if ex.instruction == exs[0].instruction else 1 for ex in exs]
        cfg = TrainConfig(**{**CFG, "grad_accum": 4, "rank_weight": 1.0, "share_prefix": share, "precision": "fp32"}, max_steps=3)
        r = train(enc, model, (s.true_id, s.false_id), s.tokenizer.pad_token_id, out, cfg,
                  progress=False, rank_keys=keys, prefix_keys=keys, groups=[0] * len(enc))
        return r

    plain = run(tmp_path / "p", False)
    assert calls == []
    shared = run(tmp_path / "s", True)
    assert calls and all(calls)
    # Losses after updates check the trained function. The weights themselves are not compared
    # element-wise: Adam's first steps move a near-zero gradient entry by +-lr whatever its size,
    # so rounding noise flips a few of them (the gradients match: see the test above).
    assert shared.state.losses == pytest.approx(plain.state.losses, abs=1e-4)
    assert shared.state.losses[-1] < shared.state.losses[0] - 0.1
