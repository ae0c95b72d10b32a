"""Pointwise causal-LM reranker (``llm:NAME_OR_PATH``): FollowIR-7B, Mistral, SmolLM2, ...

Each (query + instruction, document) becomes one prompt (see ``templates``) that ends
where the model should answer ``true`` or ``false``; the score is read off the logits of
the very next token.  The score is the log-odds
``log P(true) - log P(false)`` under the two-way softmax over [logit(true), logit(false)]:
it ranks exactly like ``P(true) = sigmoid(score)`` (what mteb reports) but does not
saturate at 1.0 for confident models, so it produces no artificial ties.  ``?score=prob``
returns ``P(true)`` instead.

Speed comes from never doing work twice and padding as little as possible.  Every prompt
is tokenized once, and identical prompts are scored once.  The pairs of one (query,
instruction) -- the evaluation protocol keeps them in one chunk -- share everything up to
the document (template head, query, instruction: 40-50% of the tokens of a typical pair),
so with ``prefix=on`` (the default for causal LMs) the longest common prefix of their
*token ids* runs once and its key/value cache is kept; each document's own tokens
(document + answer cue) then run against that cache.  Suffixes are sorted by length and
batched only while padding stays under ``max_pad`` (1/8) of a batch; they are padded on
the right, so no attention mask is needed (causality already hides the pads from every
real token); the cache is repeated over the batch rows; the head runs on each row's last
real hidden state only.  On CPU this measured ~10% faster than one unpadded sequence at a
time (``max_pad=0`` gives that); on GPUs wide batches matter more.  Pairs whose
(query, instruction) occurs once, and ``prefix=off``, take the plain batched path:
prompts sorted by length, packed by a *token budget* (``max_tokens`` = rows x longest
row), padded on the left so that the last position of every row is its last real token,
and only that position's logits computed (``logits_to_keep=1``), which matters for models
with large vocabularies.  Both paths give the same scores within float noise (1e-4 in
fp32), so ``prefix`` and ``max_pad`` are not part of the fingerprint.

Options (``llm:PATH?template=followir&precision=bf16&max_length=1024``): ``template``,
``precision`` (alias ``dtype``; ``fp32`` default, exact; ``bf16`` ~2x faster on CPUs with AVX512-BF16 and on
GPUs), ``max_length`` (document tokens are dropped past it, never the question), ``max_tokens``
(batch token budget), ``max_batch``, ``device``, ``score`` (``logodds``|``prob``),
``prefix`` (``on``|``off``), ``max_pad`` (0 to <1), ``threads`` (CPU threads while scoring;
default: torch's own setting, i.e. all physical cores unless ``OMP_NUM_THREADS`` says
otherwise, so one process can be held to one core without touching the environment),
``workers`` (CPU: this many query+instruction groups scored at once, each on its share of
the threads; small GEMMs split poorly across cores, see ``workers.py``; default 1).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any

from followir.errors import DataError, MissingDependency, SpecError
from followir.models.base import Pair
from followir.models.batching import length_batches, padded_batches
from followir.models.gguf import resolve_bundled, weights_identity
from followir.models.loading import BUNDLED_PREFIX, int_option
from followir.models.templates import (
    Template,
    continuation_token_id,
    default_template,
    encode,
    get_template,
)
from followir.models.workers import ordered_map, torch_threads, worker_plan

log = logging.getLogger(__name__)

DTYPES = ("fp32", "bf16", "fp16")
SCORES = ("logodds", "prob")
SWITCH = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency("torch", "llm") from exc
    return torch


def precision_of(opts: dict[str, Any]) -> str:
    """The ``precision`` option (every family's name for it); ``dtype`` is accepted too."""
    if "precision" in opts and "dtype" in opts:
        raise SpecError("give precision= or its alias dtype=, not both")
    return str(opts.pop("precision", opts.pop("dtype", "fp32")))


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


def pad_right(rows: Sequence[Sequence[int]], pad_id: int, device: Any):
    """input_ids of right-padded rows, and each row's length.

    Pads follow every real token, so under causal attention no real token attends to one;
    rows run against a shared prefix cache this way with no attention mask at all."""
    torch = _torch()
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for n, r in enumerate(rows):
        ids[n, : len(r)] = torch.tensor(list(r), dtype=torch.long)
    return ids.to(device), lengths.to(device)


def head_at_last(model: Any, hidden: Any, lengths: Any) -> Any:
    """Next-token logits at each right-padded row's last real token, shape (rows, vocab):
    the LM head runs on those rows only, not on every position."""
    torch = _torch()
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return model.get_output_embeddings()(hidden[rows, lengths - 1])


def cache_arg(model: Any) -> str | None:
    """Name of the key/value-cache argument of ``model.forward`` (transformers 5 renamed
    ``past_key_values`` to ``cache``), or None for a model that takes none."""
    forward = inspect.signature(model.forward).parameters
    return next((k for k in ("cache", "past_key_values") if k in forward), None)


def new_cache(model: Any) -> Any:
    """An empty dynamic key/value cache for ``model``."""
    from transformers import DynamicCache

    try:
        return DynamicCache(config=model.config)
    except TypeError:  # transformers 4.x
        return DynamicCache()


def prefix_cache(model: Any, prefix: Sequence[int], arg: str, device: Any, positions: bool = True) -> Any:
    """Key/value cache of ``prefix`` at batch 1, from the decoder alone (its logits are never
    needed).  Under autograd the cache stays in the graph, so training can share it too."""
    torch = _torch()
    cache = new_cache(model)
    kwargs: dict[str, Any] = {
        "input_ids": torch.tensor([list(prefix)], dtype=torch.long, device=device),
        "use_cache": True,
        arg: cache,
    }
    if positions:
        kwargs["position_ids"] = torch.arange(len(prefix), device=device)[None]
    model.get_decoder()(**kwargs)
    return cache


def common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of token-id rows, capped so that every row keeps
    at least its last token (the one whose next-token logits are the score).

    Computed on ids, not text, so it is exact whatever the tokenizer merges across the
    boundary between the instruction and the document."""
    if not rows:
        return 0
    first = rows[0]
    k = min(len(r) for r in rows) - 1
    for r in rows[1:]:
        j = 0
        while j < k and r[j] == first[j]:
            j += 1
        k = j
    return max(k, 0)


def _int(options: dict[str, Any], key: str, default: int) -> int:
    return int_option(key, options.pop(key, default))


def _model_card(model: str) -> dict[str, Any]:
    """Template and max_length recorded by ``followir train`` in ``DIR/followir-model.json``,
    so ``llm:DIR`` scores with the prompt it was trained on (explicit options still win)."""
    from pathlib import Path

    from followir.data.jsonl import read_json_file

    card = Path(model) / "followir-model.json"
    if not card.is_file():
        return {}
    data = read_json_file(card)
    if not isinstance(data, dict):
        raise DataError("a followir model card must be a JSON object", card)
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
        self.dtype_name = precision_of(opts)
        torch_dtype(self.dtype_name)  # validate early
        self.max_length = _int(opts, "max_length", 2048)
        self.max_tokens = _int(opts, "max_tokens", 16384)
        self.max_batch = _int(opts, "max_batch", 64)
        self.score_kind = str(opts.pop("score", "logodds"))
        if self.score_kind not in SCORES:
            raise SpecError(f"unknown score={self.score_kind!r}; valid: {', '.join(SCORES)}")
        self.device = pick_device(opts.pop("device", None))
        self.threads = _int(opts, "threads", 1) if "threads" in opts else None
        self.workers = _int(opts, "workers", 1)
        if self.workers > 1 and self.device != "cpu":
            raise SpecError(f"workers={self.workers} is for the CPU; on {self.device} one batch runs at a time")
        prefix = str(opts.pop("prefix", "on" if "causal" in self.kinds else "off")).lower()
        if prefix not in SWITCH:
            raise SpecError(f"option prefix={prefix!r} must be on or off")
        self.prefix = SWITCH[prefix]
        max_pad = opts.pop("max_pad", 0.125)
        try:
            self.max_pad = float(max_pad)
        except (TypeError, ValueError):
            self.max_pad = -1.0
        if not 0 <= self.max_pad < 1:
            raise SpecError(f"option max_pad={max_pad!r} must be a number in [0, 1)")
        if self.prefix and "causal" not in self.kinds:
            raise SpecError(f"prefix=on needs a causal LM; {self.family}: models score with prefix=off")
        template = opts.pop("template", None)
        model_obj = opts.pop("model_obj", None)
        tokenizer_obj = opts.pop("tokenizer_obj", None)
        if opts:
            raise SpecError(
                f"unknown option(s) for {self.family}: {', '.join(sorted(opts))}; valid: "
                "template, precision, max_length, max_tokens, max_batch, device, score, prefix, max_pad, "
                "threads, workers"
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
        self._cache_arg = cache_arg(self.model)
        if self.prefix and self._cache_arg is None:
            log.info("%s: the model takes no key/value cache; prefix sharing is off", self.name)
            self.prefix = False
        # Several suffixes per forward pass need the head applied by hand to hidden states;
        # models whose forward rescales logits after the head run one suffix at a time.
        config = getattr(self.model, "config", None)
        rescaled = any(
            getattr(config, k, None) not in (None, 1, 1.0)
            for k in ("final_logit_softcapping", "logit_scale", "logits_scaling")
        )
        self._suffix_rows = 1 if rescaled else self.max_batch

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

        def one(batch: list[int]) -> list[float]:
            with torch.inference_mode():  # thread-local: each worker enters it
                return self._to_scores(self._last_logits([rows[i] for i in batch]))

        batches = list(length_batches([len(r) for r in rows], self.max_tokens, self.max_batch))
        with torch_threads(self.threads), worker_plan(self.workers, len(batches)) as workers:
            for batch, values in zip(batches, ordered_map(one, batches, workers), strict=True):
                for i, v in zip(batch, values, strict=True):
                    out[i] = v
        return out

    def _suffix_logits(self, suffixes: Sequence[Sequence[int]], cache, start: int):
        """Next-token logits after ``prefix + suffix`` for each suffix, shape (rows, vocab),
        the prefix (``start`` tokens) read from ``cache`` (batch 1, left as it was)."""
        torch = _torch()
        ids, lengths = pad_right(suffixes, self.tokenizer.pad_token_id, self.device)
        width = ids.shape[1]
        if len(suffixes) > 1:
            cache = copy.deepcopy(cache)
            cache.batch_repeat_interleave(len(suffixes))
        kwargs: dict[str, Any] = {"input_ids": ids, "use_cache": True, self._cache_arg: cache}
        if self._positions:
            pos = torch.arange(start, start + width, device=self.device)
            kwargs["position_ids"] = pos[None].expand(len(suffixes), -1)
        try:
            if len(suffixes) == 1:
                if self._keep:
                    kwargs[self._keep] = 1
                return self.model(**kwargs).logits[:, -1, :]
            hidden = self.model.get_decoder()(**kwargs).last_hidden_state
            return head_at_last(self.model, hidden, lengths)
        finally:
            if len(suffixes) == 1:
                cache.crop(start - cache.get_seq_length())  # negative: drop the suffix

    def score_shared(self, rows: Sequence[Sequence[int]], groups: Sequence[Sequence[int]]) -> list[float]:
        """Scores of encoded prompts, each group (indices into ``rows``, the prompts of one
        query + instruction) running its common token prefix once.  Singletons, and groups
        whose cache cannot be cropped (sliding-window or recurrent layers), take
        :meth:`score_ids`."""
        torch = _torch()
        out = [0.0] * len(rows)
        rest: list[int] = []

        def one(group: Sequence[int]) -> list[tuple[int, float]] | None:
            """The group's (row, score)s, or None when it must take the unshared path.  A
            group owns its prefix cache, so groups can run on different workers at once."""
            start = common_prefix([rows[i] for i in group])
            if len(group) < 2 or start == 0:
                return None
            with torch.inference_mode():  # thread-local: each worker enters it
                assert self._cache_arg is not None  # prefix sharing is off without one
                cache = prefix_cache(self.model, rows[group[0]][:start], self._cache_arg, self.device, self._positions)
                if not getattr(cache, "is_croppable", True):
                    log.info("%s: this model's cache cannot be cropped; prefix sharing skipped", self.name)
                    return None
                suffixes = [rows[i][start:] for i in group]
                lengths = [len(x) for x in suffixes]
                done: list[tuple[int, float]] = []
                for batch in padded_batches(lengths, self.max_tokens, self._suffix_rows, self.max_pad):
                    logits = self._suffix_logits([suffixes[b] for b in batch], cache, start)
                    done += [(group[b], v) for b, v in zip(batch, self._to_scores(logits), strict=True)]
                return done

        with torch_threads(self.threads), worker_plan(self.workers, len(groups)) as workers:
            for group, done in zip(groups, ordered_map(one, groups, workers), strict=True):
                if done is None:
                    rest.extend(group)
                for i, v in done or ():
                    out[i] = v
        if rest:
            for i, v in zip(rest, self.score_ids([rows[i] for i in rest]), strict=True):
                out[i] = v
        return out

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        rows = self.encode(pairs)
        if not self.prefix:
            return self.score_ids(rows)
        first: dict[tuple[int, ...], int] = {}  # identical prompts are scored once
        unique = [first.setdefault(tuple(r), n) == n for n, r in enumerate(rows)]
        groups: dict[tuple[str, str], list[int]] = {}
        for n, p in enumerate(pairs):
            if unique[n]:
                groups.setdefault((p.query, p.instruction), []).append(n)
        out = self.score_shared(rows, list(groups.values()))
        return [out[first[tuple(r)]] for r in rows]
