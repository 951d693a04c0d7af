"""One router per resource; ``api_router`` assembles them under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service.routes import (
    accreditations,
    assignments,
    checklists,
    dossier,
    elections,
    forms,
    incidents,
    login,
    media,
    protocols,
    public,
    review,
    roster,
    sms,
    users,
    watchers,
)

api_router = APIRouter(prefix="/api")
# the submission routers first: a request is matched against the routers in this order, one by
# one, and submissions are nearly all of the traffic on election day (no paths overlap)
for _mod in (
    incidents,
    checklists,
    protocols,
    login,
    users,
    elections,
    accreditations,
    assignments,
    forms,
    media,
    review,
    roster,
    public,
    sms,
    dossier,
    watchers,
):
    api_router.include_router(_mod.router)

# main.py serves ``dossier.page_router`` (server-rendered pages outside /api); the watchers'
# phone page rides on it rather than needing a router of its own there
dossier.page_router.include_router(watchers.page_router)
