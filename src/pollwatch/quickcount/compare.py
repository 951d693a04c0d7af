"""Quick count against the official result: the pre-registered verdict, every figure against
its interval, station-level protocol match, and the worst-case bound for a partial collection
of tally sheets.

Sources: docs/quickcount.md §8.1 (one pre-registered verdict from three headline t-tests with
Holm's correction; the other figures are shown and do not vote); docs/methods/quickcount-and-cameras.md
§1.2 f (the official figure against the interval), §1.2 h (worst-case bound, as used
on the Venezuelan opposition's collected *actas*), §1.4 (what a protocol-copy PVT cannot see);
Estok, Nevitte & Cowan (2002), NDI, ch. 8.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.i18n import N_, gettext, note
from pollwatch.i18n.text import say
from pollwatch.model import Election
from pollwatch.quickcount.checks import INCOMPLETE
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.quickcount.design import SampleDesign
from pollwatch.quickcount.estimate import (
    QUANTITY_LABELS,
    QuickCountResult,
    _candidate_columns,
    estimate,
)
from pollwatch.quickcount.sample import RegisteredSample
from pollwatch.quickcount.verdict import Verdict, VerdictRule, decide, official_figures
from pollwatch.results import ResultMixin, Summary, fmt_int, fmt_pct

__all__ = [
    "CANNOT_SEE",
    "Mismatch",
    "OfficialComparison",
    "OfficialRow",
    "PVTComparison",
    "ProtocolMatch",
    "TallySheetBound",
    "compare",
    "compare_official",
    "match_protocols",
    "official_figures",
    "tally_sheet_bound",
    "describe",
]

CANNOT_SEE = N_(
    "A protocol-copy PVT verifies tabulation, not turnout: ballots stuffed into the box and "
    "carousel votes that the station commission counted are inside both the observers' copies "
    "and the official count, so the PVT can agree with a manipulated result. Check turnout "
    "independently (voter counts by observers or cameras) and run the forensic tests on all stations."
)


def describe(t: float, df: int, confidence: float = 0.95) -> str:
    """Words for one official figure's ``t = (official − estimate)/SE`` against the quick count's
    t interval (§1.2 f). Descriptive only: the verdict is decided by :func:`decide`."""
    if math.isnan(t):
        return note(N_("cannot be judged (no variance)"))
    q = float(stats.t.ppf(0.5 + confidence / 2, df)) if df >= 1 else math.inf
    c = f"{100 * confidence:g} %"
    return (
        note(N_("inside the {level} t interval"), level=c)
        if abs(t) <= q
        else note(
            N_("outside the {level} t interval (shown; only the headline quantities vote)"),
            level=c,
        )
    )


@dataclass(frozen=True)
class OfficialRow:
    quantity: str
    official: float
    estimate: float
    se: float
    low: float
    high: float
    z: float
    verdict: str


@dataclass(frozen=True)
class OfficialComparison(ResultMixin):
    """Each official figure against the PVT's t interval: ``z = (official − estimate)/SE``,
    read on ``df`` degrees of freedom. Shown, not voted: the verdict is :class:`Verdict`."""

    rows: tuple[OfficialRow, ...]
    confidence: float

    @property
    def worst(self) -> OfficialRow:
        return max(self.rows, key=lambda r: -1 if math.isnan(r.z) else abs(r.z))

    def summary(self) -> Summary:
        out = [r for r in self.rows if r.verdict.startswith("outside")]
        text = gettext(
            "{n} of {total} official figures lie outside their own {level} % t interval; with "
            "this many figures some are expected to by chance, so only the pre-registered "
            "verdict decides."
        ).format(n=len(out), total=len(self.rows), level=f"{100 * self.confidence:g}")
        rows = [
            (
                gettext(QUANTITY_LABELS[r.quantity])
                if r.quantity in QUANTITY_LABELS
                else r.quantity,
                gettext(
                    "official {official} vs PVT {estimate} [{low}, {high}], t = {t}: {verdict}"
                ).format(
                    official=fmt_pct(r.official),
                    estimate=fmt_pct(r.estimate),
                    low=fmt_pct(r.low),
                    high=fmt_pct(r.high),
                    t=f"{r.z:+.2f}",
                    verdict=say(r.verdict),
                ),
            )
            for r in self.rows
        ]
        return Summary(
            gettext("Official result against the quick count"), text, rows, (gettext(CANNOT_SEE),)
        )


def compare_official(
    result: QuickCountResult, official: Election | dict[str, float]
) -> OfficialComparison:
    """Test each official figure (a fraction) against the quick count's interval.

    Parameters
    ----------
    result : QuickCountResult
        The quick count.
    official : Election or dict
        The official result, or ``{quantity: fraction}`` (candidates' shares of valid votes,
        ``turnout``, ``invalid_share``).

    Returns
    -------
    OfficialComparison
        Per quantity: the official figure, the estimate and its t interval, ``z`` (read on
        ``result.df`` degrees of freedom) and words; descriptive, the verdict is :func:`decide`.
    """
    figs = official_figures(official) if isinstance(official, Election) else dict(official)
    rows = []
    for q in result.quantities:
        if q.name not in figs:
            continue
        off = float(figs[q.name])
        z = (off - q.estimate) / q.se if q.se > 0 else math.nan
        rows.append(
            OfficialRow(
                quantity=q.name,
                official=off,
                estimate=q.estimate,
                se=q.se,
                low=q.t_low,
                high=q.t_high,
                z=z,
                verdict=describe(z, result.df, result.confidence),
            )
        )
    return OfficialComparison(rows=tuple(rows), confidence=result.confidence)


@dataclass(frozen=True)
class Mismatch:
    """One field of one station where the observer's copy and the official protocol differ."""

    station_id: str
    field: str
    copy: int | None
    official: int | None


@dataclass(frozen=True)
class ProtocolMatch(ResultMixin):
    """Station-level match of protocol copies against officially published protocols."""

    stations_compared: int
    fields: tuple[str, ...]
    mismatches: tuple[Mismatch, ...]
    missing_in_official: tuple[str, ...]

    @property
    def altered_stations(self) -> tuple[str, ...]:
        return tuple(sorted({m.station_id for m in self.mismatches}))

    def summary(self) -> Summary:
        n = len(self.altered_stations)
        text = (
            gettext("All {n} copied protocols match the official ones field by field.").format(
                n=f"{self.stations_compared:,}"
            )
            if not n and not self.missing_in_official
            else gettext(
                "{n} of {total} stations' official protocols differ from the copies the observers "
                "made at the station: direct evidence that figures changed between the station "
                "and the centre (not a statistical inference)."
            ).format(n=n, total=f"{self.stations_compared:,}")
        )
        rows = [
            (
                gettext("station {station}").format(station=m.station_id),
                gettext("{field}: copy {copy}, official {official}").format(
                    field=m.field,
                    copy=fmt_int(m.copy) if m.copy is not None else "—",
                    official=fmt_int(m.official) if m.official is not None else "—",
                ),
            )
            for m in self.mismatches[:200]
        ]
        notes = []
        if self.missing_in_official:
            notes.append(
                gettext(
                    "{n} copied station(s) are absent from the official results: {stations}"
                ).format(
                    n=len(self.missing_in_official),
                    stations=", ".join(self.missing_in_official[:10]),
                )
            )
        if len(self.mismatches) > 200:
            notes.append(
                gettext("… and {n} more mismatching fields.").format(n=len(self.mismatches) - 200)
            )
        return Summary(gettext("Protocol copies against official protocols"), text, rows, notes)


def match_protocols(
    copies: ProtocolCopies, official: Election, fields: Sequence[str] | None = None
) -> ProtocolMatch:
    """Compare every copied protocol with the official one, field by field (§1.2 f).

    Parameters
    ----------
    copies : ProtocolCopies
        The observers' copies.
    official : Election
        The officially published protocols.
    fields : sequence of str, optional
        Fields to compare (default: the protocol fields present in both, and every
        candidate). A field left empty in a copy is not compared (the observer did not copy
        it).

    Returns
    -------
    ProtocolMatch
        Stations compared, each mismatch and the stations missing from the official file.
    """
    cand_cols, _ = _candidate_columns(copies, official)
    pairs = [(f, f) for f in copies.fields if official.has(f)]
    pairs += list(zip(cand_cols, [c.id for c in official.candidates], strict=True))
    if fields is not None:
        pairs = [p for p in pairs if p[0] in fields or p[1] in fields]
    off = official.table.select(
        "station_id", *[pl.col(o).alias(f"__off_{j}") for j, (_, o) in enumerate(pairs)]
    )
    names = {c.id: c.name for c in official.candidates}
    joined = copies.table.join(off, on="station_id", how="left")
    present = joined["station_id"].is_in(official.table["station_id"].implode()).to_numpy()
    ids = joined["station_id"].to_numpy()
    mism: list[tuple[int, Mismatch]] = []
    for j, (cc, oc) in enumerate(pairs):
        a, b = joined[cc].cast(pl.Int64), joined[f"__off_{j}"].cast(pl.Int64)
        bad = (a.is_not_null() & (a != b).fill_null(True)).to_numpy() & present
        for i in np.flatnonzero(bad):
            mism.append(
                (
                    j,
                    Mismatch(
                        station_id=str(ids[i]),
                        field=names.get(oc, oc),
                        copy=_int(a[int(i)]),
                        official=_int(b[int(i)]),
                    ),
                )
            )
    mism.sort(key=lambda t: (t[1].station_id, t[0]))
    return ProtocolMatch(
        int(present.sum()),
        tuple(names.get(o, o) for _, o in pairs),
        tuple(m for _, m in mism),
        tuple(str(s) for s in ids[~present]),
    )


def _int(v) -> int | None:
    return None if v is None else int(v)


@dataclass(frozen=True)
class PVTComparison(ResultMixin):
    """The quick count, its pre-registered verdict, every official figure against its interval
    and the station-level match.

    ``verdict``: ``consistent``, ``discrepancy`` or ``too_early`` (docs/quickcount.md §8.1);
    ``decision`` holds the three headline tests it was decided from.
    """

    verdict: str
    decision: Verdict
    estimate: QuickCountResult
    official: OfficialComparison
    protocols: ProtocolMatch

    def summary(self) -> Summary:
        e, v, p = self.estimate.summary(), self.decision.summary(), self.protocols.summary()
        text = f"{v.text} {e.text} {p.text}"
        rows = list(v.rows) + list(p.rows[:50])
        return Summary(
            gettext("Quick count against the official result — {verdict}").format(verdict=v.title),
            text,
            rows,
            [*v.notes, *e.notes, *p.notes, gettext(CANNOT_SEE)],
        )


def compare(
    copies: ProtocolCopies,
    official: Election,
    *,
    frame: Election | None = None,
    strata: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    bootstrap: int = 0,
    seed: int | None = None,
    sample: RegisteredSample | None = None,
    sampled: SampleDesign | Mapping[str, int] | int | None = None,
    rule: VerdictRule | None = None,
) -> PVTComparison:
    """Estimate from the copies (frame: ``official`` unless given; only the registered
    ``sample``'s stations when given), decide the pre-registered verdict (docs/quickcount.md
    §8.1), show every official figure against its interval and match every copied protocol
    against the official one. Quarantined copies (docs/quickcount.md §5) are left out of the
    match too: an observer's typo is not evidence that the official protocol was altered.

    ``sampled`` (the drawn sample, ``{stratum: drawn}`` or the total; taken from ``sample``
    when that is given) lets the verdict check the response rate; ``rule`` overrides the
    pre-registered :class:`VerdictRule` (its level is ``rule.alpha``, independent of
    ``confidence``, which sets the shown intervals).
    """
    res = estimate(
        copies,
        frame or official,
        strata=strata,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=seed,
        sample=sample,
    )
    # an incomplete copy's filled lines are still evidence; an inconsistent copy's are not
    bad = [q.station_id for q in res.quarantined if set(q.rules) - {INCOMPLETE}]
    matched = ProtocolCopies(
        copies.table.filter(~pl.col("station_id").cast(pl.Utf8).is_in(bad)),
        copies.fields,
        copies.candidates,
        copies.source,
    )
    if sampled is None and sample is not None:
        sampled = {h: n_h for h, (_N, n_h) in sample.strata.items()}
    dec = decide(res, official, sampled=sampled, rule=rule)
    return PVTComparison(
        dec.verdict,
        dec,
        res,
        compare_official(res, official),
        match_protocols(matched, official),
    )


@dataclass(frozen=True)
class TallySheetBound(ResultMixin):
    """Worst-case bound for a partial collection of tally sheets (§1.2 h).

    ``decided`` iff the votes not on collected sheets (``remaining``) are fewer than the lead on
    them: even if every one went to the trailing candidate, the result would not change.
    """

    a: str
    b: str
    sheets: int
    duplicates: int
    conflicting_duplicates: tuple[str, ...]
    votes_a: int
    votes_b: int
    collected_votes: int
    lead: int
    remaining: int
    remaining_basis: str
    decided: bool

    def summary(self) -> Summary:
        lead_name = self.a if self.lead >= 0 else self.b
        text = (
            gettext(
                "{name} leads by {lead} votes on {sheets} collected sheets; at most {remaining} "
                "votes lie outside them ({basis})."
            ).format(
                name=lead_name,
                lead=f"{abs(self.lead):,}",
                sheets=f"{self.sheets:,}",
                remaining=f"{self.remaining:,}",
                basis=say(self.remaining_basis),
            )
            + " "
            + (
                gettext(
                    "Even if all of them went to the other candidate, {name} stays ahead: "
                    "decided, with no sampling assumption."
                ).format(name=lead_name)
                if self.decided
                else gettext(
                    "They could overturn the lead: the collection does not decide the result."
                )
            )
        )
        rows = [
            (gettext("sheets (after de-duplication)"), fmt_int(self.sheets)),
            (gettext("duplicates dropped"), fmt_int(self.duplicates)),
            (gettext("votes {name}").format(name=self.a), fmt_int(self.votes_a)),
            (gettext("votes {name}").format(name=self.b), fmt_int(self.votes_b)),
            (gettext("lead"), fmt_int(self.lead)),
            (gettext("remaining (worst case)"), fmt_int(self.remaining)),
        ]
        notes = (
            [
                gettext(
                    "Sheets with the same id but different figures: {sheets}; the first was kept; "
                    "resolve them from the images."
                ).format(sheets=", ".join(self.conflicting_duplicates[:10]))
            ]
            if self.conflicting_duplicates
            else []
        )
        return Summary(
            gettext("Worst-case bound for the collected tally sheets"), text, rows, notes
        )


def tally_sheet_bound(
    sheets: pl.DataFrame,
    a: str,
    b: str,
    *,
    total_votes: int | None = None,
    uncollected_registered: int | None = None,
    sheet_id: str = "sheet_id",
    image_hash: str | None = None,
    votes_columns: Sequence[str] | None = None,
) -> TallySheetBound:
    """Is the result decided by the collected tally sheets alone? (§1.2 h)

    ``Remaining`` is ``total_votes`` minus the votes on the sheets, or, if official totals are
    distrusted, ``uncollected_registered``; the result is decided iff it is below the lead.

    Parameters
    ----------
    sheets : polars.DataFrame
        One row per collected sheet with ``sheet_id`` and a column of votes for each
        candidate (``a``, ``b``, …). Sheets are de-duplicated on ``sheet_id`` (and
        ``image_hash`` when given).
    a, b : str
        The columns of the two leading candidates.
    total_votes : int, optional
        Official total of votes (give this or ``uncollected_registered``).
    uncollected_registered : int, optional
        Voters registered at stations whose sheet is missing.
    sheet_id : str
        Column of the sheet id.
    image_hash : str, optional
        Column of the sheet image's hash (a second de-duplication key).
    votes_columns : sequence of str, optional
        The candidate columns that make up total votes (default: every integer column but
        the keys).

    Returns
    -------
    TallySheetBound
        Votes on the sheets, the lead, what remains and whether the result is decided.
    """
    for c in (sheet_id, a, b):
        if c not in sheets.columns:
            raise ValueError(
                f"sheets has no column {c!r}; columns are: {', '.join(sheets.columns)}"
            )
    if (total_votes is None) == (uncollected_registered is None):
        raise ValueError("give exactly one of total_votes and uncollected_registered")
    keys = [sheet_id] + ([image_hash] if image_hash else [])
    cols = (
        list(votes_columns)
        if votes_columns
        else [c for c in sheets.columns if c not in keys and sheets[c].dtype.is_integer()]
    )
    uniq = sheets.unique(subset=[sheet_id, *cols], keep="first", maintain_order=True)
    conflicting = (
        uniq.filter(pl.col(sheet_id).is_duplicated())[sheet_id].unique().cast(pl.Utf8).to_list()
    )
    dedup = uniq.unique(subset=[sheet_id], keep="first", maintain_order=True)
    if image_hash:
        dedup = dedup.unique(subset=[image_hash], keep="first", maintain_order=True)
    va, vb = int(dedup[a].sum()), int(dedup[b].sum())
    collected = int(dedup.select(pl.sum_horizontal(cols)).to_series().sum())
    if total_votes is not None:
        remaining, basis = (
            max(int(total_votes) - collected, 0),
            note(N_("official total votes minus votes on the sheets")),
        )
    else:
        assert uncollected_registered is not None  # exactly one of the two is given (checked above)
        remaining, basis = (
            int(uncollected_registered),
            note(N_("voters registered at stations without a collected sheet")),
        )
    lead = va - vb
    return TallySheetBound(
        a=a,
        b=b,
        sheets=dedup.height,
        duplicates=sheets.height - dedup.height,
        conflicting_duplicates=tuple(sorted(conflicting)),
        votes_a=va,
        votes_b=vb,
        collected_votes=collected,
        lead=lead,
        remaining=remaining,
        remaining_basis=basis,
        decided=remaining < abs(lead),
    )
