"""Exact area under the ROC curve from ranks (Mann–Whitney U / (n₁·n₀)).

Source: Hanley & McNeil (1982), Radiology 143:29, eq. 2 — AUC = U/(n₁n₀) with
U = R₁ − n₁(n₁+1)/2, R₁ the sum of the positives' mid-ranks (ties count one half).
No sampling, no curve fitting: the exact probability that a random positive station scores
above a random negative one.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """AUC of ``score`` at separating ``positive`` (bool) stations; NaN if a class is empty.

    NaN scores are ranked lowest (a station a source cannot see is not flagged by it).
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(positive, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(
            f"score has shape {s.shape}, positive has shape {y.shape}; they must match"
        )
    s = np.where(np.isnan(s), -np.inf, s)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    r = rankdata(s)  # mid-ranks for ties
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
