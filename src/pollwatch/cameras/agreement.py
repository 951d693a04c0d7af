"""Several watchers per window: combine their counts and measure how well they agree.

Windows counted by two or more watchers (or a watcher and the video counter) give

* ``kappa`` = Σ reference counts / Σ other counts — the detector-calibration ratio of
  ``docs/methods/quickcount-and-cameras.md`` §2.1 step 4 ("κ = true/automatic on hand-counted windows"),
  with a delta-method (ratio-estimator) interval over windows (Cochran 1977, §6.4);
* ``error_per_count`` φ_w = Σ_t s²_t / Σ_t c̄_t, the between-watcher variance per counted
  voter. Assuming independent watcher errors, one watcher's count in window t has error
  variance ≈ φ_w·c_t, and the mean of k watchers φ_w·c_t/k; the estimator adds this to the
  variance of each station's count.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.errors import SmallSampleWarning
from pollwatch.results import ConfidenceInterval, ResultMixin, Summary

WINDOW_KEY = ["station_id", "window_start", "window_end"]


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
    """Agreement between watchers on double-counted usable windows."""

    n_windows: int
    reference: str | None
    kappa: float
    kappa_ci: ConfidenceInterval
    error_per_count: float
    level: float
    notes: tuple[str, ...] = ()

    def summary(self) -> Summary:
        if self.n_windows == 0:
            return Summary(
                "Watcher agreement",
                "No window was counted by more than one watcher, "
                "so watcher error is not included in the intervals.",
                (),
                self.notes,
            )
        ref = self.reference or "first watcher (by id)"
        rows = [
            ("double-counted windows", f"{self.n_windows:,}"),
            (f"κ = {ref} / others", f"{self.kappa:.3f}"),
            (
                f"{100 * self.level:.0f} % interval",
                f"[{self.kappa_ci.low:.3f}, {self.kappa_ci.high:.3f}]",
            ),
            ("error variance per counted voter", f"{self.error_per_count:.3f}"),
        ]
        text = (
            f"On {self.n_windows:,} windows counted twice, {ref} counted {self.kappa:.3f} times "
            "what the others counted; the disagreement is added to every station's interval."
        )
        return Summary("Watcher agreement", text, rows, self.notes)


def watcher_agreement(
    tallies: pl.DataFrame, reference: str | None = None, level: float = 0.95
) -> WatcherAgreement:
    """Agreement on windows with two or more usable counts (see the module docstring).

    ``reference`` names the watcher taken as truth (e.g. a supervisor hand-counting windows the
    video counter also counted); by default the first watcher id of each window in sort order.
    """
    if not 0 < level < 1:
        raise ValueError(f"level ({level}) must be in the interval (0, 1).")
    usable = tallies.filter(pl.col("usable") & pl.col("count").is_not_null())
    multi = (
        usable.group_by(WINDOW_KEY)
        .agg(pl.col("watcher"), pl.col("count"))
        .filter(pl.col("count").list.len() >= 2)
    )
    a, b, s2, means = [], [], [], []
    for watchers, counts in zip(multi["watcher"].to_list(), multi["count"].to_list(), strict=True):
        order = sorted(range(len(watchers)), key=lambda i: watchers[i])
        ref_i = watchers.index(reference) if reference in watchers else order[0]
        if reference is not None and reference not in watchers:
            continue
        others = [counts[i] for i in range(len(counts)) if i != ref_i]
        a.append(counts[ref_i])
        b.append(float(np.mean(others)))
        s2.append(float(np.var(counts, ddof=1)))
        means.append(float(np.mean(counts)))
    n = len(a)
    notes: list[str] = []
    if n < 2:
        if n == 0 and tallies["watcher"].n_unique() > 1:
            notes.append("Several watchers but no window counted by more than one of them.")
        if n == 1:
            warnings.warn(
                "only one double-counted window: watcher agreement is not estimated",
                SmallSampleWarning,
                stacklevel=2,
            )
            notes.append("Only one double-counted window: watcher error not estimated.")
        nan = float("nan")
        return WatcherAgreement(
            n, reference, nan, ConfidenceInterval(nan, nan), 0.0, level, tuple(notes)
        )
    a_, b_ = np.asarray(a), np.asarray(b)
    if b_.sum() == 0:
        kappa, ci = float("nan"), ConfidenceInterval(float("nan"), float("nan"))
        notes.append("The other watchers counted no voters on double-counted windows: κ undefined.")
    else:
        kappa = float(a_.sum() / b_.sum())
        d = a_ - kappa * b_
        se = math.sqrt(n / (n - 1) * float(np.sum(d**2))) / float(b_.sum())
        t = float(stats.t.ppf(0.5 + level / 2, n - 1))
        ci = ConfidenceInterval(kappa - t * se, kappa + t * se)
    phi = float(np.sum(s2) / np.sum(means)) if np.sum(means) > 0 else 0.0
    return WatcherAgreement(n, reference, kappa, ci, phi, level, tuple(notes))
