"""``pollwatch backup``, ``pollwatch restore``, ``pollwatch doctor``: running a deployment
(docs/deploy.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, console, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env

PASSPHRASE_ENV = "POLLWATCH_BACKUP_PASSPHRASE"

PassFileOpt = typer.Option(
    None,
    "--passphrase-file",
    help=f"File holding the backup passphrase (default: ${PASSPHRASE_ENV}).",
)


def _passphrase(path: Path | None, plain: bool) -> bytes | None:
    if plain:
        return None
    if path is not None:
        try:
            value = path.read_bytes().strip()
        except OSError as exc:
            raise fail(f"cannot read {path}: {exc.strerror}", EXIT_BAD_INPUT) from None
    else:
        value = os.environ.get(PASSPHRASE_ENV, "").encode()
    if len(value) < 12:
        raise fail(
            f"a backup passphrase of at least 12 characters is needed (--passphrase-file or "
            f"${PASSPHRASE_ENV}); the backup holds the keys to observers' identities. "
            "--plain writes an unsealed backup for a destination that is itself encrypted.",
            EXIT_BAD_INPUT,
        )
    return value


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(
        out: Path = typer.Argument(..., help="Backup file to write."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        passphrase_file: Path | None = PassFileOpt,
        plain: bool = typer.Option(False, "--plain", help="Do not seal (encrypt) the backup."),
    ) -> None:
        """Back up the database, the media store and the keys into one sealed file.

        Example: POLLWATCH_BACKUP_PASSPHRASE=... pollwatch backup /backups/pollwatch-$(date +%F).pwbk
        """
        from pollwatch.service.ops.backup import BackupError, backup

        settings = apply_env(database, data_dir)
        try:
            info = backup(settings, out, passphrase=_passphrase(passphrase_file, plain))
        except BackupError as exc:
            raise fail(str(exc)) from None
        console.print(
            f"wrote {info.path} ({info.bytes:,} bytes, {info.files} files, {info.database} "
            f"schema {info.revision}, {'sealed' if info.sealed else 'NOT sealed'})",
            highlight=False,
        )

    @app.command("restore")
    def restore_cmd(
        archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="Backup file."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        passphrase_file: Path | None = PassFileOpt,
        overwrite: bool = typer.Option(
            False, "--overwrite", help="Replace a database and data directory that are not empty."
        ),
    ) -> None:
        """Restore a backup (hashes checked first), then migrate to this version.

        Example: pollwatch restore pollwatch-2024-02-07.pwbk --database postgresql://...
        """
        from pollwatch.service.ops.backup import BackupError, restore
        from pollwatch.service.ops.sealed import is_sealed

        settings = apply_env(database, data_dir)
        sealed = is_sealed(archive.open("rb").read(8))
        try:
            manifest = restore(
                archive,
                settings,
                passphrase=_passphrase(passphrase_file, not sealed),
                overwrite=overwrite,
            )
        except BackupError as exc:
            raise fail(str(exc)) from None
        console.print(
            f"restored {len(manifest['files'])} files from a backup of {manifest['created']} "
            f"(pollwatch {manifest['version']}) into {settings.database_url.split('@')[-1]}",
            highlight=False,
        )

    @app.command("doctor")
    def doctor_cmd(
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        url: str | None = typer.Option(
            None, "--url", help="The public HTTPS address (checks TLS and the proxy)."
        ),
        cafile: Path | None = typer.Option(
            None, "--cafile", help="CA certificate to trust for --url (a private CA)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    ) -> None:
        """Check a deployment: schema, key permissions, disk, SMS secret, TLS and proxy headers.

        Exits 1 if any check fails. Example: pollwatch doctor --url https://pvt.example.org
        """
        from pollwatch.service.ops.doctor import run_checks

        checks = run_checks(apply_env(database, data_dir), url=url, cafile=cafile)
        if as_json:
            typer.echo(json.dumps([c.to_dict() for c in checks], indent=2))
        else:
            for c in checks:
                console.print(f"{c.status.upper():4s}  {c.name}: {c.detail}", highlight=False)
        if any(c.status == "fail" for c in checks):
            raise typer.Exit(1)
