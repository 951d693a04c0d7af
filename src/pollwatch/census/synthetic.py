"""Synthetic protocol photos with known numbers, for measuring OCR and QR (``docs/census.md`` §6).

A sheet is drawn in one of the :mod:`~pollwatch.census.layouts` (Azerbaijani or Russian lines,
labels in the country's language): a title, the station, one row per line with its number in a
box, then one row per candidate, and optionally a QR code carrying the sheet id, the station and
every number (``pollwatch-sheet/1;station=…;sheet=…;registered=…;…``), as Venezuela's 2024 actas
carried theirs. Numbers are *printed* (a sans-serif font) or *handwritten-style*: each digit
drawn as a pen stroke from a skeleton, with random slant, size, pen width and wobble. The photo
is then degraded as phones degrade them: rotation (skew), blur, a shadow across the page, noise
and JPEG compression.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pollwatch.census.layouts import Layout

__all__ = ["Degradation", "SyntheticSheet", "draw_sheet", "qr_payload"]

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
W, H = 1240, 1754  # A4 at 150 dpi
BOX_X0, BOX_X1, BOX_H = 930, 1170, 58


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.exists():
            return ImageFont.truetype(str(p), size)
    return ImageFont.load_default(size)  # Pillow's built-in font: Latin only, still legible digits


# Pen skeletons of the digits in a unit box (x right, y down): lists of strokes of points.
def _arc(cx, cy, rx, ry, a0, a1, n=14):
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(a0, a1, n)]  # fmt: skip


_DIGITS: dict[str, list[list[tuple[float, float]]]] = {
    "0": [_arc(0.5, 0.5, 0.36, 0.48, 0, 360, 24)],
    "1": [[(0.25, 0.25), (0.55, 0.02), (0.55, 1.0)]],
    "2": [_arc(0.5, 0.3, 0.33, 0.27, 200, 380) + [(0.12, 1.0), (0.9, 1.0)]],
    "3": [_arc(0.48, 0.26, 0.3, 0.24, 210, 450), _arc(0.48, 0.74, 0.34, 0.26, 270, 500)],
    "4": [[(0.7, 1.0), (0.7, 0.02), (0.1, 0.68), (0.92, 0.68)]],
    "5": [[(0.85, 0.02), (0.25, 0.02), (0.2, 0.45)] + _arc(0.48, 0.68, 0.34, 0.3, 240, 480)],
    "6": [_arc(0.62, 0.55, 0.5, 0.55, 240, 180, 6) + _arc(0.5, 0.7, 0.32, 0.29, 180, 540, 20)],
    "7": [[(0.1, 0.02), (0.9, 0.02), (0.38, 1.0)]],
    "8": [_arc(0.5, 0.25, 0.27, 0.23, 90, 450, 18), _arc(0.5, 0.73, 0.33, 0.26, -90, 270, 18)],
    "9": [_arc(0.5, 0.3, 0.32, 0.28, 0, 360, 18), [(0.82, 0.3), (0.72, 1.0)]],
}


def _handwritten(draw: ImageDraw.ImageDraw, text: str, x: float, y: float, h: float, rng: np.random.Generator) -> None:  # fmt: skip
    slant = rng.uniform(-0.1, 0.35)
    pen = int(rng.integers(3, 6))
    for ch in text:
        w = h * rng.uniform(0.5, 0.62)
        hh = h * rng.uniform(0.85, 1.05)
        base = y + rng.normal(0, h * 0.04)
        for stroke in _DIGITS[ch]:
            pts = [
                (
                    x + px * w + slant * (1 - py) * hh * 0.4 + rng.normal(0, 1.2),
                    base + py * hh + rng.normal(0, 1.2),
                )  # fmt: skip
                for px, py in stroke
            ]
            draw.line(pts, fill=20, width=pen, joint="curve")
        x += w * rng.uniform(1.15, 1.45)


@dataclass(frozen=True)
class Degradation:
    """How the photo was spoiled: rotation in degrees, blur σ in pixels, shadow depth (0: none,
    0.5: the darkest corner at half brightness), noise σ, JPEG quality."""

    skew: float = 0.0
    blur: float = 0.0
    shadow: float = 0.0
    noise: float = 0.0
    jpeg: int = 90

    @classmethod
    def random(cls, rng: np.random.Generator, level: str = "phone") -> Degradation:
        if level == "clean":
            return cls()
        return cls(
            skew=float(rng.uniform(-4, 4)),
            blur=float(rng.uniform(0, 1.4)),
            shadow=float(rng.uniform(0, 0.5)),
            noise=float(rng.uniform(0, 8)),
            jpeg=int(rng.integers(55, 92)),
        )


@dataclass(frozen=True)
class SyntheticSheet:
    """A drawn sheet: the JPEG bytes and what is on it."""

    image: bytes
    layout: str
    station_id: str
    sheet_id: str
    fields: tuple[str, ...]
    values: tuple[int, ...]
    hand: str  # "printed" or "handwritten"
    qr: bool
    degradation: Degradation


def qr_payload(station_id: str, sheet_id: str, fields: tuple[str, ...], values: tuple[int, ...]) -> str:  # fmt: skip
    """The QR text of a sheet: ``pollwatch-sheet/1;station=…;sheet=…;field=value;…``."""
    return ";".join(
        ["pollwatch-sheet/1", f"station={station_id}", f"sheet={sheet_id}"]
        + [f"{f}={v}" for f, v in zip(fields, values, strict=True)]
    )


def draw_sheet(
    lay: Layout,
    candidates: tuple[str, ...],
    values: dict[str, int],
    *,
    station_id: str,
    sheet_id: str,
    seed: int,
    hand: str = "printed",
    qr: bool = False,
    degradation: Degradation | None = None,
) -> SyntheticSheet:
    """Draw one protocol photo (see the module docstring)."""
    rng = np.random.default_rng(seed)
    fields = lay.fields(candidates)
    img = Image.new("L", (W, H), 250)
    d = ImageDraw.Draw(img)
    d.text((70, 60), lay.title, font=_font(22, bold=True), fill=10)
    d.text((70, 110), f"{lay.station_label} {station_id}", font=_font(26), fill=10)
    y = 190
    labels = [(code, label) for code, label, _ in lay.lines] + [(str(i + 1), c) for i, c in enumerate(candidates)]  # fmt: skip
    for (code, label), f in zip(labels, fields, strict=True):
        d.text((70, y + 14), code, font=_font(20, bold=True), fill=10)
        d.text((180, y + 14), label[:62], font=_font(19), fill=10)
        d.rectangle((BOX_X0, y, BOX_X1, y + BOX_H), outline=0, width=3)
        text = str(values[f])
        if hand == "handwritten":
            _handwritten(d, text, BOX_X0 + 22 + rng.uniform(0, 30), y + 9, BOX_H - 20, rng)
        else:
            d.text((BOX_X0 + 20, y + 8), text, font=_font(36), fill=0)
        y += BOX_H + 26
    if qr:
        import cv2  # the video extra: the QR encoder

        payload = qr_payload(station_id, sheet_id, fields, tuple(values[f] for f in fields))
        matrix = np.asarray(cv2.QRCodeEncoder.create().encode(payload), dtype=np.uint8)
        img.paste(Image.fromarray(matrix).resize((260, 260), Image.Resampling.NEAREST), (W - 330, H - 330))  # fmt: skip
    deg = degradation or Degradation()
    img = _degrade(img, deg, rng)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=deg.jpeg)
    return SyntheticSheet(out.getvalue(), lay.name, station_id, sheet_id, fields, tuple(values[f] for f in fields), hand, qr, deg)  # fmt: skip


def _degrade(img: Image.Image, deg: Degradation, rng: np.random.Generator) -> Image.Image:
    if deg.skew:
        img = img.rotate(deg.skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=200)
    if deg.blur:
        img = img.filter(ImageFilter.GaussianBlur(deg.blur))
    a = np.asarray(img, dtype=np.float64)
    if deg.shadow:
        h, w = a.shape
        gy, gx = np.mgrid[0:h, 0:w]
        ang = rng.uniform(0, 2 * math.pi)
        ramp = np.cos(ang) * gx / w + np.sin(ang) * gy / h
        ramp = (ramp - ramp.min()) / (np.ptp(ramp) or 1)
        a = a * (1 - deg.shadow * ramp)
    if deg.noise:
        a = a + rng.normal(0, deg.noise, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
