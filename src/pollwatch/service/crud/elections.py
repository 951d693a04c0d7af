"""Elections, and the roster of expected checklists per station."""

from __future__ import annotations

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service.errors import Invalid, NotFound, invalid
from pollwatch.service.forms import forms
from pollwatch.service.models import Kind, Verification
from pollwatch.service.permissions import READ_ALL, require


def get_election(session: Session, election_id: int) -> m.Election:
    e = session.get(m.Election, election_id)
    if e is None:
        raise NotFound(N_("Election not found"))
    return e


def roster(session: Session, user: m.User, election_id: int, level: str | None = None) -> dict:
    """Expected checklists (assigned stations × forms): complete / partial / missing.

    A station counts as *complete* for a form when some non-rejected submission answers every
    required question, *partial* when submissions exist but none is complete.
    """
    require(user, READ_ALL)
    election = get_election(session, election_id)
    if level is not None and level not in election.hierarchy:
        raise Invalid(
            [
                invalid(
                    ["query", "level"],
                    N_("level {level} is not one of {choices}"),
                    level=repr(level),
                    choices=str(election.hierarchy),
                )
            ]
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
