"""Engine, sessions and migrations.

SQLite: WAL journal, foreign keys on, a busy timeout, ``synchronous=FULL`` by default (a commit
is on disk before it is acknowledged, even if the machine loses power), and two kinds of
transaction:

* a transaction that may write begins ``BEGIN IMMEDIATE``: it takes the database's single write
  lock at once, so writers queue up (busy timeout) instead of failing half-way when a deferred
  reader tries to upgrade (the audit chain needs one writer at a time). This is the default of
  the app's sessions, the group-commit writer and the CLI;
* a transaction that only reads begins a plain (deferred) ``BEGIN``: in WAL mode it never takes
  the write lock, so it neither waits for the writer nor holds it up. The sessions of ``GET``
  requests (``reader``), the token lookups and the password checks (``begin_read``) use it: an
  anonymous reader of the public feed, or a client sending wrong passwords (each argon2 check
  ~0.1-0.3 s of CPU), no longer holds the lock that every submission needs.

PostgreSQL: the audit writer takes a transaction-level advisory lock (see ``audit``); the begin
mode is SQLite's only (readers never block writers there).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.service import audit, privacy
from pollwatch.service.throughput import tokens
from pollwatch.service.transactions import BEGIN_OPTION

MIGRATIONS = Path(__file__).parent / "migrations"
SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def make_engine(url: str, pool_size: int = 10, sqlite_synchronous: str = "FULL") -> Engine:
    """The engine for ``url``. ``sqlite_synchronous``: SQLite's ``PRAGMA synchronous``; FULL
    (the default) syncs the WAL at every commit, NORMAL only at checkpoints (faster, but the
    last commits acknowledged before a power cut or kernel crash can be lost; a crash of the
    process alone loses nothing in either mode)."""
    if url.startswith("sqlite"):
        mode = sqlite_synchronous.upper()
        if mode not in SYNCHRONOUS:
            raise ValueError(
                f"sqlite_synchronous {sqlite_synchronous!r} is not one of {SYNCHRONOUS}"
            )
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_pragmas(engine, mode)
        return engine
    # no overflow: under load, overflow connections were opened and closed again per request
    # (a PostgreSQL backend start each time); waiting a moment for a pooled one is far cheaper
    return create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


def reader(engine: Engine) -> Engine:
    """``engine`` for sessions that only read: on SQLite its transactions begin deferred (no
    write lock); the same pool and events (``Engine.execution_options``)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def begin_read(session: Session) -> None:
    """End ``session``'s transaction (commit) and begin a read transaction in its place: on
    SQLite a deferred ``BEGIN``, which holds no write lock. For a session whose next statements
    only read (a token lookup, loading the user whose password is then checked outside any
    transaction); a write in it could fail with ``database is locked`` under contention."""
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={BEGIN_OPTION: "DEFERRED"})


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
