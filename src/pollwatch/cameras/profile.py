"""The time-of-day profile w(t): which share of a day's voters arrives in each window.

Learned from fully watched stations (every window usable), per stratum when strata are
given; never from the commission's interim turnout bulletins, which are under test
(``docs/methods/quickcount-and-cameras.md`` §2.1 step 2). Ratio of sums: w(t) = Σ_s c_st / Σ_s Σ_t c_st.
Its uncertainty comes from a bootstrap over the fully watched stations of each stratum.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from pollwatch.cameras.data import format_time
from pollwatch.errors import DegenerateDataWarning, SmallSampleWarning
from pollwatch.i18n import N_, note
from pollwatch.results import ResultMixin, Summary

POOLED = "(all)"


@dataclass(frozen=True)
class DayProfile(ResultMixin):
    """w(t) on a grid of windows, per stratum, with bootstrap replicates.

    ``weights[h]`` sums to 1 over the grid; ``replicates[h]`` has shape (n_boot, K) (empty
    when the profile was given rather than learned).
    """

    starts: np.ndarray
    ends: np.ndarray
    weights: dict[str, np.ndarray]
    n_stations: dict[str, int]
    replicates: dict[str, np.ndarray] = field(default_factory=dict)
    seed: int | None = None
    source: str = N_("learned from fully watched stations")
    notes: tuple[str, ...] = ()
    _dict_exclude = ("replicates",)

    @classmethod
    def fixed(cls, starts, ends, weights) -> DayProfile:
        """A known profile (no uncertainty), e.g. from an earlier election's full-day counts."""
        w = np.asarray(weights, dtype=float)
        if w.ndim != 1 or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"weights ({weights}) must be non-negative and sum to 1.")
        s, e = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
        if s.shape != w.shape or e.shape != w.shape:
            raise ValueError(
                f"starts, ends and weights must have the same length (got "
                f"{s.size}, {e.size}, {w.size})."
            )
        return cls(s, e, {POOLED: w}, {POOLED: 0}, {}, None, "given")

    def for_stratum(self, stratum: str | None) -> tuple[np.ndarray, np.ndarray | None, str]:
        """Weights and replicates for a stratum, falling back to the pooled profile."""
        key = stratum if stratum in self.weights else POOLED
        if key not in self.weights:
            raise KeyError(f"no profile for stratum {stratum!r} and no pooled profile")
        return self.weights[key], self.replicates.get(key), key

    def summary(self) -> Summary:

        rows = [
            (
                f"{format_time(s)}–{format_time(e)}",
                "  ".join(f"{h}: {100 * w[i]:.1f} %" for h, w in self.weights.items()),
            )
            for i, (s, e) in enumerate(zip(self.starts, self.ends, strict=True))
        ]
        n = ", ".join(f"{h}: {k:,}" for h, k in self.n_stations.items())
        text = f"Day profile w(t), {self.source} ({n} stations)."
        return Summary("Day profile", text, rows, self.notes)


def learn_profile(
    counts: np.ndarray,
    usable: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    strata: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
    min_stations: int = 5,
) -> DayProfile:
    """Learn w(t) from the rows of ``counts`` (stations × windows) whose windows are all usable.

    Parameters
    ----------
    counts : numpy.ndarray
        Counts, stations × windows.
    usable : numpy.ndarray
        Usable windows, the same shape (boolean).
    starts, ends : numpy.ndarray
        Start and end of each window (minutes after midnight).
    strata : numpy.ndarray
        Stratum of each station.
    n_boot : int
        Bootstrap resamples of the fully watched stations of each stratum, drawn with
        ``numpy.random.default_rng(seed)``.
    seed : int
        Seed of the bootstrap.
    min_stations : int
        A stratum with fewer fully watched stations uses the pooled profile (warned, with a
        note).

    Returns
    -------
    DayProfile
        Window weights per stratum (and pooled), stations behind each, bootstrap replicates.
    """
    if n_boot < 0:
        raise ValueError(f"n_boot ({n_boot}) must be >= 0.")
    full = usable.all(axis=1)
    rng = np.random.default_rng(seed)
    weights, n_st, reps, notes = {}, {}, {}, []
    groups = [(POOLED, full)] + [
        (str(h), full & (strata == h)) for h in np.unique(strata) if str(h) != POOLED
    ]
    for h, mask in groups:
        c = counts[mask]
        total = c.sum()
        if h != POOLED and (mask.sum() < min_stations or total <= 0):
            notes.append(
                note(
                    "Stratum {stratum}: {n} fully watched station(s); the pooled profile is used.",
                    stratum=h,
                    n=int(mask.sum()),
                )
            )
            warnings.warn(
                f"stratum {h!r} has {int(mask.sum())} fully watched stations "
                f"(< {min_stations}); using the pooled day profile",
                SmallSampleWarning,
                stacklevel=3,
            )
            continue
        if total <= 0:
            continue
        weights[h] = c.sum(axis=0) / total
        n_st[h] = int(mask.sum())
        if n_boot and c.shape[0] > 1:
            m = rng.multinomial(c.shape[0], np.full(c.shape[0], 1 / c.shape[0]), size=n_boot)
            b = m @ c
            reps[h] = b / np.maximum(b.sum(axis=1, keepdims=True), 1e-300)
    if POOLED not in weights:
        warnings.warn(
            "no fully watched station with any counted voter: the day profile cannot "
            "be learned, so no station can be extrapolated",
            DegenerateDataWarning,
            stacklevel=3,
        )
        notes.append(note("No fully watched station: the day profile could not be learned."))
    elif n_st[POOLED] < min_stations:
        warnings.warn(
            f"only {n_st[POOLED]} fully watched stations: the day profile is weak",
            SmallSampleWarning,
            stacklevel=3,
        )
        notes.append(note("Only {n} fully watched stations teach the day profile.", n=n_st[POOLED]))
    return DayProfile(
        starts=starts,
        ends=ends,
        weights=weights,
        n_stations=n_st,
        replicates=reps,
        seed=seed,
        notes=tuple(notes),
    )
