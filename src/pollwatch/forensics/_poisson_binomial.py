"""Tail of a sum of independent Bernoulli variables (a Poisson-binomial count).

Shared by the tests whose null is "each station independently lands on a pattern with a
known probability": integer percentages and exact small-denominator shares.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats


def poisson_binomial_sf(observed: int, probs: np.ndarray) -> float:
    """``P(S ≥ observed)`` for a Poisson-binomial sum by the Lugannani–Rice saddlepoint formula.

    Lugannani & Rice (1980), *Adv. Appl. Prob.* 12:475–490, with Daniels' (1987, *Int. Stat.
    Rev.* 55:37–48, eq. 3.9) second continuity correction for lattice variables: the
    saddlepoint solves ``K'(θ) = observed − ½`` and ``u = 2·sinh(θ/2)·sqrt(K''(θ))``. Unlike
    the normal tail it stays accurate ten standard deviations out.
    """
    y = observed - 0.5
    mu = float(probs.sum())
    var = float((probs * (1 - probs)).sum())
    if var <= 0:
        return float(observed <= mu)
    if y >= probs.size:
        return 0.0
    if y <= 0:
        return 1.0
    if abs(y - mu) < 1e-6 * math.sqrt(var):
        return float(stats.norm.sf((y - mu) / math.sqrt(var)))
    logit = special.logit(probs)
    theta = (y - mu) / var
    for _ in range(100):
        q = special.expit(logit + theta)
        k1, k2 = q.sum(), (q * (1 - q)).sum()
        step = (k1 - y) / k2
        theta -= step
        if abs(step) < 1e-12:
            break
    q = special.expit(logit + theta)
    k2 = float((q * (1 - q)).sum())
    with np.errstate(divide="ignore"):  # p = 0 or 1 contribute log(0) = -inf terms, harmlessly
        kk = float(np.logaddexp(np.log1p(-probs), np.log(probs) + theta).sum())
    w = math.copysign(math.sqrt(max(2 * (theta * y - kk), 0.0)), theta)
    u = 2 * math.sinh(theta / 2) * math.sqrt(k2)
    sf = stats.norm.sf(w) + stats.norm.pdf(w) * (1 / u - 1 / w)
    return float(min(1.0, max(0.0, sf)))
