"""``dense:…?backend=onnx`` — a sentence-transformers bi-encoder run by ONNX Runtime in fp32.

Why: on a CPU, PyTorch eager spends a large share of a small encoder's time outside the
GEMMs (layer norms, GELU, softmax, dispatch); ONNX Runtime's graph optimizer fuses them.
On the 2-core bench machine this made all-MiniLM-L6-v2 about 1.5x faster than
``SentenceTransformer.encode`` with the same fp32 arithmetic (embeddings within ~2e-7, so
rankings and metrics are unchanged).  See ``bench/README.md``.

The *whole* sentence-transformers pipeline (transformer, pooling, dense layers, normalize)
is exported as one graph from token ids to the sentence embedding, so any module stack
sentence-transformers can run is covered without re-implementing pooling here.  The export
happens once per model and is cached under ``cache_root()/onnx/<key>/model.onnx`` (atomic:
tmp folder + rename); later loads read only that file and the tokenizer.

Not covered (a clear :class:`~followir.errors.SpecError` instead): models whose pooling
leaves the prompt out (``include_prompt=False``, e.g. INSTRUCTOR), because the prompt
length is a per-call input the exported graph does not take; use ``backend=torch`` there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from followir.errors import SpecError, require
from followir.models.formats import Formatted
from followir.paths import cache_root

log = logging.getLogger(__name__)

OPSET = 17


def onnx_dir(identity: str) -> Path:
    """Cache folder of the exported graph for one model identity (path or name@version)."""
    import torch

    st = require("sentence_transformers", "dense")
    key = f"{identity}|st={st.__version__}|torch={torch.__version__}|opset={OPSET}"
    return cache_root() / "onnx" / hashlib.sha256(key.encode()).hexdigest()[:16]


def _check_prompt_pooling(model: object, location: str) -> None:
    for module in model:  # type: ignore[attr-defined]
        if getattr(module, "include_prompt", True) is False:
            raise SpecError(
                f"dense:{location}: backend=onnx cannot leave the prompt out of pooling "
                "(include_prompt=False, as INSTRUCTOR does); use backend=torch"
            )


def export(model: object, tokenizer: object, target: Path) -> None:
    """Export ``model`` (a SentenceTransformer) to ``target/model.onnx``, atomically.

    The exported graph is checked against the torch model on a padded batch before it is
    published: tracing can bake in shapes or indexing a pooling module relies on, and a
    graph that disagrees must never be cached.
    """
    import torch

    sample = tokenizer(SAMPLE, padding=True, return_tensors="pt")  # type: ignore[operator]
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]

    class _Graph(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    graph = _Graph(model).eval()  # type: ignore[arg-type]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with torch.no_grad():
            inputs = tuple(sample[k] for k in names)
            expected = graph(*inputs).float().numpy()
            torch.onnx.export(
                graph,
                inputs,
                str(tmp / "model.onnx"),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={k: {0: "batch", 1: "tokens"} for k in names},
                opset_version=OPSET,
                dynamo=False,
            )
        _verify(tmp / "model.onnx", tokenizer, names, expected)
        try:
            os.rename(tmp, target)
        except OSError:  # a concurrent export won the race: its copy is as good as ours
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


SAMPLE = [
    "a short text",
    "a second sample text, longer than the first, so that the batch is padded",
    "three",
]


def feeds(
    tokenizer: object, texts: Sequence[str], names: Sequence[str], max_length: int | None = None
) -> dict[str, np.ndarray]:
    """ONNX Runtime inputs for ``texts``: the graph's input names mapped to int64 arrays."""
    enc = tokenizer(  # type: ignore[operator]
        list(texts),
        padding=True,
        truncation=max_length is not None,
        max_length=max_length,
        return_tensors="np",
    )
    return {k: np.asarray(enc[k], dtype=np.int64) for k in names}


def _verify(path: Path, tokenizer: object, names: list[str], expected: np.ndarray) -> None:
    ort = require("onnxruntime", "onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["sentence_embedding"], feeds(tokenizer, SAMPLE, names))
    # a second, differently padded batch: the graph must not have frozen the sample's shape
    (one,) = session.run(["sentence_embedding"], feeds(tokenizer, SAMPLE[:1], names))
    diff = max(float(np.abs(got - expected).max()), float(np.abs(one[0] - expected[0]).max()))
    if not diff <= 1e-4:
        raise SpecError(
            f"the ONNX export disagrees with the torch model (max |diff| {diff:.2e}); "
            "this model's modules do not trace cleanly: use backend=torch"
        )


class OnnxEncoder:
    """fp32 ONNX Runtime encoder with the interface of ``SentenceTransformerEncoder``."""

    def __init__(
        self,
        location: str,
        identity: str,
        max_seq_length: int | None = None,
        trust_remote_code: bool = False,
        threads: int | None = None,
    ):
        st = require("sentence_transformers", "dense")
        ort = require("onnxruntime", "onnx")
        # eager attention exports as plain MatMul/Softmax, which ORT's optimizer fuses;
        # the SDPA path exports as a graph it cannot.
        model = st.SentenceTransformer(
            location,
            device="cpu",
            trust_remote_code=trust_remote_code,
            model_kwargs={"attn_implementation": "eager"},
        )
        _check_prompt_pooling(model, location)
        if max_seq_length is not None:
            model.max_seq_length = max_seq_length
        self.max_seq_length = int(model.max_seq_length)
        self.tokenizer = model.tokenizer
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self.dim = get_dim()
        folder = onnx_dir(identity)
        if not (folder / "model.onnx").exists():
            log.info("exporting %s to ONNX once: %s", location, folder)
            require("onnx", "onnx")
            export(model, self.tokenizer, folder)
        del model
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or _torch_threads()
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.path = folder / "model.onnx"
        self.location = location

    def token_lengths(self, items: Sequence[Formatted], is_query: bool) -> list[int]:
        enc = self.tokenizer(
            [i.full for i in items], truncation=True, max_length=self.max_seq_length
        )
        return [len(ids) for ids in enc["input_ids"]]

    def encode(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        inputs = feeds(
            self.tokenizer, [i.full for i in items], self.input_names, self.max_seq_length
        )
        (emb,) = self.session.run(["sentence_embedding"], inputs)
        emb = np.asarray(emb, dtype=np.float32)
        # the exported pipeline normalises when the model has a Normalize module; the
        # torch backend always asks for unit vectors, so do the same here
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        return emb / np.maximum(norms, 1e-12)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()
