"""``page_router``: every server-rendered page, in one router for ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service.pages import dashboard, dossier, evidence, filing, login, review, watch

page_router = APIRouter(include_in_schema=False)
for _mod in (login, filing, dashboard, review, dossier, watch, evidence):
    page_router.include_router(_mod.router)
