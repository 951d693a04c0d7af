"""Camera watchers' filings: voters counted per time window and the camera-status log.

Plain functions over a Session, like the rest of ``crud``: the API (``api/routes/watchers.py``),
the phone page (``pages/watch.py``) and the demo loader enforce the same rules through them. Every create is stored once per
``client_id`` and appended to the audit chain in the same transaction; callers commit.

Who may do what (``permissions``, ``camera=True``): camera watchers file for the stations
assigned to them (and must be accredited for the election) and see only their own filings;
admins and coordinators may file anywhere; admins, coordinators and analysts read everything;
observers and the public may not.
The vocabulary of statuses and events is :mod:`pollwatch.cameras.data`'s, so what is filed
here reads straight into the estimator (:mod:`pollwatch.service.sources.cameras`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pollwatch.cameras.data import EVENT_KINDS, STATUSES
from pollwatch.cameras.doublecount import DoubleCountPlan, WatchedWindow, plan_double_counts
from pollwatch.i18n import N_
from pollwatch.service import audit, permissions
from pollwatch.service import models as m
from pollwatch.service.crud.stations import get_station
from pollwatch.service.errors import Conflict, Invalid, NotFound, invalid
from pollwatch.service.permissions import CAMERA_FILERS, CAMERA_READERS, require

LOG_KINDS = ("status", "event")
MAX_WINDOW = dt.timedelta(hours=4)  # a tally covers a short window, not the day


def _naive(t: dt.datetime) -> dt.datetime:
    # the station's wall clock is what the day profile is about: an offset is dropped, not applied
    return t.replace(tzinfo=None)


def check_may_file(session: Session, user: m.User, station: m.Station) -> None:
    """Forbidden unless ``user`` may file camera data at ``station``."""
    permissions.check_camera_at(session, user, station)


def clean_tally(
    window_start: dt.datetime,
    window_end: dt.datetime,
    count: int | None,
    usable: bool | None,
    reason: str = "",
) -> dict:
    """Checked column values of a tally; ``usable`` defaults to "a count was given"."""
    start, end = _naive(window_start), _naive(window_end)
    errors = []
    if end <= start:
        errors.append(invalid(["body", "window_end"], N_("the window must end after it starts")))
    elif end - start > MAX_WINDOW:
        errors.append(invalid(["body", "window_end"], N_("a window is at most 4 hours long")))
    if count is not None and (isinstance(count, bool) or count < 0):
        errors.append(
            invalid(
                ["body", "count"],
                N_("expected a non-negative whole number, got {value}"),
                value=repr(count),
            )
        )
    if usable is None:
        usable = count is not None
    if usable and count is None:
        errors.append(
            invalid(["body", "count"], N_("a usable window needs a count (or usable=false)"))
        )
    if errors:
        raise Invalid(errors)
    return {
        "window_start": start,
        "window_end": end,
        "count": count,
        "usable": bool(usable),
        "reason": reason.strip()[:500],
    }


def clean_log(kind: str, value: str, at: dt.datetime, note: str = "") -> dict:
    """Checked column values of a status change (``STATUSES``) or an event (``EVENT_KINDS``)."""
    v = value.strip().lower().replace(" ", "_").replace("-", "_")
    allowed = {"status": STATUSES, "event": EVENT_KINDS}.get(kind)
    if allowed is None:
        raise Invalid(
            [
                invalid(
                    ["body", "kind"],
                    N_("kind {kind} is not one of {choices}"),
                    kind=repr(kind),
                    choices=str(list(LOG_KINDS)),
                )
            ]
        )
    if v not in allowed:
        raise Invalid(
            [
                invalid(
                    ["body", "value"],
                    N_("{kind} {value} is not one of {choices}"),
                    kind=kind,
                    value=repr(value),
                    choices=str(list(allowed)),
                )
            ]
        )
    return {"kind": kind, "value": v, "at": _naive(at), "note": note.strip()[:2000]}


def _prior(session: Session, user: m.User, model, client_id: str):
    row = session.scalar(select(model).where(model.client_id == client_id))
    if row is not None and row.watcher_id != user.id:
        raise Conflict(N_("client_id already used by another user"))
    return row


def create(session: Session, user: m.User, row: m.CameraTally | m.CameraLog) -> tuple[object, bool]:
    """Store ``row`` once per ``client_id`` with its audit entry; ``(row, created)``.

    A retry returns the stored row. The station and permission checks run first, so a retry
    by someone who may no longer file is refused like a first attempt.
    """
    station = get_station(session, row.station_id)
    check_may_file(session, user, station)
    return _store(session, user, row)


def _store(session: Session, user: m.User, row: m.CameraTally | m.CameraLog) -> tuple[object, bool]:
    prior = _prior(session, user, type(row), row.client_id)
    if prior is not None:
        return prior, False
    audit.lock(session)  # before the insert, as every other audited write (see crud)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent retry won the race (PostgreSQL)
        prior = _prior(session, user, type(row), row.client_id)
        if prior is None:
            raise
        return prior, False
    audit.record(session, user.id, "create", row)
    return row, True


def create_many(
    session: Session,
    user: m.User,
    model: type[m.CameraTally] | type[m.CameraLog],
    values: Sequence[dict],
) -> int:
    """Bulk filing for loaders (the demo): ``values`` are column dicts (``client_id``,
    ``station_id`` and the cleaned columns of :func:`clean_tally` / :func:`clean_log`), filed as
    ``user``. The rules of :func:`check_may_file` hold for every station (checked in two queries),
    client ids already stored are skipped, and each new row gets its audit entry (chain head read
    once). Returns how many rows were new."""
    station_checks = permissions.camera_station_checks(user)
    wanted = {v["station_id"] for v in values}
    found = dict(
        session.execute(
            select(m.Station.id, m.Station.election_id).where(m.Station.id.in_(wanted))
        ).all()
    )
    if missing := wanted - found.keys():
        raise NotFound(N_("Station not found: {ids}"), ids=str(sorted(missing)[:5]))
    if station_checks:  # the rule over the batch as a whole
        assigned, accredited = permissions.split_grants(
            session.execute(permissions.grants(user.id, permissions.one_of(wanted)))
        )
        permissions.decide(
            user,
            all((user.id, s) in assigned for s in wanted),
            all((user.id, e) in accredited for e in found.values()),
            camera=True,
        )
    audit.lock(session)
    stored = set(
        session.scalars(
            select(model.client_id).where(model.client_id.in_([v["client_id"] for v in values]))
        )
    )
    # a None value is left out, so the column's default applies
    rows = [
        {**{k: x for k, x in v.items() if x is not None}, "watcher_id": user.id}
        for v in values
        if v["client_id"] not in stored
    ]
    if not rows:
        return 0
    # a bulk INSERT ... RETURNING gives the stored rows (ids, defaults) without the unit of work
    new = session.scalars(insert(model).returning(model, sort_by_parameter_order=True), rows).all()
    audit.record_many(session, [(user.id, "create", r) for r in new])
    return len(new)


def _visible(user: m.User, model):
    require(user, CAMERA_READERS)
    return permissions.own_rows(user, select(model), model.watcher_id)


def get(session: Session, user: m.User, model, row_id: int):
    """One row; another watcher's is reported as not found (404), never as forbidden."""
    row = session.scalar(_visible(user, model).where(model.id == row_id))
    if row is None:
        raise NotFound(N_("Not found"))
    return row


def list_rows(
    session: Session,
    user: m.User,
    model,
    station_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list, int]:
    q = _visible(user, model)
    if station_id:
        q = q.where(model.station_id == station_id)
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    order = model.window_start if model is m.CameraTally else model.at
    rows = session.scalars(q.order_by(order, model.id).limit(min(limit, 1000)).offset(offset))
    return list(rows), int(total or 0)


# ---- blind re-counts (the double-counting design, ``pollwatch.cameras.doublecount``) -----------
RECOUNT_CHANNEL = "recount"  # the channel of a tally filed as an assigned blind re-count


def watcher_key(user_id: int) -> str:
    """The watcher id of a user in the design and in exported tallies (``sources.cameras``)."""
    return f"watcher-{user_id}"


def _minutes(t: dt.datetime) -> float:
    return t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60


def recount_seed(election_id: int, seed: str) -> str:
    """The design's seed for one election: the configured secret, else a public default."""
    return f"{seed or 'pollwatch-recount'}:election-{election_id}"


def recount_plan(session: Session, election_id: int, *, share: float, seed: str) -> DoubleCountPlan:
    """The design over everything filed for one election so far.

    Windows are keyed as the exported tallies are (station code, minutes after midnight,
    ``watcher-<id>`` in filing order), so anyone with the export and the published seed can
    recompute the sample. The pool is every active camera watcher accredited for the election
    and assigned to at least one of its stations (they have a watch page to see re-counts on).
    """
    rows = session.execute(
        select(
            m.Station.code,
            m.CameraTally.window_start,
            m.CameraTally.window_end,
            m.CameraTally.watcher_id,
        )
        .join(m.Station, m.Station.id == m.CameraTally.station_id)
        .where(m.Station.election_id == election_id)
        .order_by(m.CameraTally.id)
    ).all()
    counters: dict[tuple[str, float, float], list[str]] = {}
    for code, a, b, wid in rows:
        who = counters.setdefault((code, _minutes(a), _minutes(b)), [])
        if watcher_key(wid) not in who:
            who.append(watcher_key(wid))
    pool = session.scalars(
        select(m.User.id)
        .join(m.Accreditation, m.Accreditation.user_id == m.User.id)
        .where(
            m.User.role == m.Role.camera_watcher,
            m.User.active.is_(True),
            m.Accreditation.election_id == election_id,
            m.Accreditation.status == m.AccreditationStatus.accredited,
            select(m.Assignment.id)
            .join(m.Station, m.Station.id == m.Assignment.station_id)
            .where(m.Assignment.user_id == m.User.id, m.Station.election_id == election_id)
            .exists(),
        )
    ).all()
    return plan_double_counts(
        (WatchedWindow(s, a, b, tuple(w)) for (s, a, b), w in counters.items()),
        [watcher_key(u) for u in pool],
        seed=recount_seed(election_id, seed),
        share=share,
    )


def my_recounts(
    session: Session, user: m.User, election_id: int, *, share: float, seed: str
) -> list[tuple[m.Station, dt.datetime, dt.datetime]]:
    """The blind re-counts assigned to ``user`` and not yet filed: station, window start, end
    (the station's wall clock on election day). Never the first count."""
    if share <= 0 or user.role != m.Role.camera_watcher:  # only camera watchers are in the pool
        return []
    plan = recount_plan(session, election_id, share=share, seed=seed)
    mine = plan.for_counter(watcher_key(user.id))
    if not mine:
        return []
    stations = {
        s.code: s
        for s in session.scalars(
            select(m.Station).where(
                m.Station.election_id == election_id,
                m.Station.code.in_({r.station_id for r in mine}),
            )
        )
    }
    first = session.execute(
        select(m.CameraTally.station_id, m.CameraTally.window_start, m.CameraTally.window_end)
        .where(m.CameraTally.station_id.in_([s.id for s in stations.values()]))
        .order_by(m.CameraTally.id)
    ).all()
    # the window's own datetimes, as first filed (minutes alone would lose the date)
    when: dict[tuple[int, float, float], tuple[dt.datetime, dt.datetime]] = {}
    for sid, a, b in first:
        when.setdefault((sid, _minutes(a), _minutes(b)), (a, b))
    out = []
    for r in mine:
        st = stations[r.station_id]
        a, b = when[(st.id, r.start, r.end)]
        out.append((st, a, b))
    return out


def create_recount(
    session: Session, user: m.User, row: m.CameraTally, *, share: float, seed: str
) -> tuple[object, bool]:
    """Store an assigned blind re-count (channel ``recount``) once per ``client_id``.

    The design, not the station assignment, gives the right to file it: the window must be
    assigned to ``user`` by :func:`recount_plan` (which also makes sure the user is an accredited
    camera watcher who has not counted it). A retry returns the stored row.
    """
    require(user, CAMERA_FILERS)
    station = get_station(session, row.station_id)
    prior = _prior(session, user, m.CameraTally, row.client_id)
    if prior is not None:
        return prior, False
    assigned = share > 0 and any(
        (r.station_id, r.start, r.end)
        == (station.code, _minutes(row.window_start), _minutes(row.window_end))
        for r in recount_plan(session, station.election_id, share=share, seed=seed).for_counter(
            watcher_key(user.id)
        )
    )
    if not assigned:
        raise permissions.refused(
            "not_assigned", N_("This window is not assigned to you to re-count")
        )
    row.channel = RECOUNT_CHANNEL
    return _store(session, user, row)
