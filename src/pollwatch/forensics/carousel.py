"""Carousel signals from protocols: away-voter and mobile-box shares against the constituency.

Source: ``docs/methods/forensics.md`` §8; reference counts in ``docs/methods/reference-numbers.md`` §9.
Carousels (groups voting at several stations) leave traces in the protocol lines that let a
voter vote away from home: Russian absentee certificates (AC), Azerbaijani additional-list
voters (item 1b) and de-registration cards (1c used, 1d taken away). Each share is compared
with the median of its constituency (the lowest hierarchy level above the station) using the
robust z ``(a − med_g)/(1.4826·MAD_g)``.

Nothing here proves a carousel: genuine away-voters cluster near railway stations, airports,
hospitals and universities. The output is a ranked list for observers, not a verdict.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from pollwatch.errors import DegenerateDataWarning
from pollwatch.forensics._common import excluded_mask
from pollwatch.i18n import gettext, note
from pollwatch.model import Election
from pollwatch.results import ResultMixin, StationSignal, Summary, fmt_int, fmt_pct, jsonable

__all__ = ["CarouselResult", "ShareOutliers", "carousel_signals", "group_median", "robust_z"]

MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of the sd under normality


def group_median(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group code (NaN values ignored; NaN for empty groups).

    Vectorised: one lexsort by (group, value), then the middle element(s) of each run.
    """
    ok = ~np.isnan(values)
    c, v = codes[ok], values[ok]
    order = np.lexsort((v, c))
    c, v = c[order], v[order]
    counts = np.bincount(c, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out


def robust_z(
    values: np.ndarray, codes: np.ndarray, n_groups: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust z per station within its group, and the group median and MAD per station.

    ``z = (a − med_g)/(1.4826·MAD_g)``; NaN where ``a`` is NaN; ±inf where ``MAD_g = 0`` and
    ``a ≠ med_g`` (NaN where equal). Returns ``(z, med, mad)`` as station arrays.
    """
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    med_g = group_median(codes, values, n_groups)
    med = med_g[codes]
    mad = group_median(codes, np.abs(values - med), n_groups)[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - med) / (MAD_SCALE * mad)
    return z, med, mad


@dataclass(frozen=True)
class ShareOutliers(ResultMixin):
    """One share (numerator/denominator per station) against its constituency median.

    ``flag``: ``a − med_g > k·1.4826·MAD_g`` (strict). ``flag_floored``: additionally
    ``a − med_g > δ`` and numerator ≥ ``n_min`` (without the floor, constituencies with near-zero
    MAD flag ~9 % of all stations). Station arrays are in election order, NaN/False where the
    denominator is 0.
    """

    name: str
    numerator: str
    denominator: str
    national_share: float
    station_median: float
    n_stations: int
    n_flagged: int
    n_flagged_floored: int
    share: np.ndarray = field(repr=False)
    z: np.ndarray = field(repr=False)
    median: np.ndarray = field(repr=False)
    mad: np.ndarray = field(repr=False)
    flag: np.ndarray = field(repr=False)
    flag_floored: np.ndarray = field(repr=False)

    _dict_exclude = ("share", "z", "median", "mad", "flag", "flag_floored")

    def summary(self) -> Summary:
        text = gettext(
            "{name}: national {national}, station median {median}; {n_flagged} stations above "
            "the constituency median + 3 robust sd, {n_floored} with the floor."
        ).format(
            name=self.name,
            national=fmt_pct(self.national_share),
            median=fmt_pct(self.station_median),
            n_flagged=f"{self.n_flagged:,}",
            n_floored=f"{self.n_flagged_floored:,}",
        )
        return Summary(self.name, text)


@dataclass(frozen=True)
class CarouselResult(ResultMixin):
    """Result of :func:`carousel_signals`.

    ``shares`` holds one :class:`ShareOutliers` per available share (``absentee``,
    ``additional_list``, ``cards``, ``mobile``). ``flag`` (per station, election order) is the
    carousel outlier used by the risk score: any floored flag of an away-voter share
    (absentee/additional list/cards; not the mobile box). ``boxes_gt_issued`` is the hard
    flag ballots in boxes > ballots issued. Card balance: ``cards_used`` (voters with a
    certificate/card) against ``cards_issued`` nationally and per constituency.
    """

    group_level: str | None
    n_groups: int
    k: float
    delta: float
    n_min: int
    shares: dict[str, ShareOutliers]
    correlation_with_leader: dict[str, float]
    correlation_within_group: dict[str, float]
    cards_used: int | None
    cards_issued: int | None
    n_groups_cards_over: int | None
    n_boxes_gt_issued: int | None
    n_flagged: int
    notes: tuple[str, ...]
    flag: np.ndarray = field(repr=False)
    boxes_gt_issued: np.ndarray = field(repr=False)
    group_cards_used: np.ndarray | None = field(repr=False, default=None)
    group_cards_issued: np.ndarray | None = field(repr=False, default=None)
    group_labels: np.ndarray | None = field(repr=False, default=None)

    _dict_exclude = (
        "flag",
        "boxes_gt_issued",
        "group_cards_used",
        "group_cards_issued",
        "group_labels",
    )

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        out = {
            "carousel": StationSignal(
                name="carousel",
                values=self.flag,
                kind="flag",
                unit="flag",
                description="an away-voter share (absentee, additional list or cards) far above "
                "its constituency median, floored rule",
            )
        }
        mobile = self.shares.get("mobile")
        if mobile is not None:
            out["mobile_box"] = StationSignal(
                name="mobile_box",
                values=mobile.flag_floored,
                kind="flag",
                unit="flag",
                description="the mobile-box share far above its constituency median, floored rule",
            )
        return out

    def to_json(self) -> dict:
        return jsonable(
            {
                "stations_flagged": int(self.n_flagged),
                "shares": {
                    k: {
                        "national_share": s.national_share,
                        "station_median": s.station_median,
                        "flagged": s.n_flagged,
                        "flagged_floored": s.n_flagged_floored,
                    }
                    for k, s in self.shares.items()
                },
                "correlation_with_leader": self.correlation_with_leader,
                "cards_used": self.cards_used,
                "cards_issued": self.cards_issued,
                "constituencies_cards_over": self.n_groups_cards_over,
                "boxes_gt_issued": self.n_boxes_gt_issued,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "group_level": self.group_level,
            "k": self.k,
            "delta": self.delta,
            "n_min": self.n_min,
        }

    def summary(self) -> Summary:
        rows = []
        for s in self.shares.values():
            rows.append(
                (
                    f"{s.name} share (national; station median)",
                    f"{fmt_pct(s.national_share)}; {fmt_pct(s.station_median)}",
                )
            )
            rows.append(
                (
                    f"{s.name}: flagged (strict; floored)",
                    f"{s.n_flagged:,}; {s.n_flagged_floored:,}",
                )
            )
        for name, r in self.correlation_with_leader.items():
            rows.append((f"corr({name} share, leader share)", f"{r:.3f}"))
        if self.cards_used is not None:
            rows.append(
                (
                    "cards used / issued (national)",
                    f"{fmt_int(self.cards_used)} / {fmt_int(self.cards_issued)}",
                )
            )
            rows.append(
                (
                    "constituencies with more cards used than issued",
                    f"{self.n_groups_cards_over:,} of {self.n_groups:,}",
                )
            )
        if self.n_boxes_gt_issued is not None:
            rows.append(("ballots in boxes > ballots issued", f"{self.n_boxes_gt_issued:,}"))
        text = gettext(
            "Shares compared within {n_groups} constituencies ({level}); {n_flagged} stations "
            "have an away-voter share more than max({k} robust sd, {delta}) above their "
            "constituency median with at least {n_min} such voters. A ranked list for observers, "
            "not a verdict: genuine away-voters cluster near stations, airports, hospitals and "
            "universities."
        ).format(
            n_groups=f"{self.n_groups:,}",
            level=self.group_level or gettext("national"),
            n_flagged=f"{self.n_flagged:,}",
            k=f"{self.k:g}",
            delta=f"{self.delta:g}",
            n_min=self.n_min,
        )
        return Summary("Carousel signals", text, rows, self.notes)


def _check(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and low <= value <= high and not math.isnan(value)):
        raise ValueError(f"{name} ({value!r}) must be in the interval [{low}, {high}].")


def _group_codes(e: Election, group_level: str | None) -> tuple[np.ndarray, np.ndarray, str | None]:
    if group_level is None and e.meta.hierarchy:
        group_level = e.meta.hierarchy[-1]
    if group_level is None:
        return np.zeros(e.n_stations, np.int64), np.array(["(all)"]), None
    if group_level not in e.meta.hierarchy:
        raise ValueError(
            f"group_level ({group_level!r}) not recognised; must be one of "
            f"{', '.join(map(repr, e.meta.hierarchy))}"
        )
    codes, labels = e.level_codes(group_level)
    return codes, labels, group_level


def _share_outliers(
    name: str,
    num_name: str,
    den_name: str,
    num: np.ndarray,
    den: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    k: float,
    delta: float,
    n_min: int,
) -> ShareOutliers:
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    z, med, mad = robust_z(a, codes, n_groups)
    excess = a - med
    thr = k * MAD_SCALE * mad
    flag = excess > thr  # NaN compares False
    floored = (excess > np.maximum(thr, delta)) & (num >= n_min)
    ok = den > 0
    return ShareOutliers(
        name,
        num_name,
        den_name,
        national_share=float(num[ok].sum() / den[ok].sum())
        if ok.any() and den[ok].sum()
        else math.nan,
        station_median=float(np.median(a[ok])) if ok.any() else math.nan,
        n_stations=int(ok.sum()),
        n_flagged=int(flag.sum()),
        n_flagged_floored=int(floored.sum()),
        share=a,
        z=z,
        median=med,
        mad=mad,
        flag=flag,
        flag_floored=floored,
    )


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~np.isnan(x) & ~np.isnan(y) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return math.nan
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def carousel_signals(
    e: Election,
    *,
    group_level: str | None = None,
    k: float = 3.0,
    delta: float = 0.02,
    n_min: int = 10,
) -> CarouselResult:
    """Away-voter and mobile-box shares against the constituency median, card balance, hard flags.

    Source: ``docs/methods/forensics.md`` §8 (reference counts ``docs/methods/reference-numbers.md`` §9).

    Shares (each where its lines exist; denominator ``G`` = ballots issued, or item 1 =
    registered for Azerbaijan):

    * ``absentee``: voters with an absentee certificate / ``G`` (Russia); in Azerbaijan
      (profile ``AZ``) the card share ``cards`` = item 1c / item 1;
    * ``additional_list``: item 1b / item 1 (where ``additional_list`` exists);
    * ``mobile``: ballots issued outside the station / ``G``.

    Per share and station: robust z against the constituency median, ``flag`` =
    ``a − med_g > k·1.4826·MAD_g`` (strict), ``flag_floored`` = ``a − med_g >
    max(k·1.4826·MAD_g, δ)`` with numerator ≥ ``n_min``. Median and MAD are taken over the
    group's stations with a positive denominator. Stations the model excludes (any reason but
    e-voting) take no part.

    Assumptions: stations of one constituency share a common away-voter rate apart from
    outliers; the lowest hierarchy level (Russia: (region, TIK)) is that constituency.

    :param group_level: hierarchy level defining constituencies (default: the lowest one).
    :param k: robust-sd multiplier, in (0, 100].
    :param delta: absolute floor on the excess share, in [0, 1].
    :param n_min: minimum count of away voters for the floored flag, ≥ 0.
    """
    _check("k", k, 1e-12, 100)
    _check("delta", delta, 0, 1)
    if not isinstance(n_min, (int, np.integer)) or n_min < 0:
        raise ValueError(f"n_min ({n_min!r}) must be an integer in the interval [0, inf).")
    notes: list[str] = []
    codes, labels, level = _group_codes(e, group_level)
    n_groups = len(labels)
    if level is None:
        notes.append(note("no hierarchy: shares compared with the national median"))
    az = (e.meta.profile or "").upper() == "AZ" or (e.meta.country or "").upper() == "AZ"
    has_g = any(
        e.has(f)
        for f in ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")
    )
    # stations excluded by the model (e-voting rows kept) get a zero denominator: no share,
    # no flag, no part in their constituency's median or in the card balance
    keep = ~excluded_mask(e)
    G = np.where(keep, e.ballots_issued(), 0) if has_g else None
    V = np.where(keep, e.field("registered"), 0)
    args = (codes, n_groups, k, delta, n_min)
    shares: dict[str, ShareOutliers] = {}
    if e.has("absentee_voted"):
        if az:
            shares["cards"] = _share_outliers(
                "cards", "absentee_voted", "registered", e.field("absentee_voted"), V, *args
            )
        elif G is not None:
            shares["absentee"] = _share_outliers(
                "absentee", "absentee_voted", "ballots_issued", e.field("absentee_voted"), G, *args
            )
    if e.has("additional_list"):
        shares["additional_list"] = _share_outliers(
            "additional_list", "additional_list", "registered", e.field("additional_list"), V, *args
        )
    if G is not None and e.has("ballots_issued_mobile"):
        shares["mobile"] = _share_outliers(
            "mobile",
            "ballots_issued_mobile",
            "ballots_issued",
            e.field("ballots_issued_mobile"),
            G,
            *args,
        )
    if not shares:
        msg = note("no absentee, additional-list or mobile-box lines: no carousel shares computed")
        warnings.warn(msg, DegenerateDataWarning, stacklevel=2)
        notes.append(msg)

    away = [s for n, s in shares.items() if n != "mobile"]
    flag = np.zeros(e.n_stations, bool)
    for s in away:
        flag |= s.flag_floored

    lead = np.where(keep, e.share(None, denominator="cast"), np.nan)
    corr = {n: _corr(s.share, lead) for n, s in shares.items()}
    _, lmed, _ = robust_z(lead, codes, n_groups)
    corr_in = {n: _corr(s.share - s.median, lead - lmed) for n, s in shares.items()}

    used_f = "absentee_voted" if e.has("absentee_voted") else None
    issued_fs = [
        f for f in ("absentee_issued", "absentee_issued_higher", "absentee_taken") if e.has(f)
    ]
    cards: tuple[int | None, int | None, int | None, np.ndarray | None, np.ndarray | None] = (
        None,
        None,
        None,
        None,
        None,
    )
    if used_f and issued_fs:
        used = np.where(keep, e.field(used_f), 0)
        issued = np.where(keep, sum(e.field(f) for f in issued_fs), 0)
        gu = np.bincount(codes, weights=used, minlength=n_groups).astype(np.int64)
        gi = np.bincount(codes, weights=issued, minlength=n_groups).astype(np.int64)
        cards = (int(used.sum()), int(issued.sum()), int((gu > gi).sum()), gu, gi)
        if not az:
            notes.append(
                note(
                    "Russian absentee certificates are valid anywhere in the country, so only the "
                    "national balance is an identity; per-constituency excesses show travel too"
                )
            )

    boxes = np.zeros(e.n_stations, bool)
    n_boxes = None
    if G is not None and any(e.has(f) for f in ("ballots_mobile_box", "ballots_stationary_box")):
        boxes = keep & (e.ballots_in_boxes() > G)
        n_boxes = int(boxes.sum())

    return CarouselResult(
        group_level=level,
        n_groups=n_groups,
        k=float(k),
        delta=float(delta),
        n_min=int(n_min),
        shares=shares,
        correlation_with_leader=corr,
        correlation_within_group=corr_in,
        cards_used=cards[0],
        cards_issued=cards[1],
        n_groups_cards_over=cards[2],
        n_boxes_gt_issued=n_boxes,
        n_flagged=int(flag.sum()),
        notes=tuple(notes),
        flag=flag,
        boxes_gt_issued=boxes,
        group_cards_used=cards[3],
        group_cards_issued=cards[4],
        group_labels=labels,
    )
