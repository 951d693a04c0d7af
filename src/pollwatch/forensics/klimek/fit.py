"""The Klimek et al. (2012) election-fingerprint fraud model: baseline, grid fit, scoring.

Source: Klimek, Yegorov, Hanel & Thurner (2012), "Statistical detection of systematic
election irregularities", *PNAS* 109(41):16469–16473 (model of Fig. 3 and its SI); the
baseline and loss details follow the ports read for ``docs/methods/forensics.md`` §1
(EFToolkit ``ComputeKlimekModel.R``; Kobak's replication in ``dkobak/elections``).

Assumptions: without fraud turnout and the leader's share are independent truncated
Gaussians around the data's main peak; fraud either stuffs a fraction ``x`` of non-voters
for the leader and switches ``x^α`` of opposition votes (incremental) or does so with
``x ≈ 1`` (extreme). The single-Gaussian baseline is ad hoc: genuine heterogeneity also
creates high-turnout/high-share clusters, so a fit measures a *shape*, not proven fraud.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import fftconvolve

from pollwatch.compute import Execution, run_tasks, spawn_seeds
from pollwatch.forensics._common import Notes, excluded_mask, validate_choice, validate_param
from pollwatch.forensics.klimek import _grid as kg
from pollwatch.i18n import N_, gettext, note
from pollwatch.model import Election, ElectionMeta
from pollwatch.model.derived import percent
from pollwatch.results import (
    ConfidenceInterval,
    ResultMixin,
    StationSignal,
    Summary,
    fmt_int,
    fmt_pct,
    jsonable,
)

__all__ = [
    "KlimekBaseline",
    "KlimekGrid",
    "KlimekResult",
    "KlimekScore",
    "fit_klimek",
    "klimek_baseline",
    "score_klimek",
]

LOSSES = ("L2", "L1")
BASELINE_SUBSETS = ("fit", "all")
PEAK_ESTIMATORS = ("kde", "median")
SIGMA_EXTREME = 0.075  # σ_e of the extreme-fraud intensity 1 − |N(0, σ_e)| (§1.2 step 3)
MIN_STATION_V = 100  # tiny stations have extreme ratios; the fit drops them (§0)
SMALL_N = 1000  # below this the 101 × 101 fingerprint is too sparse to fit reliably
_KDE_GRID = np.arange(1000) / 1000.0  # 0, 0.001, …, 0.999


# --------------------------------------------------------------------------------------
# Grid and baseline
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KlimekGrid:
    """Parameter grid (§1.3). ``f_i`` and ``f_e`` run from 0 in their steps up to the maxima.

    The segment width of the fast scan is ``f_e_step``; ``f_i_step`` must be a multiple of it
    and ``1/f_e_step`` an integer.
    """

    f_i_step: float = 0.004
    f_i_max: float = 1.0
    f_e_step: float = 0.002
    f_e_max: float = 0.12
    alpha: tuple[float, ...] = tuple(0.5 + 0.25 * k for k in range(15))

    def __post_init__(self) -> None:
        validate_param("grid.f_e_step", self.f_e_step, 0, 1, inclusive=(False, True))
        validate_param("grid.f_i_step", self.f_i_step, 0, 1, inclusive=(False, True))
        validate_param("grid.f_i_max", self.f_i_max, 0, 1)
        validate_param("grid.f_e_max", self.f_e_max, 0, 1)
        if abs(1 / self.f_e_step - round(1 / self.f_e_step)) > 1e-9:
            raise ValueError(
                f"grid.f_e_step ({self.f_e_step!r}) must divide 1 (1/step an integer)."
            )
        ratio = self.f_i_step / self.f_e_step
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(
                f"grid.f_i_step ({self.f_i_step!r}) must be a multiple of "
                f"grid.f_e_step ({self.f_e_step!r})."
            )
        if not self.alpha or any(not (a > 0 and math.isfinite(a)) for a in self.alpha):
            raise ValueError(
                f"grid.alpha ({self.alpha!r}) must be a non-empty tuple of values in (0, inf)."
            )

    @property
    def n_segments(self) -> int:
        return round(1 / self.f_e_step)

    @property
    def f_i_values(self) -> np.ndarray:
        return np.arange(round(self.f_i_max / self.f_i_step + 1e-9) + 1) * self.f_i_step

    @property
    def f_e_values(self) -> np.ndarray:
        return np.arange(round(self.f_e_max / self.f_e_step + 1e-9) + 1) * self.f_e_step

    @property
    def n_points(self) -> int:
        return self.f_i_values.size * self.f_e_values.size * len(self.alpha)


@dataclass(frozen=True)
class KlimekBaseline(ResultMixin):
    """Fair baseline read off the data (§1.2): peaks ``τ, ν``; widths ``σ_τ, σ_ν``; ``θ``."""

    tau: float
    nu: float
    sigma_tau: float
    sigma_nu: float
    theta: float
    sigma_nu_c: float
    subset: str
    n_stations: int
    bandwidth_t: float
    bandwidth_s: float
    notes: tuple[str, ...] = ()
    peak_estimator: str = "kde"

    @property
    def ok(self) -> bool:
        return all(
            math.isfinite(v) for v in (self.tau, self.nu, self.sigma_tau, self.sigma_nu, self.theta)
        )

    def summary(self) -> Summary:
        rows = [
            (
                "τ (turnout peak)",
                f"{self.tau:.3f}"
                + (
                    ""
                    if self.peak_estimator == "kde"
                    else " (median of the stations below the other peak)"
                ),
            ),
            ("ν (share peak)", f"{self.nu:.3f}"),
            ("σ_τ", f"{self.sigma_tau:.4f}"),
            ("σ_ν", f"{self.sigma_nu:.4f} (c = {self.sigma_nu_c:g})"),
            ("θ", f"{self.theta:.4f}"),
            ("stations", f"{self.subset}: {fmt_int(self.n_stations)}"),
        ]
        return Summary(
            "Klimek fair baseline",
            gettext(
                "Peaks and widths of the fraud-free model, read off "
                "the data as in Klimek et al. (2012)."
            ),
            rows,
            self.notes,
        )


def _kde_on_grid(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Gaussian KDE with Scott's bandwidth (as ``scipy.stats.gaussian_kde``) on 0…0.999.

    Large samples are linearly binned on a 1e-5 grid and convolved by FFT: the binning error
    is O((1e-5/h)²) ≈ 1e-7 relative, far below the differences that decide the peak.
    The binned array covers the grid and the kernel's ±10h reach only (points further out
    add nothing to the grid), and a bandwidth above 0.1 (never for shares and turnouts in
    [0, 1] on more than 5,000 stations) takes the direct sum: memory never depends on how
    far out a value lies.
    """
    n = x.size
    h = float(np.std(x, ddof=1) * n**-0.2)
    if n * _KDE_GRID.size <= 5_000_000 or h < 1e-3 or not h <= 0.1:
        dens = np.zeros(_KDE_GRID.size)
        for chunk in np.array_split(x, max(1, n // 5000)):
            z = (_KDE_GRID[:, None] - chunk[None, :]) / h
            dens += np.exp(-0.5 * z * z).sum(axis=1)
        return dens / (n * h * math.sqrt(2 * math.pi)), h
    d = 1e-5
    half = int(math.ceil(10 * h / d))
    reach = (half + 2) * d
    x = x[(x >= _KDE_GRID[0] - reach) & (x <= _KDE_GRID[-1] + reach)]
    if not x.size:
        return np.zeros(_KDE_GRID.size), h
    j0 = int(math.floor(min(0.0, x.min()) / d)) - half
    j1 = int(math.ceil(max(1.0, x.max()) / d)) + half + 1
    pos = x / d - j0
    i = np.floor(pos).astype(np.int64)
    frac = pos - i
    counts = np.bincount(i, 1 - frac, minlength=j1 - j0 + 1) + np.bincount(
        i + 1, frac, minlength=j1 - j0 + 1
    )
    kern = np.exp(-0.5 * (np.arange(-half, half + 1) * d / h) ** 2)
    conv = fftconvolve(counts, kern, mode="same")
    idx = np.rint(_KDE_GRID / d).astype(np.int64) - j0
    return conv[idx] / (n * h * math.sqrt(2 * math.pi)), h


def _first_peak(x: np.ndarray, notes: Notes, what: str) -> tuple[float, float]:
    """First local KDE maximum above 0.3 reaching ≥ 10 % of the KDE maximum (§1.2 step 1)."""
    dens, h = _kde_on_grid(x)
    i = np.arange(1, dens.size - 1)
    peak = (dens[i] > dens[i - 1]) & (dens[i] >= dens[i + 1]) & (_KDE_GRID[i] > 0.3)
    peak &= dens[i] >= 0.1 * dens.max()
    if peak.any():
        return float(_KDE_GRID[i[peak][0]]), h
    notes.degenerate(
        note(
            "no {what} density peak above 0.3; the baseline uses the global maximum of the density",
            what=what,
        )
    )
    return float(_KDE_GRID[int(np.argmax(dens))]), h


def _baseline(
    t: np.ndarray, s: np.ndarray, c: float, subset: str, peak_estimator: str = "kde"
) -> KlimekBaseline:
    notes = Notes()
    n = t.size
    if n < 2 or np.ptp(t) == 0 or np.ptp(s) == 0:
        notes.degenerate(
            note("{n} stations with constant or no turnout/share: no baseline can be read off", n=n)
        )
        nan = float("nan")
        return KlimekBaseline(
            tau=nan,
            nu=nan,
            sigma_tau=nan,
            sigma_nu=nan,
            theta=nan,
            sigma_nu_c=c,
            subset=subset,
            n_stations=n,
            bandwidth_t=nan,
            bandwidth_s=nan,
            notes=notes.as_tuple(),
            peak_estimator=peak_estimator,
        )
    tau, ht = _first_peak(t, notes, note("turnout"))
    nu, hs = _first_peak(s, notes, note("leader-share"))
    if peak_estimator == "median" and (s < nu).any() and (t < tau).any():
        # fraud raises turnout and share together, so stations below one peak are nearly all
        # clean and (turnout and share independent when clean) their median of the other
        # variable estimates its peak: ~4× less sampling noise than a KDE mode, whose ±0.01
        # moves the fitted f_i by ~0.05
        tau, nu = float(np.median(t[s < nu])), float(np.median(s[t < tau]))
    low = (t < tau) & (s < nu)
    sig_tau = math.sqrt(np.mean((t[low] - tau) ** 2)) if low.any() else float("nan")
    sig_nu = math.sqrt(c * np.mean((s[s < nu] - nu) ** 2)) if (s < nu).any() else float("nan")
    theta = float(np.mean((s[s > nu] - nu) ** 2) ** 0.25) if (s > nu).any() else float("nan")
    if not all(math.isfinite(v) and v > 0 for v in (sig_tau, sig_nu, theta)):
        notes.degenerate(
            note("a baseline width is zero or undefined (no stations on one side of the peak)")
        )
    return KlimekBaseline(
        tau=tau,
        nu=nu,
        sigma_tau=float(sig_tau),
        sigma_nu=float(sig_nu),
        theta=theta,
        sigma_nu_c=c,
        subset=subset,
        n_stations=n,
        bandwidth_t=ht,
        bandwidth_s=hs,
        notes=notes.as_tuple(),
        peak_estimator=peak_estimator,
    )


# --------------------------------------------------------------------------------------
# Station selection
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Stations:
    t: np.ndarray  # turnout of the fit subset
    s: np.ndarray  # leader share of the fit subset
    v: np.ndarray  # registered voters of the fit subset
    leader: np.ndarray
    ballots: np.ndarray
    base_t: np.ndarray  # turnout/share of the baseline subset
    base_s: np.ndarray
    excluded: dict
    observed: np.ndarray  # 101 × 101 fingerprint (flattened), binned from (100·x)/n percentages


def _stations(e: Election, basis: str, baseline_subset: str) -> _Stations:
    v = e.field("registered")
    g = e.ballots_issued() if basis == "issued" else e.ballots_cast()
    r = e.ballots_cast()
    lead = e.votes()
    dropped = excluded_mask(e)  # excluded by the model (e-voting rows kept)
    pos = (v > 0) & (r > 0)
    # a leader above ballots cast (or below 0) is an impossible share: no bin, no baseline
    impossible = pos & ~dropped & ((lead < 0) | (lead > r))
    ok = pos & ~dropped & ~impossible
    fit = ok & (v >= MIN_STATION_V) & (g <= v)
    excluded = {
        "zero_registered_or_cast": int((~pos).sum()),
        "tiny_registered_lt_100": int((ok & (v < MIN_STATION_V)).sum()),
        "turnout_above_1": int((ok & (v >= MIN_STATION_V) & (g > v)).sum()),
        "kept": int(fit.sum()),
    }
    if (dropped & pos).any():
        excluded["excluded_by_model"] = int((dropped & pos).sum())
    if impossible.any():
        excluded["leader_outside_0_to_cast"] = int(impossible.sum())

    def ratios(m):
        return g[m] / v[m], lead[m] / r[m]

    t, s = ratios(fit)
    bt, bs = ratios(ok) if baseline_subset == "all" else (t, s)
    # bins from the published percentage convention (100·x)/n, not 100·(x/n) (§0)
    tb = np.floor(percent(g[fit], v[fit]) + 0.5).astype(np.int64)
    sb = np.floor(percent(lead[fit], r[fit]) + 0.5).astype(np.int64)
    observed = np.bincount(tb * kg.N_PCT + sb, minlength=kg.N_PCT**2).astype(np.float64)
    return _Stations(
        t=t,
        s=s,
        v=v[fit],
        leader=lead[fit],
        ballots=g[fit],
        base_t=bt,
        base_s=bs,
        excluded=excluded,
        observed=observed,
    )


def klimek_baseline(
    e: Election,
    *,
    baseline_subset: str = "fit",
    sigma_nu_c: float = 1.0,
    basis: str = "issued",
    peak_estimator: str = "kde",
) -> KlimekBaseline:
    """Fair baseline of the Klimek model (``docs/methods/forensics.md`` §1.2), read off the data.

    ``τ``/``ν``: first local maximum above 0.3 of a Scott-bandwidth Gaussian KDE of turnout /
    leader share on the 0.001 grid, reaching ≥ 10 % of the KDE maximum.
    ``σ_τ = sqrt(mean (t − τ)²)`` over ``t < τ`` and ``s < ν``; ``σ_ν = sqrt(c·mean (s − ν)²)``
    over ``s < ν`` (paper ``c = 2``, Kobak ``c = 1``); ``θ = (mean (s − ν)² over s > ν)^(1/4)``.
    ``baseline_subset``: ``"fit"`` (``V ≥ 100``, ``R > 0``, ``t ≤ 1``) or ``"all"`` (``V, R > 0``).
    ``peak_estimator``: ``"kde"`` (the paper's peaks, needed for the published numbers) or
    ``"median"``: ``τ`` = the median turnout of the stations below the KDE share peak and ``ν``
    = the median share of the stations below the KDE turnout peak. Fraud raises turnout and
    share together, so those stations are nearly all clean; on 10,000-station elections drawn
    from the model the median ``τ`` has a sampling sd of 0.0016 against the KDE peak's
    0.005–0.007 (bias +0.001 against +0.003 to +0.012). That matters because the fit answers a
    peak 0.01 too low with about 0.05 of incremental fraud (``docs/calibration.md``).
    """
    _check_common(baseline_subset, sigma_nu_c, basis, peak_estimator)
    st = _stations(e, basis, baseline_subset)
    return _baseline(st.base_t, st.base_s, float(sigma_nu_c), baseline_subset, peak_estimator)


def _check_common(
    baseline_subset: str, sigma_nu_c: float, basis: str, peak_estimator: str = "kde"
) -> None:
    validate_choice("baseline_subset", baseline_subset, BASELINE_SUBSETS)
    validate_choice("peak_estimator", peak_estimator, PEAK_ESTIMATORS)
    validate_choice("basis", basis, ("issued", "cast"))
    validate_param("sigma_nu_c", sigma_nu_c, 0, 10, inclusive=(False, True))


# --------------------------------------------------------------------------------------
# Random draws (one realisation, common random numbers)
# --------------------------------------------------------------------------------------
def _truncated(
    rng: np.random.Generator, draw, lo: float, hi: float, n: int, closed_lo: bool = True
) -> np.ndarray:
    """Redraw values outside ``[lo, hi]`` (``(lo, hi]`` if not ``closed_lo``) until none remain."""
    x = draw(n)
    for _ in range(200):
        bad = ((x < lo) if closed_lo else (x <= lo)) | (x > hi)
        if not bad.any():
            return x
        x[bad] = draw(int(bad.sum()))
    return np.clip(x, lo, hi)  # a mean far outside [lo, hi]: a degenerate baseline


def _draws(rng: np.random.Generator, n: int, b: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """``a, ν_i, u, x_inc, x_ext`` per station (§1.2 realisation steps 1–3), fixed order."""
    tau, nu, sig_tau, sig_nu, theta = b
    a = _truncated(rng, lambda k: rng.normal(tau, sig_tau, k), 0.0, 1.0, n)
    nui = _truncated(rng, lambda k: rng.normal(nu, sig_nu, k), 0.0, 1.0, n)
    u = rng.random(n)
    x_inc = _truncated(
        rng, lambda k: np.abs(rng.normal(0.0, theta, k)), 0.0, 1.0, n, closed_lo=False
    )
    x_ext = 1.0 - _truncated(rng, lambda k: np.abs(rng.normal(0.0, SIGMA_EXTREME, k)), 0.0, 1.0, n)
    return a, nui, u, x_inc, x_ext


def _turnout_share(a, nui, x, alpha):
    t = a + x * (1 - a)
    w = a * nui + x * (1 - a) + x**alpha * (1 - nui) * a
    with np.errstate(invalid="ignore", divide="ignore"):
        return t, w, np.where(t > 0, w / t, 0.0)


def _hist(t: np.ndarray, s: np.ndarray, two_d: bool = True) -> np.ndarray:
    tb = np.clip(np.floor(100.0 * t + 0.5), 0, 100).astype(np.int64)
    sb = np.clip(np.floor(100.0 * s + 0.5), 0, 100).astype(np.int64)
    if not two_d:
        return np.bincount(sb, minlength=kg.N_PCT).astype(np.float64)
    return np.bincount(tb * kg.N_PCT + sb, minlength=kg.N_PCT**2).astype(np.float64)


def _loss_weights(loss: str, obs2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed histogram and per-bin weights for the criterion (§1.3 step 3)."""
    if loss == "L2":
        return obs2d, np.ones_like(obs2d)
    obs1 = obs2d.reshape(kg.N_PCT, kg.N_PCT).sum(axis=0)
    return obs1, 1.0 / (obs1 + 1.0) ** 2


def _matrix_scan(seg, nseg, b_clean, b_inc, b_ext, obs, w, k1, n_fe) -> np.ndarray:
    """The cumulative-segment trick of §1.3 ("Speed") as one matrix product (few bins: L1).

    ``H(k1, k2) = A(k1) + D(k2) + O`` with ``A = C_inc − C_ext − O`` at ``k1`` and
    ``D = C_ext − C_clean + C_clean[end]`` at ``k2``, so ``Σ w (H − O)² = Σ wA² + Σ wD² + 2 (wA)·D``.
    """
    nb = obs.size

    def cum(bins):
        h = np.bincount(seg * nb + bins, minlength=nseg * nb).reshape(nseg, nb)
        return np.vstack([np.zeros((1, nb)), np.cumsum(h, axis=0)])

    c_clean, c_inc, c_ext = cum(b_clean), cum(b_inc), cum(b_ext)
    a = c_inc[k1] - c_ext[k1] - obs
    d = c_ext - c_clean + c_clean[-1]
    k2 = np.minimum(k1[:, None] + np.arange(n_fe)[None, :], nseg)
    # only the band k1 ≤ k2 ≤ k1 + n_fe is needed; einsum keeps it single-threaded (no BLAS pool)
    cross = np.einsum("jb,jmb->jm", a * w, d[k2])
    aa = (a * a * w).sum(axis=1)
    dd = (d * d * w).sum(axis=1)
    return aa[:, None] + dd[k2] + 2 * cross


# --------------------------------------------------------------------------------------
# One realisation of the grid fit (module-level: run by pollwatch.compute.run_tasks)
# --------------------------------------------------------------------------------------
def _fit_realisation(
    seed: np.random.SeedSequence,
    n: int,
    base: tuple[float, ...],
    obs2d: np.ndarray,
    loss: str,
    grid: KlimekGrid,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss surface ``(n_alpha, n_f_i, n_f_e)`` and the 2-D histogram at its argmin."""
    a, nui, u, x_inc, x_ext = _draws(np.random.default_rng(seed), n, base)
    nseg = grid.n_segments
    seg = np.minimum((u * nseg).astype(np.int64), nseg - 1)
    order = np.argsort(seg, kind="stable")
    a, nui, x_inc, x_ext, seg_sorted = a[order], nui[order], x_inc[order], x_ext[order], seg[order]
    seg_start = np.searchsorted(seg_sorted, np.arange(nseg + 1)).astype(np.int64)
    obs, w = _loss_weights(loss, obs2d)
    two_d = loss == "L2"
    zero = np.zeros(n)
    b_clean = kg.outcome_bins(a, nui, zero, 1.0, two_d)
    stride = round(grid.f_i_step / grid.f_e_step)
    k1 = (np.arange(grid.f_i_values.size) * stride).astype(np.int64)
    n_fe = grid.f_e_values.size
    surface = np.empty((len(grid.alpha), k1.size, n_fe))
    for j, alpha in enumerate(grid.alpha):
        b_inc = kg.outcome_bins(a, nui, x_inc, float(alpha), two_d)
        b_ext = kg.outcome_bins(a, nui, x_ext, float(alpha), two_d)
        if two_d:
            surface[j] = kg.scan_grid_counts(seg_start, b_clean, b_inc, b_ext, obs, k1, n_fe)
        else:
            surface[j] = _matrix_scan(seg_sorted, nseg, b_clean, b_inc, b_ext, obs, w, k1, n_fe)
    ja, ji, je = np.unravel_index(int(np.argmin(surface)), surface.shape)
    alpha = float(grid.alpha[ja])
    bc2 = kg.outcome_bins(a, nui, zero, 1.0, True)
    bi2 = kg.outcome_bins(a, nui, x_inc, alpha, True)
    be2 = kg.outcome_bins(a, nui, x_ext, alpha, True)
    best = kg.histogram_at(
        seg_sorted, int(k1[ji]), int(min(k1[ji] + je, nseg)), bc2, bi2, be2, kg.N_PCT**2
    )
    return surface, best


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
_SHAPE_NOTE = N_(
    "Model-implied fraud is a shape quantity, not a count: the fitted model does not "
    "conserve the reported totals, so it must not be read as a number of stolen votes."
)
_CRITERIA_NOTE = N_(
    "The L1 (Klimek's 1-D share criterion) and L2 (2-D least squares) fits disagree; "
    "the estimate is only meaningful together with the criterion named."
)


def _interval(x: np.ndarray) -> tuple[float, float, ConfidenceInterval]:
    m = float(x.mean())
    sd = float(x.std(ddof=1)) if x.size > 1 else float("nan")
    half = 1.96 * sd if math.isfinite(sd) else float("nan")
    return m, sd, ConfidenceInterval(m - half, m + half)


@dataclass(frozen=True)
class KlimekResult(ResultMixin):
    """Grid fit of the Klimek et al. model: mean ± sd of the per-realisation argmins.

    ``*_ci`` is the Monte Carlo spread ``mean ± 1.96·sd`` over realisations (sd with
    ``ddof = 1``), not a sampling interval. ``argmins`` holds ``(f_i, f_e, α)`` per realisation,
    ``losses`` the minimum loss of each. ``observed_fingerprint`` / ``model_fingerprint`` are
    101 × 101 station counts (turnout rows, share columns; the model one averaged over the
    realisations' best fits) and ``loss_surface`` the mean loss over ``(α, f_i, f_e)``: for plots,
    left out of ``to_dict``.
    """

    f_i: float
    f_e: float
    alpha: float
    f_i_sd: float
    f_e_sd: float
    alpha_sd: float
    f_i_ci: ConfidenceInterval
    f_e_ci: ConfidenceInterval
    alpha_ci: ConfidenceInterval
    loss: str
    loss_value: float
    no_fraud_loss: float
    argmins: tuple[tuple[float, float, float], ...]
    losses: tuple[float, ...]
    baseline: KlimekBaseline
    grid: KlimekGrid
    n_realisations: int
    seed: int | None
    entropy: int
    realisation_seeds: tuple[tuple[int, ...], ...]
    basis: str
    n_stations: int
    excluded: dict
    notes: tuple[str, ...] = ()
    observed_fingerprint: np.ndarray | None = field(default=None, repr=False)
    model_fingerprint: np.ndarray | None = field(default=None, repr=False)
    loss_surface: np.ndarray | None = field(default=None, repr=False)

    _dict_exclude = ("observed_fingerprint", "model_fingerprint", "loss_surface")

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # a fit to the whole fingerprint

    def to_json(self) -> dict:
        b = self.baseline
        return jsonable(
            {
                "f_i": self.f_i,
                "f_e": self.f_e,
                "alpha": self.alpha,
                "f_i_sd": self.f_i_sd,
                "f_e_sd": self.f_e_sd,
                "alpha_sd": self.alpha_sd,
                "f_i_ci": list(self.f_i_ci),
                "f_e_ci": list(self.f_e_ci),
                "alpha_ci": list(self.alpha_ci),
                "loss": self.loss,
                "loss_value": self.loss_value,
                "no_fraud_loss": self.no_fraud_loss,
                "realisations": self.n_realisations,
                "baseline": {
                    "tau": b.tau,
                    "nu": b.nu,
                    "sigma_tau": b.sigma_tau,
                    "sigma_nu": b.sigma_nu,
                    "theta": b.theta,
                },
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "loss": self.loss,
            "n_realisations": self.n_realisations,
            "seed": self.seed,
            "basis": self.basis,
            "baseline_subset": self.baseline.subset,
            "sigma_nu_c": self.baseline.sigma_nu_c,
            "peak_estimator": self.baseline.peak_estimator,
            "grid_points": self.grid.n_points,
        }

    def summary(self) -> Summary:
        if not math.isfinite(self.f_i):
            text = gettext("The Klimek model could not be fitted to these data (see notes).")
        else:
            fit = gettext(
                "Under the Klimek et al. (2012) model with the {loss} criterion, the turnout–share "
                "fingerprint is best reproduced when about {f_i} of stations show incremental "
                "fraud and {f_e} extreme fraud (α = {alpha}); the fit's loss is {ratio} of the "
                "no-fraud model's."
            ).format(
                loss=self.loss,
                f_i=fmt_pct(self.f_i, 1),
                f_e=fmt_pct(self.f_e, 1),
                alpha=f"{self.alpha:.2f}",
                ratio=f"{self.loss_value / self.no_fraud_loss:.0%}",
            )
            text = f"{fit} {gettext(_SHAPE_NOTE)} {gettext(_CRITERIA_NOTE)}"
        b = self.baseline
        rows = [
            ("criterion", self.loss),
            ("f_i (incremental)", f"{self.f_i:.3f} ± {self.f_i_sd:.3f}"),
            ("f_e (extreme)", f"{self.f_e:.4f} ± {self.f_e_sd:.4f}"),
            ("α (vote switching)", f"{self.alpha:.2f} ± {self.alpha_sd:.2f}"),
            ("loss / no-fraud loss", f"{self.loss_value:.4g} / {self.no_fraud_loss:.4g}"),
            (
                "baseline τ, ν, σ_τ, σ_ν, θ",
                f"{b.tau:.3f}, {b.nu:.3f}, {b.sigma_tau:.4f}, {b.sigma_nu:.4f}, {b.theta:.4f}",
            ),
            ("stations fitted", fmt_int(self.n_stations)),
            ("realisations, seed", f"{self.n_realisations}, {self.seed}"),
            ("grid points", fmt_int(self.grid.n_points)),
        ]
        return Summary("Klimek et al. fraud-model fit", text, rows, self.notes)


@dataclass(frozen=True)
class KlimekScore(ResultMixin):
    """Both losses of a fixed ``(f_i, f_e, α)`` (mean ± sd over realisations) and implied counts.

    ``implied_*`` are model totals over the fitted stations (``Σ V·T``, ``Σ V·W``);
    ``model_fraud_votes = Σ V·(W − aν)``; ``official_minus_fair = Σ L − Σ V·aν``. They show
    that counts are not conserved; they are regression values, never findings.
    """

    f_i: float
    f_e: float
    alpha: float
    l2: float
    l2_sd: float
    l1: float
    l1_sd: float
    no_fraud_l2: float
    no_fraud_l1: float
    implied_ballots: float
    implied_leader_votes: float
    official_ballots: int
    official_leader_votes: int
    model_fraud_votes: float
    official_minus_fair: float
    baseline: KlimekBaseline
    n_realisations: int
    seed: int | None
    entropy: int
    basis: str
    n_stations: int
    notes: tuple[str, ...] = ()

    def summary(self) -> Summary:
        scores = gettext(
            "Scores of the Klimek model at f_i = {f_i}, f_e = {f_e}, α = {alpha}: L2 loss {l2} "
            "(no fraud {l2_0}), L1 loss {l1} (no fraud {l1_0})."
        ).format(
            f_i=f"{self.f_i:g}",
            f_e=f"{self.f_e:g}",
            alpha=f"{self.alpha:g}",
            l2=f"{self.l2:.4g}",
            l2_0=f"{self.no_fraud_l2:.4g}",
            l1=f"{self.l1:.4g}",
            l1_0=f"{self.no_fraud_l1:.4g}",
        )
        implied = gettext(
            "The model implies {implied} leader votes against {official} reported."
        ).format(
            implied=fmt_int(self.implied_leader_votes),
            official=fmt_int(self.official_leader_votes),
        )
        text = f"{scores} {implied} {gettext(_SHAPE_NOTE)}"
        rows = [
            ("L2 loss", f"{self.l2:.4g} ± {self.l2_sd:.2g}"),
            ("L1 loss", f"{self.l1:.4g} ± {self.l1_sd:.2g}"),
            (
                "implied / official ballots",
                f"{fmt_int(self.implied_ballots)} / {fmt_int(self.official_ballots)}",
            ),
            ("model fraud votes", fmt_int(self.model_fraud_votes)),
            ("official minus fair component", fmt_int(self.official_minus_fair)),
            ("realisations, seed", f"{self.n_realisations}, {self.seed}"),
        ]
        return Summary("Klimek et al. model: fixed parameters", text, rows, self.notes)


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------
def _check_run(n_realisations: int, seed) -> None:
    if (
        not isinstance(n_realisations, (int, np.integer))
        or n_realisations < 1
        or n_realisations > 10_000
    ):
        raise ValueError(
            f"n_realisations ({n_realisations!r}) must be an integer in the interval [1, 10000]."
        )
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise ValueError(f"seed ({seed!r}) must be None, a non-negative integer or a SeedSequence.")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise ValueError(f"seed ({seed!r}) must be in the interval [0, inf).")


def _prepare(
    e,
    baseline_subset,
    sigma_nu_c,
    basis,
    notes: Notes,
    baseline: KlimekBaseline | None,
    peak_estimator: str = "kde",
):
    st = _stations(e, basis, baseline_subset)
    n = st.t.size
    if n < SMALL_N:
        notes.small_sample(
            note(
                "only {n} stations with ≥ {min_v} registered: the 101 × 101 "
                "fingerprint is sparse and the fit unreliable",
                n=n,
                min_v=MIN_STATION_V,
            ),
            stacklevel=4,
        )
    if baseline is not None:
        if not isinstance(baseline, KlimekBaseline):
            raise ValueError(f"baseline ({baseline!r}) must be None or a KlimekBaseline.")
        notes.add(note("baseline supplied by the caller, not read off these data"))
        return st, baseline
    base = _baseline(st.base_t, st.base_s, float(sigma_nu_c), baseline_subset, peak_estimator)
    for text in base.notes:
        notes.add(text)
    return st, base


def fit_klimek(
    e: Election,
    *,
    loss: str = "L2",
    n_realisations: int = 10,
    seed: int | None = 0,
    grid: KlimekGrid | None = None,
    baseline_subset: str = "fit",
    sigma_nu_c: float = 1.0,
    basis: str = "issued",
    baseline: KlimekBaseline | None = None,
    execution: Execution | str | None = None,
    peak_estimator: str = "kde",
) -> KlimekResult:
    """Fit the Klimek et al. (2012) fraud model on a grid (``docs/methods/forensics.md`` §1.2–1.3).

    Stations with ``V ≥ 100``, ``R > 0`` and turnout ``≤ 1`` are fitted. Per realisation
    (one ``SeedSequence`` child each, run through :func:`pollwatch.compute.run_tasks`, so any
    ``execution`` gives identical results) the model is simulated at every ``(f_i, f_e, α)`` of the
    grid with common random numbers and the argmin of the loss is kept:

    * ``"L2"``: ``Σ_kl (S_kl − O_kl)²`` over the 101 × 101 fingerprint (1-pp bins);
    * ``"L1"``: ``Σ_k ((S_k − O_k)/(O_k + 1))²`` over the 101-bin leader-share histogram
      (Klimek's criterion as ported in EFToolkit).

    Returns mean ± sd of the argmins. Counts are not conserved by the model (§1.4): fitted
    fractions describe the fingerprint's shape, not a number of fraudulent votes. ``α`` is
    weakly identified and ``f_e`` trades off against ``f_i·θ``. ``baseline`` (a
    :class:`KlimekBaseline`, e.g. from :func:`klimek_baseline` on another set) replaces the one
    read off ``e``; ``peak_estimator`` chooses how the baseline's turnout peak is read off
    (see :func:`klimek_baseline`).
    """
    validate_choice("loss", loss, LOSSES)
    _check_common(baseline_subset, sigma_nu_c, basis, peak_estimator)
    _check_run(n_realisations, seed)
    grid = grid or KlimekGrid()
    notes = Notes()
    st, base = _prepare(e, baseline_subset, sigma_nu_c, basis, notes, baseline, peak_estimator)
    entropy, children = spawn_seeds(seed, n_realisations)
    obs2d = st.observed
    nan = float("nan")

    def result(**fit: Any) -> KlimekResult:
        """The result with what every outcome shares (the run's settings, the notes so far)."""
        return KlimekResult(
            loss=loss,
            baseline=base,
            grid=grid,
            n_realisations=n_realisations,
            seed=_seed_int(seed),
            entropy=entropy,
            realisation_seeds=_keys(children),
            basis=basis,
            n_stations=st.t.size,
            excluded=st.excluded,
            notes=notes.as_tuple(),
            observed_fingerprint=obs2d.reshape(kg.N_PCT, kg.N_PCT),
            **fit,
        )

    if not base.ok or st.t.size < 2:
        notes.add(note("no fit was run"))
        ci = ConfidenceInterval(nan, nan)
        return result(
            f_i=nan,
            f_e=nan,
            alpha=nan,
            f_i_sd=nan,
            f_e_sd=nan,
            alpha_sd=nan,
            f_i_ci=ci,
            f_e_ci=ci,
            alpha_ci=ci,
            loss_value=nan,
            no_fraud_loss=nan,
            argmins=(),
            losses=(),
            model_fingerprint=None,
            loss_surface=None,
        )
    b = (base.tau, base.nu, base.sigma_tau, base.sigma_nu, base.theta)
    tasks = [(c, st.t.size, b, obs2d, loss, grid) for c in children]
    out = run_tasks(_fit_realisation, tasks, execution)
    surfaces = np.stack([o[0] for o in out])
    fi, fe, al = grid.f_i_values, grid.f_e_values, np.asarray(grid.alpha)
    idx = [np.unravel_index(int(np.argmin(s)), s.shape) for s in surfaces]
    argmins = tuple((float(fi[i]), float(fe[j]), float(al[a])) for a, i, j in idx)
    arr = np.array(argmins)
    (m_i, sd_i, ci_i), (m_e, sd_e, ci_e), (m_a, sd_a, ci_a) = (
        _interval(arr[:, k]) for k in range(3)
    )
    losses = tuple(float(s.min()) for s in surfaces)
    notes.add(_CRITERIA_NOTE)
    notes.add(_SHAPE_NOTE)
    if np.any(arr[:, 2] == al.max()) or np.any(arr[:, 2] == al.min()):
        notes.add(
            note(
                "α reached the edge of the grid in some realisations: it is weakly identified here"
            )
        )
    return result(
        f_i=m_i,
        f_e=m_e,
        alpha=m_a,
        f_i_sd=sd_i,
        f_e_sd=sd_e,
        alpha_sd=sd_a,
        f_i_ci=ci_i,
        f_e_ci=ci_e,
        alpha_ci=ci_a,
        loss_value=float(np.mean(losses)),
        no_fraud_loss=float(surfaces[:, 0, 0, 0].mean()),
        argmins=argmins,
        losses=losses,
        model_fingerprint=np.mean([o[1] for o in out], axis=0).reshape(kg.N_PCT, kg.N_PCT),
        loss_surface=surfaces.mean(axis=0),
    )


def _seed_int(seed) -> int | None:
    return int(seed) if isinstance(seed, (int, np.integer)) else None


def _keys(children) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(k) for k in c.spawn_key) for c in children)


def _score_realisation(seed, st: _Stations, b, f_i, f_e, alpha, obs2d, obs1):
    a, nui, u, x_inc, x_ext = _draws(np.random.default_rng(seed), st.t.size, b)
    x = np.where(u < f_i, x_inc, np.where(u < f_i + f_e, x_ext, 0.0))
    t, w, s = _turnout_share(a, nui, x, alpha)
    h2 = _hist(t, s)
    h1 = h2.reshape(kg.N_PCT, kg.N_PCT).sum(axis=0)
    h2_0 = _hist(a, nui)
    h1_0 = h2_0.reshape(kg.N_PCT, kg.N_PCT).sum(axis=0)
    l1w = 1.0 / (obs1 + 1.0) ** 2
    v = st.v.astype(np.float64)
    return (
        float(((h2 - obs2d) ** 2).sum()),
        float((l1w * (h1 - obs1) ** 2).sum()),
        float(((h2_0 - obs2d) ** 2).sum()),
        float((l1w * (h1_0 - obs1) ** 2).sum()),
        float((v * t).sum()),
        float((v * w).sum()),
        float((v * a * nui).sum()),
    )


def score_klimek(
    e: Election,
    f_i: float,
    f_e: float,
    alpha: float,
    *,
    n_realisations: int = 10,
    seed: int | None = 0,
    baseline_subset: str = "fit",
    sigma_nu_c: float = 1.0,
    basis: str = "issued",
    baseline: KlimekBaseline | None = None,
    execution: Execution | str | None = None,
    peak_estimator: str = "kde",
) -> KlimekScore:
    """L2 and L1 losses of the Klimek model at fixed ``(f_i, f_e, α)`` (``docs/methods/forensics.md`` §1.3).

    Same stations, baseline, draws and criteria as :func:`fit_klimek`; incremental fraud where
    ``u < f_i``, extreme where ``f_i ≤ u < f_i + f_e``. Also reports the model-implied totals,
    showing that the model does not conserve the reported counts (§1.4).
    """
    validate_param("f_i", f_i, 0, 1)
    validate_param("f_e", f_e, 0, 1)
    if f_i + f_e > 1 + 1e-12:
        raise ValueError(f"f_i + f_e ({f_i + f_e!r}) must be in the interval [0, 1].")
    validate_param("alpha", alpha, 0, math.inf, inclusive=(False, False))
    _check_common(baseline_subset, sigma_nu_c, basis, peak_estimator)
    _check_run(n_realisations, seed)
    notes = Notes()
    st, base = _prepare(e, baseline_subset, sigma_nu_c, basis, notes, baseline, peak_estimator)
    entropy, children = spawn_seeds(seed, n_realisations)
    obs2d = st.observed
    obs1 = obs2d.reshape(kg.N_PCT, kg.N_PCT).sum(axis=0)
    nan = float("nan")
    if not base.ok:
        return KlimekScore(
            f_i=f_i,
            f_e=f_e,
            alpha=alpha,
            l2=nan,
            l2_sd=nan,
            l1=nan,
            l1_sd=nan,
            no_fraud_l2=nan,
            no_fraud_l1=nan,
            implied_ballots=nan,
            implied_leader_votes=nan,
            official_ballots=int(st.ballots.sum()),
            official_leader_votes=int(st.leader.sum()),
            model_fraud_votes=nan,
            official_minus_fair=nan,
            baseline=base,
            n_realisations=n_realisations,
            seed=_seed_int(seed),
            entropy=entropy,
            basis=basis,
            n_stations=st.t.size,
            notes=notes.as_tuple(),
        )
    b = (base.tau, base.nu, base.sigma_tau, base.sigma_nu, base.theta)
    tasks = [(c, st, b, float(f_i), float(f_e), float(alpha), obs2d, obs1) for c in children]
    r = np.array(run_tasks(_score_realisation, tasks, execution))
    m = r.mean(axis=0)
    sd = r.std(axis=0, ddof=1) if n_realisations > 1 else np.full(r.shape[1], nan)
    notes.add(_SHAPE_NOTE)
    return KlimekScore(
        f_i=float(f_i),
        f_e=float(f_e),
        alpha=float(alpha),
        l2=m[0],
        l2_sd=sd[0],
        l1=m[1],
        l1_sd=sd[1],
        no_fraud_l2=m[2],
        no_fraud_l1=m[3],
        implied_ballots=m[4],
        implied_leader_votes=m[5],
        official_ballots=int(st.ballots.sum()),
        official_leader_votes=int(st.leader.sum()),
        model_fraud_votes=m[5] - m[6],
        official_minus_fair=float(st.leader.sum()) - m[6],
        baseline=base,
        n_realisations=n_realisations,
        seed=_seed_int(seed),
        entropy=entropy,
        basis=basis,
        n_stations=st.t.size,
        notes=notes.as_tuple(),
    )


# --------------------------------------------------------------------------------------
# Simulation from the model (tests, notebooks)
# --------------------------------------------------------------------------------------
def _simulate_election(
    n: int,
    *,
    f_i: float,
    f_e: float,
    alpha: float,
    tau: float = 0.55,
    nu: float = 0.45,
    sigma_tau: float = 0.08,
    sigma_nu: float = 0.07,
    theta: float = 0.5,
    seed: int = 0,
    log_mean: float = 7.0,
    log_sd: float = 0.6,
) -> Election:
    """Draw an Election from the Klimek model: registered ~ lognormal (≥ 100), continuous
    turnout and share rounded to counts (ballots issued = cast = valid; two candidates)."""
    rng = np.random.default_rng(seed)
    v = np.maximum(np.rint(rng.lognormal(log_mean, log_sd, n)), MIN_STATION_V).astype(np.int64)
    a, nui, u, x_inc, x_ext = _draws(rng, n, (tau, nu, sigma_tau, sigma_nu, theta))
    x = np.where(u < f_i, x_inc, np.where(u < f_i + f_e, x_ext, 0.0))
    t, _, s = _turnout_share(a, nui, x, alpha)
    g = np.maximum(np.rint(t * v), 1).astype(np.int64)
    lead = np.rint(s * g).astype(np.int64)
    meta = ElectionMeta(
        country="XX",
        date="2012-03-04",
        type="simulated",
        name="Klimek-model simulation",
        scrutiny="cand_00",
    )
    return Election.from_arrays(
        registered=v,
        valid=g,
        invalid=np.zeros(n, np.int64),
        votes={"Leader": lead, "Other": g - lead},
        fields={"ballots_issued_station": g},
        meta=meta,
    )
