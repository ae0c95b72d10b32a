"""The noise floor: a seeded random scorer.

p-MRR of a model that ignores the instruction hovers around zero; this baseline shows how
far from zero chance alone lands on a given benchmark.  Each pair's score is a hash of
``(seed, query, instruction, doc_id)`` mapped to [0, 1), so it is reproducible, independent
of batch order and chunking, and — because the instruction is hashed — different under the
original and the altered instruction, as a random ranker's would be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from followir.models.base import Pair
from followir.models.loading import int_option, reject_unknown


class RandomScorer:
    """``random`` — option ``seed`` (default 0)."""

    OPTIONS = ("seed",)

    def __init__(self, **options: object):
        reject_unknown("random", options, self.OPTIONS)
        self.seed = int_option("seed", options.get("seed", 0), minimum=0)
        self.name = f"random?seed={self.seed}"

    @property
    def fingerprint(self) -> str:
        return f"random-sha256|seed={self.seed}"

    def score_one(self, query: str, instruction: str, doc_id: str) -> float:
        h = hashlib.sha256()
        for part in (str(self.seed), query, instruction, doc_id):
            h.update(part.encode("utf-8"))
            h.update(b"\x1f")
        return int.from_bytes(h.digest()[:8], "big") / 2.0**64

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        return [self.score_one(p.query, p.instruction, p.doc_id) for p in pairs]
