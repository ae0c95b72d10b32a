"""`followir convert SRC OUT`: any loadable benchmark -> the plain FollowIR layout.

The plain layout is what followir reads fastest and offline, so converting once (from a
hub copy, BEIR, InstructIR or TREC files) makes every later run independent of the source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def convert(
    src: Annotated[str, typer.Argument(help="bundled name, directory, or hub id")],
    out: Annotated[Path, typer.Argument(help="directory to write (plain FollowIR layout)")],
    split: Annotated[str, typer.Option(help="qrels split to read")] = "test",
    force: Annotated[bool, typer.Option("--force", help="write into a non-empty OUT")] = False,
) -> None:
    """Convert a benchmark to the plain layout (corpus.jsonl, queries.jsonl, qrels_og/, ...)."""
    from followir.data.plain import write_plain
    from followir.data.registry import load_benchmark
    from followir.errors import DataError

    if out.exists() and not out.is_dir():
        raise DataError("output exists and is not a directory", out)
    if out.exists() and any(out.iterdir()) and not force:
        raise DataError("output directory is not empty (use --force to write into it)", out)
    bench = load_benchmark(src, split=split)
    write_plain(bench, out, split=split)
    changed = "yes" if bench.has_changes else "no"
    typer.echo(
        f"{bench.name}: {len(bench.queries)} queries, {len(bench.corpus)} documents, "
        f"altered-instruction qrels: {changed} -> {out}"
    )
