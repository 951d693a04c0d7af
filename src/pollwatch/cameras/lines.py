"""Which protocol lines a camera on the stationary ballot box can see: like with like.

A camera on the stationary box sees the voters who come into the station on election day and
drop a ballot there. It never sees ballots issued outside the station (the mobile box) nor, in
countries with early voting, ballots issued before election day. Comparing the camera count with
*all* ballots issued therefore flags every station with mobile-box or early voters as
"inflated" — the artefact a hostile fact-check would rightly tear apart.

Per country profile (:data:`PROFILES`), an ordered list of :class:`Formula`: the first whose
protocol lines the election has gives the official figure the camera count is compared with.

* **like with like** (``exact=True``): the lines count only ballots the camera can see. The
  official figure above the camera's upper bound is a flag.
* **bound** (``exact=False``): the lines include ballots the camera cannot see, and the
  protocol does not separate them. Then ``official ≥ visible`` is all that is known, so only
  ``official < camera`` (fewer ballots than voters seen) can be flagged; an official figure
  above the camera count is not evidence of anything and is not flagged.

Method: ``docs/methods/quickcount-and-cameras.md`` §2.3; sources of each profile are in
:data:`PROFILES` and ``docs/cameras.md`` ("Like with like").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.i18n import N_, note
from pollwatch.model.fields import FIELD_BY_NAME

LIKE_WITH_LIKE = N_("like with like")
BOUND = N_("bound")


@dataclass(frozen=True)
class Formula:
    """``Σ plus − Σ minus`` over protocol lines; ``exact`` when the result holds only ballots
    a camera on the stationary box can see."""

    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()
    exact: bool = True
    why: str = ""

    @property
    def lines(self) -> tuple[str, ...]:
        return self.plus + self.minus

    def describe(self) -> str:
        s = " + ".join(self.plus)
        return s + "".join(f" − {m}" for m in self.minus)


@dataclass(frozen=True)
class CountryLines:
    """A country's protocol: the lines a camera cannot see and the formulas to try, in order."""

    country: str
    name: str
    hidden: tuple[str, ...]  # lines of ballots a camera on the stationary box never sees
    formulas: tuple[Formula, ...]
    source: str
    caveats: tuple[str, ...] = ()


_CAST = ("valid", "invalid")
_ISSUED = ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")

#: Country profiles. Field names are pollwatch's (``pollwatch.model.fields``); the presets in
#: ``pollwatch/ingest/presets`` map each country's protocol lines onto them.
PROFILES: dict[str, CountryLines] = {
    "AZ": CountryLines(
        country="AZ",
        name="Azerbaijan",
        # no early voting in the protocol; an early line (simulated files) is reported if present
        hidden=("ballots_issued_early", "ballots_issued_mobile", "ballots_mobile_box"),
        formulas=(
            Formula(
                ("ballots_issued_station",),
                why="ballots issued inside the station: line 100.2.5 minus line 100.2.6 "
                "(the azerbaijan_pec preset subtracts the mobile box); the protocol has no "
                "early-voting line",
            ),
            Formula(
                ("ballots_stationary_box",),
                why="ballots found in the stationary box (line 100.2.13)",
            ),
            Formula(
                _CAST,
                ("ballots_mobile_box",),
                why="ballots cast minus ballots found in the mobile box (100.2.12)",
            ),
            Formula(_CAST, exact=False, why="ballots cast, mobile box included"),
        ),
        source="Election Code of the Republic of Azerbaijan, Art. 100.2 (PEC protocol: "
        "100.2.5 voters given ballots, 100.2.6 ballots issued for the mobile box, 100.2.12/13 "
        "ballots in the mobile/stationary boxes); preset src/pollwatch/ingest/presets/"
        "azerbaijan_pec.toml",
    ),
    "RU": CountryLines(
        country="RU",
        name="Russia",
        hidden=("ballots_issued_early", "ballots_issued_mobile", "ballots_mobile_box"),
        formulas=(
            Formula(
                ("ballots_issued_station",),
                why="ballots issued in the voting premises on voting day(s), "
                "«выданных … в помещении для голосования в день голосования»",
            ),
            Formula(
                _ISSUED,
                ("ballots_issued_early", "ballots_issued_mobile"),
                why="all ballots issued minus early and mobile",
            ),
            Formula(
                ("ballots_stationary_box",),
                exact=False,
                why="ballots in the stationary boxes, which also hold early voters' ballots",
            ),
            Formula(_CAST, exact=False, why="ballots cast: mobile box and early voters included"),
        ),
        source="Federal Law 67-FZ of 12.06.2002: Art. 67 (the precinct protocol lines: "
        "ballots issued to early voters, in the premises on voting day, outside the premises), "
        "Art. 65 (early voting), Art. 66 (voting outside the premises); preset "
        "src/pollwatch/ingest/presets/russia_cec.toml",
        caveats=(
            N_(
                "Since 2020 voting may last several days (67-FZ Art. 63.1): the in-station line "
                "then covers every day, so the tallies must cover every voting day too."
            ),
        ),
    ),
}
PROFILES["generic"] = CountryLines(
    country="generic",
    name="generic (pollwatch's protocol lines)",
    hidden=("ballots_issued_early", "ballots_issued_mobile", "ballots_mobile_box"),
    formulas=PROFILES["RU"].formulas,
    source="pollwatch.model.fields: ballots_issued_station is 'ballots issued inside the "
    "station on election day'",
)


def profile_for(country: str | None) -> CountryLines:
    """The profile of a country code or profile name (``AZ``, ``RU``), else the generic one."""
    key = (country or "").strip().upper()
    return PROFILES.get(key, PROFILES["generic"])


@dataclass(frozen=True, eq=False)  # Mapping equality: equal to a dict with the same items
class OfficialBallots(Mapping[str, int]):
    """Official per-station figures with what they count.

    A read-only mapping station id → ballots, so it goes wherever a plain ``dict`` of official
    figures went; ``lines`` (the protocol lines used, ``formula``), ``exact`` (like with like)
    or a one-sided bound, ``hidden_removed`` (lines of unseen ballots taken out) and ``source``.
    """

    figures: dict[str, int]
    formula: str
    lines: tuple[str, ...]
    exact: bool
    hidden_removed: tuple[str, ...] = ()
    profile: str = "generic"
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, key: str) -> int:
        return self.figures[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)

    @property
    def comparison(self) -> str:
        return LIKE_WITH_LIKE if self.exact else BOUND

    def describe(self) -> dict:
        """What the official figures count (for the JSON output)."""
        return {
            "formula": self.formula,
            "lines": list(self.lines),
            "hidden_lines_removed": list(self.hidden_removed),
            "comparison": self.comparison,
            "profile": self.profile,
            "source": self.source,
            "notes": list(self.notes),
        }


def _column(table: pl.DataFrame, name: str) -> np.ndarray:
    """A protocol line as float, NaN where the cell is empty (unknown, not zero)."""
    return table[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()


def visible_ballots(election, profile: str | None = None) -> OfficialBallots:
    """The official figure per station that a camera on the stationary box should match.

    The first formula of the country profile (``profile``, default the election's
    ``meta.profile``/``meta.country``) whose lines the election has; stations where a line is
    empty get no figure (they are reported as not compared, never as zero).

    Parameters
    ----------
    election : Election
        The official results.
    profile : str, optional
        ``"AZ"``, ``"RU"`` or ``"generic"``.

    Returns
    -------
    OfficialBallots
        Station id → ballots, with the lines used and whether the comparison is like with like.
    """
    meta = election.meta
    prof = profile_for(profile or meta.profile or meta.country)
    if profile is None and prof.country == "generic":
        prof = profile_for(meta.country)
    formula = next((f for f in prof.formulas if all(election.has(x) for x in f.lines)), None)
    if formula is None:
        raise ValueError(
            f"the election has none of the protocol lines a camera count can be compared with "
            f"(tried: {'; '.join(f.describe() for f in prof.formulas)})"
        )
    t = election.table
    v = np.zeros(t.height)
    for x in formula.plus:
        v = v + _column(t, x)
    for x in formula.minus:
        v = v - _column(t, x)
    ids = [str(s) for s in election.station_ids]
    values = {s: int(x) for s, x in zip(ids, v, strict=True) if np.isfinite(x)}
    notes = list(prof.caveats)
    n_blank = len(ids) - len(values)
    if n_blank:
        notes.append(
            note(
                "{n} station(s) have an empty protocol line among {formula}: "
                "no official figure, not compared.",
                n=n_blank,
                formula=formula.describe(),
            )
        )
    present_hidden = tuple(h for h in prof.hidden if election.has(h))
    if formula.exact:
        removed = tuple(h for h in present_hidden if h in formula.minus or h not in formula.plus)
    else:
        removed = tuple(h for h in formula.minus if h in prof.hidden)
        notes.append(
            note(
                "The official figure ({formula}) includes ballots a camera on the "
                "stationary box cannot see (mobile box or early voters) and the protocol does not "
                "separate them: the comparison is a one-sided bound (official ≥ ballots the camera "
                "can see), so only an official figure below the camera count can be flagged.",
                formula=formula.describe(),
            )
        )
    return OfficialBallots(
        figures=values,
        formula=formula.describe(),
        lines=formula.lines,
        exact=formula.exact,
        hidden_removed=removed,
        profile=prof.country,
        source=f"{prof.source}. {formula.why}".strip(),
        notes=tuple(notes),
    )


def stated_official(
    values: Mapping[str, int], column: str, in_station: bool | None = None
) -> OfficialBallots:
    """Official figures from a CSV column: like with like only when the column is the
    in-station line (``ballots_issued_station``) or the user states it (``in_station``)."""
    exact = column in ("ballots_issued_station", "in_station") if in_station is None else in_station
    what = FIELD_BY_NAME[column].description if column in FIELD_BY_NAME else f"column {column!r}"
    notes = []
    if exact:
        src = (
            f"{what} (stated by the user to count only in-station, election-day ballots)"
            if in_station
            else what
        )
    else:
        src = what
        notes.append(
            note(
                "The official figures ({column}) are not known to exclude mobile-box and early "
                "ballots, which a camera cannot see: the comparison is a one-sided bound, so only "
                "an official figure below the camera count can be flagged. Give the in-station "
                "line (column ballots_issued_station) or state it (--official-in-station) to "
                "compare like with like.",
                column=column,
            )
        )
    return OfficialBallots(
        figures=dict(values),
        formula=column,
        lines=(column,),
        exact=exact,
        profile="stated",
        source=src,
        notes=tuple(notes),
    )
