"""The `followir` command line: one module per verb, all registered on one typer app."""
