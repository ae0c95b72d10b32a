"""Pointwise causal-LM reranker (``llm:NAME_OR_PATH``): FollowIR-7B, Mistral, SmolLM2, ...

Each (query + instruction, document) becomes one prompt (see ``templates``) that ends
where the model should answer ``true`` or ``false``; the score is read off the logits of
the very next token.  The score is the log-odds
``log P(true) - log P(false)`` under the two-way softmax over [logit(true), logit(false)]:
it ranks exactly like ``P(true) = sigmoid(score)`` (what mteb reports) but does not
saturate at 1.0 for confident models, so it produces no artificial ties.  ``?score=prob``
returns ``P(true)`` instead.

Speed comes from doing as little as possible per pair: every prompt is tokenized once;
prompts are sorted by length and packed into batches by a *token budget* (``max_tokens``
= batch rows x longest row), so short documents run in wide batches and long ones in
narrow batches with little padding; padding is on the left so that the last position of
every row is its last real token; only that position's logits are computed
(``logits_to_keep=1``), which matters for models with large vocabularies.

Options (``llm:PATH?template=followir&dtype=bf16&max_length=1024``): ``template``,
``dtype`` (``fp32`` default, exact; ``bf16`` ~2x faster on CPUs with AVX512-BF16 and on
GPUs), ``max_length`` (document tokens are dropped past it, never the question), ``max_tokens``
(batch token budget), ``max_batch``, ``device``, ``score`` (``logodds``|``prob``).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from followir.errors import MissingDependency, SpecError
from followir.models.base import Pair
from followir.models.gguf import BUNDLED_PREFIX, resolve_bundled, weights_identity
from followir.models.templates import (
    Template,
    continuation_token_id,
    default_template,
    encode,
    get_template,
)

log = logging.getLogger(__name__)

DTYPES = ("fp32", "bf16", "fp16")
SCORES = ("logodds", "prob")


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency("torch", "llm") from exc
    return torch


def torch_dtype(name: str):
    torch = _torch()
    if name not in DTYPES:
        raise SpecError(f"unknown dtype {name!r}; valid: {', '.join(DTYPES)}")
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def cpu_supports_bf16() -> bool:
    torch = _torch()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # pragma: no cover - very old torch
        return False


def pick_device(device: str | None) -> str:
    if device:
        return device
    torch = _torch()
    return "cuda" if torch.cuda.is_available() else "cpu"


def length_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> Iterator[list[int]]:
    """Indices grouped into batches, longest first, so that rows x longest row stays within
    ``max_tokens`` (one over-long row still gets a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    for i in order:
        width = lengths[batch[0]] if batch else lengths[i]
        if batch and ((len(batch) + 1) * width > max_tokens or len(batch) >= max_batch):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def pad_left(rows: Sequence[Sequence[int]], pad_id: int, device: str):
    """input_ids, attention_mask and position_ids for left-padded rows.

    Positions count real tokens only, so a row's positions are the same whether it runs
    alone or beside longer rows (needed for absolute-position models, harmless for RoPE).
    """
    torch = _torch()
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, r in enumerate(rows):
        ids[n, width - len(r) :] = torch.tensor(r, dtype=torch.long)
        mask[n, width - len(r) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), pos.to(device)


def _int(options: dict[str, Any], key: str, default: int) -> int:
    value = options.pop(key, default)
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise SpecError(f"option {key}={value!r} must be an integer") from None
    if out <= 0:
        raise SpecError(f"option {key}={value!r} must be positive")
    return out


def _model_card(model: str) -> dict[str, Any]:
    """Template and max_length recorded by ``followir train`` in ``DIR/followir-model.json``,
    so ``llm:DIR`` scores with the prompt it was trained on (explicit options still win)."""
    import json
    from pathlib import Path

    card = Path(model) / "followir-model.json"
    if not card.is_file():
        return {}
    data = json.loads(card.read_text(encoding="utf-8"))
    return {k: data[k] for k in ("template", "max_length") if data.get(k) is not None}


class PointwiseLLMScorer:
    """``llm:NAME_OR_PATH`` -- P(true) of a causal LM after a relevance prompt."""

    family = "llm"
    kinds: tuple[str, ...] = ("causal",)

    def __init__(self, model: str, **options: Any):
        self.target = model
        opts = dict(options)
        for key, value in _model_card(model).items():  # a `followir train` output folder
            opts.setdefault(key, value)
        self.dtype_name = str(opts.pop("dtype", "fp32"))
        torch_dtype(self.dtype_name)  # validate early
        self.max_length = _int(opts, "max_length", 2048)
        self.max_tokens = _int(opts, "max_tokens", 16384)
        self.max_batch = _int(opts, "max_batch", 64)
        self.score_kind = str(opts.pop("score", "logodds"))
        if self.score_kind not in SCORES:
            raise SpecError(f"unknown score={self.score_kind!r}; valid: {', '.join(SCORES)}")
        self.device = pick_device(opts.pop("device", None))
        template = opts.pop("template", None)
        model_obj = opts.pop("model_obj", None)
        tokenizer_obj = opts.pop("tokenizer_obj", None)
        if opts:
            raise SpecError(
                f"unknown option(s) for {self.family}: {', '.join(sorted(opts))}; valid: "
                "template, dtype, max_length, max_tokens, max_batch, device, score"
            )
        if model_obj is not None:
            self.model, self.tokenizer, self.path = model_obj, tokenizer_obj, None
        else:
            self.path = resolve_bundled(model) if model.startswith(BUNDLED_PREFIX) else model
            self.model, self.tokenizer = self._load(str(self.path))
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.template: Template = (
            get_template(template, self.kinds) if template else self._default_template(model)
        )
        self.name = f"{self.family}:{model}"
        self._answer_ids()
        self._fingerprint = self._make_fingerprint()
        log.info(
            "%s: template=%s dtype=%s true_id=%d false_id=%d",
            self.name, self.template.name, self.dtype_name, self.true_id, self.false_id,
        )

    # -- loading -----------------------------------------------------------------------
    def _default_template(self, model: str) -> Template:
        return default_template(model, self.kinds, self.tokenizer)

    def _load(self, path: str):
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise MissingDependency("transformers", "llm") from exc
        dtype = torch_dtype(self.dtype_name)
        if self.dtype_name == "bf16" and self.device == "cpu" and not cpu_supports_bf16():
            log.warning("this CPU has no native bf16 support: dtype=bf16 will be slow")
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(self.device)
        return model, tokenizer

    def _answer_ids(self) -> None:
        probe = self.template.frame("query", "instruction", self.tokenizer).render("document")
        self.true_id = continuation_token_id(self.tokenizer, probe, self.template.positive)
        self.false_id = continuation_token_id(self.tokenizer, probe, self.template.negative)
        if self.true_id == self.false_id:
            raise SpecError(f"{self.name}: the answer words share their first token")
        forward = inspect.signature(self.model.forward).parameters
        self._keep = next((k for k in ("logits_to_keep", "num_logits_to_keep") if k in forward), None)
        self._positions = "position_ids" in forward

    def _make_fingerprint(self) -> str:
        probe = self.template.render("q", "i", "d", self.tokenizer)
        prompt = hashlib.sha256(
            f"{probe}|{self.true_id}|{self.false_id}".encode()
        ).hexdigest()[:10]
        if self.path is not None:
            commit = getattr(getattr(self.model, "config", None), "_commit_hash", None)
            weights = weights_identity(self.path, commit)
        else:
            weights = "in-memory"
        return (
            f"{self.name}@{weights};template={self.template.name}:{prompt};"
            f"dtype={self.dtype_name};max_length={self.max_length};score={self.score_kind}"
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    # -- scoring -----------------------------------------------------------------------
    def encode(self, pairs: Sequence[Pair]) -> list[list[int]]:
        items = [(p.query, p.instruction, p.doc_text) for p in pairs]
        return encode(
            self.template, self.tokenizer, items, self.max_length,
            special_tokens=False, ids=[p.doc_id for p in pairs],
        )

    def _last_logits(self, rows: Sequence[Sequence[int]]):
        """Logits of the next token after each row, shape (rows, vocab)."""
        ids, mask, pos = pad_left(rows, self.tokenizer.pad_token_id, self.device)
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask, "use_cache": False}
        if self._positions:
            kwargs["position_ids"] = pos
        if self._keep:
            kwargs[self._keep] = 1
        return self.model(**kwargs).logits[:, -1, :]

    def _to_scores(self, logits) -> list[float]:
        torch = _torch()
        two = logits[:, [self.true_id, self.false_id]].float()
        logp = torch.log_softmax(two, dim=-1)
        if self.score_kind == "prob":
            return logp[:, 0].exp().tolist()
        return (logp[:, 0] - logp[:, 1]).tolist()

    def score_ids(self, rows: Sequence[Sequence[int]]) -> list[float]:
        """Scores of already-encoded prompts (length-sorted token-budget batches)."""
        torch = _torch()
        out = [0.0] * len(rows)
        with torch.inference_mode():
            for batch in length_batches([len(r) for r in rows], self.max_tokens, self.max_batch):
                values = self._to_scores(self._last_logits([rows[i] for i in batch]))
                for i, v in zip(batch, values, strict=True):
                    out[i] = v
        return out

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        return self.score_ids(self.encode(pairs))
