"""`followir retrieve` (full-collection protocol) and `followir instructir` (Robustness@10)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def retrieve(
    bench: Annotated[str, typer.Argument(help="bundled name, directory, or hub id")],
    model: Annotated[str, typer.Option("--model", "-m", help="retriever spec (bm25, dense:...)")],
    out: Annotated[Path, typer.Option(help="output directory")],
    k: Annotated[int, typer.Option(help="documents retrieved per query")] = 1000,
    rerank: Annotated[str | None, typer.Option(help="rerank the retrieved top-k with this model")] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="documents reranked per query")] = 100,
    measure: Annotated[str | None, typer.Option(help="main measure (default: the benchmark's)")] = None,
    cache: Annotated[Path | None, typer.Option(help="score cache for --rerank")] = None,
    n_boot: Annotated[int, typer.Option(help="bootstrap resamples for CIs")] = 1000,
    split: Annotated[str, typer.Option(help="qrels split")] = "test",
) -> None:
    """Search the whole corpus with and without the instructions (FollowIR App. F)."""
    from followir.data.registry import load_benchmark
    from followir.evaluation.cache import ScoreCache
    from followir.evaluation.retrieve import full_retrieval
    from followir.evaluation.runs import model_slug, write_run
    from followir.models.registry import load_model

    benchmark = load_benchmark(bench, split=split)
    retriever = load_model(model)
    reranker = load_model(rerank) if rerank else None
    store = ScoreCache(cache or out / "cache.sqlite") if reranker is not None else None
    try:
        report, runs = full_retrieval(
            benchmark, retriever, model, k=k, main_measure=measure, reranker=reranker,
            reranker_name=rerank, top_k=top_k, cache=store, n_boot=n_boot, progress=True,
        )
    finally:
        if store is not None:
            store.close()
    result = report.to_eval_result()
    base = out / model_slug(benchmark.name)
    slug = model_slug(result.model)
    for variant, run in runs.items():
        write_run(run, base / f"{slug}.{variant}.trec", tag=slug)
    result.save(base / f"{slug}.json")
    typer.echo(report.summary())


@app.command()
def instructir(
    bench: Annotated[str, typer.Argument(help="InstructIR directory (or any loadable benchmark)")],
    model: Annotated[str, typer.Option("--model", "-m", help="model spec")],
    out: Annotated[Path, typer.Option(help="output directory")],
    k: Annotated[int, typer.Option(help="documents retrieved per query (retrievers)")] = 100,
    cache: Annotated[Path | None, typer.Option(help="score cache (default OUT/cache.sqlite)")] = None,
    n_boot: Annotated[int, typer.Option(help="bootstrap resamples for CIs")] = 1000,
) -> None:
    """nDCG@10 and Robustness@10 over the instruction variants of each base query."""
    from followir.data.registry import load_benchmark
    from followir.evaluation.cache import ScoreCache
    from followir.evaluation.retrieve import evaluate_instructir
    from followir.evaluation.runs import model_slug
    from followir.evaluation.table import format_cell
    from followir.models.registry import load_model

    benchmark = load_benchmark(bench)
    scorer = load_model(model)
    store = ScoreCache(cache or out / "cache.sqlite")
    try:
        result = evaluate_instructir(benchmark, scorer, model, k=k, cache=store, n_boot=n_boot, progress=True)
    finally:
        store.close()
    result.save(out / model_slug(benchmark.name) / f"{model_slug(model)}.json")
    cells = ", ".join(f"{m} {format_cell(v)}" for m, v in result.measures.items())
    typer.echo(f"{model} on {benchmark.name} (x100): {cells}")
