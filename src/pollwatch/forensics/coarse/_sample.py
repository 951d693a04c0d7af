"""Fast exact samplers and the RKD resampling kernel (private, numba).

The RKD resampling draws four variates per station per replicate (two Beta, two binomial);
numpy needs ~28 ms per replicate on 95k stations, so 1000 replicates cost ~30 s. This module
draws them in compiled code from a xoshiro256** stream seeded by a ``numpy.random.
SeedSequence`` (one independent stream per replicate, so results do not depend on threads,
processes or Dask workers):

* Gamma: Marsaglia & Tsang (2000), *ACM TOMS* 26(3):363–372, with the ``U^(1/a)`` boost
  for ``a < 1``; Beta as ``G_a/(G_a + G_b)``.
* Binomial: Hörmann (1993), "The generation of binomial random variates", *J. Stat.
  Comput. Simul.* 46:101–110 (BTRS, transformed rejection with squeeze) when
  ``n·min(p, 1−p) ≥ 10``, else the geometric waiting-time inversion (Devroye 1986, X.4).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
#: ``ln k! − [(k + ½) ln(k + 1) − (k + 1) + ½ ln 2π]`` for k = 0…9 (Stirling tail)
_FC = np.array(
    [
        math.lgamma(k + 1) - ((k + 0.5) * math.log(k + 1) - (k + 1) + _LOG_SQRT_2PI)
        for k in range(10)
    ]
)


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang (2000), "The ziggurat method for generating random variables",
    *J. Stat. Softw.* 5(8): the 128-layer tables of ``zigset`` for the normal."""
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    kn, wn, fn = np.zeros(128), np.zeros(128), np.zeros(128)
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0], kn[1] = (dn / q) * m1, 0.0
    wn[0], wn[127] = q / m1, dn / m1
    fn[0], fn[127] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = (dn / tn) * m1
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()


def seed_states(seqs: list[np.random.SeedSequence]) -> np.ndarray:
    """xoshiro256** states (``len(seqs)`` × 4 uint64) from SeedSequence children."""
    st = np.array([s.generate_state(4, np.uint64) for s in seqs], dtype=np.uint64)
    st[(st == 0).all(axis=1), 0] = np.uint64(1)  # the all-zero state is invalid
    return st


@numba.njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(inline="always", cache=True)
def _next(s):
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@numba.njit(inline="always", cache=True)
def uniform(s):
    """Uniform on [0, 1) with 53 random bits."""
    return float(_next(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always", cache=True)
def _signed32(s):
    u = np.int64(_next(s) >> np.uint64(32))
    return u - np.int64(4294967296) if u >= np.int64(2147483648) else u


@numba.njit(inline="always", cache=True)
def _normal(s):
    """Standard normal by the ziggurat method (Marsaglia & Tsang 2000, ``RNOR``/``nfix``)."""
    hz = _signed32(s)
    iz = hz & 127
    if abs(hz) < _KN[iz]:
        return hz * _WN[iz]
    r = 3.442620
    while True:
        x = hz * _WN[iz]
        if iz == 0:  # the tail beyond r
            while True:
                u1 = uniform(s)
                u2 = uniform(s)
                if u1 == 0.0 or u2 == 0.0:
                    continue
                x = -math.log(u1) * 0.2904764
                y = -math.log(u2)
                if y + y >= x * x:
                    break
            return r + x if hz > 0 else -r - x
        if _FN[iz] + uniform(s) * (_FN[iz - 1] - _FN[iz]) < math.exp(-0.5 * x * x):
            return x
        hz = _signed32(s)
        iz = hz & 127
        if abs(hz) < _KN[iz]:
            return hz * _WN[iz]


@numba.njit(inline="always", cache=True)
def gamma(s, a):
    """Gamma(a, 1) by Marsaglia–Tsang; ``a < 1`` via ``G(a + 1)·U^(1/a)``."""
    boost = 1.0
    if a < 1.0:
        u = uniform(s)
        while u == 0.0:
            u = uniform(s)
        boost = u ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(s)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return d * v * boost
        if u > 0.0 and math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * boost


@numba.njit(inline="always", cache=True)
def beta(s, a, b):
    x = gamma(s, a)
    y = gamma(s, b)
    if x + y == 0.0:  # both underflowed (tiny shapes): pick an end by the mean
        return 1.0 if uniform(s) < a / (a + b) else 0.0
    return x / (x + y)


@numba.njit(inline="always", cache=True)
def _fc(k):
    if k <= 9:
        return _FC[int(k)]
    kp1 = k + 1.0
    kp1sq = kp1 * kp1
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / kp1


@numba.njit(inline="always", cache=True)
def _binom_inversion(s, n, p):
    # successes = number of geometric waiting times that fit into n trials
    lq = math.log1p(-p)
    total = 0.0
    k = 0
    while True:
        u = uniform(s)
        if u == 0.0:
            continue
        g = math.log(u) / lq  # compare before ceil(): ceil of a huge float overflows int64
        if g > n - total:
            return k
        total += math.ceil(g)
        k += 1


@numba.njit(inline="always", cache=True)
def _binom_btrs(s, n, p):
    spq = math.sqrt(n * p * (1.0 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1.0 - p)
    alpha = (2.83 + 5.1 / b) * spq
    m = math.floor((n + 1) * p)
    const = math.nan  # the k-free part of the bound, computed on first need
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return int(k)
        if v == 0.0:
            continue
        v = math.log(v * alpha / (a / (us * us) + b))
        if const != const:
            const = (m + 0.5) * math.log((m + 1.0) / (r * (n - m + 1.0))) + _fc(m) + _fc(n - m)
        bound = (
            const
            + (n + 1.0) * math.log((n - m + 1.0) / (n - k + 1.0))
            + (k + 0.5) * math.log(r * (n - k + 1.0) / (k + 1.0))
            - _fc(k)
            - _fc(n - k)
        )
        if v <= bound:
            return int(k)


@numba.njit(inline="always", cache=True)
def binomial(s, n, p):
    """Binomial(n, p), exact."""
    if n <= 0 or not p > 0.0:  # also NaN: never loop on a bad probability
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    q = 1.0 - p if flip else p
    k = _binom_btrs(s, n, q) if n * q >= 10.0 else _binom_inversion(s, n, q)
    return n - k if flip else k


@numba.njit(inline="always", cache=True)
def _small_denominator(v, t, q_max):
    """True if ``v/t`` in lowest terms has a denominator in ``[2, q_max]`` (not 0, not 1)."""
    a, b = v, t
    while b:
        a, b = b, a % b
    q = t // a
    return 2 <= q <= q_max


@numba.njit(inline="always", cache=True)
def _pick(s, cum, i):
    u = uniform(s) * cum[i, cum.shape[1] - 1]
    j = 0
    while j < cum.shape[1] - 1 and u >= cum[i, j]:
        j += 1
    return j


#: a component's beta-binomial table stops where the pmf falls below this fraction of its
#: peak: the mass left out is < 1e-16, below the 2^-53 resolution of the uniform that inverts it
_TABLE_EPS = 1e-17
#: the inversion tables hold at most this many counts (4 arrays of 8 MB); a station with more
#: registered voters (no real one comes near: 22,671 at most in the 2011/2012 Russian files)
#: draws ``p_t ~ Beta`` and ``t* ~ Bin(N, p_t)`` directly, the same distribution in O(1)
TABLE_MAX = 1_000_000


@numba.njit(inline="always", cache=True)
def _betabin_table(n, k_obs, cum, i, alpha, beta_, pmf, comp):
    """Unnormalised pmf of ``t* ~ Σ_j r_ij BetaBin(n, k_obs + α_j, n − k_obs + β_j)`` into
    ``pmf[lo:hi + 1]`` (``pmf`` is zero outside; the caller re-zeroes it). Each component is
    built from its mean outwards by the exact pmf ratio and normalised by its own sum
    (unimodal: ``a = k_obs + α_j`` may be < 1 only with ``b > 1``). Returns ``(lo, hi)``."""
    lo, hi = n, 0
    prev = 0.0
    for j in range(cum.shape[1]):
        w = cum[i, j] - prev
        prev = cum[i, j]
        if not w > 0.0:
            continue
        a = k_obs + alpha[j]
        b = n - k_obs + beta_[j]
        k0 = min(max(int(n * a / (a + b)), 0), n)
        comp[k0] = 1.0
        peak, total = 1.0, 1.0
        lj = k0
        val = 1.0
        while lj > 0:  # P(k − 1) = P(k)·k·(n − k + b) / ((n − k + 1)(k − 1 + a))
            val = val * lj * (n - lj + b) / ((n - lj + 1) * (lj - 1 + a))
            lj -= 1
            comp[lj] = val
            total += val
            if val > peak:
                peak = val
            elif val < _TABLE_EPS * peak:
                break
        hj = k0
        val = 1.0
        while hj < n:  # P(k + 1) = P(k)·(n − k)(k + a) / ((k + 1)(n − k − 1 + b))
            val = val * (n - hj) * (hj + a) / ((hj + 1) * (n - hj - 1 + b))
            hj += 1
            comp[hj] = val
            total += val
            if val > peak:
                peak = val
            elif val < _TABLE_EPS * peak:
                break
        f = w / total
        for k in range(lj, hj + 1):
            pmf[k] += f * comp[k]
        lo = min(lo, lj)
        hi = max(hi, hj)
    return lo, hi


@numba.njit(nogil=True, cache=True)
def resample_block(
    states,
    N,
    t,
    v,
    cum_t,
    at,
    bt,
    cum_v,
    av,
    bv,
    lo,
    delta,
    n_grid,
    edges,
    q_max,
    binned,
    counts,
    exact,
):
    """One RKD replicate per row of ``states``: linear-binned ``y*`` and its 0.001-bin counts.

    Per station: ``t* ~ Bin(N, p_t)`` with ``p_t ~ Beta(t + α_j, N − t + β_j)`` and the
    component ``j`` by posterior responsibility (``cum_*`` are cumulative), i.e. ``t*`` from
    the mixture of beta-binomials, drawn by inversion of its table (Chen & Asau 1974 guide
    table; the table is built once per station and shared by every replicate of the block);
    then component ``j'``, ``p_v ~ Beta(v + α'_j', t − v + β'_j')``, ``v* ~ Bin(t*, p_v)``,
    ``y* = v*/t*`` (0 when ``t* = 0``), as ``spikes::resample``. ``exact[r]`` counts stations
    whose ``y*`` is a fraction ``p/q`` with ``2 ≤ q ≤ q_max``. Each replicate consumes its own
    stream station by station, so rows do not depend on how replicates are split into blocks.
    Releases the GIL, so callers run row slices in threads (no OpenMP: fork-safe).
    Stations with ``N > TABLE_MAX`` skip the table: component ``j`` by responsibility, then
    ``p_t ~ Beta`` and ``t* ~ Bin(N, p_t)`` drawn directly, so memory never grows with a count.
    """
    R = states.shape[0]
    st = states.copy()
    nb = edges.size - 1
    nmax = min(N.max(), TABLE_MAX) if N.size else 0
    pmf = np.zeros(nmax + 1)
    comp = np.empty(nmax + 1)
    cdf = np.empty(nmax + 1)
    guide = np.empty(nmax + 1, dtype=np.int64)
    chunk = 256
    buf_t = np.empty((R, chunk), dtype=np.int64)
    buf_v = np.empty((R, chunk), dtype=np.int64)
    for c0 in range(0, N.size, chunk):
        c1 = min(N.size, c0 + chunk)
        for i in range(c0, c1):
            if N[i] > TABLE_MAX:
                for r in range(R):
                    s = st[r]
                    j = _pick(s, cum_t, i)
                    ts = binomial(s, N[i], beta(s, t[i] + at[j], N[i] - t[i] + bt[j]))
                    j = _pick(s, cum_v, i)
                    pv = beta(s, v[i] + av[j], t[i] - v[i] + bv[j])
                    buf_t[r, i - c0] = ts
                    buf_v[r, i - c0] = binomial(s, ts, pv)
                continue
            kl, kh = _betabin_table(N[i], t[i], cum_t, i, at, bt, pmf, comp)
            m = kh - kl + 1
            acc = 0.0
            for k in range(m):
                acc += pmf[kl + k]
                cdf[k] = acc
                pmf[kl + k] = 0.0
            g = 0
            for k in range(m):  # guide[g] = first k with cdf[k] > g·acc/m
                while g < m and cdf[k] > g * acc / m:
                    guide[g] = k
                    g += 1
            for r in range(R):
                s = st[r]
                u = uniform(s)
                k = guide[int(u * m)]
                ua = u * acc
                while k > 0 and cdf[k - 1] > ua:  # only on a rounding tie at a guide boundary
                    k -= 1
                while cdf[k] <= ua and k < m - 1:
                    k += 1
                ts = kl + k
                j = _pick(s, cum_v, i)
                pv = beta(s, v[i] + av[j], t[i] - v[i] + bv[j])
                buf_t[r, i - c0] = ts
                buf_v[r, i - c0] = binomial(s, ts, pv)
        for r in range(R):
            for ii in range(c1 - c0):
                ts = buf_t[r, ii]
                vs = buf_v[r, ii]
                y = vs / ts if ts > 0 else 0.0
                if q_max >= 2 and ts > 0 and _small_denominator(vs, ts, q_max):
                    exact[r] += 1
                # R's BinDist (linear binning)
                pos = (y - lo) / delta
                ix = int(math.floor(pos))
                fx = pos - ix
                if 0 <= ix <= n_grid - 2:
                    binned[r, ix] += 1.0 - fx
                    binned[r, ix + 1] += fx
                elif ix == -1:
                    binned[r, 0] += fx
                elif ix == n_grid - 1:
                    binned[r, ix] += 1.0 - fx
                # cut(y, edges, right = TRUE, include.lowest = TRUE)
                b = min(max(int(math.ceil((y - edges[0]) / (edges[1] - edges[0]))) - 1, 0), nb - 1)
                while b > 0 and y <= edges[b]:
                    b -= 1
                while b < nb - 1 and y > edges[b + 1]:
                    b += 1
                counts[r, b] += 1
