"""Forms and people in bulk (issue 22): XLSForm import (admin), people CSV import with a dry
run (staff), and the submissions export (CSV, XLSX, GeoJSON: whoever reads submissions, each
their own view). Formats: docs/forms-and-people.md."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Response, UploadFile

from pollwatch.i18n import N_
from pollwatch.service.api.deps import CurrentUser, SessionDep, SettingsDep
from pollwatch.service.crud import exports, people
from pollwatch.service.errors import Invalid, Msg, invalid, verbatim
from pollwatch.service.permissions import ADMIN, require
from pollwatch.service.xlsform import XLSFormError, convert

router = APIRouter(tags=["bulk"])


@router.post("/forms/import")
async def import_xlsform(
    file: UploadFile,
    user: CurrentUser,
    settings: SettingsDep,
    dry_run: bool = False,
    code: str | None = None,
) -> dict:
    """Convert an XLSForm into a checklist of the forms directory (admin). ``dry_run``: only
    convert and report. 409 unless ``POLLWATCH_FORMS_DIR`` is set (the package's own directory
    is never written); 422 with every problem by sheet, row and column."""
    require(user, ADMIN)
    data = await file.read()
    try:
        done = convert(data, source=file.filename or "form.xlsx", code=code)
    except XLSFormError as exc:
        raise Invalid(
            [
                invalid(["body", "file", p.sheet, p.row or 0, p.column or ""], verbatim(str(p)))
                for p in exc.problems
            ]  # fmt: skip
        ) from None
    written = None
    if not dry_run:
        if settings.forms_dir is None:
            raise HTTPException(409, Msg(N_("Set POLLWATCH_FORMS_DIR to import checklists")))
        try:
            written = done.write(settings.forms_dir).name
        except ValueError as exc:
            raise HTTPException(409, verbatim(str(exc))) from None
    return {"checklist": done.checklist, "warnings": done.warnings, "written": written}


@router.post("/users/import")
async def import_people(
    file: UploadFile,
    session: SessionDep,
    user: CurrentUser,
    election_id: int = Query(..., ge=1),
    dry_run: bool = True,
) -> dict:
    """Create observers, assign and accredit them from a CSV file (admin, coordinator). Every
    line is checked first; with a problem nothing is written (422, each by line and column).
    ``dry_run`` (the default) only plans. The generated passwords are in this response only."""
    raw = await file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(
            [invalid(["body", "file"], N_("not UTF-8 text: byte {byte}"), byte=exc.start)]
        ) from None
    plan = people.plan_people(session, user, text, election_id, file.filename or "people.csv")
    if not plan.ok:
        raise Invalid(
            [invalid(["body", "file", p.line, p.column or ""], p.msg()) for p in plan.problems]
        )
    out: dict = {
        "dry_run": dry_run,
        "summary": plan.summary(),
        "actions": [p.describe() for p in plan.people],
    }
    if not dry_run:
        out["passwords"] = people.apply_people(session, user, plan)
        session.commit()
    return out


@router.get("/export/submissions")
def export_submissions(
    session: SessionDep,
    user: CurrentUser,
    format: str = "csv",
    kind: str | None = None,
    election_id: int | None = None,
) -> Response:
    """The submissions the caller reads, as ``csv``, ``xlsx`` or ``geojson`` (people as
    pseudonyms; text cells made safe for spreadsheets)."""
    body = exports.export_submissions(session, user, format, kind=kind, election_id=election_id)
    name = f"submissions{'-' + kind if kind else ''}.{format}"
    return Response(
        content=body,
        media_type=exports.FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
