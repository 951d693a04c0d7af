"""Double-blind transcription of protocol photos (issue 21, ``docs/census.md`` §7).

1. **Upload** (``upload_sheets``): a photo per sheet, stored through the media store (metadata
   stripped, the original's SHA-256 in the media row's audit entry), one ``CensusSheet`` per
   photo with its station (given, or read from the sheet's QR code), layout, uploader and
   collector. A PDF is rendered page by page first (``expand_pdfs``): each page is one sheet,
   its PNG the sheet's photo, the PDF itself stored once as received with the page number and
   the PDF's SHA-256 on the sheet (``machine["source"]``). The photo's EXIF time and place are
   read from the bytes as received, before the stored copies lose them, and checked against
   the election day and the station's position (``machine["exif"]``: the findings and the
   distance, never the coordinates). The machine reading (``pollwatch.census.ocr.read_sheet``: QR, then Tesseract
   where installed) is stored with the sheet as a third opinion for the arbiter only.
2. **Transcription** (``next_sheet``, ``submit_transcription``): a volunteer gets a sheet they
   neither uploaded nor collected nor typed, sees the photo and an empty form, and types it.
   Nothing they can read shows another's numbers or the machine's. A retried submission
   (the same ``client_id``) is the same transcription.
3. **Agreement** (``_settle``): after the second transcription, a sheet whose two sets of
   numbers agree in every box and pass the census's checks is accepted ("agreed"); any other
   goes to arbitration, where staff who typed none of it see both and the machine reading with
   the differing boxes marked (``arbitration_view``) and enter the numbers (``arbitrate``). A
   sheet that fails its checks is accepted only with a reason, and its findings are kept.
4. **Export** (``export_csv``): accepted sheets as a sheets file for ``pollwatch census check``;
   ``census_stats``: the share accepted without arbitration.

Every step is an audit entry: the sheet's "create", each transcription's "create", the sheet's
"settle" (agreed: accepted; or sent to arbitration), "arbitrate" and "accept".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pollwatch.census.intake import NEAR, dhash, exif_time_place, time_place_findings
from pollwatch.census.layouts import LAYOUTS, layout
from pollwatch.census.ocr import read_sheet
from pollwatch.census.pdf import is_pdf, render_pages
from pollwatch.census.transcription import (
    differing,
    share_without_arbitration,
    sheet_problems,
)
from pollwatch.evidence.keys import pseudonym
from pollwatch.evidence.media import MAX_PIXELS, MediaStore, sha256_bytes
from pollwatch.i18n import N_
from pollwatch.service import audit, db, permissions
from pollwatch.service import models as m
from pollwatch.service.crud.elections import get_election
from pollwatch.service.crud.media import store_media
from pollwatch.service.errors import Conflict, Invalid, NotFound, invalid, verbatim
from pollwatch.service.models import SheetStatus, utcnow

__all__ = [
    "arbitrate",
    "arbitration_view",
    "census_counts",
    "census_stats",
    "expand_pdfs",
    "export_csv",
    "get_sheet",
    "list_sheets",
    "next_sheet",
    "sheet_fields",
    "submit_transcription",
    "upload_sheets",
]

MAX_COUNT = 10_000_000  # more voters than any station has: a typo, not a count
MAX_SHEETS = 400  # sheets (photos and PDF pages) in one upload: bounds the seconds of OCR
MAX_KM = 2.0  # a photo taken farther from its station is a finding (as census import)
_NS = uuid.UUID("7d1f4c52-6b0e-4bb8-9a55-3c2f0d6a9e21")  # client ids derived from the photo


def candidates_of(election: m.Election) -> tuple[str, ...]:
    return tuple(str(c["name"]) for c in election.candidates)


def sheet_fields(election: m.Election, layout_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(protocol lines, candidates)`` of a sheet: every box the volunteer types, in order."""
    lay = layout(layout_name)
    return tuple(f for _, _, f in lay.lines), candidates_of(election)


def get_sheet(session: Session, sheet_id: int) -> m.CensusSheet:
    sheet = session.get(m.CensusSheet, sheet_id)
    if sheet is None:
        raise NotFound(N_("Sheet not found"))
    return sheet


def typists(session: Session, sheet_id: int) -> list[int]:
    """Who has typed the sheet, in order."""
    t = m.CensusTranscription
    return list(session.scalars(select(t.user_id).where(t.sheet_id == sheet_id).order_by(t.id)))


# ---- 1. upload ---------------------------------------------------------------------------------


def _machine(data: bytes, layout_name: str, cands: tuple[str, ...]) -> dict[str, Any]:
    """The machine's reading as stored: ``{"fields": {box: [value, confidence, source]},
    "station", "sheet", "notes"}``; a photo OpenCV cannot read is a note, not a failure."""
    try:
        r = read_sheet(data, layout(layout_name), cands)
    except ImportError:
        return {"fields": {}, "station": None, "sheet": None, "notes": ["OpenCV (the video extra) is not installed: no QR or OCR"]}  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - an aid: its failure (OpenCV, Tesseract) never blocks an upload
        return {"fields": {}, "station": None, "sheet": None, "notes": [f"not read: {type(exc).__name__}: {str(exc)[:200]}"]}  # fmt: skip
    return {
        "fields": {f.field: [f.value, round(f.confidence, 3), f.source] for f in r.fields},
        "station": r.station_id,
        "sheet": r.sheet_id,
        "notes": list(r.notes),
    }


def read_photos(
    session: Session,
    election_id: int,
    layout_name: str,
    files: Sequence[tuple[str, bytes, str]],
    *,
    enabled: bool = True,
) -> list[dict[str, Any]]:
    """The machine readings of photos about to be uploaded, made *outside* any write
    transaction (SQLite's write lock is not held for the seconds OCR takes): the election's
    candidates are read in a read transaction that ends before the first photo is read."""
    db.begin_read(session)
    cands = candidates_of(get_election(session, election_id))
    session.commit()
    if layout_name not in LAYOUTS:
        return [{} for _ in files]  # upload_sheets names the problem
    off: dict[str, Any] = {"fields": {}, "station": None, "sheet": None, "notes": []}
    return [
        _machine(data, layout_name, cands)
        if enabled and ctype.startswith("image/")
        else {**off, "notes": ["machine reading turned off"]}
        for _, data, ctype in files
    ]


def expand_pdfs(
    files: Sequence[tuple[str, bytes, str]],
) -> tuple[list[tuple[str, bytes, str]], dict[str, tuple[bytes, int, int]]]:
    """Uploads with every PDF replaced by its pages: ``("scan.pdf#page=N", PNG, "image/png")``,
    and for each page name ``(the PDF's bytes, page, pages)``. A PDF that is encrypted, broken,
    longer than 20 pages or with a page too large to render is refused (``Invalid``, naming the
    file and the reason) before anything is stored."""
    out: list[tuple[str, bytes, str]] = []
    pdfs: dict[str, tuple[bytes, int, int]] = {}
    for name, data, ctype in files:
        if ctype != "application/pdf" and not is_pdf(data):
            out.append((name, data, ctype))
            continue
        try:
            pages = render_pages(data)
        except ImportError:
            raise Invalid([invalid(["body", "files", name], N_("{name}: PDFs cannot be read here (PyMuPDF, the census extra, is not installed); upload photos"), name=name)]) from None  # fmt: skip
        except ValueError as exc:
            raise Invalid(
                [
                    invalid(
                        ["body", "files", name],
                        N_("{name}: {error}"),
                        name=name,
                        error=verbatim(str(exc)),
                    )
                ]
            ) from None
        for p in pages:
            label = f"{name}#page={p.page}"
            out.append((label, p.png, "image/png"))
            pdfs[label] = (data, p.page, p.pages)
        if len(out) > MAX_SHEETS:  # checked after each PDF: no more than one rendered in vain
            break
    if len(out) > MAX_SHEETS:
        raise Invalid([invalid(["body", "files"], N_("more than {n} sheets (photos and PDF pages) at once"), n=MAX_SHEETS)])  # fmt: skip
    return out, pdfs


def _exif_check(data: bytes, election: m.Election, station: m.Station) -> dict[str, Any]:
    """The photo's EXIF time and place against the election day and the station: the findings
    and the distance in km (None without both positions). The coordinates are not kept."""
    when, pos = exif_time_place(data)
    try:
        day = dt.date.fromisoformat(election.date) if election.date else None
    except ValueError:  # a date the election form did not check: no time check
        day = None
    place = (station.lat, station.lon) if station.lat is not None and station.lon is not None else None  # fmt: skip
    findings, km = time_place_findings(when, pos, day, place, MAX_KM)
    return {
        "time": when is not None,
        "place": pos is not None,
        "km": None if km is None else round(km, 2),
        "findings": findings,
    }


def upload_sheets(
    session: Session,
    store: MediaStore,
    user: m.User,
    election_id: int,
    files: Sequence[tuple[str, bytes, str]],
    *,
    layout_name: str,
    station_id: int | None = None,
    collector_id: int | None = None,
    max_pixels: int = MAX_PIXELS,
    written: list[str] | None = None,
    machines: Sequence[dict[str, Any]] | None = None,
    pdfs: Mapping[str, tuple[bytes, int, int]] | None = None,
) -> list[tuple[m.CensusSheet, bool]]:
    """Store protocol photos ``(filename, bytes, content type)`` of one election as sheets.

    ``machines``: the photos' readings from ``read_photos`` (read here when not given). The
    station is ``station_id`` or, without it, the one the sheet's QR code names; a QR code
    naming another station than the one given is kept as a finding of the sheet. The collector
    is ``collector_id`` (staff uploading for a collector) or the uploader. The same photo filed
    again in the election (by anyone) is the sheet already there: ``(sheet, False)``.
    ``pdfs``: the pages of PDFs, from ``expand_pdfs`` (called here when not given).
    """
    if pdfs is None:
        files, pdfs = expand_pdfs(files)
    election = get_election(session, election_id)
    if layout_name not in LAYOUTS:
        raise Invalid(
            [
                invalid(
                    ["body", "layout"],
                    N_("layout must be one of {choices}"),
                    choices=", ".join(LAYOUTS),
                )
            ]
        )
    if not files:
        raise Invalid([invalid(["body", "files"], N_("no photo uploaded"))])
    given = session.get(m.Station, station_id) if station_id is not None else None
    if station_id is not None and (given is None or given.election_id != election_id):
        raise Invalid([invalid(["body", "station_id"], N_("no such station in this election"))])
    collector = user
    if collector_id is not None and collector_id != user.id:
        permissions.require(user, permissions.STAFF)  # only staff file for someone else
        found = session.get(m.User, collector_id)
        if found is None:
            raise Invalid([invalid(["body", "collector_id"], N_("no such user"))])
        collector = found
    cands = candidates_of(election)
    out = []
    for k, (name, data, ctype) in enumerate(files):
        loc = ["body", "files", name]
        if not ctype.startswith("image/"):
            raise Invalid(
                [
                    invalid(
                        loc,
                        N_("{name}: not a photo ({type}); upload JPEG, PNG or PDF"),
                        name=name,
                        type=ctype,
                    )
                ]
            )
        machine = dict(machines[k]) if machines is not None else _machine(data, layout_name, cands)
        machine["notes"] = list(machine.get("notes", []))
        station, source = given, "given"
        qr_station = machine.get("station")
        if qr_station:
            by_qr = session.scalar(
                select(m.Station).where(
                    m.Station.election_id == election_id, m.Station.code == str(qr_station)
                )
            )
            if given is None:
                station, source = by_qr, "qr"
                if by_qr is None:
                    raise Invalid([invalid(loc, N_("{name}: the QR code names station {station}, not in this election"), name=name, station=repr(qr_station))])  # fmt: skip
            elif by_qr is None or by_qr.id != given.id:
                machine["notes"].append(
                    f"filed under station {given.code}, but its QR code names {qr_station}"
                )
        if station is None:
            raise Invalid(
                [invalid(loc, N_("{name}: no station given and no QR code names one"), name=name)]
            )
        permissions.check_census_upload(session, user, station)
        digest = sha256_bytes(data)
        prior = _same_photo(session, election_id, digest)
        if prior is not None:  # after the check: a refused uploader learns nothing of it
            out.append((prior, False))
            continue
        try:
            h: str | None = dhash(data)
        except Exception:  # noqa: BLE001 - Pillow cannot read it: store_media names the problem
            h = None
        near = _near_photos(session, election_id, h) if h else []
        for other, code, d in near:
            machine["notes"].append(
                f"looks like the photo of sheet #{other} (station {code}): {d} of 256 bits apart"
            )
        # from the bytes as received: the stored original and the published copy are stripped
        exif = _exif_check(data, election, station)
        machine["exif"] = exif
        machine["notes"] += [f"photo: {f}" for f in exif["findings"]]
        if name in pdfs:
            pdf, page, pages = pdfs[name]
            pdf_digest = sha256_bytes(pdf)
            pdf_media, _ = store_media(
                session, store, user, str(uuid.uuid5(_NS, f"pdf:{user.id}:{election_id}:{pdf_digest}")),
                pdf, "application/pdf", max_pixels=max_pixels, written=written,
            )  # fmt: skip
            machine["source"] = {
                "pdf": name.rsplit("#page=", 1)[0],
                "pdf_sha256": pdf_digest,
                "pdf_media_id": pdf_media.id,
                "page": page,
                "pages": pages,
            }
        key = f"{user.id}:{election_id}:{digest}"
        media, _ = store_media(
            session, store, user, str(uuid.uuid5(_NS, "media:" + key)), data, ctype,
            max_pixels=max_pixels, written=written,
        )  # fmt: skip
        sheet = m.CensusSheet(
            client_id=str(uuid.uuid5(_NS, "sheet:" + key)),
            election_id=election_id,
            station_id=station.id,
            layout=layout_name,
            media_id=media.id,
            uploader_id=user.id,
            collector_id=collector.id,
            station_source=source,
            dhash=h,
            machine=machine,
            status=SheetStatus.transcribing,
            problems=[],
        )
        session.add(sheet)
        audit.record(session, user.id, "create", sheet)
        out.append((sheet, True))
    return out


def _near_photos(session: Session, election_id: int, h: str) -> list[tuple[int, str, int]]:
    """``(sheet id, station code, bits apart)`` of the election's photos within ``NEAR`` bits
    of ``h`` (the threshold of ``census.intake``: one photo re-encoded differs by 0-2 bits,
    different sheets by 25-39)."""
    v = int(h, 16)
    rows = session.execute(
        select(m.CensusSheet.id, m.Station.code, m.CensusSheet.dhash)
        .join(m.Station, m.Station.id == m.CensusSheet.station_id)
        .where(m.CensusSheet.election_id == election_id, m.CensusSheet.dhash.is_not(None))
    )
    out = []
    for sid, code, other in rows:
        d = bin(v ^ int(other or "0", 16)).count("1")  # (never None: filtered above)
        if d <= NEAR:
            out.append((sid, code, d))
    return out


def photo_problems(session: Session, sheet: m.CensusSheet, values: Mapping[str, Any]) -> list[str]:
    """One photo counted for two stations: a sheet whose photo is within ``NEAR`` bits of a
    photo filed for another station *and* whose numbers equal that sheet's (accepted or typed
    by anyone), whichever of the two was filed first. The hash alone is not enough: clean
    drawings of one form with different numbers came out only 4-9 bits apart (synthetic
    sheets, no phone degradation); a reused photo has the same numbers by construction."""
    if not sheet.dhash:
        return []
    station = session.get(m.Station, sheet.station_id)
    out = []
    for k, code, _ in _near_photos(session, sheet.election_id, sheet.dhash):
        if k == sheet.id or station is None or code == station.code:
            continue
        other = session.get(m.CensusSheet, k)
        seen = [other.final] if other is not None and other.final else []
        seen += session.scalars(
            select(m.CensusTranscription.values).where(m.CensusTranscription.sheet_id == k)
        ).all()
        if any(dict(v) == dict(values) for v in seen):
            out.append(f"photo: the same photo and numbers as sheet #{k} of station {code}")
    return out


def _same_photo(session: Session, election_id: int, digest: str) -> m.CensusSheet | None:
    """A sheet of the election whose photo has these bytes (as received or as stored)."""
    md = m.Media
    return session.scalar(
        select(m.CensusSheet)
        .join(md, md.id == m.CensusSheet.media_id)
        .where(
            m.CensusSheet.election_id == election_id,
            (md.sha256 == digest) | (md.received_sha256 == digest),
        )
        .limit(1)
    )


# ---- 2. transcription --------------------------------------------------------------------------


def next_sheet(session: Session, user: m.User, election_id: int | None = None) -> m.CensusSheet | None:  # fmt: skip
    """The sheet ``user`` should type next: one waiting for transcriptions that they neither
    uploaded, collected nor typed; sheets with one transcription first (a pair finished is a
    sheet settled), then in an order of the user's own (no two volunteers start on one sheet
    unless few are left)."""
    permissions.require(user, permissions.TRANSCRIBERS)
    s, t = m.CensusSheet, m.CensusTranscription
    n = select(func.count(t.id)).where(t.sheet_id == s.id).correlate(s).scalar_subquery()
    mine = select(t.sheet_id).where(t.user_id == user.id)
    q = select(s).where(
        s.status == SheetStatus.transcribing,
        s.uploader_id != user.id,
        s.collector_id != user.id,
        s.id.not_in(mine),
        n < 2,
    )
    if election_id is not None:
        q = q.where(s.election_id == election_id)
    # among equally typed sheets, each volunteer's own pseudo-random order: volunteers asking
    # at once get different sheets instead of all racing for the oldest one,
    # unless few are left (golden-ratio steps modulo a prime: sheets and users both spread;
    # every product stays below 2^31, PostgreSQL's integer)
    p = 46337
    spread = ((s.id % p) * 28638 % p + (user.id % p) * 17700 % p) % p
    return session.scalar(q.order_by(n.desc(), spread, s.id).limit(1))


def clean_values(fields: Sequence[str], raw: Mapping[str, Any], where: str = "values") -> dict[str, int | None]:  # fmt: skip
    """Every box of the sheet: a whole number 0-9,999,999, or None (blank: illegible)."""
    problems = []
    out: dict[str, int | None] = {}
    for f in raw:
        if f not in fields:
            problems.append(
                invalid(["body", where, f], N_("{box} is not a box of this sheet"), box=repr(f))
            )
    for f in fields:
        if f not in raw:
            problems.append(
                invalid(["body", where, f], N_("missing (send null for an illegible box)"))
            )
            continue
        v = raw[f]
        if v is None or (isinstance(v, str) and not v.strip()):
            out[f] = None
            continue
        try:
            if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                raise ValueError
            n = int(v.strip()) if isinstance(v, str) else int(v)
        except (TypeError, ValueError):
            problems.append(
                invalid(
                    ["body", where, f], N_("expected a whole number, found {value}"), value=repr(v)
                )
            )
            continue
        if not 0 <= n < MAX_COUNT:
            problems.append(invalid(["body", where, f], N_("expected 0 to {max}, found {value}"), max=f"{MAX_COUNT - 1:,}", value=n))  # fmt: skip
            continue
        out[f] = n
    if problems:
        raise Invalid(problems)
    return out


def submit_transcription(
    session: Session, user: m.User, sheet_id: int, client_id: str, values: Mapping[str, Any]
) -> tuple[m.CensusTranscription, bool]:
    """Store ``user``'s numbers for the sheet; ``(row, False)`` for a retry of the same
    ``client_id``. The second transcription settles the sheet (``_settle``)."""
    prior = session.scalar(
        select(m.CensusTranscription).where(m.CensusTranscription.client_id == client_id)
    )
    if prior is not None:
        if prior.user_id != user.id or prior.sheet_id != sheet_id:
            raise Conflict(N_("client_id already used for another transcription"))
        return prior, False
    audit.lock(session)  # before counting: two volunteers finishing one sheet at once
    sheet = get_sheet(session, sheet_id)
    who = typists(session, sheet_id)
    permissions.check_transcribe(user, sheet, who)
    lines, cands = sheet_fields(session.get(m.Election, sheet.election_id), sheet.layout)  # type: ignore[arg-type]
    row = m.CensusTranscription(
        client_id=client_id,
        sheet_id=sheet.id,
        user_id=user.id,
        values=clean_values((*lines, *cands), values),
    )
    session.add(row)
    audit.record(session, user.id, "create", row)
    if len(who) == 1:
        _settle(session, user, sheet, lines, cands)
    return row, True


def _settle(
    session: Session,
    user: m.User,
    sheet: m.CensusSheet,
    lines: tuple[str, ...],
    cands: tuple[str, ...],
) -> None:
    a, b = (
        r.values
        for r in session.scalars(
            select(m.CensusTranscription)
            .where(m.CensusTranscription.sheet_id == sheet.id)
            .order_by(m.CensusTranscription.id)
        )
    )
    diff = differing(a, b, (*lines, *cands))
    problems = (
        sheet_problems(a, lines, cands) + photo_problems(session, sheet, a) if not diff else []
    )
    sheet.updated_at = utcnow()
    if not diff and not problems:
        sheet.final, sheet.status, sheet.resolution = dict(a), SheetStatus.accepted, "agreed"
        audit.record(session, user.id, "accept", sheet)
        return
    sheet.status = SheetStatus.arbitration
    sheet.problems = [f"differ: {', '.join(diff)}"] if diff else problems
    audit.record(session, user.id, "to_arbitration", sheet)


# ---- 3. arbitration ----------------------------------------------------------------------------


def arbitration_view(session: Session, user: m.User, sheet_id: int) -> dict[str, Any]:
    """Everything the arbiter compares, box by box: both transcriptions, the machine reading
    with its confidence, whether the two differ, and the checks of each transcription."""
    sheet = get_sheet(session, sheet_id)
    rows = list(
        session.scalars(
            select(m.CensusTranscription)
            .where(m.CensusTranscription.sheet_id == sheet.id)
            .order_by(m.CensusTranscription.id)
        )
    )
    permissions.check_arbitrate(user, sheet, [r.user_id for r in rows])
    election = get_election(session, sheet.election_id)
    lines, cands = sheet_fields(election, sheet.layout)
    fields = (*lines, *cands)
    values = [r.values for r in rows]
    diff = set(differing(values[0], values[1], fields)) if len(values) == 2 else set()
    machine = sheet.machine.get("fields", {})
    station = session.get(m.Station, sheet.station_id)
    return {
        "sheet_id": sheet.id,
        "station": station.code if station else None,
        "layout": sheet.layout,
        "status": sheet.status,
        "lines": list(lines),
        "candidates": list(cands),
        "boxes": [
            {
                "field": f,
                "transcriptions": [v.get(f) for v in values],
                "machine": (machine.get(f) or [None, 0.0, ""])[0],
                "machine_confidence": (machine.get(f) or [None, 0.0, ""])[1],
                "differs": f in diff,
            }
            for f in fields
        ],
        "checks": [sheet_problems(v, lines, cands) for v in values],
        "machine_notes": sheet.machine.get("notes", []),
        "problems": list(sheet.problems),
        "final": sheet.final,
        "resolution": sheet.resolution,
        "reason": sheet.reason,
    }


def arbitrate(
    session: Session,
    user: m.User,
    sheet_id: int,
    values: Mapping[str, Any],
    reason: str = "",
    *,
    reject: bool = False,
) -> m.CensusSheet:
    """The arbiter's numbers for a sheet in arbitration, checked before acceptance: a sheet
    that fails its checks is accepted only with ``reason``, its findings kept with it. With
    ``reject`` (and a reason: not a protocol, illegible, a copy of another station's) the sheet
    is kept, audited and counted as rejected, never exported."""
    audit.lock(session)
    sheet = get_sheet(session, sheet_id)
    permissions.check_arbitrate(user, sheet, typists(session, sheet_id))
    if sheet.status != SheetStatus.arbitration:
        raise Conflict(
            N_("This sheet is not in arbitration (it is {status})"), status=str(sheet.status)
        )
    if reject:
        if not reason.strip():
            raise Invalid([invalid(["body", "reason"], N_("say why the sheet is rejected"))])
        sheet.arbiter_id, sheet.reason, sheet.updated_at = user.id, reason.strip(), utcnow()
        sheet.status, sheet.resolution = SheetStatus.rejected, "rejected"
        audit.record(session, user.id, "reject", sheet)
        return sheet
    lines, cands = sheet_fields(get_election(session, sheet.election_id), sheet.layout)
    final = clean_values((*lines, *cands), values)
    problems = sheet_problems(final, lines, cands) + photo_problems(session, sheet, final)
    reason = reason.strip()
    if problems and not reason:
        raise Invalid(
            [
                invalid(
                    ["body", "reason"],
                    N_(
                        "the sheet fails its checks: {problems}. Correct the numbers, or give the "
                        "reason to accept the sheet as it is"
                    ),
                    problems=verbatim("; ".join(problems)),  # the checks' own English notes
                )
            ]  # fmt: skip
        )
    sheet.final, sheet.arbiter_id, sheet.problems = final, user.id, problems
    sheet.reason = reason if problems else ""
    sheet.updated_at = utcnow()
    audit.record(session, user.id, "arbitrate", sheet)
    sheet.status, sheet.resolution = SheetStatus.accepted, "arbitrated"
    audit.record(session, user.id, "accept", sheet)
    return sheet


# ---- 4. reading, export and the agreement share -------------------------------------------------


def list_sheets(session: Session, user: m.User, election_id: int) -> list[dict[str, Any]]:
    """The election's sheets: station, status, transcriptions so far, how accepted, and the
    accepted numbers (never a transcription's: those are the arbiter's)."""
    permissions.check_read_census(user)
    get_election(session, election_id)
    t = m.CensusTranscription
    counts = dict(
        session.execute(
            select(t.sheet_id, func.count(t.id))
            .join(m.CensusSheet, m.CensusSheet.id == t.sheet_id)
            .where(m.CensusSheet.election_id == election_id)
            .group_by(t.sheet_id)
        ).all()
    )
    rows = session.execute(
        select(m.CensusSheet, m.Station.code)
        .join(m.Station, m.Station.id == m.CensusSheet.station_id)
        .where(m.CensusSheet.election_id == election_id)
        .order_by(m.CensusSheet.id)
    ).all()
    return [
        {
            "id": s.id,
            "station": code,
            "layout": s.layout,
            "status": s.status,
            "transcriptions": counts.get(s.id, 0),
            "resolution": s.resolution,
            "final": s.final if s.status == SheetStatus.accepted else None,
            "problems": list(s.problems) if s.status == SheetStatus.accepted else [],
            "reason": s.reason,
            "findings": list(s.machine.get("exif", {}).get("findings", [])),
            "page": s.machine.get("source", {}).get("page"),
            "created_at": s.created_at.isoformat(),
        }
        for s, code in rows
    ]


def census_stats(session: Session, user: m.User, election_id: int) -> dict[str, Any]:
    """Sheets by status, and the share of accepted sheets that needed no arbiter."""
    permissions.check_read_census(user)
    return census_counts(session, election_id)


def census_counts(session: Session, election_id: int) -> dict[str, Any]:
    """``census_stats`` without the permission check (the CLI holds the database itself)."""
    get_election(session, election_id)
    s = m.CensusSheet
    by = dict(
        session.execute(
            select(s.status, func.count(s.id))
            .where(s.election_id == election_id)
            .group_by(s.status)
        ).all()
    )
    res = dict(
        session.execute(
            select(s.resolution, func.count(s.id))
            .where(s.election_id == election_id, s.status == SheetStatus.accepted)
            .group_by(s.resolution)
        ).all()
    )
    share = share_without_arbitration(res.get("agreed", 0), res.get("arbitrated", 0))
    return {
        "sheets": sum(by.values()),
        **{st.value: by.get(st.value, 0) for st in SheetStatus},
        **share.to_dict(),
    }


def export_csv(session: Session, election_id: int, lines_order: Iterable[str] | None = None) -> str:  # fmt: skip
    """The accepted sheets of the election as a sheets file (``docs/census.md`` §1.1) that
    ``pollwatch census check`` reads: one row per sheet, ``station_id`` the station's code,
    ``sheet_id``, ``image_sha256`` (the photo as received), ``collector`` (a pseudonym),
    ``received_at``, ``note`` (how it was accepted, and the reason where a failing sheet was
    accepted), then the protocol lines of the sheets' layouts and one column per candidate.
    A blank cell is a box the sheet left illegible. No permission check: callers check."""
    election = get_election(session, election_id)
    rows = session.execute(
        select(m.CensusSheet, m.Station.code, m.Media)
        .join(m.Station, m.Station.id == m.CensusSheet.station_id)
        .join(m.Media, m.Media.id == m.CensusSheet.media_id)
        .where(
            m.CensusSheet.election_id == election_id,
            m.CensusSheet.status == SheetStatus.accepted,
        )
        .order_by(m.Station.code, m.CensusSheet.id)
    ).all()
    cands = candidates_of(election)
    lines: list[str] = list(lines_order or [])
    for name in sorted({s.layout for s, _, _ in rows}):
        lines += [f for _, _, f in layout(name).lines if f not in lines]
    secret = session.info.get("pseudonym_secret")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    meta = ["station_id", "sheet_id", "image_sha256", "collector", "received_at", "note"]
    w.writerow([*meta, *lines, *cands])
    for s, code, media in rows:
        final = s.final or {}
        note = s.resolution + (f": accepted failing its checks because {s.reason}" if s.reason else "")  # fmt: skip
        src = s.machine.get("source")
        if src:
            note += f"; page {src['page']} of {src['pages']} of PDF {src['pdf_sha256']}"
        note += "".join(f"; photo {f}" for f in s.machine.get("exif", {}).get("findings", []))
        collector = pseudonym(secret, s.collector_id) if secret else f"user-{s.collector_id}"
        w.writerow(
            [
                code,
                s.machine.get("sheet") or f"pw-{s.id}",
                media.received_sha256 or media.sha256,
                collector,
                s.created_at.isoformat(timespec="seconds"),
                note,
                *("" if final.get(f) is None else final[f] for f in (*lines, *cands)),
            ]
        )
    return out.getvalue()
