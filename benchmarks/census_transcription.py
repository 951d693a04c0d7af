"""Share of sheets double-blind transcription accepts without arbitration (docs/census.md §7).

    python benchmarks/census_transcription.py [SHEETS] [OCR_SHEETS]

Draws SHEETS synthetic protocols per layout (Azerbaijani with 4 candidates, Russian with 3:
13 boxes each) with consistent numbers (every control relation holds), and has two simulated
volunteers type each one: every box independently gets one keying slip (neighbouring key,
swapped digits, a digit left out or doubled: ``pollwatch.census.transcription.keying_slip``)
with probability 0.5 %, 1 % or 2 %. A sheet is accepted without arbitration when both typed the
same numbers and they pass the census checks, exactly as the service decides
(``crud.census._settle``). Printed per layout and slip rate: the share accepted without
arbitration (Wilson 95 % interval), the closed form (1 - p)^(2k), and the sheets accepted with a
wrong number (both volunteers made the same slip in the same box and the checks did not see it).

The slips do not depend on the photo. The photos (handwritten-style digits, phone degradation:
``census.synthetic``) are drawn for the first OCR_SHEETS sheets of each layout and read by
``census.ocr.read_sheet`` (Tesseract, when installed), to measure how often the machine reading
the arbiter sees equals the true number in the boxes the two volunteers disputed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pollwatch.census.layouts import layout
from pollwatch.census.ocr import read_sheet, tesseract_available
from pollwatch.census.synthetic import Degradation, draw_sheet
from pollwatch.census.transcription import (
    differing,
    share_without_arbitration,
    sheet_problems,
    simulated_typist,
)

CANDIDATES = {
    "azerbaijan": ("İlham Əliyev", "Zahid Oruc", "Fazil Mustafa", "Qüdrət Həsənquliyev"),
    "russia": ("Путин В.В.", "Зюганов Г.А.", "Прохоров М.Д."),
}
RATES = (0.005, 0.01, 0.02)


def true_sheet(lname: str, cands: tuple[str, ...], rng: np.random.Generator) -> dict[str, int]:
    """A protocol whose lines add up (ballots issued = in the boxes, valid + invalid = in the
    boxes, candidates = valid, nothing above the registered voters)."""
    reg = int(rng.integers(300, 2500))
    received = reg + int(rng.integers(0, 50))
    mobile = int(rng.integers(0, 40))
    station = int(reg * rng.uniform(0.35, 0.85)) - mobile
    early = int(rng.integers(0, 30)) if lname == "russia" else 0
    cast = station + mobile + early
    invalid = int(rng.integers(0, max(2, cast // 40)))
    valid = cast - invalid
    shares = rng.dirichlet(np.full(len(cands), 1.5))
    votes = rng.multinomial(valid, shares)
    v = {
        "registered": reg,
        "ballots_received": received,
        "ballots_issued_station": station,
        "ballots_issued_mobile": mobile,
        "ballots_cancelled": received - cast,
        "ballots_mobile_box": mobile,
        "ballots_stationary_box": station + early,
        "valid": valid,
        "invalid": invalid,
        **{c: int(n) for c, n in zip(cands, votes, strict=True)},
    }
    if lname == "russia":
        v["ballots_issued_early"] = early
    return v


def main(n: int = 2000, n_ocr: int = 30) -> None:
    t0 = time.perf_counter()
    ocr = tesseract_available()
    print(f"{n} sheets per layout and rate; two simulated typists per sheet")
    print(
        f"{'layout':11s} {'boxes':>5s} {'slip':>5s} {'no arbitration':>15s} {'95 % interval':>15s} "
        f"{'(1-p)^2k':>9s} {'caught':>7s} {'wrong accepted':>15s}"
    )
    disputed = machine_right = machine_read = boxes_read = boxes_right = boxes_all = 0
    for lname, cands in CANDIDATES.items():
        lay = layout(lname)
        lines = tuple(f for _, _, f in lay.lines)
        fields = lay.fields(cands)
        sheets = [true_sheet(lname, cands, np.random.default_rng([7, i, len(lname)])) for i in range(n)]  # fmt: skip
        assert all(not sheet_problems(v, lines, cands) for v in sheets)
        readings: dict[int, dict] = {}
        if ocr:
            for i in range(min(n_ocr, n)):
                rng = np.random.default_rng([11, i, len(lname)])
                img = draw_sheet(lay, cands, sheets[i], station_id=str(i), sheet_id=f"S{i}", seed=i, hand="handwritten", degradation=Degradation.random(rng, "phone"))  # fmt: skip
                readings[i] = read_sheet(img.image, lay, cands).values()
                boxes_all += len(fields)
                boxes_read += sum(readings[i][f] is not None for f in fields)
                boxes_right += sum(readings[i][f] == sheets[i][f] for f in fields)
        for rate in RATES:
            rng = np.random.default_rng([13, int(rate * 1000), len(lname)])
            agreed = caught = wrong = 0
            for i, v in enumerate(sheets):
                a, b = simulated_typist(v, rate, rng), simulated_typist(v, rate, rng)
                diff = differing(a, b, fields)
                if not diff and not sheet_problems(a, lines, cands):
                    agreed += 1
                    wrong += a != v
                elif not diff:
                    caught += 1  # the same slip twice, seen by the checks
                if rate == 0.02 and i in readings:
                    for f in diff:
                        disputed += 1
                        machine_read += readings[i][f] is not None
                        machine_right += readings[i][f] == v[f]
            share = share_without_arbitration(agreed, n - agreed)
            closed = (1 - rate) ** (2 * len(fields))
            print(
                f"{lname:11s} {len(fields):5d} {rate:5.1%} {share.estimate:15.1%} "
                f"{f'{share.low:.1%}-{share.high:.1%}':>15s} {closed:9.1%} {caught:7d} {wrong:15d}"
            )
    if ocr and boxes_all:
        print(
            f"machine reading of {boxes_all} boxes on {boxes_all // 13} drawn sheets (handwritten, "
            f"phone photos): a number in {boxes_read / boxes_all:.0%}, the true number in "
            f"{boxes_right / boxes_all:.0%}"
        )
    if ocr and disputed:
        print(
            f"machine reading in the {disputed} disputed boxes of the drawn sheets (2 % slips): "
            f"a number in {machine_read / disputed:.0%}, the true number in "
            f"{machine_right / disputed:.0%}"
        )
    elif not ocr:
        print("tesseract is not installed: the machine reading was not measured")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
