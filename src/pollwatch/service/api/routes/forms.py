from __future__ import annotations

from fastapi import APIRouter, HTTPException

from pollwatch.i18n import N_
from pollwatch.service.api.deps import CurrentUser
from pollwatch.service.errors import Msg
from pollwatch.service.forms import forms
from pollwatch.service.taxonomy import CATEGORIES, SEVERITIES

router = APIRouter(tags=["forms"])


@router.get("/forms")
def list_forms(user: CurrentUser) -> list[dict]:
    """List checklists with their questions."""
    return [f.to_dict() for f in forms().values()]


@router.get("/forms/{name}")
def read_form(name: str, user: CurrentUser) -> dict:
    """Return one checklist."""
    if name not in forms():
        raise HTTPException(status_code=404, detail=Msg(N_("Form not found")))
    return forms()[name].to_dict()


@router.get("/taxonomy")
def taxonomy(user: CurrentUser) -> dict:
    """Return the incident categories and severities."""
    return {"categories": CATEGORIES, "severities": list(SEVERITIES)}
