"""The typer app. Each verb lives in its own module and registers itself with ``@app.command``.

Verb modules import heavy libraries inside their functions so `followir --help` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="followir",
    help="Evaluate and teach instruction-following retrieval.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One entry per verb module under followir/cli/.
VERBS: list[str] = [
    "convert",
    "evaluate",
    "compare",
    "synth",
    "filter",
    "train",
    "author",
    "ablate",
    "retrieve",
    "report",
]

for _verb in VERBS:
    importlib.import_module(f"followir.cli.{_verb}")


def main() -> None:
    """Console-script entry: followir errors print as one clear line, exit code 2."""
    from followir.errors import FollowIRError

    try:
        app()
    except FollowIRError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
