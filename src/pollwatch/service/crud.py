"""Plain functions over a Session: no HTTP here. Every create/update appends an audit entry in
the same transaction (``audit.record``); callers commit. Permission rules live here too, so the
API, the web pages and the SMS intake enforce the same ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pollwatch.evidence.media import MediaStore, strip_metadata
from pollwatch.service import audit, security
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, Forbidden, Invalid, NotFound, invalid
from pollwatch.service.forms import forms
from pollwatch.service.models import Kind, Role, Verification, utcnow
from pollwatch.service.rules import PROTOCOL_FIELDS, checklist_flags, protocol_flags
from pollwatch.service.taxonomy import CAMERA_CATEGORIES, CATEGORIES, SEVERITIES

STAFF = frozenset({Role.admin, Role.coordinator})
READ_ALL = frozenset({Role.admin, Role.coordinator, Role.analyst})
SUBMITTERS = frozenset({Role.admin, Role.coordinator, Role.observer, Role.camera_watcher})
LANGUAGES = ("en", "az", "ru")


def require(user: m.User, roles: Iterable[str]) -> None:
    if user.role not in roles:
        raise Forbidden("Not enough permissions")


# ---- users and tokens -------------------------------------------------------------------------


def create_user(
    session: Session,
    actor: m.User | None,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    phone: str | None = None,
    language: str = "en",
) -> m.User:
    if role not in Role.__members__:
        raise Invalid(
            [invalid(["body", "role"], f"role {role!r} is not one of {list(Role.__members__)}")]
        )
    if language not in LANGUAGES:
        raise Invalid(
            [
                invalid(
                    ["body", "language"], f"language {language!r} is not one of {list(LANGUAGES)}"
                )
            ]
        )
    if actor is not None:
        require(actor, STAFF)
        if actor.role == Role.coordinator and role not in (Role.observer, Role.camera_watcher):
            raise Forbidden("Not enough permissions")
    if session.scalar(select(m.User.id).where(m.User.username == username)):
        raise Conflict("Username already exists")
    user = m.User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        full_name=full_name,
        phone=phone,
        language=language,
    )
    session.add(user)
    audit.record(session, actor.id if actor else None, "create", user)
    return user


def authenticate(session: Session, username: str, password: str) -> m.User | None:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if (
        user is None
        or not user.active
        or not security.verify_password(user.password_hash, password)
    ):
        return None
    return user


def issue_token(session: Session, user: m.User, kind: str = "api") -> str:
    token, digest = security.new_token()
    session.add(m.Token(user_id=user.id, token_hash=digest, kind=kind))
    return token


# built once: every request runs it, and building the expression costs more than executing it
_USER_BY_TOKEN = (
    select(m.User)
    .join(m.Token, m.Token.user_id == m.User.id)
    .where(m.Token.token_hash == bindparam("token_hash"), m.User.active.is_(True))
)


def user_by_token(session: Session, token: str) -> m.User | None:
    return session.scalar(_USER_BY_TOKEN, {"token_hash": security.hash_token(token)})


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(m.Token).where(m.Token.token_hash == security.hash_token(token)))
    if row is not None:
        session.delete(row)


# ---- elections, stations, accreditation, assignments -------------------------------------------


def get_election(session: Session, election_id: int) -> m.Election:
    e = session.get(m.Election, election_id)
    if e is None:
        raise NotFound("Election not found")
    return e


def get_station(session: Session, station_id: int) -> m.Station:
    s = session.get(m.Station, station_id)
    if s is None:
        raise NotFound("Station not found")
    return s


def assigned_station_ids(session: Session, user: m.User) -> set[int]:
    return set(
        session.scalars(select(m.Assignment.station_id).where(m.Assignment.user_id == user.id))
    )


def request_accreditation(
    session: Session, user: m.User, election_id: int, body: str
) -> m.Accreditation:
    require(user, (Role.observer, Role.camera_watcher))
    get_election(session, election_id)
    if session.scalar(
        select(m.Accreditation).where(
            m.Accreditation.user_id == user.id, m.Accreditation.election_id == election_id
        )
    ):
        raise Conflict("Accreditation already requested")
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
        raise NotFound("Accreditation not found")
    if status not in m.AccreditationStatus.__members__:
        raise Invalid(
            [
                invalid(
                    ["body", "status"],
                    f"status {status!r} is not one of {list(m.AccreditationStatus.__members__)}",
                )
            ]
        )
    acc.status, acc.date, acc.updated_at = status, date or dt.date.today(), utcnow()
    if body is not None:
        acc.body = body
    audit.record(session, actor.id, "update", acc)
    return acc


def list_accreditations(session: Session, user: m.User) -> list[m.Accreditation]:
    q = select(m.Accreditation).order_by(m.Accreditation.id)
    if user.role not in READ_ALL:
        q = q.where(m.Accreditation.user_id == user.id)
    return list(session.scalars(q))


def assign(session: Session, actor: m.User, user_id: int, station_id: int) -> m.Assignment:
    require(actor, STAFF)
    observer = session.get(m.User, user_id)
    if observer is None or observer.role not in (Role.observer, Role.camera_watcher):
        raise NotFound("Observer not found")
    get_station(session, station_id)
    if session.scalar(
        select(m.Assignment).where(
            m.Assignment.user_id == user_id, m.Assignment.station_id == station_id
        )
    ):
        raise Conflict("Already assigned")
    a = m.Assignment(user_id=user_id, station_id=station_id)
    session.add(a)
    audit.record(session, actor.id, "create", a)
    return a


def list_assignments(session: Session, user: m.User) -> list[m.Assignment]:
    q = select(m.Assignment).order_by(m.Assignment.id)
    if user.role not in READ_ALL:
        q = q.where(m.Assignment.user_id == user.id)
    return list(session.scalars(q))


def _accredited(session: Session, user: m.User, election_id: int) -> bool:
    return (
        session.scalar(
            select(m.Accreditation.id).where(
                m.Accreditation.user_id == user.id,
                m.Accreditation.election_id == election_id,
                m.Accreditation.status == m.AccreditationStatus.accredited,
            )
        )
        is not None
    )


def check_may_submit(
    session: Session, user: m.User, station: m.Station, kind: str, form: str
) -> None:
    if not _needs_station_checks(user, kind, form):
        return
    is_assigned, is_accredited = session.execute(
        select(_assigned(user, station.id), _accredited_for(user, station.election_id))
    ).one()
    _decide(user, is_assigned, is_accredited)


def _needs_station_checks(user: m.User, kind: str, form: str) -> bool:
    """Role gate of ``check_may_submit``; False when staff (no station checks needed)."""
    require(user, SUBMITTERS)
    if user.role in STAFF:
        return False
    if user.role == Role.camera_watcher and not (
        kind == Kind.incident and form in CAMERA_CATEGORIES
    ):
        raise Forbidden("Camera watchers file camera incidents only")
    return True


def _assigned(user: m.User, station_id):
    return (
        select(m.Assignment.id)
        .where(m.Assignment.user_id == user.id, m.Assignment.station_id == station_id)
        .exists()
    )


def _accredited_for(user: m.User, election_id):
    return (
        select(m.Accreditation.id)
        .where(
            m.Accreditation.user_id == user.id,
            m.Accreditation.election_id == election_id,
            m.Accreditation.status == m.AccreditationStatus.accredited,
        )
        .exists()
    )


def _decide(user: m.User, is_assigned: bool, is_accredited: bool) -> None:
    if user.role == Role.observer and not is_assigned:
        raise Forbidden("Station not assigned to you")
    if not is_accredited:
        raise Forbidden("Observer not accredited")


_SUBMISSION_CONTEXT = select(  # built once, like _USER_BY_TOKEN
    m.Station,
    select(m.Submission.id)
    .where(m.Submission.client_id == bindparam("client_id"))
    .scalar_subquery(),
    select(m.Assignment.id)
    .where(m.Assignment.user_id == bindparam("user_id"), m.Assignment.station_id == m.Station.id)
    .exists(),
    select(m.Accreditation.id)
    .where(
        m.Accreditation.user_id == bindparam("user_id"),
        m.Accreditation.election_id == m.Station.election_id,
        m.Accreditation.status == m.AccreditationStatus.accredited,
    )
    .exists(),
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
        raise NotFound("Station not found")
    station, _, is_assigned, is_accredited = row
    if _needs_station_checks(user, kind, form):
        _decide(user, is_assigned, is_accredited)
    return None, station


# ---- submissions ------------------------------------------------------------------------------


def clean_checklist(
    form_name: str, answers: dict, registered: int
) -> tuple[dict, bool, list[dict]]:
    form = forms().get(form_name)
    if form is None:
        raise Invalid(
            [
                invalid(
                    ["body", "form"],
                    f"unknown checklist {form_name!r}; expected one of {sorted(forms())}",
                )
            ]
        )
    clean, errors = {}, []
    for key, raw in answers.items():
        q = form.question(str(key))
        if q is None:
            errors.append(invalid(["body", "answers", key], f"unknown question {key!r}"))
            continue
        try:
            clean[q.id] = q.parse_value(raw)
        except ValueError as exc:
            errors.append(invalid(["body", "answers", key], f"{exc}, got {raw!r}"))
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
            errors.append(invalid(["body", "numbers", k], f"unknown protocol line {k!r}"))
    for k in votes:
        if known and k not in known:
            errors.append(invalid(["body", "votes", k], f"unknown candidate {k!r}"))
    for part, d in (("numbers", numbers), ("votes", votes)):
        for k, v in d.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                errors.append(
                    invalid(["body", part, k], f"expected a non-negative whole number, got {v!r}")
                )
    if errors:
        raise Invalid(errors)
    return {"numbers": numbers, "votes": votes}, protocol_flags(numbers, votes, registered)


def clean_incident(category: str, severity: str) -> None:
    errors = []
    if category not in CATEGORIES:
        errors.append(invalid(["body", "category"], f"unknown category {category!r}"))
    if severity not in SEVERITIES:
        errors.append(
            invalid(["body", "severity"], f"severity {severity!r} is not one of {list(SEVERITIES)}")
        )
    if errors:
        raise Invalid(errors)


def existing_by_client_id(session: Session, user: m.User, client_id: str) -> m.Submission | None:
    row = session.scalar(select(m.Submission).where(m.Submission.client_id == client_id))
    if row is not None and row.observer_id != user.id:
        raise Conflict("client_id already used by another user")
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


def attach_media(
    session: Session, user: m.User, sub: m.Submission, media_ids: Iterable[int]
) -> None:
    for mid in media_ids:
        media = session.get(m.Media, mid)
        if media is None or media.uploader_id != user.id:
            raise Invalid([invalid(["body", "media_ids"], f"media {mid} not found")])
        if media.submission_id not in (None, sub.id):
            raise Invalid(
                [invalid(["body", "media_ids"], f"media {mid} belongs to another submission")]
            )
        if media.submission_id is None:
            media.submission_id = sub.id
            audit.record(session, user.id, "attach", media)


def visible_submissions(session: Session, user: m.User):
    q = select(m.Submission)
    if user.role not in READ_ALL:
        require(user, SUBMITTERS)
        q = q.where(m.Submission.observer_id == user.id)
    return q


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
        raise NotFound("Submission not found")
    return sub


def update_submission(
    session: Session, user: m.User, sub: m.Submission, changes: dict
) -> m.Submission:
    if sub.observer_id != user.id:
        raise Forbidden("Only the author may edit a submission")
    if sub.status in (Verification.verified, Verification.rejected):
        raise Conflict("Submission already reviewed")
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
                    f"status {status!r} is not one of {list(Verification.__members__)}",
                )
            ]
        )
    if status == Verification.rejected and not reason.strip():
        raise Invalid([invalid(["body", "reason"], "a reason is required to reject")])
    sub = get_submission(session, reviewer, sub_id)
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
    sub.quarantined, sub.reviewer_id, sub.review_reason, sub.updated_at = (
        on,
        reviewer.id,
        reason,
        utcnow(),
    )
    audit.record(session, reviewer.id, "quarantine", sub)
    return sub


# ---- media ------------------------------------------------------------------------------------


def store_media(
    session: Session,
    store: MediaStore,
    user: m.User,
    client_id: str,
    data: bytes,
    content_type: str,
) -> tuple[m.Media, bool]:
    require(user, SUBMITTERS)
    prior = session.scalar(select(m.Media).where(m.Media.client_id == client_id))
    if prior is not None:
        if prior.uploader_id != user.id:
            raise Conflict("client_id already used by another user")
        return prior, False
    if not data:
        raise Invalid([invalid(["body", "file"], "the file is empty")])
    original = store.put(data)
    published = None
    if content_type.startswith("image/"):
        try:
            derivative, _ = strip_metadata(data)
        except ValueError as exc:
            raise Invalid([invalid(["body", "file"], str(exc))]) from None
        published = store.put(derivative)
    media = m.Media(
        client_id=client_id,
        sha256=original,
        published_sha256=published,
        content_type=content_type,
        size=len(data),
        uploader_id=user.id,
    )
    session.add(media)
    audit.record(session, user.id, "create", media)
    return media, True


def get_media(session: Session, user: m.User, media_id: int) -> m.Media:
    media = session.get(m.Media, media_id)
    if media is None or (user.role not in READ_ALL and media.uploader_id != user.id):
        raise NotFound("Media not found")
    return media


# ---- roster and reconciliation ----------------------------------------------------------------


def roster(session: Session, user: m.User, election_id: int, level: str | None = None) -> dict:
    """Expected checklists (assigned stations × forms): complete / partial / missing.

    A station counts as *complete* for a form when some non-rejected submission answers every
    required question, *partial* when submissions exist but none is complete.
    """
    require(user, READ_ALL)
    election = get_election(session, election_id)
    if level is not None and level not in election.hierarchy:
        raise Invalid(
            [invalid(["query", "level"], f"level {level!r} is not one of {election.hierarchy}")]
        )
    stations = session.execute(
        select(m.Station.id, m.Station.code, m.Station.levels).where(
            m.Station.election_id == election_id, m.Station.id.in_(select(m.Assignment.station_id))
        )
    ).all()
    subs = session.execute(
        select(
            m.Submission.station_id,
            m.Submission.form,
            func.max(m.Submission.complete.cast(Integer)),
        )
        .where(m.Submission.kind == Kind.checklist, m.Submission.status != Verification.rejected)
        .group_by(m.Submission.station_id, m.Submission.form)
    ).all()
    best = {(sid, form): bool(c) for sid, form, c in subs}
    per_station, groups = [], {}
    for sid, code, levels in sorted(stations, key=lambda r: r[1]):
        status = {
            f: ("complete" if best.get((sid, f)) else "partial" if (sid, f) in best else "missing")
            for f in forms()
        }
        per_station.append({"station_id": sid, "code": code, "levels": levels, "forms": status})
        key = levels.get(level, "") if level else "all"
        g = groups.setdefault(
            key, {f: {"complete": 0, "partial": 0, "missing": 0} for f in forms()}
        )
        for f, s in status.items():
            g[f][s] += 1
    return {
        "election_id": election_id,
        "level": level,
        "stations": per_station,
        "groups": [{"label": k, "forms": v} for k, v in sorted(groups.items())],
    }


def reconciled_protocol(session: Session, user: m.User, station_id: int) -> dict:
    from pollwatch.service.reconcile import reconcile

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
