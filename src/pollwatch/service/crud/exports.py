"""Submissions (checklists, incidents, protocol copies) exported as CSV, XLSX and GeoJSON
(issue 22; formats in docs/forms-and-people.md).

Rows are those the user reads in the service (``crud.submissions.visible_submissions``, the
one permission rule: admins, coordinators and analysts every row, an observer or camera watcher
their own, others refused). People appear as the census export names them: a stable pseudonym
``p-…`` (``evidence.keys.pseudonym``) for the observer and the reviewer, never a username,
name or phone. Answers become one ``answer.<question id>`` column each.

Spreadsheet formula injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written with a leading apostrophe in CSV and XLSX (OWASP's advice), so
Excel or LibreOffice show it as text instead of running it; numbers stay numbers.

GeoJSON: one Point feature per submission at its *station's* coordinates (``stations.lat`` /
``lon``, from the election import); a station without coordinates gives ``"geometry": null``
(RFC 7946 §3.2) and is counted in the collection's ``note``. The service keeps no observer
positions (photos lose their GPS on upload), so a point is never where the observer stood."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.evidence.keys import pseudonym
from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service.crud.submissions import visible_submissions
from pollwatch.service.errors import Invalid, invalid

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
KINDS = ("checklist", "incident", "protocol")
BASE_COLUMNS = (
    "id", "kind", "form", "election_id", "station", "lat", "lon", "observer", "channel",
    "status", "quarantined", "complete", "severity", "occurred_at", "created_at", "updated_at",
    "reviewer", "review_reason", "flags", "description",
)  # fmt: skip
_RISKY = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 1_000_000  # XLSX's row limit is 1,048,576


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a spreadsheet shows it without evaluating it: text that a spreadsheet would
    read as a formula gets a leading apostrophe; numbers, booleans and None pass unchanged."""
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


def _iso(v: dt.datetime | None) -> str | None:
    return v.isoformat(timespec="seconds") if v else None


def submission_rows(
    session: Session,
    user: m.User,
    *,
    kind: str | None = None,
    election_id: int | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows ``user`` may export, oldest first (values raw: not yet made
    spreadsheet-safe)."""
    if kind is not None and kind not in KINDS:
        raise Invalid(
            [
                invalid(
                    ["query", "kind"],
                    N_("kind {kind} is not one of {choices}"),
                    kind=repr(kind),
                    choices=str(list(KINDS)),
                )
            ]
        )
    q = visible_submissions(session, user)
    if kind:
        q = q.where(m.Submission.kind == kind)
    sub = q.subquery()
    stmt = (
        select(m.Submission, m.Station)
        .join(sub, sub.c.id == m.Submission.id)
        .join(m.Station, m.Station.id == m.Submission.station_id)
        .order_by(m.Submission.id)
    )
    if election_id is not None:
        stmt = stmt.where(m.Station.election_id == election_id)
    secret = session.info["pseudonym_secret"]
    rows: list[dict[str, Any]] = []
    answer_cols: dict[str, None] = {}
    for s, st in session.execute(stmt.limit(MAX_ROWS + 1)):
        if len(rows) == MAX_ROWS:
            raise Invalid([invalid(["query"], N_("more than {n} submissions: export one kind or election at a time"), n=MAX_ROWS)])  # fmt: skip
        row: dict[str, Any] = {
            "id": s.id,
            "kind": s.kind,
            "form": s.form,
            "election_id": st.election_id,
            "station": st.code,
            "lat": st.lat,
            "lon": st.lon,
            "observer": pseudonym(secret, s.observer_id),
            "channel": s.channel,
            "status": s.status,
            "quarantined": s.quarantined,
            "complete": s.complete,
            "severity": s.severity,
            "occurred_at": _iso(s.occurred_at),
            "created_at": _iso(s.created_at),
            "updated_at": _iso(s.updated_at),
            "reviewer": pseudonym(secret, s.reviewer_id) if s.reviewer_id else None,
            "review_reason": s.review_reason or None,
            "flags": json.dumps(s.flags, ensure_ascii=False) if s.flags else None,
            "description": s.description or None,
        }
        for k, v in (s.answers or {}).items():
            col = f"answer.{k}"
            answer_cols.setdefault(col)
            row[col] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
        rows.append(row)
    return [*BASE_COLUMNS, *sorted(answer_cols)], rows


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else spreadsheet_safe(r.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel then reads UTF-8


def to_xlsx(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("submissions")
    ws.append(columns)
    for r in rows:
        ws.append([spreadsheet_safe(r.get(c)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_geojson(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    features = []
    unplaced = 0
    for r in rows:
        props = {c: r.get(c) for c in columns if c not in ("lat", "lon")}
        if r.get("lat") is None or r.get("lon") is None:
            geometry = None
            unplaced += 1
        else:
            geometry = {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
        features.append({"type": "Feature", "id": r["id"], "geometry": geometry, "properties": props})  # fmt: skip
    note = (
        "Each point is the station's location from the election import, not the observer's. "
        f"{unplaced} of {len(rows)} submissions are at stations without coordinates "
        "(geometry null)."
    )
    doc = {"type": "FeatureCollection", "note": note, "features": features}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "geojson": to_geojson}


def export_submissions(
    session: Session,
    user: m.User,
    fmt: str,
    *,
    kind: str | None = None,
    election_id: int | None = None,
) -> bytes:
    """The submissions ``user`` may read, in ``fmt`` (csv, xlsx or geojson)."""
    if fmt not in WRITERS:
        raise Invalid([invalid(["query", "format"], N_("format {format} is not one of {choices}"), format=repr(fmt), choices=str(list(WRITERS)))])  # fmt: skip
    columns, rows = submission_rows(session, user, kind=kind, election_id=election_id)
    return WRITERS[fmt](columns, rows)
