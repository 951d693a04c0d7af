"""From camera tallies to a full-day voter count per station, with a 95 % interval.

Method: ``docs/methods/quickcount-and-cameras.md`` §2.1 steps 2–4 and 7.

* Usable windows only (``u_st``); outages (status log) and windows a watcher could not see
  are missing, never zero.
* ``W_s = Σ_t u_st·w(t)``, ``C_s = Σ_t u_st·c_st``, ``V̂_s = C_s/W_s``; ``W_s`` below
  ``min_coverage`` (default 0.5) → "insufficient coverage" (no estimate, never zero).
* Count uncertainty: Poisson, ``Var(V̂) ≈ V̂/W``, exact Garwood (1936) interval
  ``[χ²_{α/2}(2C)/2, χ²_{1−α/2}(2C+2)/2]/W``. Bursty arrivals: the variance is scaled by a
  dispersion φ ≥ 1 — the Pearson statistic of the usable window counts around ``V̂·w(t)``
  divided by its degrees of freedom (McCullagh & Nelder 1989, §4.5, quasi-Poisson), or a
  negative binomial ``Var(c) = m + m²/r`` with r pooled by moments. The Garwood interval is
  computed for ``C/φ`` events of size φ (gamma quantiles), which is exact Garwood at φ = 1.
* Profile uncertainty: variance of ``C/W^b`` over the bootstrap replicates of w(t).
* Watcher error (``agreement.py``): the random part ``φ_w·Σ_t c_t/k_t`` and the all-day part
  ``Σ_w (δ_w·C_sw)²`` (a watcher who misses voters misses them in every window), measured on
  double-counted windows or, with none, the stated conservative default. With a named
  reference count each watcher's counts are first multiplied by their κ (the correction).
  ``target="realised"`` refuses to run when watcher error is unmeasured: its interval is then
  mostly the assumed default.
* Hidden windows (``unseen_busiest``): the voters the station's unusable windows would have held
  had they been its busiest usable windows, for the sensitivity bound of ``compare.py``.
* The extra (profile, watcher) components are added in quadrature to each side of the
  count interval; ``interval="normal"`` gives ``V̂ ± z·sd`` instead.

Assumptions: arrivals at a station follow the stratum's day profile up to the modelled noise;
missing windows are missing at random given the time of day (an outage that hides stuffing is
informative — the status log itself is reported as a finding); each ballot drop is one voter.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.cameras.agreement import (
    DEFAULT_ERROR_PER_COUNT,
    DEFAULT_SYSTEMATIC_SD,
    WatcherAgreement,
    combine_watchers,
    watcher_agreement,
)
from pollwatch.cameras.data import apply_status
from pollwatch.cameras.profile import POOLED, DayProfile, learn_profile
from pollwatch.errors import InputDataError, SmallSampleWarning
from pollwatch.i18n import N_, gettext, note, translated
from pollwatch.results import ResultMixin, Summary, fmt_int

ESTIMATED = "estimated"
INSUFFICIENT = "insufficient coverage"
#: the interval targets as words where a summary shows them ("expected count")
_TARGET_WORDS = {"expected": N_("expected"), "realised": N_("realised")}
NO_PROFILE = "no day profile"

_DISPERSIONS = ("pearson", "negbin", "poisson")
_INTERVALS = ("garwood", "normal")
_TARGETS = ("expected", "realised")


def garwood_interval(count: float, level: float = 0.95, scale: float = 1.0) -> tuple[float, float]:
    """Exact Poisson interval for an observed ``count`` (Garwood 1936), in count units.

    With ``scale`` φ > 1 the count is treated as ``count/φ`` events of size φ
    (overdispersion); φ = 1 is the classical ``[χ²_{α/2}(2C)/2, χ²_{1−α/2}(2C+2)/2]``.
    """
    a = (1 - level) / 2
    k = count / scale
    low = 0.0 if k <= 0 else float(stats.gamma.ppf(a, k)) * scale
    high = float(stats.gamma.ppf(1 - a, k + 1)) * scale
    return low, high


@dataclass(frozen=True)
class CameraEstimate(ResultMixin):
    """Full-day voter count per watched station; arrays are aligned with ``station_id``."""

    station_id: np.ndarray
    stratum: np.ndarray
    coverage: np.ndarray  # W_s
    counted: np.ndarray  # C_s
    estimate: np.ndarray  # V̂_s (NaN unless status == "estimated")
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    dispersion: np.ndarray  # φ_s used
    sd_extra: np.ndarray  # profile + watcher SD (added in quadrature to the count interval)
    unseen_busiest: np.ndarray  # voters in the hidden windows were they the busiest usable ones
    n_usable: np.ndarray
    n_windows: int
    status: np.ndarray
    profile: DayProfile
    agreement: WatcherAgreement
    level: float
    min_coverage: float
    dispersion_method: str
    interval_method: str
    n_boot: int
    seed: int
    notes: tuple[str, ...] = ()
    target: str = "expected"
    _dict_exclude = (
        "station_id",
        "stratum",
        "coverage",
        "counted",
        "estimate",
        "sd",
        "low",
        "high",
        "dispersion",
        "sd_extra",
        "unseen_busiest",
        "n_usable",
        "status",
    )

    @property
    def n_stations(self) -> int:
        return int(self.station_id.size)

    @property
    def n_estimated(self) -> int:
        return int(np.sum(self.status == ESTIMATED))

    def table(self) -> pl.DataFrame:
        """One row per station: coverage, count, estimate, interval, status."""
        return pl.DataFrame(
            {
                "station_id": self.station_id.astype(str),
                "stratum": self.stratum.astype(str),
                "coverage": self.coverage,
                "counted": self.counted,
                "estimate": self.estimate,
                "sd": self.sd,
                "low95": self.low,
                "high95": self.high,
                "dispersion": self.dispersion,
                "usable_windows": self.n_usable,
                "status": self.status.astype(str),
            }
        )

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update(
            watcher_error={
                "source": self.agreement.source,
                "measured": self.agreement.measured,
                "n_double_counted_windows": self.agreement.n_windows,
                "error_per_count": self.agreement.error_per_count,
                "systematic_sd": self.agreement.systematic_sd,
                "kappa": self.agreement.kappa,
                "kappa_corrected": self.agreement.corrected,
                "mean_difference": self.agreement.mean_difference,
            },
            n_stations=self.n_stations,
            n_estimated=self.n_estimated,
            n_insufficient=int(np.sum(self.status == INSUFFICIENT)),
        )
        return d

    def summary(self) -> Summary:
        ok = self.status == ESTIMATED
        n_ins = int(np.sum(self.status == INSUFFICIENT))
        rows = [
            ("stations watched", f"{self.n_stations:,}"),
            ("windows per day", f"{self.n_windows:,}"),
            ("estimated", f"{self.n_estimated:,}"),
            (
                gettext("insufficient coverage (W < {w})").format(w=format(self.min_coverage, "g")),
                f"{n_ins:,}",
            ),
            ("voters counted on usable windows", fmt_int(float(self.counted.sum()))),
            (
                "estimated full-day voters (estimated stations)",
                fmt_int(float(np.nansum(self.estimate[ok]))),
            ),
            (
                "median coverage W",
                f"{float(np.median(self.coverage)):.2f}" if self.n_stations else "n/a",
            ),
            (
                "dispersion / interval / target",
                gettext("{dispersion} / {interval} / {target} count").format(
                    dispersion=self.dispersion_method,
                    interval=self.interval_method,
                    target=gettext(_TARGET_WORDS.get(self.target, self.target)),
                ),
            ),
            ("day profile", translated(self.profile.source)),
            ("watcher error", translated(self.agreement.source)),
            (
                "profile bootstrap",
                gettext("{n} replicates, seed {seed}").format(n=self.n_boot, seed=self.seed)
                if self.profile.replicates
                else gettext("none (profile given)"),
            ),
        ]
        text = gettext(
            "{n_estimated} of {n} watched stations had enough usable video (W ≥ {min_coverage}) "
            "to extrapolate their count to the full day with a {level} % interval; "
            "{n_insufficient} are reported as insufficient coverage, not as zero."
        ).format(
            n_estimated=f"{self.n_estimated:,}",
            n=f"{self.n_stations:,}",
            min_coverage=f"{self.min_coverage:g}",
            level=f"{100 * self.level:.0f}",
            n_insufficient=f"{n_ins:,}",
        )
        notes = list(self.notes) + list(self.profile.notes) + list(self.agreement.notes)
        return Summary("Camera turnout estimates", text, rows, tuple(notes))


def _grid(comb: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    g = comb.select("window_start", "window_end").unique().sort("window_start", "window_end")
    s, e = g["window_start"].to_numpy(), g["window_end"].to_numpy()
    if s.size > 1 and (np.any(np.diff(s) <= 0) or np.any(s[1:] < e[:-1] - 1e-9)):
        raise InputDataError(
            "The tallies' windows overlap or differ between stations; every "
            "station must use the same grid of windows (e.g. 08:00–08:15, "
            "08:15–08:30, …)."
        )
    return s, e


def _matrices(comb: pl.DataFrame, starts: np.ndarray):
    # sorted, not in input order: the profile bootstrap resamples stations by row, so the same
    # tallies must give the same estimate whichever order a CSV, the service or the video had
    ids = np.sort(comb["station_id"].unique().to_numpy().astype(str))
    row = {sid: i for i, sid in enumerate(ids)}
    col = {float(s): j for j, s in enumerate(starts)}
    S, K = ids.size, starts.size
    counts, usable, k = np.zeros((S, K)), np.zeros((S, K), bool), np.ones((S, K))
    r = np.fromiter((row[s] for s in comb["station_id"].to_list()), int, comb.height)
    c = np.fromiter((col[float(s)] for s in comb["window_start"].to_list()), int, comb.height)
    u = comb["usable"].to_numpy() & comb["count"].is_not_null().to_numpy()
    counts[r[u], c[u]] = comb["count"].to_numpy()[u]
    usable[r, c] = u
    k[r, c] = comb["n_watchers"].to_numpy()
    return ids, counts, usable, k


def _dispersion(method: str, counts, usable, w_rows, vhat) -> np.ndarray:
    m = vhat[:, None] * w_rows
    ok = usable & (m > 0)
    if method == "poisson":
        return np.ones(vhat.size)
    if method == "pearson":
        chi = np.where(ok, (counts - m) ** 2 / np.where(ok, m, 1), 0.0).sum(axis=1)
        df = ok.sum(axis=1) - 1
        phi = np.where(df > 0, chi / np.maximum(df, 1), 1.0)
        return np.maximum(phi, 1.0)
    # negative binomial, r pooled by moments over all usable windows: Var(c) = m + m²/r
    excess = float(np.where(ok, (counts - m) ** 2 - m, 0.0).sum())
    m2 = np.where(ok, m**2, 0.0)
    if excess <= 0:
        return np.ones(vhat.size)
    r = float(m2.sum()) / excess
    msum = np.where(ok, m, 0.0).sum(axis=1)
    return 1 + np.where(msum > 0, m2.sum(axis=1) / (r * np.maximum(msum, 1e-300)), 0.0)


def _unseen_busiest(counts: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Per station, the voters its h unusable windows would hold were they its h busiest usable
    windows (the largest usable counts, the largest repeated when h exceeds them)."""
    out = np.zeros(counts.shape[0])
    for i in range(counts.shape[0]):
        h = int((~usable[i]).sum())
        seen = np.sort(counts[i][usable[i]])[::-1]
        if h == 0 or seen.size == 0:
            continue
        top = seen[:h]
        out[i] = top.sum() + max(h - top.size, 0) * seen[0]
    return out


def _check(min_coverage, level, dispersion, interval, n_boot, target) -> None:
    if target not in _TARGETS:
        raise ValueError(f"target ({target!r}) not recognised; must be one of {_TARGETS}.")
    if not 0 < min_coverage <= 1:
        raise ValueError(f"min_coverage ({min_coverage}) must be in the interval (0, 1].")
    if not 0 < level < 1:
        raise ValueError(f"level ({level}) must be in the interval (0, 1).")
    if dispersion not in _DISPERSIONS:
        raise ValueError(
            f"dispersion ({dispersion!r}) not recognised; must be one of {_DISPERSIONS}."
        )
    if interval not in _INTERVALS:
        raise ValueError(f"interval ({interval!r}) not recognised; must be one of {_INTERVALS}.")
    if n_boot < 0:
        raise ValueError(f"n_boot ({n_boot}) must be >= 0.")


def estimate_turnout(
    tallies: pl.DataFrame,
    status: pl.DataFrame | None = None,
    *,
    profile: DayProfile | None = None,
    strata: Mapping[str, str] | None = None,
    min_coverage: float = 0.5,
    level: float = 0.95,
    dispersion: str = "pearson",
    interval: str = "garwood",
    n_boot: int = 200,
    seed: int = 0,
    target: str = "expected",
    reference_watcher: str | None = None,
    exclude_from_profile: set[str] | frozenset[str] = frozenset(),
    unmeasured_error: tuple[float, float] = (DEFAULT_ERROR_PER_COUNT, DEFAULT_SYSTEMATIC_SD),
) -> CameraEstimate:
    """Estimate each watched station's full-day voter count from its usable windows.

    See the module docstring for the method (``docs/methods/quickcount-and-cameras.md`` §2.1).

    Parameters
    ----------
    tallies : polars.DataFrame
        Tallies table (``data.read_tallies``), one row per station, window, watcher.
    status : polars.DataFrame, optional
        Camera-status log; windows overlapping an outage become unusable.
    profile : DayProfile, optional
        A known day profile; by default learned from the fully watched stations.
    strata : mapping, optional
        Station id → stratum (e.g. urban/rural) for stratified profiles.
    min_coverage : float
        Least usable share of the day for a station to be estimated.
    level : float
        Level of the intervals.
    dispersion : {"pearson", "negbin", "poisson"}
        How the overdispersion ``φ`` is estimated (``"poisson"``: φ = 1).
    interval : {"garwood", "normal"}
        Interval for ``target="expected"``.
    n_boot : int
        Bootstrap resamples of the profile.
    seed : int
        Seed of the profile bootstrap (recorded in the result).
    target : {"expected", "realised"}
        ``"expected"`` (default, §2.1): the station's expected full-day count, the Poisson
        mean, ``Var ≈ φ·C/W²``. ``"realised"``: the number of voters who actually came (what
        an honest protocol reports); only the unwatched share ``1 − W`` is uncertain, so
        ``Var ≈ φ·C·(1 − W)/W²`` (finite-population correction, Cochran 1977 §2.5) plus the
        profile and watcher terms, a normal interval. Tighter, and the right one to test an
        official figure against when arrivals follow the profile (watcher error keeps it
        from collapsing to a point at W = 1).
    reference_watcher : str, optional
        The count taken as truth where several counted a window (the video counter ``video``
        or a supervisor); each other watcher's counts are multiplied by their κ against it.
        Default: the first watcher id of each window in sort order is compared with the
        others, without correction; see :func:`watcher_agreement`.
    exclude_from_profile : set of str
        Stations not to learn the profile from (suspected ones).
    unmeasured_error : tuple of float
        (φ_w, δ) used when no window was counted twice: random error variance per counted
        voter and all-day relative error (default 0.3 and 10 %, ``docs/cameras.md``). (0, 0)
        gives the count-only interval of the method note's test vector.

    Returns
    -------
    CameraEstimate
        Per station: coverage, count, estimate, SD and interval, status; the profile and the
        watcher agreement used.
    """
    _check(min_coverage, level, dispersion, interval, n_boot, target)
    t = apply_status(tallies, status)
    agreement = watcher_agreement(t, reference_watcher, level, unmeasured_error)
    if target == "realised" and not agreement.measured:
        raise ValueError(
            "target='realised' needs measured watcher error, but no window was counted twice "
            "(by two watchers, or a watcher and the video counter): its interval would rest on "
            "the assumed default. Have a random share of windows counted twice, or use "
            "target='expected'."
        )
    t = agreement.correct(t)
    sys_var = agreement.systematic_variance(t)
    comb = combine_watchers(t)
    starts, ends = _grid(comb)
    ids, counts, usable, k = _matrices(comb, starts)
    strat = np.array([(strata or {}).get(s, POOLED) for s in ids], dtype=object)
    if profile is None:
        learn = np.array([s not in exclude_from_profile for s in ids])
        profile = learn_profile(
            counts[learn], usable[learn], starts, ends, strat[learn], n_boot=n_boot, seed=seed
        )
    elif profile.starts.size != starts.size or not np.allclose(profile.starts, starts):
        raise ValueError(
            "profile windows do not match the tallies' windows "
            f"({profile.starts.size} vs {starts.size} windows)."
        )
    S, K = counts.shape
    z = float(stats.norm.ppf(0.5 + level / 2))
    notes: list[str] = []
    w_rows = np.zeros((S, K))
    have = np.zeros(S, bool)
    var_profile = np.zeros(S)
    C = np.where(usable, counts, 0.0).sum(axis=1)
    for h in np.unique(strat):
        rows = strat == h
        if h not in profile.weights and POOLED not in profile.weights:
            continue
        w, reps, _ = profile.for_stratum(h)
        w_rows[rows], have[rows] = w, True
        if reps is not None and reps.size:
            Wb = reps @ usable[rows].T.astype(float)  # n_boot × stations
            with np.errstate(divide="ignore", invalid="ignore"):
                var_profile[rows] = np.nanvar(
                    np.where(Wb > 0, C[rows] / Wb, np.nan), axis=0, ddof=1
                )
    W = np.where(usable, w_rows, 0.0).sum(axis=1)
    status_arr = np.where(~have, NO_PROFILE, np.where(W >= min_coverage, ESTIMATED, INSUFFICIENT))
    ok = status_arr == ESTIMATED
    vhat = np.where(ok, C / np.where(W > 0, W, 1), np.nan)
    phi = _dispersion(dispersion, counts, usable, w_rows, np.nan_to_num(vhat))
    var_watch = agreement.error_per_count * np.where(usable, counts / k, 0.0).sum(axis=1)
    var_watch = var_watch + np.array([sys_var.get(s, 0.0) for s in ids])
    unseen = _unseen_busiest(counts, usable)
    var_extra = np.nan_to_num(var_profile) + var_watch / np.where(W > 0, W, 1) ** 2
    fpc = np.clip(1 - W, 0, 1) if target == "realised" else 1.0
    sd = np.sqrt(phi * C * fpc / np.where(W > 0, W, 1) ** 2 + var_extra)
    low, high = np.full(S, np.nan), np.full(S, np.nan)
    for i in np.flatnonzero(ok):
        if target == "realised" or interval == "normal":
            low[i], high[i] = max(vhat[i] - z * sd[i], 0.0), vhat[i] + z * sd[i]
            continue
        lc, hc = garwood_interval(C[i], level, phi[i])
        ex = z * math.sqrt(var_extra[i])
        low[i] = max(vhat[i] - math.hypot(vhat[i] - lc / W[i], ex), 0.0)
        high[i] = vhat[i] + math.hypot(hc / W[i] - vhat[i], ex)
    sd = np.where(ok, sd, np.nan)
    if S and not ok.any():
        warnings.warn(
            "no watched station has enough usable coverage to be estimated",
            SmallSampleWarning,
            stacklevel=2,
        )
        notes.append(note("No station had enough usable coverage to be estimated."))
    return CameraEstimate(
        station_id=ids,
        stratum=strat.astype(str),
        coverage=W,
        counted=C,
        estimate=vhat,
        sd=sd,
        low=low,
        high=high,
        dispersion=phi,
        sd_extra=np.where(ok, np.sqrt(var_extra), np.nan),
        unseen_busiest=np.where(ok, unseen, np.nan),
        n_usable=usable.sum(axis=1),
        n_windows=K,
        status=status_arr,
        profile=profile,
        agreement=agreement,
        level=level,
        min_coverage=min_coverage,
        dispersion_method=dispersion,
        interval_method="normal" if target == "realised" else interval,
        n_boot=n_boot,
        seed=seed,
        notes=tuple(notes),
        target=target,
    )
