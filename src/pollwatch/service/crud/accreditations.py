"""Accreditation of observers and camera watchers for an election (requested, decided)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.crud.elections import get_election
from pollwatch.service.errors import Conflict, Invalid, NotFound, invalid
from pollwatch.service.models import utcnow
from pollwatch.service.permissions import FIELD_ROLES, STAFF, own_rows, require


def request_accreditation(
    session: Session, user: m.User, election_id: int, body: str
) -> m.Accreditation:
    require(user, FIELD_ROLES)
    get_election(session, election_id)
    if session.scalar(
        select(m.Accreditation).where(
            m.Accreditation.user_id == user.id, m.Accreditation.election_id == election_id
        )
    ):
        raise Conflict(N_("Accreditation already requested"))
    acc = m.Accreditation(user_id=user.id, election_id=election_id, body=body)
    session.add(acc)
    audit.record(session, user.id, "create", acc)
    return acc


def decide_accreditation(
    session: Session,
    actor: m.User,
    acc_id: int,
    status: str,
    body: str | None,
    date: dt.date | None,
) -> m.Accreditation:
    require(actor, STAFF)
    acc = session.get(m.Accreditation, acc_id)
    if acc is None:
        raise NotFound(N_("Accreditation not found"))
    if status not in m.AccreditationStatus.__members__:
        raise Invalid(
            [
                invalid(
                    ["body", "status"],
                    N_("status {status} is not one of {choices}"),
                    status=repr(status),
                    choices=str(list(m.AccreditationStatus.__members__)),
                )
            ]
        )
    acc.status, acc.date, acc.updated_at = status, date or dt.date.today(), utcnow()
    if body is not None:
        acc.body = body
    audit.record(session, actor.id, "update", acc)
    return acc


def list_accreditations(session: Session, user: m.User) -> list[m.Accreditation]:
    q = own_rows(user, select(m.Accreditation), m.Accreditation.user_id)
    return list(session.scalars(q.order_by(m.Accreditation.id)))
