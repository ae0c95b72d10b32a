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
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from followir.data.types import Benchmark, Run
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


def build_pairs(benchmark: Benchmark, which: str) -> list[Pair]:
    """All (query, instruction, doc) pairs of one instruction variant, grouped by query."""
    pairs: list[Pair] = []
    for qid, query in benchmark.queries.items():
        if which == "changed" and query.instruction_changed is None:
            continue
        instruction = query.instruction(which)
        for did in benchmark.pool(qid):
            doc = benchmark.corpus[did]
            pairs.append(Pair(query.text, instruction, did, doc.full_text))
    return pairs


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

    Returns the scores in input order and how many pairs were actually computed.
    """
    fp = scorer.fingerprint
    keys = [pair_key(fp, p) for p in pairs]
    found = cache.get_many(keys) if cache is not None else {}
    todo_idx = [i for i, k in enumerate(keys) if k not in found]
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
) -> RerankOutput:
    """Score every pool under each instruction variant and return the runs."""
    start = time.perf_counter()
    out = RerankOutput(runs={})
    for variant in which:
        if variant == "changed" and not benchmark.has_changes:
            continue
        t0 = time.perf_counter()
        pairs = build_pairs(benchmark, variant)
        scores, computed = score_pairs(scorer, pairs, cache, chunk_size, progress)
        run: Run = {}
        for pair_qid, pair, score in zip(_qids(benchmark, variant), pairs, scores, strict=True):
            run.setdefault(pair_qid, {})[pair.doc_id] = score
        out.runs[variant] = run
        out.pairs_scored += computed
        out.pairs_cached += len(pairs) - computed
        out.timings[variant] = time.perf_counter() - t0
    out.seconds = time.perf_counter() - start
    return out


def _qids(benchmark: Benchmark, which: str) -> Iterable[str]:
    """Query id of every pair `build_pairs` yields, in the same order."""
    for qid, query in benchmark.queries.items():
        if which == "changed" and query.instruction_changed is None:
            continue
        yield from (qid for _ in benchmark.pool(qid))
