"""Pydantic API schemas, named by role: ``XCreate`` (input), ``XUpdate``, ``XPublic`` (output)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ORM = ConfigDict(from_attributes=True)
# PostgreSQL text cannot hold NUL; drop it at the edge so both databases store the same thing
Text = Annotated[str, AfterValidator(lambda v: v.replace("\x00", ""))]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    role: str
    full_name: Text = ""
    phone: str | None = None
    language: str = "en"


class RoleChange(BaseModel):
    role: str


class PasswordReset(BaseModel):
    password: str = Field(min_length=8, max_length=200)


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
    election_id: int
    body: Text = ""


class AccreditationUpdate(BaseModel):
    status: Literal["requested", "accredited", "refused", "revoked"]
    body: Text | None = None
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
    user_id: int
    station_id: int


class AssignmentPublic(BaseModel):
    model_config = ORM
    id: int
    user_id: int
    station_id: int


class _SubmissionBase(BaseModel):
    client_id: uuid.UUID
    station_id: int
    media_ids: list[int] = []


class ChecklistCreate(_SubmissionBase):
    form: str
    answers: dict[str, Any]


class ChecklistUpdate(BaseModel):
    answers: dict[str, Any]


class IncidentCreate(_SubmissionBase):
    category: str
    severity: str = "medium"
    occurred_at: dt.datetime
    description: Text = Field(default="", max_length=10000)


class IncidentUpdate(BaseModel):
    severity: str | None = None
    description: Text | None = Field(default=None, max_length=10000)


class ProtocolCreate(_SubmissionBase):
    numbers: dict[str, Any] = {}
    votes: dict[str, Any] = {}


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
    reason: Text = ""


class QuarantineCreate(BaseModel):
    quarantined: bool
    reason: Text = ""


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
