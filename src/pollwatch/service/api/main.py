"""``api_router``: the routers of ``api.routes`` (one per resource) under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service.api.routes import (
    accreditations,
    assignments,
    bulk,
    census,
    checklists,
    dossier,
    elections,
    forms,
    incidents,
    login,
    media,
    protocols,
    public,
    quickcount,
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
    bulk,  # before users: /users/import is not a user id
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
    quickcount,
    census,
):
    api_router.include_router(_mod.router)
