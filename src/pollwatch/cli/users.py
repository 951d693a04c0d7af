"""``pollwatch users create-admin``: the first account of a new service."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Manage service accounts.", no_args_is_help=True)

    @users.command("create-admin")
    def create_admin(
        username: str = typer.Option(..., "--username", help="Login name."),
        password: str | None = typer.Option(
            None, "--password", help="Password (prompted, hidden, when omitted)."
        ),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Create an administrator account (migrating the database first if needed)."""
        from pollwatch.evidence.keys import load_or_create_secret
        from pollwatch.service import crud
        from pollwatch.service.db import make_engine, migrate, session_factory
        from pollwatch.service.errors import ServiceError

        settings = apply_env(database, data_dir)
        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise fail(
                f"the password must have at least 8 characters, got {len(password)}", EXIT_BAD_INPUT
            )
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with session_factory(engine, load_or_create_secret(settings.data_dir))() as s:
                user = crud.create_user(s, None, username=username, password=password, role="admin")
                s.commit()
                typer.echo(f"created admin {username!r} (id {user.id})")
        except ServiceError as exc:
            raise fail(f"{exc.detail}: {username!r}") from None
        finally:
            engine.dispose()

    app.add_typer(users, name="users")
