"""Official turnout against the camera estimate, per station; the camera-status finding.

``docs/methods/quickcount-and-cameras.md`` §2.1 steps 5, 6 and 8: flag ``official > upper95(V̂)``;
``inflation = official − V̂``, ``ratio = official/V̂``; conservative lower bound on added
ballots ``Σ max(0, official − upper95)`` over watched stations; national figures beyond the
watched stations are model-based unless the cameras were a probability sample.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.cameras.data import OUTAGE_STATUSES, format_time, outage_intervals
from pollwatch.cameras.estimate import ESTIMATED, CameraEstimate
from pollwatch.cameras.lines import (
    LIKE_WITH_LIKE,
    OfficialBallots,
    stated_official,
    visible_ballots,
)
from pollwatch.errors import DataIssue, IngestError
from pollwatch.i18n import N_, gettext, note, translated
from pollwatch.model.derived import ISSUED_PARTS, has_issued
from pollwatch.results import ResultMixin, Summary, fmt_int

_OFFICIAL_COLUMNS = (
    "ballots_issued_station",
    "in_station",
    "official",
    "ballots_issued",
    "ballots_cast",
    "turnout",
    "voters",
)

#: a camera's statuses (cameras.data.STATUSES) as words where a summary shows them
_STATUS_WORDS = (
    N_("online"),
    N_("offline"),
    N_("audio muted"),
    N_("turned away"),
    N_("covered"),
    N_("box out of frame"),
    N_("frozen"),
    N_("black"),
)
ABOVE = "official above camera"
BELOW = "official below camera"

EXTRAPOLATION_STATEMENT = N_(
    "These figures describe the watched stations only. Extending them to stations without "
    "cameras is model-based unless the watched stations were a random (probability) sample; "
    "cameras chosen by the commission or streams recorded by volunteers are not."
)


def read_official(path: str | Path, in_station: bool | None = None) -> OfficialBallots:
    """Official per-station figures from a CSV with ``station_id`` and one of
    ``ballots_issued_station, in_station, official, ballots_issued, ballots_cast, turnout,
    voters`` (a count of voters, the first of these columns present).

    Like with like only for ``ballots_issued_station``/``in_station``, or when ``in_station``
    states that the column counts only in-station, election-day ballots; otherwise a one-sided
    bound (:func:`~pollwatch.cameras.lines.stated_official`)."""
    name = str(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        col = next((c for c in _OFFICIAL_COLUMNS if c in header), None)
        if "station_id" not in header or col is None:
            raise IngestError(
                name,
                [
                    DataIssue(
                        name,
                        "missing required columns",
                        line=1,
                        expected="station_id and one of " + ", ".join(_OFFICIAL_COLUMNS),
                        value=",".join(header),
                    )
                ],
            )
        si, ci = header.index("station_id"), header.index(col)
        out, issues = {}, []
        for line, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            try:
                v = int(row[ci].strip())
                if v < 0:
                    raise ValueError
                out[row[si].strip()] = v
            except (ValueError, IndexError):
                issues.append(
                    DataIssue(
                        name,
                        "cannot read the value",
                        line=line,
                        column=col,
                        value=row[ci] if ci < len(row) else "",
                        expected="a non-negative integer (voters)",
                    )
                )
    if issues:
        raise IngestError(name, issues)
    return stated_official(out, col, in_station)


def official_from_election(election, basis: str = "auto") -> dict[str, int]:
    """Per-station totals from an Election as a plain dict: ballots ``"issued"`` (all of them,
    mobile box and early voters included), ``"cast"`` (valid + invalid), or ``"auto"`` (issued
    when the election has the issued lines, else cast).

    These totals include ballots a camera cannot see. To compare with cameras use
    :func:`~pollwatch.cameras.lines.visible_ballots` (or pass the Election itself to
    :func:`compare_official`), which reads the lines a camera can see and records them.
    """

    if basis not in ("auto", "issued", "cast"):
        raise ValueError(f"basis ({basis!r}) not recognised; must be 'auto', 'issued' or 'cast'.")
    if basis == "auto":
        basis = "issued" if has_issued(election) else "cast"
    return dict(_official(election, basis))


def _official(election, basis: str) -> OfficialBallots:
    if basis == "auto":
        return visible_ballots(election)
    if basis == "issued" and not has_issued(election):
        basis = "cast"
    v = election.ballots_issued() if basis == "issued" else election.ballots_cast()
    what = "all ballots issued" if basis == "issued" else "ballots cast"
    return OfficialBallots(
        figures={str(s): int(x) for s, x in zip(election.station_ids, v, strict=True)},
        formula="ballots_issued" if basis == "issued" else "valid + invalid",
        lines=ISSUED_PARTS if basis == "issued" else ("valid", "invalid"),
        exact=False,
        notes=(
            f"basis={basis!r}: {what} include the mobile box and early voters, which a camera "
            "cannot see; the comparison is a one-sided bound (only an official figure below the "
            "camera count can be flagged). Use basis='auto' to compare like with like.",
        ),
    )


def benjamini_hochberg(p: np.ndarray, q: float) -> tuple[np.ndarray, float]:
    """Benjamini & Hochberg (1995, *JRSS B* 57:289–300, §3): reject the k smallest p-values,
    k = max{i : p_(i) ≤ i·q/m}; controls the expected share of false rejections at ``q``
    (independent or positively dependent tests). NaN p-values are not tests. Returns the
    rejections and the rejection region's edge ``k·q/m``: a p-value is rejected exactly when it
    is at most this (0 when nothing is rejected)."""
    ok = np.isfinite(p)
    m = int(ok.sum())
    rej = np.zeros(p.size, bool)
    if m == 0:
        return rej, 0.0
    ps = np.sort(p[ok])
    below = np.flatnonzero(ps <= q * np.arange(1, m + 1) / m)
    if not below.size:
        return rej, 0.0
    k = int(below[-1]) + 1
    thr = q * k / m
    rej[ok] = p[ok] <= thr  # the same set as the k smallest: p_(i) > i·q/m ≥ thr for i > k
    return rej, thr


def _bounds(estimate: CameraEstimate, z: np.ndarray, rows: np.ndarray):
    """(low, high) of the estimate's interval at normal quantile ``z`` (one per row): the same
    construction as :func:`~pollwatch.cameras.estimate.estimate_turnout` at level 2Φ(z) − 1."""
    v, W = estimate.estimate[rows], estimate.coverage[rows]
    ex = z * np.nan_to_num(estimate.sd_extra[rows])
    if estimate.target == "realised" or estimate.interval_method == "normal":
        sd = estimate.sd[rows]
        return np.maximum(v - z * sd, 0.0), v + z * sd
    a = stats.norm.sf(z)
    phi, C = estimate.dispersion[rows], estimate.counted[rows]
    k = C / phi
    with np.errstate(invalid="ignore"):
        lc = np.where(k > 0, stats.gamma.ppf(a, np.maximum(k, 1e-300)), 0.0) * phi
    hc = stats.gamma.ppf(1 - a, k + 1) * phi
    return np.maximum(v - np.hypot(v - lc / W, ex), 0.0), v + np.hypot(hc / W - v, ex)


def tail_p(estimate: CameraEstimate, official: np.ndarray, upper: bool) -> np.ndarray:
    """One-sided p-value of each official figure against the camera interval (test–interval
    duality): the tail share α at which the figure sits exactly on the interval's upper
    (``upper``) or lower end, so ``p < (1 − level)/2`` ⟺ the figure is outside the interval.
    Found by bisection on the normal quantile; NaN where there is no estimate."""
    p = np.full(official.size, np.nan)
    rows = np.flatnonzero((estimate.status == ESTIMATED) & np.isfinite(official))
    if not rows.size:
        return p
    off = official[rows]
    lo, hi = np.zeros(rows.size), np.full(rows.size, 38.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        low_b, high_b = _bounds(estimate, mid, rows)
        inside = off <= high_b if upper else off >= low_b
        lo, hi = np.where(inside, lo, mid), np.where(inside, mid, hi)
    z = (lo + hi) / 2
    low0, high0 = _bounds(estimate, np.zeros(rows.size), rows)
    centre = off <= high0 if upper else off >= low0
    p[rows] = np.where(centre, 0.5, stats.norm.sf(z))
    return p


@dataclass(frozen=True)
class CameraComparison(ResultMixin):
    """Official counts against camera intervals at the watched stations.

    ``exceeds``: outside the station's interval in the tested direction; ``flagged``: outside
    it and among the Benjamini–Hochberg discoveries at ``fdr``; ``hard``: flagged and still flagged were the
    station's hidden windows its busiest (``p_sensitivity``)."""

    station_id: np.ndarray
    official: np.ndarray  # NaN where the official figure is missing
    estimate: np.ndarray
    high: np.ndarray
    flagged: np.ndarray
    inflation: np.ndarray
    ratio: np.ndarray
    excess: np.ndarray  # max(0, official − upper95); bound: max(0, lower95 − official)
    n_compared: int
    n_flagged: int
    n_no_official: int
    lower_bound_added: float
    ratio_overall: float
    official_total: float
    estimate_total: float
    level: float
    statement: str = EXTRAPOLATION_STATEMENT
    notes: tuple[str, ...] = ()
    low: np.ndarray = field(default_factory=lambda: np.array([]))
    p_value: np.ndarray = field(default_factory=lambda: np.array([]))
    p_sensitivity: np.ndarray = field(default_factory=lambda: np.array([]))
    exceeds: np.ndarray = field(default_factory=lambda: np.array([]))
    hard: np.ndarray = field(default_factory=lambda: np.array([]))
    official_lines: dict = field(default_factory=dict)
    direction: str = ABOVE
    fdr: float = 0.05
    fdr_threshold: float = 0.0
    n_exceeds: int = 0
    n_hard: int = 0
    expected_false_flags: float = 0.0
    expected_chance_exceeds: float = 0.0
    watcher_error: str = ""
    _dict_exclude = (
        "station_id",
        "official",
        "estimate",
        "high",
        "low",
        "flagged",
        "inflation",
        "ratio",
        "excess",
        "p_value",
        "p_sensitivity",
        "exceeds",
        "hard",
    )

    def table(self) -> pl.DataFrame:
        n = self.station_id.size

        def col(a: np.ndarray, fill: object) -> np.ndarray:
            return a if a.size == n else np.full(n, fill)

        return pl.DataFrame(
            {
                "station_id": self.station_id.astype(str),
                "official": self.official,
                "estimate": self.estimate,
                "high95": self.high,
                "flagged": self.flagged,
                "inflation": self.inflation,
                "ratio": self.ratio,
                "excess_over_upper95": self.excess,
                "p_value": col(self.p_value, np.nan),
                "exceeds_interval": col(self.exceeds, False),
                "p_if_hidden_busiest": col(self.p_sensitivity, np.nan),
                "hard": col(self.hard, False),
            }
        )

    def summary(self) -> Summary:
        pct = f"{100 * self.level:.0f} %"
        rows = [
            ("official figure", gettext(str(self.official_lines.get("formula", "as given")))),
            ("comparison", gettext(str(self.official_lines.get("comparison", LIKE_WITH_LIKE)))),
            ("stations compared", f"{self.n_compared:,}"),
            (
                (
                    gettext("official above the {pct} upper bound")
                    if self.direction == ABOVE
                    else gettext("official below the {pct} lower bound")
                ).format(pct=pct),
                gettext("{n} (about {expected} expected by chance were no station altered)").format(
                    n=f"{self.n_exceeds:,}", expected=f"{self.expected_chance_exceeds:.1f}"
                ),
            ),
            (
                gettext("flagged, false discovery rate {fdr} % (Benjamini–Hochberg)").format(
                    fdr=format(100 * self.fdr, "g")
                ),
                gettext("{n} (of them about {expected} expected false)").format(
                    n=f"{self.n_flagged:,}", expected=f"{self.expected_false_flags:.1f}"
                ),
            ),
            ("hard: still flagged were the hidden windows the busiest", f"{self.n_hard:,}"),
            ("official voters (compared stations)", fmt_int(self.official_total)),
            ("camera estimate (compared stations)", fmt_int(self.estimate_total)),
            ("ratio official / camera", f"{self.ratio_overall:.3f}"),
            ("added ballots, conservative lower bound", fmt_int(self.lower_bound_added)),
            ("watcher error", translated(self.watcher_error) or gettext("n/a")),
        ]
        if self.n_no_official:
            rows.append(
                ("estimated stations without an official figure", f"{self.n_no_official:,}")
            )
        above = self.direction == ABOVE
        official = gettext("Official figure: {formula} ({comparison}).").format(
            formula=gettext(str(self.official_lines.get("formula", "as given"))),
            comparison=gettext(str(self.official_lines.get("comparison", LIKE_WITH_LIKE))),
        )
        flagged = (
            gettext(
                "At {n_flagged} of {n_compared} compared stations the official figure is above "
                "the camera count at a false discovery rate of {fdr} % (about {false} of these "
                "flags expected false); {n_hard} stay flagged even were the hidden (turned-away, "
                "offline) windows the station's busiest."
            )
            if above
            else gettext(
                "At {n_flagged} of {n_compared} compared stations the official figure is below "
                "the camera count at a false discovery rate of {fdr} % (about {false} of these "
                "flags expected false); {n_hard} stay flagged even were the hidden (turned-away, "
                "offline) windows the station's busiest."
            )
        ).format(
            n_flagged=f"{self.n_flagged:,}",
            n_compared=f"{self.n_compared:,}",
            fdr=f"{100 * self.fdr:g}",
            false=f"{self.expected_false_flags:.1f}",
            n_hard=f"{self.n_hard:,}",
        )
        totals = (
            gettext(
                "Officially {official} voters, on camera about {camera} (ratio {ratio}); at least "
                "{added} ballots were added beyond what the cameras allow."
            )
            if above
            else gettext(
                "Officially {official} voters, on camera about {camera} (ratio {ratio}); an "
                "official figure above the camera count is not evidence here, because the "
                "official lines include ballots the camera cannot see."
            )
        ).format(
            official=fmt_int(self.official_total),
            camera=fmt_int(self.estimate_total),
            ratio=f"{self.ratio_overall:.2f}",
            added=fmt_int(self.lower_bound_added),
        )
        statement = gettext(self.statement) if self.statement else ""
        text = f"{official} {flagged} {totals} {statement}"
        return Summary("Camera counts against official turnout", text, rows, self.notes)


def compare_official(
    estimate: CameraEstimate,
    official: Mapping[str, int] | object,
    basis: str = "auto",
    *,
    fdr: float = 0.05,
) -> CameraComparison:
    """Compare official per-station figures with the camera intervals.

    Only stations with an estimate and an official figure are compared. Method:
    ``docs/methods/quickcount-and-cameras.md`` §2.1 steps 5–6 and §2.3.

    * **Like with like** (the official lines hold only ballots the camera can see): the tested
      direction is official above the camera count. **Bound** (they include mobile-box or
      early ballots the protocol does not separate): only official *below* the camera count.
    * Each station's one-sided p-value inverts its interval (``p < (1 − level)/2`` ⟺ outside);
      ``flagged`` = Benjamini–Hochberg (1995) discoveries at ``fdr`` that are also outside the
      station's interval, printed with the expected
      number of false ones (``fdr × flags``, the FDR bound applied to this count).
    * Sensitivity (for turned-away and offline windows, which are not missing at random when
      stuffing happens then): the p-value again with the official figure moved by the voters
      the hidden windows would hold were they the station's busiest usable windows, beyond the
      missing-at-random share ``V̂ − C`` (bound: minus that share, as if nobody came). A flag is
      ``hard`` only if this p-value is still in the BH rejection region (``p ≤ k·q/m``) and
      below ``(1 − level)/2``.

    Parameters
    ----------
    estimate : CameraEstimate
        The camera estimates (:func:`~pollwatch.cameras.estimate.estimate_turnout`).
    official : mapping, OfficialBallots or Election
        Station id → voters; an :class:`~pollwatch.cameras.lines.OfficialBallots` carries the
        lines it counts (a plain mapping is taken as the caller's statement that it counts
        only ballots the camera can see, with a note); an Election is read with ``basis``.
    basis : {"auto", "issued", "cast"}
        With an Election: ``"auto"`` the lines the camera can see (country profile,
        :func:`~pollwatch.cameras.lines.visible_ballots`); ``"issued"``/``"cast"`` all ballots
        issued / cast, a one-sided bound.
    fdr : float
        False discovery rate of the flags (default 5 %).

    Returns
    -------
    CameraComparison
        Per station: official figure, estimate, interval, p-values, flags (raw, FDR, hard);
        the conservative lower bound of ballots added, the totals and the lines compared.
    """
    if not 0 < fdr < 1:
        raise ValueError(f"fdr ({fdr}) must be in the interval (0, 1).")
    notes: list[str] = []
    if isinstance(official, OfficialBallots):
        ob = official
    elif isinstance(official, Mapping):
        ob = OfficialBallots(
            figures=dict(official),
            formula=N_("as given"),
            lines=(),
            exact=True,
            profile="stated",
            source="given by the caller",
        )
        notes.append(
            note(
                "The official figures were given without their protocol lines; they are compared "
                "as if they counted only ballots a camera can see (in-station, election day). If "
                "they include the mobile box or early voters, the flags are not valid."
            )
        )
    else:
        ob = _official(official, basis)
    notes += list(ob.notes)
    ids = estimate.station_id.astype(str)
    off = np.array([ob.get(s, np.nan) for s in ids], dtype=float)
    ok = (estimate.status == ESTIMATED) & ~np.isnan(off)
    v, hi, lo = estimate.estimate, estimate.high, estimate.low
    upper = ob.exact
    direction = ABOVE if upper else BELOW
    p = np.where(ok, tail_p(estimate, off, upper), np.nan)
    mar = np.where(ok, v - estimate.counted, 0.0)
    if upper:
        shift = np.maximum(np.nan_to_num(estimate.unseen_busiest) - mar, 0.0)
        p_sens = np.where(ok, tail_p(estimate, off - shift, True), np.nan)
    else:
        p_sens = np.where(ok, tail_p(estimate, off + mar, False), np.nan)
    alpha = (1 - estimate.level) / 2
    exceeds = ok & (p < alpha)
    flagged, thr = benjamini_hochberg(p, fdr)
    # a flag is a BH discovery that is also outside the station's own interval, so "above the
    # upper bound" stays true of every flag when many stations are stuffed (threshold > α)
    flagged &= exceeds
    # hard: the station would still be flagged (same BH region, outside its interval) with the
    # official figure moved by what the hidden windows could hold
    hard = flagged & (p_sens <= thr) & (p_sens < alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok, off / v, np.nan)
    inflation = np.where(ok, off - v, np.nan)
    excess = np.where(ok, np.maximum(0.0, off - hi), np.nan)
    off_t, est_t = float(np.sum(off[ok])), float(np.sum(v[ok]))
    n_missing = int(np.sum((estimate.status == ESTIMATED) & np.isnan(off)))
    if n_missing:
        notes.append(
            note(
                "{n} estimated station(s) have no official figure and are not compared.",
                n=n_missing,
            )
        )
    if not upper:
        excess = np.where(ok, np.maximum(0.0, lo - off), np.nan)
    n_ok = int(ok.sum())
    return CameraComparison(
        station_id=ids,
        official=off,
        estimate=v,
        high=hi,
        flagged=flagged,
        inflation=inflation,
        ratio=ratio,
        excess=excess,
        n_compared=n_ok,
        n_flagged=int(flagged.sum()),
        n_no_official=n_missing,
        lower_bound_added=float(np.nansum(excess[ok])) if upper else float("nan"),
        ratio_overall=off_t / est_t if est_t > 0 else float("nan"),
        official_total=off_t,
        estimate_total=est_t,
        level=estimate.level,
        notes=tuple(notes),
        low=lo,
        p_value=p,
        p_sensitivity=p_sens,
        exceeds=exceeds,
        hard=hard,
        official_lines=ob.describe(),
        direction=direction,
        fdr=fdr,
        fdr_threshold=thr,
        n_exceeds=int(exceeds.sum()),
        n_hard=int(hard.sum()),
        expected_false_flags=fdr * int(flagged.sum()),
        expected_chance_exceeds=alpha * n_ok,
        watcher_error=estimate.agreement.source,
    )


@dataclass(frozen=True)
class CameraStatusSummary(ResultMixin):
    """How many cameras were muted, turned away or dark, and when (a finding in itself)."""

    n_cameras: int
    ever: dict[str, int]  # status → cameras that had it at some time
    by_hour: dict[str, dict[str, int]]  # "HH:00" → status → cameras in it during that hour
    minutes: dict[str, float]  # status → camera-minutes spent in it
    n_with_outage: int
    day_start: float
    day_end: float

    def summary(self) -> Summary:
        rows = [
            (
                gettext("cameras ever {status}").format(status=gettext(k.replace("_", " "))),
                gettext("{n} of {total}").format(n=f"{v:,}", total=f"{self.n_cameras:,}"),
            )
            for k, v in sorted(self.ever.items())
        ]
        rows += [
            (f"{h}", ", ".join(f"{gettext(k.replace('_', ' '))} {v}" for k, v in sorted(s.items())))
            for h, s in self.by_hour.items()
            if s
        ]
        text = gettext(
            "Of {n} cameras, {muted} had muted audio, {turned_away} were turned away at some "
            "point, and {outage} had at least one outage (offline, turned away, covered, box out "
            "of frame, frozen or black). Outage windows are treated as missing, not as zero."
        ).format(
            n=f"{self.n_cameras:,}",
            muted=f"{self.ever.get('audio_muted', 0):,}",
            turned_away=f"{self.ever.get('turned_away', 0):,}",
            outage=f"{self.n_with_outage:,}",
        )
        return Summary("Camera status", text, rows, ())


def status_summary(
    status: pl.DataFrame, day_start: float = 8 * 60, day_end: float = 20 * 60
) -> CameraStatusSummary:
    """Count cameras per status over the day and per hour (``[day_start, day_end)``)."""
    if day_end <= day_start:
        raise ValueError(f"day_end ({day_end}) must be after day_start ({day_start}).")
    ids = status["station_id"].unique().to_list()
    ever: dict[str, int] = {}
    minutes: dict[str, float] = {}
    hours = np.arange(np.floor(day_start / 60) * 60, day_end, 60.0)
    by_hour: dict[str, dict[str, int]] = {format_time(h): {} for h in hours}
    stretches = _all_stretches(status, day_end)
    n_out = 0
    for sid in ids:
        seen: set[str] = set()
        hour_seen: dict[str, set[str]] = {}
        for a, b, st in stretches.get(sid, ()):
            a, b = max(a, day_start), min(b, day_end)
            if b <= a and st != "audio_muted":
                continue
            seen.add(st)
            minutes[st] = minutes.get(st, 0.0) + max(b - a, 0.0)
            for h in hours:
                if a < h + 60 and b > h:
                    hour_seen.setdefault(format_time(h), set()).add(st)
        n_out += bool(seen & OUTAGE_STATUSES)
        for st in seen:
            ever[st] = ever.get(st, 0) + 1
        for h, sts in hour_seen.items():
            for st in sts:
                by_hour[h][st] = by_hour[h].get(st, 0) + 1
    return CameraStatusSummary(len(ids), ever, by_hour, minutes, n_out, day_start, day_end)


def _all_stretches(
    status: pl.DataFrame, day_end: float
) -> dict[str, list[tuple[float, float, str]]]:
    """Every non-online stretch, including audio_muted (which is not an outage)."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    outages = outage_intervals(status, day_end)
    for sid, lst in outages.items():
        out[sid] = list(lst)
    muted = status.filter(pl.col("status") == "audio_muted")
    for sid, t in zip(muted["station_id"].to_list(), muted["time"].to_list(), strict=True):
        # muting is logged once and lasts the day unless the log says otherwise
        out.setdefault(sid, []).append((t, day_end, "audio_muted"))
    return out
