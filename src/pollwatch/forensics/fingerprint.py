"""Election fingerprint: turnout and leader-share distributions, correlation, regression.

Sources: Klimek, Yegorov, Hanel & Thurner (2012), "Statistical detection of systematic
election irregularities", *PNAS* 109(41):16469–16473 (the 2-D turnout × share histogram,
their Fig. 1); Kobak, Shpilkin & Pshenichnikov (2016), *Ann. Appl. Stat.* 10(1):54–73 (0.1-pp
histograms of turnout and leader percentages, their Fig. 2); Sobyanin & Sukhovolsky (1995),
*Демократия, ограниченная фальсификациями*, and Myagkov, Ordeshook & Shakin (2009), *The
Forensics of Election Fraud* (turnout–share regression); EFToolkit (``kkalininMI/EFToolkit``)
for the "Sobyanin" statistic. Implementer's notes: ``docs/methods/forensics.md`` §1.1 and §6;
reference figures: ``docs/methods/reference-numbers.md`` §2 and §8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pollwatch.forensics._common import (
    TURNOUT_BASES,
    Notes,
    basic_mask,
    counts_exclusions,
    percent,
    turnout_numerator,
    validate_choice,
    validate_param,
)
from pollwatch.i18n import gettext, note
from pollwatch.model import Election
from pollwatch.results import ResultMixin, StationSignal, Summary, fmt_pct, jsonable

__all__ = [
    "DistributionsResult",
    "RegressionResult",
    "distributions",
    "pearson",
    "turnout_share_regression",
    "weighted_slope",
]


def pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Pearson correlation, optionally with non-negative weights; NaN if a variable is constant."""
    w = np.ones(x.size) if w is None else np.asarray(w, dtype=np.float64)
    if x.size < 2 or w.sum() <= 0 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    w = w / w.sum()
    dx, dy = x - (w * x).sum(), y - (w * y).sum()
    den = math.sqrt((w * dx * dx).sum() * (w * dy * dy).sum())
    return float((w * dx * dy).sum() / den) if den > 0 else math.nan


def weighted_slope(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """OLS slope of ``y`` on ``x`` (with intercept), optionally weighted; NaN if ``x`` is constant."""
    w = np.ones(x.size) if w is None else np.asarray(w, dtype=np.float64)
    if x.size < 2 or w.sum() <= 0 or np.ptp(x) == 0:
        return math.nan
    w = w / w.sum()
    dx = x - (w * x).sum()
    sxx = (w * dx * dx).sum()
    return float((w * dx * (y - (w * y).sum())).sum() / sxx) if sxx > 0 else math.nan


def _centred_edges(bin_pp: float) -> np.ndarray:
    """Edges ``(k − ½)·bin_pp`` so that bins are centred on multiples of ``bin_pp`` in 0…100."""
    nb = int(round(100 / bin_pp)) + 1
    return (np.arange(nb + 1) - 0.5) * bin_pp


@dataclass(frozen=True)
class DistributionsResult(ResultMixin):
    """Histograms and indicators of :func:`distributions`. Shares and turnouts as fractions.

    ``hist2d[i, j]`` counts (or weighs) stations with turnout in bin ``i`` and leader share in
    bin ``j`` of ``edges`` (percent, bins centred on multiples of ``bin_pp``).
    ``correlations`` holds Pearson ``r(t, s)`` for the variants of reference-numbers §2.
    """

    basis: str
    bin_pp: float
    weights: str | None
    min_registered: int
    n_stations: int
    n_used: int
    n_histogram: int
    exclusions: dict[str, int]
    correlations: dict[str, float]
    n_high_high: int
    frac_high_high: float
    frac_turnout_high: float
    frac_share_high: float
    mean_turnout: float
    mean_share: float
    notes: tuple[str, ...]
    edges: np.ndarray = field(repr=False)
    turnout_hist: np.ndarray = field(repr=False)
    share_hist: np.ndarray = field(repr=False)
    hist2d: np.ndarray = field(repr=False)
    fine_edges: np.ndarray = field(repr=False)
    turnout_fine: np.ndarray = field(repr=False)
    share_fine: np.ndarray = field(repr=False)

    _dict_exclude = (
        "edges",
        "turnout_hist",
        "share_hist",
        "hist2d",
        "fine_edges",
        "turnout_fine",
        "share_fine",
    )

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # histograms and correlations of the whole election

    def to_json(self) -> dict:
        r = self.correlations.get("all")
        return jsonable(
            {
                "pearson": None if r is None or math.isnan(r) else float(r),
                "variants": self.correlations,
                "basis": self.basis,
                "stations_high_high": self.n_high_high,
                "share_high_high": self.frac_high_high,
                "share_turnout_high": self.frac_turnout_high,
                "share_leader_high": self.frac_share_high,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "basis": self.basis,
            "bin_pp": self.bin_pp,
            "weights": self.weights,
            "min_registered": self.min_registered,
        }

    def summary(self) -> Summary:
        r = self.correlations.get("all", math.nan)
        text = gettext(
            "Across {n} stations the correlation between turnout and the leader's share is "
            "r = {r}; {n_high} stations ({pct_high}) report both turnout and leader share above "
            "95 %. In a clean election the turnout × share fingerprint is one compact blob and "
            "the correlation is weak; a smear towards (100 %, 100 %) is the pattern ballot "
            "stuffing leaves, though closed institutions and some regions produce it genuinely."
        ).format(
            n=f"{self.n_used:,}",
            r=f"{r:.3f}",
            n_high=f"{self.n_high_high:,}",
            pct_high=fmt_pct(self.frac_high_high),
        )
        rows = [(f"r(t, s) [{k}]", f"{v:.3f}") for k, v in self.correlations.items()]
        rows += [
            ("turnout > 95 %", fmt_pct(self.frac_turnout_high)),
            ("leader share > 95 %", fmt_pct(self.frac_share_high)),
            ("turnout basis / bin", f"{self.basis} / {self.bin_pp:g} pp"),
            ("stations in histograms", f"{self.n_histogram:,} of {self.n_stations:,}"),
        ]
        return Summary("Turnout and leader-share distributions", text, rows, self.notes)


def _weights_array(e: Election, weights: str | np.ndarray | None, mask: np.ndarray):
    if weights is None:
        return None, None
    if isinstance(weights, str):
        lookup = {
            "registered": lambda: e.field("registered"),
            "cast": e.ballots_cast,
            "issued": e.ballots_issued,
            "leader": lambda: e.votes(None),
        }
        validate_choice("weights", weights, tuple(lookup))
        return lookup[weights]()[mask].astype(np.float64), weights
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (e.n_stations,):
        raise ValueError(
            f"weights (array of shape {w.shape}) must have one value per station ({e.n_stations},)"
        )
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights (array) must be finite and non-negative")
    return w[mask], "array"


def distributions(
    e: Election,
    *,
    candidate: str | None = None,
    basis: Literal["issued", "cast"] = "issued",
    bin_pp: float = 1.0,
    weights: str | np.ndarray | None = None,
    min_registered: int = 100,
    fine_pp: float = 0.1,
) -> DistributionsResult:
    """Turnout and leader-share histograms, the 2-D fingerprint and the correlation variants.

    Stations with ``V > 0`` and ``R > 0`` enter the indicators; the histograms follow Klimek
    et al. (docs/methods/forensics.md §1.1): also ``V ≥ min_registered`` and turnout ≤ 100 %. Bins are
    centred on multiples of ``bin_pp`` (101 × 101 bins at 1 pp); the integer panel uses
    ``fine_pp`` (0.1 pp) bins of ``p_T = (100·G)/V`` and ``p_L = (100·L)/R``. ``weights``:
    None (station counts), ``"registered"`` (Kobak's figures), ``"cast"``, ``"issued"``,
    ``"leader"`` or an array per station.

    Correlations (reference-numbers §2): ``all``; ``g_lt_v`` (drop ``G ≥ V``); ``v_ge_100``;
    ``weighted_v`` (weighted by ``V``); ``min_rv_1`` (``t = min(R/V, 1)``). High-high counts
    use strict ``t > 0.95`` and ``s > 0.95``. Descriptive; no null model is assumed.
    """
    validate_choice("basis", basis, TURNOUT_BASES)
    validate_param("bin_pp", bin_pp, 0, 50, inclusive=(False, True))
    validate_param("fine_pp", fine_pp, 0, 10, inclusive=(False, True))
    validate_param("min_registered", min_registered, 0, math.inf)
    notes = Notes()
    if candidate is not None:
        e = e.with_scrutiny(candidate)
    mask = basic_mask(e)
    n_used = int(mask.sum())
    if n_used < 3:
        notes.small_sample(note("only {n} stations with V > 0 and R > 0", n=n_used))
    V = e.field("registered")[mask]
    G = turnout_numerator(e, basis)[mask]
    R = e.ballots_cast()[mask]
    L = e.votes(None)[mask]
    t_pct, s_pct = percent(G, V), percent(L, R)
    t, s = t_pct / 100, s_pct / 100
    if n_used >= 3 and (np.ptp(t) == 0 or np.ptp(s) == 0):
        notes.degenerate(note("turnout or leader share is constant; correlations are undefined"))

    rv = np.minimum(R / V, 1.0)
    Vf = V.astype(np.float64)
    ge100 = V >= 100
    gltv = G < V
    corr = {
        "all": pearson(t, s),
        "g_lt_v": pearson(t[gltv], s[gltv]),
        "v_ge_100": pearson(t[ge100], s[ge100]),
        "weighted_v": pearson(t, s, Vf),
        "min_rv_1": pearson(rv, s),
    }

    hmask = (V >= min_registered) & (G <= V)
    w, wname = _weights_array(e, weights, mask)
    wh = None if w is None else w[hmask]
    edges = _centred_edges(bin_pp)
    fine = _centred_edges(fine_pp)
    th, sh = t_pct[hmask], s_pct[hmask]
    if int((G > V).sum()):
        notes.add(
            note(
                "{n} stations with turnout above 100 % are kept in the "
                "indicators but left out of the histograms",
                n=int((G > V).sum()),
            )
        )
    hh = (t > 0.95) & (s > 0.95)
    frac = (lambda m: float(m.mean())) if n_used else (lambda m: math.nan)
    return DistributionsResult(
        basis=basis,
        bin_pp=bin_pp,
        weights=wname,
        min_registered=int(min_registered),
        n_stations=e.n_stations,
        n_used=n_used,
        n_histogram=int(hmask.sum()),
        exclusions=counts_exclusions(e),
        correlations=corr,
        n_high_high=int(hh.sum()),
        frac_high_high=frac(hh),
        frac_turnout_high=frac(t > 0.95),
        frac_share_high=frac(s > 0.95),
        mean_turnout=float(G.sum() / V.sum()) if n_used else math.nan,
        mean_share=float(L.sum() / R.sum()) if n_used else math.nan,
        notes=notes.as_tuple(),
        edges=edges,
        turnout_hist=np.histogram(th, edges, weights=wh)[0],
        share_hist=np.histogram(sh, edges, weights=wh)[0],
        hist2d=np.histogram2d(th, sh, [edges, edges], weights=wh)[0],
        fine_edges=fine,
        turnout_fine=np.histogram(th, fine, weights=wh)[0],
        share_fine=np.histogram(sh, fine, weights=wh)[0],
    )


@dataclass(frozen=True)
class RegressionResult(ResultMixin):
    """Sobyanin–Sukhovolsky slopes of each candidate's ``votes/V`` on turnout ``R/V``.

    ``slopes`` maps candidate names (and ``"invalid"``) to the OLS slope; they sum to 1
    (``sum_slopes``) because ``Σ candidates + invalid = R``. ``eftoolkit_sobyanin`` is the
    EFToolkit statistic (slope of ``s`` on ``min(R/V, 1)`` minus mean ``s``), flagged when
    its absolute value exceeds 1.645 — a different statistic, labelled as such.
    """

    leader: str
    n_used: int
    slopes: dict[str, float]
    leader_slope: float
    others_slope: float
    invalid_slope: float
    sum_slopes: float
    leader_slope_weighted: float
    leader_share: float
    eftoolkit_sobyanin: float
    eftoolkit_flag: bool
    notes: tuple[str, ...]

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # slopes over the whole election

    def to_json(self) -> dict:
        return jsonable(
            {
                "leader_slope": self.leader_slope,
                "others_slope": self.others_slope,
                "invalid_slope": self.invalid_slope,
                "sum_slopes": self.sum_slopes,
                "leader_slope_weighted": self.leader_slope_weighted,
                "sobyanin_statistic": self.eftoolkit_sobyanin,
                "slopes": self.slopes,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {"candidate": self.leader}

    def summary(self) -> Summary:
        text = gettext(
            "Of each additional percentage point of turnout, {slope} points go to {leader} (its "
            "overall share is {share}) and {others} to all others. A slope above 1 with negative "
            "slopes for the others means extra turnout arrives only with leader votes while "
            "others lose votes, the signature of stuffing or switching; genuine turnout–support "
            "correlation (rural/urban) also gives positive slopes."
        ).format(
            slope=f"{self.leader_slope:.2f}",
            leader=self.leader,
            share=fmt_pct(self.leader_share, 1),
            others=f"{self.others_slope:+.2f}",
        )
        rows = [
            (gettext("slope: {candidate}").format(candidate=k), f"{v:+.3f}")
            for k, v in self.slopes.items()
        ]
        rows += [
            ("sum of slopes", f"{self.sum_slopes:.3f}"),
            ("leader slope, weighted by V", f"{self.leader_slope_weighted:.3f}"),
            (
                "EFToolkit 'Sobyanin' statistic",
                f"{self.eftoolkit_sobyanin:.3f}" + (" (flagged)" if self.eftoolkit_flag else ""),
            ),
        ]
        return Summary("Turnout–share regression (Sobyanin–Sukhovolsky)", text, rows, self.notes)


def turnout_share_regression(e: Election, *, candidate: str | None = None) -> RegressionResult:
    """Sobyanin–Sukhovolsky regression across stations (docs/methods/forensics.md §6, steps 3–4).

    OLS of ``votes_c/V`` on ``t = R/V`` for every candidate ``c`` and for invalid ballots,
    over stations with ``V > 0`` and ``R > 0``, unweighted; the leader's slope also weighted
    by ``V``. Assumption for reading it: without fraud the marginal turnout splits like the
    average one, so the leader's slope is near its overall share.
    """
    notes = Notes()
    if candidate is not None:
        e = e.with_scrutiny(candidate)
    mask = basic_mask(e)
    n = int(mask.sum())
    if n < 3:
        notes.small_sample(
            note("only {n} stations with V > 0 and R > 0; the slopes mean little", n=n)
        )
    V = e.field("registered")[mask].astype(np.float64)
    R = e.ballots_cast()[mask]
    t = R / V
    if n >= 3 and np.ptp(t) == 0:
        notes.degenerate(note("turnout is the same at every station; slopes are undefined"))
    lead = e.leader
    slopes = {c.name: weighted_slope(t, e.field(c.id)[mask] / V) for c in e.candidates}
    L = e.field(lead.id)[mask]
    invalid = e.field("invalid")[mask]
    slopes["invalid"] = weighted_slope(t, invalid / V)
    s = L / R
    sob = weighted_slope(np.minimum(t, 1.0), s) - float(s.mean()) if n else math.nan
    return RegressionResult(
        leader=lead.name,
        n_used=n,
        slopes=slopes,
        leader_slope=slopes[lead.name],
        others_slope=weighted_slope(t, (e.field("valid")[mask] - L) / V),
        invalid_slope=slopes["invalid"],
        sum_slopes=float(sum(slopes.values())),
        leader_slope_weighted=weighted_slope(t, L / V, V),
        leader_share=float(L.sum() / R.sum()) if n else math.nan,
        eftoolkit_sobyanin=sob,
        eftoolkit_flag=bool(abs(sob) > 1.645),
        notes=notes.as_tuple(),
    )
