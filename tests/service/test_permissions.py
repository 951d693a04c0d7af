"""The permission rule is one: ``service.permissions``.

A table of the rule over roles × what the database says about the station, and then the same
grid of (user, station, kind) asked of every caller that applies it: ``crud.check_may_submit``
(the pages), ``crud.submission_context`` (the API with media), the group-commit writer (its
SQLite path, and on PostgreSQL its raw SQL compiled from ``permissions.grants``) and the SMS
intake. They must all say the same thing. Last, the ORM hooks belong to the app's sessions only.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from pollwatch.service import audit, crud, permissions
from pollwatch.service import models as m
from pollwatch.service.errors import Forbidden, NotFound
from pollwatch.service.models import Kind, Role
from pollwatch.service.throughput import tokens
from pollwatch.service.throughput.writer import Draft, write_batch

NOT_ASSIGNED = "Station not assigned to you"
NOT_ACCREDITED = "Observer not accredited"
CAMERA_ONLY = "Camera watchers file camera incidents only"
NO_ROLE = "Not enough permissions"
WHAT = {  # kind, form
    "checklist": (Kind.checklist, "opening"),
    "incident": (Kind.incident, "carousel"),
    "camera incident": (Kind.incident, "camera_offline"),
}


def expected(role: str, what: str, is_assigned: bool, is_accredited: bool) -> str | None:
    """The rule written out as a table, case by case (None: allowed)."""
    if role in ("analyst", "public", "transcriber"):  # transcribers type photos only
        return NO_ROLE
    if role in ("admin", "coordinator"):
        return None
    if role == "camera_watcher" and what != "camera incident":
        return CAMERA_ONLY
    if not is_assigned:  # camera watchers too, for camera incidents (issue 18 item 8)
        return NOT_ASSIGNED
    return None if is_accredited else NOT_ACCREDITED


def outcome(call) -> str | None:
    try:
        call()
    except Forbidden as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("what", list(WHAT))
def test_the_rule_over_roles_and_stations(role, what):
    kind, form = WHAT[what]
    user = m.User(id=1, role=role)
    for is_assigned, is_accredited in itertools.product((False, True), repeat=2):
        got = outcome(
            lambda a=is_assigned, c=is_accredited: permissions.check_submit(user, kind, form, a, c)
        )
        assert got == expected(role, what, is_assigned, is_accredited), (
            role,
            what,
            is_assigned,
            is_accredited,
        )


def test_camera_filings_need_assignment_and_accreditation():
    watcher = m.User(id=1, role=Role.camera_watcher)
    for is_assigned, is_accredited in itertools.product((False, True), repeat=2):
        got = outcome(
            lambda a=is_assigned, c=is_accredited: permissions.decide(watcher, a, c, camera=True)
        )
        want = (
            NOT_ASSIGNED
            if not is_assigned
            else None
            if is_accredited
            else "Camera watcher not accredited"
        )
        assert got == want
    assert permissions.camera_station_checks(watcher)
    for role in (Role.admin, Role.coordinator):
        assert not permissions.camera_station_checks(m.User(id=1, role=role))
    for role in (Role.observer, Role.analyst, Role.public):
        with pytest.raises(Forbidden):
            permissions.camera_station_checks(m.User(id=1, role=role))


@pytest.mark.parametrize("actor", [r.value for r in Role])
def test_who_creates_which_users(actor):
    for role in Role:
        got = outcome(lambda r=role: permissions.check_create_user(m.User(id=1, role=actor), r))
        allowed = actor == "admin" or (
            actor == "coordinator" and role in ("observer", "camera_watcher", "transcriber")
        )
        assert got == (None if allowed else NO_ROLE), (actor, role)


# ---- every caller of the rule says the same -----------------------------------------------------


def _grid_users(ctx) -> dict[str, m.User]:
    """The fixture's users, plus an observer assigned to station 0 whose accreditation is only
    requested, and a camera watcher assigned to station 2 (the fixture's has no station)."""
    with ctx.session() as s:
        admin = s.get(m.User, ctx.users["admin"])
        pending = crud.create_user(
            s, admin, username="pending", password="p", role="observer", phone="+994500000008"
        )
        cam2 = crud.create_user(
            s, admin, username="cam2", password="p", role="camera_watcher", phone="+994500000009"
        )
        s.flush()
        crud.request_accreditation(s, pending, ctx.election_id, "CEC")
        acc = crud.request_accreditation(s, cam2, ctx.election_id, "CEC")
        crud.decide_accreditation(s, admin, acc.id, "accredited", None, None)
        crud.assign(s, admin, pending.id, ctx.stations[0])
        crud.assign(s, admin, cam2.id, ctx.stations[2])
        s.commit()
        names = [*ctx.users, "pending", "cam2"]
        ids = {**ctx.users, "pending": pending.id, "cam2": cam2.id}
        return {n: s.get(m.User, ids[n]) for n in names}


def _draft(user: m.User, station: int, kind: str, form: str) -> Draft:
    def fields(st: m.Station) -> dict:
        if kind == Kind.checklist:
            return {"answers": {}, "complete": False, "flags": []}
        return {"severity": "low", "occurred_at": dt.datetime(2026, 3, 1, 12), "description": ""}

    return Draft(user, str(uuid.uuid4()), station, kind, form, fields)


def test_every_caller_applies_the_same_rule(ctx):
    users = _grid_users(ctx)
    grid = [
        (name, station, what)
        for name in users
        for station in [*ctx.stations, 10**6]
        for what in WHAT
    ]
    by_crud, by_context, drafts = {}, {}, []
    with ctx.session() as s:
        for name, station, what in grid:
            kind, form = WHAT[what]
            user = s.get(m.User, users[name].id)
            st = s.get(m.Station, station)
            if st is not None:
                by_crud[name, station, what] = outcome(
                    lambda u=user, st=st, k=kind, f=form: crud.check_may_submit(s, u, st, k, f)
                )
            try:
                by_context[name, station, what] = outcome(
                    lambda u=user, st=station, k=kind, f=form: crud.submission_context(
                        s, u, str(uuid.uuid4()), st, k, f
                    )
                )
            except NotFound:
                by_context[name, station, what] = "not found"
            drafts.append(_draft(users[name], station, kind, form))
        s.rollback()
    out = write_batch(ctx.app.state.sessions, drafts)
    by_writer = {}
    for key, o in zip(grid, out, strict=True):
        if isinstance(o, NotFound):
            by_writer[key] = "not found"
        elif isinstance(o, Exception):
            assert isinstance(o, Forbidden), o
            by_writer[key] = str(o)
        else:
            assert o[1] is True  # stored
            by_writer[key] = None
    assert by_context == by_writer
    assert by_crud == {k: v for k, v in by_writer.items() if k[1] != 10**6}
    # and all of them say what the table says
    with ctx.session() as s:
        assigned = {
            (a.user_id, a.station_id) for a in s.scalars(select(m.Assignment))
        }  # every accreditation in the fixture is for its one election
        accredited = {
            c.user_id
            for c in s.scalars(select(m.Accreditation))
            if c.status == m.AccreditationStatus.accredited
        }
    for (name, station, what), got in by_writer.items():
        if station == 10**6:
            assert got == "not found"
            continue
        u = users[name]
        want = expected(u.role, what, (u.id, station) in assigned, u.id in accredited)
        assert got == want, (name, station, what)


def test_sms_intake_applies_the_rule(ctx):
    """The sender of an SMS is refused as the API would refuse them, in the reply's words."""
    users = _grid_users(ctx)

    def send(text: str, who: str) -> dict:
        with ctx.session() as s:  # phones are sealed at rest: read through crud
            phone = crud.personal_data(s, s.get(m.User, users[who].id))["phone"]
        return ctx.client.post(
            "/api/sms/webhook",
            headers={"X-Pollwatch-Secret": "s3cret"},
            data={"sender": phone, "text": text},
        ).json()

    r = send(f"IN{users['pending'].id} CR S3 @bus", "pending")  # accreditation requested
    assert not r["ok"] and "not accredited" in r["reply"]
    r = send(f"OP{users['cam2'].id} A0715 B1 C1 D900 F0800", "cam2")  # camera incidents only
    assert not r["ok"] and "Unknown form code 'OP'" in r["reply"]
    r = send(f"IN{users['cam2'].id} CR S3 @bus", "cam2")
    assert not r["ok"] and "Unknown incident category" in r["reply"]
    r = send(f"IN{users['observer2'].id} CR S3 @bus", "observer2")
    assert r["ok"], r


# ---- the hooks are the app's ------------------------------------------------------------------


def test_hooks_fire_on_the_apps_sessions_only(ctx):
    """The audit hook (and the token cache's) is registered on the app's sessionmaker: a plain
    ``Session`` on the same engine neither fires it nor may take the audit lock."""
    sessions = ctx.app.state.sessions
    assert event.contains(sessions, "after_transaction_end", audit.unlocked)
    assert not event.contains(Session, "after_transaction_end", audit.unlocked)
    assert event.contains(sessions, "after_flush", tokens.notify_auth_changes)
    assert not event.contains(Session, "after_flush", tokens.notify_auth_changes)

    with Session(ctx.app.state.engine) as plain:
        plain.info["audit_locked"] = True
        plain.execute(select(1))
        plain.commit()
        assert plain.info["audit_locked"]  # nothing fired at the end of the transaction
        with pytest.raises(RuntimeError, match="session_factory"):
            audit.lock(plain)

    with sessions() as s:
        s.info["audit_locked"] = True
        s.execute(select(1))
        s.commit()
        assert "audit_locked" not in s.info  # the app's hook forgot the lock
