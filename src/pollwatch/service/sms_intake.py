"""Turn a parsed SMS into a stored submission, or a localised reply naming the problem.

Identity (issue 18): the sender's number must be the phone registered for an active observer
or camera watcher, found by its keyed blind index (``crud.find_observer_by_phone``: the number
normalised by ``privacy.normalise_phone``, the one normaliser, and HMAC'd; no plaintext number
is stored or compared), and the id typed in the message must be that user's. Any other sender
gets one reply, ``not_accepted``, whatever the message says: the same text whether the id typed
exists or not and whatever stations it holds. Each registered sender may send
``sms_rate_limit`` messages per window (counted under the number's blind index), all
unregistered senders together ``sms_unregistered_limit``; beyond, ``SmsRateLimited`` (429) and
nothing is stored.

The sender may file what the API would let them file: ``permissions.check_submit_at``, the
rule of every submission, with its refusals worded as SMS problems. The reply text is made in
one place, ``reply_text``. The message is logged sealed (``crud.log_sms``).

A results message (``R…``, issue 19) becomes a protocol copy (channel ``sms``, votes keyed by
candidate name as the web form keys them), checked by the web form's rules
(``rules.protocol_flags``) and stored even when they flag it (a flag never blocks, as on the
web); the reply echoes the numbers and, when flagged, says in plain words what does not add up.
"""

from __future__ import annotations

import re
import time

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import crud, permissions, privacy
from pollwatch.service import models as m
from pollwatch.service.config import Settings
from pollwatch.service.errors import Forbidden, ServiceError
from pollwatch.service.forms import forms
from pollwatch.service.models import Kind, utcnow
from pollwatch.service.permissions import FIELD_ROLES
from pollwatch.service.privacy import PHONE_MAX, normalise_phone
from pollwatch.service.rules import ballots_flags, checklist_flags, protocol_flags
from pollwatch.service.sms import (
    ParsedResults,
    ParsedSms,
    Results,
    SmsProblem,
    message,
    parse_sms,
    read_results,
)

Parsed = ParsedSms | ParsedResults

UNREGISTERED = "unregistered"  # the rate-limit bucket of every sender without a registration
_SURROGATE = re.compile("[\ud800-\udfff]")
TEXT_MAX = 2000  # characters of a message kept in sms_messages


class SmsRateLimited(ServiceError):
    """Too many messages from this sender (or from unregistered senders) in this window."""

    status = 429


def _script_lang(text: str) -> str:
    return "ru" if any("\u0400" <= ch <= "\u04ff" for ch in text) else "en"


def clean_text(text: str) -> str:
    """A gateway's text as it can be stored on both databases: NUL dropped (PostgreSQL text
    cannot hold it), lone surrogates replaced by U+FFFD (they cannot be encoded)."""
    return _SURROGATE.sub("\ufffd", (text or "").replace("\x00", ""))


def registered_user(session: Session, phone: str | None) -> m.User | None:
    """The active observer or camera watcher registered with ``phone``, found by the number's
    blind index (``crud.find_observer_by_phone``)."""
    if phone is None:
        return None
    user = crud.find_observer_by_phone(session, phone)
    if user is None or not user.active or user.role not in FIELD_ROLES:
        return None
    return user


def count_message(session: Session, key: str, limit: int, window: int, now: float) -> int:
    """Count one message against ``key`` (a registered number's blind index, or the
    ``UNREGISTERED`` bucket: never a number in the clear) in the current window (an upsert, so
    concurrent workers share the count); ``SmsRateLimited`` beyond ``limit``. The key's older
    windows are deleted when a new one starts."""
    slot = int(now // max(window, 1))
    table = m.SmsRate.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(key=key, slot=slot, count=1)
        .on_conflict_do_update(index_elements=["key", "slot"], set_={"count": table.c.count + 1})
        .returning(table.c.count)
    )
    n = session.execute(stmt).scalar_one()
    if n == 1:
        session.execute(delete(table).where(table.c.key == key, table.c.slot < slot))
    if n > limit:
        raise SmsRateLimited(N_("Too many messages"))
    return n


def handle_sms(
    session: Session,
    sender: str,
    text: str,
    message_id: str | None = None,
    settings: Settings | None = None,
) -> tuple[bool, str]:
    """Store the message's submission if it is valid; returns ``(ok, reply)``. Caller commits
    (also when ``SmsRateLimited`` is raised: the count is a write).

    The client id is an HMAC, under the service's secret, of the normalised sender, text and
    the gateway's ``message_id`` (``privacy.sms_client_id``), so a gateway that delivers the
    same message twice stores it once, and nobody can test a phone number against a client id
    in a bundle.
    """
    settings = settings or Settings(_env_file=None)
    text, sender = clean_text(text), clean_text(sender)[:PHONE_MAX]
    phone = normalise_phone(sender)
    user = registered_user(session, phone)
    now = time.time()
    if user is None:
        count_message(
            session, UNREGISTERED, settings.sms_unregistered_limit, settings.sms_rate_window, now
        )
        parsed: Parsed | SmsProblem = SmsProblem("not_accepted")
        lang = _script_lang(text)
    else:
        key = user.phone_index  # the sender's blind index: the user was found by it
        assert key is not None and phone is not None
        count_message(session, key, settings.sms_rate_limit, settings.sms_rate_window, now)
        parsed, lang = parse_sms(text), user.language
        if isinstance(parsed, Parsed) and parsed.observer != user.id:
            parsed = SmsProblem("wrong_id", {"observer": parsed.observer})
    outcome = None
    if isinstance(parsed, Parsed):
        assert user is not None and phone is not None  # a stranger's message is never parsed
        outcome = _store(session, user, phone, text, parsed, message_id)
        parsed = outcome if isinstance(outcome, SmsProblem) else parsed
    ok = isinstance(parsed, Parsed)
    reply = reply_text(parsed, None if isinstance(outcome, SmsProblem) else outcome, lang)
    # encrypted, and put into the audit chain by its keyed commitments (``crud.sms_log``)
    crud.log_sms(
        session,
        phone or sender,
        text[:TEXT_MAX],
        reply=reply,
        ok=ok,
        submission_id=outcome.id if ok else None,
    )
    return ok, reply


def reply_text(parsed: Parsed | SmsProblem, stored: m.Submission | None, lang: str) -> str:
    """The one place where a reply is worded: the problem, or the receipt of ``stored``."""
    if isinstance(parsed, SmsProblem):
        return parsed.reply(lang)
    assert stored is not None
    if isinstance(parsed, ParsedResults):
        return results_reply(stored, lang)
    reply = message(
        "ok", lang, code=parsed.form_code, observer=parsed.observer, station=stored.station.code
    )
    if parsed.missing:
        reply += message("missing", lang, tags=", ".join(parsed.missing))
    return reply


# the rules a results copy can break, in the order the reply names them
RESULT_RULES = (
    "votes_ne_valid",
    "boxes_lt_valid",
    "cast_exceed_registered",
    "votes_exceed_registered",
)


def results_reply(stored: m.Submission, lang: str) -> str:
    """The reply to a stored results copy: its numbers echoed in ballot order (the observer
    compares them with the protocol) and, if the web form's rules flagged it, what is wrong."""
    sms = stored.answers.get("sms", {})
    votes = stored.answers.get("votes", {})
    station = stored.station.code
    rules = {f["rule"] for f in stored.flags}
    params = {
        "ballots": sms.get("ballots"),
        "total": sms.get("total"),
        "sum": sum(votes.values()),
        "registered": stored.station.registered,
    }
    problems = [message(f"rule_{r}", lang, **params) for r in RESULT_RULES if r in rules]
    if problems:
        return message("results_flagged", lang, station=station, problems="; ".join(problems))
    echoed = " ".join(f"{i}:{v}" for i, v in enumerate(votes.values(), start=1))
    return message(
        "results_ok", lang, station=station, ballots=params["ballots"], votes=echoed,
        total=params["total"],
    )  # fmt: skip


def _results_copy(
    session: Session, station: m.Station, p: ParsedResults
) -> tuple[dict, list[dict]] | SmsProblem:
    """The protocol copy (answers, flags) of a results message at ``station``, or the problem
    naming the field that is wrong."""
    election = crud.get_election(session, station.election_id)
    read = read_results(p, [c["name"] for c in election.candidates])
    if isinstance(read, SmsProblem):
        return read
    assert isinstance(read, Results)
    numbers = read.numbers()
    flags = protocol_flags(numbers, read.votes, station.registered)
    flags += ballots_flags(read.ballots, read.total)
    # the message's own fields, so the reply (and a retry's) can echo them as typed
    answers = {
        "numbers": numbers,
        "votes": read.votes,
        "sms": {"ballots": read.ballots, "total": read.total},
    }
    return answers, flags


def _store(
    session: Session,
    user: m.User,
    sender: str,
    text: str,
    p: Parsed,
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
    if isinstance(p, ParsedResults):
        kind, form = Kind.protocol, "protocol"
    elif p.form is not None:
        kind, form = Kind.checklist, p.form
    else:
        kind, form = Kind.incident, p.category
    try:
        permissions.check_submit_at(session, user, station, kind, form)
    except Forbidden as exc:
        return _refusal(getattr(exc, "reason", ""), p)
    client_id = privacy.sms_client_id(session.info["pseudonym_secret"], sender, text, message_id)
    if isinstance(p, ParsedResults):
        copy = _results_copy(session, station, p)
        if isinstance(copy, SmsProblem):
            return copy
        answers, flags = copy
        sub = m.Submission(
            client_id=client_id,
            kind=Kind.protocol,
            form="protocol",
            channel="sms",
            station_id=station.id,
            observer_id=user.id,
            answers=answers,
            flags=flags,
        )
    elif p.form is not None:
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


def _refusal(reason: str, p: Parsed) -> SmsProblem:
    """The SMS reply to a refusal of ``permissions`` (its ``reason``)."""
    if reason == "camera_only":  # camera watchers file camera incidents only
        if isinstance(p, ParsedResults) or p.form is not None:
            return SmsProblem("unknown_form", {"code": p.form_code, "known": "IN"})
        return SmsProblem("unknown_category", {"tag": p.category, "known": "CM CT CC CF"})
    if reason == "not_assigned":  # the station was found among the sender's assigned ones
        return SmsProblem("unknown_station", {"station": p.station, "observer": p.observer})
    if reason == "not_accredited":
        return SmsProblem("not_accredited", {"observer": p.observer})
    return SmsProblem("unknown_observer", {"observer": p.observer})  # a role that does not file
