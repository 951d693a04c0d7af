"""Several watchers per window: combine their counts and measure watcher error.

Windows counted by two or more watchers (or a watcher and the video counter) are a
measurement-error design (Bland & Altman 1986, *Lancet* 327:307–310, the paired differences
``d_t = a_t − b_t``, their mean — the bias — and the limits of agreement ``d̄ ± 1.96·s_d``;
Fuller 1987, *Measurement Error Models*, §1.1, for the model ``observed = true·(1/κ) + e``):

* ``kappa`` = Σ reference counts / Σ other counts — the calibration ratio of
  ``docs/methods/quickcount-and-cameras.md`` §2.1 step 4, a ratio estimator with a
  delta-method interval over windows (Cochran 1977, §6.4). With a named ``reference`` (the video
  counter or a supervisor's count of the recording) there is one κ per watcher with enough
  double-counted windows (:data:`MIN_PAIRS`), the pooled κ for the others, and the estimator
  multiplies each watcher's counts by it (the κ correction). Between ordinary watchers κ only
  compares them: it cannot say how many voters *both* missed, so no correction is applied.
* ``error_per_count`` φ_w = Σ_t s²_t / Σ_t c̄_t, the between-watcher variance per counted
  voter (random, window-to-window error). Assuming independent watcher errors, one watcher's
  count in window t has error variance ≈ φ_w·c_t, and the mean of k watchers φ_w·c_t/k.
* ``systematic_sd`` δ: the relative error that stays with a watcher all day (missed or
  double-counted voters), ``Var = (δ·C)²`` per station. Measured as the standard error of the
  watcher's κ (plus the spread of κ between watchers, by moments, for watchers without their own).

With no window counted twice nothing is measured: φ_w = :data:`DEFAULT_ERROR_PER_COUNT` and
δ = :data:`DEFAULT_SYSTEMATIC_SD` (conservative defaults, ``docs/cameras.md`` "Watcher error"),
and the result says "unmeasured: default".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.errors import SmallSampleWarning
from pollwatch.i18n import N_, gettext, note
from pollwatch.results import ConfidenceInterval, ResultMixin, Summary

WINDOW_KEY = ["station_id", "window_start", "window_end"]
#: Default watcher error when no window was counted twice. φ_w = 0.3 is six times the variance
#: per voter of careful watchers in the simulations (0.05) and the "noisy watchers" calibration
#: setting; δ = 0.10 allows a watcher to miss (or double-count) a tenth of the voters all day,
#: wider than the 1–15 % detection losses the realistic simulation draws.
DEFAULT_ERROR_PER_COUNT = 0.3
DEFAULT_SYSTEMATIC_SD = 0.10
#: double-counted windows a watcher needs for a κ of their own
MIN_PAIRS = 10


def combine_watchers(tallies: pl.DataFrame) -> pl.DataFrame:
    """One row per station and window: mean count of the watchers, ``n_watchers``.

    A window is usable only if every watcher of it marked it usable: when one watcher saw the
    camera turned away, the window is missing (never zero, never half-counted).
    """
    return (
        tallies.group_by(WINDOW_KEY, maintain_order=True)
        .agg(
            pl.col("count").cast(pl.Float64).mean().alias("count"),
            pl.col("usable").all().alias("usable"),
            pl.len().alias("n_watchers"),
            pl.col("reason").drop_nulls().first().alias("reason"),
            pl.col("source_sha256").drop_nulls().first().alias("source_sha256"),
        )
        .with_columns(pl.col("n_watchers").cast(pl.Int64))
    )


@dataclass(frozen=True)
class WatcherAgreement(ResultMixin):
    """Watcher error measured on double-counted usable windows (or the stated default)."""

    n_windows: int
    reference: str | None
    kappa: float
    kappa_ci: ConfidenceInterval
    error_per_count: float
    level: float
    notes: tuple[str, ...] = ()
    measured: bool = False
    source: str = N_("unmeasured: default")
    systematic_sd: float = DEFAULT_SYSTEMATIC_SD
    mean_difference: float = float("nan")  # reference − others, per window (Bland–Altman bias)
    limits_of_agreement: ConfidenceInterval = ConfidenceInterval(float("nan"), float("nan"))
    kappa_by_watcher: dict[str, float] = field(default_factory=dict)
    kappa_se_by_watcher: dict[str, float] = field(default_factory=dict)
    corrected: bool = False

    def kappa_for(self, watcher: str) -> tuple[float, float]:
        """(κ, its standard error) applied to ``watcher``'s counts (1, 0 for the reference)."""
        if watcher == self.reference:
            return 1.0, 0.0
        if watcher in self.kappa_by_watcher:
            return self.kappa_by_watcher[watcher], self.kappa_se_by_watcher[watcher]
        return self.kappa, self.kappa_se_by_watcher.get("(pooled)", 0.0)

    def correct(self, tallies: pl.DataFrame) -> pl.DataFrame:
        """Counts multiplied by each watcher's κ (only when a reference was named and measured)."""
        if not self.corrected:
            return tallies.with_columns(pl.col("count").cast(pl.Float64))
        names = tallies["watcher"].unique().to_list()
        factor = {w: self.kappa_for(w)[0] for w in names}
        return tallies.with_columns(
            (pl.col("count").cast(pl.Float64) * pl.col("watcher").replace_strict(factor)).alias(
                "count"
            )
        )

    def systematic_variance(self, tallies: pl.DataFrame) -> dict[str, float]:
        """Per station ``Σ_w (δ_w·C_sw)²``: the all-day error of each watcher, on the voters
        they counted there (usable windows, shared equally between a window's watchers)."""
        use = tallies.filter(pl.col("usable") & pl.col("count").is_not_null())
        if use.height == 0:
            return {}
        k = use.group_by(WINDOW_KEY).agg(pl.len().alias("_k"))
        per = (
            use.join(k, on=WINDOW_KEY)
            .group_by("station_id", "watcher")
            .agg((pl.col("count").cast(pl.Float64) / pl.col("_k")).sum().alias("_c"))
        )
        out: dict[str, float] = {}
        for sid, w, c in per.iter_rows():
            if self.corrected:
                kap, se = self.kappa_for(w)
                rel = se / kap if kap > 0 else 0.0
            else:
                rel = self.systematic_sd
            out[sid] = out.get(sid, 0.0) + (rel * c) ** 2
        return out

    def summary(self) -> Summary:
        if not self.measured:
            return Summary(
                "Watcher error",
                gettext(
                    "No window was counted by two watchers (or a watcher and the video counter), "
                    "so watcher error is unmeasured; the intervals use the conservative default "
                    "(variance {variance} per counted voter, and a watcher may miss or "
                    "double-count {pct} % of voters all day)."
                ).format(
                    variance=f"{self.error_per_count:g}", pct=f"{100 * self.systematic_sd:.0f}"
                ),
                (("source", self.source),),
                self.notes,
            )
        ref = self.reference or gettext("first watcher (by id)")
        rows = [
            ("source", self.source),
            (f"κ = {ref} / others", f"{self.kappa:.3f}"),
            (
                f"{100 * self.level:.0f} % interval",
                f"[{self.kappa_ci.low:.3f}, {self.kappa_ci.high:.3f}]",
            ),
            ("mean difference per window (Bland–Altman bias)", f"{self.mean_difference:.2f}"),
            (
                "95 % limits of agreement",
                f"[{self.limits_of_agreement.low:.2f}, {self.limits_of_agreement.high:.2f}]",
            ),
            ("error variance per counted voter", f"{self.error_per_count:.3f}"),
            ("all-day relative error δ (pooled κ)", f"{self.systematic_sd:.3f}"),
        ]
        rows += [(f"κ of {w}", f"{v:.3f}") for w, v in sorted(self.kappa_by_watcher.items())]
        what = (
            gettext("each watcher's counts are multiplied by their κ")
            if self.corrected
            else gettext("no κ correction (no reference count named)")
        )
        text = gettext(
            "On {n_windows} windows counted twice, {reference} counted {kappa} times what the "
            "others counted; {what}, and the measured error is added to every station's interval."
        ).format(
            n_windows=f"{self.n_windows:,}", reference=ref, kappa=f"{self.kappa:.3f}", what=what
        )
        return Summary("Watcher error", text, rows, self.notes)


def _ratio(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, ConfidenceInterval]:
    """Ratio estimator Σa/Σb, its delta-method SE and t interval (Cochran 1977, §6.4)."""
    n = a.size
    if b.sum() <= 0 or n < 2:
        nan = float("nan")
        return nan, nan, ConfidenceInterval(nan, nan)
    r = float(a.sum() / b.sum())
    d = a - r * b
    se = math.sqrt(n / (n - 1) * float(np.sum(d**2))) / float(b.sum())
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return r, se, ConfidenceInterval(r - t * se, r + t * se)


def _pairs(tallies: pl.DataFrame, reference: str | None):
    usable = tallies.filter(pl.col("usable") & pl.col("count").is_not_null())
    multi = (
        usable.group_by(WINDOW_KEY)
        .agg(pl.col("watcher"), pl.col("count"))
        .filter(pl.col("count").list.len() >= 2)
        .sort(WINDOW_KEY)  # sums in a fixed order: the same tallies give the same digits
    )
    rows = []  # (reference count, mean of others, variance, mean, [(watcher, count)])
    for watchers, counts in zip(multi["watcher"].to_list(), multi["count"].to_list(), strict=True):
        if reference is not None and reference not in watchers:
            continue
        order = sorted(range(len(watchers)), key=lambda i: watchers[i])
        ref_i = watchers.index(reference) if reference is not None else order[0]
        others = [(watchers[i], counts[i]) for i in range(len(counts)) if i != ref_i]
        rows.append(
            (
                counts[ref_i],
                float(np.mean([c for _, c in others])),
                float(np.var(counts, ddof=1)),
                float(np.mean(counts)),
                others,
            )
        )
    return rows


def watcher_agreement(
    tallies: pl.DataFrame,
    reference: str | None = None,
    level: float = 0.95,
    default: tuple[float, float] = (DEFAULT_ERROR_PER_COUNT, DEFAULT_SYSTEMATIC_SD),
) -> WatcherAgreement:
    """Watcher error from windows with two or more usable counts (see the module docstring).

    ``reference`` names the count taken as truth (the video counter, or a supervisor counting
    the recording); then each watcher's κ is measured against it and applied. By default the
    first watcher id of each window in sort order is compared with the others, and no
    correction is applied. ``default`` = (φ_w, δ) used where nothing is measured.
    """
    if not 0 < level < 1:
        raise ValueError(f"level ({level}) must be in the interval (0, 1).")
    if min(default) < 0:
        raise ValueError(f"default watcher error ({default}) must be non-negative.")
    phi0, delta0 = default
    rows = _pairs(tallies, reference)
    n = len(rows)
    notes: list[str] = []
    if n < 2:
        if reference is not None and reference not in set(tallies["watcher"].to_list()):
            notes.append(
                note(
                    "The reference count {reference} appears in no tally.",
                    reference=repr(reference),
                )
            )
        if n == 0 and tallies["watcher"].n_unique() > 1:
            notes.append(note("Several watchers but no window counted by more than one of them."))
        if n == 1:
            warnings.warn(
                "only one double-counted window: watcher error is not measured",
                SmallSampleWarning,
                stacklevel=2,
            )
            notes.append(note("Only one double-counted window: watcher error not measured."))
        phi_s, delta_s = f"{phi0:g}", f"{delta0:.0%}"
        notes.append(
            note(
                "Watcher error is unmeasured: the intervals use the default φ_w = {phi} per "
                "counted voter and δ = {delta} all-day error (docs/cameras.md, 'Watcher "
                "error'). Have a random share of windows counted twice to measure it.",
                phi=phi_s,
                delta=delta_s,
            )
        )
        nan = float("nan")
        return WatcherAgreement(
            n,
            reference,
            nan,
            ConfidenceInterval(nan, nan),
            phi0,
            level,
            tuple(notes),
            systematic_sd=delta0,
        )
    a_ = np.array([r[0] for r in rows], float)
    b_ = np.array([r[1] for r in rows], float)
    kappa, se, ci = _ratio(a_, b_, level)
    if not math.isfinite(kappa):
        notes.append(
            note("The other watchers counted no voters on double-counted windows: κ undefined.")
        )
    s2, means = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
    phi = float(np.sum(s2) / np.sum(means)) if np.sum(means) > 0 else 0.0
    d = a_ - b_
    md, sd_d = float(d.mean()), float(d.std(ddof=1))
    loa = ConfidenceInterval(md - 1.96 * sd_d, md + 1.96 * sd_d)
    by_w: dict[str, float] = {}
    se_w: dict[str, float] = {"(pooled)": se if math.isfinite(se) else 0.0}
    corrected = reference is not None and math.isfinite(kappa) and kappa > 0
    systematic = delta0
    if corrected:
        pairs: dict[str, tuple[list[float], list[float]]] = {}
        for ref_c, _, _, _, others in rows:
            for w, c in others:
                pairs.setdefault(w, ([], []))[0].append(ref_c)
                pairs[w][1].append(c)
        for w, (ra, rb) in pairs.items():
            if len(ra) >= MIN_PAIRS:
                k_w, se_k, _ = _ratio(np.array(ra, float), np.array(rb, float), level)
                if math.isfinite(k_w) and k_w > 0:
                    by_w[w], se_w[w] = k_w, se_k
        # between-watcher spread of κ (moments), for watchers without their own
        tau2 = 0.0
        if len(by_w) >= 2:
            ks = np.array(list(by_w.values()))
            tau2 = max(0.0, float(ks.var(ddof=1)) - float(np.mean([se_w[w] ** 2 for w in by_w])))
        se_w["(pooled)"] = math.sqrt(se_w["(pooled)"] ** 2 + tau2)
        systematic = se_w["(pooled)"] / kappa
        n_s = f"{n:,}"
        notes.append(
            note(
                "κ measured against {reference} on {n} windows: {n_own} watcher(s) with "
                "≥ {min_pairs} windows have their own κ, the others the pooled one.",
                reference=reference,
                n=n_s,
                n_own=len(by_w),
                min_pairs=MIN_PAIRS,
            )
        )
    else:
        delta_s = f"{delta0:.0%}"
        notes.append(
            note(
                "The double counts compare watchers with each other, not with a reference count: "
                "they measure the random error φ_w, not voters every watcher missed; the all-day "
                "error δ keeps its default ({delta}). Name a reference "
                "(the video counter or a supervisor) to measure and correct it.",
                delta=delta_s,
            )
        )
    src = (
        note("double counts: {n} windows against {reference}", n=n, reference=reference)
        if reference
        else note("double counts: {n} windows between watchers", n=n)
    )
    return WatcherAgreement(
        n,
        reference,
        kappa,
        ci,
        phi,
        level,
        tuple(notes),
        measured=True,
        source=src,
        systematic_sd=systematic,
        mean_difference=md,
        limits_of_agreement=loa,
        kappa_by_watcher=by_w,
        kappa_se_by_watcher=se_w,
        corrected=corrected,
    )
