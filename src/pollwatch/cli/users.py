"""``pollwatch users``: the first account of a new service (``create-admin``) and the
administration of accounts (``deactivate``, ``activate``, ``set-role``, ``reset-password``,
``revoke-tokens``), each written through the service's audited sessions, so
``pollwatch evidence verify --database`` stays green (a change made with SQL would break it)."""

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

    def _admin(database, data_dir, change) -> None:
        """Run ``change(session, user_id_of)`` in one audited transaction."""
        from pollwatch.evidence.keys import load_or_create_secret
        from pollwatch.service import crud
        from pollwatch.service.db import make_engine, migrate, session_factory
        from pollwatch.service.errors import ServiceError

        settings = apply_env(database, data_dir)
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with session_factory(engine, load_or_create_secret(settings.data_dir))() as s:
                said = change(s, lambda name: crud.user_by_name(s, name).id)
                s.commit()
            typer.echo(said)
        except ServiceError as exc:
            raise fail(str(exc.detail), EXIT_BAD_INPUT) from None
        finally:
            engine.dispose()

    @users.command("deactivate")
    def deactivate(
        username: str = typer.Argument(..., help="Login name."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Deactivate an account and end every session and token of it."""
        from pollwatch.service import crud

        def change(s, uid):
            crud.set_active(s, None, uid(username), False)
            return f"deactivated {username!r}"

        _admin(database, data_dir, change)

    @users.command("activate")
    def activate(
        username: str = typer.Argument(..., help="Login name."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Reactivate an account."""
        from pollwatch.service import crud

        def change(s, uid):
            crud.set_active(s, None, uid(username), True)
            return f"activated {username!r}"

        _admin(database, data_dir, change)

    @users.command("set-role")
    def set_role(
        username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Argument(..., help="admin, coordinator, observer, camera_watcher, ..."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Change an account's role."""
        from pollwatch.service import crud

        def change(s, uid):
            crud.set_role(s, None, uid(username), role)
            return f"{username!r} is now {role}"

        _admin(database, data_dir, change)

    @users.command("reset-password")
    def reset_password(
        username: str = typer.Argument(..., help="Login name."),
        password: str | None = typer.Option(
            None, "--password", help="New password (prompted, hidden, when omitted)."
        ),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Set a new password and end every session and token of the account."""
        from pollwatch.service import crud

        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

        def change(s, uid):
            crud.reset_password(s, None, uid(username), password)
            return f"password of {username!r} reset, its tokens revoked"

        _admin(database, data_dir, change)

    @users.command("revoke-tokens")
    def revoke_tokens(
        username: str = typer.Argument(..., help="Login name."),
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """End every session and API token of an account."""
        from pollwatch.service import crud

        def change(s, uid):
            n = crud.revoke_tokens(s, None, uid(username))
            return f"revoked {n} token(s) of {username!r}"

        _admin(database, data_dir, change)

    app.add_typer(users, name="users")
