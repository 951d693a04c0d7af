"""Group commit of new submissions: one writer thread per process, one transaction per batch.

Every submission must be committed together with its audit entry, and audit entries are chained,
so writers are serialised (``audit.lock``). Committing each submission on its own makes that lock
the bottleneck: it is held across a durable commit (an fsync) per submission. Here requests hand
a :class:`Draft` (the validated body, not yet checked against the database) to a single writer
thread, which takes whatever has queued up while the previous batch was committing and handles
it in one transaction:

1. the stations and the submitters' assignments and accreditations of the whole batch, two
   queries, and per draft the checks of ``crud.submission_context`` in its order, and the row;
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

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.service import audit, crud
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
        return m.Submission(client_id=self.client_id, kind=self.kind, form=self.form,
                            station_id=station.id, observer_id=self.user.id,
                            **self.fields(station))


@dataclass(eq=False)
class _Item:
    draft: Draft
    done: Future = field(default_factory=Future)


class GroupCommitter:
    """``submit(draft)`` blocks until the draft (or the row stored earlier under its
    ``client_id``) is committed, and returns ``(row, created)``; a failed check raises."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # statistics, for tests and benchmarks
        self.items = 0

    def submit(self, draft: Draft) -> tuple[m.Submission, bool]:
        return self._enqueue(draft).result()

    async def submit_async(self, draft: Draft) -> tuple[m.Submission, bool]:
        """As ``submit``, awaited on the event loop: no worker thread sits blocked meanwhile."""
        return await asyncio.wrap_future(self._enqueue(draft))

    def _enqueue(self, draft: Draft) -> Future:
        self._ensure_started()
        item = _Item(draft)
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

    def _commit(self, batch: list[_Item]) -> None:
        try:
            outcomes = write_batch(self._sessions, [i.draft for i in batch])
        except Exception as exc:  # noqa: BLE001 - retried one by one; each gets its own outcome
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            for item in batch:
                self._commit([item])
            return
        self.batches += 1
        self.items += len(batch)
        for item, out in zip(batch, outcomes, strict=True):
            if isinstance(out, BaseException):
                item.done.set_exception(out)
            else:
                item.done.set_result(out)


def write_batch(
    sessions: sessionmaker[Session], drafts: list[Draft]
) -> list[tuple[m.Submission, bool] | Exception]:
    """Check and store ``drafts`` with their audit entries in one transaction.

    Returns one outcome per draft: ``(row, created)``, or the exception its checks raised
    (``NotFound``, ``Forbidden``, ``Invalid``, ``Conflict``). A ``client_id`` already stored, or
    repeated earlier in the batch, yields the stored row and ``created=False`` (``Conflict`` if
    it belongs to another user). Raises only when the transaction as a whole fails.
    """
    outcomes: list = [None] * len(drafts)
    with sessions() as session:
        # checks and rows first, outside the lock (they only read); a draft whose client id
        # turns out to be stored already gets the stored row instead, whatever its checks said
        made = _check_and_make(session, drafts)
        audit.lock(session)  # before the client-id check: no other writer can insert meanwhile
        ids = list({d.client_id for d in drafts})
        stored: dict[str, m.Submission] = {
            r.client_id: r
            for r in session.scalars(select(m.Submission).where(m.Submission.client_id.in_(ids)))
        }
        new: list[tuple[int, m.Submission]] = []
        for k, (d, sub) in enumerate(zip(drafts, made, strict=True)):
            prior = stored.get(d.client_id)
            if prior is not None:
                outcomes[k] = (
                    Conflict("client_id already used by another user")
                    if prior.observer_id != d.user.id
                    else (prior, False)
                )
            elif isinstance(sub, Exception):
                outcomes[k] = sub
            else:
                stored[d.client_id] = sub
                new.append((k, sub))
        if new:
            rows = [_values(sub) for _, sub in new]
            returned = session.execute(
                insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True), rows
            ).scalars()
            for (_, sub), sub_id in zip(new, returned, strict=True):
                sub.id = sub_id
            audit.append(session, [(sub.observer_id, "create", sub) for _, sub in new])
        session.commit()
    for k, sub in new:
        outcomes[k] = (sub, True)
    return outcomes


def _check_and_make(session: Session, drafts: list[Draft]) -> list[m.Submission | Exception]:
    """Per draft, the checks of ``crud.submission_context`` after its client-id lookup, in its
    order (``before_checks``, station, role, assignment and accreditation), then the new row."""
    stations, assigned, accredited = _context(session, drafts)
    out: list[m.Submission | Exception] = []
    for d in drafts:
        try:
            if d.before_checks is not None:
                d.before_checks()
            station = stations.get(d.station_id)
            if station is None:
                raise NotFound("Station not found")
            if crud._needs_station_checks(d.user, d.kind, d.form):
                crud._decide(
                    d.user,
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
    accreditations of its submitters: two round trips for the whole batch."""
    station_ids = {d.station_id for d in drafts}
    user_ids = {d.user.id for d in drafts}
    stations = {s.id: s for s in session.scalars(select(m.Station).where(m.Station.id.in_(station_ids)))}
    a, c = m.Assignment, m.Accreditation
    rows = session.execute(
        select(literal(0), a.user_id, a.station_id)
        .where(a.user_id.in_(user_ids), a.station_id.in_(station_ids))
        .union_all(
            select(literal(1), c.user_id, c.election_id).where(
                c.user_id.in_(user_ids), c.status == m.AccreditationStatus.accredited
            )
        )
    )
    assigned: set[tuple[int, int]] = set()
    accredited: set[tuple[int, int]] = set()
    for which, user_id, other in rows:
        (accredited if which else assigned).add((user_id, other))
    return stations, assigned, accredited


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
