"""Assignments of observers and camera watchers to stations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.crud.stations import get_station
from pollwatch.service.errors import Conflict, NotFound
from pollwatch.service.permissions import FIELD_ROLES, STAFF, own_rows, require


def assign(session: Session, actor: m.User, user_id: int, station_id: int) -> m.Assignment:
    require(actor, STAFF)
    observer = session.get(m.User, user_id)
    if observer is None or observer.role not in FIELD_ROLES:
        raise NotFound(N_("Observer not found"))
    get_station(session, station_id)
    if session.scalar(
        select(m.Assignment).where(
            m.Assignment.user_id == user_id, m.Assignment.station_id == station_id
        )
    ):
        raise Conflict(N_("Already assigned"))
    a = m.Assignment(user_id=user_id, station_id=station_id)
    session.add(a)
    audit.record(session, actor.id, "create", a)
    return a


def list_assignments(session: Session, user: m.User) -> list[m.Assignment]:
    q = own_rows(user, select(m.Assignment), m.Assignment.user_id)
    return list(session.scalars(q.order_by(m.Assignment.id)))
