"""Reading the numbers off a protocol photo: QR first, OCR as an aid (``docs/census.md`` §6).

1. **QR.** A sheet whose QR code carries its numbers (``pollwatch-sheet/1;station=…;field=value``,
   the way Venezuela's 2024 actas carried theirs) is read from the code: confidence 1, source
   ``qr``.
2. **OCR.** Otherwise the number boxes are found (contours of the printed boxes, each straightened
   from its own rotated rectangle, so a skewed photo needs no global deskew), put in reading
   order and matched to the layout's lines; each box is cleaned (Otsu threshold, border removed)
   and read by Tesseract (Smith 2007, "An overview of the Tesseract OCR engine", ICDAR) in
   single-line mode restricted to digits, all boxes of a sheet in one call. Confidence per field
   is Tesseract's word confidence / 100.

OCR is an aid, never the count: every OCR value goes to double-blind transcription (§7), which
shows it only after both volunteers have typed. Tesseract comes from Debian (``tesseract-ocr``);
without it, ``read_sheet`` returns the QR values or nothing, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pollwatch.census.intake import qr_text
from pollwatch.census.layouts import Layout
from pollwatch.i18n import note

__all__ = ["FieldReading", "SheetReading", "parse_qr", "read_sheet", "tesseract_available"]

QR_PREFIX = "pollwatch-sheet/1"


@dataclass(frozen=True)
class FieldReading:
    """One box: the value read (None: nothing legible), confidence in [0, 1], where from."""

    field: str
    value: int | None
    confidence: float
    source: str  # "qr" or "ocr"


@dataclass(frozen=True)
class SheetReading:
    """Everything read from one photo."""

    fields: tuple[FieldReading, ...]
    station_id: str | None
    sheet_id: str | None
    qr: str | None
    notes: tuple[str, ...] = ()

    def values(self) -> dict[str, int | None]:
        return {f.field: f.value for f in self.fields}


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def parse_qr(text: str) -> tuple[str | None, str | None, dict[str, int]]:
    """``(station, sheet, numbers)`` from a ``pollwatch-sheet/1`` payload (empty if another)."""
    parts = text.split(";")
    if not parts or parts[0] != QR_PREFIX:
        return None, None, {}
    kv = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    nums = {k: int(v) for k, v in kv.items() if k not in ("station", "sheet") and v.isdigit()}
    return kv.get("station"), kv.get("sheet"), nums


def _decode(data: bytes):
    import cv2

    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError("not a readable image")
    return img


def _boxes(gray: np.ndarray, expected: int) -> list[np.ndarray]:
    """Upright crops of the number boxes, top to bottom."""
    import cv2

    h, w = gray.shape
    binary = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    )
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    rects = []
    for c in contours:
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        if rw < rh:
            rw, rh, ang = rh, rw, ang + 90
        # a box: 3-6 times wider than tall, 12-25 % of the page's width
        if not (0.12 * w < rw < 0.3 * w and 2.8 < rw / max(rh, 1) < 7):
            continue
        if cv2.contourArea(c) < 0.75 * rw * rh:  # outlines of text blobs are not rectangles
            continue
        rects.append(((cx, cy), (rw, rh), ang))
    # the outer and inner edge of one drawn box both qualify: keep the outer one
    rects.sort(key=lambda r: -r[1][0] * r[1][1])
    kept: list = []
    for r in rects:
        if all(abs(r[0][0] - k[0][0]) > 10 or abs(r[0][1] - k[0][1]) > 10 for k in kept):
            kept.append(r)
    kept.sort(key=lambda r: r[0][1])
    crops = []
    for (cx, cy), (rw, rh), ang in kept:
        m = cv2.getRotationMatrix2D((cx, cy), ang, 1.0)
        rot = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        x0, y0 = int(cx - rw / 2), int(cy - rh / 2)
        pad = int(0.12 * rh)
        crop = rot[max(y0 + pad, 0) : int(y0 + rh - pad), max(x0 + pad, 0) : int(x0 + rw - pad)]
        crops.append(crop)
    return crops


def _ocr(crops: list[np.ndarray]) -> list[tuple[int | None, float]]:
    """Read every crop in one Tesseract call: crops stacked with wide white gaps, TSV output."""
    import cv2

    height = 90
    norm = []
    for c in crops:
        _, bw = cv2.threshold(c, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        scale = height / max(bw.shape[0], 1)
        bw = cv2.resize(bw, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        norm.append(bw)
    width = max(n.shape[1] for n in norm) + 80
    gap = 70
    sheet = np.full((len(norm) * (height + gap) + gap, width), 255, np.uint8)
    for i, n in enumerate(norm):
        y = gap + i * (height + gap)
        sheet[y : y + n.shape[0], 40 : 40 + n.shape[1]] = n
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "boxes.png"
        cv2.imwrite(str(p), sheet)
        res = subprocess.run(
            [
                "tesseract",
                str(p),
                "stdout",
                "--psm",
                "6",
                "-c",
                "tessedit_char_whitelist=0123456789",
                "tsv",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if res.returncode != 0:
        raise RuntimeError(f"tesseract failed: {res.stderr.strip()[:300]}")
    out: list[list[tuple[str, float]]] = [[] for _ in norm]
    for line in res.stdout.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or not cols[11].strip() or float(cols[10]) < 0:
            continue
        top, hgt = int(cols[7]), int(cols[9])
        i = int((top + hgt / 2 - gap) // (height + gap))
        if 0 <= i < len(norm):
            out[i].append((cols[11].strip(), float(cols[10])))
    readings = []
    for words in out:
        digits = "".join(w for w, _ in words if w.isdigit())
        conf = min((c for _, c in words), default=0.0) / 100
        readings.append((int(digits) if digits else None, conf if digits else 0.0))
    return readings


def read_sheet(data: bytes, lay: Layout, candidates: tuple[str, ...]) -> SheetReading:
    """Read a protocol photo drawn in layout ``lay`` (see the module docstring)."""
    fields = lay.fields(candidates)
    gray = _decode(data)
    qr = qr_text(data)
    notes: list[str] = []
    station = sheet = None
    if qr:
        station, sheet, nums = parse_qr(qr)
        # candidates by ballot position (c1, c2, …), as census.synthetic.qr_payload writes them
        nums = {
            **nums,
            **{c: nums[f"c{i + 1}"] for i, c in enumerate(candidates) if f"c{i + 1}" in nums},
        }
        if nums and all(f in nums for f in fields):
            return SheetReading(tuple(FieldReading(f, nums[f], 1.0, "qr") for f in fields), station, sheet, qr)  # fmt: skip
        if nums:
            notes.append(note("the QR code lacks some lines; those are read by OCR"))
    if not tesseract_available():
        notes.append(note("Tesseract is not installed (Debian: tesseract-ocr): no OCR"))
        return SheetReading(tuple(FieldReading(f, None, 0.0, "ocr") for f in fields), station, sheet, qr, tuple(notes))  # fmt: skip
    crops = _boxes(gray, len(fields))
    if len(crops) != len(fields):
        notes.append(
            note(
                "found {n} number boxes, expected {expected}: nothing read by OCR",
                n=len(crops),
                expected=len(fields),
            )
        )
        return SheetReading(tuple(FieldReading(f, None, 0.0, "ocr") for f in fields), station, sheet, qr, tuple(notes))  # fmt: skip
    got = _ocr(crops)
    return SheetReading(
        tuple(FieldReading(f, v, c, "ocr") for f, (v, c) in zip(fields, got, strict=True)),
        station,
        sheet,
        qr,
        tuple(notes),
    )
