"""Helpers shared by the three submission routers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.writer import GroupCommitter


def builder(session: Session, user: m.User, body, kind: str, form: str,
            fields: Callable[[m.Station], dict], before_checks: Callable[[], None] | None = None):
    """The ``build`` step of :func:`submit` for one kind of submission.

    Looks up a retried client id and the station (with the permission checks of
    :func:`crud.submission_context`), then makes the new row from the common columns plus
    ``fields(station)``, the kind's cleaned answers.
    """

    def build() -> tuple[m.Submission | None, m.Submission | None]:
        prior, station = crud.submission_context(
            session, user, str(body.client_id), body.station_id, kind, form, before_checks=before_checks
        )
        if prior is not None:
            return prior, None
        return None, m.Submission(client_id=str(body.client_id), kind=kind, form=form, station_id=station.id,
                                  observer_id=user.id, **fields(station))

    return build


async def submit(
    response: Response,
    session: Session,
    writer: GroupCommitter,
    user: m.User,
    media_ids: list[int],
    build: Callable[[], tuple[m.Submission | None, m.Submission | None]],
) -> m.Submission:
    """Create a submission: 201 when new, 200 with the stored one for a retried client id.

    ``build()`` runs in the thread pool (it reads the database) and returns ``(prior, None)``
    or ``(None, new_row)``. A new row is committed with its audit entry by the group-commit
    writer, awaited without holding a thread; with media attached (their checks belong in the
    same transaction) it is committed on this session instead.
    """

    def prepare():
        prior, sub = build()
        if prior is not None:
            session.commit()
            return (prior, False), None
        if media_ids:
            done = crud.create_submission(session, user, sub, media_ids, checked=True)
            session.commit()
            return done, None
        session.commit()  # end the read transaction first (SQLite: it holds the write lock)
        return None, sub

    done, sub = await run_in_threadpool(prepare)
    if sub is not None:
        done = await writer.submit_async(user.id, sub)
    row, is_new = done
    response.status_code = 201 if is_new else 200
    return row
