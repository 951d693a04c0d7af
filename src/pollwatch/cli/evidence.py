"""``pollwatch evidence export|verify``: signed, pseudonymous bundles and their verification."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, EXIT_USAGE, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env


def register(app: typer.Typer) -> None:
    ev = typer.Typer(
        help="Evidence integrity: export a signed bundle, verify a bundle or a database.",
        no_args_is_help=True,
    )

    @ev.command("export")
    def export_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Bundle file to write (.zip)."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Write a signed bundle: the whole audit log, published media, the public key."""
        from pollwatch.service.sources.evidence import export_database

        settings = apply_env(database, data_dir)
        manifest = export_database(settings.database_url, settings.data_dir, out)
        typer.echo(
            f"wrote {out}: {manifest['entries']} audit entries, {len(manifest['media'])} media; "
            f"signer fingerprint {manifest['signer_fingerprint']}"
        )

    @ev.command("verify")
    def verify_cmd(
        bundle: Path | None = typer.Argument(None, help="Bundle to verify."),
        database: str | None = typer.Option(
            None, "--database", help="Verify a live database instead."
        ),
        data_dir: Path | None = DataDirOpt,
        fingerprint: str | None = typer.Option(
            None, "--fingerprint", help="Expected signer fingerprint."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Check signature, hash chain and media; exit 1 naming the first broken entry."""
        from pollwatch.evidence import verify_bundle

        if (bundle is None) == (database is None):
            raise fail("give either a BUNDLE or --database URL", EXIT_USAGE)
        if bundle is not None:
            if not bundle.exists():
                raise fail(f"{bundle}: no such file")
            res = verify_bundle(bundle, fingerprint_pin=fingerprint)
        else:
            # a bundle verifies without the service extra; a live database needs it
            from pollwatch.service.sources.evidence import verify_database

            settings = apply_env(database, data_dir)
            res = verify_database(settings.database_url, settings.data_dir)
        if as_json:
            typer.echo(json.dumps(res.to_dict(), indent=2))
        else:
            typer.echo(res.summary().as_text(), err=not res.ok)
        if not res.ok:
            raise typer.Exit(EXIT_BAD_INPUT)

    app.add_typer(ev, name="evidence")
