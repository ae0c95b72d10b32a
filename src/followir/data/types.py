"""The data model every other part of followir speaks.

The original and the altered instruction live on one `Query` object, not in two queries
glued together by id suffixes (mteb's `-og`/`-changed`), so nothing downstream can pair
the wrong two.  Qrels and runs are plain ``dict[qid, dict[docid, number]]`` — the shape
pytrec_eval and ir_measures take — with ids always strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from followir.errors import DataError

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Document:
    """One corpus entry: the body in `text`; `full_text` (title prepended) is what models see."""

    doc_id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Query:
    """A query with its original instruction and (optionally) the altered, narrower one.

    ``extra`` keeps layout-specific fields (keywords, short_query, base query id, ...).
    """

    query_id: str
    text: str
    instruction_og: str = ""
    instruction_changed: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def instruction(self, which: str) -> str:
        """The instruction text for ``which`` in {"og", "changed"}."""
        if which == "og":
            return self.instruction_og
        if which == "changed":
            if self.instruction_changed is None:
                raise DataError(f"query {self.query_id!r} has no altered instruction")
            return self.instruction_changed
        raise ValueError(f"which must be 'og' or 'changed', not {which!r}")


@dataclass
class Benchmark:
    """Queries + corpus + qrels (og and, when available, changed) + reranking pools.

    A benchmark with ``qrels_changed`` is a FollowIR-style instruction benchmark (p-MRR is
    defined); one without it is an ordinary BEIR(+) benchmark (standard metrics only).
    """

    name: str
    queries: dict[str, Query]
    corpus: dict[str, Document]
    qrels_og: Qrels
    qrels_changed: Qrels | None = None
    pools: dict[str, list[str]] | None = None
    main_measure: str = "MAP@1000"
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # -- consistency -------------------------------------------------------------------
    def validate(self) -> None:
        """Refuse qrels or pools that point at unknown queries or documents."""
        for label, qrels in (("qrels_og", self.qrels_og), ("qrels_changed", self.qrels_changed)):
            if qrels is None:
                continue
            for qid, docs in qrels.items():
                if qid not in self.queries:
                    raise DataError(f"{self.name}: {label} names unknown query id {qid!r}")
                for did in docs:
                    if did not in self.corpus:
                        raise DataError(
                            f"{self.name}: {label} for query {qid!r} names unknown document id {did!r}"
                        )
        for qid, pids in (self.pools or {}).items():
            if qid not in self.queries:
                raise DataError(f"{self.name}: pool names unknown query id {qid!r}")
            for did in pids:
                if did not in self.corpus:
                    raise DataError(
                        f"{self.name}: pool of query {qid!r} names unknown document id {did!r}"
                    )

    # -- derived views -----------------------------------------------------------------
    @property
    def has_changes(self) -> bool:
        return self.qrels_changed is not None

    def changed_docs(self) -> dict[str, list[str]]:
        """Documents relevant under the original instruction and not under the altered one."""
        if self.qrels_changed is None:
            return {}
        out: dict[str, list[str]] = {}
        for qid, docs in self.qrels_og.items():
            # A query never re-judged (no altered instruction, absent from qrels_changed)
            # has no changed documents; treating all its relevant ones as changed would
            # inflate p-MRR.
            query = self.queries.get(qid)
            if query is None or query.instruction_changed is None or qid not in self.qrels_changed:
                continue
            new = self.qrels_changed[qid]
            changed = sorted(d for d, rel in docs.items() if rel > 0 and new.get(d, 0) <= 0)
            if changed:
                out[qid] = changed
        return out

    def pool(self, query_id: str) -> list[str]:
        """The documents to rerank for a query: its pool, or the whole corpus if none."""
        if self.pools is not None:
            if query_id not in self.pools:
                raise DataError(f"{self.name}: query {query_id!r} has no pool (top_ranked)")
            return self.pools[query_id]
        return list(self.corpus)

    def subset(self, query_ids: Iterable[str]) -> Benchmark:
        """A benchmark restricted to some queries (corpus shared, not copied)."""
        keep = list(query_ids)
        missing = [q for q in keep if q not in self.queries]
        if missing:
            raise DataError(f"{self.name}: unknown query ids {missing[:5]}")
        ks = set(keep)
        return Benchmark(
            name=self.name,
            queries={q: self.queries[q] for q in keep},
            corpus=self.corpus,
            qrels_og={q: d for q, d in self.qrels_og.items() if q in ks},
            qrels_changed=None
            if self.qrels_changed is None
            else {q: d for q, d in self.qrels_changed.items() if q in ks},
            pools=None if self.pools is None else {q: p for q, p in self.pools.items() if q in ks},
            main_measure=self.main_measure,
            metadata=dict(self.metadata),
        )
