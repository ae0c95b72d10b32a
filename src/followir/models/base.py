"""One call shape for every model family.

A scorer receives *pairs* — (query, instruction, document) — and returns one float per
pair, higher meaning more relevant.  The instruction is a separate field so that no
adapter can silently drop it: each family decides how to attach it (prefix, template,
INSTRUCTOR pair, chat prompt) and a per-family test proves the score depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


def join_text(*parts: str) -> str:
    """Non-empty parts, each stripped, joined by one space: an empty instruction leaves no
    dangling separator, and stray whitespace around a field never changes a prompt."""
    return " ".join(p.strip() for p in parts if p and p.strip())


def join_query(query: str, instruction: str) -> str:
    """Query and instruction as one text, ``f"{query} {instruction}"`` (the FollowIR
    paper's and mteb's joining): BM25's query, a cross-encoder's first segment, the
    ``Query:`` line of the pointwise templates, the plain bi-encoder query."""
    return join_text(query, instruction)


@dataclass(frozen=True)
class Pair:
    """A (query + instruction, document) pair to score."""

    query: str
    instruction: str
    doc_id: str
    doc_text: str


@runtime_checkable
class Scorer(Protocol):
    """What the evaluation protocol needs from any model.

    ``fingerprint`` identifies the model *and every setting that changes its scores*
    (template, dtype, max length, weights checksum); the on-disk score cache keys on it.
    """

    name: str

    @property
    def fingerprint(self) -> str: ...

    def score(self, pairs: Sequence[Pair]) -> list[float]: ...


@runtime_checkable
class Retriever(Protocol):
    """A model that can search a whole corpus (full-collection protocol)."""

    name: str

    def index(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None: ...

    def retrieve(self, query: str, instruction: str, k: int) -> dict[str, float]: ...
