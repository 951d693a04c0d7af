"""Exact binomial window masses of the integer-percentage test, one station at a time (numba).

The vectorised NumPy enumeration materialised every (station, percent, count) triple (~2 M
on the 2012 file) and spent 0.6–1 s in index arithmetic; this loop does the same arithmetic
in place, with the same float operations, so the windows are the same sets of counts.

Memory and time do not depend on a count's value: the log-factorial table stops at
:data:`LOGFACT_MAX` (larger stations use ``math.lgamma``), and a station larger than that
sums only the counts within ``mean ± (n_sd·sd + 12)`` of each window, switching to the
normal approximation with continuity correction (de Moivre–Laplace; Feller 1968, vol. 1,
ch. VII) once ``sd`` exceeds :data:`SD_EXACT`. No real station comes near either bound (the
largest in the 2011/2012 Russian files has 22,671 voters), so their results are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: the log-factorial table never holds more entries than this (8 MB)
LOGFACT_MAX = 1_000_000
#: above this binomial sd a window's mass is the normal approximation, not a sum of terms
SD_EXACT = 1_000.0


@njit(cache=True)
def _inside(k: int, n: int, j: int, window: float) -> bool:  # pragma: no cover - compiled
    # the same expression as integers.integer_flags, so float rounding agrees with it
    return abs((100.0 * k) / n - j) <= window


@njit(cache=True)
def _logfact(logfact, k):  # pragma: no cover - compiled
    return logfact[k] if k < logfact.shape[0] else math.lgamma(k + 1.0)


@njit(cache=True)
def _phi(z):  # pragma: no cover - compiled
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit(cache=True)
def window_null(x, n, window, n_sd, logfact):  # pragma: no cover - compiled
    """Per station ``P(Bin(n, x/n) lands within window pp of a whole percent)``, and per whole
    percent ``j`` the expected number of stations in its window and that count's variance
    (``Σ_s P_sj (1 − P_sj)``: a station is in window ``j`` or not).

    Counts further than ``n_sd·sd + 12`` from the mean are skipped (mass below 1e-9).
    ``logfact`` may be shorter than the largest ``n`` (:data:`LOGFACT_MAX`); stations with
    ``n`` beyond it are summed over their windows' overlap with that range only, or, when
    ``sd > SD_EXACT``, by the normal approximation: O(1) per window whatever ``n`` is.
    """
    ns = x.shape[0]
    prob = np.zeros(ns)
    exp = np.zeros(101)
    var = np.zeros(101)
    for s in range(ns):
        nn = n[s]
        p = x[s] / nn
        mu = nn * p
        sd = math.sqrt(mu * (1.0 - p))
        klo = min(max(math.floor(mu - n_sd * sd - 12), 0.0), float(nn))
        khi = min(max(math.ceil(mu + n_sd * sd + 12), 0.0), float(nn))
        jlo = int(math.floor((100.0 * klo) / nn))
        jhi = min(int(math.ceil((100.0 * khi) / nn)), 100)
        lp = math.log(p) if p > 0.0 else 0.0
        l1p = math.log1p(-p) if p < 1.0 else 0.0
        total = 0.0
        for j in range(jlo, jhi + 1):
            lo = int(math.ceil(nn * (j - window) / 100))
            hi = int(math.floor(nn * (j + window) / 100))
            if _inside(lo - 1, nn, j, window):
                lo -= 1
            if not _inside(lo, nn, j, window):
                lo += 1
            if _inside(hi + 1, nn, j, window):
                hi += 1
            if not _inside(hi, nn, j, window):
                hi -= 1
            lo = max(lo, 0)
            hi = min(hi, nn)
            big = nn >= logfact.shape[0]
            if big:  # only the counts that carry mass: the window can be ~n/1000 wide
                # (float(nn) may round above the largest int64: never convert it back)
                lo = max(lo, nn if klo >= float(nn) else int(klo))
                hi = min(hi, nn if khi >= float(nn) else int(khi))
            mass = 0.0
            if big and sd > SD_EXACT:
                if hi >= lo:
                    mass = _phi((hi + 0.5 - mu) / sd) - _phi((lo - 0.5 - mu) / sd)
            else:
                lfn = _logfact(logfact, nn)
                for k in range(lo, hi + 1):
                    if p == 0.0:
                        mass += 1.0 if k == 0 else 0.0
                    elif p == 1.0:
                        mass += 1.0 if k == nn else 0.0
                    else:
                        mass += math.exp(
                            lfn
                            - _logfact(logfact, k)
                            - _logfact(logfact, nn - k)
                            + k * lp
                            + (nn - k) * l1p
                        )
            if mass > 0.0:
                total += mass
                exp[j] += mass
                var[j] += mass * (1.0 - mass)
        prob[s] = min(total, 1.0)
    return prob, exp, var
