"""Pydantic API schemas, named by role: ``XCreate`` (input), ``XUpdate``, ``XPublic`` (output)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

ORM = ConfigDict(from_attributes=True)

# ---- the bounds of every input (API bodies, path and query parameters, web forms, SMS) ---------
# Issue 18 item 7: what the databases cannot hold is refused here, as a 422 naming the field,
# never left to fail in the driver as a 500. Lengths are those of the columns in ``models``.

ID_MAX = 2**31 - 1  # INTEGER primary keys (PostgreSQL int4, the narrower of the two)
COUNT_MAX = 10**7  # a count of voters, ballots or people: a polling station holds far fewer
LIMIT_MAX = 1000  # rows per page
WHEN_MIN = dt.datetime(1900, 1, 1)
WHEN_MAX = dt.datetime(2200, 1, 1)
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(v: str) -> str:
    """No NUL (PostgreSQL text cannot hold it) and no lone surrogate (not Unicode, cannot be
    encoded as UTF-8): refused, not silently altered, so that what is stored is what was sent."""
    if "\x00" in v:
        raise ValueError("NUL characters are not allowed")
    if _SURROGATE.search(v):
        raise ValueError("lone surrogate code points are not allowed (not valid Unicode)")
    return v


def check_json(v: Any, depth: int = 0) -> Any:
    """``check_text`` over every key and string of a JSON value, ints bounded to 64 bits, at
    most 8 levels deep."""
    if depth > 8:
        raise ValueError("nested too deeply")
    if isinstance(v, str):
        check_text(v)
    elif isinstance(v, bool) or v is None or isinstance(v, float):
        pass
    elif isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise ValueError("integer out of range")
    elif isinstance(v, dict):
        for k, x in v.items():
            check_text(str(k))
            check_json(x, depth + 1)
    elif isinstance(v, list):
        for x in v:
            check_json(x, depth + 1)
    return v


def check_when(v: dt.datetime) -> dt.datetime:
    """Between 1900 and 2200, also once converted to UTC (an offset at the edge of Python's
    range overflowed there)."""
    try:
        utc = v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
    except (OverflowError, ValueError):
        raise ValueError("date out of range") from None
    if not (WHEN_MIN <= v.replace(tzinfo=None) < WHEN_MAX and WHEN_MIN <= utc < WHEN_MAX):
        raise ValueError(f"date out of range ({WHEN_MIN.year} to {WHEN_MAX.year - 1})")
    return v


# Text fields: at most the column's length, ``check_text`` (written out, not built by a
# function, so that type checkers see them as types).
Text = Annotated[str, AfterValidator(check_text)]  # a TEXT column: bound it where it is used
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]
When = Annotated[dt.datetime, AfterValidator(check_when)]
Json = Annotated[dict[str, Any], Field(max_length=500), AfterValidator(check_json)]
Description = Annotated[str, Field(max_length=10000), AfterValidator(check_text)]
Note = Annotated[str, Field(max_length=2000), AfterValidator(check_text)]
Code = Annotated[
    str, Field(max_length=40), AfterValidator(check_text)
]  # form, category, status or event names (VARCHAR(40) at most)
Severity = Annotated[str, Field(max_length=10), AfterValidator(check_text)]
Username = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_text)]
Password = Annotated[
    str, Field(min_length=8, max_length=200), AfterValidator(check_text)
]  # hashed, never stored: no NUL or lone surrogate (UTF-8 only)
RoleName = Annotated[str, Field(max_length=20), AfterValidator(check_text)]
FullName = Annotated[str, Field(max_length=200), AfterValidator(check_text)]
Phone = Annotated[str, Field(max_length=40), AfterValidator(check_text)]
Language = Annotated[str, Field(max_length=5), AfterValidator(check_text)]
AccreditationBody = Annotated[str, Field(max_length=200), AfterValidator(check_text)]


@functools.cache
def _adapter(tp: Any) -> TypeAdapter:
    return TypeAdapter(tp)


def parse(tp: Any, value: Any) -> Any:
    """``value`` validated as ``tp`` (one of the types above), for the web forms and the SMS
    intake: the API's bounds outside a pydantic model; ``pydantic.ValidationError`` (a
    ``ValueError``) when it does not fit."""
    return _adapter(tp).validate_python(value)


# path and query parameters
IdPath = Annotated[int, Path(ge=1, le=ID_MAX)]
IdQuery = Annotated[int, Query(ge=1, le=ID_MAX)]
StationFilter = Annotated[int | None, Query(ge=1, le=ID_MAX)]
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX)]
Offset = Annotated[int, Query(ge=0, le=ID_MAX)]
CodeQuery = Annotated[
    str | None, Query(max_length=40), AfterValidator(lambda v: v and check_text(v))
]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    username: Username
    password: Password
    role: RoleName
    full_name: FullName = ""
    phone: Phone | None = None
    language: Language = "en"


class RoleChange(BaseModel):
    role: RoleName


class PasswordReset(BaseModel):
    password: Password


class TokensRevoked(BaseModel):
    revoked: int


class UserPublic(BaseModel):
    model_config = ORM
    id: int
    username: str
    role: str
    full_name: str
    language: str
    active: bool


class ElectionPublic(BaseModel):
    model_config = ORM
    id: int
    name: str
    country: str
    date: str
    type: str
    hierarchy: list[str]
    candidates: list[dict[str, Any]]


class StationPublic(BaseModel):
    model_config = ORM
    id: int
    election_id: int
    code: str
    levels: dict[str, str]
    registered: int
    lat: float | None = None
    lon: float | None = None


class StationsPublic(BaseModel):
    data: list[StationPublic]
    count: int


class AccreditationCreate(BaseModel):
    election_id: Id
    body: AccreditationBody = ""


class AccreditationUpdate(BaseModel):
    status: Literal["requested", "accredited", "refused", "revoked"]
    body: AccreditationBody | None = None
    date: dt.date | None = None


class AccreditationPublic(BaseModel):
    model_config = ORM
    id: int
    user_id: int
    election_id: int
    status: str
    date: dt.date | None
    body: str


class AssignmentCreate(BaseModel):
    user_id: Id
    station_id: Id


class AssignmentPublic(BaseModel):
    model_config = ORM
    id: int
    user_id: int
    station_id: int


class _SubmissionBase(BaseModel):
    client_id: uuid.UUID
    station_id: Id
    media_ids: list[Id] = Field(default=[], max_length=50)


class ChecklistCreate(_SubmissionBase):
    form: Code
    answers: Json


class ChecklistUpdate(BaseModel):
    answers: Json


class IncidentCreate(_SubmissionBase):
    category: Code
    severity: Severity = "medium"
    occurred_at: When
    description: Description = ""


class IncidentUpdate(BaseModel):
    severity: Severity | None = None
    description: Description | None = None


class ProtocolCreate(_SubmissionBase):
    numbers: Json = {}
    votes: Json = {}


class SubmissionPublic(BaseModel):
    model_config = ORM
    id: int
    client_id: str
    kind: str
    form: str
    station_id: int
    observer_id: int
    channel: str
    answers: dict[str, Any]
    description: str
    severity: str | None
    occurred_at: dt.datetime | None
    flags: list[dict[str, Any]]
    complete: bool
    status: str
    reviewer_id: int | None
    review_reason: str
    quarantined: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    # ``pwr1 <entry> <entry hash> <checkpoint>``: keep it; it proves this submission was in the
    # chain at its place, whoever later rewrites the server (on the reply that created it only)
    receipt: str | None = None


class SubmissionsPublic(BaseModel):
    data: list[SubmissionPublic]
    count: int


class ReviewCreate(BaseModel):
    status: Literal["new", "under_review", "verified", "rejected"]
    reason: Note = ""


class QuarantineCreate(BaseModel):
    quarantined: bool
    reason: Note = ""


class MediaPublic(BaseModel):
    model_config = ORM
    id: int
    client_id: str
    sha256: str  # of the stored original (metadata stripped unless kept)
    received_sha256: str | None = None  # of the upload as received, when it was stripped
    published_sha256: str | None
    content_type: str
    size: int
    submission_id: int | None


class PublishedItem(BaseModel):
    """What the public sees: verified, unquarantined, pseudonymous."""

    id: int
    kind: str
    form: str
    station_code: str
    levels: dict[str, str]
    observer: str
    answers: dict[str, Any]
    description: str
    severity: str | None
    occurred_at: dt.datetime | None
    media: list[str]
