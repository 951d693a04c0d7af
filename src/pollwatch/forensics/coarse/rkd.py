"""Coarse vote shares: Rozenas' resampled kernel density (RKD) and exact small fractions.

Source: Arturas Rozenas (2017), "Detecting election fraud from irregularities in
vote-share distributions", *Political Analysis* 25(1):41–56, and his R package ``spikes``
v1.1 (``spikes(data, resamples = 1000, bw = 1e-4, grid = 1001)``), whose logic this module
follows step by step (``docs/methods/forensics.md`` §5; reference values in
``docs/methods/reference-numbers.md`` §7).

Idea: fabricated results are often *coarse* — shares with small denominators (0.5, 0.75,
0.8, …). Honest data contain such shares too, because small stations produce them
arithmetically. RKD asks whether they are more frequent than under a smooth fraud-free
model with the same electorates and turnouts: beta-binomial mixtures for turnout and
support are fitted, the election is resampled many times from the fitted posteriors, and
the share values whose observed density exceeds the maximum of every resampled density
are "spikes"; the excess mass at the spikes estimates the fraction of fabricated stations.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from pollwatch.compute import Execution, run_tasks, spawn_seeds
from pollwatch.forensics._common import (
    Notes,
    basic_mask,
    counts_exclusions,
    validate_choice,
    validate_param,
)
from pollwatch.forensics._poisson_binomial import poisson_binomial_sf
from pollwatch.forensics.coarse._blas import single_blas_thread
from pollwatch.forensics.coarse._exact import small_denominator_probabilities
from pollwatch.forensics.coarse._fit import BetaBinomialMixture, fit_mixture
from pollwatch.forensics.coarse._kde import bin_dist, densities_from_bins, grid_size
from pollwatch.forensics.coarse._sample import resample_block, seed_states
from pollwatch.i18n import N_, gettext, note
from pollwatch.model import Election
from pollwatch.results import (
    ConfidenceInterval,
    ResultMixin,
    StationSignal,
    Summary,
    fmt_int,
    jsonable,
)

__all__ = ["CoarseSharesResult", "SmallDenominatorResult", "rozenas_rkd", "small_denominator_test"]

_LIMITATIONS = N_(
    "RKD only sees an excess of coarse shares: ballot stuffing or vote switching that does not "
    "round results is invisible to it, and genuine small stations also produce coarse shares. "
    "The estimate depends on the fitted mixtures, the bandwidth and the resample count (the "
    "envelope is a maximum, so fewer resamples flag more)."
)


@dataclass(frozen=True)
class _Data:
    N: np.ndarray  # registered
    t: np.ndarray  # ballots cast
    v: np.ndarray  # candidate's votes


@dataclass(frozen=True)
class _Fit:
    turnout: BetaBinomialMixture
    support: BetaBinomialMixture
    cum_t: np.ndarray
    cum_v: np.ndarray


@dataclass(frozen=True)
class CoarseSharesResult(ResultMixin):
    """Result of :func:`rozenas_rkd`.

    ``fraud_pct``: estimated % of stations with fabricated coarse shares (Rozenas' "% of
    fraudulent precincts"); ``interval``: its resampling interval (null sampling noise of
    the excess at the flagged values); ``pvalue``: Monte Carlo p of ``fraud_pct`` against
    the same statistic computed on each resample as if it were the data (leave one out; NaN
    below ``min_stations``, where the fits are unreliable), ``null_mean`` its mean there; ``flagged_shares``: grid values where the observed density exceeds
    the resampled envelope; ``x``, ``density``, ``envelope``, ``excess`` (``w``): per grid
    point; ``turnout_mixture``/``support_mixture``: the fitted beta-binomial mixtures.
    """

    fraud_pct: float
    interval: ConfidenceInterval
    level: float
    pvalue: float
    null_mean: float
    flagged_shares: tuple[float, ...]
    n_flagged: int
    candidate: str
    n_stations: int
    n_excluded: int
    n_resamples: int
    n_components: int
    bw: float
    grid: int
    seed: int | None
    seed_entropy: int
    backend: str
    turnout_mixture: BetaBinomialMixture
    support_mixture: BetaBinomialMixture
    x: np.ndarray = field(repr=False)
    density: np.ndarray = field(repr=False)
    envelope: np.ndarray = field(repr=False)
    excess: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    _dict_exclude = ("x", "density", "envelope", "excess")

    @property
    def flagged(self) -> np.ndarray:
        """Boolean mask over ``x``: observed density above the envelope."""
        return self.density > self.envelope

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # share values on a grid, not stations

    def to_json(self) -> dict:
        return jsonable(
            {
                "fraud_percent": self.fraud_pct,
                "interval": list(self.interval),
                "p_value": self.pvalue,
                "flagged_shares": list(self.flagged_shares),
                "n_flagged": self.n_flagged,
                "resamples": self.n_resamples,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "candidate": self.candidate,
            "n_resamples": self.n_resamples,
            "n_components": self.n_components,
            "bw": self.bw,
            "grid": self.grid,
            "level": self.level,
            "seed": self.seed,
            "seed_entropy": self.seed_entropy,
        }

    def summary(self) -> Summary:
        weighty = [f"{s:g}" for s in self.flagged_shares]
        exceed = (
            gettext(
                "{n_flagged} share values exceed all {n_resamples} resampled densities: {values}."
            ).format(
                n_flagged=self.n_flagged,
                n_resamples=self.n_resamples,
                values=f"{', '.join(weighty[:20])}{' …' if len(weighty) > 20 else ''}",
            )
            if weighty
            else gettext(
                "{n_flagged} share values exceed all {n_resamples} resampled densities."
            ).format(n_flagged=self.n_flagged, n_resamples=self.n_resamples)
        )
        text = " ".join(
            [
                gettext(
                    "Rozenas' resampled-kernel-density test estimates that {pct} % of {n} "
                    "stations (interval {low}–{high} %) report coarse shares for {candidate} "
                    "beyond what a smooth fraud-free model with the same electorates and "
                    "turnouts produces."
                ).format(
                    pct=f"{self.fraud_pct:.3f}",
                    n=f"{self.n_stations:,}",
                    low=f"{self.interval.low:.3f}",
                    high=f"{self.interval.high:.3f}",
                    candidate=self.candidate,
                ),
                exceed,
                gettext(
                    "A fraud-free resample scores {null_mean} % on average (Monte Carlo p = {p})."
                ).format(null_mean=f"{self.null_mean:.3f}", p=f"{self.pvalue:.4f}"),
                gettext(_LIMITATIONS),
            ]
        )
        rows = [
            (
                "fabricated coarse shares",
                gettext("{pct} % of stations").format(pct=format(self.fraud_pct, ".3f")),
            ),
            (
                gettext("{level} % resampling interval").format(
                    level=format(100 * self.level, "g")
                ),
                f"{self.interval.low:.3f} – {self.interval.high:.3f} %",
            ),
            ("Monte Carlo p (null mean)", f"{self.pvalue:.4f} ({self.null_mean:.3f} %)"),
            ("flagged share values", fmt_int(self.n_flagged)),
            ("stations (excluded)", f"{self.n_stations:,} ({self.n_excluded:,})"),
            (
                "settings",
                gettext("{n} resamples, bw {bw}, grid {grid}, {k}-component mixtures").format(
                    n=self.n_resamples, bw=format(self.bw, "g"), grid=self.grid, k=self.n_components
                ),
            ),
            (
                "seed",
                gettext("{seed} (entropy {entropy}); {backend}").format(
                    seed=self.seed, entropy=self.seed_entropy, backend=self.backend
                ),
            ),
        ]
        return Summary("Coarse vote shares (Rozenas RKD)", text, rows, self.notes)


@dataclass(frozen=True)
class SmallDenominatorResult(ResultMixin):
    """Result of :func:`small_denominator_test`: stations whose share ``v/t`` equals ``p/q``
    with ``2 ≤ q ≤ q_max`` exactly, against the binomial null (exact or Monte Carlo) or the
    RKD resampling null (``null``). ``null_counts``: the Monte Carlo replicates (empty when
    exact)."""

    observed: int
    null_mean: float
    null_sd: float
    excess: float
    z: float
    pvalue: float
    q_max: int
    null: str
    exact: bool
    candidate: str
    n_stations: int
    n_resamples: int
    seed: int | None
    seed_entropy: int
    null_counts: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    _dict_exclude = ("null_counts",)

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # a count over the election against its null

    def to_json(self) -> dict:
        return jsonable(
            {
                "observed": self.observed,
                "expected": self.null_mean,
                "sd": self.null_sd,
                "excess": self.excess,
                "z": self.z,
                "p_value": self.pvalue,
                "q_max": self.q_max,
                "null": self.null,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "candidate": self.candidate,
            "q_max": self.q_max,
            "null": self.null,
            "exact": self.exact,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "seed_entropy": self.seed_entropy,
        }

    def summary(self) -> Summary:
        model = {
            "binomial": gettext("a binomial count at each station's own ballots and share"),
            "rkd": gettext("Rozenas' fraud-free resampling model"),
        }[self.null]
        text = gettext(
            "{observed} of {n} stations report a share for {candidate} that is exactly a "
            "fraction with denominator 2–{q_max}; {model} expects {null_mean} (sd {null_sd}), "
            "an excess of {excess} stations (z = {z}). Exact fractions also arise by arithmetic "
            "at small stations (the null includes them), and Rozenas (2017) expects this count "
            "to be a weaker signal than the RKD estimate."
        ).format(
            observed=f"{self.observed:,}",
            n=f"{self.n_stations:,}",
            candidate=self.candidate,
            q_max=self.q_max,
            model=model,
            null_mean=f"{self.null_mean:,.1f}",
            null_sd=f"{self.null_sd:.1f}",
            excess=f"{self.excess:,.1f}",
            z=f"{self.z:.1f}",
        )
        how = (
            gettext("exact per-station probabilities")
            if self.exact
            else gettext("{n} resamples, seed {seed} (entropy {entropy})").format(
                n=self.n_resamples, seed=self.seed, entropy=self.seed_entropy
            )
        )
        rows = [
            ("observed", fmt_int(self.observed)),
            ("null mean (sd)", f"{self.null_mean:,.1f} ({self.null_sd:.1f})"),
            ("excess, z", f"{self.excess:,.1f}, {self.z:.2f}"),
            ("p (one-sided)", f"{self.pvalue:.4f}"),
            ("null", f"{self.null}: {how}"),
        ]
        return Summary("Exact small-denominator shares", text, rows, self.notes)


# -- shared steps -------------------------------------------------------------------------
def _data(
    e: Election, candidate: str | None, exclude_evoting: bool, notes: Notes, min_stations: int
) -> tuple[_Data, int, str]:
    mask = basic_mask(e, exclude_evoting=exclude_evoting)
    excl = counts_exclusions(e, exclude_evoting=exclude_evoting)
    lead = e.candidate(candidate)
    votes = e.field(lead.id)
    impossible = mask & ((votes < 0) | (votes > e.ballots_cast()))
    if impossible.any():  # a share outside [0, 1] has no binomial model; never clip silently
        excl["leader_votes_outside_0_to_cast"] = int(impossible.sum())
        mask &= ~impossible
    N, t, v = e.field("registered")[mask], e.ballots_cast()[mask], e.field(lead.id)[mask]
    over = t > N
    if over.any():  # Bin(N, p) needs t <= N; never clip silently
        notes.add(
            note(
                "{n} station(s) with ballots cast above registered voters use "
                "N = ballots cast in the turnout model",
                n=int(over.sum()),
            )
        )
        N = np.maximum(N, t)
    dropped = e.n_stations - int(mask.sum())
    why = ", ".join(f"{k} {n}" for k, n in excl.items() if k != "kept" and n)
    if not mask.any():  # no data is not "0 % fraud, p = 1": nothing is estimated
        raise ValueError(
            f"no usable station (registered > 0, ballots cast > 0, not excluded) among "
            f"{e.n_stations}; nothing to estimate" + (f" (dropped: {why})" if why else "")
        )
    if dropped:
        notes.add(note("{n} station(s) dropped before fitting: {why}", n=dropped, why=why))
    if mask.sum() < min_stations:
        notes.small_sample(
            note(
                "only {n} usable stations (fewer than {min_stations}); "
                "the mixture fit and the envelope are unreliable",
                n=int(mask.sum()),
                min_stations=min_stations,
            ),
            stacklevel=4,
        )
    if len(v) and np.all(v * t[0] == v[0] * t):
        notes.degenerate(
            note(
                "{candidate}'s share is the same at every station; the support "
                "mixture is degenerate and the estimate meaningless",
                candidate=lead.name,
            ),
            stacklevel=4,
        )
    return _Data(N.astype(np.int64), t.astype(np.int64), v.astype(np.int64)), dropped, lead.name


def _cumulative(mix: BetaBinomialMixture, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.cumsum(mix.responsibilities(k, n), axis=1)


def _fit(
    d: _Data,
    n_components: int,
    rng: np.random.Generator,
    mixtures: tuple[BetaBinomialMixture, BetaBinomialMixture] | None,
) -> _Fit:
    if mixtures is None:
        with single_blas_thread():  # L-BFGS-B's tiny BLAS calls: a thread pool only costs time
            mt = fit_mixture(d.t, d.N, n_components, rng)
            mv = fit_mixture(d.v, d.t, n_components, rng)
    else:
        mt, mv = mixtures
    return _Fit(mt, mv, _cumulative(mt, d.t, d.N), _cumulative(mv, d.v, d.t))


def _edges(grid: int) -> np.ndarray:
    """R: ``seq(-x[2]/2, 1 + x[2]/2, by = x[2] - x[1])`` with ``x = seq(0, 1, length = grid)``."""
    x = np.linspace(0.0, 1.0, grid)
    step = x[1] - x[0]
    n = int(math.floor((1 + x[1] / 2 - (-x[1] / 2)) / step + 1e-10))
    return -x[1] / 2 + np.arange(n + 1) * step


def _rkd_block(
    states: np.ndarray, d: _Data, f: _Fit, bw: float, grid: int, q_max: int, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample ``len(states)`` replicates: densities and bin fractions (each replicate ×
    grid, float32 to halve transfer) and exact small-denominator counts."""
    n = grid_size(grid)
    lo, hi = -4 * bw, 1 + 4 * bw
    edges = _edges(grid)
    r = len(states)
    binned = np.zeros((r, 2 * n))
    counts = np.zeros((r, len(edges) - 1), dtype=np.int64)
    exact = np.zeros(r, dtype=np.int64)
    mt, mv = f.turnout, f.support

    def run(sl: slice) -> None:  # each replicate has its own stream: threads cannot change it
        resample_block(
            states[sl],
            d.N,
            d.t,
            d.v,
            f.cum_t,
            np.asarray(mt.alpha),
            np.asarray(mt.beta),
            f.cum_v,
            np.asarray(mv.alpha),
            np.asarray(mv.beta),
            lo,
            (hi - lo) / (n - 1),
            n,
            edges,
            q_max,
            binned[sl],
            counts[sl],
            exact[sl],
        )

    k = max(1, min(threads, r))
    bounds = np.linspace(0, r, k + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if k == 1:
        run(slices[0])
    else:
        with ThreadPoolExecutor(k) as pool:
            list(pool.map(run, slices))
    dens = densities_from_bins(binned, np.full(r, len(d.N)), bw, grid, 0.0, 1.0)
    return dens, counts.astype(np.int32), exact


@dataclass(frozen=True)
class _Null:
    envelope: np.ndarray  # max over resamples of the density
    frac_mean: np.ndarray
    frac_var: np.ndarray
    fraud: np.ndarray  # per resample, leave-one-out statistic
    exact: np.ndarray


def _resample(
    d: _Data,
    f: _Fit,
    seqs,
    bw: float,
    grid: int,
    q_max: int,
    block: int,
    execution: Execution | str | None,
) -> _Null:
    states = seed_states(list(seqs))
    threads = Execution.of(execution).threads or os.cpu_count() or 1
    tasks = [
        (states[i : i + block], d, f, bw, grid, q_max, threads)
        for i in range(0, len(states), block)
    ]
    out = run_tasks(_rkd_block, tasks, execution)
    dens = np.concatenate([o[0] for o in out])
    frac = np.concatenate([o[1] for o in out]) / len(d.N)
    r = len(states)
    mean = frac.mean(axis=0)
    var = frac.var(axis=0, ddof=1) if r > 1 else np.zeros(grid)
    # each replicate scored as if observed, against the other replicates (leave one out):
    # the envelope without r is the second-largest density where r holds the maximum
    top = np.argmax(dens, axis=0)
    env = dens[top, np.arange(grid)]
    if r > 1:
        second = np.partition(dens, r - 2, axis=0)[r - 2]
        loo_fraud = np.empty(r)
        for k in range(r):
            env_k = np.where(top == k, second, env)
            mean_k = (mean * r - frac[k]) / (r - 1)
            hit = dens[k] > env_k
            loo_fraud[k] = 100 * np.maximum(frac[k] - mean_k, 0.0)[hit].sum()
    else:
        loo_fraud = np.zeros(r)
    return _Null(env, mean, var, loo_fraud, np.concatenate([o[2] for o in out]))


def _observed(y: np.ndarray, bw: float, grid: int) -> tuple[np.ndarray, np.ndarray]:
    n = grid_size(grid)
    dens = densities_from_bins(
        bin_dist(y, -4 * bw, 1 + 4 * bw, n), np.array([len(y)]), bw, grid, 0.0, 1.0
    )[0]
    edges = _edges(grid)
    idx = np.clip(np.searchsorted(edges, y, side="left") - 1, 0, len(edges) - 2)
    return dens, idx


def _check(n_resamples: int, n_components: int, level: float, block: int) -> None:
    validate_param("n_resamples", n_resamples, 1, math.inf)
    validate_param("n_components", n_components, 1, 10)
    validate_param("level", level, 0, 1, inclusive=False)
    validate_param("block", block, 1, math.inf)


# -- public methods ---------------------------------------------------------------------
def rozenas_rkd(
    e: Election,
    *,
    candidate: str | None = None,
    n_resamples: int = 1000,
    n_components: int = 3,
    bw: float = 1e-4,
    grid: int = 1001,
    level: float = 0.95,
    seed: int | None = None,
    exclude_evoting: bool = False,
    mixtures: tuple | None = None,
    execution: Execution | str | None = None,
    block: int = 1000,
    min_stations: int = 100,
) -> CoarseSharesResult:
    """Rozenas' resampled kernel density (RKD) estimate of fabricated coarse vote shares.

    Source: Rozenas (2017), *Political Analysis* 25(1):41–56, §3 (the fraud-free model:
    beta-binomial mixtures for turnout ``t | N`` and support ``v | t``; the RKD estimator,
    eq. for the share of "fraudulent precincts"); algorithm as in R ``spikes`` v1.1.

    Steps (``docs/methods/forensics.md`` §5.1): fit ``n_components``-component beta-binomial
    mixtures to ballots cast out of registered and to the candidate's votes out of ballots
    cast (least-squares start on a KDE, then EM); draw ``n_resamples`` fraud-free elections
    from each station's posterior (component by responsibility, ``p ~ Beta``, counts ~
    Binomial); compute R-style Gaussian KDEs of the share ``y = v/t`` (bandwidth ``bw``,
    ``grid`` points on [0, 1]) and the envelope ``max_r ŷ*_r``; with ``w_j`` the excess of
    the observed over the mean resampled fraction of stations in the 0.001-wide bin of grid
    point ``j`` (floored at 0), ``fraud = 100·Σ_j w_j·1[ŷ(x_j) > envelope(x_j)]``.

    Assumptions: without fraud, turnout and support are smooth (mixtures of betas) given
    ``N`` and ``t``; fabricated results are coarse fractions. Blind to fraud that does not
    round shares. The interval is ``fraud ± z·100·sqrt(Σ_flagged Var*(frac_j))`` with the
    variances of the bin fractions over the resamples: the sampling noise of the excess mass
    at the flagged values under the fraud-free model. It holds the flagged set and the fit
    fixed (``spikes::confInt`` refits by MCMC at ~100× the cost). The p-value scores every
    resample as if it were the data, against the envelope and means of the other resamples,
    and ranks the observed statistic among them (approximately exchangeable under the
    fraud-free model; a pollwatch addition, not in ``spikes``).

    Resamples run in blocks of ``block`` through :func:`pollwatch.compute.run_tasks` with one
    seeded stream per resample, so results are identical on any ``execution``; inside a task the
    compiled sampler runs on ``execution.threads`` threads (default: all cores). Each task builds one
    inversion table per station for the turnout draw and shares it across its replicates, so
    large blocks are cheaper (default 1000, i.e. one task for the default resamples: every thread
    of a task builds the tables, ~1 s of CPU per pass on 95k stations, so 1000 instead of 500
    cuts ~10 % of the CPU; pass a smaller ``block`` to spread resamples over Dask workers; the
    results do not depend on ``block``). Pass
    ``mixtures=(turnout, support)`` (from an earlier result) to skip the fit.
    """
    _check(n_resamples, n_components, level, block)
    validate_param("bw", bw, 0, 0.5, inclusive=(False, True))
    validate_param("grid", grid, 3, 100_000)
    notes = Notes()
    d, dropped, cand = _data(e, candidate, exclude_evoting, notes, min_stations)
    entropy, seqs = spawn_seeds(seed, n_resamples + 2)
    f = _fit(d, n_components, np.random.default_rng(seqs[0]), mixtures)
    null = _resample(d, f, seqs[2:], bw, grid, 0, block, execution)
    ymax, frac_mean, frac_var = null.envelope, null.frac_mean, null.frac_var

    y = d.v / d.t
    dens, idx = _observed(y, bw, grid)
    n = len(y)
    frac_obs = np.bincount(idx, minlength=grid) / n
    w = np.maximum(frac_obs - frac_mean, 0.0)
    flag = dens > ymax
    fraud = 100 * float(w[flag].sum())
    x = np.linspace(0.0, 1.0, grid)
    # resampling interval: null variance of the excess mass at the flagged bins
    half = float(special.ndtri(0.5 + level / 2)) * 100 * math.sqrt(float(frac_var[flag].sum()))
    interval = ConfidenceInterval(max(0.0, fraud - half), fraud + half)
    pvalue = (1 + int((null.fraud >= fraud).sum())) / (n_resamples + 1)
    if (
        n < min_stations
    ):  # the fits and the envelope are unreliable: no p-value rather than a poor one
        pvalue = math.nan
    if not flag.any():
        notes.add(note("no share value exceeds the resampled envelope"))
    edge = [s for s in x[flag] if s < 0.002 or s > 0.998]
    if edge:
        notes.add(
            note(
                "edge bins (shares near 0 or 1) are flagged; they come from tiny or one-sided "
                "stations as often as from fabrication"
            )
        )
    return CoarseSharesResult(
        fraud_pct=fraud,
        interval=interval,
        level=level,
        pvalue=pvalue,
        null_mean=float(null.fraud.mean()),
        flagged_shares=tuple(float(round(s, 6)) for s in x[flag]),
        n_flagged=int(flag.sum()),
        candidate=cand,
        n_stations=n,
        n_excluded=dropped,
        n_resamples=n_resamples,
        n_components=n_components if mixtures is None else len(f.turnout.weights),
        bw=bw,
        grid=grid,
        seed=seed,
        seed_entropy=entropy,
        backend=Execution.of(execution).describe(),
        turnout_mixture=f.turnout,
        support_mixture=f.support,
        x=x,
        density=dens,
        envelope=ymax,
        excess=w,
        notes=notes.as_tuple(),
    )


def small_denominator_test(
    e: Election,
    *,
    candidate: str | None = None,
    q_max: int = 10,
    null: str = "binomial",
    exact: bool = True,
    n_resamples: int = 200,
    n_components: int = 3,
    seed: int | None = None,
    exclude_evoting: bool = False,
    mixtures: tuple | None = None,
    execution: Execution | str | None = None,
    block: int = 500,
    min_stations: int = 100,
) -> SmallDenominatorResult:
    """Count stations whose share ``v/t`` is exactly ``p/q`` with ``2 ≤ q ≤ q_max``.

    Sources: Rozenas (2017), *Political Analysis* 25(1), §2 (coarse fractions as the trace of
    fabricated results, and why small stations produce them honestly); the null follows the
    binomial logic of Kobak, Shpilkin & Pshenichnikov (2016), *Significance* 13(4), for
    integer percentages (``docs/methods/forensics.md`` §3.1 step 5). Reference: ``docs/methods/reference-numbers.md``
    §7 (excess 97 / 96 stations, z 2.6 / 2.5 on Russia 2011 / 2012).

    Nulls (``null``):

    * ``"binomial"`` (default): each station keeps its ballots ``t`` and expected share
      ``v/t``; ``v* ~ Bin(t, v/t)`` removes any preference for exact fractions while keeping
      the arithmetic ones that small ``t`` produce. With ``exact=True`` the expected count,
      its variance (``Σ P_i``, ``Σ P_i(1 − P_i)``) and the one-sided p (Lugannani–Rice
      saddlepoint of the Poisson-binomial count) are computed exactly per station, without
      Monte Carlo noise; ``exact=False`` draws ``n_resamples`` replicates as a cross-check
      (empirical p ``(1 + #{S* ≥ S})/(R + 1)``).
    * ``"rkd"``: the fraud-free beta-binomial resampling model of :func:`rozenas_rkd`
      (Rozenas 2017, §3; the same mixtures, refitted unless ``mixtures`` is given), which
      also resamples turnout. Its extra dispersion makes exact fractions rarer under the null.

    Assumptions: stations are independent; the only departure the test sees is an excess of
    exact fractions, which fabricated protocols produce but honest tiny stations also do
    (in the null). Rozenas expects it to be weaker evidence than the RKD estimate.
    """
    validate_choice("null", null, ("binomial", "rkd"))
    if not (null == "binomial" and exact):
        _check(n_resamples, n_components, 0.95, block)
    validate_param("q_max", q_max, 2, 1000)
    notes = Notes()
    d, _, cand = _data(e, candidate, exclude_evoting, notes, min_stations)
    observed = _count_small_denominators(d.v, d.t, q_max)
    if null == "binomial" and exact:
        probs = small_denominator_probabilities(d.t, d.v, int(q_max))
        mean = float(probs.sum())
        sd = math.sqrt(float((probs * (1 - probs)).sum()))
        entropy, n_draws, counts = 0, 0, np.zeros(0, np.int64)
        p = poisson_binomial_sf(observed, probs)
    else:
        entropy, seqs = spawn_seeds(seed, n_resamples + 1)
        if null == "binomial":
            counts = _binomial_counts(d, seqs[1:], q_max)
        else:
            f = _fit(d, n_components, np.random.default_rng(seqs[0]), mixtures)
            counts = _resample(d, f, seqs[1:], 1e-4, 1001, q_max, block, execution).exact
        n_draws = n_resamples
        mean = float(counts.mean())
        sd = float(counts.std(ddof=1)) if len(counts) > 1 else math.nan
        p = (1 + int((counts >= observed).sum())) / (len(counts) + 1)
    excess = observed - mean
    z = excess / sd if sd and sd > 0 else math.nan
    if not sd or sd == 0 or math.isnan(sd):
        notes.degenerate(note("the null count has no spread; z is undefined"))
    return SmallDenominatorResult(
        observed=observed,
        null_mean=mean,
        null_sd=sd,
        excess=excess,
        z=z,
        pvalue=p,
        q_max=q_max,
        null=null,
        exact=bool(null == "binomial" and exact),
        candidate=cand,
        n_stations=len(d.N),
        n_resamples=n_draws,
        seed=seed,
        seed_entropy=entropy,
        null_counts=counts,
        notes=notes.as_tuple(),
    )


def _binomial_counts(d: _Data, seqs, q_max: int) -> np.ndarray:
    """Monte Carlo replicates of the binomial null (cross-check of the exact mode)."""
    p = d.v / np.maximum(d.t, 1)
    out = np.empty(len(seqs), np.int64)
    for r, s in enumerate(seqs):
        vs = np.random.default_rng(s).binomial(d.t, p)
        out[r] = _count_small_denominators(vs, d.t, q_max)
    return out


def _count_small_denominators(v: np.ndarray, t: np.ndarray, q_max: int) -> int:
    """Stations whose ``v/t`` in lowest terms has a denominator in ``[2, q_max]`` (shares 0
    and 1 have q = 1 and are not counted)."""
    q = t // np.maximum(np.gcd(v, t), 1)
    return int(((q >= 2) & (q <= q_max)).sum())
