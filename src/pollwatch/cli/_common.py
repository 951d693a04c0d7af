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

PresetOpt = typer.Option(
    None, "--preset", "-p", help="Shipped layout preset (default: auto-detect from the header)."
)
MappingOpt = typer.Option(
    None,
    "--mapping",
    "-m",
    exists=False,
    help="TOML mapping file for other layouts: which column is which protocol line and which "
    "are candidates. Reference: docs/mapping.md; `pollwatch mapping draft FILE` drafts one.",
)
CandidateOpt = typer.Option(
    None, "--candidate", "-c", help="Candidate under scrutiny (default: the winner)."
)


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


def issues_document(exc: IngestError) -> dict:
    """Every problem of a failed read as JSON: grouped by kind, and the full list."""
    from pollwatch.errors import group_issues

    return {
        "ok": False,
        "problems": len(exc.issues),
        "kinds": [
            {
                "message": g[0].message,
                "count": len(g),
                "column": g[0].column if all(i.column == g[0].column for i in g) else None,
                "hint": g[0].hint,
                "examples": [i.to_dict() for i in g[:3]],
            }
            for g in group_issues(exc.issues)
        ],
        "issues": [i.to_dict() for i in exc.issues],
    }


def print_ingest_error(path: Path, exc: IngestError) -> None:
    """The problems of a failed read on stderr, one line per kind (see ``errors.format_issues``)."""
    from pollwatch.errors import format_issues

    n = len(exc.issues)
    err_console.print(
        f"{n:,} problem{'s' if n != 1 else ''} in {path}:",
        style="bold red",
        highlight=False,
        markup=False,
    )
    for line in format_issues(exc.issues):
        err_console.print(f"- {line}", highlight=False, markup=False)


def load(
    path: Path,
    preset: str | None,
    mapping: Path | None,
    candidate: str | None = None,
    json_errors: bool = False,
    **meta: str | None,
):
    """Read an election or exit 1 with its problems grouped by kind (2 for a bad preset/mapping).

    With ``json_errors`` the full list is also printed to stdout as JSON (``pollwatch ingest --json``).
    ``meta`` (``name``, ``date``, ``country``, ``round``) overrides the mapping's ``[election]``.
    """
    from pollwatch.ingest import read_election

    try:
        with err_console.status(f"reading {path}…"):  # a spinner on a terminal, silent otherwise
            return read_election(path, preset=preset, mapping=mapping, scrutiny=candidate, **meta)
    except IngestError as exc:
        print_ingest_error(path, exc)
        if json_errors:
            import json

            typer.echo(
                json.dumps(
                    {"source": str(path), **issues_document(exc)}, ensure_ascii=False, indent=2
                )
            )
        elif len(exc.issues) > len(exc.groups):
            err_console.print(
                f"(every one of the {len(exc.issues):,} problems: pollwatch ingest {path} --json)",
                highlight=False,
                markup=False,
            )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except PollwatchError as exc:
        raise fail(str(exc)) from None
