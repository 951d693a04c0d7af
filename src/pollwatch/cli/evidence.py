"""``pollwatch evidence export|verify|checkpoint|rotate-key|fingerprint``: signed, pseudonymous bundles, checkpoints of
the chain, and verification of a bundle or a database against checkpoints held elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, EXIT_USAGE, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env


def _held(path: Path | None) -> list:
    """The checkpoints, short checkpoints and receipts in ``path`` (one per line)."""
    if path is None:
        return []
    from pollwatch.evidence.checkpoint import parse_held

    try:
        return parse_held(path.read_text())
    except OSError as exc:
        raise fail(f"{path}: {exc}") from None
    except ValueError as exc:
        raise fail(f"{path}: {exc}") from None


def register(app: typer.Typer) -> None:
    ev = typer.Typer(
        help="Evidence integrity: export a signed bundle, sign a checkpoint, verify a bundle "
        "or a database.",
        no_args_is_help=True,
    )

    @ev.command("export")
    def export_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Bundle file to write (.zip)."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        station: list[str] | None = typer.Option(
            None, "--station", help="Only this station's entries (code; repeat for several)."
        ),
        include_unreviewed: bool = typer.Option(
            False,
            "--include-unreviewed-and-rejected",
            help="Also submissions no reviewer verified (new, rejected, quarantined) and camera "
            "notes, free text included.",
        ),
        full: bool = typer.Option(
            False,
            "--full",
            help="The whole chain: users' ids, assignments (observer to station), every text. "
            "For an auditor who must see everything; never for publication.",
        ),
    ) -> None:
        """Write a signed bundle of what a reader needs: reviewed submissions (of --station),
        their published media and camera counts, each entry with its proof of inclusion in a
        checkpoint of the whole chain, per-bundle observer pseudonyms, the public key."""
        from pollwatch.evidence.keys import SigningKeyError
        from pollwatch.service.sources.evidence import export_database

        if full and (station or include_unreviewed):
            raise fail(
                "--full already holds everything: leave out --station and "
                "--include-unreviewed-and-rejected",
                EXIT_USAGE,
            )
        settings = apply_env(database, data_dir)
        try:
            manifest = export_database(
                settings.database_url,
                settings.data_dir,
                out,
                stations=station or None,
                include_unreviewed=include_unreviewed,
                full=full,
            )
        except SigningKeyError as exc:
            raise fail(str(exc)) from None
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        typer.echo(
            f"wrote {out}: {manifest['entries']} audit entries, {len(manifest['media'])} media; "
            f"signer fingerprint {manifest['signer_fingerprint']}"
        )

    @ev.command("checkpoint")
    def checkpoint_cmd(
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        origin: str | None = typer.Option(
            None,
            "--origin",
            help="Name of this log (one word), the same on every line "
            "(default: $POLLWATCH_CHECKPOINT_ORIGIN or pollwatch).",
        ),
        short: bool = typer.Option(
            False, "--short", help="Also print the unsigned short form (one SMS)."
        ),
        tsa: str | None = typer.Option(
            None,
            "--tsa",
            help="RFC 3161 timestamp authority URL (default: $POLLWATCH_TSA_URL): also print "
            "its token line.",
        ),
    ) -> None:
        """Sign a checkpoint of the live chain, store it, post it to the configured witnesses
        ($POLLWATCH_WITNESSES) and timestamp authority, and print it (one line).

        What the service's periodic job does, on demand.
        Example: pollwatch evidence checkpoint --database sqlite:///pw.db >> checkpoints.txt
        """
        from pollwatch.evidence.keys import SigningKeyError
        from pollwatch.service.checkpoints import CheckpointJob
        from pollwatch.service.sources.evidence import open_database

        settings = apply_env(database, data_dir)
        if tsa:
            settings.tsa_url = tsa
        try:
            key = settings.signing_key()
        except SigningKeyError as exc:
            raise fail(str(exc)) from None
        engine, sessions = open_database(settings.database_url, settings.data_dir)
        try:
            job = CheckpointJob.from_settings(settings, sessions, key)
            job.origin = origin or settings.checkpoint_origin
            cp = job.run_once()
            posts = job.answers(cp)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        finally:
            engine.dispose()
        typer.echo(cp.text())
        if short:
            typer.echo(cp.short())
        for kind, target, status, answer in posts:
            if kind == "tsa" and status == 200:
                typer.echo(answer)
            elif status != 200:
                typer.echo(f"{kind} {target}: {status} {answer.strip()}", err=True)
        if any(status != 200 for _, _, status, _ in posts):
            raise typer.Exit(EXIT_BAD_INPUT)

    @ev.command("rotate-key")
    def rotate_key_cmd(
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        new_passphrase_file: Path | None = typer.Option(
            None,
            "--new-passphrase-file",
            help="Encrypt the new key under the passphrase in this file (outside the data "
            "directory; default: the current passphrase).",
        ),
    ) -> None:
        """Replace the evidence signing key; the old public key is kept for old checkpoints and
        the rotation statement (signed by both keys) goes into the audit chain. Publish the new
        fingerprint it prints."""
        from pollwatch.evidence.keys import SigningKeyError, resolve_passphrase
        from pollwatch.service.sources.evidence import record_rotation

        settings = apply_env(database, data_dir)
        try:
            new_pw = (
                resolve_passphrase(settings.data_dir, passphrase_file=new_passphrase_file)
                if new_passphrase_file
                else None
            )
            rotation = record_rotation(settings, new_passphrase=new_pw)
        except SigningKeyError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"old {rotation.old_fingerprint}")
        typer.echo(f"new {rotation.new_fingerprint}")

    @ev.command("fingerprint")
    def fingerprint_cmd(data_dir: Path | None = DataDirOpt) -> None:
        """Print the fingerprint of the evidence signing key to publish (and the retired ones);
        needs no passphrase."""
        from pollwatch.evidence.keys import fingerprint, known_public_keys

        settings = apply_env(None, data_dir)
        keys = known_public_keys(settings.data_dir)
        if not keys:
            raise fail(f"no evidence signing key in {settings.data_dir}")
        typer.echo(fingerprint(keys[0]))
        for k in keys[1:]:
            typer.echo(f"retired {fingerprint(k)}")

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
        checkpoints: Path | None = typer.Option(
            None,
            "--checkpoints",
            help="File of checkpoints and receipts held outside the server (one per line): "
            "names the first entry that differs from them, even if the signing key was stolen.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        clean_orphans: bool = typer.Option(
            False,
            "--clean-orphans",
            help="With --database: first move media files that no row names out of the store, "
            "into DATA_DIR/orphans/<time>/ with a manifest (nothing is deleted).",
        ),
        orphan_min_age: float = typer.Option(
            300.0,
            "--orphan-min-age",
            help="Seconds since a file was written before --clean-orphans moves it (an upload "
            "in flight writes its file just before its row).",
        ),
    ) -> None:
        """Check signature, hash chain and media (and held checkpoints); exit 1 naming the first
        broken or differing entry. A live database's check also reports orphaned media files."""
        from pollwatch.evidence import verify_bundle

        if (bundle is None) == (database is None):
            raise fail("give either a BUNDLE or --database URL", EXIT_USAGE)
        if clean_orphans and database is None:
            raise fail("--clean-orphans needs --database", EXIT_USAGE)
        held = _held(checkpoints)
        if bundle is not None:
            if not bundle.exists():
                raise fail(f"{bundle}: no such file")
            res = verify_bundle(bundle, fingerprint_pin=fingerprint, checkpoints=held)
        else:
            # a bundle verifies without the service extra; a live database needs it
            from pollwatch.service.sources.evidence import clean_orphans as clean
            from pollwatch.service.sources.evidence import verify_database

            settings = apply_env(database, data_dir)
            if clean_orphans:
                dest, moved = clean(
                    settings.database_url, settings.data_dir, min_age=orphan_min_age
                )
                for f in moved:
                    typer.echo(f"moved orphan {f['path']} ({f['size']} bytes) to {dest}", err=True)
            res = verify_database(settings.database_url, settings.data_dir, checkpoints=held)
        if as_json:
            typer.echo(json.dumps(res.to_dict(), indent=2))
        else:
            typer.echo(res.summary().as_text(), err=not res.ok)
        if not res.ok:
            raise typer.Exit(EXIT_BAD_INPUT)

    app.add_typer(ev, name="evidence")
