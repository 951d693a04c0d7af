"""Turnout from the ground: the observers' own voter counts at the sampled stations.

A protocol-copy quick count cannot see ballot stuffing (docs/methods/quickcount-and-cameras.md
§1.4): stuffed ballots are in the box, in the count and in the copy. The observers' own counts
(``voters_by_noon`` and ``voters_by_17`` on the voting form, ``ballots_in_boxes`` on the counting
form, src/pollwatch/service/forms/) can: an observer who counted the voters all day knows how
many ballots can honestly be in the box.

Estimator (docs/quickcount.md §9): the stratified combined ratio estimator
of Cochran (1977), *Sampling Techniques*, §6.11, eq. 6.50, with ``y`` = the observer's
end-of-day count and ``x`` = registered voters (from the frame), its linearised variance with
the finite-population correction in stations, a t interval on ``k − H`` degrees of freedom, and
Kish's (1965, *Survey Sampling*, §8.2) design effect: the variance over that of a simple random
sample of as many registered voters. The noon and 17:00 counts give the same estimate at those
hours (the curve). Compared with (1) the official national turnout, and (2) the protocols'
turnout at the same stations, paired (the ratio estimate of ``protocol − observer`` ballots over
registered voters); per-station gaps beyond a tolerance are flags for the station dossier.

Measured coverage and power: docs/quickcount.md §9.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.i18n import N_, gettext, note
from pollwatch.i18n.text import say
from pollwatch.model import Election
from pollwatch.quickcount._core import ratio_and_variance
from pollwatch.quickcount._frame import Frame, build_frame
from pollwatch.quickcount.copies import read_table
from pollwatch.results import ResultMixin, StationSignal, Summary, fmt_int, fmt_pct, jsonable

__all__ = [
    "CURVE",
    "END_OF_DAY",
    "CurvePoint",
    "ObservedCounts",
    "ObservedTurnout",
    "StationGap",
    "TOLERANCE_SHARE",
    "TOLERANCE_VOTES",
    "gap_tolerance",
    "estimate_observed_turnout",
    "read_observed_counts",
]

END_OF_DAY = "ballots_in_boxes"
#: the default tolerance of a station's gap: clicker counts are off by a few voters
TOLERANCE_VOTES = 5
TOLERANCE_SHARE = 0.02
CURVE = (("12:00", "voters_by_noon"), ("17:00", "voters_by_17"))
_COUNTS = (*[c for _, c in CURVE], END_OF_DAY)


@dataclass(frozen=True)
class ObservedCounts:
    """Observers' counts, one row per sampled station: ``station_id`` and any of
    ``voters_by_noon``, ``voters_by_17``, ``ballots_in_boxes`` (Int64, null = not counted)."""

    table: pl.DataFrame
    source: str = "<DataFrame>"

    @classmethod
    def from_frame(cls, df: pl.DataFrame, source: str = "<DataFrame>") -> ObservedCounts:
        """Validate a DataFrame; raise :class:`InputDataError` listing every problem."""
        issues: list[DataIssue] = []
        for col in ("station_id", END_OF_DAY):
            if col not in df.columns:
                issues.append(
                    DataIssue(
                        source,
                        f'missing required column "{col}"',
                        line=1,
                        column=col,
                        expected="columns station_id, ballots_in_boxes (and optionally "
                        "voters_by_noon, voters_by_17)",
                        value=", ".join(df.columns),
                    )
                )
        if issues:
            raise InputDataError(
                f"{source}: not an observed-counts file:\n" + "\n".join(f"- {i}" for i in issues),
                issues,
            )
        ids = df["station_id"].cast(pl.Utf8).str.strip_chars()
        for i, v in enumerate(ids.to_list()):
            if v is None or not v:
                issues.append(
                    DataIssue(
                        source,
                        "empty station id",
                        line=i + 2,
                        column="station_id",
                        expected="a station id of the frame",
                        value="",
                    )
                )
        for i in ids.is_duplicated().arg_true().to_list():
            issues.append(
                DataIssue(
                    source,
                    "station reported twice",
                    line=i + 2,
                    column="station_id",
                    station_id=ids[i],
                    hint="keep one count per station",
                )
            )
        out: dict[str, pl.Series] = {"station_id": ids}
        for col in _COUNTS:
            if col not in df.columns:
                out[col] = pl.Series(col, [None] * df.height, dtype=pl.Int64)
                continue
            raw = df[col]
            txt = raw.cast(pl.Utf8).str.strip_chars()
            blank = txt.is_null() | (txt == "")
            num = txt.str.replace_all(r"[ ,\u00a0]", "").cast(pl.Int64, strict=False)
            bad = (num.is_null() & ~blank) | (num < 0).fill_null(False)
            for i in bad.arg_true().to_list():
                issues.append(
                    DataIssue(
                        source,
                        "not a count of voters",
                        line=i + 2,
                        column=col,
                        station_id=ids[i],
                        expected="a non-negative integer (or empty: not counted)",
                        value=str(raw[i]),
                    )
                )
            out[col] = num  # blanks stay missing, never 0
        if issues:
            shown = "\n".join(f"- {i}" for i in issues[:20])
            more = f"\n… and {len(issues) - 20} more" if len(issues) > 20 else ""
            raise InputDataError(
                f"{source}: {len(issues)} problem(s) in the observed counts:\n{shown}{more}",
                issues,
            )
        return cls(pl.DataFrame(out), source)


def read_observed_counts(path: str | Path) -> ObservedCounts:
    """Read observers' counts from CSV (``,`` or ``;``) or Parquet; every problem is reported with
    file, line, column, expected and found values in one :class:`InputDataError`."""
    return ObservedCounts.from_frame(read_table(path), str(path))


@dataclass(frozen=True)
class CurvePoint:
    """Turnout by a given hour from the observers' counts, with its t interval."""

    time: str
    column: str
    stations: int
    estimate: float
    se: float
    low: float
    high: float


@dataclass(frozen=True)
class StationGap:
    """One observed station: the observer's end-of-day count against the protocol's ballots.

    ``gap = protocol − observed`` (votes); ``flagged`` when ``|gap| > tolerance``: positive
    gaps are ballots in the protocol that the observer did not see (stuffing), negative ones
    ballots the observer saw that the protocol lost.
    """

    station_id: str
    registered: int
    observed: int
    protocol: int | None
    gap: int | None
    tolerance: float
    flagged: bool


@dataclass(frozen=True)
class _Ratio:
    estimate: float
    se: float
    df: int
    low: float
    high: float


@dataclass(frozen=True)
class ObservedTurnout(ResultMixin):
    """Turnout estimated from the observers' own counts (docs/quickcount.md §9).

    ``estimate``/``se``/``low``/``high``: national turnout (ballots / registered) from the
    observers' end-of-day counts, t interval on ``df`` degrees of freedom; ``design_effect``:
    Kish's Deff. ``official_turnout`` and ``official_t``: the official figure and
    ``(official − estimate)/SE``. ``protocol_*``: the protocols' turnout at the same stations;
    ``excess_*``: ``(protocol − observed)/registered`` at those stations, paired. ``curve``:
    turnout by noon, 17:00 and the end of the day. ``gaps``: one row per observed station.
    """

    estimate: float
    se: float
    df: int
    low: float
    high: float
    confidence: float
    design_effect: float
    n_observed: int
    n_frame: int
    n_strata: int
    strata_by: tuple[str, ...]
    official_turnout: float
    official_t: float
    official_call: str
    protocol_estimate: float
    protocol_low: float
    protocol_high: float
    excess_estimate: float
    excess_se: float
    excess_low: float
    excess_high: float
    excess_call: str
    curve: tuple[CurvePoint, ...]
    gaps: tuple[StationGap, ...]
    tolerance_votes: int
    tolerance_share: float
    quarantined: tuple[tuple[str, str], ...]
    actions: tuple[str, ...]
    notes: tuple[str, ...] = ()

    _dict_exclude = ("gaps",)

    @property
    def flagged(self) -> tuple[StationGap, ...]:
        """Stations whose protocol differs from the observer's count beyond the tolerance."""
        return tuple(g for g in self.gaps if g.flagged)

    def parameters(self) -> dict:
        """The choices the estimate was made with (plain values)."""
        return {
            "confidence": self.confidence,
            "strata": list(self.strata_by),
            "tolerance_votes": self.tolerance_votes,
            "tolerance_share": self.tolerance_share,
            "count": END_OF_DAY,
            "denominator": "registered",
        }

    def to_json(self) -> dict:
        """Entry for ``results.json``: the figures (NaN kept as float) and the flagged stations."""
        d = {
            f.name: jsonable(getattr(self, f.name), keep_nan=True)
            for f in dataclasses.fields(self)
            if f.name not in self._dict_exclude
        }
        d["flagged_stations"] = [g.station_id for g in self.flagged]
        return d

    def station_signals(self, election: Election) -> Mapping[str, StationSignal]:
        """Per-station gap (protocol − observer, votes) and the two directions of flag, aligned
        to ``election``'s rows (NaN / False where no observer counted)."""
        ids = election.table["station_id"].cast(pl.Utf8).to_list()
        pos = {s: i for i, s in enumerate(ids)}
        gap = np.full(len(ids), np.nan)
        above = np.zeros(len(ids), dtype=bool)
        below = np.zeros(len(ids), dtype=bool)
        for g in self.gaps:
            i = pos.get(g.station_id)
            if i is None or g.gap is None:
                continue
            gap[i] = g.gap
            above[i] = g.flagged and g.gap > 0
            below[i] = g.flagged and g.gap < 0
        return {
            "observed_turnout_gap": StationSignal(
                "observed_turnout_gap",
                gap,
                "score",
                "votes",
                "Ballots in the protocol minus the voters the observer counted at the station.",
            ),
            "protocol_above_observed": StationSignal(
                "protocol_above_observed",
                above,
                "flag",
                "flag",
                "The protocol has more ballots than the observer counted, beyond the tolerance "
                "(ballots the observer did not see go into the box).",
            ),
            "protocol_below_observed": StationSignal(
                "protocol_below_observed",
                below,
                "flag",
                "flag",
                "The protocol has fewer ballots than the observer counted, beyond the tolerance.",
            ),
        }

    def summary(self) -> Summary:
        c = f"{100 * self.confidence:g} %"
        text = gettext(
            "From the observers' own counts at {n} stations: turnout {turnout} [{low}, {high}] "
            "({level}, t). {official_call} {excess_call}"
        ).format(
            n=f"{self.n_observed:,}",
            turnout=fmt_pct(self.estimate),
            low=fmt_pct(self.low),
            high=fmt_pct(self.high),
            level=c,
            official_call=say(self.official_call),
            excess_call=say(self.excess_call),
        )
        if self.flagged:
            text += " " + gettext(
                "{n} station(s) have a protocol that differs from the observer's count beyond "
                "the tolerance."
            ).format(n=len(self.flagged))
        rows = [
            (
                gettext("turnout (observers' counts)"),
                f"{fmt_pct(self.estimate)} ± {_pp(self, 'se')}",
            ),
            (
                gettext("{level} t interval (df {df})").format(level=c, df=self.df),
                f"[{fmt_pct(self.low)}, {fmt_pct(self.high)}]",
            ),
            (gettext("design effect (Kish)"), f"{self.design_effect:.2f}"),
            (
                gettext("official turnout"),
                f"{fmt_pct(self.official_turnout)} (t = {self.official_t:+.2f})",
            ),
            (
                gettext("protocols' turnout, same stations"),
                f"{fmt_pct(self.protocol_estimate)} "
                f"[{fmt_pct(self.protocol_low)}, {fmt_pct(self.protocol_high)}]",
            ),
            (
                gettext("protocol − observed, same stations"),
                gettext("{diff} pp [{low}, {high}]").format(
                    diff=f"{100 * self.excess_estimate:+.2f}",
                    low=f"{100 * self.excess_low:+.2f}",
                    high=f"{100 * self.excess_high:+.2f}",
                ),
            ),
        ]
        rows += [
            (
                gettext("turnout by end of day")
                if p.time == "end of day"
                else gettext("turnout by {time}").format(time=p.time),
                gettext("{turnout} [{low}, {high}] ({n} stations)").format(
                    turnout=fmt_pct(p.estimate),
                    low=fmt_pct(p.low),
                    high=fmt_pct(p.high),
                    n=p.stations,
                ),
            )
            for p in self.curve
        ]
        rows += [
            (
                gettext("station {station}").format(station=g.station_id),
                gettext(
                    "protocol {protocol}, observer {observed}: gap {gap} (tolerance {tolerance})"
                ).format(
                    protocol=fmt_int(g.protocol),
                    observed=fmt_int(g.observed),
                    gap=f"{g.gap:+d}",
                    tolerance=f"{g.tolerance:.0f}",
                ),
            )
            for g in self.flagged[:50]
            if g.gap is not None
        ]
        notes = [say(n) for n in (*self.notes, *self.actions)]
        if self.quarantined:
            notes.append(
                gettext("{n} station(s) left out of the estimate: {stations}").format(
                    n=len(self.quarantined),
                    stations="; ".join(f"{s}: {say(why)}" for s, why in self.quarantined[:10]),
                )
            )
        notes.append(
            gettext(
                "Observers' counts see stuffing at their own stations only; stations without an "
                "observer are compared through the national estimate (docs/quickcount.md §9)."
            )
        )
        return Summary(gettext("Turnout from the observers' counts"), text, rows, notes)


def _pp(r: ObservedTurnout, attr: str) -> str:
    return gettext("{value} pp (SE)").format(value=f"{100 * getattr(r, attr):.2f}")


def _collapse(fr: Frame, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Strata with < 2 reports join the reporting stratum with most reports in the same parent
    group (else anywhere); their stations are then represented by it. Returns group per stratum,
    N per group and what was done."""
    H = len(fr.names)
    group = np.arange(H)
    N = fr.sizes.astype(np.float64).copy()
    actions: list[str] = []
    ok = [h for h in range(H) if n[h] >= 2]
    if not ok:
        return group, N, actions
    for h in range(H):
        if n[h] >= 2:
            continue
        same = [o for o in ok if fr.parents[o] == fr.parents[h]]
        target = max(same or ok, key=lambda o: (n[o], -o))
        group[h] = target
        N[target] += N[h]
        N[h] = 0
        actions.append(
            note(
                N_("stratum {stratum} ({n} observed, {stations} stations) estimated with {target}"),
                stratum=repr(fr.names[h]),
                n=int(n[h]),
                stations=int(fr.sizes[h]),
                target=repr(fr.names[target]),
            )
        )
    return group, N, actions


def _ratio(y, x, codes, N, confidence: float) -> _Ratio:
    p, v = ratio_and_variance(np.asarray(y, np.float64), np.asarray(x, np.float64), codes, N)
    df = len(y) - len(np.unique(codes))
    se = float(math.sqrt(v[0]))
    q = float(stats.t.ppf(0.5 + confidence / 2, df)) if df >= 1 else math.inf
    return _Ratio(float(p[0]), se, df, float(p[0]) - q * se, float(p[0]) + q * se)


def gap_tolerance(
    observed: float,
    tolerance_votes: float = TOLERANCE_VOTES,
    tolerance_share: float = TOLERANCE_SHARE,
) -> float:
    """How far a protocol may be from an observer's end-of-day count of ``observed`` before the
    station is flagged: ``max(tolerance_votes, tolerance_share × observed)`` (docs/quickcount.md
    §9); one rule for the estimator's gaps and the station dossier."""
    return max(float(tolerance_votes), tolerance_share * float(observed))


def _protocol_ballots(e: Election) -> np.ndarray:
    """Ballots in the box by the protocol: its ballots-in-boxes lines, else valid + invalid."""
    if any(e.has(f) for f in ("ballots_in_mobile_boxes", "ballots_in_stationary_boxes")):
        return e.ballots_in_boxes().astype(np.float64)
    return (e.field("valid") + e.field("invalid")).astype(np.float64)


def estimate_observed_turnout(
    observed: ObservedCounts | pl.DataFrame,
    official: Election,
    *,
    frame: Election | None = None,
    strata: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    tolerance_votes: int = TOLERANCE_VOTES,
    tolerance_share: float = TOLERANCE_SHARE,
) -> ObservedTurnout:
    """Turnout from the observers' end-of-day counts, against the official result (docs/quickcount.md
    §9; Cochran 1977 eq. 6.50; Kish 1965 §8.2).

    Parameters
    ----------
    observed : ObservedCounts or polars.DataFrame
        The observers' counts at the sampled stations (:func:`read_observed_counts`).
    official : Election
        The official per-station results: registered voters, protocol ballots, national turnout.
    frame : Election, optional
        The election the sample was drawn from (default: ``official``); gives strata and
        registered voters.
    strata : str or sequence of str, optional
        The stratification of the draw.
    confidence : float
        Level of every interval.
    tolerance_votes, tolerance_share : int, float
        A station's gap is flagged when ``|protocol − observed| > max(tolerance_votes,
        tolerance_share × observed)``: observers' clicker counts are off by a few voters (the
        default allows 5 voters or 2 %, whichever is larger).

    Returns
    -------
    ObservedTurnout
        The estimate and its interval, design effect, the curve, the comparisons and the gaps.
    """
    if isinstance(observed, pl.DataFrame):
        observed = ObservedCounts.from_frame(observed)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence ({confidence}) must be in the interval (0, 1)")
    if tolerance_votes < 0 or tolerance_share < 0:
        raise ValueError(
            f"tolerance_votes ({tolerance_votes}) and tolerance_share ({tolerance_share}) "
            "must be in the interval [0, inf)"
        )
    fe = frame or official
    fr = build_frame(fe, strata)
    pos = {s: i for i, s in enumerate(fr.station_ids)}
    t = observed.table
    ids = t["station_id"].to_list()
    missing = [(i, s) for i, s in enumerate(ids) if s not in pos]
    if missing:
        issues = [
            DataIssue(
                observed.source,
                "station is not in the sampling frame",
                line=i + 2,
                column="station_id",
                station_id=s,
                hint="check the id, or the frame's exclusions (pollwatch ingest)",
            )
            for i, s in missing
        ]
        raise InputDataError(
            f"{observed.source}: {len(issues)} station(s) not in the frame:\n"
            + "\n".join(f"- {i}" for i in issues[:20]),
            issues,
        )
    frows = np.array([pos[s] for s in ids], dtype=np.int64)
    reg_frame = fe.field("registered")[fr.mask].astype(np.float64)
    x_all = reg_frame[frows]
    codes_all = fr.codes[frows]
    end = t[END_OF_DAY].to_numpy().astype(np.float64)  # null → NaN
    # quarantine: no end-of-day count, or more ballots than registered voters
    quarantined: list[tuple[str, str]] = []
    use = np.ones(len(ids), dtype=bool)
    for i, s in enumerate(ids):
        if np.isnan(end[i]):
            quarantined.append((s, note(N_("no end-of-day count (ballots_in_boxes is empty)"))))
            use[i] = False
        elif end[i] > x_all[i]:
            quarantined.append(
                (
                    s,
                    note(
                        N_("count {count} exceeds the {registered} registered voters"),
                        count=int(end[i]),
                        registered=int(x_all[i]),
                    ),
                )
            )
            use[i] = False
    notes: list[str] = []
    noon = t[CURVE[0][1]].to_numpy().astype(np.float64)
    late = t[CURVE[1][1]].to_numpy().astype(np.float64)
    dec = np.flatnonzero(
        (noon > late) | (late > end) if len(ids) else np.zeros(0, dtype=bool)
    )  # NaN compares False
    if len(dec):
        notes.append(
            note(
                N_(
                    "{n} station(s) report counts that decrease during the day (kept; check "
                    "them): {stations}"
                ),
                n=len(dec),
                stations=", ".join(ids[i] for i in dec[:10]),
            )
        )
    n_h = np.bincount(codes_all[use], minlength=len(fr.names))
    group, N, actions = _collapse(fr, n_h)
    codes = group[codes_all]
    y, x, c = end[use], x_all[use], codes[use]
    if use.sum() < 2:
        raise InputDataError(
            f"{observed.source}: {int(use.sum())} usable end-of-day count(s); at least 2 are "
            "needed for an estimate",
            [DataIssue(observed.source, "fewer than 2 usable counts", column=END_OF_DAY)],
        )
    main = _ratio(y, x, c, N, confidence)
    # Kish's Deff: against a simple random sample of as many registered voters
    f = use.sum() / fr.n
    srs = main.estimate * (1 - main.estimate) / x.sum() * (1 - f)
    deff = main.se**2 / srs if srs > 0 else math.nan
    # the official side
    orows = {s: i for i, s in enumerate(official.table["station_id"].cast(pl.Utf8).to_list())}
    proto_all = _protocol_ballots(official)
    tot = official.totals()
    off_turnout = (tot["valid"] + tot["invalid"]) / tot["registered"]
    off_t = (off_turnout - main.estimate) / main.se if main.se > 0 else math.nan
    if off_turnout > main.high:
        call = note(
            N_(
                "The official turnout ({turnout}) is above the observers' interval: more ballots "
                "were counted than the observers' sample can explain."
            ),
            turnout=fmt_pct(off_turnout),
        )
    elif off_turnout < main.low:
        call = note(
            N_("The official turnout ({turnout}) is below the observers' interval."),
            turnout=fmt_pct(off_turnout),
        )
    else:
        call = note(
            N_("The official turnout ({turnout}) is inside the observers' interval."),
            turnout=fmt_pct(off_turnout),
        )
    prot = np.array([proto_all[orows[s]] if s in orows else np.nan for s in ids])
    both = use & ~np.isnan(prot)
    if both.sum() >= 2:
        pr = _ratio(prot[both], x_all[both], codes[both], N, confidence)
        ex = _ratio(prot[both] - end[both], x_all[both], codes[both], N, confidence)
        if ex.low > 0:
            ex_call = note(
                N_(
                    "At the observed stations the protocols hold {diff} pp more turnout than the "
                    "observers counted: beyond counting error."
                ),
                diff=f"{100 * ex.estimate:+.2f}",
            )
        elif ex.high < 0:
            ex_call = note(
                N_(
                    "At the observed stations the protocols hold {diff} pp less turnout than the "
                    "observers counted."
                ),
                diff=f"{100 * ex.estimate:+.2f}",
            )
        else:
            ex_call = note(
                N_("At the observed stations the protocols agree with the observers' counts.")
            )
    else:
        nan = math.nan
        pr = ex = _Ratio(nan, nan, 0, nan, nan)
        ex_call = note(
            N_("The observed stations are not in the official file: no paired comparison.")
        )
    gaps = []
    for i, s in enumerate(ids):
        if np.isnan(end[i]):
            continue
        p = None if np.isnan(prot[i]) else int(prot[i])
        g = None if p is None else p - int(end[i])
        tol = gap_tolerance(end[i], tolerance_votes, tolerance_share)
        gaps.append(
            StationGap(
                station_id=s,
                registered=int(x_all[i]),
                observed=int(end[i]),
                protocol=p,
                gap=g,
                tolerance=tol,
                flagged=g is not None and abs(g) > tol,
            )
        )
    curve = []
    for when, col in CURVE:
        v = t[col].to_numpy().astype(np.float64)
        ok = use & ~np.isnan(v)
        if ok.sum() >= 2:
            cg, cN, _ = _collapse(fr, np.bincount(codes_all[ok], minlength=len(fr.names)))
            r = _ratio(v[ok], x_all[ok], cg[codes_all[ok]], cN, confidence)
            curve.append(CurvePoint(when, col, int(ok.sum()), r.estimate, r.se, r.low, r.high))
    curve.append(
        CurvePoint(
            "end of day", END_OF_DAY, int(use.sum()), main.estimate, main.se, main.low, main.high
        )
    )
    return ObservedTurnout(
        estimate=main.estimate,
        se=main.se,
        df=main.df,
        low=main.low,
        high=main.high,
        confidence=confidence,
        design_effect=float(deff),
        n_observed=int(use.sum()),
        n_frame=fr.n,
        n_strata=len(fr.names),
        strata_by=fr.by,
        official_turnout=float(off_turnout),
        official_t=float(off_t),
        official_call=call,
        protocol_estimate=pr.estimate,
        protocol_low=pr.low,
        protocol_high=pr.high,
        excess_estimate=ex.estimate,
        excess_se=ex.se,
        excess_low=ex.low,
        excess_high=ex.high,
        excess_call=ex_call,
        curve=tuple(curve),
        gaps=tuple(gaps),
        tolerance_votes=int(tolerance_votes),
        tolerance_share=float(tolerance_share),
        quarantined=tuple(quarantined),
        actions=tuple(actions),
        notes=tuple(notes),
    )
