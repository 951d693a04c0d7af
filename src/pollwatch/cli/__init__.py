"""The ``pollwatch`` command line: thin Typer wrappers around the library.

Each command module in this package defines ``register(app)``; the modules listed in
``_COMMAND_MODULES`` are loaded if present, so a capability adds its commands by adding
its module. Exit codes: 0 success, 1 bad input (after printing every problem), 2 bad usage.
"""

from __future__ import annotations

import importlib

import typer

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
    "report",
    "quickcount",
    "claims",
    "census",
    "cameras",
    "serve",
    "ops",
    "users",
    "evidence",
    "sms",
    "witness",
    "demo",
)


@app.callback()
def _root() -> None:
    """Election-integrity workbench: forensics, observers, quick counts, cameras."""


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"pollwatch.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"pollwatch.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    """Entry point of the ``pollwatch`` script."""
    app()
