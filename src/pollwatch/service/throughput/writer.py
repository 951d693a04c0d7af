"""Group commit of new submissions: one writer thread per process, one transaction per batch.

Every submission must be committed together with its audit entry, and audit entries are chained,
so writers are serialised (``audit.lock``). Committing each submission on its own makes that lock
the bottleneck: it is held across a durable commit (an fsync) per submission. Here requests hand
a :class:`Draft` (the validated body, not yet checked against the database) to a single writer
thread, which takes whatever has queued up while the previous batch was committing and handles
it in one transaction:

1. the stations and the submitters' assignments and accreditations of the whole batch, two
   queries (``permissions.grants``), and per draft the checks of ``crud.submission_context``
   in its order (``permissions.check_submit``), and the row;
2. the audit lock, then the client ids already stored (a retry gets the stored row, 200,
   whatever its checks said, as before);
3. one multi-row ``INSERT ... RETURNING id`` of the new rows (SQLAlchemy Core, no unit of work);
4. their chained audit entries (one read of the chain head, one multi-row insert); commit.

Only then is each waiting request answered, so the guarantees are the per-request ones:
acknowledged after a synchronous commit, stored once per ``client_id``, row and audit entry in
the same transaction, permissions checked in that transaction. There is no artificial wait:
under light load a batch holds one submission; under heavy load the batch grows by itself and
the round trips and the fsync are shared. A draft that fails its checks fails alone; a batch
that fails as a whole (an unexpected database error) is retried one draft at a time.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import JSON, Connection, String, event, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from pollwatch.i18n import N_
from pollwatch.service import audit, permissions
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, NotFound

MAX_BATCH = 256
_TABLE = m.Submission.__table__


@dataclass(eq=False)
class Draft:
    """A new submission as a route knows it before the database is consulted.

    ``fields(station)`` returns the kind's cleaned columns (it may raise ``Invalid``);
    ``before_checks`` is validation that must run after the client-id lookup and before the
    station and permission checks (the order of ``crud.submission_context``).
    """

    user: m.User
    client_id: str
    station_id: int
    kind: str
    form: str
    fields: Callable[[m.Station], dict]
    before_checks: Callable[[], None] | None = None

    def make(self, station: m.Station) -> m.Submission:
        return m.Submission(
            client_id=self.client_id,
            kind=self.kind,
            form=self.form,
            station_id=station.id,
            observer_id=self.user.id,
            **self.fields(station),
        )


@dataclass(eq=False)
class Item:
    """A queued draft and the future its request awaits (the writer thread's queue holds them;
    tests put them there directly)."""

    draft: Draft
    done: Future = field(default_factory=Future)


class GroupCommitter:
    """``submit(draft)`` blocks until the draft (or the row stored earlier under its
    ``client_id``) is committed, and returns ``(row, created)``; a failed check raises."""

    def __init__(
        self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH, notary=None
    ) -> None:
        self._sessions = sessions
        self.notary = notary  # checkpoints.Notary: a receipt on each new row, after the commit
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn: Connection | None = None  # the writer thread's own (PostgreSQL)
        self.batches = 0  # statistics, for tests and benchmarks
        self.items = 0
        # an app's engine disposed of (tests, shutdown): stop, closing the kept connection
        event.listen(sessions.kw["bind"], "engine_disposed", lambda _engine: self.close())

    def submit(self, draft: Draft) -> tuple[m.Submission, bool]:
        return self._enqueue(draft).result()

    async def submit_async(self, draft: Draft) -> tuple[m.Submission, bool]:
        """As ``submit``, awaited on the event loop: no worker thread sits blocked meanwhile."""
        return await asyncio.wrap_future(self._enqueue(draft))

    def _enqueue(self, draft: Draft) -> Future:
        self._ensure_started()
        item = Item(draft)
        self._queue.put(item)
        return item.done

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pollwatch-group-commit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    batch.append(nxt)
                self._commit(batch)
        finally:
            if self._conn is not None:
                # closed for good, not given back: the pool may be a disposed one by now
                self._conn.detach()
                self._conn.close()
                self._conn = None

    def _connection(self) -> Connection | None:
        """PostgreSQL: the writer keeps one connection instead of checking one out per batch
        (each checkout pings the server: a round trip). A connection found broken is replaced
        (``write_batch`` invalidates it), and a batch that failed on one is retried."""
        engine = self._sessions.kw["bind"]
        if engine.dialect.name != "postgresql":
            return None
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            if self._conn is not None:
                self._conn.close()
            self._conn = engine.connect()
        return self._conn

    def _commit(self, batch: list[Item], retried: bool = False) -> None:
        try:
            outcomes = write_batch(self._sessions, [i.draft for i in batch], self._connection())
        except Exception as exc:  # noqa: BLE001 - retried one by one; each gets its own outcome
            if len(batch) > 1:
                for item in batch:
                    self._commit([item])
            elif getattr(exc, "connection_invalidated", False) and not retried:
                self._commit(batch, retried=True)  # the kept connection had died (restart)
            else:
                batch[0].done.set_exception(exc)
            return
        self.batches += 1
        self.items += len(batch)
        if self.notary is not None:  # one checkpoint per batch, after its commit
            self.notary.stamp([o[0] for o in outcomes if isinstance(o, tuple) and o[1]])
        for item, out in zip(batch, outcomes, strict=True):
            if isinstance(out, BaseException):
                item.done.set_exception(out)
            else:
                item.done.set_result(out)


def write_batch(
    sessions: sessionmaker[Session], drafts: list[Draft], bind: Connection | None = None
) -> list[tuple[m.Submission, bool] | Exception]:
    """Check and store ``drafts`` with their audit entries in one transaction.

    Returns one outcome per draft: ``(row, created)``, or the exception its checks raised
    (``NotFound``, ``Forbidden``, ``Invalid``, ``Conflict``). A ``client_id`` already stored, or
    repeated earlier in the batch, yields the stored row and ``created=False`` (``Conflict`` if
    it belongs to another user). Raises only when the transaction as a whole fails. ``bind``:
    a connection to use instead of one from the pool.
    """
    with sessions(**({"bind": bind} if bind is not None else {})) as session:
        if session.get_bind().dialect.name != "postgresql":
            return _write(session, drafts)
        import psycopg

        try:
            return _write_pg(session, drafts)
        except psycopg.Error as exc:  # as SQLAlchemy would raise it (IntegrityError, ...)
            conn = session.connection()
            broken = conn.connection.driver_connection.broken
            if broken:
                conn.invalidate()  # neither the writer nor the pool may use it again
            raise DBAPIError.instance(
                None, None, exc, psycopg.Error, connection_invalidated=broken
            ) from exc


def _write(session: Session, drafts: list[Draft]) -> list:
    """SQLAlchemy Core on one session (SQLite: in-process, round trips cost nothing)."""
    # checks and rows first, outside the lock (they only read); a draft whose client id turns
    # out to be stored already gets the stored row instead, whatever its checks said
    made = _check_and_make(drafts, *_context(session, drafts))
    audit.lock(session)  # before the client-id check: no other writer can insert meanwhile
    ids = list({d.client_id for d in drafts})
    stored = {
        r.client_id: r
        for r in session.scalars(select(m.Submission).where(m.Submission.client_id.in_(ids)))
    }
    outcomes, new = _resolve(drafts, made, stored)
    if new:
        rows = [_values(sub) for _, sub in new]
        returned = session.execute(
            insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        for (_, sub), sub_id in zip(new, returned, strict=True):
            sub.id = sub_id
        entries = audit.append(session, [(sub.observer_id, "create", sub) for _, sub in new])
        for (_, sub), e in zip(new, entries, strict=True):
            sub.audit_entry = (e["seq"], e["hash"])
    session.commit()
    for k, sub in new:
        outcomes[k] = (sub, True)
    return outcomes


# PostgreSQL: the same steps in three round trips (psycopg pipelines on the session's
# connection), because under load every round trip also waits for the CPU: the stations,
# permissions and new ids; the lock, stored client ids and chain head; the inserts and COMMIT.
_S, _L = m.Station.__table__, m.AuditLog.__table__
_PG_STATIONS = f"SELECT {', '.join(c.name for c in _S.columns)} FROM {_S.name} WHERE id = ANY(%s)"


def _pg_grants() -> tuple[str, dict]:
    """``permissions.grants`` (the SQLite path's statement) compiled once for psycopg: its text
    and its fixed parameters (the accredited status), ``user_ids`` and ``station_ids`` to add."""
    from sqlalchemy.dialects.postgresql import psycopg

    grants = permissions.grants(permissions.any_of("user_ids"), permissions.any_of("station_ids"))
    compiled = grants.compile(dialect=psycopg.dialect())
    params = {k: v.value if isinstance(v, Enum) else v for k, v in compiled.params.items()}
    return compiled.string, params


_PG_PERMISSIONS, _PG_PERMISSION_PARAMS = _pg_grants()
_PG_IDS = (
    f"SELECT nextval(pg_get_serial_sequence('{_TABLE.name}', 'id')) FROM generate_series(1, %s)"
)
_PG_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_PG_STORED = (
    f"SELECT {', '.join(c.name for c in _TABLE.columns)} FROM {_TABLE.name}"
    " WHERE client_id = ANY(%s)"
)
_PG_HEAD = f"SELECT seq, hash FROM {_L.name} ORDER BY seq DESC LIMIT 1"
_AUDIT_COLS = [c.name for c in _L.columns]


def _pg_insert(table) -> str:
    """One INSERT of a whole batch, its columns passed as arrays (``unnest``): one statement per
    batch for the server to execute, and the same text whatever the batch size, so psycopg
    converts it once and prepares it on the server (a multi-row ``VALUES`` list was a new text
    per batch size, parsed by psycopg every time: ~0.07 ms of the writer's CPU a row). Binary
    parameters (``%b``): the text form of an array is escaped in Python, element by element."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    # strings as text[]: a cast to varchar(n) would cut a long value, the column refuses it
    arrays = ", ".join(
        "%b::text[]" if isinstance(c.type, String) else f"%b::{c.type.compile(dialect=dialect)}[]"
        for c in table.columns
    )
    columns = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"


_PG_INSERT_SUBMISSIONS = _pg_insert(_TABLE)
_PG_INSERT_AUDIT = _pg_insert(_L)
_JSON_COLS = {c.key for c in _TABLE.columns if isinstance(c.type, JSON)}


def _write_pg(session: Session, drafts: list[Draft]) -> list:
    from psycopg.types.json import Json

    raw = session.connection().connection.driver_connection
    station_ids = sorted({d.station_id for d in drafts})
    user_ids = sorted({d.user.id for d in drafts})
    with raw.pipeline():
        c_stations = raw.execute(_PG_STATIONS, (station_ids,))
        c_perms = raw.execute(
            _PG_PERMISSIONS,
            {**_PG_PERMISSION_PARAMS, "user_ids": user_ids, "station_ids": station_ids},
        )
        c_ids = raw.execute(_PG_IDS, (len(drafts),))
    stations = {}
    for row in c_stations.fetchall():
        st = m.Station(**dict(zip(_S.columns.keys(), row, strict=True)))
        make_transient_to_detached(st)
        session.add(st)  # persistent without a query: a kind's fields may read through it
        stations[st.id] = st
    assigned, accredited = permissions.split_grants(c_perms.fetchall())
    free_ids = [r[0] for r in c_ids.fetchall()]  # a sequence has gaps anyway (rollbacks)
    made = _check_and_make(drafts, stations, assigned, accredited)
    # rows and audit payloads before the lock too (they need the id, not the chain): the lock
    # is held only for the chain's hashes, the inserts and the commit
    prepared: dict[int, tuple[list, str]] = {}
    for k, sub in enumerate(made):
        if not isinstance(sub, Exception):
            sub.id = free_ids[k]
            values = {"id": sub.id, **_values(sub)}
            row = [Json(values[c]) if c in _JSON_COLS else values[c] for c in _TABLE.columns.keys()]
            prepared[id(sub)] = (row, audit.payload(session, sub))

    with raw.pipeline():
        raw.execute(_PG_LOCK, (audit.LOCK_KEY,))  # later statements: snapshots after the lock
        # planned afresh each time (not prepared): a prepared statement's generic plan, fixed
        # while the table was small or never analysed (the start of election day), stayed a
        # sequential scan as the table grew: 3-7 ms a batch at 2,000 rows, under the lock
        c_stored = raw.execute(_PG_STORED, (list({d.client_id for d in drafts}),), prepare=False)
        c_head = raw.execute(_PG_HEAD)
    stored = {}
    for row in c_stored.fetchall():
        prior = m.Submission(**dict(zip(_TABLE.columns.keys(), row, strict=True)))
        make_transient_to_detached(prior)
        stored[prior.client_id] = prior
    head = c_head.fetchone()
    outcomes, new = _resolve(drafts, made, stored)
    rows, audit_rows = [], []
    if new:
        rows = [prepared[id(sub)][0] for _, sub in new]
        changes = [(sub.observer_id, "create", sub) for _, sub in new]
        payloads = [prepared[id(sub)][1] for _, sub in new]
        entries = audit.chain(session, head, changes, payloads)
        audit_rows = [[e[c] for c in _AUDIT_COLS] for e in entries]
        for (_, sub), e in zip(new, entries, strict=True):
            sub.audit_entry = (e["seq"], e["hash"])
    with raw.pipeline():
        cur = raw.cursor()
        if rows:  # rows to columns: one array per column
            cur.execute(_PG_INSERT_SUBMISSIONS, [list(c) for c in zip(*rows, strict=True)])
            cur.execute(_PG_INSERT_AUDIT, [list(c) for c in zip(*audit_rows, strict=True)])
        raw.commit()  # durable (synchronous_commit) before anyone is answered
    session.commit()  # nothing left to send: SQLAlchemy's bookkeeping only
    for k, sub in new:
        outcomes[k] = (sub, True)
    return outcomes


def _resolve(
    drafts: list[Draft], made: list, stored: dict[str, m.Submission]
) -> tuple[list, list[tuple[int, m.Submission]]]:
    """Outcomes of the drafts whose client id is stored (or repeated earlier in the batch) or
    whose checks failed, and the new rows to insert with their positions."""
    outcomes: list = [None] * len(drafts)
    new: list[tuple[int, m.Submission]] = []
    for k, (d, sub) in enumerate(zip(drafts, made, strict=True)):
        prior = stored.get(d.client_id)
        if prior is not None:
            outcomes[k] = (
                Conflict(N_("client_id already used by another user"))
                if prior.observer_id != d.user.id
                else (prior, False)
            )
        elif isinstance(sub, Exception):
            outcomes[k] = sub
        else:
            stored[d.client_id] = sub
            new.append((k, sub))
    return outcomes, new


def _check_and_make(
    drafts: list[Draft],
    stations: dict[int, m.Station],
    assigned: set[tuple[int, int]],
    accredited: set[tuple[int, int]],
) -> list[m.Submission | Exception]:
    """Per draft, the checks of ``crud.submission_context`` after its client-id lookup, in its
    order (``before_checks``, station, role, assignment and accreditation), then the new row."""
    out: list[m.Submission | Exception] = []
    for d in drafts:
        try:
            if d.before_checks is not None:
                d.before_checks()
            station = stations.get(d.station_id)
            if station is None:
                raise NotFound(N_("Station not found"))
            permissions.check_submit(
                d.user,
                d.kind,
                d.form,
                (d.user.id, station.id) in assigned,
                (d.user.id, station.election_id) in accredited,
            )
            out.append(d.make(station))
        except Exception as exc:  # noqa: BLE001 - this draft's outcome, not the batch's
            out.append(exc)
    return out


def _context(
    session: Session, drafts: list[Draft]
) -> tuple[dict[int, m.Station], set[tuple[int, int]], set[tuple[int, int]]]:
    """The batch's stations by id, and the (user, station) assignments and (user, election)
    accreditations of its submitters: two queries for the whole batch."""
    station_ids = {d.station_id for d in drafts}
    user_ids = {d.user.id for d in drafts}
    stations = {
        s.id: s for s in session.scalars(select(m.Station).where(m.Station.id.in_(station_ids)))
    }
    rows = session.execute(
        permissions.grants(permissions.one_of(user_ids), permissions.one_of(station_ids))
    )
    return (stations, *permissions.split_grants(rows))


def _values(sub: m.Submission) -> dict:
    """The row to insert, with the column defaults the ORM would apply, set on ``sub`` too (its
    audit snapshot and the reply show exactly what is stored)."""
    out = {}
    state = sub.__dict__
    for col in _TABLE.columns:
        if col.primary_key:
            continue
        v = state.get(col.key)
        if col.key not in state and col.default is not None:  # an explicit None stays NULL
            v = col.default.arg(None) if col.default.is_callable else col.default.arg
            setattr(sub, col.key, v)
        out[col.key] = v
    return out
