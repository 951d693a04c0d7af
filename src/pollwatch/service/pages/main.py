"""``page_router``: every server-rendered page, in one router for ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from pollwatch.service.pages import (
    census,
    dashboard,
    dossier,
    evidence,
    filing,
    login,
    offline,
    people,
    quickcount,
    review,
    watch,
)
from pollwatch.service.pages.common import check_csrf

# every page POST with a session cookie carries the session's CSRF token (pages.common)
page_router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
for _mod in (
    login,
    offline,
    filing,
    dashboard,
    review,
    dossier,
    watch,
    evidence,
    quickcount,
    census,
    people,
):
    page_router.include_router(_mod.router)
