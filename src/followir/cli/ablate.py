"""`followir ablate BENCH --model SPEC... --out DIR`: the instruction-length ablation.

Each model is evaluated with no instruction, keywords, a short instruction and the full
one (FollowIR Fig. 3); the table of deltas vs. no instruction is printed and written to
``DIR/<bench>/ablation.{md,json}``.  Keywords / short instructions come from the data when
present, else from ``--generator`` (default: the offline extractor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def ablate(
    bench: Annotated[str, typer.Argument(help="bundled name, directory, or hub id")],
    model: Annotated[list[str], typer.Option("--model", "-m", help="model spec (repeatable)")],
    out: Annotated[Path, typer.Option(help="output directory")],
    generator: Annotated[
        str,
        typer.Option(
            help="offline | http(s)://HOST/v1?model=NAME[&key_env=VAR] | openai:MODEL | "
            "hf:PATH[?gguf_file=F] | a model folder | smollm2"
        ),
    ] = "offline",
    variant: Annotated[
        list[str] | None, typer.Option("--variant", help="subset of none/keywords/short/full")
    ] = None,
    no_data: Annotated[
        bool, typer.Option("--no-data", help="ignore keywords/short_query fields in the data")
    ] = False,
    cache: Annotated[Path | None, typer.Option(help="score cache (default OUT/cache.sqlite)")] = None,
    n_boot: Annotated[int, typer.Option(help="bootstrap resamples for CIs")] = 1000,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
    split: Annotated[str, typer.Option(help="qrels split")] = "test",
) -> None:
    """Evaluate models with instruction variants none / keywords / short / full."""
    from followir.analysis.ablate import VARIANTS, cached, run_ablation
    from followir.data.registry import load_benchmark
    from followir.evaluation.cache import ScoreCache
    from followir.models.generators import load_generator
    from followir.models.registry import load_model

    benchmark = load_benchmark(bench, split=split)
    gen = cached(load_generator(generator), out)
    models = {spec: (lambda spec=spec: load_model(spec)) for spec in model}
    store = ScoreCache(cache or out / "cache.sqlite")
    try:
        result = run_ablation(
            benchmark,
            models,
            out,
            variants=tuple(variant or VARIANTS),
            generator=gen,
            use_data=not no_data,
            cache=store,
            n_boot=n_boot,
            seed=seed,
            progress=True,
        )
    finally:
        store.close()
    typer.echo(result.markdown())
