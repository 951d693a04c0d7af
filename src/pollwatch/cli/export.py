"""``pollwatch export submissions``: the submissions an account reads, as CSV, XLSX or GeoJSON
(formats: docs/forms-and-people.md)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env


def register(app: typer.Typer) -> None:
    export = typer.Typer(help="Export observation data.", no_args_is_help=True)

    @export.command("submissions")
    def submissions(
        output: Path = typer.Option(..., "-o", "--output", help="The file to write."),
        fmt: str = typer.Option("csv", "--format", help="csv, xlsx or geojson."),
        as_user: str = typer.Option(
            ...,
            "--as",
            help="The account whose view is exported (an observer gets their own submissions only).",
        ),  # fmt: skip
        kind: str | None = typer.Option(
            None, "--kind", help="checklist, incident or protocol (default: all)."
        ),  # fmt: skip
        election: int | None = typer.Option(
            None, "--election", help="Only this election's stations."
        ),  # fmt: skip
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Write the submissions ``--as`` may read (people as pseudonyms, spreadsheet-safe text).

        Example: pollwatch export submissions --database sqlite:///pollwatch.db --as coord --format xlsx -o submissions.xlsx
        """
        from pollwatch.evidence.keys import load_or_create_secret
        from pollwatch.service import crud
        from pollwatch.service.crud.exports import export_submissions
        from pollwatch.service.db import make_engine, session_factory
        from pollwatch.service.errors import ServiceError

        settings = apply_env(database, data_dir)
        engine = make_engine(settings.database_url)
        try:
            with session_factory(engine, load_or_create_secret(settings.data_dir))() as s:
                user = crud.user_by_name(s, as_user)
                body = export_submissions(s, user, fmt, kind=kind, election_id=election)
        except ServiceError as exc:
            raise fail(f"{exc.detail}", EXIT_BAD_INPUT) from None
        finally:
            engine.dispose()
        # 0600: the file holds observers' reports (pseudonymised, but free text all the same)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        typer.echo(f"wrote {output} ({len(body)} bytes, {fmt})")

    app.add_typer(export, name="export")
