"""QR and OCR on synthetic protocol photos (docs/census.md §6)."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.census.layouts import layout
from pollwatch.census.ocr import parse_qr, read_sheet, tesseract_available
from pollwatch.census.synthetic import Degradation, draw_sheet, qr_payload

pytest.importorskip("cv2", reason="box finding and QR need the video extra (opencv)")
needs_tesseract = pytest.mark.skipif(
    not tesseract_available(), reason="Tesseract is not installed (Debian: tesseract-ocr)"
)

CANDS = ("İlham Əliyev", "Zahid Oruc", "Fazil Mustafa")


def _values(lay, seed):
    rng = np.random.default_rng(seed)
    return {f: int(v) for f, v in zip(lay.fields(CANDS), rng.integers(0, 2000, 20), strict=False)}


def test_qr_payload_round_trip_and_foreign_codes_are_ignored():
    p = qr_payload("C1/2", "S9", ("valid", "A"), (10, 7))
    assert parse_qr(p) == ("C1/2", "S9", {"valid": 10, "A": 7})
    assert parse_qr("https://example.org/whatever") == (None, None, {})


def test_a_sheet_with_a_qr_code_is_read_from_it_even_when_skewed():
    lay = layout("azerbaijan")
    v = _values(lay, 1)
    s = draw_sheet(lay, CANDS, v, station_id="C001/12", sheet_id="AZ-1", seed=1, hand="handwritten", qr=True, degradation=Degradation(skew=3.0, blur=0.8, jpeg=70))  # fmt: skip
    r = read_sheet(s.image, lay, CANDS)
    assert (r.station_id, r.sheet_id) == ("C001/12", "AZ-1")
    assert r.values() == v and {f.source for f in r.fields} == {"qr"}


@needs_tesseract
@pytest.mark.parametrize("name", ["azerbaijan", "russia"])
def test_printed_numbers_on_a_phone_photo_are_read_exactly(name):
    lay = layout(name)
    v = _values(lay, 7)
    deg = Degradation(skew=-2.5, blur=0.7, shadow=0.35, noise=4, jpeg=75)
    s = draw_sheet(lay, CANDS, v, station_id="7", sheet_id="x", seed=7, degradation=deg)
    r = read_sheet(s.image, lay, CANDS)
    assert r.values() == v
    assert min(f.confidence for f in r.fields) > 0.8


@needs_tesseract
def test_handwriting_is_an_aid_whose_confidence_means_something():
    """Handwritten-style digits are read imperfectly; the fields Tesseract is sure of must be
    right more often than the rest (the confidence routes the others to people first)."""
    lay = layout("azerbaijan")
    sure, unsure = [], []
    for seed in range(3):
        v = _values(lay, 100 + seed)
        s = draw_sheet(lay, CANDS, v, station_id="1", sheet_id="x", seed=seed, hand="handwritten")
        for f in read_sheet(s.image, lay, CANDS).fields:
            (sure if f.confidence >= 0.9 else unsure).append(f.value == v[f.field])
    assert np.mean(sure + unsure) >= 0.5
    assert sure and unsure and np.mean(sure) > np.mean(unsure)


def test_a_photo_without_the_forms_boxes_reads_nothing_and_says_why():
    import cv2

    blank = cv2.imencode(".jpg", np.full((800, 600), 230, np.uint8))[1].tobytes()
    r = read_sheet(blank, layout("russia"), CANDS)
    assert all(f.value is None for f in r.fields)
    assert r.notes and ("number boxes" in r.notes[0] or "Tesseract" in r.notes[0])
