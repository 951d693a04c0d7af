"""Numba kernels for the Klimek et al. grid fit: outcome bins and the exact grid scan.

The fit (``docs/methods/forensics.md`` §1.3, "Speed") uses common random numbers: per
realisation every station has fixed draws ``a, ν, u, x_inc, x_ext``. With stations sorted by
the segment ``floor(u/Δ)``, the histogram at ``f_i = k1·Δ``, ``f_e = (k2 − k1)·Δ`` has
segments ``< k1`` incremental, ``[k1, k2)`` extreme and the rest clean. Instead of the
cumulative-histogram matrix product we walk the grid and move one station at a time between
bins, updating ``Σ w (H − O)²`` exactly; the cost is ``O(stations moved)`` rather than
``O(bins)`` per grid point, which for 101 × 101 bins is ~50× cheaper. Same losses, same argmin.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_PCT = 101  # bins centred on whole percentages 0..100


@njit(cache=True)
def _pct_bin(x: float) -> int:
    k = int(np.floor(100.0 * x + 0.5))
    return 0 if k < 0 else (N_PCT - 1 if k > N_PCT - 1 else k)


@njit(cache=True)
def outcome_bins(a, nu, x, alpha, two_d):
    """Bin of each station's ``(T, W/T)`` for intensity ``x`` (model of §1.2, step 4).

    ``two_d``: index ``t·101 + s`` of the fingerprint; else the share bin only.
    """
    n = a.size
    out = np.empty(n, np.int64)
    for i in range(n):
        ai = a[i]
        xi = x[i]
        t = ai + xi * (1.0 - ai)
        w = ai * nu[i] + xi * (1.0 - ai) + (xi**alpha) * (1.0 - nu[i]) * ai
        s = w / t if t > 0.0 else 0.0
        sb = _pct_bin(s)
        out[i] = _pct_bin(t) * N_PCT + sb if two_d else sb
    return out


@njit(cache=True)
def _exact_loss(h, obs, w):
    acc = 0.0
    for b in range(h.size):
        d = h[b] - obs[b]
        acc += w[b] * d * d
    return acc


@njit(cache=True)
def _move(h, obs, w, src, dst, lo, hi, loss):
    """Move stations ``lo..hi`` from bins ``src`` to ``dst``; return the updated loss."""
    for i in range(lo, hi):
        p = src[i]
        q = dst[i]
        if p == q:
            continue
        r = h[p] - obs[p]
        loss += w[p] * (1.0 - 2.0 * r)
        h[p] -= 1.0
        r = h[q] - obs[q]
        loss += w[q] * (2.0 * r + 1.0)
        h[q] += 1.0
    return loss


@njit(cache=True)
def scan_grid(seg_start, b_clean, b_inc, b_ext, obs, w, k1_values, n_fe):
    """Loss ``Σ w (H − O)²`` for every ``(k1, k1 + m)``, ``m < n_fe``; shape ``(len(k1), n_fe)``.

    Stations must be sorted by segment; ``seg_start[j]`` is the first station of segment ``j``.
    ``k2`` is capped at the number of segments (``f_i + f_e > 1``: no clean stations left).
    """
    nseg = seg_start.size - 1
    h = np.zeros(obs.size)
    for i in range(b_clean.size):
        h[b_clean[i]] += 1.0
    out = np.empty((k1_values.size, n_fe))
    cur = 0
    hb = np.empty_like(h)
    for j in range(k1_values.size):
        k1 = k1_values[j]
        while cur < k1:
            _move(h, obs, w, b_clean, b_inc, seg_start[cur], seg_start[cur + 1], 0.0)
            cur += 1
        hb[:] = h
        loss = _exact_loss(hb, obs, w)  # exact at each row start: no drift in float sums
        k2 = k1
        for m in range(n_fe):
            out[j, m] = loss
            if k2 < nseg:
                loss = _move(hb, obs, w, b_clean, b_ext, seg_start[k2], seg_start[k2 + 1], loss)
                k2 += 1
    return out


@njit(cache=True)
def _move_counts(r, src, dst, lo, hi, loss):
    """Unweighted ``_move`` on ``r = H − O`` (int32): exact integer loss, one small array."""
    for i in range(lo, hi):
        p = src[i]
        q = dst[i]
        if p == q:
            continue
        loss += 1 - 2 * np.int64(r[p])
        r[p] -= 1
        loss += 2 * np.int64(r[q]) + 1
        r[q] += 1
    return loss


@njit(cache=True)
def scan_grid_counts(seg_start, b_clean, b_inc, b_ext, obs, k1_values, n_fe):
    """:func:`scan_grid` for ``w = 1`` (the L2 criterion), in exact integer arithmetic."""
    nseg = seg_start.size - 1
    r = -obs.astype(np.int32)
    for i in range(b_clean.size):
        r[b_clean[i]] += 1
    loss = np.int64(0)
    for b in range(r.size):
        loss += np.int64(r[b]) * np.int64(r[b])
    out = np.empty((k1_values.size, n_fe))
    cur = 0
    rb = np.empty_like(r)
    for j in range(k1_values.size):
        k1 = k1_values[j]
        while cur < k1:
            loss = _move_counts(r, b_clean, b_inc, seg_start[cur], seg_start[cur + 1], loss)
            cur += 1
        rb[:] = r
        lb = loss
        k2 = k1
        for m in range(n_fe):
            out[j, m] = lb
            if k2 < nseg:
                lb = _move_counts(rb, b_clean, b_ext, seg_start[k2], seg_start[k2 + 1], lb)
                k2 += 1
    return out


@njit(cache=True)
def histogram_at(seg, k1, k2, b_clean, b_inc, b_ext, n_bins):
    """Histogram of the stations' outcomes at grid point ``(k1, k2)`` (segments, any order)."""
    h = np.zeros(n_bins)
    for i in range(seg.size):
        if seg[i] < k1:
            h[b_inc[i]] += 1.0
        elif seg[i] < k2:
            h[b_ext[i]] += 1.0
        else:
            h[b_clean[i]] += 1.0
    return h
