"""Submissions (checklists, incidents, protocol copies): checked, stored once per ``client_id``,
listed, edited, reviewed; the reconciled protocol of a station."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import audit, permissions
from pollwatch.service import models as m
from pollwatch.service.crud.media import attach_media
from pollwatch.service.crud.stations import get_station
from pollwatch.service.errors import Conflict, Forbidden, Invalid, NotFound, invalid, verbatim
from pollwatch.service.forms import forms
from pollwatch.service.models import Kind, Verification, utcnow
from pollwatch.service.permissions import READ_ALL, STAFF, SUBMITTERS, check_review, require
from pollwatch.service.reconcile import reconcile
from pollwatch.service.rules import PROTOCOL_FIELDS, checklist_flags, protocol_flags
from pollwatch.service.taxonomy import CATEGORIES, SEVERITIES


def check_may_submit(
    session: Session, user: m.User, station: m.Station, kind: str, form: str
) -> None:
    """Forbidden unless ``user`` may file this ``kind`` and ``form`` at ``station``."""
    permissions.check_submit_at(session, user, station, kind, form)


# built once, like users.user_by_token's: every submission runs it
_SUBMISSION_CONTEXT = select(
    m.Station,
    select(m.Submission.id)
    .where(m.Submission.client_id == bindparam("client_id"))
    .scalar_subquery(),
    permissions.assigned_exists(bindparam("user_id"), m.Station.id),
    permissions.accredited_exists(bindparam("user_id"), m.Station.election_id),
).where(m.Station.id == bindparam("station_id"))


def submission_context(
    session: Session,
    user: m.User,
    client_id: str,
    station_id: int,
    kind: str,
    form: str,
    before_checks: Callable[[], None] | None = None,
) -> tuple[m.Submission | None, m.Station | None]:
    """``(prior, None)`` for a retried client id, else ``(None, station)`` once the user may
    submit there: the client-id lookup, the station and both permission checks in one round trip
    (the same rules, in the same order, as ``existing_by_client_id`` + ``check_may_submit``;
    ``before_checks`` runs where a caller validated its body before those checks)."""
    row = session.execute(
        _SUBMISSION_CONTEXT, {"client_id": client_id, "user_id": user.id, "station_id": station_id}
    ).first()
    if row is None or row[1] is not None:  # no such station, or a retry: the general path
        prior = existing_by_client_id(session, user, client_id)
        if prior is not None:
            return prior, None
    if before_checks is not None:
        before_checks()
    if row is None:
        raise NotFound(N_("Station not found"))
    station, _, is_assigned, is_accredited = row
    permissions.check_submit(user, kind, form, is_assigned, is_accredited)
    return None, station


def clean_checklist(
    form_name: str, answers: dict, registered: int
) -> tuple[dict, bool, list[dict]]:
    form = forms().get(form_name)
    if form is None:
        raise Invalid(
            [
                invalid(
                    ["body", "form"],
                    N_("unknown checklist {form}; expected one of {choices}"),
                    form=repr(form_name),
                    choices=str(sorted(forms())),
                )
            ]
        )
    clean, errors = {}, []
    for key, raw in answers.items():
        q = form.question(str(key))
        if q is None:
            errors.append(
                invalid(["body", "answers", key], N_("unknown question {key}"), key=repr(key))
            )
            continue
        try:
            clean[q.id] = q.parse_value(raw)
        except ValueError as exc:
            errors.append(
                invalid(
                    ["body", "answers", key],
                    N_("{error}, got {value}"),
                    error=verbatim(str(exc)),
                    value=repr(raw),
                )
            )
    if errors:
        raise Invalid(errors)
    return clean, not form.missing(clean), checklist_flags(form, clean, registered)


def clean_protocol(
    election: m.Election, numbers: dict, votes: dict, registered: int
) -> tuple[dict, list[dict]]:
    known = {c["id"] for c in election.candidates} | {c["name"] for c in election.candidates}
    errors = []
    for k in numbers:
        if k not in PROTOCOL_FIELDS:
            errors.append(
                invalid(["body", "numbers", k], N_("unknown protocol line {line}"), line=repr(k))
            )
    for k in votes:
        if known and k not in known:
            errors.append(
                invalid(
                    ["body", "votes", k], N_("unknown candidate {candidate}"), candidate=repr(k)
                )
            )
    for part, d in (("numbers", numbers), ("votes", votes)):
        for k, v in d.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                errors.append(
                    invalid(
                        ["body", part, k],
                        N_("expected a non-negative whole number, got {value}"),
                        value=repr(v),
                    )
                )
    if errors:
        raise Invalid(errors)
    return {"numbers": numbers, "votes": votes}, protocol_flags(numbers, votes, registered)


def clean_incident(category: str, severity: str) -> None:
    errors = []
    if category not in CATEGORIES:
        errors.append(
            invalid(
                ["body", "category"], N_("unknown category {category}"), category=repr(category)
            )
        )
    if severity not in SEVERITIES:
        errors.append(
            invalid(
                ["body", "severity"],
                N_("severity {severity} is not one of {choices}"),
                severity=repr(severity),
                choices=str(list(SEVERITIES)),
            )
        )
    if errors:
        raise Invalid(errors)


def existing_by_client_id(session: Session, user: m.User, client_id: str) -> m.Submission | None:
    row = session.scalar(select(m.Submission).where(m.Submission.client_id == client_id))
    if row is not None and row.observer_id != user.id:
        raise Conflict(N_("client_id already used by another user"))
    return row


def create_submission(
    session: Session,
    user: m.User,
    sub: m.Submission,
    media_ids: Iterable[int] = (),
    *,
    checked: bool = False,
) -> tuple[m.Submission, bool]:
    """Store ``sub`` once per ``client_id``; returns ``(row, created)``. A retry returns the first row.

    ``checked=True``: the caller has just looked the client id up (saves a round trip).
    """
    prior = None if checked else existing_by_client_id(session, user, sub.client_id)
    if prior is not None:
        return prior, False
    # the audit lock before the insert, as the group-commit writer takes it: a row inserted
    # first and a lock awaited second would deadlock with a writer inserting the same client id
    audit.lock(session)
    try:
        with session.begin_nested():
            session.add(sub)
            session.flush()
    except IntegrityError:  # a concurrent retry won the race (PostgreSQL)
        prior = existing_by_client_id(session, user, sub.client_id)
        if prior is None:
            raise
        return prior, False
    audit.record(session, user.id, "create", sub)
    attach_media(session, user, sub, media_ids)
    return sub, True


def visible_submissions(session: Session, user: m.User):
    return permissions.own_rows(user, select(m.Submission), m.Submission.observer_id, SUBMITTERS)


def list_submissions(
    session: Session,
    user: m.User,
    kind: str | None = None,
    status: str | None = None,
    station_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[m.Submission], int]:
    q = visible_submissions(session, user)
    if kind:
        q = q.where(m.Submission.kind == kind)
    if status:
        q = q.where(m.Submission.status == status)
    if station_id:
        q = q.where(m.Submission.station_id == station_id)
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    rows = session.scalars(q.order_by(m.Submission.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)


def get_submission(
    session: Session, user: m.User, sub_id: int, kind: str | None = None
) -> m.Submission:
    """Another observer's submission is reported as not found (404), never as forbidden."""
    sub = session.scalar(visible_submissions(session, user).where(m.Submission.id == sub_id))
    if sub is None or (kind and sub.kind != kind):
        raise NotFound(N_("Submission not found"))
    return sub


def update_submission(
    session: Session, user: m.User, sub: m.Submission, changes: dict
) -> m.Submission:
    if sub.observer_id != user.id:
        raise Forbidden(N_("Only the author may edit a submission"))
    if sub.status in (Verification.verified, Verification.rejected):
        raise Conflict(N_("Submission already reviewed"))
    for k, v in changes.items():
        setattr(sub, k, v)
    sub.updated_at = utcnow()
    audit.record(session, user.id, "update", sub)
    return sub


def review(
    session: Session, reviewer: m.User, sub_id: int, status: str, reason: str
) -> m.Submission:
    require(reviewer, STAFF)
    if status not in Verification.__members__:
        raise Invalid(
            [
                invalid(
                    ["body", "status"],
                    N_("status {status} is not one of {choices}"),
                    status=repr(status),
                    choices=str(list(Verification.__members__)),
                )
            ]
        )
    if status == Verification.rejected and not reason.strip():
        raise Invalid([invalid(["body", "reason"], N_("a reason is required to reject"))])
    sub = get_submission(session, reviewer, sub_id)
    check_review(reviewer, sub)
    sub.status, sub.reviewer_id, sub.review_reason, sub.updated_at = (
        status,
        reviewer.id,
        reason,
        utcnow(),
    )
    audit.record(session, reviewer.id, "review", sub)
    return sub


def quarantine(
    session: Session, reviewer: m.User, sub_id: int, on: bool, reason: str
) -> m.Submission:
    require(reviewer, STAFF)
    sub = get_submission(session, reviewer, sub_id)
    check_review(reviewer, sub)
    sub.quarantined, sub.reviewer_id, sub.review_reason, sub.updated_at = (
        on,
        reviewer.id,
        reason,
        utcnow(),
    )
    audit.record(session, reviewer.id, "quarantine", sub)
    return sub


def reconciled_protocol(session: Session, user: m.User, station_id: int) -> dict:

    require(user, READ_ALL)
    get_station(session, station_id)
    rows = session.scalars(
        select(m.Submission)
        .where(
            m.Submission.kind == Kind.protocol,
            m.Submission.station_id == station_id,
            m.Submission.status != Verification.rejected,
            m.Submission.quarantined.is_(False),
        )
        .order_by(m.Submission.id)
    ).all()
    latest = {r.observer_id: r for r in rows}  # one copy per observer: the newest
    rec = reconcile([r.answers for r in latest.values()])
    return {"station_id": station_id, "submission_ids": [r.id for r in latest.values()], **rec}
