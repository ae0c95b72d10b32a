"""FLOP accounting for the speed benchmark: a measured matmul ceiling and model FLOP counts.

Why a *measured* ceiling: a nominal peak (cores x clock x SIMD width) says nothing about a
shared 2-core VM; a dense GEMM through the same torch build, on the same threads, in the
same run, is the fastest anything can go here, so "achieved / ceiling" is an honest
efficiency figure.

Model FLOPs count only useful work, i.e. positions and layers that must be computed:

* every linear layer: ``2 * params_nonembedding * tokens`` (real tokens, no padding: the
  padding a backend computes is its own waste and shows up as lower efficiency);
* attention scores and the weighted sum: ``4 * L^2 * d`` per layer for a bidirectional
  encoder, ``2 * L * (L + 1) * d`` per layer for a causal LM (each token sees itself and
  the tokens before it);
* for a causal LM scored pointwise, the LM head only at the last position of each prompt
  (``2 * d * vocab`` per prompt, as with ``logits_to_keep=1``).

Run ``python bench/flops.py`` to print the ceilings alone.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Ceiling:
    dtype: str
    n: int
    threads: int
    seconds_per_matmul: float
    flops_per_s: float


def matmul_ceiling(
    dtype: str = "fp32", n: int = 2048, seconds: float = 2.0, threads: int | None = None
) -> Ceiling:
    """Best-of-repeats GEMM throughput of ``torch.matmul`` on an ``n x n`` pair.

    The best repeat (not the mean) is taken: other load on the machine only ever slows a
    repeat down, so the fastest one is the closest to what the hardware can do.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    tdtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(tdtype)
    b = torch.randn(n, n, generator=gen).to(tdtype)
    with torch.inference_mode():
        torch.matmul(a, b)  # warm-up: page in, pick kernels
        best = float("inf")
        start = time.perf_counter()
        reps = 0
        while reps < 3 or time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            torch.matmul(a, b)
            best = min(best, time.perf_counter() - t0)
            reps += 1
    return Ceiling(dtype, n, torch.get_num_threads(), best, 2.0 * n**3 / best)


# -- model FLOPs -----------------------------------------------------------------------------
EMBEDDING_NAMES = ("embed", "wte", "wpe", "position", "token_type", "lm_head", "shared")


def nonembedding_params(model) -> int:
    """Parameters that multiply every token: all but embedding tables and the LM head.

    Pooler layers (BERT's CLS pooler) run once per sequence, not per token; they are left
    out too (their cost is ``2 * d^2`` per sequence, negligible).
    """
    total = 0
    for name, p in model.named_parameters():
        low = name.lower()
        if any(k in low for k in EMBEDDING_NAMES) or "pooler" in low:
            continue
        total += p.numel()
    return total


@dataclass(frozen=True)
class Shape:
    """What FLOP counting needs from a transformer."""

    params_nonembedding: int
    layers: int
    hidden: int
    vocab: int


def shape_of(model) -> Shape:
    cfg = model.config
    return Shape(
        params_nonembedding=nonembedding_params(model),
        layers=int(getattr(cfg, "num_hidden_layers", 0)),
        hidden=int(getattr(cfg, "hidden_size", 0)),
        vocab=int(getattr(cfg, "vocab_size", 0)),
    )


def encoder_flops(shape: Shape, lengths: Iterable[int]) -> float:
    """Forward FLOPs of a bidirectional encoder over sequences of the given real lengths."""
    total = 0.0
    for n in lengths:
        total += 2.0 * shape.params_nonembedding * n
        total += 4.0 * shape.layers * n * n * shape.hidden
    return total


def causal_last_token_flops(shape: Shape, lengths: Iterable[int]) -> float:
    """Forward FLOPs of a causal LM per prompt, with the LM head at the last position only."""
    total = 0.0
    for n in lengths:
        total += 2.0 * shape.params_nonembedding * n
        total += 2.0 * shape.layers * n * (n + 1) * shape.hidden
        total += 2.0 * shape.hidden * shape.vocab
    return total


def causal_shared_prefix_flops(shape: Shape, groups: Iterable[tuple[int, list[int]]]) -> float:
    """FLOPs a causal LM actually spends when each group's common prefix (prefix length,
    suffix lengths) runs once and every suffix attends to prefix + itself; head at the last
    position of each suffix only.  With a zero-length prefix this equals
    `causal_last_token_flops` over the suffixes."""
    total = 0.0
    for p, suffixes in groups:
        total += 2.0 * shape.params_nonembedding * p + 2.0 * shape.layers * p * (p + 1) * shape.hidden
        for n in suffixes:
            total += 2.0 * shape.params_nonembedding * n
            total += 2.0 * shape.layers * shape.hidden * (2 * n * p + n * (n + 1))
            total += 2.0 * shape.hidden * shape.vocab
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    out = [asdict(matmul_ceiling(d, args.n, args.seconds, args.threads)) for d in ("fp32", "bf16")]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
