"""Engine, sessions and migrations.

SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every
transaction so writers queue up instead of failing (the audit chain needs one writer at a time).
PostgreSQL: the audit writer takes a transaction-level advisory lock (see ``audit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.service import audit, privacy
from pollwatch.service.throughput import tokens

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_pragmas(engine)
        return engine
    # no overflow: under load, overflow connections were opened and closed again per request
    # (a PostgreSQL backend start each time); waiting a moment for a pooled one is far cheaper
    return create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(
    engine: Engine, pseudonym_secret: bytes, data_key: bytes | None = None
) -> sessionmaker[Session]:
    """The app's sessions: they carry the pseudonym secret, which the audit writer needs, and
    the data key of personal data at rest (``privacy``: by default from the environment, else
    derived from the secret); the ORM event hooks are registered on this sessionmaker
    (``audit.install``, ``throughput.tokens.install``), not on SQLAlchemy's ``Session`` class:
    a session made elsewhere (another app, a plain ``Session(engine)``) fires none of them."""
    if data_key is None:
        data_key = privacy.resolve_data_key(pseudonym_secret)
    sessions = sessionmaker(
        engine,
        expire_on_commit=False,
        info={"pseudonym_secret": pseudonym_secret, "data_key": data_key},
    )
    audit.install(sessions)
    tokens.install(sessions)
    return sessions


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, engine: Engine | None = None) -> None:
    """Upgrade the database at ``url`` to the newest schema (idempotent)."""
    from alembic import command

    cfg = alembic_config(url)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    else:
        command.upgrade(cfg, "head")


def iter_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
