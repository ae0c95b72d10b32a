"""Scoring spread over a Ray cluster, merged into the same score cache.

Past one machine the cost is forward passes, so we shard *pairs* over an existing engine
(Ray) instead of writing our own.  Shards are whole query groups — all pairs sharing a
(query, instruction) — so families that reuse a prompt prefix or a query embedding keep
doing so.  Each Ray worker is an actor that builds the model from its spec once and then
scores the shards it is handed; the driver writes every finished shard into the ScoreCache
(one transaction per shard), so an interrupted distributed run resumes like a local one,
and the normal reranking pass then reads every score from the cache.

``address``: ``local`` starts a private Ray with 2 workers on this machine; ``auto``
joins the cluster this machine belongs to; anything else is passed to ``ray.init``.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from followir.data.types import Benchmark
from followir.errors import DataError, require
from followir.evaluation.cache import ScoreCache, pair_key
from followir.evaluation.rerank import WHICH, build_pairs, missing
from followir.models.base import Pair

log = logging.getLogger(__name__)

LOCAL_WORKERS = 2
SHARDS_PER_WORKER = 4  # more shards than workers, so a slow shard does not idle the rest


@dataclass(frozen=True)
class ShardReport:
    """What a distributed scoring pass did."""

    fingerprint: str
    pairs_scored: int
    pairs_cached: int
    shards: int
    workers: int
    seconds: float


class CachedScorer:
    """A scorer that only answers from the cache: the driver's stand-in after Ray scored.

    Being asked for a pair the cache lacks means a shard was lost; fail rather than guess.
    """

    def __init__(self, name: str, fingerprint: str, cache: ScoreCache):
        self.name = name
        self._fingerprint = fingerprint
        self._cache = cache

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        raise RuntimeError(
            f"{len(pairs)} pairs of {self.name} are missing from the score cache "
            f"{self._cache.path} after distributed scoring (first: {pairs[0].doc_id!r})"
        )


def shard_pairs(pairs: Sequence[Pair], n_shards: int) -> list[list[int]]:
    """Indices of ``pairs`` split into at most ``n_shards`` shards of whole query groups.

    Groups go largest first to the currently smallest shard (deterministic), which keeps
    shards balanced without ever splitting a group.
    """
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, not {n_shards}")
    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault((p.query, p.instruction), []).append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    shards: list[list[int]] = [[] for _ in range(min(n_shards, len(ordered)))]
    for group in ordered:
        smallest = min(range(len(shards)), key=lambda s: (len(shards[s]), s))
        shards[smallest].extend(group)
    return [sorted(s) for s in shards if s]


def _import_plugins(plugins: Sequence[str]) -> None:
    """Import modules that register extra model families (on the driver and each worker)."""
    for name in plugins:
        importlib.import_module(name)


class _Worker:
    """Body of the Ray actor: one model per worker, many shards."""

    def __init__(self, spec: str, plugins: Sequence[str]):
        from followir.models.registry import load_model

        _import_plugins(plugins)
        self.scorer = load_model(spec)

    def prepare(self, corpus: dict) -> str:
        """Index the corpus if the model needs corpus statistics; return the fingerprint."""
        from followir.evaluation.rerank import prepare_scorer

        prepare_scorer(self.scorer, corpus)
        return self.scorer.fingerprint

    def score(self, shard_id: int, pairs: list[Pair], chunk_size: int) -> tuple[int, list[float]]:
        from followir.evaluation.rerank import score_pairs

        scores, _ = score_pairs(self.scorer, pairs, cache=None, chunk_size=chunk_size)
        return shard_id, scores


_started_here = False


def ensure_ray(address: str):
    """Connect to (or start) Ray once per process and return the ``ray`` module."""
    global _started_here
    ray = require("ray", "ray")
    if ray.is_initialized():
        return ray
    if address == "local":
        ray.init(num_cpus=LOCAL_WORKERS, include_dashboard=False, log_to_driver=False)
        _started_here = True
    elif address == "auto":
        ray.init(address="auto", log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return ray


def shutdown() -> None:
    """Stop the Ray that `ensure_ray("local")` started (a joined cluster is left alone)."""
    global _started_here
    if _started_here:
        import ray

        ray.shutdown()
        _started_here = False


def _n_workers(ray, address: str, num_gpus: float) -> int:
    if address == "local":
        return LOCAL_WORKERS
    resources = ray.cluster_resources()
    if num_gpus > 0:
        return max(1, int(resources.get("GPU", 0) // num_gpus))
    return max(1, int(resources.get("CPU", 1)))


def score_benchmark_ray(
    benchmark: Benchmark,
    spec: str,
    cache: ScoreCache,
    address: str = "local",
    *,
    chunk_size: int = 256,
    plugins: Sequence[str] = (),
    num_workers: int | None = None,
    num_gpus: float = 0.0,
) -> ShardReport:
    """Score every pair of ``benchmark`` that ``cache`` lacks on Ray workers, into ``cache``."""
    t0 = time.perf_counter()
    _import_plugins(plugins)
    ray = ensure_ray(address)
    from ray.util import ActorPool

    n = num_workers or _n_workers(ray, address, num_gpus)
    actor_cls = ray.remote(num_cpus=1 if num_gpus == 0 else 0, num_gpus=num_gpus)(_Worker)
    actors = [actor_cls.remote(spec, list(plugins)) for _ in range(n)]
    try:
        corpus_ref = ray.put(benchmark.corpus)
        fps = set(ray.get([a.prepare.remote(corpus_ref) for a in actors]))
        if len(fps) != 1:
            raise DataError(
                f"model {spec!r} built on {n} Ray workers gave different fingerprints {sorted(fps)};"
                " its scores would not be comparable"
            )
        fingerprint = fps.pop()
        pairs = [p for which in WHICH if which != "changed" or benchmark.has_changes
                 for p in build_pairs(benchmark, which)]
        keys = [pair_key(fingerprint, p) for p in pairs]
        found = cache.get_many(keys)
        todo_idx = missing(keys, found)  # a pair repeated across variants is scored once
        todo = [pairs[i] for i in todo_idx]
        shards = shard_pairs(todo, n * SHARDS_PER_WORKER) if todo else []
        log.info("%s: %d pairs to score in %d shards on %d Ray workers", spec, len(todo), len(shards), n)
        pool = ActorPool(actors)
        jobs = [(s, [todo[i] for i in idx]) for s, idx in enumerate(shards)]
        for shard_id, scores in pool.map_unordered(
            lambda actor, job: actor.score.remote(job[0], job[1], chunk_size), jobs
        ):
            idx = shards[shard_id]
            if len(scores) != len(idx):
                raise RuntimeError(f"shard {shard_id} returned {len(scores)} scores for {len(idx)} pairs")
            cache.put_many({keys[todo_idx[i]]: float(v) for i, v in zip(idx, scores, strict=True)})
        return ShardReport(
            fingerprint=fingerprint,
            pairs_scored=len(todo),
            pairs_cached=sum(1 for k in keys if k in found),
            shards=len(shards),
            workers=n,
            seconds=time.perf_counter() - t0,
        )
    finally:
        for a in actors:
            ray.kill(a)

