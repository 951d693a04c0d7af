from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, UploadFile
from sqlalchemy import func, select

from pollwatch.errors import PollwatchError
from pollwatch.ingest import read_election as read
from pollwatch.model import Election
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.errors import verbatim
from pollwatch.service.importer import import_election
from pollwatch.service.permissions import ADMIN, require, visible_stations
from pollwatch.service.schemas import ElectionPublic, IdPath, Limit, Offset, StationsPublic

router = APIRouter(prefix="/elections", tags=["elections"])


@router.get("", response_model=list[ElectionPublic])
def list_elections(session: SessionDep, user: CurrentUser):
    """List elections."""
    return session.scalars(select(m.Election).order_by(m.Election.id)).all()


@router.get("/{election_id}", response_model=ElectionPublic)
def read_election(election_id: IdPath, session: SessionDep, user: CurrentUser):
    """Return one election."""
    return crud.get_election(session, election_id)


@router.post("/import", response_model=ElectionPublic, status_code=201)
def import_file(file: UploadFile, session: SessionDep, user: CurrentUser, name: str | None = None):
    """Import stations from a results file (CSV/zip/XLSX/Parquet) (admin)."""

    require(user, ADMIN)
    suffix = "".join(Path(file.filename or "upload.csv").suffixes[-2:]) or ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(file.file.read())
        try:
            election = _read(path, read)
        except PollwatchError as exc:
            raise HTTPException(status_code=422, detail=verbatim(str(exc)[:2000])) from None
    row = import_election(session, election, actor_id=user.id, name=name or file.filename)
    session.commit()
    return row


@router.get("/{election_id}/stations", response_model=StationsPublic)
def list_stations(
    election_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """List stations (observers: their assigned stations only)."""
    crud.get_election(session, election_id)
    q = select(m.Station).where(m.Station.election_id == election_id)
    q = visible_stations(session, user, q)
    count = session.scalar(select(func.count()).select_from(q.subquery()))
    rows = session.scalars(q.order_by(m.Station.code).limit(min(limit, 1000)).offset(offset)).all()
    return StationsPublic(data=rows, count=count or 0)


def _read(path: Path, read):
    """A Parquet file written by ``Election.to_parquet`` keeps its metadata; anything else is ingested."""

    if path.suffix == ".parquet":
        try:
            return Election.from_parquet(path)
        except Exception:  # not one of ours: fall back to the ingest presets
            pass
    return read(path)
