"""Exact probability that a binomial share lands on a small-denominator fraction.

Null of :func:`pollwatch.forensics.coarse.small_denominator_test` with ``null="binomial"``:
station ``i`` keeps its ballots ``t_i`` and expected share ``p_i = v_i/t_i``, and
``v*_i ~ Bin(t_i, p_i)``. The station counts when ``v*_i/t_i`` reduces to ``a/b`` with
``2 ≤ b ≤ q_max``, which needs ``b | t_i`` and ``v* = a·t_i/b`` with ``gcd(a, b) = 1``, so
the probability is a short sum of binomial masses (at most Σ φ(b) ≤ 33 terms for q_max = 10).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(inline="always", cache=True)
def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


@numba.njit(cache=True)
def small_denominator_probabilities(t: np.ndarray, v: np.ndarray, q_max: int) -> np.ndarray:
    """``P(v*/t has reduced denominator in [2, q_max])`` per station, ``v* ~ Bin(t, v/t)``."""
    out = np.zeros(t.size)
    for i in range(t.size):
        n, k = t[i], v[i]
        if n < 2 or k <= 0 or k >= n:  # p = 0 or 1: v* = v, a share of 0 or 1 (q = 1)
            continue
        p = k / n
        lp, lq = math.log(p), math.log1p(-p)
        lg_n = math.lgamma(n + 1.0)
        acc = 0.0
        for b in range(2, min(q_max, n) + 1):
            if n % b:
                continue
            step = n // b
            for a in range(1, b):
                if _gcd(a, b) != 1:
                    continue
                j = a * step
                acc += math.exp(
                    lg_n - math.lgamma(j + 1.0) - math.lgamma(n - j + 1.0) + j * lp + (n - j) * lq
                )
        out[i] = acc
    return out
