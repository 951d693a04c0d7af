"""The Klimek et al. (2012) election-fingerprint fraud model: baseline, grid fit, scoring.

``fit`` holds the baseline, the grid fit, the scoring and their results; ``_grid`` the compiled
kernels that move votes on the fingerprint and scan the grid.
"""

from pollwatch.forensics.klimek.fit import (
    BASELINE_SUBSETS,
    LOSSES,
    MIN_STATION_V,
    PEAK_ESTIMATORS,
    SIGMA_EXTREME,
    SMALL_N,
    KlimekBaseline,
    KlimekGrid,
    KlimekResult,
    KlimekScore,
    fit_klimek,
    klimek_baseline,
    score_klimek,
)

__all__ = [
    "BASELINE_SUBSETS",
    "LOSSES",
    "MIN_STATION_V",
    "PEAK_ESTIMATORS",
    "SIGMA_EXTREME",
    "SMALL_N",
    "KlimekBaseline",
    "KlimekGrid",
    "KlimekResult",
    "KlimekScore",
    "fit_klimek",
    "klimek_baseline",
    "score_klimek",
]
