"""Coverage-corrected estimate from a partial, non-random collection of tally sheets.

Method (``docs/census.md`` §2): a post-stratified *separate ratio estimator* (Cochran 1977,
*Sampling Techniques*, §6.10, eq. 6.36; post-stratification: Lohr 2019, *Sampling: Design and
Analysis*, §4.4) with a Woodruff linearised variance (Lohr 2019 §9.1; Wolter 2007 ch. 6).

Post-strata are the official station list's region (or any column named) crossed with station
size classes (tertiles of registered voters within the region, when registered voters are known
for every station). Size classes matter: collections are urban first, and large stations are the
urban ones; within a post-stratum the collected sheets stand for the uncollected ones.

In post-stratum ``h`` with ``N_h`` stations, of which ``n_h`` collected, and an auxiliary ``x``
known for every station (registered voters, or 1 for a plain expansion):

    T̂_c = Σ_h X_h · (Σ_{s_h} y_c / Σ_{s_h} x),   share_c = T̂_c / Σ_k T̂_k,

Assumption, stated in every result: **within a post-stratum, whether a sheet was collected is
unrelated to how the station voted** (missing at random given the post-strata). Where that
fails the interval can miss; the worst-case bound (:mod:`pollwatch.census.bound`) needs no
such assumption.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.i18n import gettext, note, translated
from pollwatch.results import ConfidenceInterval, ResultMixin, Summary, fmt_int, fmt_pct

__all__ = [
    "CensusEstimate",
    "Quantity",
    "SETTLEMENT_COLUMNS",
    "coverage_corrected_estimate",
    "post_strata",
    "selection_check",
]

#: columns of an official station list that say urban or rural; used as post-strata by default
#: because collections go urban first (``docs/census.md`` §2.2)
SETTLEMENT_COLUMNS = ("urban", "settlement", "settlement_type", "area_type", "locality_type")


@dataclass(frozen=True)
class Quantity:
    """One estimated quantity: point estimate, standard error and t-interval."""

    name: str
    estimate: float
    std_error: float
    interval: ConfidenceInterval
    unit: str  # "share" (a fraction) or "votes"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "interval": list(self.interval),
            "unit": self.unit,
        }


@dataclass(frozen=True)
class CensusEstimate(ResultMixin):
    """Coverage-corrected totals and shares (``docs/census.md`` §2)."""

    quantities: tuple[Quantity, ...]
    auxiliary: str
    strata: tuple[str, ...]
    n_strata: int
    collected: int
    stations: int
    df: int
    confidence: float
    notes: tuple[str, ...]

    @property
    def assumption(self) -> str:
        parts: list[str] = (
            [*self.strata, note("station size")]
            if self.auxiliary.startswith("registered")
            else [*self.strata] or [note("all stations")]
        )
        cells = parts[0]
        for more in parts[1:]:  # "a × b × station size", each part said in words where shown
            cells = note("{first} × {second}", first=cells, second=more)
        return note(
            "within each post-stratum ({cells}), stations whose sheet was collected vote like "
            "those whose sheet was not",
            cells=cells,
        )

    def __getitem__(self, name: str) -> Quantity:
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(f"no estimate named {name!r}; have {', '.join(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.quantities)

    def parameters(self) -> dict:
        return {
            "auxiliary": self.auxiliary,
            "strata": list(self.strata),
            "confidence": self.confidence,
        }

    def summary(self) -> Summary:
        shares = [q for q in self.quantities if q.name.startswith("share:")]
        lead = max(shares, key=lambda q: q.estimate) if shares else None
        said = [
            gettext(
                "From {collected} of {stations} stations' sheets, corrected for which stations "
                "were collected ({n_strata} post-strata, auxiliary: {auxiliary})."
            ).format(
                collected=f"{self.collected:,}",
                stations=f"{self.stations:,}",
                n_strata=self.n_strata,
                auxiliary=self.auxiliary,
            )
        ]
        if lead:
            said.append(
                gettext(
                    "{name} has an estimated {estimate} ({level} interval {low}–{high})."
                ).format(
                    name=lead.name[6:],
                    estimate=fmt_pct(lead.estimate),
                    level=f"{self.confidence:.0%}",
                    low=fmt_pct(lead.interval.low),
                    high=fmt_pct(lead.interval.high),
                )
            )
        said.append(gettext("Assumes {assumption}.").format(assumption=translated(self.assumption)))
        text = " ".join(said)
        rows = [
            (
                q.name,
                f"{fmt_pct(q.estimate)} [{fmt_pct(q.interval.low)}, {fmt_pct(q.interval.high)}]"
                if q.unit == "share"
                else f"{fmt_int(q.estimate)} [{fmt_int(q.interval.low)}, {fmt_int(q.interval.high)}]",
            )
            for q in self.quantities
        ]
        return Summary("Coverage-corrected estimate", text, rows, list(self.notes))


def post_strata(
    frame: pl.DataFrame,
    by: Sequence[str],
    *,
    collected: np.ndarray,
    x: np.ndarray | None,
    size_classes: int = 3,
) -> tuple[np.ndarray, list[str]]:
    """Post-stratum code per station, collapsed until every stratum has ≥ 2 collected sheets.

    Cells are ``by`` × size class (quantiles of ``x`` within the ``by`` group). A cell with fewer
    than two collected sheets is merged first across size classes of its group, then into one
    pool of all such groups; every merge is returned as a note.
    """
    n = frame.height
    notes: list[str] = []
    group = (
        frame.select(
            pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("∅") for c in by], separator=" / ")
        )
        .to_series()
        .to_numpy()
        if by
        else np.full(n, "all", dtype=object)
    )
    labels = np.empty(n, dtype=object)
    for g in np.unique(group):
        m = group == g
        if x is not None and size_classes > 1 and m.sum() >= 2 * size_classes:
            qs = np.quantile(x[m], np.linspace(0, 1, size_classes + 1)[1:-1])
            cls = np.searchsorted(qs, x[m], side="right")
            cells = {k: f"{g} | size {k + 1}/{size_classes}" for k in range(size_classes)}
            if all(int((collected[m] & (cls == k)).sum()) >= 2 for k in range(size_classes)):
                labels[m] = [cells[k] for k in cls]
                continue
            notes.append(
                note("{group}: size classes merged (a class had fewer than 2 sheets)", group=g)
            )
        labels[m] = str(g)
    pooled = []
    for g in np.unique(labels):
        m = labels == g
        if int((collected & m).sum()) < 2:
            pooled.append(g)
            labels[m] = "(pooled small groups)"
    if pooled:
        notes.append(
            note(
                "{n} group(s) with fewer than 2 collected sheets pooled together: {groups}",
                n=len(pooled),
                groups=", ".join(map(str, pooled[:10])) + (" …" if len(pooled) > 10 else ""),
            )
        )
    pool = labels == "(pooled small groups)"
    if pool.any() and int((collected & pool).sum()) < 2:
        others = [g for g in np.unique(labels[~pool])]
        if others:  # still too thin: join the pool to the best-covered stratum
            best = max(others, key=lambda g: int((collected & (labels == g)).sum()))
            labels[pool] = best
            notes.append(note("the pooled groups were joined to {group}", group=repr(best)))
        else:
            labels[:] = "all"
            notes.append(note("too few sheets to post-stratify: one stratum"))
    codes = np.unique(labels, return_inverse=True)[1]
    return codes, notes


def coverage_corrected_estimate(
    votes: np.ndarray,
    candidates: Sequence[str],
    collected: np.ndarray,
    frame: pl.DataFrame,
    *,
    by: Sequence[str] = (),
    registered: np.ndarray | None = None,
    ballots: np.ndarray | None = None,
    confidence: float = 0.95,
    size_classes: int = 3,
) -> CensusEstimate:
    """Estimate every candidate's share and total votes (and turnout) for all stations.

    Parameters
    ----------
    votes : ndarray (N, K)
        Candidates' votes on the sheets, aligned to ``frame``'s stations (rows of uncollected
        stations are ignored).
    candidates : sequence of str
        Names of the K columns.
    collected : bool ndarray (N,)
        Stations with a usable sheet.
    frame : polars.DataFrame
        The official station list (one row per station) with the ``by`` columns.
    by : sequence of str
        Post-stratification columns (e.g. ``["region"]``).
    registered : ndarray (N,), optional
        Registered voters of every station (the auxiliary; also gives size classes and
        turnout). Without it: a plain expansion by station counts.
    ballots : ndarray (N,), optional
        Ballots in the boxes on the sheets (for turnout; NaN where a sheet lacks it).
    confidence : float
        Level of the t-intervals (df = collected sheets − post-strata).
    size_classes : int
        Size classes per group (1: none).
    """
    collected = np.asarray(collected, dtype=bool)
    N, K = votes.shape
    x = None if registered is None else np.asarray(registered, dtype=float)
    if int(collected.sum()) < 2:
        raise ValueError("at least two usable sheets are needed for a corrected estimate")
    codes, notes = post_strata(frame, by, collected=collected, x=x, size_classes=size_classes)
    aux = np.ones(N) if x is None else x
    H = int(codes.max()) + 1
    y = np.nan_to_num(votes.astype(float))
    v = y.sum(axis=1)
    # g_h = X_h / Σ_{s_h} x: the weight that lifts a collected station to its post-stratum
    X_h = np.bincount(codes, weights=aux, minlength=H)
    xs_h = np.bincount(codes[collected], weights=aux[collected], minlength=H)
    n_h = np.bincount(codes[collected], minlength=H)
    N_h = np.bincount(codes, minlength=H)
    g = X_h / xs_h
    c, s = codes[collected], np.flatnonzero(collected)
    ys, vs, xs = y[s], v[s], aux[s]

    def total_and_resid(col: np.ndarray) -> tuple[float, np.ndarray]:
        r_h = np.bincount(c, weights=col, minlength=H) / xs_h
        return float((g * np.bincount(c, weights=col, minlength=H)).sum()), col - r_h[c] * xs

    def var(u: np.ndarray) -> float:
        # stratified SRSWOR variance of Σ u (Lohr 2019 eq. 3.5 with the linearised scores)
        mean = np.bincount(c, weights=u, minlength=H) / np.maximum(n_h, 1)
        ss = np.bincount(c, weights=(u - mean[c]) ** 2, minlength=H)
        fpc = 1 - n_h / N_h
        return float((fpc * n_h / np.maximum(n_h - 1, 1) * ss).sum())

    df = int(collected.sum()) - H
    tq = float(stats.t.ppf(0.5 + confidence / 2, max(df, 1)))
    T_v, d_v = total_and_resid(vs)
    out: list[Quantity] = []
    for k, name in enumerate(candidates):
        T_c, d_c = total_and_resid(ys[:, k])
        share = T_c / T_v
        se = math.sqrt(var(g[c] * (d_c - share * d_v) / T_v))
        out.append(Quantity(f"share:{name}", share, se, ConfidenceInterval(share - tq * se, share + tq * se), "share"))  # fmt: skip
        se_t = math.sqrt(var(g[c] * d_c))
        out.append(Quantity(f"votes:{name}", T_c, se_t, ConfidenceInterval(T_c - tq * se_t, T_c + tq * se_t), "votes"))  # fmt: skip
    se_v = math.sqrt(var(g[c] * d_v))
    out.append(Quantity("valid_votes", T_v, se_v, ConfidenceInterval(T_v - tq * se_v, T_v + tq * se_v), "votes"))  # fmt: skip
    if x is not None and ballots is not None:
        b = np.asarray(ballots, dtype=float)[s]
        if np.isfinite(b).all():
            T_b, d_b = total_and_resid(b)
            X = float(aux.sum())
            se = math.sqrt(var(g[c] * d_b / X))
            se_b = math.sqrt(var(g[c] * d_b))
            out.append(Quantity("ballots_cast", T_b, se_b, ConfidenceInterval(T_b - tq * se_b, T_b + tq * se_b), "votes"))  # fmt: skip
            out.append(Quantity("turnout", T_b / X, se, ConfidenceInterval(T_b / X - tq * se, T_b / X + tq * se), "share"))  # fmt: skip
        else:
            notes.append(
                note("turnout not estimated: some usable sheets do not show ballots in the boxes")
            )
    return CensusEstimate(
        quantities=tuple(out),
        auxiliary="registered voters" if x is not None else "none (station counts)",
        strata=tuple(by),
        n_strata=H,
        collected=int(collected.sum()),
        stations=N,
        df=df,
        confidence=confidence,
        notes=tuple(notes),
    )


def selection_check(
    estimate: CensusEstimate,
    replay: CensusEstimate,
    actual: dict[str, float],
    *,
    z_limit: float = 2.0,
) -> tuple[CensusEstimate, dict]:
    """Replay the estimator on the *official* figures of the collected stations (§2.3).

    The official table covers every station, so the estimator run on the collected stations'
    official figures should reproduce the official totals of all stations if the post-strata
    capture how the collection was chosen. Where it misses by more than ``z_limit`` standard
    errors, the collection is selective beyond the post-strata: that quantity's interval is
    widened by the replay's miss (a placebo-style check; the idea is the balance check of
    post-stratification, Lohr 2019 §4.4, applied to an auxiliary known everywhere).
    """
    report: dict = {}
    out = []
    for q in estimate.quantities:
        if q.name not in replay.names or q.name not in actual:
            out.append(q)
            continue
        r = replay[q.name]
        gap = r.estimate - actual[q.name]
        z = gap / r.std_error if r.std_error > 0 else (0.0 if gap == 0 else math.inf)
        widen = abs(z) > z_limit
        report[q.name] = {
            "replay": r.estimate,
            "official": actual[q.name],
            "gap": gap,
            "z": z,
            "widened": widen,
        }
        if widen:
            q = Quantity(
                q.name,
                q.estimate,
                q.std_error,
                ConfidenceInterval(q.interval.low - abs(gap), q.interval.high + abs(gap)),
                q.unit,
            )
        out.append(q)
    widened = [k for k, v in report.items() if v["widened"]]
    notes = list(estimate.notes)
    if widened:
        z_s = f"{z_limit:g}"
        notes.append(
            note(
                "the collection is selective beyond the post-strata (replayed on the official "
                "figures it misses {n} of them by more than {z} standard errors); "
                "those intervals were widened by the miss: {quantities}",
                n=len(widened),
                z=z_s,
                quantities=", ".join(widened[:8]),
            )
        )
    return dataclasses.replace(estimate, quantities=tuple(out), notes=tuple(notes)), report
