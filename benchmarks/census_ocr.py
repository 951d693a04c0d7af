"""OCR and QR accuracy on synthetic protocol photos (docs/census.md §6).

    python benchmarks/census_ocr.py [SHEETS_PER_CELL]

For each layout (Azerbaijani, Russian) × hand (printed, handwritten-style) × photo quality
(clean, phone: skew ±4°, blur, shadow, noise, JPEG 55-92), draws sheets with random numbers and
reads them back. Prints the share of fields read exactly, the share of fields with confidence
≥ 0.9 and their accuracy, QR decoding (sheets whose QR gave every number), and time per sheet.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pollwatch.census.layouts import layout
from pollwatch.census.ocr import read_sheet, tesseract_available
from pollwatch.census.synthetic import Degradation, draw_sheet

CANDIDATES = {
    "azerbaijan": ("İlham Əliyev", "Zahid Oruc", "Fazil Mustafa", "Qüdrət Həsənquliyev"),
    "russia": ("Путин Владимир Владимирович", "Зюганов Геннадий Андреевич", "Прохоров М.Д."),
}


def values(lay, cands, rng) -> dict[str, int]:
    reg = int(rng.integers(300, 2500))
    cast = int(reg * rng.uniform(0.3, 0.9))
    v = {f: int(rng.integers(0, cast)) for f in lay.fields(cands)}
    v["registered"] = reg
    return v


def main(n: int = 20) -> None:
    if not tesseract_available():
        print("tesseract is not installed (Debian: tesseract-ocr); only QR is measured")
    print(
        f"{'layout':11s} {'hand':12s} {'photo':6s} {'exact':>7s} {'conf≥.9':>8s} {'acc|conf≥.9':>12s} {'QR':>6s} {'s/sheet':>8s}"
    )
    for lname, cands in CANDIDATES.items():
        lay = layout(lname)
        for hand in ("printed", "handwritten"):
            for quality in ("clean", "phone"):
                exact = total = confident = confident_ok = qr_ok = 0
                t0 = time.perf_counter()
                for seed in range(n):
                    rng = np.random.default_rng([seed, len(lname), len(hand), len(quality)])
                    v = values(lay, cands, rng)
                    deg = Degradation.random(rng, quality)
                    s = draw_sheet(lay, cands, v, station_id=f"{seed}", sheet_id=f"S{seed}", seed=seed, hand=hand, degradation=deg)  # fmt: skip
                    r = read_sheet(s.image, lay, cands)
                    for f in r.fields:
                        total += 1
                        exact += f.value == v[f.field]
                        if f.confidence >= 0.9:
                            confident += 1
                            confident_ok += f.value == v[f.field]
                    q = draw_sheet(lay, cands, v, station_id=f"{seed}", sheet_id=f"S{seed}", seed=seed, hand=hand, qr=True, degradation=deg)  # fmt: skip
                    qr = read_sheet(q.image, lay, cands) if q.qr else None
                    qr_ok += bool(qr and all(f.source == "qr" and f.value == v[f.field] for f in qr.fields))  # fmt: skip
                dt = (time.perf_counter() - t0) / (2 * n)
                acc = confident_ok / confident if confident else float("nan")
                print(f"{lname:11s} {hand:12s} {quality:6s} {exact / total:7.1%} {confident / total:8.1%} {acc:12.1%} {qr_ok / n:6.0%} {dt:8.2f}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
