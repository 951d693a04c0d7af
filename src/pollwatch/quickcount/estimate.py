"""Quick-count estimates from protocol copies: shares, turnout, invalid share, the lead.

Sources: Cochran (1977), *Sampling Techniques*, §6.11 (combined ratio estimator, eq. 6.50, and its
linearised variance); Estok, Nevitte & Cowan (2002), NDI, ch. 5; Rao, Wu & Yue (1992) for the
rescaling bootstrap within strata; docs/methods/quickcount-and-cameras.md §1.2 e–g and the test vectors of §1.3.
Apollo's estimator (``apollo/result_analysis/results.py``) is the one-stratum special case.

Assumptions: stations were drawn by simple random sampling within strata (weights ``N_h/n_h``),
non-reporting stations are missing at random within their stratum, and the copies are the
station protocols as counted. Shares are of **valid votes**; turnout is ballots cast / registered.
Copies are checked before counting (docs/quickcount.md §5: failing or incomplete copies are
quarantined, never counted with a 0 in a blank cell); with a registered sample (§3, §4) only
the active sample's copies are counted, the rest are listed as off-sample, and the response is
reported overall, by stratum and by the hour (§6).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from scipy import stats

from pollwatch.compute import Execution, run_tasks, spawn_seeds
from pollwatch.errors import DataIssue, DegenerateDataWarning, InputDataError, SmallSampleWarning
from pollwatch.i18n import N_, N_plural, Note, gettext, note, note_plural
from pollwatch.i18n.text import Join, cap, say
from pollwatch.model import Candidate, Election
from pollwatch.quickcount._core import boot_chunk, ratio_and_variance
from pollwatch.quickcount._frame import Frame, build_frame, sample_frame
from pollwatch.quickcount.checks import CopyScreen, QuarantinedCopy, screen_copies
from pollwatch.quickcount.copies import ARRIVED, ProtocolCopies
from pollwatch.quickcount.design import z_value
from pollwatch.quickcount.response import OffSample, ResponseReport, response_report
from pollwatch.quickcount.sample import RegisteredSample
from pollwatch.results import ConfidenceInterval, ResultMixin, Summary, fmt_pct, jsonable

__all__ = [
    "BreakdownResult",
    "ConvergenceResult",
    "LeadEstimate",
    "QuantityEstimate",
    "QuickCountResult",
    "RatioEstimate",
    "apollo_moe",
    "breakdown",
    "convergence",
    "estimate",
    "estimate_lead",
    "lead_call",
    "ratio_estimate",
]

Nonresponse = Literal["collapse", "poststratify"]


# ---------------------------------------------------------------------------------------------
# low level: one ratio, Apollo's formula, the lead
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RatioEstimate(ResultMixin):
    """A ratio estimate with its linearised standard error; ``df = k − H`` for t intervals."""

    estimate: float
    se: float
    n_stations: int
    n_strata: int
    df: int
    fpc: bool

    def moe(self, confidence: float = 0.95, *, z: float | None = None) -> float:
        """Margin of error ``z·SE`` (``z`` overrides ``confidence``; NDI/Apollo use 2.58 at 99 %)."""
        return (z_value(confidence) if z is None else z) * self.se

    def interval(
        self, confidence: float = 0.95, method: Literal["z", "t"] = "z"
    ) -> ConfidenceInterval:
        q = z_value(confidence) if method == "z" else _t_quantile(confidence, self.df)
        return ConfidenceInterval(self.estimate - q * self.se, self.estimate + q * self.se)

    def summary(self) -> Summary:
        lo, hi = self.interval()
        return Summary(
            gettext("Ratio estimate"),
            gettext("{estimate} ± {moe} pp (95 %).").format(
                estimate=fmt_pct(self.estimate, 3), moe=f"{100 * self.moe():.3f}"
            ),
            [
                (gettext("estimate"), fmt_pct(self.estimate, 3)),
                (gettext("SE"), f"{self.se:.6f}"),
                (gettext("95 % interval"), f"[{fmt_pct(lo, 3)}, {fmt_pct(hi, 3)}]"),
                (gettext("stations / strata"), f"{self.n_stations} / {self.n_strata}"),
            ],
        )


def _t_quantile(confidence: float, df: int) -> float:
    if df < 1:
        return math.inf
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def _codes(strata, n: int) -> tuple[np.ndarray, np.ndarray]:
    if strata is None:
        return np.zeros(n, dtype=np.int64), np.array(["all"])
    names, codes = np.unique(np.asarray(strata).astype(str), return_inverse=True)
    return codes.astype(np.int64), names


def ratio_estimate(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    frame_sizes: int | dict[str, int] | None = None,
) -> RatioEstimate:
    """Stratified combined ratio estimate of ``Σ numerator / Σ denominator`` (§1.2 e).

    Parameters
    ----------
    numerator, denominator : array_like
        One value per sampled station (1-d, equal length).
    strata : array_like, optional
        A stratum label per station (None: one stratum).
    frame_sizes : int or dict, optional
        Stations in the frame: an int for one stratum or ``{label: N_h}``. None (one stratum
        only) omits the finite-population correction.

    Returns
    -------
    RatioEstimate
        The ratio, its linearised SE and ``df = k − H`` for t intervals.

    Examples
    --------
    Test vector §1.3 row 1:

    >>> r = ratio_estimate([120, 80, 150], [300, 250, 400])
    >>> round(r.estimate, 6), round(r.se, 6)
    (0.368421, 0.020106)
    """
    y = np.asarray(numerator, dtype=np.float64)
    x = np.asarray(denominator, dtype=np.float64)
    if y.shape != x.shape or y.ndim != 1:
        raise ValueError(
            f"numerator and denominator must be 1-d of equal length (got {y.shape}, {x.shape})"
        )
    codes, names = _codes(strata, len(y))
    n_h = np.bincount(codes, minlength=len(names))
    if frame_sizes is None:
        if len(names) > 1:
            raise ValueError("frame_sizes (None) is required with more than one stratum")
        N, fpc = n_h.astype(np.float64), False
    elif isinstance(frame_sizes, dict):
        missing = [s for s in names if s not in frame_sizes]
        if missing:
            raise ValueError(f"frame_sizes has no size for strata {missing}")
        N, fpc = np.array([frame_sizes[s] for s in names], dtype=np.float64), True
    else:
        N, fpc = np.array([frame_sizes], dtype=np.float64), True
    if (N < n_h).any():
        raise ValueError(
            f"frame_sizes ({frame_sizes}) must be at least the stations sampled per stratum"
        )
    if (n_h < 2).any():
        warnings.warn(
            "a stratum has fewer than 2 stations: its variance is taken as 0; collapse it",
            SmallSampleWarning,
            stacklevel=2,
        )
    p, v = ratio_and_variance(y, x, codes, N, fpc)
    return RatioEstimate(
        estimate=float(p[0]),
        se=float(math.sqrt(v[0])),
        n_stations=len(y),
        n_strata=len(names),
        df=len(y) - len(names),
        fpc=fpc,
    )


def apollo_moe(a, m, *, big_n: float = 0, z: float = 1.96) -> tuple[float, float]:
    """Apollo's estimate and margin of error in percentage points (docs/methods/observation-platforms.md §3).

    ``p̂ = Σa/Σm``, ``V̂ = (1 − f)/(k·m̄²)·Σ(a − p̂m)²/(k − 1)`` with ``f = Σm/BIG_N`` (an FPC counted
    in *voters*, which is not the textbook one; ``big_n = 0`` means none). Kept to reproduce
    Apollo's published figures (§1.3 rows 1 and 1b); use :func:`ratio_estimate` otherwise.
    """
    a = np.asarray(a, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    k = len(a)
    p = a.sum() / m.sum()
    f = m.sum() / big_n if big_n else 0.0
    v = (1 - f) / (k * m.mean() ** 2) * ((a - p * m) ** 2).sum() / (k - 1)
    return float(p), float(z * math.sqrt(v) * 100)


def lead_call(low: float, high: float, a: str, b: str) -> Note:
    """ "A ahead, verified" when the interval of ``A − B`` excludes 0 (§1.2 g), else too close.

    The English call (a ``str``); ``_text.say`` writes it in the display language."""
    if low > 0:
        return note(N_("{name} ahead, verified"), name=a)
    if high < 0:
        return note(N_("{name} ahead, verified"), name=b)
    return note(N_("too close to call"))


def majority_call(low: float, high: float, name: str, threshold: float = 0.5) -> Note:
    """The 50 %+1 test: is the leader's share interval entirely above (or below) the threshold?"""
    pct = f"{100 * threshold:g}"
    if low > threshold:
        return note(
            N_("{name} above {threshold} % of valid votes, verified"), name=name, threshold=pct
        )
    if high < threshold:
        return note(
            N_(
                "{name} below {threshold} % of valid votes, verified (a run-off is needed where "
                "the law requires a majority)"
            ),
            name=name,
            threshold=pct,
        )
    return note(
        N_("too close to call whether {name} passes {threshold} %"), name=name, threshold=pct
    )


@dataclass(frozen=True)
class LeadEstimate(ResultMixin):
    """The lead ``d = (votes_A − votes_B)/valid`` with z and t intervals and the calls (§1.2 g)."""

    a: str
    b: str
    estimate: float
    se: float
    df: int
    confidence: float
    interval_z: ConfidenceInterval
    interval_t: ConfidenceInterval
    call_z: str
    call_t: str
    interval_boot: ConfidenceInterval | None = None

    @property
    def call(self) -> str:
        """The headline call: the t interval (conservative for few stations)."""
        return self.call_t

    def summary(self) -> Summary:
        c = f"{100 * self.confidence:g} %"
        return Summary(
            gettext("Lead of {a} over {b}").format(a=self.a, b=self.b),
            gettext("{a} − {b} = {lead} pp: {call}.").format(
                a=self.a, b=self.b, lead=f"{100 * self.estimate:+.2f}", call=say(self.call)
            ),
            [
                (
                    gettext("lead"),
                    gettext("{value} pp").format(value=f"{100 * self.estimate:+.3f}"),
                ),
                (gettext("SE"), gettext("{value} pp").format(value=f"{100 * self.se:.3f}")),
                (gettext("{level} z interval").format(level=c), _fmt_iv(self.interval_z)),
                (gettext("call (z)"), say(self.call_z)),
                (
                    gettext("{level} t interval (df {df})").format(level=c, df=self.df),
                    _fmt_iv(self.interval_t),
                ),
                (gettext("call (t)"), say(self.call_t)),
            ],
        )


def _fmt_iv(iv) -> str:
    return gettext("[{low}, {high}] pp").format(
        low=f"{100 * iv[0]:+.2f}", high=f"{100 * iv[1]:+.2f}"
    )


#: words of the result's rows and codes (the English is what the rows always showed)
QUANTITY_LABELS = {"turnout": N_("turnout"), "invalid_share": N_("invalid_share")}
NONRESPONSE_LABELS = {"collapse": N_("collapse"), "poststratify": N_("poststratify")}


def _label(table: dict[str, str], code: str) -> str:
    return gettext(table[code]) if code in table else code


def _lead_from(d: float, se: float, df: int, a: str, b: str, confidence: float) -> LeadEstimate:
    z, t = z_value(confidence), _t_quantile(confidence, df)
    iz = ConfidenceInterval(d - z * se, d + z * se)
    it = ConfidenceInterval(d - t * se, d + t * se)
    return LeadEstimate(
        a=a,
        b=b,
        estimate=d,
        se=se,
        df=df,
        confidence=confidence,
        interval_z=iz,
        interval_t=it,
        call_z=lead_call(*iz, a, b),
        call_t=lead_call(*it, a, b),
    )


def estimate_lead(
    votes_a: ArrayLike,
    votes_b: ArrayLike,
    valid: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    frame_sizes: int | dict[str, int] | None = None,
    names: tuple[str, str] = ("A", "B"),
    confidence: float = 0.95,
) -> LeadEstimate:
    """Interval for the lead of A over B: ``d̂ = Σw(y_A − y_B)/X̂`` with the ratio variance (§1.2 g).

    Parameters
    ----------
    votes_a, votes_b, valid : array_like
        Votes for A, for B and valid votes, one value per sampled station.
    strata, frame_sizes
        As for :func:`ratio_estimate`.
    names : tuple of str
        Names of A and B in the calls.
    confidence : float
        Level of the z and t intervals.

    Returns
    -------
    LeadEstimate
        The lead, its SE, the z and t intervals and the calls.

    Examples
    --------
    §1.3 row 2 ("B ahead, verified" with z, "too close to call" with t₂):

    >>> r = estimate_lead([120, 80, 150], [150, 140, 200], [300, 250, 400])
    >>> round(r.estimate, 6), round(r.se, 6), r.call_z, r.call_t
    (-0.147368, 0.036879, 'B ahead, verified', 'too close to call')
    """
    r = ratio_estimate(
        np.asarray(votes_a, np.float64) - np.asarray(votes_b, np.float64),
        valid,
        strata=strata,
        frame_sizes=frame_sizes,
    )
    return _lead_from(r.estimate, r.se, r.df, names[0], names[1], confidence)


# ---------------------------------------------------------------------------------------------
# the full quick count from protocol copies
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuantityEstimate:
    """One estimated quantity (a fraction) with its linearised, t and bootstrap intervals."""

    name: str
    estimate: float
    se: float
    moe: float
    low: float
    high: float
    t_low: float
    t_high: float
    boot_low: float = float("nan")
    boot_high: float = float("nan")

    def to_dict(self) -> dict:

        return {k: jsonable(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class StratumReport:
    """Response in one design stratum and what was done about it."""

    name: str
    frame_stations: int
    reported: int
    estimated_in: str
    action: str = ""


@dataclass(frozen=True)
class QuickCountResult(ResultMixin):
    """Result of :func:`estimate`.

    ``quantities``: each candidate's share of valid votes (by name), ``turnout`` (ballots cast /
    registered) and ``invalid_share`` (invalid / ballots cast). ``lead``: the top two.
    ``nonresponse``: the method used for strata with < 2 reports; ``actions`` says what was done.
    """

    quantities: tuple[QuantityEstimate, ...]
    lead: LeadEstimate | None
    majority: str
    confidence: float
    z: float
    df: int
    n_reported: int
    n_frame: int
    n_strata: int
    n_groups: int
    strata_by: tuple[str, ...]
    nonresponse: str
    actions: tuple[str, ...]
    strata: tuple[StratumReport, ...]
    bootstrap_reps: int
    seed: int | None
    notes: tuple[str, ...] = ()
    #: copies left out by the checks before counting (docs/quickcount.md §5), with the reasons
    quarantined: tuple[QuarantinedCopy, ...] = ()
    #: control relations checked on every copy
    checks: tuple[str, ...] = ()
    #: copies from stations outside the (replaced) registered sample: listed, never counted
    off_sample: OffSample | None = None
    #: response of the registered sample (None without one)
    response: ResponseReport | None = None
    #: the registered sample's file and its registered SHA-256 (None without one)
    sample: dict | None = None

    _dict_exclude = ("strata",)

    def __getitem__(self, name: str) -> QuantityEstimate:
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(
            f"no estimate named {name!r}; have: {', '.join(q.name for q in self.quantities)}"
        )

    @property
    def candidates(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.quantities if q.name not in ("turnout", "invalid_share"))

    def summary(self) -> Summary:
        c = f"{100 * self.confidence:g} %"
        cands = sorted((self[n] for n in self.candidates), key=lambda q: -q.estimate)
        top = cands[0] if cands else None
        parts = [
            gettext("From {n} reported stations of a {frame}-station frame:").format(
                n=f"{self.n_reported:,}", frame=f"{self.n_frame:,}"
            )
        ]
        if top:
            parts.append(
                gettext("{name} {share} ± {moe} pp of valid votes ({level}).").format(
                    name=top.name, share=fmt_pct(top.estimate), moe=f"{100 * top.moe:.2f}", level=c
                )
            )
        if self.lead:
            parts.append(f"{cap(say(self.lead.call))}.")
        parts.append(f"{cap(say(self.majority))}.")
        if self.quarantined:
            n = len(self.quarantined)
            parts.append(
                note_plural(
                    *N_plural(
                        "{n} copy quarantined by the checks before counting (not counted).",
                        "{n} copies quarantined by the checks before counting (not counted).",
                    ),
                    n,
                    n=f"{n:,}",
                ).say()
            )
        if self.off_sample is not None and self.off_sample.count:
            n = self.off_sample.count
            parts.append(
                note_plural(
                    *N_plural(
                        "{n} copy from stations outside the sample listed, not counted.",
                        "{n} copies from stations outside the sample listed, not counted.",
                    ),
                    n,
                    n=f"{n:,}",
                ).say()
            )
        text = " ".join(parts)
        rows = []
        for q in [*cands, self["turnout"], self["invalid_share"]]:
            boot = (
                ""
                if math.isnan(q.boot_low)
                else gettext("; bootstrap [{low}, {high}]").format(
                    low=fmt_pct(q.boot_low), high=fmt_pct(q.boot_high)
                )
            )
            value = gettext("{estimate} ± {moe} pp; t [{low}, {high}]").format(
                estimate=fmt_pct(q.estimate),
                moe=f"{100 * q.moe:.2f}",
                low=fmt_pct(q.t_low),
                high=fmt_pct(q.t_high),
            )
            rows.append((_label(QUANTITY_LABELS, q.name), value + boot))
        if self.lead:
            rows.append(
                (
                    gettext("lead {a} − {b}").format(a=self.lead.a, b=self.lead.b),
                    gettext("{lead} pp, z {z}, t {t}").format(
                        lead=f"{100 * self.lead.estimate:+.2f}",
                        z=_fmt_iv(self.lead.interval_z),
                        t=_fmt_iv(self.lead.interval_t),
                    ),
                )
            )
        rows += [
            (gettext("stations reported"), f"{self.n_reported:,}"),
            (gettext("strata (after collapsing)"), f"{self.n_strata} ({self.n_groups})"),
            (gettext("non-reporting strata"), _label(NONRESPONSE_LABELS, self.nonresponse)),
            (gettext("degrees of freedom (t)"), str(self.df)),
            (gettext("copies quarantined (not counted)"), f"{len(self.quarantined):,}"),
        ]
        if self.off_sample is not None:
            ids = ", ".join(self.off_sample.station_ids[:20])
            more = "…" if self.off_sample.count > 20 else ""
            rows.append(
                (
                    gettext("copies from outside the sample (not counted)"),
                    f"{self.off_sample.count:,}" + (f": {ids}{more}" if ids else ""),
                )
            )
        if self.response is not None:
            rows += self.response.lines()
        notes = [say(n) for n in self.notes]
        for qc in self.quarantined[:20]:
            notes.append(
                gettext("Quarantined {station}: {reasons}.").format(
                    station=qc.station_id, reasons="; ".join(say(r) for r in qc.reasons)
                )
            )
        if len(self.quarantined) > 20:
            notes.append(
                gettext("… and {n} more quarantined copies (see JSON).").format(
                    n=len(self.quarantined) - 20
                )
            )
        if self.response is not None and self.response.arrival_note:
            notes.append(say(self.response.arrival_note))
        notes += [say(a) for a in self.actions[:20]]
        if len(self.actions) > 20:
            notes.append(
                gettext("… and {n} more stratum adjustments.").format(n=len(self.actions) - 20)
            )
        return Summary(gettext("Quick count (PVT)"), text, rows, notes)


def _candidate_columns(copies: ProtocolCopies, election: Election) -> tuple[list[str], list[str]]:
    """Map copy columns to the frame's candidates (by id, name or party)."""
    lookup: dict[str, Candidate] = {}
    for c in election.candidates:
        for key in (c.id, c.name, c.party, c.source_column):
            if key:
                lookup.setdefault(key.casefold(), c)
    cols, issues = {}, []
    for col in copies.candidates:
        found = lookup.get(col.casefold())
        if found is None:
            issues.append(
                DataIssue(
                    copies.source,
                    "column is neither a protocol field nor a candidate of the frame",
                    line=1,
                    column=col,
                    expected="one of " + ", ".join(x.name for x in election.candidates),
                )
            )
        else:
            cols[found.id] = col
    for c in election.candidates:
        if c.id not in cols:
            issues.append(
                DataIssue(
                    copies.source,
                    f"no column for candidate {c.name!r}",
                    line=1,
                    expected=f"a column named {c.id!r} or {c.name!r}",
                )
            )
    if issues:
        raise InputDataError(
            f"{copies.source}: candidate columns do not match the frame:\n"
            + "\n".join(f"- {i}" for i in issues),
            issues,
        )
    return [cols[c.id] for c in election.candidates], [c.name for c in election.candidates]


@dataclass(frozen=True)
class _Data:
    Z: np.ndarray  # columns: candidates..., valid, invalid, registered
    codes: np.ndarray  # frame stratum of each report
    order: np.ndarray  # arrival rank
    names: list[str]


def _prepare(copies: ProtocolCopies, frame: Frame) -> _Data:
    cols, names = _candidate_columns(copies, frame.election)
    pos = {s: i for i, s in enumerate(frame.station_ids)}
    ids = copies.table["station_id"].to_list()
    idx = [pos.get(s, -1) for s in ids]
    bad = [
        DataIssue(
            copies.source,
            "station is not in the sampling frame",
            line=i + 2,
            column="station_id",
            station_id=s,
            hint="check the id, or the frame's exclusions (pollwatch ingest)",
        )
        for i, (s, j) in enumerate(zip(ids, idx, strict=True))
        if j < 0
    ]
    if bad:
        raise InputDataError(
            f"{copies.source}: {len(bad)} station(s) not in the frame:\n"
            + "\n".join(f"- {i}" for i in bad[:20]),
            bad,
        )
    t = copies.table
    used = [*cols, "valid", "invalid", "registered"]
    blank = [c for c in used if t[c].null_count()]
    if blank:  # screen_copies quarantines these first; a blank is never counted as 0
        raise ValueError(f"copies ({copies.source}) have blank cells in {blank}: screen them first")
    Z = np.column_stack([t[c].to_numpy() for c in used]).astype(np.float64)
    if ARRIVED in t.columns:
        order = np.argsort(np.argsort(t[ARRIVED].to_numpy(), kind="stable"), kind="stable")
    else:
        order = np.arange(t.height)
    return _Data(Z=Z, codes=frame.codes[np.asarray(idx, dtype=np.int64)], order=order, names=names)


def _group_strata(
    frame: Frame, reported: np.ndarray, method: Nonresponse
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Strata → estimation groups with ≥ 2 reports each; returns group per stratum, N per group, actions."""
    H = len(frame.names)
    group = np.arange(H)
    N = frame.sizes.astype(np.float64).copy()
    n = reported.astype(np.int64).copy()
    actions: list[str] = []
    if method == "poststratify":
        for parent in sorted(set(frame.parents)):
            siblings = [h for h in range(H) if frame.parents[h] == parent]
            empty = [h for h in siblings if n[h] == 0]
            live = [h for h in siblings if n[h] > 0]
            if empty and live:
                factor = N[siblings].sum() / N[live].sum()
                N[live] *= factor
                N[empty] = 0
                fields = dict(
                    n=len(empty),
                    strata=f"{', '.join(frame.names[h] for h in empty[:5])}"
                    f"{'…' if len(empty) > 5 else ''}",
                    live=len(live),
                    factor=f"{factor:.3f}",
                )
                actions.append(
                    note(
                        N_(
                            "post-stratified in {parent}: {n} stratum/strata without reports "
                            "({strata}); the {live} reporting strata there were re-weighted by "
                            "×{factor} to represent all their stations"
                        ),
                        parent=repr(parent),
                        **fields,
                    )
                    if parent
                    else note(
                        N_(
                            "post-stratified: {n} stratum/strata without reports ({strata}); "
                            "the {live} reporting strata there were re-weighted by ×{factor} to "
                            "represent all their stations"
                        ),
                        **fields,
                    )
                )
        # emptied strata are finished; the ones with a single report are collapsed below
        done = N == 0
    else:
        done = np.zeros(H, dtype=bool)
    alive = ~done
    members: dict[str, list[int]] = {}
    for h in range(H):
        members.setdefault(frame.parents[h], []).append(h)
    changed = True
    while changed and alive.sum() > 1:
        changed = False
        for g in np.flatnonzero(alive & (n < 2)):
            if not alive[g] or n[g] >= 2 or alive.sum() < 2:
                continue
            same = [o for o in members[frame.parents[g]] if alive[o] and o != g]
            pool = same or [int(o) for o in np.flatnonzero(alive) if o != g]
            target = min(pool, key=lambda o: (abs(o - g), o))  # noqa: B023 - used at once
            group[g] = target
            N[target] += N[g]
            n[target] += n[g]
            N[g], alive[g], changed = 0, False, True
            fields = dict(
                stratum=repr(frame.names[g]),
                n=reported[g],
                stations=frame.sizes[g],
                target=repr(frame.names[target]),
            )
            actions.append(
                note(
                    N_(
                        "collapsed stratum {stratum} ({n} report(s), {stations} stations) into "
                        "neighbouring {target}"
                    ),
                    **fields,
                )
                if same
                else note(
                    N_(
                        "collapsed stratum {stratum} ({n} report(s), {stations} stations) into "
                        "neighbouring {target} (none left in the same parent group: merged "
                        "across groups)"
                    ),
                    **fields,
                )
            )
    # follow merge chains to the surviving stratum
    for h in range(H):
        r = h
        while group[r] != r:
            r = group[r]
        group[h] = r
    return group, N, actions


def _quantities(T: np.ndarray, K: int) -> np.ndarray:
    """Ratios (…, K + 2) from totals (…, K + 3): shares of valid, turnout, invalid share."""
    votes, valid, invalid, reg = T[..., :K], T[..., K], T[..., K + 1], T[..., K + 2]
    cast = valid + invalid
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.concatenate(
            [votes / valid[..., None], (cast / reg)[..., None], (invalid / cast)[..., None]],
            axis=-1,
        )


TURNOUT = "turnout"
INVALID_SHARE = "invalid_share"


def _index(names: tuple[str, ...], name: str, what: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise KeyError(f"no {what} named {name!r}; have: {', '.join(names)}") from None


@dataclass(frozen=True, eq=False)
class BootstrapDraws:
    """Rao–Wu bootstrap replicates of the quick-count ratios, with named axes.

    ``quantities`` has one row per replicate (axis 0) and one column per quantity (axis 1, in
    the order of ``names``: each candidate's share of valid votes, then ``turnout`` and
    ``invalid_share``); ``lead`` has one value per replicate, the lead of the top two candidates
    over valid votes. Intervals are percentiles at ``confidence``; replicates where a ratio is
    undefined (NaN) are left out.
    """

    names: tuple[str, ...]
    quantities: np.ndarray  # (replicate, quantity)
    lead: np.ndarray  # (replicate,)
    confidence: float
    entropy: int  # of the root seed, recorded on the result

    @property
    def replicates(self) -> int:
        """Number of bootstrap replicates (axis 0)."""
        return int(self.quantities.shape[0])

    def _percentiles(self, draws: np.ndarray) -> ConfidenceInterval:
        alpha = (1 - self.confidence) / 2
        low, high = np.nanquantile(draws, [alpha, 1 - alpha])
        return ConfidenceInterval(float(low), float(high))

    def interval(self, name: str) -> ConfidenceInterval:
        """Percentile interval of one quantity (a candidate, ``turnout`` or ``invalid_share``).

        Parameters
        ----------
        name : str
            A name in :attr:`names`.

        Returns
        -------
        ConfidenceInterval
            ``(low, high)`` at :attr:`confidence`.
        """
        return self._percentiles(self.quantities[:, _index(self.names, name, "quantity")])

    def share(self, candidate: str) -> ConfidenceInterval:
        """Percentile interval of one candidate's share of valid votes.

        Parameters
        ----------
        candidate : str
            The candidate's name (one of the first ``len(names) - 2`` names).

        Returns
        -------
        ConfidenceInterval
            ``(low, high)`` at :attr:`confidence`.
        """
        return self._percentiles(
            self.quantities[:, _index(self.names[:-2], candidate, "candidate")]
        )

    def lead_interval(self) -> ConfidenceInterval:
        """Percentile interval of the lead of the top two candidates (share of valid votes)."""
        return self._percentiles(self.lead)


@dataclass(frozen=True)
class LeadPair:
    """The top two candidates (positions in the candidate columns) and the lead's estimate."""

    a: int
    b: int
    estimate: float
    se: float


@dataclass(frozen=True, eq=False)
class RunEstimates:
    """One pass of the estimator over a set of reports (what ``_run`` returns).

    ``estimate`` and ``se`` have one entry per quantity, in the order of ``names`` (candidates'
    shares of valid votes, then ``turnout`` and ``invalid_share``); read them by name with
    :meth:`point` and :meth:`std_error`. ``reported`` and ``group`` have one entry per design
    stratum: the reports it sent and the stratum it was estimated in after collapsing.
    """

    names: tuple[str, ...]
    estimate: np.ndarray  # (quantity,)
    se: np.ndarray  # (quantity,)
    df: int
    lead: LeadPair | None
    bootstrap: BootstrapDraws | None
    reported: np.ndarray  # (design stratum,)
    group: np.ndarray  # (design stratum,)
    n_groups: int
    actions: tuple[str, ...]

    @property
    def candidates(self) -> tuple[str, ...]:
        """The candidates' names (the quantities before turnout and invalid share)."""
        return self.names[:-2]

    def point(self, name: str) -> float:
        """Point estimate of the quantity ``name``."""
        return float(self.estimate[_index(self.names, name, "quantity")])

    def std_error(self, name: str) -> float:
        """Linearised standard error of the quantity ``name``."""
        return float(self.se[_index(self.names, name, "quantity")])


def _run(
    data: _Data,
    frame: Frame,
    rows: np.ndarray,
    method: Nonresponse,
    confidence: float,
    bootstrap: int,
    seed,
    execution: Execution | str | None = None,
) -> RunEstimates:
    """Estimate from the reports in ``rows``: point estimates, variances, bootstrap draws."""
    codes = data.codes[rows]
    Z = data.Z[rows]
    K = Z.shape[1] - 3
    names = (*data.names, TURNOUT, INVALID_SHARE)
    reported = np.bincount(codes, minlength=len(frame.names))
    group, N, actions = _group_strata(frame, reported, method)
    gcodes = group[codes]
    valid, invalid, reg = Z[:, K], Z[:, K + 1], Z[:, K + 2]
    p_c, v_c = ratio_and_variance(Z[:, :K], valid, gcodes, N)
    p_t, v_t = ratio_and_variance(valid + invalid, reg, gcodes, N)
    p_i, v_i = ratio_and_variance(invalid, valid + invalid, gcodes, N)
    est = np.concatenate([p_c, p_t, p_i])
    se = np.sqrt(np.concatenate([v_c, v_t, v_i]))
    live = np.unique(gcodes)
    df = len(rows) - len(live)
    order = np.argsort(-p_c)
    lead = None
    if K >= 2:
        a, b = int(order[0]), int(order[1])
        d, vd = ratio_and_variance(Z[:, a] - Z[:, b], valid, gcodes, N)
        lead = LeadPair(a=a, b=b, estimate=float(d[0]), se=float(math.sqrt(vd[0])))
    draws = None
    if bootstrap:
        draws = _bootstrap(
            Z, gcodes, N, live, K, lead, names, confidence, bootstrap, seed, execution
        )
    return RunEstimates(
        names=names,
        estimate=est,
        se=se,
        df=df,
        lead=lead,
        bootstrap=draws,
        reported=reported,
        group=group,
        n_groups=len(live),
        actions=tuple(actions),
    )


def _bootstrap(
    Z: np.ndarray,
    gcodes: np.ndarray,
    N: np.ndarray,
    live: np.ndarray,
    K: int,
    lead: LeadPair | None,
    names: tuple[str, ...],
    confidence: float,
    bootstrap: int,
    seed,
    execution: Execution | str | None = None,
) -> BootstrapDraws:
    """Rao–Wu replicates of the totals within estimation groups, turned into ratios."""
    blocks = []
    n_g = np.bincount(gcodes, minlength=len(N))
    for g in live:
        blocks.append(
            (
                N[g] / n_g[g],
                np.column_stack([Z[gcodes == g], Z[gcodes == g, :K] @ _unit(K, lead)]),
            )
        )
    chunks = max(1, min(8, bootstrap // 250))
    entropy, seeds = spawn_seeds(seed, chunks)
    reps = [bootstrap // chunks + (1 if i < bootstrap % chunks else 0) for i in range(chunks)]
    T = np.concatenate(
        run_tasks(boot_chunk, [(s, blocks, r) for s, r in zip(seeds, reps, strict=True)], execution)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        lead_draws = T[:, -1] / T[:, K]
    return BootstrapDraws(
        names=names,
        quantities=_quantities(T[:, :-1], K),
        lead=lead_draws,
        confidence=confidence,
        entropy=entropy,
    )


def _unit(K: int, lead: LeadPair | None) -> np.ndarray:
    u = np.zeros(K)
    if lead is not None:
        u[lead.a], u[lead.b] = 1.0, -1.0
    return u


def estimate(
    copies: ProtocolCopies | pl.DataFrame,
    frame: Election,
    *,
    strata: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    bootstrap: int = 0,
    seed: int | None = None,
    nonresponse: Nonresponse = "collapse",
    majority: float = 0.5,
    execution: Execution | str | None = None,
    sample: RegisteredSample | None = None,
) -> QuickCountResult:
    """Stratified combined ratio estimates of every candidate's share, turnout and invalid share.

    Copies are checked first (docs/quickcount.md §5): a copy failing a control relation of the
    frame's country profile, or with a blank candidate, ``valid``, ``invalid`` or ``registered``
    cell, is quarantined (listed with the reasons, never counted). With ``sample``, only the
    copies of its active stations (after replacements) are counted, with the sample's strata and
    ``N_h``; copies from any other station are listed in ``off_sample``; the response is
    reported overall, by stratum and by the hour (§6).

    Intervals: linearised normal (``z``), small-sample ``t`` with ``k − H`` df, and, with
    ``bootstrap`` replicates, a Rao–Wu rescaling bootstrap within strata (percentile; no FPC).

    Parameters
    ----------
    copies : ProtocolCopies or polars.DataFrame
        The protocol copies of the sampled stations.
    frame : Election
        The election whose station list the sample was drawn from (its results are not used,
        only the station ids and strata; use a past or the current official file).
    strata : str or sequence of str, optional
        The same stratification as the draw (:func:`~pollwatch.quickcount.design.draw_sample`);
        not with ``sample``, which carries its strata.
    confidence : float
        Level of every interval.
    bootstrap : int
        Rao–Wu bootstrap replicates (0: none).
    seed : int, optional
        Seed of the bootstrap (its entropy is recorded on the result).
    nonresponse : {"collapse", "poststratify"}
        Strata with fewer than 2 reports are merged into a neighbouring stratum of the same
        parent (``collapse``) or, for strata with no report, the reporting strata of the same
        parent are re-weighted to stand for them (``poststratify``); the result lists each
        action.
    majority : float
        Threshold of the majority call on the leader's share (0.5: 50 % + 1).
    execution : Execution or str, optional
        Where the bootstrap chunks run (:class:`pollwatch.compute.Execution`; the replicates
        are the same on any).
    sample : RegisteredSample, optional
        The registered sample (:func:`~pollwatch.quickcount.sample.read_sample`) with its
        replacements applied.

    Returns
    -------
    QuickCountResult
        One :class:`QuantityEstimate` per candidate, ``turnout`` and ``invalid_share``, the
        lead of the top two, the majority call and what was done about non-response.

    Examples
    --------
    >>> from pollwatch.quickcount.design import draw_sample
    >>> from pollwatch.quickcount.simulation import copies_from, simulate_frame
    >>> frame = simulate_frame(11, stations=2000, regions=8)
    >>> ids = draw_sample(frame, 240, strata="region", seed=4).table["station_id"]
    >>> r = estimate(copies_from(frame, ids), frame, strata="region", bootstrap=300, seed=9)
    >>> round(r["Candidate A"].estimate, 4), r.lead.call
    (0.3682, 'Candidate C ahead, verified')
    """
    if nonresponse not in ("collapse", "poststratify"):
        raise ValueError(
            f"nonresponse ({nonresponse!r}) not recognised; must be 'collapse' or 'poststratify'"
        )
    if bootstrap < 0:
        raise ValueError(f"bootstrap ({bootstrap}) must be in the interval [0, inf)")
    if isinstance(copies, pl.DataFrame):
        copies = ProtocolCopies.from_frame(copies)
    fr, copies, off = _frame_for(copies, frame, strata, sample)
    screen = _screen(copies, frame)
    data = _prepare(screen.kept, fr)
    res = _result(
        data,
        fr,
        np.arange(len(data.Z)),
        nonresponse,
        confidence,
        bootstrap,
        seed,
        majority,
        execution,
    )
    response = None
    if sample is not None:
        smp, active = sample, sample.active_ids()
        stratum = {s.station_id: s.stratum for s in sample.stations}
        kept = screen.kept.table
        replaced: dict[str, int] = {}
        for r in smp.replacements:
            replaced[r.stratum] = replaced.get(r.stratum, 0) + 1
        response = response_report(
            [(s, stratum[s]) for s in active],
            smp.strata,
            replaced,
            copies.table["station_id"].cast(pl.Utf8).to_list(),
            kept["station_id"].cast(pl.Utf8).to_list(),
            kept[ARRIVED].cast(pl.Utf8).to_list() if ARRIVED in kept.columns else None,
            off.count if off is not None else 0,
        )
    return replace(
        res,
        quarantined=screen.quarantined,
        checks=screen.rules_checked,
        off_sample=off,
        response=response,
        sample=None
        if sample is None
        else {"file": sample.source, "csv_sha256": sample.csv_sha256, "seed": sample.seed},
        notes=res.notes + _screen_notes(screen),
    )


def _frame_for(
    copies: ProtocolCopies,
    frame: Election,
    strata: str | Sequence[str] | None,
    sample: RegisteredSample | None,
) -> tuple[Frame, ProtocolCopies, OffSample | None]:
    """The frame (the sample's strata and N_h with a registered sample), the copies that count
    and those from outside the active sample (docs/quickcount.md §3, §6)."""
    if sample is None:
        return build_frame(frame, strata), copies, None
    if strata is not None:
        raise ValueError(
            f"strata ({strata!r}) cannot be given with a registered sample: its strata are "
            f"recorded in {sample.source}"
        )
    active = sample.active_ids()
    stratum = {s.station_id: s.stratum for s in sample.stations}
    fr = sample_frame(
        frame,
        sample.strata_by,
        active,
        [stratum[s] for s in active],
        {k: v[0] for k, v in sample.strata.items()},
        sample.source,
    )
    ids = copies.table["station_id"].cast(pl.Utf8)
    inside = ids.is_in(list(active))
    kept = ProtocolCopies(
        copies.table.filter(inside), copies.fields, copies.candidates, copies.source
    )
    return fr, kept, OffSample(tuple(ids.filter(~inside).to_list()))


def _screen(copies: ProtocolCopies, frame: Election) -> CopyScreen:
    """The checks before counting (docs/quickcount.md §5) with the frame's country profile."""
    cols, _ = _candidate_columns(copies, frame)
    return screen_copies(copies, cols, frame.meta.profile or "generic")


def _screen_notes(screen: CopyScreen) -> tuple[str, ...]:
    notes: list[str] = [
        note(N_("Checked before counting: {rules}."), rules=", ".join(screen.rules_checked))
        if screen.rules_checked
        else note(N_("Checked before counting: no rule."))
    ]
    if screen.rules_skipped:
        notes.append(
            note(
                N_("Not checked (lines missing from the copies): {rules}."),
                rules=Join(
                    "; ",
                    (
                        note(N_("{rule} ({why})"), rule=k, why=v)
                        for k, v in screen.rules_skipped.items()
                    ),
                ),
            )
        )
    if screen.partly_checked:
        notes.append(
            note(
                N_(
                    "{n} counted cop(ies) had a blank optional line, so a rule reading it could "
                    "not be checked there."
                ),
                n=screen.partly_checked,
            )
        )
    return tuple(notes)


def _result(
    data: _Data,
    fr: Frame,
    rows: np.ndarray,
    nonresponse,
    confidence,
    bootstrap,
    seed,
    majority,
    execution: Execution | str | None = None,
) -> QuickCountResult:
    notes: list[str] = []
    if len(rows) < 2:
        warnings.warn(
            note(N_("only {n} protocol copies: no estimate possible"), n=len(rows)),
            SmallSampleWarning,
            stacklevel=3,
        )
        nan = float("nan")
        empty = tuple(
            QuantityEstimate(
                name=n, estimate=nan, se=nan, moe=nan, low=nan, high=nan, t_low=nan, t_high=nan
            )
            for n in [*data.names, TURNOUT, INVALID_SHARE]
        )
        return QuickCountResult(
            quantities=empty,
            lead=None,
            majority=note(N_("no estimate")),
            confidence=confidence,
            z=z_value(confidence),
            df=0,
            n_reported=len(rows),
            n_frame=fr.n,
            n_strata=len(fr.names),
            n_groups=0,
            strata_by=fr.by,
            nonresponse=nonresponse,
            actions=(),
            strata=(),
            bootstrap_reps=0,
            seed=None,
            notes=(note(N_("Fewer than 2 protocol copies: nothing can be estimated.")),),
        )
    run = _run(data, fr, rows, nonresponse, confidence, bootstrap, seed, execution)
    draws = run.bootstrap
    z, t = z_value(confidence), _t_quantile(confidence, run.df)
    qs = []
    for name in run.names:
        e, s = run.point(name), run.std_error(name)
        bl, bh = draws.interval(name) if draws is not None else (float("nan"),) * 2
        qs.append(
            QuantityEstimate(
                name=name,
                estimate=e,
                se=s,
                moe=z * s,
                low=e - z * s,
                high=e + z * s,
                t_low=e - t * s,
                t_high=e + t * s,
                boot_low=bl,
                boot_high=bh,
            )
        )
    lead = None
    maj = note(N_("no candidates"))
    if run.lead is not None:
        pair = run.lead
        a, b = data.names[pair.a], data.names[pair.b]
        lead = _lead_from(pair.estimate, pair.se, run.df, a, b, confidence)
        if draws is not None:
            lead = replace(lead, interval_boot=draws.lead_interval())
        top = qs[pair.a]
        maj = majority_call(top.t_low, top.t_high, top.name, majority)
    if run.df < 30:
        notes.append(
            note(
                N_("Only {df} degrees of freedom: read the t intervals, not the normal ones."),
                df=run.df,
            )
        )
        warnings.warn(
            note(
                N_("small quick-count sample ({n} stations, {strata} strata)"),
                n=len(rows),
                strata=run.n_groups,
            ),
            SmallSampleWarning,
            stacklevel=3,
        )
    if draws is not None:
        notes.append(
            note(
                N_("Bootstrap: {n} Rao–Wu replicates within strata, seed entropy {seed}."),
                n=bootstrap,
                seed=draws.entropy,
            )
        )
    missing = int((run.reported == 0).sum())
    if missing:
        notes.append(
            note(
                N_("{n} of {strata} strata sent no report; see the stratum adjustments."),
                n=missing,
                strata=len(fr.names),
            )
        )
    if any(q.se == 0 for q in qs[: len(data.names)] if not math.isnan(q.se)):
        warnings.warn(
            note(N_("zero variance for some share: the sample is degenerate")),
            DegenerateDataWarning,
            stacklevel=3,
        )
        notes.append(note(N_("Some shares have zero variance in the sample (degenerate data).")))
    group = run.group
    strata_rep = tuple(
        StratumReport(
            name=fr.names[h],
            frame_stations=int(fr.sizes[h]),
            reported=int(run.reported[h]),
            estimated_in=fr.names[group[h]],
            action="" if group[h] == h else "collapsed",
        )
        for h in range(len(fr.names))
    )
    return QuickCountResult(
        quantities=tuple(qs),
        lead=lead,
        majority=maj,
        confidence=confidence,
        z=z,
        df=run.df,
        n_reported=len(rows),
        n_frame=fr.n,
        n_strata=len(fr.names),
        n_groups=run.n_groups,
        strata_by=fr.by,
        nonresponse=nonresponse,
        actions=run.actions,
        strata=strata_rep,
        bootstrap_reps=bootstrap,
        seed=draws.entropy if draws is not None else None,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# breakdowns and convergence
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BreakdownRow:
    label: str
    reported: int
    frame_stations: int
    leader_share: float
    leader_moe: float
    turnout: float
    turnout_moe: float
    warning: str = ""


@dataclass(frozen=True)
class BreakdownResult(ResultMixin):
    """Estimates within each label of a hierarchy level; ``warning`` set where a cell is too small."""

    level: str
    candidate: str
    min_stations: int
    rows: tuple[BreakdownRow, ...]

    def summary(self) -> Summary:
        small = sum(1 for r in self.rows if r.warning)
        rows = [
            (
                r.label,
                gettext("{share} ± {moe} pp; turnout {turnout} ({n} stations)").format(
                    share=fmt_pct(r.leader_share),
                    moe=f"{100 * r.leader_moe:.1f}",
                    turnout=fmt_pct(r.turnout),
                    n=r.reported,
                )
                + (" — " + say(r.warning) if r.warning else ""),
            )
            for r in self.rows
        ]
        notes = (
            [
                gettext(
                    "{n} cells have fewer than {min} reporting stations: their margins are "
                    "unreliable."
                ).format(n=small, min=self.min_stations)
            ]
            if small
            else []
        )
        return Summary(
            gettext("Quick count by {level}").format(level=self.level),
            gettext("{name}'s share of valid votes by {level}.").format(
                name=self.candidate, level=self.level
            ),
            rows,
            notes,
        )


def breakdown(
    copies: ProtocolCopies,
    frame: Election,
    level: str,
    *,
    strata: str | Sequence[str] | None = None,
    candidate: str | None = None,
    min_stations: int = 10,
    confidence: float = 0.95,
) -> BreakdownResult:
    """Sub-national estimates: the estimator run within each label of ``level`` (strata within it).

    Parameters
    ----------
    copies : ProtocolCopies
        The protocol copies of the sampled stations.
    frame : Election
        The sampling frame (see :func:`estimate`).
    level : str
        Column of the station table whose labels are the cells (e.g. a hierarchy level).
    strata : str or sequence of str, optional
        The stratification of the draw.
    candidate : str, optional
        Whose share to report (default: the candidate under scrutiny).
    min_stations : int
        Cells with fewer reports carry a warning (and one SmallSampleWarning is issued for
        all of them).
    confidence : float
        Level of the margins of error.

    Returns
    -------
    BreakdownResult
        One row per label: reports, frame stations, the candidate's share and turnout with
        their margins of error.
    """
    fr = build_frame(frame, strata)
    copies = _screen(copies, frame).kept  # quarantined copies never count (docs/quickcount.md §5)
    data = _prepare(copies, fr)
    name = frame.candidate(candidate).name
    labels = frame.table[level].cast(pl.Utf8).fill_null("").to_numpy()[fr.mask]
    pos = {s: i for i, s in enumerate(fr.station_ids)}
    copy_lab = labels[[pos[s] for s in copies.table["station_id"].to_list()]]
    out, small = [], []
    for lab in sorted(set(labels)):
        rows = np.flatnonzero(copy_lab == lab)
        n_frame = int((labels == lab).sum())
        warn = ""
        if len(rows) < min_stations:
            warn = note(N_("only {n} reporting stations (< {min})"), n=len(rows), min=min_stations)
            small.append(lab)
        if len(rows) < 2:
            nan = float("nan")
            out.append(
                BreakdownRow(
                    label=str(lab),
                    reported=len(rows),
                    frame_stations=n_frame,
                    leader_share=nan,
                    leader_moe=nan,
                    turnout=nan,
                    turnout_moe=nan,
                    warning=warn,
                )
            )
            continue
        cell = labels == lab
        codes = fr.codes[cell]
        uniq, inv = np.unique(codes, return_inverse=True)
        sub = Frame(
            election=fr.election,
            by=fr.by,
            mask=fr.mask,
            station_ids=fr.station_ids[cell],
            codes=inv,
            names=tuple(fr.names[u] for u in uniq),
            sizes=fr.sizes[uniq],
            parents=tuple(fr.parents[u] for u in uniq),
        )
        remap = {u: i for i, u in enumerate(uniq)}
        sd = _Data(
            Z=data.Z[rows],
            codes=np.array([remap[c] for c in data.codes[rows]]),
            order=data.order[rows],
            names=data.names,
        )
        run = _run(sd, sub, np.arange(len(rows)), "collapse", confidence, 0, None)
        z = z_value(confidence)
        out.append(
            BreakdownRow(
                label=str(lab),
                reported=len(rows),
                frame_stations=n_frame,
                leader_share=run.point(name),
                leader_moe=z * run.std_error(name),
                turnout=run.point(TURNOUT),
                turnout_moe=z * run.std_error(TURNOUT),
                warning=warn,
            )
        )
    if small:
        warnings.warn(
            f"{len(small)} {level} cells have fewer than {min_stations} reporting stations",
            SmallSampleWarning,
            stacklevel=2,
        )
    return BreakdownResult(level=level, candidate=name, min_stations=min_stations, rows=tuple(out))


def convergence_verdict(z: float) -> Note:
    """The early/late verdict for the test statistic ``z`` (English ``str``; ``_text.say`` writes
    it in the display language, e.g. from the ``z`` of a stored ``to_dict()``)."""
    if math.isnan(z):
        return note(N_("The early/late comparison is undefined (zero variance)."))
    if abs(z) > 3:
        return note(
            N_(
                "Early and late reporters differ significantly (|z| = {z} > 3): partial figures "
                "were biased; only the complete sample's estimate should be published."
            ),
            z=f"{abs(z):.1f}",
        )
    if abs(z) > 1.96:
        return note(
            N_("Some evidence that early and late reporters differ (|z| = {z})."), z=f"{abs(z):.1f}"
        )
    return note(
        N_("No evidence of bias between early and late reporters (|z| = {z})."), z=f"{abs(z):.1f}"
    )


@dataclass(frozen=True)
class ConvergenceResult(ResultMixin):
    """Cumulative estimates of one candidate's share as reports arrive, and the early/late test.

    ``z`` compares the estimate from the first half of arrivals with the second half
    (independent halves, ``z = (p_early − p_late)/√(SE_e² + SE_l²)``); early reporters are often
    urban and fast, so a difference says the partial figures were biased, not the final one.
    """

    candidate: str
    steps: tuple[int, ...]
    cumulative: tuple[float, ...]
    cumulative_moe: tuple[float, ...]
    early: float
    late: float
    difference: float
    z: float
    pvalue: float
    verdict: str

    def summary(self) -> Summary:
        rows = [
            (
                gettext("after {n} reports").format(n=k),
                gettext("{share} ± {moe} pp").format(share=fmt_pct(p), moe=f"{100 * m:.2f}"),
            )
            for k, p, m in zip(self.steps, self.cumulative, self.cumulative_moe, strict=True)
        ]
        rows += [
            (gettext("early half"), fmt_pct(self.early)),
            (gettext("late half"), fmt_pct(self.late)),
            (
                gettext("difference"),
                gettext("{diff} pp (z = {z}, p = {p})").format(
                    diff=f"{100 * self.difference:+.2f}", z=f"{self.z:.2f}", p=f"{self.pvalue:.3g}"
                ),
            ),
        ]
        return Summary(
            gettext("Convergence of {name}'s share").format(name=self.candidate),
            say(self.verdict),
            rows,
        )


def convergence(
    copies: ProtocolCopies,
    frame: Election,
    *,
    strata: str | Sequence[str] | None = None,
    candidate: str | None = None,
    steps: int = 10,
    sample: RegisteredSample | None = None,
) -> ConvergenceResult:
    """Cumulative estimates by arrival order and a test of bias between early and late reporters.

    Strata without reports yet are post-stratified.

    Parameters
    ----------
    copies : ProtocolCopies
        The protocol copies, in arrival order by their ``arrived`` column (else file order).
    frame : Election
        The sampling frame (see :func:`estimate`).
    strata : str or sequence of str, optional
        The stratification of the draw.
    candidate : str, optional
        Whose share to follow (default: the candidate under scrutiny).
    steps : int
        Number of cumulative estimates, ``>= 1``.
    sample : RegisteredSample, optional
        Only the active sample's copies, with its strata (as in :func:`estimate`).

    Returns
    -------
    ConvergenceResult
        The cumulative estimates with margins, the early and late halves, ``z``, its p-value
        and a verdict.
    """
    if steps < 1:
        raise ValueError(f"steps ({steps}) must be in the interval [1, inf)")
    fr, copies, _ = _frame_for(copies, frame, strata, sample)
    copies = _screen(copies, frame).kept  # quarantined copies never count (docs/quickcount.md §5)
    data = _prepare(copies, fr)
    name = frame.candidate(candidate).name
    by_arrival = np.argsort(data.order, kind="stable")
    n = len(by_arrival)
    marks = sorted({max(2, round(n * (i + 1) / steps)) for i in range(steps)})
    z = z_value(0.95)
    cum, moe = [], []
    for m in marks:
        run = _run(data, fr, by_arrival[:m], "poststratify", 0.95, 0, None)
        cum.append(run.point(name))
        moe.append(z * run.std_error(name))
    half = n // 2
    re = _run(data, fr, by_arrival[:half], "poststratify", 0.95, 0, None)
    rl = _run(data, fr, by_arrival[half:], "poststratify", 0.95, 0, None)
    pe, pl_ = re.point(name), rl.point(name)
    se = math.hypot(re.std_error(name), rl.std_error(name))
    zz = (pe - pl_) / se if se > 0 else float("nan")
    pv = float(2 * stats.norm.sf(abs(zz))) if se > 0 else float("nan")
    verdict = convergence_verdict(zz)
    return ConvergenceResult(
        candidate=name,
        steps=tuple(marks),
        cumulative=tuple(cum),
        cumulative_moe=tuple(moe),
        early=pe,
        late=pl_,
        difference=pe - pl_,
        z=zz,
        pvalue=pv,
        verdict=verdict,
    )
