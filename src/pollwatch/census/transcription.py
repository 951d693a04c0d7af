"""Double-blind transcription of protocol photos (``docs/census.md`` §7).

Two volunteers type each sheet from its photo without seeing each other's numbers (or the
OCR reading); a sheet is accepted as typed only if both typed the same number in every box and
the numbers pass the sheet's own control relations (the checks of :mod:`pollwatch.census.sheets`,
``docs/census.md`` §1.2, so an accepted sheet is usable by ``pollwatch census check``). Anything
else goes to an arbiter. This is the double-entry verification of data-entry practice (Barchard
& Pace 2011, "Preventing human error: the impact of data entry methods on data accuracy and
statistical results", *Computers in Human Behavior* 27(5): double entry catches the errors of
single entry that visual checking misses); the two typists' errors are independent, so a wrong
number is accepted only when both make the same slip in the same box.

This module holds the parts that do not need the service: comparing two transcriptions, the
checks, the share of sheets accepted without arbitration (with a Wilson interval), and a model
of a typist's slips for the benchmark (``benchmarks/census_transcription.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from pollwatch.census.sheets import sheets_from_frame
from pollwatch.results import ResultMixin, Summary

__all__ = [
    "ArbitrationShare",
    "differing",
    "keying_slip",
    "sheet_problems",
    "share_without_arbitration",
    "simulated_typist",
]

Values = Mapping[str, int | None]


def differing(a: Values, b: Values, fields: Sequence[str]) -> tuple[str, ...]:
    """The fields where two transcriptions differ (a blank box and a number differ too)."""
    return tuple(f for f in fields if a.get(f) != b.get(f))


def sheet_problems(values: Values, lines: Sequence[str], candidates: Sequence[str]) -> list[str]:
    """What is wrong with one sheet's numbers by the census's own rules (``docs/census.md``
    §1.2): a blank candidate box (``incomplete: …``) or a failed control relation
    (``arithmetic: …``). Empty when the sheet is usable."""
    cols: dict[str, pl.Series] = {"station_id": pl.Series("station_id", ["sheet"])}
    for f in (*lines, *candidates):
        cols[f] = pl.Series(f, [values.get(f)], dtype=pl.Int64)
    sheets = sheets_from_frame(pl.DataFrame(cols), source="sheet", candidates=list(candidates))
    return [f"{f.kind}: {f.detail}" for f in sheets.findings]


_TITLE = "Double-blind transcription"


@dataclass(frozen=True)
class ArbitrationShare(ResultMixin):
    """Share of accepted sheets that needed no arbiter, with its Wilson 95 % interval."""

    agreed: int
    arbitrated: int
    estimate: float
    low: float
    high: float

    @property
    def accepted(self) -> int:
        return self.agreed + self.arbitrated

    def summary(self) -> Summary:
        if not self.accepted:
            return Summary(_TITLE, "No sheet accepted yet.")
        return Summary(
            _TITLE,
            f"{self.agreed} of {self.accepted} accepted sheets ({100 * self.estimate:.1f} %, "
            f"95 % interval {100 * self.low:.1f}-{100 * self.high:.1f} %) needed no arbiter: "
            f"both volunteers typed the same numbers and the sheet passed its checks; "
            f"{self.arbitrated} went to arbitration.",
        )

    def to_dict(self) -> dict:
        return {
            "agreed": self.agreed,
            "arbitrated": self.arbitrated,
            "accepted": self.accepted,
            "share_without_arbitration": None if not self.accepted else self.estimate,
            "interval95": None if not self.accepted else [self.low, self.high],
            "summary": self.summary().text,
        }


def share_without_arbitration(agreed: int, arbitrated: int) -> ArbitrationShare:
    """The share ``agreed / (agreed + arbitrated)`` with the Wilson (1927) score interval
    ("Probable inference, the law of succession, and statistical inference", *JASA* 22, eq. for
    the score interval; ``docs/census.md`` §7), which stays inside [0, 1] for small counts."""
    n = agreed + arbitrated
    if n == 0:
        return ArbitrationShare(0, 0, math.nan, math.nan, math.nan)
    p, z = agreed / n, 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return ArbitrationShare(agreed, arbitrated, p, max(centre - half, 0.0), min(centre + half, 1.0))


# neighbours of each digit on a phone's numeric keypad (1 2 3 / 4 5 6 / 7 8 9 / 0)
_KEYPAD = {
    "1": "24", "2": "135", "3": "26", "4": "157", "5": "2468",
    "6": "359", "7": "48", "8": "5790", "9": "68", "0": "8",
}  # fmt: skip


def keying_slip(value: int, rng: np.random.Generator) -> int:
    """One typing slip in ``value``: a neighbouring key (40 %), two adjacent digits swapped
    (25 %), a digit left out (20 %) or doubled (15 %), the classes of keying errors in
    Barchard & Pace (2011). Always returns a different number (a 1-digit number that cannot be
    swapped gets a neighbouring key instead)."""
    s = str(value)
    for _ in range(20):
        u = rng.random()
        i = int(rng.integers(len(s)))
        if u < 0.40:
            t = s[:i] + rng.choice(list(_KEYPAD[s[i]])) + s[i + 1 :]
        elif u < 0.65 and len(s) > 1:
            j = min(i, len(s) - 2)
            t = s[:j] + s[j + 1] + s[j] + s[j + 2 :]
        elif u < 0.85 and len(s) > 1:
            t = s[:i] + s[i + 1 :]
        else:
            t = s[:i] + s[i] + s[i:]
        if int(t) != value:
            return int(t)
    return value + 1  # unreachable in practice (every class above changes some number)


def simulated_typist(
    values: Values, rate: float, rng: np.random.Generator
) -> dict[str, int | None]:
    """A volunteer's transcription of ``values``: each box independently gets one
    :func:`keying_slip` with probability ``rate``; blank boxes stay blank."""
    out: dict[str, int | None] = {}
    for f, v in values.items():
        out[f] = keying_slip(v, rng) if v is not None and rng.random() < rate else v
    return out
