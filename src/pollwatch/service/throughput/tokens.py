"""The per-process cache of the users behind bearer tokens (PostgreSQL).

``TokenCache``: looking the user up costs a database round trip (and a thread-pool hop) on every
request. On PostgreSQL each worker process keeps the users it has looked up, and forgets all of
them whenever any transaction that changes a user or revokes a token commits: those
transactions ``NOTIFY`` the channel ``pollwatch_auth`` (``notify_auth_changes``, a flush hook
on the app's sessions, registered by ``install`` from ``db.session_factory``) and each process
``LISTEN``s on its own connection. So a logout, a deactivation or a role change holds at once in the process that made it (its caches are emptied
right after the commit, before the reply) and in every other worker as soon as the notice
arrives (milliseconds: PostgreSQL sends it at commit to idle listeners).
The cache answers only while its listener is connected (it empties on connect and on any error),
a lookup that raced a change is not stored (generation counter), and an entry lives at most
``ttl`` seconds, the bound for changes made outside pollwatch (``psql``) that notify nobody,
and never past its token's own ``expires_at``. Revoking tokens (logout, ``revoke_tokens``,
deactivation, a password reset) deletes their rows through the ORM, which notifies.
Changes to assignments and accreditations need no notice: they are not cached (the submission
writer reads them in its own transaction, other routes on every request).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from pollwatch.service import models as m

AUTH_CHANNEL = "pollwatch_auth"
_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()  # this process's, see invalidate_here


def install(sessions: sessionmaker[Session]) -> None:
    """Register the three hooks below on ``sessions`` (an app's sessionmaker)."""
    event.listen(sessions, "after_flush", notify_auth_changes)
    event.listen(sessions, "after_commit", invalidate_here)
    event.listen(sessions, "after_rollback", nothing_changed)


def notify_auth_changes(session: Session, _flush_context) -> None:
    """A flush that changes or deletes a user, or deletes a token, notifies the token caches;
    PostgreSQL delivers the notice at commit, and not at all on rollback. New users and tokens
    need none: nothing about them can be cached yet."""
    if session.get_bind().dialect.name != "postgresql":
        return
    changed = (*session.dirty, *session.deleted)
    if any(isinstance(o, m.User) for o in changed) or any(
        isinstance(o, m.Token) for o in session.deleted
    ):
        session.connection().exec_driver_sql(f"NOTIFY {AUTH_CHANNEL}")
        session.info["auth_changed"] = True


def invalidate_here(session: Session) -> None:
    """This process's caches forget at once, before the reply that follows the commit: the
    notice to its own listener could arrive after the client's next request."""
    if session.info.pop("auth_changed", False):
        for cache in list(_caches):
            cache.invalidate()


def nothing_changed(session: Session) -> None:
    """A rollback: no notice was sent."""
    session.info.pop("auth_changed", None)


class TokenCache:
    """Users by token hash, valid while this process hears every change (see the module doc)."""

    def __init__(self, engine: Engine, ttl: float = 60.0, poll: float = 1.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._poll = poll  # how often the listener looks at its stop flag
        self._entries: dict[str, tuple[m.User, float]] = {}
        self._lock = threading.Lock()
        self._live = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.generation = 0  # bumped by every invalidation
        _caches.add(self)
        # tests and short-lived apps dispose of their engine: the listener goes with it
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    @classmethod
    def for_engine(cls, engine: Engine, **kw) -> TokenCache | None:
        """A cache on PostgreSQL; None elsewhere (SQLite looks users up in-process anyway)."""
        return cls(engine, **kw) if engine.dialect.name == "postgresql" else None

    @property
    def live(self) -> bool:
        return self._live

    def get(self, token_hash: str) -> m.User | None:
        self._ensure_listening()
        if not self._live:
            return None
        hit = self._entries.get(token_hash)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(
        self,
        token_hash: str,
        user: m.User,
        generation: int,
        expires_at: dt.datetime | None = None,
    ) -> None:
        """Remember ``user`` (looked up after ``generation`` was read) as a detached copy: the
        caller's instance belongs to its session, whose rollback would expire it. The entry
        lives ``ttl`` seconds, and not past ``expires_at`` (the token's, naive UTC)."""
        copy = m.User(**{c.key: getattr(user, c.key) for c in m.User.__table__.columns})
        make_transient_to_detached(copy)
        life = self._ttl
        if expires_at is not None:
            life = min(life, (expires_at - m.utcnow()).total_seconds())
        if life <= 0:
            return
        with self._lock:
            if self._live and generation == self.generation:
                self._entries[token_hash] = (copy, time.monotonic() + life)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries = {}

    def close(self) -> None:
        self._stop.set()
        self._live = False
        self.invalidate()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self._poll + 5)

    def _ensure_listening(self) -> None:
        if self._thread is None and not self._stop.is_set():
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._listen, name="pollwatch-token-cache", daemon=True
                    )
                    self._thread.start()

    def _listen(self) -> None:
        dialect = self._engine.dialect
        backoff = 0.1
        while not self._stop.is_set():
            conn = None
            try:
                cargs, cparams = dialect.create_connect_args(self._engine.url)
                conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
                conn.autocommit = True
                conn.execute(f"LISTEN {AUTH_CHANNEL}")
                self.invalidate()  # whatever happened while nobody listened
                self._live = True
                backoff = 0.1
                while not self._stop.is_set():
                    for _ in conn.notifies(timeout=self._poll):
                        self.invalidate()
            except Exception:  # noqa: BLE001 - any failure: stop answering, reconnect
                pass
            finally:
                self._live = False
                self.invalidate()
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)
