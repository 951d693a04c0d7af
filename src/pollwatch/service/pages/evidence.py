"""``/evidence``: the public page of the service's evidence key and latest checkpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pollwatch.service.api.deps import SessionDep
from pollwatch.service.checkpoints import public_status
from pollwatch.service.pages.common import render, request_lang

router = APIRouter()


@router.get("/evidence")
def evidence_page(request: Request, session: SessionDep):
    status = public_status(session, request.app.state.settings.data_dir)
    return render("evidence.html.j2", None, request_lang(request), **status)
