"""Observers, their assignments and accreditations imported from a CSV file (issue 22).

Two steps, so that nothing is written unless every line is right: :func:`plan_people` reads and
checks the whole file (columns, duplicates within the file and against the database, roles the
importing account may create, phones, languages, station codes of the election) and returns the
plan with every problem by line and column; :func:`apply_people` carries out a plan that has no
problems, through the audited crud functions (``create_user``, ``assign``,
``request_accreditation``/``decide_accreditation``), so ``pollwatch evidence verify`` stays
green. A dry run is the plan alone.

The service has no invitation tokens: new accounts get a random password, returned to the
caller only (the CLI writes them to a file of mode 0600, never to the terminal or a log).

Columns (header names, any order; docs/forms-and-people.md): ``username`` (required), ``role``
(default ``observer``), ``full_name``, ``phone``, ``language`` (en, az, ru; default en),
``stations`` (station codes separated by ``;``), ``accreditation`` (the accrediting body: the
observer is accredited for the election by it)."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service import privacy
from pollwatch.service.crud.accreditations import decide_accreditation, request_accreditation
from pollwatch.service.crud.assignments import assign
from pollwatch.service.crud.users import LANGUAGES, create_user, phone_lookup_key, phone_taken
from pollwatch.service.errors import Forbidden, Msg
from pollwatch.service.models import Role
from pollwatch.service.permissions import FIELD_ROLES, check_create_user

COLUMNS = ("username", "role", "full_name", "phone", "language", "stations", "accreditation")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MAX_ROWS = 20000


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    message: Msg  # English as ``str``; translatable

    def msg(self) -> Msg:
        """The problem with its line (and column), translatable: ``str`` is the English."""
        if self.column:
            return Msg(
                N_("line {line}, column {column}: {message}"),
                line=self.line,
                column=self.column,
                message=self.message,
            )
        return Msg(N_("line {line}: {message}"), line=self.line, message=self.message)

    def __str__(self) -> str:
        return str(self.msg())


@dataclass
class PersonPlan:
    line: int
    username: str
    role: str
    full_name: str
    phone: str | None
    language: str
    stations: list[str]
    accreditation: str
    existing_id: int | None = None
    new_stations: list[str] = field(default_factory=list)
    accredit: bool = False

    def describe(self) -> str:
        """One line of the dry run (no phone or name: they are personal data)."""
        parts = []
        if self.existing_id is None:
            parts.append(f"create {self.role} {self.username!r}")
        else:
            parts.append(f"keep {self.role} {self.username!r}")
        if self.new_stations:
            parts.append("assign " + ", ".join(self.new_stations))
        if self.accredit:
            parts.append(f"accredit by {self.accreditation!r}")
        if self.existing_id is not None:
            kept = [n for n, v in (("full_name", self.full_name), ("phone", self.phone)) if v]
            if kept:  # said, not silently dropped: an import never edits an existing account
                parts.append(f"its {' and '.join(kept)} not changed")
            if len(parts) == 1:
                parts.append("nothing to change")
        return f"line {self.line}: " + "; ".join(parts)


@dataclass
class PeoplePlan:
    source: str
    election_id: int
    people: list[PersonPlan]
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, int]:
        return {
            "create": sum(p.existing_id is None for p in self.people),
            "assign": sum(len(p.new_stations) for p in self.people),
            "accredit": sum(p.accredit for p in self.people),
            "unchanged": sum(
                p.existing_id is not None and not p.new_stations and not p.accredit
                for p in self.people
            ),
        }

    def error_text(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.source}: {len(self.problems)} problem(s); nothing was written:\n{lines}"


def plan_people(
    session: Session, actor: m.User, text: str, election_id: int, source: str = "people.csv"
) -> PeoplePlan:
    """Check every line of the CSV ``text`` for ``actor`` importing into ``election_id``; write
    nothing. Forbidden if ``actor`` may not create users at all."""
    check_create_user(actor, Role.observer)  # staff only: nobody else learns who is registered
    problems: list[RowProblem] = []
    plan = PeoplePlan(source, election_id, [], problems)
    if session.get(m.Election, election_id) is None:
        problems.append(
            RowProblem(1, None, Msg(N_("election {id} does not exist"), id=election_id))
        )
        return plan
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = headers
    if "username" not in headers:
        problems.append(
            RowProblem(
                1, None, Msg(N_("no 'username' column; found {headers}"), headers=str(headers))
            )
        )
        return plan
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        problems.append(RowProblem(1, None, Msg(N_("unknown column(s) {unknown}; expected {choices}"), unknown=str(unknown), choices=str(list(COLUMNS)))))  # fmt: skip
    codes = {
        code: sid
        for code, sid in session.execute(
            select(m.Station.code, m.Station.id).where(m.Station.election_id == election_id)
        )
    }
    seen_names: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(plan.people) >= MAX_ROWS:
            problems.append(
                RowProblem(line, None, Msg(N_("more than {n} lines: split the file"), n=MAX_ROWS))
            )
            break
        if None in row:  # more cells than headers
            problems.append(RowProblem(line, None, Msg(N_("{n} cell(s) more than the header has"), n=len(row[None]))))  # fmt: skip
        cell = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not any(cell.values()):
            continue
        username = cell["username"]
        role = cell["role"] or Role.observer
        language = cell["language"] or "en"
        if not _USERNAME.match(username):
            problems.append(RowProblem(line, "username", Msg(N_("{username} is not a username (2-64 letters, digits, . _ @ -)"), username=repr(username))))  # fmt: skip
        elif username.lower() in seen_names:
            problems.append(RowProblem(line, "username", Msg(N_("{username} also on line {line}"), username=repr(username), line=seen_names[username.lower()])))  # fmt: skip
        seen_names.setdefault(username.lower(), line)
        if role not in Role.__members__:
            problems.append(RowProblem(line, "role", Msg(N_("{role} is not one of {choices}"), role=repr(role), choices=str(list(Role.__members__)))))  # fmt: skip
        else:
            try:
                check_create_user(actor, role)
            except Forbidden:
                problems.append(RowProblem(line, "role", Msg(N_("a {actor} may not create a {role}"), actor=str(actor.role), role=role)))  # fmt: skip
        if language not in LANGUAGES:
            problems.append(RowProblem(line, "language", Msg(N_("{language} is not one of {choices}"), language=repr(language), choices=str(list(LANGUAGES)))))  # fmt: skip
        phone: str | None = None
        if cell["phone"]:
            phone = privacy.normalise_phone(cell["phone"])
            if phone is None:
                problems.append(RowProblem(line, "phone", Msg(N_("not a phone number: digits with an optional leading +"))))  # fmt: skip
            elif phone in seen_phones:
                problems.append(RowProblem(line, "phone", Msg(N_("the same number as line {line}"), line=seen_phones[phone])))  # fmt: skip
            else:
                seen_phones[phone] = line
        stations = [c.strip() for c in re.split(r"[;|]", cell["stations"]) if c.strip()]
        missing = [c for c in stations if c not in codes]
        if missing:
            problems.append(RowProblem(line, "stations", Msg(N_("unknown station code(s) {codes} in election {id}"), codes=str(missing), id=election_id)))  # fmt: skip
        if (stations or cell["accreditation"]) and role not in FIELD_ROLES:
            problems.append(RowProblem(line, "stations" if stations else "accreditation", Msg(N_("only {roles} are assigned and accredited, not a {role}"), roles=str(sorted(FIELD_ROLES)), role=role)))  # fmt: skip
        p = PersonPlan(line, username, role, cell["full_name"], phone, language, stations, cell["accreditation"])  # fmt: skip
        existing = session.scalar(select(m.User).where(m.User.username == username))
        if existing is not None:
            p.existing_id = existing.id
            if existing.role != role:
                problems.append(RowProblem(line, "role", Msg(N_("{username} exists as a {role}; change a role with 'pollwatch users set-role'"), username=repr(username), role=str(existing.role))))  # fmt: skip
            held = set(
                session.scalars(
                    select(m.Station.code)
                    .join(m.Assignment, m.Assignment.station_id == m.Station.id)
                    .where(
                        m.Assignment.user_id == existing.id, m.Station.election_id == election_id
                    )  # fmt: skip
                )
            )
            p.new_stations = [c for c in stations if c not in held]
            p.accredit = (
                bool(cell["accreditation"])
                and session.scalar(
                    select(m.Accreditation.id).where(
                        m.Accreditation.user_id == existing.id,
                        m.Accreditation.election_id == election_id,
                    )
                )
                is None
            )
        else:
            p.new_stations = list(dict.fromkeys(stations))
            p.accredit = bool(cell["accreditation"])
            if phone is not None and phone_taken(session, phone_lookup_key(session, phone) or ""):
                problems.append(RowProblem(line, "phone", Msg(N_("this number is already registered to another account"))))  # fmt: skip
        plan.people.append(p)
    if not plan.people and not problems:
        problems.append(RowProblem(1, None, Msg(N_("no people in the file"))))
    return plan


def apply_people(session: Session, actor: m.User, plan: PeoplePlan) -> dict[str, str]:
    """Carry out a plan without problems (the caller commits); the generated password of each
    new account by username."""
    if not plan.ok:
        raise ValueError(plan.error_text())
    codes = dict(
        session.execute(
            select(m.Station.code, m.Station.id).where(m.Station.election_id == plan.election_id)
        ).all()
    )
    passwords: dict[str, str] = {}
    for p in plan.people:
        if p.existing_id is None:
            password = secrets.token_urlsafe(12)  # 96 bits; the observer changes it via staff
            user = create_user(
                session,
                actor,
                username=p.username,
                password=password,
                role=p.role,
                full_name=p.full_name,
                phone=p.phone,
                language=p.language,
            )
            session.flush()
            passwords[p.username] = password
        else:
            found = session.get(m.User, p.existing_id)
            if found is None:  # deleted between the plan and now: the plan no longer holds
                raise ValueError(f"line {p.line}: {p.username!r} no longer exists")
            user = found
        for code in p.new_stations:
            assign(session, actor, user.id, codes[code])
        if p.accredit:
            acc = request_accreditation(session, user, plan.election_id, p.accreditation)
            session.flush()
            decide_accreditation(session, actor, acc.id, "accredited", p.accreditation, None)
    return passwords
