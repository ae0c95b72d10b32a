"""The FollowIR reranking protocol: score each query's pool under the original and under
the altered instruction, then measure.

Scoring is the cost, so pairs go through the on-disk score cache (keyed by the model
fingerprint and the hashes of query, instruction and document text): an interrupted run
resumes where it stopped, and a second benchmark or an ablation that repeats a pair never
scores it twice.  Pairs of one query stay together in a chunk so that families which share
a prompt prefix (causal LMs) or a query embedding (bi-encoders) can exploit it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from followir.data.types import Benchmark, Document, Run
from followir.evaluation.cache import ScoreCache, pair_key
from followir.models.base import Pair, Scorer

log = logging.getLogger(__name__)

WHICH = ("og", "changed")


@dataclass
class RerankOutput:
    """Runs per instruction variant plus how the work was done."""

    runs: dict[str, Run]
    pairs_scored: int = 0
    pairs_cached: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def prepare_scorer(scorer: Scorer, corpus: Mapping[str, Document]) -> float:
    """Give a scorer that uses collection statistics the whole corpus before any scoring.

    A scorer whose scores depend on corpus-level statistics (BM25's IDF) declares
    ``corpus_statistics = True`` and has ``index(doc_ids, texts)``.  Indexing the whole
    corpus first makes every score independent of chunking, sharding and resume order —
    otherwise an interrupted, resumed or Ray-sharded run would not reproduce a straight
    one.  Returns the seconds it took (0 for scorers that need nothing).
    """
    if not getattr(scorer, "corpus_statistics", False):
        return 0.0
    index = getattr(scorer, "index", None)
    if not callable(index):
        raise TypeError(f"{scorer.name} declares corpus_statistics but has no index() method")
    t0 = time.perf_counter()
    ids = list(corpus)
    index(ids, [corpus[d].full_text for d in ids])
    return time.perf_counter() - t0


def _variant_pools(benchmark: Benchmark, which: str) -> Iterable[tuple[str, str, list[str]]]:
    """(query id, instruction, pool) of every query that has the ``which`` instruction."""
    for qid, query in benchmark.queries.items():
        if which == "changed" and query.instruction_changed is None:
            continue
        yield qid, query.instruction(which), benchmark.pool(qid)


def build_pairs(benchmark: Benchmark, which: str) -> list[Pair]:
    """All (query, instruction, doc) pairs of one instruction variant, grouped by query."""
    pairs: list[Pair] = []
    for qid, instruction, pool in _variant_pools(benchmark, which):
        text = benchmark.queries[qid].text
        pairs.extend(Pair(text, instruction, did, benchmark.corpus[did].full_text) for did in pool)
    return pairs


def missing(keys: Sequence[str], found: Mapping[str, float]) -> list[int]:
    """Index of the first occurrence of every key not in ``found``, in input order: a pair
    that occurs twice (two queries with the same text and instruction) is scored once."""
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in found:
            first.setdefault(k, i)
    return list(first.values())


def _chunks(pairs: Sequence[Pair], size: int) -> Iterable[Sequence[Pair]]:
    """Chunks of about ``size`` pairs that never split a query's pool across chunks
    unless the pool alone is larger than ``size``."""
    chunk: list[Pair] = []
    i = 0
    while i < len(pairs):
        j = i
        key = (pairs[i].query, pairs[i].instruction)
        while j < len(pairs) and (pairs[j].query, pairs[j].instruction) == key:
            j += 1
        group = pairs[i:j]
        if chunk and len(chunk) + len(group) > size:
            yield chunk
            chunk = []
        for k in range(0, len(group), size):
            part = list(group[k : k + size])
            if len(part) == size:
                if chunk:
                    yield chunk
                    chunk = []
                yield part
            else:
                chunk.extend(part)
        i = j
    if chunk:
        yield chunk


def score_pairs(
    scorer: Scorer,
    pairs: Sequence[Pair],
    cache: ScoreCache | None = None,
    chunk_size: int = 256,
    progress: bool = False,
) -> tuple[list[float], int]:
    """Scores for ``pairs`` (cached ones looked up, the rest computed and stored).

    Returns the scores in input order and how many pairs were actually computed.  The
    fingerprint must not change while scoring (BM25 drops its corpus-level IDF when it meets
    a document outside its index): scores would be cached under a key that no longer
    describes them, so that is an error.
    """
    fp = scorer.fingerprint
    keys = [pair_key(fp, p) for p in pairs]
    found = cache.get_many(keys) if cache is not None else {}
    todo_idx = missing(keys, found)
    todo = [pairs[i] for i in todo_idx]
    scores: dict[str, float] = dict(found)
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"scoring {scorer.name}", unit="pair")
    done = 0
    for chunk in _chunks(todo, chunk_size):
        values = scorer.score(chunk)
        if len(values) != len(chunk):
            raise RuntimeError(
                f"model {scorer.name} returned {len(values)} scores for {len(chunk)} pairs"
            )
        chunk_keys = [keys[todo_idx[done + n]] for n in range(len(chunk))]
        new = {k: float(v) for k, v in zip(chunk_keys, values, strict=True)}
        bad = [p.doc_id for p, v in zip(chunk, new.values(), strict=True) if not math.isfinite(v)]
        if bad:
            raise RuntimeError(
                f"model {scorer.name} returned non-finite scores (NaN/inf) for documents "
                f"{bad[:5]}; a ranking cannot be built from them"
            )
        if scorer.fingerprint != fp:
            raise RuntimeError(
                f"model {scorer.name} changed its fingerprint while scoring ({fp!r} -> "
                f"{scorer.fingerprint!r}); index the whole corpus before scoring"
            )
        if cache is not None:
            cache.put_many(new)  # committed per chunk: a kill loses at most one chunk
        scores.update(new)
        done += len(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return [scores[k] for k in keys], len(todo)


def rerank(
    benchmark: Benchmark,
    scorer: Scorer,
    cache: ScoreCache | None = None,
    which: Sequence[str] = WHICH,
    chunk_size: int = 256,
    progress: bool = False,
    prepare: bool = True,
) -> RerankOutput:
    """Score every pool under each instruction variant and return the runs.

    ``prepare``: index the corpus first for scorers that need corpus statistics
    (`prepare_scorer`); off when the scores are known to be in the cache already.
    """
    start = time.perf_counter()
    out = RerankOutput(runs={})
    if prepare:
        out.timings["index"] = prepare_scorer(scorer, benchmark.corpus)
    for variant in which:
        if variant == "changed" and not benchmark.has_changes:
            continue
        t0 = time.perf_counter()
        pairs = build_pairs(benchmark, variant)
        scores, computed = score_pairs(scorer, pairs, cache, chunk_size, progress)
        qids = (qid for qid, _, pool in _variant_pools(benchmark, variant) for _ in pool)
        run: Run = {}
        for qid, pair, score in zip(qids, pairs, scores, strict=True):
            run.setdefault(qid, {})[pair.doc_id] = score
        out.runs[variant] = run
        out.pairs_scored += computed
        out.pairs_cached += len(pairs) - computed
        out.timings[variant] = time.perf_counter() - t0
    out.seconds = time.perf_counter() - start
    return out

