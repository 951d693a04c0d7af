"""The coordinators' quick-count page (issue 19): the registered sample (import it, replace an
unreachable station), the response by stratum, arrivals and the estimate after each time
bucket, early against late reporters, quarantined and off-sample copies, and publishing.

Server-rendered and complete without JavaScript: every action is a form posted back here and
handled by the same functions as the API (``crud.quickcount``, ``quickcount_live``)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from pollwatch.i18n import normalise, use_language
from pollwatch.i18n.text import say
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.crud import quickcount as qc
from pollwatch.service.errors import ServiceError, error_text
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import STAFF, check_read_sample
from pollwatch.service.quickcount_live import live_status, publications, publish
from pollwatch.service.schemas import ID_MAX, Description, Id, IdPath, parse

router = APIRouter(include_in_schema=False)


def _elections(session) -> list[m.Election]:
    return list(session.scalars(select(m.Election).order_by(m.Election.id)))


@router.get("/quickcount", response_class=HTMLResponse)
def quickcount_page(
    session: SessionDep,
    user: PageUser,
    election: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
):
    if user is None:
        return login_redirect()
    check_read_sample(user)
    elections = _elections(session)
    chosen = next((e for e in elections if e.id == election), None)
    if chosen is None:  # default: the newest election with a sample, else the newest
        with_sample = set(session.scalars(select(m.QcSample.election_id)))
        chosen = next((e for e in reversed(elections) if e.id in with_sample), None) or (
            elections[-1] if elections else None
        )
    # not "status": ``render``'s own parameter (the HTTP status)
    ctx: dict = {"elections": elections, "election": chosen, "live": None, "published": []}
    if chosen is not None and qc.get_sample(session, chosen.id) is not None:
        status = live_status(session, user, chosen.id)
        reported = {r.station for r in (*status.counted, *status.quarantined)}
        ctx["live"] = status
        ctx["candidates"] = [c["name"] for c in chosen.candidates]
        ctx["replaceable"] = [
            r for r in qc.sample_rows(session, user, chosen.id)
            if r["active"] and r["station"] not in reported
        ]  # fmt: skip
        ctx["published"] = [
            (p, json.loads(p.statement)) for p in publications(session, user, chosen.id)
        ]
    # the estimate's sentence, the verdict's reason, the early/late verdict and the notes are
    # written by the quick count (``say``, ``summary()``) in the current language: the user's
    with use_language(normalise(user.language)):
        return render("quickcount.html.j2", user, staff=user.role in STAFF, say=say, **ctx)


def _back(election_id: int) -> RedirectResponse:
    return RedirectResponse(f"/quickcount?election={election_id}", status_code=303)


def _refused(session, user, exc: Exception) -> Response:
    session.rollback()
    message = error_text(exc, user.language if user else None)  # in the page's language
    return render("login.html.j2", user, status=getattr(exc, "status", 422), message=message)


@router.post("/quickcount/{election_id}/sample")
async def import_sample_page(
    election_id: IdPath, request: Request, session: SessionDep, user: PageUser
):
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        sample, sidecar = data.get("sample"), data.get("sidecar")
        if not hasattr(sample, "read") or not hasattr(sidecar, "read"):
            raise ValueError("choose the sample file (CSV) and its sidecar (JSON)")
        raw, side = await sample.read(), await sidecar.read()  # type: ignore[union-attr]
        qc.import_sample(
            session,
            user,
            election_id,
            qc.read_uploaded_sample(raw, side, getattr(sample, "filename", "") or "sample.csv"),
            filename=getattr(sample, "filename", "") or "",
            sidecar_sha256=hashlib.sha256(side).hexdigest(),
        )
        session.commit()
    except (ServiceError, ValueError) as exc:
        return _refused(session, user, exc)
    finally:
        await data.close()
    return _back(election_id)


@router.post("/quickcount/{election_id}/replace")
async def replace_page(election_id: IdPath, request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        station = parse(Id, data.get("station_id") or 0)
        reason = parse(Description, data.get("reason") or "")
        qc.replace_station(session, user, election_id, station, str(reason))
        session.commit()
    except (ServiceError, ValueError) as exc:
        return _refused(session, user, exc)
    return _back(election_id)


@router.post("/quickcount/{election_id}/publish")
def publish_page(election_id: IdPath, request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    try:
        publish(session, user, election_id, request.app.state.signing_key)
        session.commit()
    except ServiceError as exc:
        return _refused(session, user, exc)
    return _back(election_id)
