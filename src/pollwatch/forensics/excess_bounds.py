"""Regional excess votes with a permutation test and two one-sided bounds, in two readings.

Source of the estimator: Shpilkin's excess votes (Shpilkin 2011–2012; Kobak, Shpilkin &
Pshenichnikov 2016, *Significance* 13(4), eq. 1: ``E = Σ_b max(0, L_b − k·O_b)`` over the
turnout bins above the natural peak of the others' votes, ``k`` the leader-to-others ratio at
the peak), computed **in each analysis unit with its own k and peak** and summed
(``docs/headline.md`` §3–4). The test is a Fisher randomisation test (Good 2005, *Permutation,
Parametric and Bootstrap Tests of Hypotheses*, ch. 3): the leader's share of valid votes is
permuted among the stations of each source unit (a region, before small ones are merged with
their neighbours), keeping each station's turnout and valid votes.

Two readings of the clean line:

* ``flat``: Shpilkin's constant clean ratio ``k`` in each unit;
* ``trend``: ``log k`` linear in turnout, the slope fitted on the bins at or below the unit's
  peak (our extension, ``docs/headline.md`` §4). Honest differences inside a unit that tie
  turnout to the leader's share (town and country) make the flat reading, and its permutation
  test, signal fraud on clean elections (a correlation of 0.1 between stations' turnout and
  the leader's share was enough in every one of 6 simulated elections of 10,000 stations); the
  trend reading carries such a slope above the peak instead. Stuffing moves stations above the
  peak, so the slope is read from (mostly) clean bins.

Why each reading has two bounds (measured on simulated elections, ``docs/calibration.md``,
"Headline"):

* the observed regional excess ``S`` is an **upper** reading: each unit's own noise adds a
  positive excess (the sum keeps only bins above the line), 0.4–1.2 % of ballots cast on clean
  elections of 5,000–20,000 stations (flat), more with the fitted slope;
* the excess beyond the permutation null, ``D = S − median(S*)``, is centred on 0 for clean
  elections but a **lower** reading under stuffing: shuffling moves stuffed stations' high
  shares to ordinary turnouts, where part of the fraud re-appears as null excess (0.7–0.9 of
  the injected ballots, flat).

Assumptions: inside a unit, honest turnout and support are not associated (flat) or associated
along a log-linear trend that continues above the peak (trend); fraud raises the leader's votes
together with turnout (stuffing, carousels). The station bootstrap is stratified by unit and
resamples stations only: it does not know the model's error, which the readings carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
from scipy.stats import norm

from pollwatch.compute.seam import check_seed
from pollwatch.forensics._common import basic_mask
from pollwatch.forensics.shpilkin import ShpilkinParams, _prepare
from pollwatch.forensics.shpilkin_permutation import _shuffle_within
from pollwatch.forensics.units import Units, analysis_units
from pollwatch.i18n import gettext, note, translated
from pollwatch.model import Election
from pollwatch.results import ResultMixin, StationSignal, Summary, fmt_int, jsonable

__all__ = ["ExcessBounds", "Reading", "regional_excess_bounds"]

#: fewest analysable stations for a reading (the within-region permutation test's own minimum)
MIN_STATIONS = 50


class Reading(NamedTuple):
    """One variant of the regional excess: ``excess`` S, ``beyond_null`` D = S − median of the
    permutation null, its p-value ``(1 + #{S* ≥ S}) / (n_perm + 1)``, the stratified
    bootstrap's sd of S and the null's sd; ``lower`` = D − z·√(sd_boot² + sd_null²) and
    ``upper`` = S + z·sd_boot, one-sided at the result's confidence level."""

    excess: float
    beyond_null: float
    pvalue: float
    sd_boot: float
    sd_null: float
    lower: float
    upper: float


@dataclass(frozen=True)
class ExcessBounds(ResultMixin):
    """Result of :func:`regional_excess_bounds`: two :class:`Reading` s of the regional excess,
    ``flat`` (Shpilkin's constant clean ratio in each unit) and ``trend`` (a clean ratio that
    may change with turnout, fitted below each unit's peak). ``null`` and ``boot`` hold the
    permutation and bootstrap replicates, one column per reading."""

    flat: Reading
    trend: Reading
    n_perm: int
    n_boot: int
    confidence_level: float
    units: str
    n_units: int
    n_stations: int
    ballots_cast: float
    seed: int | None
    null: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 2)))
    boot: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 2)))

    _dict_exclude = ("null", "boot")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["flat"], d["trend"] = self.flat._asdict(), self.trend._asdict()
        return d

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # sums over units

    def to_json(self) -> dict:
        return jsonable(
            {
                "flat": self.flat._asdict(),
                "trend": self.trend._asdict(),
                "permutations": self.n_perm,
                "bootstrap_replicates": self.n_boot,
                "confidence_level": self.confidence_level,
                "units": self.units,
                "n_units": self.n_units,
                "note": "excess (S) over-reads: each unit's noise adds positive excess; "
                "beyond_null (D) under-reads: the permutation null absorbs part of any fraud. "
                "'trend' lets the clean ratio follow turnout as it does below each unit's peak. "
                "Bounds are one-sided at confidence_level.",
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "n_perm": self.n_perm,
            "n_boot": self.n_boot,
            "confidence_level": self.confidence_level,
            "units": self.units,
            "seed": self.seed,
        }

    def summary(self) -> Summary:
        f, t = self.flat, self.trend
        text = gettext(
            "Summed over {units}, each with its own clean ratio and turnout peak, the leader has "
            "{excess} votes above the clean line ({excess_trend} when the clean ratio may rise or "
            "fall with turnout as it does below the peak). Shuffling the leader's share among the "
            "stations of each unit ({n_perm} times) shows what no within-unit association would "
            "give: p = {p} (flat), {p_trend} (with trend)."
        ).format(
            units=translated(self.units),
            excess=fmt_int(f.excess),
            excess_trend=fmt_int(t.excess),
            n_perm=self.n_perm,
            p=f"{f.pvalue:.3g}",
            p_trend=f"{t.pvalue:.3g}",
        )
        rows = [
            ("regional excess S, flat / with trend", f"{fmt_int(f.excess)} / {fmt_int(t.excess)}"),
            (
                "beyond the permutation null D, flat / with trend",
                f"{fmt_int(f.beyond_null)} / {fmt_int(t.beyond_null)}",
            ),
            (
                "permutation p-value, flat / with trend",
                f"{f.pvalue:.3g} / {t.pvalue:.3g} ({self.n_perm} permutations)",
            ),
            (
                gettext("bounds ({level} one-sided), flat").format(
                    level=f"{self.confidence_level:.1%}"
                ),
                f"{fmt_int(max(f.lower, 0.0))} – {fmt_int(f.upper)}",
            ),
            ("bounds, with trend", f"{fmt_int(max(t.lower, 0.0))} – {fmt_int(t.upper)}"),
            ("units", self.units),
        ]
        return Summary("Regional excess votes: bounds and permutation test", text, rows)


def _trend_excess(L_b: np.ndarray, O_b: np.ndarray, m: int, min_bins: int = 4) -> float:
    """Excess above a clean ratio that may change with turnout: ``log k(t)`` linear in the
    turnout bin, its slope fitted by weighted least squares on the bins at or below the peak
    ``m`` (weights ``L·O/(L+O)``, the inverse Poisson variance of ``log L/O``), its level set so
    that ``Σ_{b≤m} k(b)·O_b = Σ_{b≤m} L_b`` (the cumulative ratio's own condition). With a flat
    slope this is Shpilkin's excess; an honest within-unit trend (the leader stronger where more
    people vote, as town and country can differ) is carried above the peak instead of being
    counted. Stuffing moves stations above the peak, so the bins used for the slope are
    (mostly) clean. Fewer than ``min_bins`` usable bins: slope 0. The reference implementation
    of what :func:`_units_excess` computes for every unit at once."""
    lo_L, lo_O = L_b[: m + 1], O_b[: m + 1]
    if lo_O.sum() <= 0:
        return math.nan
    ok = (lo_L > 0) & (lo_O > 0)
    slope = 0.0
    if ok.sum() >= min_bins:
        x = np.arange(m + 1, dtype=np.float64)[ok] - m
        y = np.log(lo_L[ok] / lo_O[ok])
        w = lo_L[ok] * lo_O[ok] / (lo_L[ok] + lo_O[ok])
        xm = np.sum(w * x) / w.sum()
        sxx = np.sum(w * (x - xm) ** 2)
        if sxx > 0:
            slope = float(np.sum(w * (x - xm) * (y - np.sum(w * y) / w.sum())) / sxx)
    d = np.arange(L_b.size, dtype=np.float64) - m
    shape = np.exp(slope * d)
    level = lo_L.sum() / np.sum(lo_O * shape[: m + 1])
    above = L_b[m + 1 :] - level * shape[m + 1 :] * O_b[m + 1 :]
    return float(np.maximum(0.0, above).sum())


@numba.njit(cache=True)
def _natural_peak(
    sm: np.ndarray, min_height: float, min_prominence: float, r0: float, r1: float, bin_pp: float
) -> int:  # pragma: no cover - compiled
    """Shpilkin's natural peak (``shpilkin._mode_bin`` with the default rule): the lowest-turnout
    peak of the smoothed curve with height ≥ ``min_height``·max and prominence ≥
    ``min_prominence``·max inside [r0, r1) %, found as ``scipy.signal.find_peaks`` does
    (plateaus at their middle, prominence from the lowest point before a higher one); the
    argmax when there is none. Returns ``-1 - argmax`` for "not found"."""
    nb = sm.size
    top, am = sm[0], 0
    for i in range(1, nb):
        if sm[i] > top:
            top, am = sm[i], i
    if top <= 0:
        return -1 - am
    hmin, pmin = min_height * top, min_prominence * top
    i = 1
    while i < nb - 1:
        if sm[i - 1] < sm[i]:
            ia = i + 1
            while ia < nb - 1 and sm[ia] == sm[i]:
                ia += 1
            if sm[ia] < sm[i]:
                pk = (i + ia - 1) // 2
                h = sm[pk]
                if h >= hmin:
                    left = h
                    j = pk
                    while j >= 0 and sm[j] <= h:
                        if sm[j] < left:
                            left = sm[j]
                        j -= 1
                    right = h
                    j = pk
                    while j <= nb - 1 and sm[j] <= h:
                        if sm[j] < right:
                            right = sm[j]
                        j += 1
                    edge = pk * bin_pp
                    if h - max(left, right) >= pmin and edge >= r0 and edge < r1:
                        return pk
                i = ia
        i += 1
    return -1 - am


@numba.njit(cache=True)
def _units_excess(
    L_ub: np.ndarray,
    O_ub: np.ndarray,
    width: int,
    min_height: float,
    min_prominence: float,
    r0: float,
    r1: float,
    bin_pp: float,
    min_bins: int,
) -> tuple:  # pragma: no cover - compiled
    """Summed over units (rows): Shpilkin's excess with the default rules (natural peak,
    cumulative ratio, positive sum; ``shpilkin._core``) and the trend reading
    (:func:`_trend_excess`). A unit whose estimate is undefined adds 0. One compiled pass: the
    permutation and bootstrap loops call this ~400 times on 95,000 stations."""
    n_units, nb = L_ub.shape
    flat_total, trend_total = 0.0, 0.0
    sm = np.empty(nb)
    h = width // 2
    inv = 1.0 / width  # as np.ones(width) / width in shpilkin._smooth
    for u in range(n_units):
        Lb, Ob = L_ub[u], O_ub[u]
        if not np.any(Ob != 0):
            continue
        for i in range(nb):
            acc = 0.0
            for j in range(i - h, i + h + 1):
                if 0 <= j < nb:
                    acc += Ob[j] * inv
            sm[i] = acc if width > 1 else Ob[i]
        m = _natural_peak(sm, min_height, min_prominence, r0, r1, bin_pp)
        if m < 0:
            m = -1 - m
        sL, sO = 0.0, 0.0
        for b in range(m + 1):
            sL += Lb[b]
            sO += Ob[b]
        if sO > 0:
            k = sL / sO
            ex = 0.0
            for b in range(m + 1, nb):
                v = Lb[b] - k * Ob[b]
                if v > 0:
                    ex += v
            flat_total += ex
            # trend: weighted least squares of log(L/O) on the bin offset, bins <= m with L, O > 0
            sw, swx, swy, n_ok = 0.0, 0.0, 0.0, 0
            for b in range(m + 1):
                if Lb[b] > 0 and Ob[b] > 0:
                    w = Lb[b] * Ob[b] / (Lb[b] + Ob[b])
                    sw += w
                    swx += w * (b - m)
                    swy += w * np.log(Lb[b] / Ob[b])
                    n_ok += 1
            slope = 0.0
            if n_ok >= min_bins:
                xm, ym = swx / sw, swy / sw
                sxx, sxy = 0.0, 0.0
                for b in range(m + 1):
                    if Lb[b] > 0 and Ob[b] > 0:
                        w = Lb[b] * Ob[b] / (Lb[b] + Ob[b])
                        sxx += w * (b - m - xm) ** 2
                        sxy += w * (b - m - xm) * (np.log(Lb[b] / Ob[b]) - ym)
                if sxx > 0:
                    slope = sxy / sxx
            den = 0.0
            for b in range(m + 1):
                den += Ob[b] * np.exp(slope * (b - m))
            level = sL / den
            tr = 0.0
            for b in range(m + 1, nb):
                v = Lb[b] - level * np.exp(slope * (b - m)) * Ob[b]
                if v > 0:
                    tr += v
            trend_total += tr
    return flat_total, trend_total


def _unit_excess(
    codes: np.ndarray,
    n_units: int,
    b: np.ndarray,
    nb: int,
    L: np.ndarray,
    oth: np.ndarray,
    p: ShpilkinParams,
    w: np.ndarray | None = None,
) -> tuple[float, float]:
    """Summed over units: (Shpilkin's excess with a flat clean ratio, with a turnout trend)."""
    flat = codes * nb + b
    if w is not None:
        L, oth = L * w, oth * w
    L_ub = np.bincount(flat, L, minlength=n_units * nb).reshape(n_units, nb)
    O_ub = np.bincount(flat, oth, minlength=n_units * nb).reshape(n_units, nb)
    return _units_excess(
        L_ub,
        O_ub,
        p.smoothing,
        p.min_height,
        p.min_prominence,
        float(p.peak_range[0]),
        float(p.peak_range[1]),
        p.bin_pp,
        4,
    )


def regional_excess_bounds(
    e: Election,
    *,
    units: Units | None = None,
    n_perm: int = 199,
    n_boot: int = 199,
    confidence_level: float = 0.975,
    seed: int | None = 0,
) -> ExcessBounds:
    """Regional Shpilkin excess, its within-unit permutation p-value and one-sided bounds.

    :param units: analysis units (default :func:`~pollwatch.forensics.units.analysis_units`:
        the top level, small units merged with their neighbours).
    :param n_perm: permutations for the null (p-value resolution 1 / (n_perm + 1)).
    :param n_boot: stratified station-bootstrap replicates for the sd of S.
    :param confidence_level: one-sided level of each bound (0.975 each makes a 95 % interval).
    :raises ValueError: no station with registered voters and ballots, or bad parameters.
    """
    for name, v in (("n_perm", n_perm), ("n_boot", n_boot)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= 100_000:
            raise ValueError(f"{name} ({v!r}) must be an integer in the interval [1, 100000].")
    if not 0.5 < confidence_level < 1:
        raise ValueError(f"confidence_level ({confidence_level}) must be in the interval (0.5, 1).")
    check_seed(seed)
    mask = basic_mask(e) & e.analysable()
    if mask.sum() < MIN_STATIONS:  # as the permutation test: below this no p-value means much
        raise ValueError(
            f"only {int(mask.sum())} analysable stations have registered voters and ballots; the "
            f"regional excess and its permutation test need at least {MIN_STATIONS}"
        )
    units = units if units is not None else analysis_units(e)
    desc: str  # a Note: said in the report's language where it is shown
    if units is None:
        codes, n_units, desc = (
            np.zeros(int(mask.sum()), np.int64),
            1,
            note("the whole election (no hierarchy)"),
        )
        strata = codes
    else:
        codes, desc = units.codes[mask], units.description
        codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
        n_units = int(codes.max()) + 1
        # shuffle inside the source units: merged neighbours keep their own differences in the null
        strata = units.source_codes[mask]
    p = ShpilkinParams()
    b, nb, L, oth = _prepare(e, p, mask)
    L, oth = L.astype(np.float64), oth.astype(np.float64)
    observed = np.asarray(_unit_excess(codes, n_units, b, nb, L, oth, p))

    valid = L + oth
    share = np.divide(L, valid, out=np.zeros_like(L), where=valid > 0)
    slots = np.argsort(strata, kind="stable")
    starts = np.flatnonzero(np.r_[True, strata[slots][1:] != strata[slots][:-1]])
    ends = np.r_[starts[1:], slots.size]
    rng = np.random.default_rng(seed)
    null = np.empty((n_perm, 2))
    for r in range(n_perm):
        Ls = share[_shuffle_within(slots, starts, ends, rng.random(slots.size))] * valid
        null[r] = _unit_excess(codes, n_units, b, nb, Ls, valid - Ls, p)
    # stratified bootstrap: each source unit's stations resampled within it (sizes kept)
    size = np.repeat(ends - starts, ends - starts)
    first = np.repeat(starts, ends - starts)
    boot = np.empty((n_boot, 2))
    for r in range(n_boot):
        pos = first + np.minimum((rng.random(slots.size) * size).astype(np.int64), size - 1)
        w = np.bincount(slots[pos], minlength=L.size).astype(np.float64)
        boot[r] = _unit_excess(codes, n_units, b, nb, L, oth, p, w)
    z = float(norm.ppf(confidence_level))
    readings = []
    for j in range(2):
        sd_boot, sd_null = float(boot[:, j].std(ddof=1)), float(null[:, j].std(ddof=1))
        beyond = float(observed[j] - np.median(null[:, j]))
        pvalue = (1 + int(np.sum(null[:, j] >= observed[j]))) / (n_perm + 1)
        readings.append(
            Reading(
                excess=float(observed[j]),
                beyond_null=beyond,
                pvalue=float(pvalue),
                sd_boot=sd_boot,
                sd_null=sd_null,
                lower=beyond - z * math.hypot(sd_boot, sd_null),
                upper=float(observed[j]) + z * sd_boot,
            )
        )
    return ExcessBounds(
        flat=readings[0],
        trend=readings[1],
        n_perm=n_perm,
        n_boot=n_boot,
        confidence_level=confidence_level,
        units=desc,
        n_units=n_units,
        n_stations=int(mask.sum()),
        ballots_cast=float(e.ballots_cast()[mask].sum()),
        seed=seed,
        null=null,
        boot=boot,
    )
