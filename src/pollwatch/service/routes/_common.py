"""Helpers shared by the three submission routers."""

from __future__ import annotations

from fastapi import Response
from sqlalchemy.orm import Session

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.writer import GroupCommitter


def created(
    response: Response, sub_and_flag: tuple[m.Submission, bool], session: Session
) -> m.Submission:
    """201 for a new submission, 200 for a retried one (same client_id): stored once."""
    sub, is_new = sub_and_flag
    session.commit()
    response.status_code = 201 if is_new else 200
    return sub


def store(
    session: Session,
    writer: GroupCommitter,
    user: m.User,
    sub: m.Submission,
    media_ids: list[int],
) -> tuple[m.Submission, bool]:
    """Commit a new submission with its audit entry: through the group-commit writer, or, when
    media are attached (their checks belong in the same transaction), on this session."""
    if media_ids:
        return crud.create_submission(session, user, sub, media_ids, checked=True)
    session.commit()  # end the read transaction first (SQLite: it holds the write lock)
    return writer.submit(user.id, sub)


def station_for(session: Session, user: m.User, station_id: int, kind: str, form: str) -> m.Station:
    station = crud.get_station(session, station_id)
    crud.check_may_submit(session, user, station, kind, form)
    return station
