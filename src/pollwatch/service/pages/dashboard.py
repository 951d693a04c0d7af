"""The coordinators' dashboard: checklist coverage per election, the latest incidents, a map."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.models import Kind
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import READ_ALL, require
from pollwatch.service.taxonomy import CATEGORIES

router = APIRouter(include_in_schema=False)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    require(user, READ_ALL)
    elections = []
    for e in session.scalars(select(m.Election).order_by(m.Election.id)):
        groups = crud.roster(session, user, e.id)["groups"]
        elections.append({"name": e.name, "coverage": groups[0]["forms"] if groups else {}})
    incidents = session.scalars(
        select(m.Submission)
        .where(m.Submission.kind == Kind.incident)
        .order_by(m.Submission.id.desc())
        .limit(20)
    ).all()
    return render(
        "dashboard.html.j2",
        user,
        elections=elections,
        incidents=incidents,
        categories=CATEGORIES,
        map_points=_map_points(session),
    )


def _map_points(session, width: int = 320, height: int = 240) -> list[dict]:
    """Stations with coordinates projected into an SVG box; ``hot`` = a non-rejected incident."""
    rows = session.execute(
        select(m.Station.id, m.Station.code, m.Station.lat, m.Station.lon)
        .where(m.Station.lat.is_not(None), m.Station.lon.is_not(None))
        .limit(20000)
    ).all()
    if not rows:
        return []
    hot = set(
        session.scalars(
            select(m.Submission.station_id).where(
                m.Submission.kind == Kind.incident, m.Submission.status != m.Verification.rejected
            )
        )
    )
    lats, lons = [r.lat for r in rows], [r.lon for r in rows]
    dy, dx = (max(lats) - min(lats)) or 1.0, (max(lons) - min(lons)) or 1.0
    return [
        {
            "x": 5 + (r.lon - min(lons)) / dx * (width - 10),
            "y": 5 + (max(lats) - r.lat) / dy * (height - 10),
            "code": r.code,
            "hot": r.id in hot,
        }
        for r in rows
    ]
