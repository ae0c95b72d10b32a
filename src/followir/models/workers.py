"""Scoring batches on several single-threaded workers instead of one multi-threaded one.

Why: a small model's GEMMs (MiniLM's 384-wide layers, a short batch of a 135M LM) are too
small to split well across cores: each op is cut into per-thread slices that synchronise
after every layer.  Running whole batches side by side, each on one core, keeps every core
on a large GEMM and needs no synchronisation between them.  torch releases the GIL inside
its ops, so plain threads suffice; work that is not thread-safe (the fast tokenizer) stays
on the calling thread, which prepares the next batches while the workers compute.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, results in input order.

    ``items`` is consumed lazily on the calling thread, at most ``2 * workers`` ahead of the
    results, so a large corpus is never prepared (tokenized) all at once.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="followir-worker") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # an error or an abandoned generator: drop what has not started
            for fut in pending:
                fut.cancel()


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` intra-op CPU threads, then put torch's setting back (None: as is)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def split_threads(workers: int) -> Iterator[int]:
    """Give each of ``workers`` concurrent workers an equal share of torch's intra-op
    threads (at least one) for the duration of the block; yields the share."""
    import torch

    share = max(1, torch.get_num_threads() // max(1, workers))
    with torch_threads(share):
        yield share


@contextlib.contextmanager
def worker_plan(workers: int, jobs: int) -> Iterator[int]:
    """How many workers to use for ``jobs`` jobs, torch's threads shared out among them for
    the block.  Fewer jobs than workers would leave cores idle (one query's pool under one
    instruction is a single job for the causal LM), so that case gets one worker with
    every thread."""
    if workers <= 1 or jobs < workers:
        yield 1
        return
    with split_threads(workers):
        yield workers
