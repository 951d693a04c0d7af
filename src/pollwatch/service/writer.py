"""Group commit of new submissions: one writer thread per process, one transaction per batch.

Every submission must be committed together with its audit entry, and audit entries are chained,
so writers are serialised (``audit.lock``). Committing each submission on its own makes that lock
the bottleneck: it is held across a durable commit (an fsync) per submission. Here request
threads hand their validated rows to a single writer thread, which takes whatever has queued up
while the previous batch was committing and writes it in one transaction: lock, look up client
ids already stored, insert the new rows, append their chained audit entries, commit. Only then
is each waiting request answered, so the guarantees are the per-request ones: acknowledged
after commit, stored once per ``client_id``, row and audit entry in the same transaction. There
is no artificial wait: under light load a batch holds one submission; under heavy load the batch
grows by itself and the fsync is shared.

A batch that fails as a whole (an unexpected database error) is retried one submission at a
time, so one bad row cannot fail the others.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict

MAX_BATCH = 256


@dataclass
class _Item:
    user_id: int
    sub: m.Submission
    done: Future = field(default_factory=Future)


class GroupCommitter:
    """``submit(user_id, sub)`` blocks until ``sub`` (or the row stored earlier under its
    ``client_id``) is committed, and returns ``(row, created)``."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # statistics, for tests and benchmarks
        self.items = 0

    def submit(self, user_id: int, sub: m.Submission) -> tuple[m.Submission, bool]:
        return _owned(user_id, *self._enqueue(user_id, sub).result())

    async def submit_async(self, user_id: int, sub: m.Submission) -> tuple[m.Submission, bool]:
        """As ``submit``, awaited on the event loop: no worker thread sits blocked meanwhile."""
        return _owned(user_id, *await asyncio.wrap_future(self._enqueue(user_id, sub)))

    def _enqueue(self, user_id: int, sub: m.Submission) -> Future:
        self._ensure_started()
        item = _Item(user_id, sub)
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
            results = write_batch(self._sessions, [(i.user_id, i.sub) for i in batch])
        except Exception as exc:  # noqa: BLE001 - retried one by one; each gets its own outcome
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            for item in batch:
                # the rolled-back flush may have left a primary key on the (again transient) row
                item.sub.id = None
                self._commit([item])
            return
        self.batches += 1
        self.items += len(batch)
        for item, res in zip(batch, results, strict=True):
            item.done.set_result(res)


def _owned(user_id: int, row: m.Submission, created: bool) -> tuple[m.Submission, bool]:
    if row.observer_id != user_id:
        raise Conflict("client_id already used by another user")
    return row, created


def write_batch(
    sessions: sessionmaker[Session], items: list[tuple[int, m.Submission]]
) -> list[tuple[m.Submission, bool]]:
    """Store the new submissions of ``items`` and their audit entries in one transaction.

    Returns ``(row, created)`` per item: a ``client_id`` already stored (or repeated earlier in
    the batch) yields the stored row and ``created=False``; the caller checks its owner.
    """
    with sessions() as session:
        audit.lock(session)  # before the client-id check: no other writer can insert meanwhile
        ids = list({sub.client_id for _, sub in items})
        stored = {
            r.client_id: r
            for r in session.scalars(select(m.Submission).where(m.Submission.client_id.in_(ids)))
        }
        new: list[tuple[int, m.Submission]] = []
        for user_id, sub in items:
            if sub.client_id not in stored:
                stored[sub.client_id] = sub
                new.append((user_id, sub))
        session.add_all([sub for _, sub in new])
        session.flush()
        audit.record_many(session, [(user_id, "create", sub) for user_id, sub in new])
        session.commit()
    # created only for the object that was inserted: a stored row or an earlier twin is not it
    return [(stored[sub.client_id], stored[sub.client_id] is sub) for _, sub in items]
