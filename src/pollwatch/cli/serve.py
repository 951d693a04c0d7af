"""``pollwatch serve``: migrate the database, then run the observation service with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from pollwatch.cli._common import console, fail

DatabaseOpt = typer.Option(
    None,
    "--database",
    help="Database URL (default: $POLLWATCH_DATABASE_URL or sqlite:///pollwatch.db).",
)
DataDirOpt = typer.Option(
    None,
    "--data-dir",
    help="Media store and keys (default: $POLLWATCH_DATA_DIR or ./pollwatch-data).",
)


def apply_env(database: str | None, data_dir: Path | None):
    """Put CLI options into the environment (workers read it) and return the Settings."""
    from pollwatch.service.config import Settings

    if database:
        os.environ["POLLWATCH_DATABASE_URL"] = database
    if data_dir:
        os.environ["POLLWATCH_DATA_DIR"] = str(data_dir)
    return Settings()


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
    ) -> None:
        """Run the observation service (web API, SMS webhook).

        Example: pollwatch serve --port 8000 --database postgresql+psycopg://u:p@localhost/pollwatch --workers 4
        """
        import uvicorn

        from pollwatch.evidence.keys import SigningKeyError
        from pollwatch.service.db import migrate

        settings = apply_env(database, data_dir)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:  # before the workers start: each would fail the same way
            settings.signing_key()
        except SigningKeyError as exc:
            raise fail(str(exc)) from None
        migrate(settings.database_url)
        _seal_plaintext(settings)
        console.print(
            f"pollwatch service on http://{host}:{port} ({workers} worker(s)), "
            f"database {settings.database_url.split('@')[-1]}",
            highlight=False,
        )
        from pollwatch.service.ops.logs import log_config

        try:
            logging_config = log_config(
                settings.log_level, settings.log_format, settings.access_log
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        uvicorn.run(
            "pollwatch.service.main:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=logging_config,
            log_level=settings.log_level.lower(),
            # the client's address and scheme come from the app's own trusted-proxy rule
            # (POLLWATCH_TRUSTED_PROXIES, POLLWATCH_BEHIND_TLS), never from uvicorn's default of
            # trusting X-Forwarded-* from 127.0.0.1
            proxy_headers=False,
        )


def _seal_plaintext(settings) -> None:
    """Encrypt names, phones and the SMS log an older version stored in the clear, and apply
    the SMS log's retention once at start (``pollwatch sms redact`` does it daily)."""
    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.service import crud, privacy
    from pollwatch.service.db import make_engine, session_factory
    from pollwatch.service.main import seal_plaintext

    privacy.warn_if_derived(settings.data_dir)
    engine = make_engine(settings.database_url)
    try:
        secret = load_or_create_secret(settings.data_dir)
        sessions = session_factory(
            engine, secret, privacy.resolve_data_key(secret, settings.data_dir)
        )
        seal_plaintext(sessions)
        with sessions() as s:
            crud.redact_sms_log(s, settings.sms_retention_days)
            s.commit()
    finally:
        engine.dispose()
