"""The evaluation spine: benchmark + model -> runs -> measures with CIs -> files on disk.

`evaluate_runs` is pure (runs in, numbers out) so that runs read from TREC files, produced
by another toolkit or by an ablation are measured exactly like our own.  `evaluate_model`
adds the costly part — scoring through the resumable score cache, locally or over Ray —
and writes the TREC runs and the results JSON.

The one rule that makes FollowIR numbers trustworthy lives here: the original-instruction
run is measured against ``qrels_og`` only, and p-MRR compares the og and changed runs over
``benchmark.changed_docs()`` with the pool sizes as the rank of a missing document.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from followir.data.types import Benchmark, Run
from followir.errors import DataError
from followir.evaluation.cache import ScoreCache
from followir.evaluation.rerank import rerank
from followir.evaluation.results import EvalResult, MeasureResult
from followir.evaluation.runs import output_paths, write_run
from followir.metrics.base import EvalInput, Measure, parse_measure
from followir.metrics.stats import DEFAULT_N_BOOT, DEFAULT_SEED
from followir.models.base import Scorer

log = logging.getLogger(__name__)

EXTRA_MEASURES = ("nDCG@5",)  # shown next to the benchmark's main measure by default
PMRR = "p-MRR"

_VERSIONED = (
    "followir",
    "numpy",
    "ir_measures",
    "pytrec-eval-terrier",
    "torch",
    "transformers",
    "sentence-transformers",
    "bm25s",
    "peft",
    "ray",
)


def default_measures(benchmark: Benchmark) -> list[Measure]:
    """The benchmark's main measure, nDCG@5, and p-MRR when the benchmark has changes."""
    names = [benchmark.main_measure, *EXTRA_MEASURES]
    if benchmark.has_changes:
        names.append(PMRR)
    out: list[Measure] = []
    for name in names:
        m = parse_measure(name)
        if m not in out:
            out.append(m)
    return out


def resolve_measures(
    benchmark: Benchmark, measures: Sequence[str | Measure] | None
) -> list[Measure]:
    """Parse requested measures (or the defaults); always keep the main measure first.

    Instruction measures are dropped, with a warning, on a benchmark without altered
    instructions: asking for ``--measure p-MRR`` over BEIR and FollowIR sets together is fine.
    """
    if not measures:
        return default_measures(benchmark)
    parsed = [parse_measure(benchmark.main_measure)]
    for m in measures:
        pm = parse_measure(m)
        if pm not in parsed:
            parsed.append(pm)
    kept = [m for m in parsed if benchmark.has_changes or not m.needs_changes]
    for m in parsed:
        if m not in kept:
            log.warning("%s: no altered instructions, skipping %s", benchmark.name, m)
    return kept


def eval_input(benchmark: Benchmark, runs: Mapping[str, Run]) -> EvalInput:
    """Pair each run with *its own* qrels; og with qrels_og, changed with qrels_changed."""
    if "og" not in runs:
        raise DataError(f"{benchmark.name}: no run under the original instruction ('og')")
    pool_sizes = None
    if benchmark.pools is not None:
        pool_sizes = {q: len(p) for q, p in benchmark.pools.items()}
    groups = benchmark.metadata.get("groups")
    return EvalInput(
        run_og=runs["og"],
        qrels_og=benchmark.qrels_og,
        run_changed=runs.get("changed"),
        qrels_changed=benchmark.qrels_changed,
        changed_docs=benchmark.changed_docs(),
        pool_sizes=pool_sizes,
        groups=groups if isinstance(groups, Mapping) else None,
    )


def evaluate_runs(
    benchmark: Benchmark,
    runs: Mapping[str, Run],
    measures: Sequence[str | Measure] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
) -> dict[str, MeasureResult]:
    """Measure runs ``{"og": run, "changed": run}`` on a benchmark, with bootstrap CIs.

    Values are fractions (p-MRR in [-1, 1]); tables multiply by 100.
    """
    parsed = resolve_measures(benchmark, measures)
    inp = eval_input(benchmark, runs)
    out: dict[str, MeasureResult] = {}
    for m in parsed:
        if m.needs_changes and inp.run_changed is None:
            raise DataError(f"{benchmark.name}: {m} needs a run under the altered instruction")
        per_query = m.per_query(inp)
        out[str(m)] = MeasureResult.of(per_query, n_boot, seed, value=m.aggregate(per_query))
    return out


def versions() -> dict[str, str]:
    """Versions of followir and of the libraries that can change a score or a number."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _open_cache(cache: ScoreCache | str | Path | bool | None, out_dir: Path) -> ScoreCache | None:
    if isinstance(cache, ScoreCache):
        return cache
    if cache is False:
        return None
    if cache is None or cache is True:
        return ScoreCache(out_dir / "cache.sqlite")
    return ScoreCache(cache)


def evaluate_model(
    benchmark: Benchmark,
    model: str | Scorer,
    out_dir: str | Path,
    cache: ScoreCache | str | Path | bool | None = None,
    measures: Sequence[str | Measure] | None = None,
    *,
    batch_size: int = 256,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    ray: str | None = None,
    plugins: Sequence[str] = (),
    model_name: str | None = None,
    progress: bool = False,
    write: bool = True,
) -> EvalResult:
    """Rerank ``benchmark`` with ``model`` (a spec string or a Scorer), measure, write.

    ``cache``: a ScoreCache, a path to one, None for ``<out_dir>/cache.sqlite``, or False
    for none.  Scores are committed per chunk of ``batch_size`` pairs, so an interrupted
    evaluation re-run with the same cache scores only what is missing.  ``ray`` (an address,
    ``auto`` or ``local``) shards the scoring over a Ray cluster; the cache is filled by the
    driver, so local and distributed runs share it.  Writes
    ``<out>/<benchmark>/<slug>.og.trec``, ``.changed.trec`` and ``.json``.
    """
    out_dir = Path(out_dir)
    name = model_name or (model if isinstance(model, str) else model.name)
    parsed = resolve_measures(benchmark, measures)
    t0 = time.perf_counter()
    store = _open_cache(cache, out_dir)
    owns_store = store is not None and not isinstance(cache, ScoreCache)
    try:
        timings: dict[str, float] = {}
        counts: dict[str, int] = {}
        if ray is not None:
            from followir.evaluation.sharding import CachedScorer, score_benchmark_ray

            if store is None:
                raise DataError("--ray needs a score cache to merge the shards into")
            if not isinstance(model, str):
                raise DataError("--ray needs a model spec string: each worker builds its own model")
            report = score_benchmark_ray(
                benchmark, model, store, address=ray, chunk_size=batch_size, plugins=plugins
            )
            scorer: Scorer = CachedScorer(name, report.fingerprint, store)
            timings["ray_scoring"] = report.seconds
            counts["ray_shards"] = report.shards
        else:
            t_load = time.perf_counter()
            if isinstance(model, str):
                from followir.models.registry import load_model

                scorer = load_model(model)  # type: ignore[assignment]
            else:
                scorer = model
            timings["load"] = time.perf_counter() - t_load
        out = rerank(benchmark, scorer, cache=store, chunk_size=batch_size, progress=progress)
        if ray is not None:
            counts["pairs_scored"] = report.pairs_scored
            counts["pairs_cached"] = report.pairs_cached
        else:
            counts["pairs_scored"] = out.pairs_scored
            counts["pairs_cached"] = out.pairs_cached
        timings.update({f"rerank_{k}": v for k, v in out.timings.items()})
        t_eval = time.perf_counter()
        results = evaluate_runs(benchmark, out.runs, parsed, n_boot=n_boot, seed=seed)
        timings["measure"] = time.perf_counter() - t_eval
        timings["total"] = time.perf_counter() - t0
        result = EvalResult(
            model=name,
            benchmark=benchmark.name,
            measures=results,
            main_measure=str(parse_measure(benchmark.main_measure)),
            fingerprint=scorer.fingerprint,
            settings={
                "protocol": "rerank",
                "measures": [str(m) for m in parsed],
                "batch_size": batch_size,
                "n_boot": n_boot,
                "seed": seed,
                "n_queries": len(benchmark.queries),
                "ray": ray,
                "cache": None if store is None else str(store.path),
            },
            timings=timings,
            versions=versions(),
            counts=counts,
        )
        if write:
            paths = output_paths(out_dir, benchmark.name, name)
            tag = paths["json"].stem
            for variant, run in out.runs.items():
                write_run(run, paths[variant], tag=tag)
            result.save(paths["json"])
        log.info(
            "%s on %s: %d pairs scored, %d from cache, %.1fs",
            name,
            benchmark.name,
            counts["pairs_scored"],
            counts["pairs_cached"],
            timings["total"],
        )
        return result
    finally:
        if owns_store and store is not None:
            store.close()
