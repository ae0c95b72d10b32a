"""Test-only scorers, importable by module path so subprocesses and Ray workers can build
them (``PYTHONPATH`` = repo root): a deterministic hash scorer that can sleep per call and
log every pair it scores (to count recomputation), and a scorer that returns given scores.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence

from followir.evaluation.cache import pair_key
from followir.models.base import Pair
from followir.models.registry import families, register_family

FAMILY = "test-counting"


class CountingScorer:
    """Hash of (query, instruction, doc_id) in [0, 1); ``sleep`` seconds per call; appends
    one JSON line per call (the cache keys of the pairs it scored) to ``log``.  Both can
    come from the environment so that a subprocess uses the same spec as the test."""

    def __init__(self, sleep: str | float | None = None, log: str | None = None, salt: str = ""):
        if sleep is None:
            sleep = os.environ.get("FOLLOWIR_TEST_SCORER_SLEEP", 0.0)
        self.sleep = float(sleep)
        self.log = log or os.environ.get("FOLLOWIR_TEST_SCORER_LOG")
        self.salt = salt
        self.name = "counting"
        self.calls = 0
        self.pairs_seen: list[Pair] = []

    @property
    def fingerprint(self) -> str:
        return f"counting-sha256|salt={self.salt}"

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        self.calls += 1
        self.pairs_seen.extend(pairs)
        if self.sleep:
            time.sleep(self.sleep)
        out = []
        for p in pairs:
            h = hashlib.sha256(f"{self.salt}\x1f{p.query}\x1f{p.instruction}\x1f{p.doc_id}".encode())
            out.append(int.from_bytes(h.digest()[:8], "big") / 2.0**64)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(json.dumps([pair_key(self.fingerprint, p) for p in pairs]) + "\n")
        return out


class TableScorer:
    """Scores looked up by (instruction, doc_id): lets a test fix the runs it measures."""

    def __init__(self, table: Mapping[tuple[str, str], float], name: str = "table"):
        self.table = dict(table)
        self.name = name

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(sorted((list(k), v) for k, v in self.table.items()))
        return "table|" + hashlib.sha256(blob.encode()).hexdigest()

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        return [self.table[(p.instruction, p.doc_id)] for p in pairs]


class CorpusStatsScorer:
    """Like BM25's IDF, its scores depend on the documents it knows: the share of known
    documents sharing a word with the query.  Without `index()` it learns documents as it
    meets them, so chunking changes its scores; indexed, it is chunk-independent."""

    corpus_statistics = True

    def __init__(self, **_: str):
        self.name = "corpus-stats"
        self.docs: dict[str, set[str]] = {}
        self.indexed = ""

    @property
    def fingerprint(self) -> str:
        return f"corpus-stats|{self.indexed or 'seen'}"

    def index(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        self.docs = {d: set(t.lower().split()) for d, t in zip(doc_ids, texts, strict=True)}
        self.indexed = hashlib.sha256("\x1f".join(doc_ids).encode()).hexdigest()[:12]

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        for p in pairs:
            self.docs.setdefault(p.doc_id, set(p.doc_text.lower().split()))
        out = []
        for p in pairs:
            words = set(f"{p.query} {p.instruction}".lower().split())
            share = sum(1 for w in self.docs.values() if w & words) / len(self.docs)
            overlap = len(words & self.docs[p.doc_id])
            out.append(overlap * share)
        return out


if FAMILY not in families():
    register_family(FAMILY, __name__, "CountingScorer", "test-only deterministic scorer")
    register_family("test-corpus", __name__, "CorpusStatsScorer", "test-only corpus-stats scorer")
