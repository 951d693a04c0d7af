"""Who may see and write what: the service's one permission rule.

Every caller applies the rule from here: ``crud`` (API routes and web pages), the group-commit
writer (``throughput.writer``, its SQLite path and its raw PostgreSQL path), the SMS intake and
the camera watchers' filings (``crud.cameras``). Nothing else in the service spells it out.

The rule, in the order it is applied:

1. **Role.** ``require(user, roles)``: observations (checklists, incidents, protocol copies) are
   filed by ``SUBMITTERS``, camera tallies and logs by ``CAMERA_FILERS``.
2. **Staff** (admin, coordinator) file anywhere: no station checks (``station_checks`` and
   ``camera_station_checks`` return False). Camera watchers file camera incidents only.
3. **Station** (``decide``): every non-staff filer must be assigned to the station (an observer
   for its observations, a camera watcher for its tallies, logs and camera incidents alike) and
   accredited for the station's election.

Whether a user is assigned or accredited is defined once, as SQL conditions (``assigned``,
``accredited``), from which come the ``EXISTS`` tests of a single check (``assigned_exists``,
``accredited_exists``) and the rows a batch reads for all its submitters at once (``grants``;
the PostgreSQL writer compiles the same statement to the text it sends through psycopg).

Reading: ``READ_ALL`` (admin, coordinator, analyst) see every row; others see their own
(``own_rows``), another's row is reported as not found; stations as ``visible_stations``.

Quick count (issue 19): ``STAFF`` import the registered sample, replace unreachable stations
and publish estimates (``check_manage_sample``); ``READ_ALL`` read the sample list and the live
status (``check_read_sample``); an observer or camera watcher learns only whether their own
assigned stations are quick-count stations (``quickcount_marks``), never the list.

Tally-sheet census (issue 21): protocol photos are uploaded by whoever may file a protocol copy
at the station (``check_census_upload``: the observation rule). ``TRANSCRIBERS`` (transcribers
and analysts) type sheets blind (``check_transcribe``): never a sheet they uploaded or collected,
never one twice, never with anyone else's numbers in view; the typed numbers and the machine
reading are read only by ``STAFF``, who arbitrate (``check_arbitrate``), never a sheet they typed
themselves. ``READ_ALL`` read the sheets' status, the accepted numbers and the export.

Administration: ``STAFF`` accredit, assign, review and create users (coordinators only
observers and camera watchers: ``check_create_user``); only an ``ADMIN`` imports elections and
administers accounts (deactivate, set the role, reset the password, revoke the tokens:
``check_administer_user``, never their own account's role or activity). Review takes four
eyes: nobody verifies, rejects or quarantines their own submission (``check_review``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service.errors import Forbidden
from pollwatch.service.models import Kind, Role
from pollwatch.service.taxonomy import CAMERA_CATEGORIES

ADMIN = frozenset({Role.admin})  # imports elections
STAFF = frozenset({Role.admin, Role.coordinator})
READ_ALL = frozenset({Role.admin, Role.coordinator, Role.analyst})
SUBMITTERS = frozenset({Role.admin, Role.coordinator, Role.observer, Role.camera_watcher})
CAMERA_FILERS = frozenset({Role.camera_watcher, Role.admin, Role.coordinator})
CAMERA_READERS = READ_ALL | {Role.camera_watcher}
FIELD_ROLES = frozenset({Role.observer, Role.camera_watcher})  # accredited, assigned to stations
TRANSCRIBERS = frozenset({Role.transcriber, Role.analyst})  # type protocol photos, blind
VOLUNTEERS = FIELD_ROLES | {Role.transcriber}  # accounts a coordinator may create


def refused(reason: str, detail: str) -> Forbidden:
    """A refusal of the rule: ``Forbidden`` (403) with its ``reason``: ``"role"``,
    ``"camera_only"``, ``"not_assigned"`` or ``"not_accredited"`` (the SMS intake words its
    reply by it)."""
    exc = Forbidden(detail)
    exc.reason = reason
    return exc


def require(user: m.User, roles: Iterable[str]) -> None:
    """Forbidden (``"role"``) unless ``user`` has one of ``roles``."""
    if user.role not in roles:
        raise refused("role", N_("Not enough permissions"))


def check_create_user(actor: m.User, role: str) -> None:
    """Staff create users: admins of any role, coordinators observers, camera watchers and
    transcribers."""
    require(actor, STAFF)
    if actor.role == Role.coordinator and role not in VOLUNTEERS:
        raise refused("role", N_("Not enough permissions"))


# ---- the station rule -------------------------------------------------------------------------


def check_administer_user(actor: m.User, target: m.User, action: str) -> None:
    """Admins administer accounts; not their own role or activity (the last admin would lock
    everyone out); their own password and tokens they may."""
    require(actor, ADMIN)
    if actor.id == target.id and action in ("deactivate", "activate", "set_role"):
        raise refused("self", N_("An administrator cannot change their own role or activity"))


def check_review(reviewer: m.User, submission: m.Submission) -> None:
    """Four eyes: staff review, and never their own submission (a coordinator would otherwise
    verify their own incident into the public feed)."""
    require(reviewer, STAFF)
    if submission.observer_id == reviewer.id:
        raise refused("own_submission", N_("Nobody reviews their own submission"))


def station_checks(user: m.User, kind: str, form: str) -> bool:
    """Role gate of an observation (``kind``, ``form``: the checklist name or the incident
    category): refused for a role that does not file, or a camera watcher filing anything but a
    camera incident; False for staff (no station checks), True when ``decide`` must follow."""
    require(user, SUBMITTERS)
    if user.role in STAFF:
        return False
    if user.role == Role.camera_watcher and not (
        kind == Kind.incident and form in CAMERA_CATEGORIES
    ):
        raise refused("camera_only", N_("Camera watchers file camera incidents only"))
    return True


def camera_station_checks(user: m.User) -> bool:
    """Role gate of a camera tally or log, as ``station_checks``."""
    require(user, CAMERA_FILERS)
    return user.role not in STAFF


def decide(user: m.User, is_assigned: bool, is_accredited: bool, *, camera: bool = False) -> None:
    """The station rule for a filer who passed its role gate and is not staff: assignment, then
    accreditation. Camera watchers too must be assigned, for camera incidents as for tallies and
    logs (issue 18: they could file incidents at any station)."""
    if not is_assigned:
        raise refused("not_assigned", N_("Station not assigned to you"))
    if not is_accredited:
        raise refused(
            "not_accredited",
            N_("Camera watcher not accredited") if camera else N_("Observer not accredited"),
        )


def check_submit(
    user: m.User, kind: str, form: str, is_assigned: bool, is_accredited: bool
) -> None:
    """The whole rule for an observation, given what the database says about the station."""
    if station_checks(user, kind, form):
        decide(user, is_assigned, is_accredited)


def check_submit_at(
    session: Session, user: m.User, station: m.Station, kind: str, form: str
) -> None:
    """``check_submit`` at ``station``, reading assignment and accreditation in one query (none
    for staff)."""
    if station_checks(user, kind, form):
        decide(user, *_grant_flags(session, user, station))


def check_camera_at(session: Session, user: m.User, station: m.Station) -> None:
    """The whole rule for a camera tally or log at ``station``."""
    if camera_station_checks(user):
        decide(user, *_grant_flags(session, user, station), camera=True)


def _grant_flags(session: Session, user: m.User, station: m.Station) -> tuple[bool, bool]:
    row = session.execute(
        select(
            assigned_exists(user.id, station.id), accredited_exists(user.id, station.election_id)
        )
    ).one()
    return bool(row[0]), bool(row[1])


# ---- assignment and accreditation as SQL ------------------------------------------------------

Match = Any  # a value or SQL expression (compared with ``=``), ``one_of(...)``, ``any_of(...)``


class _Matcher:
    def __init__(self, condition: Callable[[Any], ColumnElement[bool]]) -> None:
        self.condition = condition


def one_of(values: Iterable) -> _Matcher:
    """Match any of ``values`` (``IN``), for a batch."""
    values = list(values)
    return _Matcher(lambda col: col.in_(values))


def any_of(name: str) -> _Matcher:
    """Match any element of the integer-array parameter ``name`` (PostgreSQL ``= ANY(...)``)."""
    return _Matcher(lambda col: col == any_(bindparam(name, type_=ARRAY(Integer))))


ANY = _Matcher(lambda col: true())  # no condition on this column


def _match(col, value: Match) -> ColumnElement[bool]:
    return value.condition(col) if isinstance(value, _Matcher) else col == value


def assigned(user: Match, station: Match) -> ColumnElement[bool]:
    """An ``assignments`` row of ``user`` at ``station``: the user is assigned there."""
    a = m.Assignment
    return and_(_match(a.user_id, user), _match(a.station_id, station))


def accredited(user: Match, election: Match = ANY) -> ColumnElement[bool]:
    """An ``accreditations`` row of ``user`` for ``election`` with status accredited (requested,
    refused and revoked ones do not count)."""
    c = m.Accreditation
    return and_(
        _match(c.user_id, user),
        _match(c.election_id, election),
        c.status == m.AccreditationStatus.accredited,
    )


def assigned_exists(user: Match, station: Match):
    """``EXISTS`` an assignment (see ``assigned``)."""
    return select(m.Assignment.id).where(assigned(user, station)).exists()


def accredited_exists(user: Match, election: Match):
    """``EXISTS`` an accreditation (see ``accredited``)."""
    return select(m.Accreditation.id).where(accredited(user, election)).exists()


def grants(users: Match, stations: Match) -> Select:
    """The rows that decide a batch: ``(0, user_id, station_id)`` per assignment of ``users`` at
    ``stations``, ``(1, user_id, election_id)`` per accreditation of ``users`` (any election);
    ``split_grants`` turns them into sets."""
    a, c = m.Assignment, m.Accreditation
    return (
        select(literal_column("0"), a.user_id, a.station_id)
        .where(assigned(users, stations))
        .union_all(select(literal_column("1"), c.user_id, c.election_id).where(accredited(users)))
    )


def split_grants(rows) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """``grants`` rows as the (user, station) assignments and (user, election) accreditations."""
    assigned_: set[tuple[int, int]] = set()
    accredited_: set[tuple[int, int]] = set()
    for which, user_id, other in rows:
        (accredited_ if which else assigned_).add((user_id, other))
    return assigned_, accredited_


def accredited_elections(session: Session, user: m.User) -> set[int]:
    """The elections ``user`` is accredited for."""
    c = m.Accreditation
    return set(session.scalars(select(c.election_id).where(accredited(user.id))))


def is_accredited(session: Session, user: m.User, election_id: int) -> bool:
    return bool(session.scalar(select(accredited_exists(user.id, election_id))))


def assigned_station_ids(session: Session, user: m.User) -> set[int]:
    """The stations ``user`` is assigned to."""
    return set(session.scalars(select(m.Assignment.station_id).where(assigned(user.id, ANY))))


# ---- reading ----------------------------------------------------------------------------------


def sees_all(user: m.User) -> bool:
    """Admins, coordinators and analysts read every row."""
    return user.role in READ_ALL


def own_rows(user: m.User, query: Select, owner, readers: Iterable[str] | None = None) -> Select:
    """``query`` as ``user`` may read it: all rows for ``READ_ALL``, else (refused unless the
    role is in ``readers``, when given) the rows whose ``owner`` column is the user."""
    if sees_all(user):
        return query
    if readers is not None:
        require(user, readers)
    return query.where(owner == user.id)


def visible_stations(session: Session, user: m.User, query: Select) -> Select:
    """``query`` over stations as ``user`` may list them: every station for ``READ_ALL`` and
    staff, observers and camera watchers their assigned ones (where they may file)."""
    if sees_all(user):
        return query
    require(user, SUBMITTERS)
    if user.role in FIELD_ROLES:
        return query.where(m.Station.id.in_(assigned_station_ids(session, user)))
    return query


# ---- the quick-count sample -------------------------------------------------------------------


def check_manage_sample(user: m.User) -> None:
    """Import the registered sample, replace a station by a reserve, publish an estimate: staff."""
    require(user, STAFF)


def check_read_sample(user: m.User) -> None:
    """The sample's station list and the live quick count: admins, coordinators, analysts. The
    list says where the quick count looks; observers are not told (``quickcount_marks``)."""
    require(user, READ_ALL)


def quickcount_marks(session: Session, user: m.User, station_ids: Iterable[int]) -> set[int]:
    """Which of ``station_ids`` ``user`` may see marked as quick-count stations (counting now):
    any for ``READ_ALL``, only their own assigned stations for everyone else."""
    ids = set(station_ids)
    if not sees_all(user):
        ids &= assigned_station_ids(session, user)
    if not ids:
        return set()
    q = select(m.QcSampleStation.station_id).where(
        m.QcSampleStation.active.is_(True), m.QcSampleStation.station_id.in_(ids)
    )
    return set(session.scalars(q))


# ---- the tally-sheet census (issue 21) -------------------------------------------------------


def check_census_upload(session: Session, user: m.User, station: m.Station) -> None:
    """Upload a protocol photo of ``station``: the rule for filing a protocol copy there (staff
    anywhere; an observer at an assigned station of an accredited election)."""
    check_submit_at(session, user, station, Kind.protocol, "protocol")


def check_transcribe(user: m.User, sheet: m.CensusSheet, typists: Iterable[int]) -> None:
    """Type ``sheet``: a transcriber (or analyst) who neither uploaded nor collected it and has
    not typed it (``typists``: who has), while it still waits for its two transcriptions."""
    require(user, TRANSCRIBERS)
    typists = set(typists)
    if user.id in (sheet.uploader_id, sheet.collector_id):
        raise refused("own_upload", N_("Nobody types a sheet they uploaded or collected"))
    if user.id in typists:
        raise refused("typed", N_("You have typed this sheet already"))
    if sheet.status != m.SheetStatus.transcribing or len(typists) >= 2:
        raise refused("complete", N_("This sheet has its two transcriptions: ask for the next one"))


def check_arbitrate(user: m.User, sheet: m.CensusSheet, typists: Iterable[int]) -> None:
    """Read the transcriptions and the machine reading of ``sheet``, and decide its numbers:
    staff who did not type it."""
    require(user, STAFF)
    if user.id in set(typists):
        raise refused("typed", N_("Nobody arbitrates a sheet they typed"))


def check_read_census(user: m.User) -> None:
    """The sheets' status, the accepted numbers, the export and the agreement share."""
    require(user, READ_ALL)


def check_sheet_photo(user: m.User, sheet: m.CensusSheet, typists: Iterable[int]) -> None:
    """The photo of ``sheet`` (its metadata-free copy): readers of the census, the uploader and
    collector, and a volunteer who may type it now."""
    if sees_all(user) or user.id in (sheet.uploader_id, sheet.collector_id):
        return
    check_transcribe(user, sheet, typists)
