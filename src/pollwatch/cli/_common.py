"""Shared CLI pieces: loading an election with errors printed, consoles, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console

from pollwatch.errors import ConfigError, IngestError, PollwatchError

console = Console()
# soft_wrap: error lines stay whole so they can be grepped and copied
err_console = Console(stderr=True, soft_wrap=True)

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

PresetOpt = typer.Option(None, "--preset", "-p", help="Shipped layout preset (default: auto-detect from the header).")
MappingOpt = typer.Option(None, "--mapping", "-m", help="TOML mapping file for other layouts.", exists=False)
CandidateOpt = typer.Option(None, "--candidate", "-c", help="Candidate under scrutiny (default: the winner).")


def int_range(low: int, high: int | None = None) -> Callable[[int | None], int | None]:
    """Typer callback for an integer option in ``[low, high]``; unlike typer's own ``min``/``max``
    check, the message also says what was found."""
    def check(value: int | None) -> int | None:
        if value is not None and (value < low or (high is not None and value > high)):
            allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise typer.BadParameter(f"expected an integer {allowed}, found {value}")
        return value
    return check


#: ``--seed``: NumPy refuses negative seeds, deep inside each method
seed_value = int_range(0)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    err_console.print("[bold red]error:[/] ", end="")
    err_console.print(message, highlight=False, markup=False)
    return typer.Exit(code)


def load(path: Path, preset: str | None, mapping: Path | None, candidate: str | None = None):
    """Read an election or exit 1 with every problem listed (2 for a bad preset/mapping)."""
    from pollwatch.ingest import read_election

    try:
        with err_console.status(f"reading {path}…"):  # a spinner on a terminal, silent otherwise
            return read_election(path, preset=preset, mapping=mapping, scrutiny=candidate)
    except IngestError as exc:
        err_console.print(f"{len(exc.issues)} problem(s) in {path}:", style="bold red", highlight=False, markup=False)
        for issue in exc.issues[:200]:
            err_console.print(f"- {issue}", highlight=False, markup=False)
        if len(exc.issues) > 200:
            err_console.print(f"… and {len(exc.issues) - 200} more", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except PollwatchError as exc:
        raise fail(str(exc)) from None
