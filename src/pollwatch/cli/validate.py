"""``pollwatch validate FILE``: protocol-arithmetic findings per station."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pollwatch.cli._common import MappingOpt, PresetOpt, console, fail, load


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_cmd(
        file: Path = typer.Argument(
            ..., help="Results file: CSV/TSV (or .zip of one), XLSX or Parquet."
        ),
        preset: str | None = PresetOpt,
        mapping: Path | None = MappingOpt,
        profile: str | None = typer.Option(
            None, help="Rule profile: generic, RU or AZ (default: from the preset)."
        ),
        csv: Path | None = typer.Option(
            None, "--csv", help="Write every finding (one row per rule and station) to this CSV."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print counts and examples as JSON."),
        examples: int = typer.Option(5, help="Example stations to show per rule."),
    ) -> None:
        """Check the protocol arithmetic of every station; violations are findings, not errors.

        Example: pollwatch validate results.csv --csv findings.csv
        """
        from pollwatch.validate import PROFILES, validate

        if profile is not None and profile not in PROFILES:
            raise fail(
                f"--profile ({profile!r}) not recognised; must be one of {', '.join(PROFILES)}", 2
            )
        election = load(file, preset, mapping)
        findings = validate(election, profile=profile)
        if csv is not None:
            findings.write_csv(csv)
        if as_json:
            typer.echo(json.dumps(findings.to_dict(), ensure_ascii=False, indent=2, default=str))
            return
        t = Table(title=f"Protocol arithmetic ({findings.profile} profile): {file.name}")
        t.add_column("rule")
        t.add_column("stations", justify="right")
        t.add_column("what it checks")
        for rule, n in findings.counts().items():
            t.add_row(rule, f"{n:,}", findings.checked[rule], style="red" if n else None)
        console.print(t)
        for rule, rows in findings.examples(examples).items():
            console.print(
                f"[bold]{rule}[/]: "
                + "; ".join(
                    f"station {r['station_id']} (line {r['source_line']}): {r['message']}"
                    for r in rows
                ),
                highlight=False,
            )
        for rule, why in findings.skipped.items():
            console.print(f"[dim]not checked: {rule} ({why})[/]")
        if csv is not None:
            console.print(f"Findings written to {csv}")
