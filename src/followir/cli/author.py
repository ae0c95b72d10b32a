"""`followir author [SOURCES] [OUT]`: rebuild the bundled benchmark from its topic sources.

followir-mini is written by hand as one JSON file per topic; the shipped files are derived
from those sources, so after editing a topic you rerun this verb (or `--check` in CI to
prove the shipped files are up to date).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def author(
    sources: Annotated[
        Path | None,
        typer.Argument(help="directory of topic sources (default: the bundled followir-mini/sources)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Argument(help="output directory (default: the bundled followir-mini folder)"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="write nothing; fail if OUT differs from a fresh build")
    ] = False,
) -> None:
    """Validate topic sources and write the plain FollowIR layout (corpus, queries, qrels, pools)."""
    from followir.build.mini import build_mini, bundled_dir, bundled_sources_dir, stale_files

    src = sources if sources is not None else bundled_sources_dir()
    dst = out if out is not None else bundled_dir()
    if check:
        stale = stale_files(src, dst)
        if stale:
            typer.echo(f"{dst}: out of date with {src}: {', '.join(stale)}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{dst}: up to date")
        return
    manifest = build_mini(src, dst)
    typer.echo(
        f"{manifest['name']}: {manifest['topics']} topics, {manifest['passages']} passages, "
        f"domains {', '.join(manifest['domains'])} -> {dst}"  # type: ignore[arg-type]
    )
