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

    @users.command("import")
    def import_people(
        csv_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The people CSV."),
        as_user: str = typer.Option(
            ...,
            "--as",
            help="The admin or coordinator account doing the import (the audit log names it).",
        ),  # fmt: skip
        election: int | None = typer.Option(
            None,
            "--election",
            help="The election whose stations are assigned (default: the only one).",
        ),  # fmt: skip
        passwords_out: Path | None = typer.Option(
            None,
            "--passwords-out",
            help="Where the new accounts' passwords go (mode 0600; default: PEOPLE.passwords.csv next to the input).",
        ),  # fmt: skip
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Check every line and print what would be done; write nothing."
        ),  # fmt: skip
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Create observers, assign and accredit them from a CSV file (columns: username, role,
        full_name, phone, language, stations, accreditation). Every line is checked before
        anything is written; passwords go to a 0600 file, never to the terminal.

        Example: pollwatch users import people.csv --as admin --dry-run
        """
        import os

        from sqlalchemy import select

        from pollwatch.evidence.keys import load_or_create_secret
        from pollwatch.service import crud
        from pollwatch.service import models as m
        from pollwatch.service.crud.people import apply_people, plan_people
        from pollwatch.service.db import make_engine, migrate, session_factory
        from pollwatch.service.errors import ServiceError

        settings = apply_env(database, data_dir)
        out = passwords_out or csv_file.with_suffix(".passwords.csv")
        if not dry_run and out.exists():
            raise fail(f"{out} exists: move it away or pass --passwords-out (it is never overwritten)", EXIT_BAD_INPUT)  # fmt: skip
        try:
            text = csv_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail(f"{csv_file}: not UTF-8 text (byte {exc.start})", EXIT_BAD_INPUT) from None
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with session_factory(engine, load_or_create_secret(settings.data_dir))() as s:
                actor = crud.user_by_name(s, as_user)
                if election is None:
                    ids = list(s.scalars(select(m.Election.id)))
                    if len(ids) != 1:
                        raise fail(f"{len(ids)} elections in the database: pass --election ID", EXIT_BAD_INPUT)  # fmt: skip
                    election = ids[0]
                plan = plan_people(s, actor, text, election, str(csv_file))
                if not plan.ok:
                    raise fail(plan.error_text(), EXIT_BAD_INPUT)
                for p in plan.people:
                    typer.echo(("would " if dry_run else "") + p.describe())
                summary = ", ".join(f"{k} {v}" for k, v in plan.summary().items())
                if dry_run:
                    typer.echo(f"dry run, nothing written: {summary}")
                    return
                passwords = apply_people(s, actor, plan)
                # the passwords file first: a commit without it would leave accounts nobody can use
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write("username,password\n")
                    f.writelines(f"{u},{pw}\n" for u, pw in passwords.items())
                try:
                    s.commit()
                except Exception:
                    out.unlink(missing_ok=True)
                    raise
                typer.echo(f"imported: {summary}; {len(passwords)} password(s) in {out} (mode 0600)")  # fmt: skip
        except ServiceError as exc:
            raise fail(str(exc.detail), EXIT_BAD_INPUT) from None
        finally:
            engine.dispose()

    app.add_typer(users, name="users")
