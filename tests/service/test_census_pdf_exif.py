"""Census uploads in the service (issue 21, docs/census.md §7): a PDF protocol is one sheet per
page, read like a photo; a photo's EXIF time and place are checked before the stored copies
lose them, and only the findings and the distance are kept."""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image

from pollwatch.evidence.media import sha256_bytes
from pollwatch.service import models as m

from .conftest import make_ctx  # noqa: TID252
from .test_census_transcription import TRUE, add_transcribers, photo, typed, upload  # noqa: TID252

pymupdf = pytest.importorskip("pymupdf", reason="PDF protocols need the census extra")


def with_exif(data: bytes, when: str | None, gps: tuple[float, float] | None) -> bytes:
    """The sheet as a JPEG carrying an EXIF time and GPS position, as a phone writes them."""
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[36867] = when
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "N", (gps[0], 0.0, 0.0)
        g[3], g[4] = "E", (gps[1], 0.0, 0.0)
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def pdf_of(*pages: bytes, **save) -> bytes:
    doc = pymupdf.open()
    for png in pages:
        w, h = Image.open(io.BytesIO(png)).size
        page = doc.new_page(width=w * 72 / 150, height=h * 72 / 150)
        page.insert_image(page.rect, stream=png)
    return doc.tobytes(**save)


def _ctx(tmp_path, reading: bool):
    ctx = make_ctx(tmp_path)
    ctx.app.state.settings.census_machine_reading = reading
    with ctx.session() as s:
        s.get(m.Election, ctx.election_id).date = "2024-02-07"
        st = s.get(m.Station, ctx.stations[0])
        st.lat, st.lon = 40.3, 49.0
        s.commit()
    return ctx


def test_exif_time_and_place_are_findings_without_the_coordinates(tmp_path):
    ctx = _ctx(tmp_path, reading=False)
    add_transcribers(ctx, "t1", "t2")
    far = with_exif(photo("1", 40), "2024:02:11 09:00:00", (40.0, 49.0))  # 33 km, 4 days on
    near = with_exif(photo("1", 41), "2024:02:08 01:30:00", (40.305, 49.0))  # the night after
    bare = with_exif(photo("1", 42), None, None)
    got = {}
    for k, data in (("far", far), ("near", near), ("bare", bare)):
        r = upload(ctx, "coordinator", data, station=ctx.stations[0])
        assert r.status_code == 201, r.text
        got[k] = r.json()["data"][0]
    with ctx.session() as s:
        ex = {k: s.get(m.CensusSheet, v["id"]).machine["exif"] for k, v in got.items()}
        media = s.get(m.Media, s.get(m.CensusSheet, got["far"]["id"]).media_id)
        stored = [ctx.app.state.store.get(h) for h in (media.sha256, media.published_sha256)]
    assert ex["far"]["findings"] == [
        "taken on 2024-02-11, not on election day 2024-02-07 or the night after",
        "taken 33.4 km from the station",
    ]
    assert ex["far"]["km"] == pytest.approx(33.36, abs=0.05)
    assert ex["near"] == {"time": True, "place": True, "km": pytest.approx(0.56, abs=0.01), "findings": []}  # fmt: skip
    assert ex["bare"] == {"time": False, "place": False, "km": None, "findings": []}
    assert "photo: taken 33.4 km from the station" in got["far"]["notes"]
    assert not any(n.startswith("photo: taken") for n in got["near"]["notes"] + got["bare"]["notes"])  # fmt: skip
    # the stored copies carry no GPS, and the coordinates are nowhere on the sheet
    assert all(not Image.open(io.BytesIO(b)).getexif().get_ifd(0x8825) for b in stored)
    assert "40.0" not in str(ex["far"]) and "49.0" not in str(ex["far"])
    # shown with the sheet, in the arbitration notes and in the export's note
    rows = {r["id"]: r for r in ctx.get("coordinator", f"/api/census/{ctx.election_id}/sheets").json()["data"]}  # fmt: skip
    assert rows[got["far"]["id"]]["findings"] == ex["far"]["findings"]
    assert rows[got["near"]["id"]]["findings"] == []
    view = ctx.get("coordinator", f"/api/census/sheets/{got['far']['id']}/arbitration").json()
    assert "photo: taken 33.4 km from the station" in view["machine_notes"]
    for who in ("t1", "t2"):
        assert typed(ctx, who, got["far"]["id"], TRUE).status_code == 201
    export = ctx.get("coordinator", f"/api/census/{ctx.election_id}/export")
    assert export.status_code == 200, export.text
    (row,) = [r for r in csv.DictReader(io.StringIO(export.text)) if r["note"]]
    assert "photo taken 33.4 km from the station" in row["note"]
    assert "photo taken on 2024-02-11" in row["note"]
    ctx.client.post("/login", data={"username": "coordinator", "password": "coordinator-pass"})
    page = ctx.client.get("/census", params={"election": ctx.election_id})
    assert page.status_code == 200 and "taken 33.4 km from the station" in page.text
    assert 'accept="image/*,application/pdf"' in page.text


def test_a_pdf_is_one_sheet_per_page_read_like_photos(tmp_path):
    ctx = _ctx(tmp_path, reading=True)
    pdf = pdf_of(photo("1", 50, qr=True), photo("2", 51, qr=True))
    r = ctx.post(
        "coordinator",
        f"/api/census/{ctx.election_id}/sheets",
        files=[("files", ("scan.pdf", pdf, "application/pdf"))],
        data={"layout": "azerbaijan"},
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert [d["station_id"] for d in data] == ctx.stations[:2]  # each page's QR code
    with ctx.session() as s:
        sheets = [s.get(m.CensusSheet, d["id"]) for d in data]
        src = [sh.machine["source"] for sh in sheets]
        assert [(x["page"], x["pages"]) for x in src] == [(1, 2), (2, 2)]
        assert {x["pdf_sha256"] for x in src} == {sha256_bytes(pdf)}
        pdf_media = s.get(m.Media, src[0]["pdf_media_id"])
        assert pdf_media.content_type == "application/pdf"
        assert ctx.app.state.store.get(pdf_media.sha256) == pdf  # kept as received
        assert all(sh.dhash and sh.machine["fields"] for sh in sheets)  # hashed and read
        assert all(sh.machine["exif"]["findings"] == [] for sh in sheets)
    again = ctx.post(
        "coordinator",
        f"/api/census/{ctx.election_id}/sheets",
        files=[("files", ("scan.pdf", pdf, "application/pdf"))],
        data={"layout": "azerbaijan"},
    )
    assert again.status_code == 200 and [d["id"] for d in again.json()["data"]] == [d["id"] for d in data]  # fmt: skip
    locked = pdf_of(photo("1", 52), encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")  # fmt: skip
    bad = ctx.post(
        "coordinator",
        f"/api/census/{ctx.election_id}/sheets",
        files=[("files", ("locked.pdf", locked, "application/pdf"))],
        data={"layout": "azerbaijan", "station_id": str(ctx.stations[0])},
    )
    assert bad.status_code == 422 and "locked.pdf: an encrypted PDF" in bad.text


def test_pages_are_counted_against_the_upload_limit(monkeypatch):
    from pollwatch.census.pdf import is_pdf
    from pollwatch.service.crud import census
    from pollwatch.service.errors import Invalid

    png = photo("1", 60)
    pdf = pdf_of(png, png)
    monkeypatch.setattr(census, "MAX_SHEETS", 3)
    got, pdfs = census.expand_pdfs([("a.jpg", png, "image/png"), ("b.pdf", pdf, "application/pdf")])
    assert [n for n, _, _ in got] == ["a.jpg", "b.pdf#page=1", "b.pdf#page=2"]
    assert sorted(pdfs) == ["b.pdf#page=1", "b.pdf#page=2"]
    with pytest.raises(Invalid, match="more than 3 sheets"):
        census.expand_pdfs([("b.pdf", pdf, "application/pdf"), ("c.pdf", pdf, "application/pdf")])
    # a photo whose metadata holds the PDF header is still a photo
    tagged = with_exif(png, None, None)
    assert is_pdf(pdf) and not is_pdf(tagged[:200] + b"%PDF-1.7" + tagged[200:])
