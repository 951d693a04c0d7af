"""Intake of protocol photos: hashed, kept, de-duplicated, read for QR codes and EXIF.

``pollwatch census import DIR|ZIP`` (``docs/census.md`` §5). Every file is hostile until checked:
a ZIP member's name is never used as a path, sizes and pixel counts are capped before decoding,
and nothing is executed. A PDF is rendered page by page (:mod:`pollwatch.census.pdf`, page count and
pixels capped before rendering, encrypted files refused); each page is one record (``page``
set, named ``file.pdf#page=N``) and goes through the same steps as a photo. For each image:

* the original bytes are stored under their SHA-256 (kept as received, metadata included:
  the photo's EXIF time and place are part of the evidence) and a published copy re-encoded
  without metadata (a GPS tag can expose the observer who took it);
* its QR code is decoded where present (OpenCV's detector, from the ``video`` extra);
* its EXIF time and GPS position are read and checked against election day and, given a
  station list with coordinates, the station's place;
* a 64-bit difference hash (dHash: Krawetz 2013, "Kind of like that", hackerfactor.com; the
  gradient-sign hash of a 9×8 greyscale thumbnail) finds the same photo filed twice, even
  re-encoded or resized;
* one custody entry is appended to a hash chain (:mod:`pollwatch.evidence.chain`): who
  collected it, when it was taken in, both hashes and what was read.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from pollwatch.census.pdf import render_pages
from pollwatch.evidence.chain import GENESIS, AuditEntry, canonical_json, entry_hash
from pollwatch.evidence.media import MediaStore, strip_metadata

__all__ = [
    "IntakeRecord",
    "IntakeResult",
    "dhash",
    "exif_time_place",
    "import_sheets",
    "read_custody",
    "time_place_findings",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")
MAX_FILE = 40 * 1024 * 1024  # bytes; a phone photo is 2-12 MB
MAX_FILES = 100_000
#: dHash size: 16 × 16 = 256 bits. The classic 8 × 8 is too coarse for forms: every sheet of one
#: template hashes alike (different synthetic sheets were 4-8 bits apart of 64). At 256 bits,
#: one photo re-encoded at half size differs by 0-2 bits, different sheets of one form by 25-39.
GRID = 16
NEAR = 12  # at most this many of the 256 bits differ between two copies of one photo


@dataclass(frozen=True)
class IntakeRecord:
    """One file taken in."""

    name: str
    sha256: str
    published_sha256: str | None
    station_id: str | None
    station_from: str  # "qr", "folder", "file name" or "" (unassigned)
    collector: str
    qr: str | None
    exif_time: str | None
    exif_gps: tuple[float, float] | None
    dhash: str | None
    findings: tuple[str, ...] = ()
    page: int | None = None  # the page of a PDF (from 1); None for a photo

    def to_row(self) -> dict:
        d = asdict(self)
        d["exif_gps"] = (
            "" if self.exif_gps is None else f"{self.exif_gps[0]:.6f},{self.exif_gps[1]:.6f}"
        )
        d["findings"] = "; ".join(self.findings)
        return {k: ("" if v is None else v) for k, v in d.items()}


@dataclass(frozen=True)
class IntakeResult:
    """What an import did: the records, and the files refused with the reason."""

    records: tuple[IntakeRecord, ...]
    refused: tuple[tuple[str, str], ...]
    manifest: Path
    custody: Path
    duplicates: tuple[tuple[str, str, int], ...] = field(default=())

    def by_station(self) -> dict[str, list[IntakeRecord]]:
        out: dict[str, list[IntakeRecord]] = {}
        for r in self.records:
            out.setdefault(r.station_id or "(unassigned)", []).append(r)
        return out


def dhash(data: bytes) -> str:
    """256-bit difference hash of an image, as 64 hex digits (see the module docstring)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.draft("L", (4 * GRID, 4 * GRID))  # JPEG: decode at reduced size
    small = img.convert("L").resize((GRID + 1, GRID), Image.Resampling.LANCZOS)
    px = np.asarray(small, dtype=np.int16)
    bits = 0
    for b in (px[:, :-1] > px[:, 1:]).ravel():  # row by row: is a pixel brighter than its right?
        bits = (bits << 1) | int(b)
    return f"{bits:0{GRID * GRID // 4}x}"


class _HashIndex:
    """Near-duplicate lookup without comparing every pair: two hashes at most ``NEAR`` bits
    apart agree exactly on at least ``BANDS − NEAR`` of their ``BANDS`` 16-bit bands
    (pigeonhole), so each hash is filed under each band and only hashes sharing one are
    compared (multi-index hashing: Norouzi, Punjani & Fleet 2012, CVPR)."""

    BANDS = GRID * GRID // 16

    def __init__(self) -> None:
        self.bands: list[dict[int, list[tuple[int, str]]]] = [{} for _ in range(self.BANDS)]

    def add(self, h: str, name: str) -> None:
        v = int(h, 16)
        for i in range(self.BANDS):
            self.bands[i].setdefault((v >> (16 * i)) & 0xFFFF, []).append((v, name))

    def near(self, h: str) -> list[tuple[str, int]]:
        v, out = int(h, 16), {}
        for i in range(self.BANDS):
            for w, name in self.bands[i].get((v >> (16 * i)) & 0xFFFF, ()):
                d = bin(v ^ w).count("1")
                if d <= NEAR:
                    out[name] = d
        return sorted(out.items())


def _files(source: Path) -> Iterator[tuple[str, bytes | None, str]]:
    """(name, bytes or None, refusal reason) for every file under a folder or inside a ZIP."""
    if source.is_dir():
        for n, p in enumerate(sorted(source.rglob("*"))):
            if n > MAX_FILES:
                yield str(p), None, f"more than {MAX_FILES} files"
                return
            if p.is_symlink() or not p.is_file():
                if p.is_symlink():
                    yield str(p.relative_to(source)), None, "a symbolic link (not followed)"
                continue
            name = str(p.relative_to(source))
            if p.stat().st_size > MAX_FILE:
                yield name, None, f"larger than {MAX_FILE // 2**20} MB"
                continue
            yield name, p.read_bytes(), ""
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for n, info in enumerate(zf.infolist()):
                if n > MAX_FILES:
                    yield info.filename, None, f"more than {MAX_FILES} files"
                    return
                if info.is_dir():
                    continue
                # sizes from the header, checked before inflating (a ZIP bomb declares small
                # compressed sizes); the member name is only a label, never a path
                if info.file_size > MAX_FILE:
                    yield info.filename, None, f"larger than {MAX_FILE // 2**20} MB"
                    continue
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE + 1)
                if len(data) > MAX_FILE:
                    yield info.filename, None, "inflates beyond its declared size"
                    continue
                yield info.filename, data, ""
    else:
        raise ValueError(f"{source}: not a folder or a ZIP file")


def qr_text(data: bytes) -> str | None:
    """The text of the image's QR code, or None (none found, or OpenCV not installed).

    OpenCV's ArUco-based detector first (on 25 phone-degraded synthetic sheets it decoded 24,
    the classic detector 11), then both detectors at other scales and on an Otsu-thresholded
    copy: a blurred dense code often decodes at one scale and not another.
    """
    try:
        import cv2
        import numpy as np
    except ImportError:  # the video extra is not installed: no QR decoding
        return None
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        return None
    if max(img.shape) > 2400:  # phone photos: decode at a size the detectors handle well
        s = 2400 / max(img.shape)
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    detectors = (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector())
    for scale in (1.0, 0.75, 0.5, 1.5):
        im = img if scale == 1.0 else cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)  # fmt: skip
        otsu = cv2.threshold(im, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        for variant in (im, otsu):
            for det in detectors:
                try:
                    text, _, _ = det.detectAndDecode(variant)
                except cv2.error:  # the detector trips on some shapes: try the next variant
                    continue
                if text:
                    return text
    return None


def exif_time_place(data: bytes) -> tuple[str | None, tuple[float, float] | None]:
    """The photo's EXIF time (``YYYY-MM-DDTHH:MM:SS``, DateTimeOriginal, else DateTime) and GPS
    position ``(lat, lon)``; each None where absent or unreadable."""
    from PIL import Image

    try:
        exif = Image.open(io.BytesIO(data)).getexif()
    except Exception:  # noqa: BLE001 - an unreadable EXIF block is simply absent
        return None, None
    sub = exif.get_ifd(0x8769)
    raw = sub.get(36867) or exif.get(306)  # DateTimeOriginal, else DateTime
    when = None
    if isinstance(raw, str) and re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d", raw.strip()):
        d, t = raw.strip().split(" ")
        when = f"{d.replace(':', '-')}T{t}"
    gps = exif.get_ifd(0x8825)
    pos = None
    try:
        if 2 in gps and 4 in gps:

            def deg(v) -> float:
                return float(v[0]) + float(v[1]) / 60 + float(v[2]) / 3600

            lat = deg(gps[2]) * (-1 if gps.get(1) == "S" else 1)
            lon = deg(gps[4]) * (-1 if gps.get(3) == "W" else 1)
            pos = (lat, lon)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        pos = None
    return when, pos


def _station_from(name: str, qr: str | None, known: set[str] | None) -> tuple[str | None, str]:
    if qr:
        for pat in (r"(?:station|psu|mesa|uik)[=:]\s*([\w./-]+)", r"^([\w./-]+)$"):
            m = re.search(pat, qr, flags=re.IGNORECASE)
            if m and (known is None or m.group(1) in known):
                return m.group(1), "qr"
        try:
            doc = json.loads(qr)
            sid = str(doc.get("station_id") or doc.get("station") or "")
            if sid and (known is None or sid in known):
                return sid, "qr"
        except (ValueError, AttributeError):
            pass
    parts = Path(name).parts
    if len(parts) > 1 and (known is None or parts[-2] in known):
        return parts[-2], "folder"
    stem = re.split(r"[_\s]+", Path(name).stem)[0]
    if stem and (known is None or stem in known):
        return stem, "file name"
    return None, ""


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def time_place_findings(
    when: str | None,
    pos: tuple[float, float] | None,
    election_day: date | None,
    station: tuple[float, float] | None,
    max_km: float = 2.0,
) -> tuple[list[str], float | None]:
    """What a photo's EXIF time and place say against the election: a time not on election
    day or the night after, a place more than ``max_km`` from the station (great-circle
    distance). Returns the findings and the distance in km (None without both positions).
    The findings name the day and the distance, never the coordinates (they could expose the
    observer)."""
    out: list[str] = []
    if election_day and when:
        day = date.fromisoformat(when[:10])
        if (day - election_day).days not in (0, 1):
            out.append(f"taken on {day}, not on election day {election_day} or the night after")
    km = _km(pos, station) if pos and station else None
    if km is not None and km > max_km:
        out.append(f"taken {km:.1f} km from the station")
    return out, km


def read_custody(path: Path) -> list[AuditEntry]:
    """The custody chain written by :func:`import_sheets` (check it with
    :func:`pollwatch.evidence.chain.first_broken`)."""
    if not path.exists():
        return []
    return [AuditEntry(**json.loads(line)) for line in path.read_text("utf-8").splitlines() if line]


def import_sheets(
    source: str | Path,
    out: str | Path,
    *,
    collector: str,
    election_day: date | None = None,
    stations: dict[str, tuple[float, float] | None] | None = None,
    max_km: float = 2.0,
) -> IntakeResult:
    """Take a folder or ZIP of protocol photos into the evidence folder ``out``.

    ``out`` gets ``originals/`` and ``published/`` (content-addressed stores), ``manifest.csv``
    (one row per file, appended across imports) and ``custody.jsonl`` (the hash chain).
    ``stations`` (id → (lat, lon) or None) restricts station ids to a known list and enables the
    place check; ``election_day`` enables the time check (the day itself or the night after).
    """
    source, out = Path(source), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    originals = MediaStore(out / "originals", keep_original_metadata=True)
    published = MediaStore(out / "published")
    manifest, custody = out / "manifest.csv", out / "custody.jsonl"
    chain = read_custody(custody)
    prev = chain[-1].hash if chain else GENESIS
    seen = _HashIndex()
    if manifest.exists():
        with manifest.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("dhash"):
                    seen.add(row["dhash"], row["name"])
    known = set(stations) if stations is not None else None
    records: list[IntakeRecord] = []
    refused: list[tuple[str, str]] = []
    dups: list[tuple[str, str, int]] = []
    for name, data, why in _files(source):
        if data is None:
            refused.append((name, why))
            continue
        if not name.lower().endswith((*IMAGE_SUFFIXES, ".pdf")):
            refused.append((name, "not a photo or PDF"))
            continue
        sha, stored_now = originals.add(data)
        pages: list[tuple[str, bytes, int | None]] = [(name, data, None)]
        if name.lower().endswith(".pdf"):
            try:
                pages = [(f"{name}#page={p.page}", p.png, p.page) for p in render_pages(data)]
            except ImportError:  # kept as evidence, unread: the census extra is not installed
                why = "PDF: stored and hashed, not read (PyMuPDF, the census extra, is not installed)"  # fmt: skip
                sid, how = _station_from(name, None, known)
                rec = IntakeRecord(name, sha, None, sid, how, collector, None, None, None, None, (why,))  # fmt: skip
                chain, prev = _log(custody, chain, prev, collector, rec)
                records.append(rec)
                continue
            except ValueError as exc:  # encrypted, broken, too many pages or pixels
                refused.append((name, f"PDF: {exc}"))
                if stored_now:
                    originals.remove(sha)
                continue
        for label, img, page in pages:
            findings: list[str] = []
            try:
                clean, _ctype = strip_metadata(img)
            except ValueError as exc:
                refused.append((label, str(exc)))
                if stored_now and page is None:  # not an image after all: keep nothing of it
                    originals.remove(sha)
                continue
            pub, _ = published.add(clean)
            qr = qr_text(img)
            when, pos = exif_time_place(img) if page is None else (None, None)
            dh = dhash(img)
            for other, d in seen.near(dh):
                dups.append((label, other, d))
                # a lead, not a verdict: clean scans of one printed form with different numbers
                # can hash this close too (docs/census.md §5); the numbers decide (§1.2)
                findings.append(
                    f"looks like the same photo as {other} ({d} of {GRID * GRID} hash bits "
                    "differ): compare the two images and their numbers"
                )
            seen.add(dh, label)
            sid, how = _station_from(name, qr, known)
            if how == "qr":
                filed, where = _station_from(name, None, known)
                if filed is not None and filed != sid:
                    findings.append(f"filed under {filed} ({where}) but its QR code says {sid}")
            if sid is None:
                findings.append("station not recognised (no QR with a station id, folder or file name)")  # fmt: skip
            place = (stations or {}).get(sid) if sid else None
            findings += time_place_findings(when, pos, election_day, place, max_km)[0]
            rec = IntakeRecord(
                label, sha, pub, sid, how, collector, qr, when, pos, dh, tuple(findings), page
            )
            chain, prev = _log(custody, chain, prev, collector, rec)
            records.append(rec)
    new = not manifest.exists()
    fields = [f for f in IntakeRecord.__dataclass_fields__]
    if not new:  # a manifest from before a column was added keeps its header
        with manifest.open(encoding="utf-8", newline="") as fh:
            fields = next(csv.reader(fh), fields) or fields
    with manifest.open("a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        if new:
            w.writeheader()
        for r in records:
            w.writerow(r.to_row())
    return IntakeResult(tuple(records), tuple(refused), manifest, custody, tuple(dups))


def _log(
    custody: Path, chain: list[AuditEntry], prev: str, collector: str, rec: IntakeRecord
) -> tuple[list[AuditEntry], str]:
    """Append ``rec``'s custody entry to the chain and the file."""
    entry = AuditEntry(
        seq=len(chain) + 1,
        ts=datetime.now(UTC).isoformat(timespec="seconds"),
        actor=collector,
        action="census.intake",
        entity="sheet_image",
        entity_id=len(chain) + 1,
        payload=canonical_json(rec.to_row()).decode(),
        prev_hash=prev,
    )
    entry = AuditEntry(**{**entry.body(), "hash": entry_hash(entry)})
    chain.append(entry)
    with custody.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**entry.body(), "hash": entry.hash}, ensure_ascii=False) + "\n")
    return chain, entry.hash
