"""`followir synth PAIRS --generator SPEC_OR_URL --out FILE.jsonl`: synthetic documents.

PAIRS is a TREC topic file (narratives become instructions), a FollowIR queries JSONL
(``text``/``instruction_og``) or a JSONL of ``{query, instruction}``.  Re-running with the
same --out resumes: pairs already written are skipped; answers are cached on disk.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from followir.cli.app import app


@app.command()
def synth(
    pairs: list[Path] = typer.Argument(..., help="TREC topic file(s) or JSONL pair file(s)"),
    generator: str | None = typer.Option(
        None, "--generator", "-g",
        help="http(s)://BASE_URL[?model=NAME&key_env=VAR] (OpenAI-compatible), openai:MODEL, "
        "hf:NAME_OR_PATH[?gguf_file=F], a model folder, smollm2, or narrative",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL to append documents to"),
    model: str = typer.Option(
        "gpt-3.5-turbo-1106", help="model name for an HTTP endpoint (?model= in the URL wins)"
    ),
    key_env: str = typer.Option("OPENAI_API_KEY", help="env var holding the endpoint's API key"),
    temperature: float = typer.Option(0.7, help="sampling temperature"),
    repetition_penalty: float = typer.Option(
        1.15, help="local models: repetition penalty (the OpenAI API has none)"
    ),
    max_new_tokens: int | None = typer.Option(
        None, help="tokens to generate (default 3000 for an endpoint, 1500 for a local model)"
    ),
    retries: int = typer.Option(2, help="new seeds to try when an answer is unusable"),
    seed: int = typer.Option(0, help="first sampling seed"),
    limit: int = typer.Option(0, help="only the first N pairs (0 = all)"),
    altered: bool = typer.Option(
        False, "--altered", help="also add narrowed instructions that exclude one positive clause"
    ),
    cache_dir: Path | None = typer.Option(
        None, help="generation cache (default $FOLLOWIR_CACHE/generations)"
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="do not read or write the cache"),
    written: str | None = typer.Option(
        None, "--written",
        help="instead of generating: hand-written passages (teach-robust04 or a folder of rNNN.json) "
        "on the TREC topics in PAIRS, each under the original and the narrowed instruction",
    ),
    query_field: str = typer.Option("title", help="--written: the TREC field used as query (title|description)"),
) -> None:
    """Generate relevant and non-relevant documents for (query, instruction) pairs."""
    if written:
        _written(written, pairs, out, query_field)
        return
    if not generator:
        raise typer.BadParameter("give --generator (or --written)", param_hint="--generator")
    from followir.models.generators import (
        GenerationCache,
        OpenAIChatGenerator,
        load_generator,
    )
    from followir.synth.generate import SYNTH_SAMPLING, synthesize
    from followir.synth.narrative import altered_pairs
    from followir.synth.pairs import read_pairs

    items = [p for path in pairs for p in read_pairs(path)]
    if altered:
        items += altered_pairs(items)
    if limit:
        items = items[:limit]
    if generator.startswith(("http://", "https://")):
        opts: dict[str, object] = {"model": model, "key_env": key_env}
    elif generator.startswith("openai:"):
        opts = {"key_env": key_env}
    elif generator == "narrative":
        opts = {"pool": items}
    else:
        opts = {}
    gen = load_generator(generator, **opts)
    default_max = 3000 if isinstance(gen, OpenAIChatGenerator) else 1500
    sampling = replace(
        SYNTH_SAMPLING,
        temperature=temperature,
        repetition_penalty=repetition_penalty,
        max_new_tokens=max_new_tokens or default_max,
    )
    cache = None if no_cache else GenerationCache(cache_dir)
    stats = synthesize(items, gen, out, cache=cache, seed=seed, retries=retries, sampling=sampling)
    typer.echo(
        f"{stats.pairs} pairs ({stats.skipped} already done): {stats.documents} documents, "
        f"{stats.unparseable} unparseable, {stats.cached} answers from cache -> {out}"
    )


def _written(name: str, pairs: list[Path], out: Path, query_field: str) -> None:
    """Rows straight from written passages: no generator, so no cache and no resume needed."""
    from followir.synth.filter import write_jsonl
    from followir.synth.written import written_rows
    from followir.train.data import TrainExample, leak_check

    if len(pairs) != 1:
        raise typer.BadParameter("--written takes exactly one TREC topic file", param_hint="PAIRS")
    rows = written_rows(name, pairs[0], query_field=query_field)
    leak_check(
        TrainExample(str(r["query"]), str(r["instruction"]), str(r["document"]), int(r["label"]), str(r["pair_id"]))  # type: ignore[call-overload]
        for r in rows
    )
    write_jsonl(out, rows)
    pos = sum(int(r["label"]) for r in rows)  # type: ignore[call-overload]
    typer.echo(f"{len(rows)} rows ({pos} relevant, {len(rows) - pos} not) from written {name}; leak check passed -> {out}")
