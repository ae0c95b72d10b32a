"""Stand-in models for the analysis and full-retrieval tests: word overlap, nothing learned.

`OverlapModel` scores a document by how many distinct words of ``query + instruction`` it
contains, so every expected ranking in the tests can be worked out by hand.  It implements
both the Scorer protocol (pairs) and the Retriever protocol (index/retrieve).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from followir.models.base import Pair

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class OverlapModel:
    name = "overlap"

    def __init__(self) -> None:
        self.calls = 0
        self._docs: dict[str, set[str]] = {}

    @property
    def fingerprint(self) -> str:
        return "overlap/1"

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        self.calls += 1
        return [float(len(words(p.query + " " + p.instruction) & words(p.doc_text))) for p in pairs]

    def index(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        self._docs = {d: words(t) for d, t in zip(doc_ids, texts, strict=True)}

    def retrieve(self, query: str, instruction: str, k: int) -> dict[str, float]:
        q = words(query + " " + instruction)
        scored = {d: float(len(q & w)) for d, w in self._docs.items()}
        hits = {d: s for d, s in scored.items() if s > 0}
        return dict(sorted(hits.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:k])


class ExplodingModel(OverlapModel):
    """Fails if asked to score: proves a resumed run re-used its saved results."""

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        raise AssertionError("scored again although results were saved")
