"""`followir evaluate BENCH... --model SPEC... --out DIR`: the FollowIR table from a shell.

Resumable by construction: every scored pair lands in the SQLite score cache (one commit
per chunk of ``--batch-size`` pairs), so re-running the same command after an interrupt
only scores what is missing and then rewrites the runs, results and table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app

RANDOM_BASELINE = "random?seed=0"


@app.command()
def evaluate(
    benchmarks: Annotated[
        list[str],
        typer.Argument(help="benchmark names (followir-mini, robust04, ...), directories or hub ids"),
    ],
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="model spec, repeatable (bm25, dense:PATH, random?seed=0)"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory for runs, results, table")],
    measure: Annotated[
        list[str] | None,
        typer.Option("--measure", help="measure, repeatable (default: main measure, nDCG@5, p-MRR)"),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="score cache (SQLite); default OUT/cache.sqlite")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="pairs per model call and per cache commit")
    ] = 256,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, help="bootstrap resamples for CIs")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap")] = 0,
    queries: Annotated[
        int | None,
        typer.Option("--queries", min=1, help="only the first N queries of each benchmark"),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="score on Ray: an address, 'auto', or 'local' (2 workers)"),
    ] = None,
    random_baseline: Annotated[
        bool, typer.Option("--random-baseline", help=f"add the {RANDOM_BASELINE} noise-floor row")
    ] = False,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="module to import first (registers extra model families)"),
    ] = None,
    split: Annotated[str, typer.Option(help="qrels split to read")] = "test",
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="show a progress bar")
    ] = True,
) -> None:
    """Rerank each benchmark with each model; print the results table and write
    OUT/<benchmark>/<model>.{og.trec,changed.trec,json} and OUT/results.md."""
    import importlib
    import logging

    from rich.console import Console

    from followir.data.registry import load_benchmark
    from followir.errors import SpecError
    from followir.evaluation.cache import ScoreCache
    from followir.evaluation.evaluate import evaluate_model
    from followir.evaluation.runs import model_slug
    from followir.evaluation.table import build_table

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    measures = measure or None
    plugin = plugin or []
    for name in plugin:
        importlib.import_module(name)
    specs = list(dict.fromkeys([*model, *([RANDOM_BASELINE] if random_baseline else [])]))
    slugs: dict[str, str] = {}
    for spec in specs:
        slug = model_slug(spec)
        if slug in slugs:
            raise SpecError(f"models {slugs[slug]!r} and {spec!r} would write the same files ({slug})")
        slugs[slug] = spec

    benches = []
    for spec in benchmarks:
        bench = load_benchmark(spec, split=split)
        if queries is not None and queries < len(bench.queries):
            bench = bench.subset(list(bench.queries)[:queries])
        benches.append(bench)

    console = Console(stderr=True)
    store = ScoreCache(cache or out / "cache.sqlite")
    results = []
    try:
        for spec in specs:
            scorer = None
            if ray is None:
                from followir.models.registry import load_model

                scorer = load_model(spec)
            for bench in benches:
                console.print(f"[bold]{spec}[/] on [bold]{bench.name}[/] ({len(bench.queries)} queries)")
                result = evaluate_model(
                    bench,
                    scorer if scorer is not None else spec,
                    out,
                    cache=store,
                    measures=measures,
                    batch_size=batch_size,
                    n_boot=n_boot,
                    seed=seed,
                    ray=ray,
                    plugins=plugin,
                    model_name=spec,
                    progress=progress,
                )
                results.append(result)
            del scorer
    finally:
        store.close()
        if ray is not None:
            from followir.evaluation.sharding import shutdown

            shutdown()

    table = build_table(results, measures=measures)
    (out / "results.md").write_text(table.to_markdown(), encoding="utf-8")
    Console().print(table.to_rich())
    typer.echo(f"results: {out}")
