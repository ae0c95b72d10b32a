"""Pointwise seq2seq reranker (``t5:NAME_OR_PATH``): monoT5, FLAN-T5, TART-full.

monoT5 and FLAN-T5 run the encoder on the prompt and the decoder for a single step from
its start token; the score compares the first decoder token's logits for the two answer
words (``true``/``false`` for monoT5, ``yes``/``no`` for FLAN).  TART-full is an
encoder-only T5 with a two-way classification head on the first position (``EncT5`` in
facebookresearch/tart); it gets ``"{instruction} [SEP] {query}"`` and the document as a
text pair and its label-1 logit plays the role of ``true``.

Batching and scores as in :mod:`followir.models.llm` (token-budget batches of
length-sorted prompts, log-odds by default), except that encoder inputs are padded on the
right: T5 has relative positions and reads every encoder position through the mask.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from followir.errors import MissingDependency, SpecError
from followir.models.base import Pair
from followir.models.llm import PointwiseLLMScorer, _torch, torch_dtype
from followir.models.templates import TEMPLATES, Template, default_template, encode

log = logging.getLogger(__name__)

ENC_T5 = "EncT5ForSequenceClassification"


def pad_right(rows: Sequence[Sequence[int]], pad_id: int, device: str):
    torch = _torch()
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, r in enumerate(rows):
        ids[n, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[n, : len(r)] = 1
    return ids.to(device), mask.to(device)


def _classifier_state(path: str) -> dict[str, Any]:
    """``classifier.weight``/``classifier.bias`` of an EncT5 checkpoint (safetensors or
    a weights-only torch file; never unpickles arbitrary objects)."""
    torch = _torch()
    from transformers.utils import cached_file

    for fname in ("model.safetensors", "pytorch_model.bin"):
        try:
            file = cached_file(path, fname, _raise_exceptions_for_missing_entries=False)
        except OSError:
            file = None
        if not file:
            continue
        if fname.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(file, framework="pt") as f:
                return {k: f.get_tensor(k) for k in f.keys() if k.startswith("classifier.")}
        state = torch.load(file, map_location="cpu", weights_only=True)
        return {k: v for k, v in state.items() if k.startswith("classifier.")}
    raise SpecError(f"{path}: no model.safetensors or pytorch_model.bin with a classifier head")


def _enc_t5(path: str, dtype):
    """TART-full's EncT5: T5 encoder + linear head on the first position."""
    torch = _torch()
    from transformers import T5EncoderModel

    class EncT5Classifier(torch.nn.Module):
        def __init__(self, encoder, head):
            super().__init__()
            self.encoder, self.classifier, self.config = encoder, head, encoder.config

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            return self.classifier(hidden[:, 0, :])

    encoder = T5EncoderModel.from_pretrained(path, dtype=dtype)
    state = _classifier_state(path)
    if "classifier.weight" not in state:
        raise SpecError(f"{path}: checkpoint has no classifier.weight (is it a TART model?)")
    w = state["classifier.weight"]
    head = torch.nn.Linear(w.shape[1], w.shape[0], bias="classifier.bias" in state)
    head.load_state_dict({k.removeprefix("classifier."): v for k, v in state.items()})
    if w.shape[0] != 2:
        raise SpecError(f"{path}: classifier has {w.shape[0]} labels, TART scoring needs 2")
    return EncT5Classifier(encoder, head.to(dtype))


class Seq2SeqScorer(PointwiseLLMScorer):
    """``t5:NAME_OR_PATH`` -- monoT5 / FLAN-T5 first-decoder-token scores, or TART-full."""

    family = "t5"
    kinds = ("seq2seq", "pair-classifier")

    def __init__(self, model: str, **options: Any):
        if model.startswith("bundled:"):
            raise SpecError("t5: no bundled seq2seq model ships with followir; pass a name or path")
        super().__init__(model, **options)

    def _default_template(self, model: str) -> Template:
        if getattr(self, "_classifier", False):
            return TEMPLATES["tart"]
        return default_template(model, ("seq2seq",), self.tokenizer)

    def _load(self, path: str):
        try:
            from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise MissingDependency("transformers", "llm") from exc
        dtype = torch_dtype(self.dtype_name)
        tokenizer = AutoTokenizer.from_pretrained(path)
        config = AutoConfig.from_pretrained(path)
        self._classifier = ENC_T5 in (getattr(config, "architectures", None) or [])
        if self._classifier:
            model = _enc_t5(path, dtype)
        else:
            model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype)
        return model.to(self.device), tokenizer

    def _answer_ids(self) -> None:
        classifier = getattr(self, "_classifier", None)
        if classifier is None:  # model passed in memory
            classifier = not hasattr(self.model, "get_decoder")
            self._classifier = classifier
        wanted = "pair-classifier" if classifier else "seq2seq"
        if self.template.kind != wanted:
            valid = sorted(n for n, t in TEMPLATES.items() if t.kind == wanted)
            raise SpecError(
                f"{self.name}: template {self.template.name!r} does not fit this model; "
                f"valid: {', '.join(valid)}"
            )
        if classifier:
            self.true_id, self.false_id = 1, 0  # label 1 = relevant
            return
        ids = []
        for word in (self.template.positive, self.template.negative):
            first = self.tokenizer(word, add_special_tokens=False)["input_ids"][:1]
            if not first:
                raise SpecError(f"{self.name}: the tokenizer cannot encode {word!r}")
            ids.append(first[0])
        self.true_id, self.false_id = ids
        if self.true_id == self.false_id:
            raise SpecError(f"{self.name}: the answer words share their first token")
        start = self.model.config.decoder_start_token_id
        self._start = start if start is not None else self.tokenizer.pad_token_id

    def encode(self, pairs: Sequence[Pair]) -> list[list[int]]:
        items = [(p.query, p.instruction, p.doc_text) for p in pairs]
        return encode(
            self.template, self.tokenizer, items, self.max_length,
            special_tokens=True, ids=[p.doc_id for p in pairs],
        )

    def _last_logits(self, rows: Sequence[Sequence[int]]):
        torch = _torch()
        ids, mask = pad_right(rows, self.tokenizer.pad_token_id, self.device)
        if self._classifier:
            return self.model(input_ids=ids, attention_mask=mask)
        start = torch.full((len(rows), 1), self._start, dtype=torch.long, device=self.device)
        out = self.model(input_ids=ids, attention_mask=mask, decoder_input_ids=start, use_cache=False)
        return out.logits[:, -1, :]

