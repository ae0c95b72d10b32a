"""`followir filter IN.jsonl --judge SPEC --out OUT.jsonl`: keep documents a judge agrees with."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from followir.cli.app import app


@app.command("filter")
def filter_cmd(
    src: Path = typer.Argument(..., help="output of `followir synth`"),
    judge: str = typer.Option(..., "--judge", "-j", help="model spec (e.g. llm:PATH), or 'none' to skip judging"),
    out: Path = typer.Option(..., "--out", "-o", help="filtered JSONL (training data)"),
    threshold: float = typer.Option(0.5, help="judged relevant when the judge's P(true) >= this"),
    min_words: int = typer.Option(10, help="documents shorter than this are rejected"),
    batch_size: int = typer.Option(16, help="pairs per judge call"),
    no_balance: bool = typer.Option(False, "--no-balance", help="keep every agreed document"),
    stats_path: Path | None = typer.Option(None, "--stats", help="counts JSON (default OUT.stats.json)"),
) -> None:
    """Score each document under its instruction; keep it when the judge agrees with its label,
    then keep one relevant and one non-relevant document per pair."""
    from followir.models.registry import load_model
    from followir.synth.filter import filter_documents, read_synth, write_jsonl

    rows = read_synth(src)
    scorer = None
    if judge != "none":
        # llm judges answer P(true), which the threshold reads; other families keep their scale
        scorer = load_model(judge, score="prob") if judge.startswith("llm:") or judge == "smollm2" else load_model(judge)
    kept, stats = filter_documents(
        rows, scorer, threshold=threshold, min_words=min_words, batch_size=batch_size,
        balance=not no_balance,
    )
    write_jsonl(out, kept)
    counts = stats.to_dict()
    target = stats_path or out.with_name(out.name + ".stats.json")
    target.write_text(json.dumps(counts, indent=1), encoding="utf-8")
    rej = ", ".join(f"{k} {v}" for k, v in counts["rejected"].items())  # type: ignore[union-attr]
    typer.echo(
        f"generated {counts['generated']}; rejected {counts['rejected_total']} ({rej}); "
        f"kept {counts['kept']} from {counts['pairs_kept']} pairs -> {out} (counts: {target})"
    )
