"""The quick count (issue 19): the registered sample (import, list, replacements), the live
status, and publishing an estimate. Staff import, replace and publish; staff and analysts read
the list and the status; observers see only their own stations' marks (``/marks``)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel, Field

from pollwatch.service import crud, permissions
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.checkpoints import receipt_for
from pollwatch.service.crud import quickcount as qc
from pollwatch.service.quickcount_live import live_status, publications, publish
from pollwatch.service.schemas import IdPath

router = APIRouter(prefix="/quickcount", tags=["quickcount"])


class ReplaceBody(BaseModel):
    station_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=1000)


def publication_view(row: m.QcPublication, receipt=None) -> dict:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "sha256": row.sha256,
        "signature": row.signature,
        "key_fingerprint": row.key_fingerprint,
        "statement": row.statement,
        "receipt": receipt.text() if receipt is not None else None,
    }


@router.post("/{election_id}/sample", status_code=201)
def import_sample(
    election_id: IdPath,
    sample: Annotated[UploadFile, File()],
    sidecar: Annotated[UploadFile, File()],
    session: SessionDep,
    user: CurrentUser,
    request: Request,
) -> dict:
    """Import the registered sample (the CSV ``pollwatch quickcount design`` wrote and its JSON
    sidecar) (staff); its SHA-256 goes into the audit chain."""
    permissions.check_manage_sample(user)  # before reading a byte of the files
    raw, side = sample.file.read(), sidecar.file.read()
    parsed = qc.read_uploaded_sample(raw, side, sample.filename or "sample.csv")
    row = qc.import_sample(
        session,
        user,
        election_id,
        parsed,
        filename=sample.filename or "",
        sidecar_sha256=hashlib.sha256(side).hexdigest(),
    )
    session.commit()
    receipt = receipt_for(request.app.state.notary, session, row)
    return {
        "id": row.id,
        "sha256": row.sha256,
        "primaries": len(parsed.primaries),
        "reserves": len(parsed.reserves),
        "strata": len(parsed.strata),
        "receipt": receipt.text() if receipt is not None else None,
    }


@router.get("/{election_id}/sample")
def read_sample(election_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """The sample's stations, whether each counts now and its replacement (staff, analysts)."""
    rows = qc.sample_rows(session, user, election_id)
    sample = qc.get_sample(session, election_id)
    assert sample is not None  # sample_rows raised 404 otherwise
    return {"sha256": sample.sha256, "rule": sample.rule, "data": rows, "count": len(rows)}


@router.post("/{election_id}/replace", status_code=201)
def replace_station(
    election_id: IdPath, body: ReplaceBody, session: SessionDep, user: CurrentUser
) -> dict:
    """Put the reserve the file's rule gives in the place of an unreachable station (staff)."""
    row = qc.replace_station(session, user, election_id, body.station_id, body.reason)
    session.commit()
    return {
        "id": row.id,
        "out_station_id": row.out_station_id,
        "in_station_id": row.in_station_id,
        "reason": row.reason,
        "rule": row.rule,
        "created_at": row.created_at.isoformat(),
    }


@router.get("/marks")
def marks(session: SessionDep, user: CurrentUser) -> dict:
    """Which of your assigned stations are quick-count stations (an observer's view; staff and
    analysts read the whole sample at ``/{election_id}/sample``)."""
    stations = permissions.assigned_station_ids(session, user)
    return {"quickcount_stations": sorted(permissions.quickcount_marks(session, user, stations))}


@router.get("/{election_id}/status")
def status(
    election_id: IdPath, session: SessionDep, user: CurrentUser, bucket_minutes: int | None = None
) -> dict:
    """Response, arrivals, the estimate after each time bucket, early vs late (staff, analysts)."""
    if bucket_minutes is not None:
        bucket_minutes = min(max(bucket_minutes, 1), 24 * 60)
    return live_status(session, user, election_id, bucket_minutes=bucket_minutes).to_dict()


@router.post("/{election_id}/publish", status_code=201)
def publish_estimate(
    election_id: IdPath, session: SessionDep, user: CurrentUser, request: Request
) -> dict:
    """Freeze the current estimate, sign it and put it in the evidence chain (staff)."""
    row = publish(session, user, election_id, request.app.state.signing_key)
    session.commit()
    return publication_view(row, receipt_for(request.app.state.notary, session, row))


@router.get("/{election_id}/publications")
def list_publications(election_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """The published estimates, newest first (staff, analysts); they never change."""
    crud.get_election(session, election_id)
    rows = publications(session, user, election_id)
    return {"data": [publication_view(r) for r in rows], "count": len(rows)}
