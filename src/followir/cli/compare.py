"""`followir compare A.json B.json`: is model A really better than model B?

Both result files keep per-query values, so the comparison is paired on the same queries:
a paired bootstrap (CI of the difference) and a sign-flip randomization test per measure.
Nothing is re-scored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from followir.cli.app import app


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="results JSON of model A")],
    b: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="results JSON of model B")],
    measure: Annotated[
        list[str] | None, typer.Option("--measure", help="measure(s) to compare (default: all shared)")
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, help="paired bootstrap resamples")] = 1000,
    n_samples: Annotated[
        int, typer.Option("--n-samples", min=1, help="randomization samples")
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the tests as JSON")
    ] = None,
) -> None:
    """Paired bootstrap and randomization test of A - B for each measure (x100)."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from followir.errors import DataError
    from followir.evaluation.results import EvalResult
    from followir.metrics.stats import paired_bootstrap, randomization_test

    ra, rb = EvalResult.load(a), EvalResult.load(b)
    if ra.benchmark != rb.benchmark:
        raise DataError(
            f"results are on different benchmarks ({ra.benchmark!r} vs {rb.benchmark!r}); "
            "a paired test needs the same queries"
        )
    shared = [m for m in ra.measures if m in rb.measures]
    wanted = measure or shared
    missing = [m for m in wanted if m not in shared]
    if missing:
        raise DataError(f"measure(s) {missing} not in both files; shared: {shared}")

    table = Table(title=f"{ra.model} (A) vs {rb.model} (B) on {ra.benchmark} (x100)")
    # p boot: paired bootstrap; p perm: sign-flip randomization; n: queries
    for col in ("measure", "A", "B", "A - B", "95% CI", "p boot", "p perm", "n"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    records = []
    for m in wanted:
        pa, pb = ra.measures[m].per_query, rb.measures[m].per_query
        boot = paired_bootstrap(pa, pb, n_boot=n_boot, seed=seed)
        perm = randomization_test(pa, pb, n_samples=n_samples, seed=seed)
        table.add_row(
            m,
            f"{100 * boot.mean_a:.1f}",
            f"{100 * boot.mean_b:.1f}",
            f"{100 * boot.diff:+.1f}",
            f"[{100 * boot.ci_low:+.1f},{100 * boot.ci_high:+.1f}]",
            f"{boot.p_value:.3g}",
            f"{perm.p_value:.3g}",
            str(boot.n_queries),
        )
        records.append({"measure": m, "bootstrap": asdict(boot), "randomization": asdict(perm)})
    Console().print(table)
    if json_out is not None:
        payload = {"a": ra.model, "b": rb.model, "benchmark": ra.benchmark, "tests": records}
        json_out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
