"""Intake of protocol photos (docs/census.md §5): hashes, QR, EXIF, duplicates, custody."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import numpy as np
import pytest
from PIL import Image

from pollwatch.census.intake import import_sheets, read_custody
from pollwatch.evidence.chain import first_broken
from pollwatch.evidence.media import sha256_bytes

cv2 = pytest.importorskip("cv2", reason="QR decoding needs the video extra (opencv)")


def _sheet(text: str, qr: str | None = None, *, when=None, gps=None, size=(900, 1200)) -> bytes:
    """A synthetic protocol photo: ruled lines, numbers drawn as blocks, an optional QR."""
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    img = np.full((size[1], size[0]), 235, np.uint8)
    for y in range(150, size[1] - 100, 60):
        img[y : y + 2, 60 : size[0] - 60] = 40
        img[y + 15 : y + 45, 500 : 500 + int(rng.integers(60, 300))] = 30
    cv2.putText(img, text, (60, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    if qr:
        code = cv2.QRCodeEncoder.create().encode(qr)
        code = cv2.resize(code, (240, 240), interpolation=cv2.INTER_NEAREST)
        img[size[1] - 300 : size[1] - 60, size[0] - 300 : size[0] - 60] = code
    pil = Image.fromarray(img).convert("RGB")
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[36867] = when
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "N", (gps[0], 0.0, 0.0)
        g[3], g[4] = "E", (gps[1], 0.0, 0.0)
    out = io.BytesIO()
    pil.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def test_folder_import_reads_qr_exif_and_finds_the_same_photo_twice(tmp_path):
    src = tmp_path / "photos"
    (src / "C001-2").mkdir(parents=True)
    a = _sheet("C001/1", qr="station=C001/1", when="2024:02:07 20:41:00", gps=(40.0, 49.0))
    (src / "IMG_0001.jpg").write_bytes(a)
    # the same photo, re-encoded smaller, filed for another station: a duplicate finding
    small = io.BytesIO()
    Image.open(io.BytesIO(a)).resize((450, 600)).save(small, format="JPEG", quality=70)
    (src / "C001-2" / "IMG_0002.jpg").write_bytes(small.getvalue())
    (src / "C001-3_front.jpg").write_bytes(_sheet("C001/3", when="2024:02:11 09:00:00"))
    (src / "notes.jpg").write_bytes(b"not an image at all")
    stations = {"C001/1": (40.3, 49.0), "C001-2": None, "C001-3": None}
    res = import_sheets(
        src,
        tmp_path / "ev",
        collector="Team North",
        election_day=date(2024, 2, 7),
        stations=stations,
    )
    by = {r.name: r for r in res.records}
    first = by["IMG_0001.jpg"]
    assert (first.station_id, first.station_from, first.qr) == ("C001/1", "qr", "station=C001/1")
    assert first.exif_time == "2024-02-07T20:41:00"
    assert first.exif_gps == pytest.approx((40.0, 49.0))
    assert any("km from the station" in f for f in first.findings)  # 33 km away
    second = by["C001-2/IMG_0002.jpg"]
    assert (second.station_id, second.station_from) == ("C001/1", "qr")  # the QR wins
    assert any(
        "filed under C001-2 (folder) but its QR code says C001/1" in f for f in second.findings
    )
    # the later file of the two (in folder order) carries the finding; both names are listed
    assert [(a, b) for a, b, _ in res.duplicates] == [("IMG_0001.jpg", "C001-2/IMG_0002.jpg")]
    assert any("looks like the same photo as C001-2/IMG_0002.jpg" in f for f in first.findings)
    third = by["C001-3_front.jpg"]
    assert third.station_id == "C001-3" and any("not on election day" in f for f in third.findings)
    assert [n for n, _ in res.refused] == ["notes.jpg"]
    # originals kept as received (with their EXIF), published copies without it
    assert (tmp_path / "ev" / "originals" / first.sha256[:2] / first.sha256).read_bytes() == a
    assert first.sha256 == sha256_bytes(a)
    pub = tmp_path / "ev" / "published" / first.published_sha256[:2] / first.published_sha256
    assert not Image.open(io.BytesIO(pub.read_bytes())).getexif()
    # the custody chain holds one entry per file and breaks if a line is edited
    chain = read_custody(res.custody)
    assert len(chain) == 3 and first_broken(chain) == (None, "")
    lines = res.custody.read_text().splitlines()
    doc = json.loads(lines[1])
    doc["payload"] = doc["payload"].replace("Team North", "Team South")
    lines[1] = json.dumps(doc)
    res.custody.write_text("\n".join(lines) + "\n")
    assert first_broken(read_custody(res.custody))[0] == 2


def test_zip_names_are_labels_never_paths_and_bombs_are_refused(tmp_path):
    z = tmp_path / "in.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../escape.jpg", _sheet("X1"))
        zf.writestr("big.jpg", b"\0" * (41 * 1024 * 1024))  # inflates past the cap
    res = import_sheets(z, tmp_path / "ev", collector="c")
    assert not (tmp_path.parent / "escape.jpg").exists()
    assert [r.name for r in res.records] == ["../../escape.jpg"]
    assert res.refused and res.refused[0][0] == "big.jpg" and "MB" in res.refused[0][1]
    # a second import appends to the same chain and still finds duplicates across imports
    again = import_sheets(z, tmp_path / "ev", collector="c")
    assert any("same photo" in f for f in again.records[0].findings)
    assert first_broken(read_custody(again.custody)) == (None, "")
    assert len(read_custody(again.custody)) == 2


def _pdf(*pages: bytes) -> bytes:
    """A PDF with one image per page (as a scanner makes), built with PyMuPDF."""
    pymupdf = pytest.importorskip("pymupdf", reason="PDF protocols need the census extra")
    doc = pymupdf.open()
    for png in pages:
        w, h = Image.open(io.BytesIO(png)).size
        page = doc.new_page(width=w * 72 / 200, height=h * 72 / 200)  # scanned at 200 DPI
        page.insert_image(page.rect, stream=png)
    return doc.tobytes()


def test_pdf_pages_are_read_like_photos_and_hostile_pdfs_are_refused(tmp_path):
    pymupdf = pytest.importorskip("pymupdf", reason="PDF protocols need the census extra")
    src = tmp_path / "in"
    src.mkdir()
    one = _sheet("C002/1", qr="station=C002/1")
    two = _sheet("C002/2", qr="station=C002/2")
    pdf = _pdf(one, two, one)  # the first sheet scanned twice
    (src / "scan.pdf").write_bytes(pdf)
    (src / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf")
    big = pymupdf.open()
    for _ in range(21):
        big.new_page()
    (src / "long.pdf").write_bytes(big.tobytes())
    huge = pymupdf.open()
    huge.new_page(width=14400, height=14400)  # 200 inches square: 1.6 billion pixels at 200 DPI
    (src / "huge.pdf").write_bytes(huge.tobytes())
    enc = pymupdf.open()
    enc.new_page()
    (src / "locked.pdf").write_bytes(
        enc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    )
    res = import_sheets(src, tmp_path / "ev", collector="c")
    by = {r.name: r for r in res.records}
    assert sorted(by) == ["scan.pdf#page=1", "scan.pdf#page=2", "scan.pdf#page=3"]
    p1, p2 = by["scan.pdf#page=1"], by["scan.pdf#page=2"]
    assert (p1.page, p2.page) == (1, 2)
    assert (p1.station_id, p1.station_from, p2.station_id) == ("C002/1", "qr", "C002/2")
    # the PDF is stored once, as received, under its SHA-256; each page has a published PNG
    assert p1.sha256 == p2.sha256 == sha256_bytes(pdf)
    assert (tmp_path / "ev" / "originals" / p1.sha256[:2] / p1.sha256).read_bytes() == pdf
    assert p1.published_sha256 != p2.published_sha256
    # page 3 is page 1 again: the same image (MuPDF renders one page alike every time)
    assert [(a, b, d) for a, b, d in res.duplicates] == [("scan.pdf#page=3", "scan.pdf#page=1", 0)]
    assert not any("looks like" in f for f in p2.findings)
    why = dict(res.refused)
    assert sorted(why) == ["broken.pdf", "huge.pdf", "locked.pdf", "long.pdf"]
    assert "not a readable PDF" in why["broken.pdf"]
    assert "21 pages, at most 20" in why["long.pdf"]
    assert "pixels at 200 DPI" in why["huge.pdf"]
    assert "encrypted" in why["locked.pdf"]
    # custody: one entry per page, and the manifest records the page
    assert len(read_custody(res.custody)) == 3 and len(by) == 3
    assert "page" in res.manifest.read_text().splitlines()[0].split(",")
