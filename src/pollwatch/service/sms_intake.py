"""Turn a parsed SMS into a stored submission, or a localised reply naming the problem.

The sender may file what the API would let them file: ``permissions.check_submit_at``, the
rule of every submission, with its refusals worded as SMS problems.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.service import crud, permissions, privacy
from pollwatch.service import models as m
from pollwatch.service.errors import Forbidden
from pollwatch.service.forms import forms
from pollwatch.service.models import Kind, utcnow
from pollwatch.service.permissions import FIELD_ROLES
from pollwatch.service.rules import checklist_flags
from pollwatch.service.sms import ParsedSms, SmsProblem, message, parse_sms


def _script_lang(text: str) -> str:
    return "ru" if any("\u0400" <= ch <= "\u04ff" for ch in text) else "en"


def handle_sms(
    session: Session, sender: str, text: str, message_id: str | None = None
) -> tuple[bool, str]:
    """Store the message's submission if it is valid; returns ``(ok, reply)``. Caller commits.

    The client id is an HMAC, under the service's secret, of sender, text and the gateway's
    ``message_id`` (``privacy.sms_client_id``), so a gateway that delivers the same message
    twice stores it once, and nobody can test a phone number against a client id in a bundle.
    """
    text = (text or "").replace("\x00", "")  # PostgreSQL text cannot hold NUL
    parsed = parse_sms(text)
    lang = _script_lang(text or "")
    user = None
    if isinstance(parsed, SmsProblem) and parsed.observer is not None:
        known = session.get(m.User, parsed.observer)
        lang = known.language if known is not None else lang
    if isinstance(parsed, ParsedSms):
        user = session.get(m.User, parsed.observer)
        if user is None or user.role not in FIELD_ROLES or not user.active:
            parsed, user = SmsProblem("unknown_observer", {"observer": parsed.observer}), None
        else:
            lang = user.language
    if isinstance(parsed, ParsedSms):
        outcome = _store(session, user, sender, text, parsed, message_id)
        parsed = outcome if isinstance(outcome, SmsProblem) else parsed
    ok = isinstance(parsed, ParsedSms)
    if ok:
        reply = message(
            "ok",
            lang,
            code=parsed.form_code,
            observer=parsed.observer,
            station=outcome.station.code,
        )
        if parsed.missing:
            reply += message("missing", lang, tags=", ".join(parsed.missing))
    else:
        reply = parsed.reply(lang)
    # encrypted, and put into the audit chain by its keyed commitments (``crud.sms_log``)
    crud.log_sms(
        session, sender, text, reply=reply, ok=ok, submission_id=outcome.id if ok else None
    )
    return ok, reply


def _store(
    session: Session,
    user: m.User,
    sender: str,
    text: str,
    p: ParsedSms,
    message_id: str | None = None,
) -> m.Submission | SmsProblem:
    stations = session.scalars(
        select(m.Station)
        .join(m.Assignment, m.Assignment.station_id == m.Station.id)
        .where(m.Assignment.user_id == user.id)
    ).all()
    if p.station is not None:
        match = [s for s in stations if s.code.upper() == p.station.upper()]
        if not match:
            return SmsProblem("unknown_station", {"station": p.station, "observer": p.observer})
        station = match[0]
    elif len(stations) == 1:
        station = stations[0]
    else:
        return SmsProblem("no_station", {"n": len(stations)})
    kind, form = (Kind.checklist, p.form) if p.form is not None else (Kind.incident, p.category)
    try:
        permissions.check_submit_at(session, user, station, kind, form)
    except Forbidden as exc:
        return _refusal(getattr(exc, "reason", ""), p)
    client_id = privacy.sms_client_id(session.info["pseudonym_secret"], sender, text, message_id)
    if p.form is not None:
        sub = m.Submission(
            client_id=client_id,
            kind=Kind.checklist,
            form=p.form,
            channel="sms",
            station_id=station.id,
            observer_id=user.id,
            answers=p.answers,
            complete=not p.missing,
            flags=checklist_flags(forms()[p.form], p.answers, station.registered),
        )
    else:
        sub = m.Submission(
            client_id=client_id,
            kind=Kind.incident,
            form=p.category,
            channel="sms",
            station_id=station.id,
            observer_id=user.id,
            severity=p.severity,
            occurred_at=utcnow(),
            description=p.comment,
        )
    row, _ = crud.create_submission(session, user, sub)
    return row


def _refusal(reason: str, p: ParsedSms) -> SmsProblem:
    """The SMS reply to a refusal of ``permissions`` (its ``reason``)."""
    if reason == "camera_only":  # camera watchers file camera incidents only
        if p.form is not None:
            return SmsProblem("unknown_form", {"code": p.form_code, "known": "IN"})
        return SmsProblem("unknown_category", {"tag": p.category, "known": "CM CT CC CF"})
    if reason == "not_assigned":  # the station was found among the sender's assigned ones
        return SmsProblem("unknown_station", {"station": p.station, "observer": p.observer})
    if reason == "not_accredited":
        return SmsProblem("not_accredited", {"observer": p.observer})
    return SmsProblem("unknown_observer", {"observer": p.observer})  # a role that does not file
