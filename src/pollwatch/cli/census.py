"""``pollwatch census check SHEETS``: what collected tally sheets prove (docs/census.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, MappingOpt, PresetOpt, console, err_console, load


def register(app: typer.Typer) -> None:
    cen = typer.Typer(
        help="Tally-sheet census: a parallel count from collected station protocols.",
        no_args_is_help=True,
    )
    app.add_typer(cen, name="census")

    @cen.command("check")
    def check_cmd(
        sheets: Path = typer.Argument(
            ...,
            help="Collected sheets (CSV/Parquet): station_id and one column per candidate; "
            "protocol lines (registered, valid, invalid, ballots_in_boxes …) where the sheets "
            "show them.",
        ),
        mapping: Path | None = MappingOpt,
        official: Path | None = typer.Option(
            None, "--official", help="Official per-station results (station list, comparison)."
        ),
        official_preset: str | None = PresetOpt,
        official_mapping: Path | None = typer.Option(
            None, "--official-mapping", help="TOML mapping for the official file (docs/mapping.md)."
        ),
        claims: Path | None = typer.Option(
            None, "--claims", help="Published figures to judge (`pollwatch claims` format)."
        ),
        by: list[str] = typer.Option(
            [],
            "--by",
            help="Post-stratification column of the official file (repeatable; default: its "
            "region level and an urban/rural column if it has one).",
        ),
        confidence: float = typer.Option(0.95, help="Level of the corrected estimate's intervals."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Coverage, totals, a coverage-corrected estimate, worst-case bounds and a verdict per claim.

        With --mapping, SHEETS is read like an official file (every required line present);
        without, in the sheets format of docs/census.md §1, which allows missing lines.

        Example: pollwatch census check sheets.csv --official results.csv --claims claims.yaml
        """
        from pollwatch.census import census_check, read_sheets
        from pollwatch.census.sheets import sheets_from_frame
        from pollwatch.claims import load_claims
        from pollwatch.errors import InputDataError

        try:
            if mapping is not None:
                e = load(sheets, None, mapping)
                frame = e.table.rename({c.id: c.name for c in e.candidates}).drop(
                    [c for c in ("exclusion", "source_line") if c in e.table.columns]
                )
                sh = sheets_from_frame(
                    frame, source=str(sheets), candidates=[c.name for c in e.candidates]
                )
            else:
                sh = read_sheets(sheets)
            cl = load_claims(claims) if claims else []
        except InputDataError as exc:
            err_console.print(str(exc), highlight=False, markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        off = load(official, official_preset, official_mapping) if official else None
        try:
            result = census_check(sh, off, cl, by=by or None, confidence=confidence)
        except ValueError as exc:
            err_console.print(f"error: {exc}", highlight=False, markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
            return
        console.print(result.summary().as_text(), highlight=False, markup=False, soft_wrap=True)
        if result.estimate is not None:
            console.print("")
            console.print(result.estimate.summary().as_text(), highlight=False, markup=False)
        console.print("")
        console.print(result.bound.summary().as_text(), highlight=False, markup=False)
