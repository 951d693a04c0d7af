"""``pollwatch census check SHEETS``: what collected tally sheets prove (docs/census.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_USAGE,
    MappingOpt,
    PresetOpt,
    console,
    err_console,
    fail,
    load,
)
from pollwatch.cli.quickcount_service import ElectionOpt, _session
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt


def register(app: typer.Typer) -> None:
    cen = typer.Typer(
        help="Tally-sheet census: a parallel count from collected station protocols.",
        no_args_is_help=True,
    )
    app.add_typer(cen, name="census")

    @cen.command("import")
    def import_cmd(
        source: Path = typer.Argument(..., help="A folder or ZIP of protocol photos and PDFs."),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Evidence folder (created; later imports append to it)."
        ),
        collector: str = typer.Option(..., "--collector", help="Who collected these photos."),
        election_day: str | None = typer.Option(
            None, "--election-day", help="YYYY-MM-DD: photos taken on other days are flagged."
        ),
        stations: Path | None = typer.Option(
            None,
            "--stations",
            help="CSV of station_id[,lat,lon]: only these ids are accepted; with coordinates, "
            "photos taken far from the station are flagged.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
    ) -> None:
        """Hash, keep and read protocol photos: QR codes, EXIF time and place, duplicates.

        Writes originals/ and published/ (metadata stripped), manifest.csv and custody.jsonl
        (a hash chain: docs/census.md §5).

        Example: pollwatch census import photos.zip -o evidence --collector "Team North"
        """
        import csv
        from datetime import date

        from pollwatch.census.intake import import_sheets

        known: dict[str, tuple[float, float] | None] | None = None
        if stations is not None:
            known = {}
            with stations.open(encoding="utf-8-sig", newline="") as fh:
                for i, row in enumerate(csv.DictReader(fh), 2):
                    sid = (row.get("station_id") or "").strip()
                    if not sid:
                        err_console.print(f"error: {stations}, line {i}: no station_id")
                        raise typer.Exit(EXIT_BAD_INPUT)
                    try:
                        lat, lon = row.get("lat"), row.get("lon")
                        known[sid] = (float(lat), float(lon)) if lat and lon else None
                    except ValueError:
                        err_console.print(
                            f"error: {stations}, line {i}: lat/lon must be numbers, "
                            f"found {row.get('lat')!r}, {row.get('lon')!r}"
                        )
                        raise typer.Exit(EXIT_BAD_INPUT) from None
        try:
            day = date.fromisoformat(election_day) if election_day else None
            res = import_sheets(source, out, collector=collector, election_day=day, stations=known)
        except ValueError as exc:
            err_console.print(f"error: {exc}", highlight=False, markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "records": [r.to_row() for r in res.records],
                        "refused": [{"name": n, "reason": w} for n, w in res.refused],
                        "manifest": str(res.manifest),
                        "custody": str(res.custody),
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        groups = res.by_station()
        console.print(
            f"{len(res.records):,} files taken in for {len(groups):,} station(s); "
            f"{len(res.refused):,} refused; {len(res.duplicates):,} near-duplicate photo(s).",
            highlight=False,
            markup=False,
        )
        for r in res.records:
            for f in r.findings:
                console.print(f"- {r.name}: {f}", highlight=False, markup=False)
        for n, w in res.refused:
            console.print(f"- refused {n}: {w}", highlight=False, markup=False)

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

        With --mapping, SHEETS's columns are named through the mapping (the official file's
        layout; lines the sheets do not show may be absent); without, SHEETS is in the sheets
        format of docs/census.md §1.

        Example: pollwatch census check sheets.csv --official results.csv --claims claims.yaml
        """
        from pollwatch.census import census_check, read_sheets
        from pollwatch.census.sheets import sheets_from_frame
        from pollwatch.claims import load_claims
        from pollwatch.errors import ConfigError, InputDataError
        from pollwatch.ingest import read_columns

        try:
            if mapping is not None:
                frame, names = read_columns(sheets, mapping)
                sh = sheets_from_frame(frame, source=str(sheets), candidates=names)
            else:
                sh = read_sheets(sheets)
            cl = load_claims(claims) if claims else []
        except InputDataError as exc:
            err_console.print(str(exc), highlight=False, markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ConfigError as exc:  # the --mapping file itself is wrong
            raise fail(str(exc), EXIT_USAGE) from None
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

    @cen.command("export")
    def export_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="The sheets CSV to write."),
        election: str | None = ElectionOpt,
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Write the sheets the service accepted by double-blind transcription (both volunteers
        agreed, or an arbiter decided) as a sheets file for ``pollwatch census check``.

        Example: pollwatch census export --database sqlite:///pollwatch.db -o sheets.csv
        """
        from pollwatch.service.crud.census import census_counts, export_csv
        from pollwatch.service.quickcount_live import find_election

        def work(s, settings):
            e = find_election(s, election)
            return export_csv(s, e.id), census_counts(s, e.id)

        text, counts = _session(database, data_dir, work)
        out.write_text(text, encoding="utf-8")
        share = counts["share_without_arbitration"]
        typer.echo(
            f"{counts['accepted']} accepted sheet(s) written to {out} "
            f"({counts['transcribing']} being typed, {counts['arbitration']} in arbitration); "
            + (
                f"{100 * share:.1f} % accepted without arbitration"
                if share is not None
                else "none accepted yet"
            )
        )
