"""``pollwatch sms redact``: the SMS log's retention (issue 18, data minimisation)."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_USAGE, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env


def register(app: typer.Typer) -> None:
    sms = typer.Typer(help="The SMS log.", no_args_is_help=True)

    @sms.command("redact")
    def redact_cmd(
        days: int | None = typer.Option(
            None,
            "--days",
            help="Keep senders and texts this many days (default: POLLWATCH_SMS_RETENTION_DAYS, "
            "30).",
        ),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Wipe the sender, text and reply of SMS log rows older than the retention; the rows,
        their outcome and their text commitments stay, so the audit chain still verifies.
        Run it daily (cron, a systemd timer)."""
        from pollwatch.evidence.keys import load_or_create_secret
        from pollwatch.service import crud
        from pollwatch.service.db import make_engine, session_factory

        settings = apply_env(database, data_dir)
        days = settings.sms_retention_days if days is None else days
        if days < 0:
            raise fail("--days must be 0 or more", EXIT_USAGE)
        engine = make_engine(settings.database_url)
        try:
            sessions = session_factory(engine, load_or_create_secret(settings.data_dir))
            with sessions() as s:
                n = crud.redact_sms_log(s, days)
                s.commit()
        finally:
            engine.dispose()
        typer.echo(f"redacted {n} SMS log rows older than {days} days")

    app.add_typer(sms, name="sms")
