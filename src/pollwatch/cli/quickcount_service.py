"""``pollwatch quickcount import-sample|replace|status|publish``: the quick count in the
observation service's database (issue 19), through the service's audited sessions, so
``pollwatch evidence verify --database`` stays green. ``import-sample``, ``replace`` and
``publish`` act as a named staff account (``--as``), checked as the API checks it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pollwatch.cli._common import EXIT_BAD_INPUT, console, fail
from pollwatch.cli.serve import DatabaseOpt, DataDirOpt, apply_env

ElectionOpt = typer.Option(
    None, "--election", help="The election's id or name (default: the only one)."
)
ActorOpt = typer.Option(
    ..., "--as", help="The coordinator's (or admin's) username: the actor audited."
)


def _session(database: str | None, data_dir: Path | None, work):
    """Run ``work(session, settings)`` in one audited transaction; service errors exit 1."""
    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.service.db import make_engine, migrate, session_factory
    from pollwatch.service.errors import ServiceError

    settings = apply_env(database, data_dir)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, load_or_create_secret(settings.data_dir))() as s:
            out = work(s, settings)
            s.commit()
            return out
    except ServiceError as exc:
        raise fail(str(exc.detail), EXIT_BAD_INPUT) from None
    finally:
        engine.dispose()


def _actor(session, username: str):
    from pollwatch.service import crud
    from pollwatch.service.errors import NotFound

    user = crud.user_by_name(session, username)
    if user is None or not user.active:
        raise NotFound(f"no active account {username!r}")
    return user


def register_service(qc: typer.Typer) -> None:
    """Add the service's quick-count commands to ``pollwatch quickcount``."""

    @qc.command("import-sample")
    def import_sample_cmd(
        sample: Path = typer.Argument(
            ..., help="The registered sample (CSV; its .json sidecar beside it)."
        ),
        actor: str = ActorOpt,
        election: str | None = ElectionOpt,
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Import the registered sample into the service: its stations are marked, and its
        SHA-256 goes into the audit chain.

        Example: pollwatch quickcount import-sample sample.csv --as coordinator --database sqlite:///pollwatch.db
        """
        import hashlib

        from pollwatch.errors import IngestError
        from pollwatch.quickcount.sample import read_sample, sidecar_path
        from pollwatch.service.crud.quickcount import import_sample
        from pollwatch.service.quickcount_live import find_election

        try:
            parsed = read_sample(sample)
        except IngestError as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        side = hashlib.sha256(sidecar_path(sample).read_bytes()).hexdigest()

        def work(s, settings):
            e = find_election(s, election)
            row = import_sample(
                s, _actor(s, actor), e.id, parsed, filename=sample.name, sidecar_sha256=side
            )
            return e, row

        e, row = _session(database, data_dir, work)
        typer.echo(
            f"imported the sample of {e.name!r}: {len(parsed.primaries)} stations, "
            f"{len(parsed.reserves)} reserves, {len(parsed.strata)} strata; SHA-256 {row.sha256}"
        )

    @qc.command("replace")
    def replace_cmd(
        station: str = typer.Argument(..., help="The unreachable station's code."),
        reason: str = typer.Option(..., "--reason", help="Why it cannot be reached."),
        actor: str = ActorOpt,
        election: str | None = ElectionOpt,
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Put the reserve the sample's rule gives in the place of an unreachable station.

        Example: pollwatch quickcount replace 12-044 --reason "road closed" --as coordinator
        """
        from sqlalchemy import select

        from pollwatch.service import models as m
        from pollwatch.service.crud.quickcount import replace_station
        from pollwatch.service.errors import NotFound
        from pollwatch.service.quickcount_live import find_election

        def work(s, settings):
            e = find_election(s, election)
            sid = s.scalar(
                select(m.Station.id).where(m.Station.election_id == e.id, m.Station.code == station)
            )
            if sid is None:
                raise NotFound(f"no station {station!r} in {e.name!r}")
            row = replace_station(s, _actor(s, actor), e.id, sid, reason)
            return s.get(m.Station, row.in_station_id).code

        typer.echo(f"station {station} replaced by reserve {_session(database, data_dir, work)}")

    @qc.command("status")
    def status_cmd(
        election: str | None = ElectionOpt,
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
        bucket_minutes: int | None = typer.Option(
            None, "--bucket-minutes", min=1, max=1440, help="Time bucket (default: automatic)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
        lang: str = typer.Option(
            "en",
            "--lang",
            help="Language of the text: en, az (Azerbaijani) or ru (Russian). --json keeps "
            "its English sentences and codes in every language.",
        ),
    ) -> None:
        """The quick count as reports arrive: arrivals over time, response by stratum, the
        estimate and its margin after each time bucket, early against late reporters; copies
        from outside the sample are listed apart and never counted.

        Example: pollwatch quickcount status --database sqlite:///pollwatch.db --json
        """
        from pollwatch.i18n import LANGS, use_language
        from pollwatch.service.quickcount_live import compute_status, find_election

        if lang not in LANGS:
            raise fail(f"--lang: {lang!r} is not one of {', '.join(LANGS)}", EXIT_BAD_INPUT)

        def work(s, settings):
            return compute_status(s, find_election(s, election).id, bucket_minutes=bucket_minutes)

        st = _session(database, data_dir, work)
        if as_json:
            typer.echo(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        else:
            with use_language(lang):
                console.print(st.summary().as_text(), highlight=False, markup=False)

    @qc.command("publish")
    def publish_cmd(
        actor: str = ActorOpt,
        election: str | None = ElectionOpt,
        database: str | None = DatabaseOpt,
        data_dir: Path | None = DataDirOpt,
    ) -> None:
        """Freeze the current estimate, sign it with the service's evidence key and put it in the
        audit chain.

        Example: pollwatch quickcount publish --as coordinator --database sqlite:///pollwatch.db
        """
        from pollwatch.service.quickcount_live import find_election, publish

        def work(s, settings):
            row = publish(
                s, _actor(s, actor), find_election(s, election).id, settings.signing_key()
            )
            return row.id, row.sha256

        pid, sha = _session(database, data_dir, work)
        typer.echo(f"published estimate {pid}: SHA-256 {sha}")
