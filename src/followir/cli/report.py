"""`followir report RESULTS_DIR... --out DIR`: FollowIR Table 2, plots and an HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def report(
    results: Annotated[list[Path], typer.Argument(help="folders/files of followir or mteb results")],
    out: Annotated[Path, typer.Option(help="output directory")],
    format: Annotated[
        list[str] | None, typer.Option("--format", "-f", help="md | latex | csv | html (repeatable)")
    ] = None,
    no_ci: Annotated[bool, typer.Option("--no-ci", help="values only, no confidence intervals")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="skip the PNG/SVG figures")] = False,
    mteb: Annotated[
        Path | None, typer.Option(help="also write every result in the mteb results layout here")
    ] = None,
) -> None:
    """Tables (Markdown, LaTeX, CSV), figures (PNG+SVG) and a self-contained HTML report."""
    from followir.analysis.report import load_results, write_report

    written = write_report(results, out, formats=format or ["md"], ci=not no_ci, plots=not no_plots)
    if mteb is not None:
        from followir.analysis.mteb_results import write_mteb

        for r in load_results(results):
            if r.settings.get("source") != "mteb":
                write_mteb(r, mteb)
    for kind, path in written.items():
        typer.echo(f"{kind}: {path}")
