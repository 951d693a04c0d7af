"""The ``pollwatch`` command line: thin Typer wrappers around the library.

Each command module in this package defines ``register(app)``; the modules listed in
``_COMMAND_MODULES`` are loaded, so a capability adds its commands by adding its module and
its name here (a listed module that is missing is an error, not a silently absent command). Exit codes: 0 success, 1 bad input (after printing every problem), 2 bad usage.
"""

from __future__ import annotations

import importlib

import typer

import pollwatch

app = typer.Typer(
    name="pollwatch",
    help="Election-integrity workbench: forensics of official results, observer reports, "
    "quick counts and camera monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_COMMAND_MODULES = (
    "ingest",
    "mapping",
    "validate",
    "simulate",
    "analyze",
    "quickcount",
    "claims",
    "census",
    "cameras",
    "serve",
    "ops",
    "users",
    "forms",
    "export",
    "evidence",
    "sms",
    "witness",
    "demo",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pollwatch {pollwatch.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the installed version and exit.",
    ),
) -> None:
    """Election-integrity workbench: forensics, observers, quick counts, cameras."""


for _name in _COMMAND_MODULES:
    importlib.import_module(f"pollwatch.cli.{_name}").register(app)


def main() -> None:
    """Entry point of the ``pollwatch`` script."""
    app()
