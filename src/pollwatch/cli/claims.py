"""``pollwatch claims check FILE``: reconcile published figures."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, MappingOpt, PresetOpt, console, err_console, load


def register(app: typer.Typer) -> None:
    cl = typer.Typer(
        help="Claims: published figures reconciled with each other and with the data.",
        no_args_is_help=True,
    )
    app.add_typer(cl, name="claims")

    @cl.command("check")
    def check_cmd(
        file: str = typer.Argument(
            ..., help="Claims file (YAML or CSV), or a shipped example: azerbaijan_2024."
        ),
        official: Path | None = typer.Option(
            None, "--official", help="Official per-station results to check against."
        ),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    ) -> None:
        """Flag disagreements beyond rounding, arithmetic impossibilities and mismatches with the data.

        Example: pollwatch claims check azerbaijan_2024
        """
        from pollwatch.claims import check_claims, example_claims, load_claims
        from pollwatch.errors import InputDataError

        try:
            claims = load_claims(file) if Path(file).exists() else example_claims(file)
        except InputDataError as exc:
            err_console.print(str(exc), highlight=False, markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ValueError:
            err_console.print(
                f"error: {file}: no such file (and not a shipped example: azerbaijan_2024)",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        result = check_claims(claims, load(official, preset, mapping) if official else None)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            console.print(result.summary().as_text(), highlight=False, markup=False, soft_wrap=True)
