"""Uncertainty over queries: bootstrap confidence intervals and paired significance tests.

FollowIR test sets have 20-52 queries, so a point estimate alone over-claims; every number
in a results table comes with a percentile bootstrap CI over queries, and two models are
compared *paired* on the same queries (paired bootstrap and sign-flip randomization test).

Everything is numpy with a seeded ``Generator``: the same values and seed give the same
interval and p-value on any machine.  Query ids are sorted before resampling so dict order
never matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from followir.errors import DataError

DEFAULT_N_BOOT = 1000
DEFAULT_SEED = 0

_BLOCK = 200_000  # resampled values per numpy block, to bound memory on large query sets


@dataclass(frozen=True)
class BootstrapCI:
    """Mean of per-query values with a percentile bootstrap interval (same units as input)."""

    mean: float
    low: float
    high: float
    n_queries: int
    n_boot: int
    confidence: float
    seed: int


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of model A against model B on the same queries.

    ``diff`` is mean(A) - mean(B); ``ci_low``/``ci_high`` bound it (paired bootstrap only);
    ``p_value`` is two-sided for the null hypothesis "no difference".
    """

    method: str  # "paired-bootstrap" or "randomization"
    mean_a: float
    mean_b: float
    diff: float
    p_value: float
    n_queries: int
    n_samples: int
    seed: int
    ci_low: float | None = None
    ci_high: float | None = None


def _values(values: Mapping[str, float] | np.ndarray | list[float]) -> np.ndarray:
    if isinstance(values, Mapping):
        return np.array([values[q] for q in sorted(values)], dtype=float)
    return np.asarray(values, dtype=float)


def _resampled_means(vals: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of ``vals``, in bounded-memory blocks."""
    n = len(vals)
    per_block = max(1, _BLOCK // max(n, 1))
    out = np.empty(n_boot, dtype=float)
    for start in range(0, n_boot, per_block):
        stop = min(n_boot, start + per_block)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = vals[idx].mean(axis=1)
    return out


def _check(n_boot: int, confidence: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, not {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")


def bootstrap_ci(
    values: Mapping[str, float] | np.ndarray | list[float],
    n_boot: int = DEFAULT_N_BOOT,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> BootstrapCI:
    """Percentile bootstrap CI of the mean over queries.

    NaN bounds (and mean) when there are no values; a single query gives a zero-width
    interval, which is honest: one query says nothing about spread.
    """
    _check(n_boot, confidence)
    vals = _values(values)
    if len(vals) == 0:
        nan = float("nan")
        return BootstrapCI(nan, nan, nan, 0, n_boot, confidence, seed)
    if not np.all(np.isfinite(vals)):
        raise DataError("bootstrap_ci: per-query values contain NaN or infinity")
    rng = np.random.default_rng(seed)
    means = _resampled_means(vals, n_boot, rng)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    return BootstrapCI(float(vals.mean()), float(low), float(high), len(vals), n_boot, confidence, seed)


def _paired(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Aligned arrays of A's and B's values; refuses query sets that differ."""
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    if only_a or only_b:
        raise DataError(
            "paired test needs per-query values on the same queries: "
            f"{len(only_a)} only in A (e.g. {only_a[:5]}), "
            f"{len(only_b)} only in B (e.g. {only_b[:5]}); "
            "evaluate both models on the same benchmark and query subset"
        )
    if not a:
        raise DataError("paired test: no queries to compare")
    qids = sorted(a)
    va = np.array([a[q] for q in qids], dtype=float)
    vb = np.array([b[q] for q in qids], dtype=float)
    if not (np.all(np.isfinite(va)) and np.all(np.isfinite(vb))):
        raise DataError("paired test: per-query values contain NaN or infinity")
    return va, vb


def _p(extreme: int, n: int) -> float:
    """(count + 1) / (n + 1): never exactly 0, valid for Monte Carlo tests."""
    return (extreme + 1) / (n + 1)


def paired_bootstrap(
    a: Mapping[str, float],
    b: Mapping[str, float],
    n_boot: int = DEFAULT_N_BOOT,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> PairedTest:
    """Paired bootstrap of mean(A - B) over queries.

    The p-value shifts the bootstrap distribution of the difference to the null (mean 0)
    and counts resamples at least as far from 0 as the observed difference (two-sided).
    """
    _check(n_boot, confidence)
    va, vb = _paired(a, b)
    d = va - vb
    obs = float(d.mean())
    rng = np.random.default_rng(seed)
    means = _resampled_means(d, n_boot, rng)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    tol = 1e-12 * max(1.0, abs(obs))
    extreme = int(np.sum(np.abs(means - obs) >= abs(obs) - tol))
    return PairedTest(
        method="paired-bootstrap",
        mean_a=float(va.mean()),
        mean_b=float(vb.mean()),
        diff=obs,
        p_value=_p(extreme, n_boot),
        n_queries=len(d),
        n_samples=n_boot,
        seed=seed,
        ci_low=float(low),
        ci_high=float(high),
    )


def randomization_test(
    a: Mapping[str, float],
    b: Mapping[str, float],
    n_samples: int = 10_000,
    seed: int = DEFAULT_SEED,
) -> PairedTest:
    """Paired (sign-flip) randomization test of mean(A - B) = 0.

    Under the null each query's difference is equally likely to have either sign; the
    p-value is the share of random sign assignments whose |mean| reaches the observed one.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, not {n_samples}")
    va, vb = _paired(a, b)
    d = va - vb
    obs = float(d.mean())
    rng = np.random.default_rng(seed)
    n = len(d)
    per_block = max(1, _BLOCK // n)
    extreme = 0
    tol = 1e-12 * max(1.0, abs(obs))
    for start in range(0, n_samples, per_block):
        rows = min(per_block, n_samples - start)
        signs = rng.integers(0, 2, size=(rows, n)) * 2 - 1
        perm = (signs * d).mean(axis=1)
        extreme += int(np.sum(np.abs(perm) >= abs(obs) - tol))
    return PairedTest(
        method="randomization",
        mean_a=float(va.mean()),
        mean_b=float(vb.mean()),
        diff=obs,
        p_value=_p(extreme, n_samples),
        n_queries=n,
        n_samples=n_samples,
        seed=seed,
    )
