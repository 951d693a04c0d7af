"""R ``density()`` emulation for the Rozenas RKD method (private).

R's ``density.default`` (gaussian kernel, ``cut``/``from``/``to`` given) bins the data
linearly onto ``n = 2^ceil(log2(max(n_out, 512)))`` points over ``[from − 4bw, to + 4bw]``
(``BinDist``; points outside are dropped but the mass stays ``1/len(x)`` each), convolves
with the kernel by FFT on ``2n`` points and interpolates linearly onto ``n_out`` points.
``spikes`` relies on exactly this: with ``bw = 1e-4`` the kernel is narrower than the
binning step, so the "density" is a linearly binned histogram and coarse fractions show up
as isolated spikes.
"""

from __future__ import annotations

import numpy as np


def _grid(n_out: int) -> int:
    n = max(n_out, 512)
    return int(2 ** np.ceil(np.log2(n))) if n > 512 else n


def _kernel_fft(n: int, lo: float, hi: float, bw: float) -> np.ndarray:
    kords = np.linspace(0.0, 2 * (hi - lo), 2 * n)
    kords[n + 1 :] = -kords[n - 1 : 0 : -1]
    kern = np.exp(-0.5 * (kords / bw) ** 2) / (bw * np.sqrt(2 * np.pi))
    return np.conj(np.fft.rfft(kern))


def bin_dist(
    x: np.ndarray, lo: float, hi: float, n: int, rows: np.ndarray | None = None, n_rows: int = 1
) -> np.ndarray:
    """Linear binning of ``x`` (weight 1 each) onto ``n`` points; ``2n`` columns as R does.

    With ``rows`` (an int per value), bins ``n_rows`` data sets at once: shape ``(n_rows, 2n)``.
    """
    delta = (hi - lo) / (n - 1)
    pos = (np.asarray(x, dtype=float) - lo) / delta
    ix = np.floor(pos).astype(np.int64)
    fx = pos - ix
    rows = np.zeros(len(pos), dtype=np.int64) if rows is None else rows
    inner = (ix >= 0) & (ix <= n - 2)
    out = np.zeros(n_rows * 2 * n)
    base = rows * (2 * n)
    out += np.bincount((base + ix)[inner], weights=(1 - fx)[inner], minlength=out.size)
    out += np.bincount((base + ix + 1)[inner], weights=fx[inner], minlength=out.size)
    left = ix == -1
    out += np.bincount(base[left], weights=fx[left], minlength=out.size)
    right = ix == n - 1
    out += np.bincount((base + ix)[right], weights=(1 - fx)[right], minlength=out.size)
    return out.reshape(n_rows, 2 * n)


def densities_from_bins(
    binned: np.ndarray, totals: np.ndarray, bw: float, n_out: int, lo: float, hi: float
) -> np.ndarray:
    """Finish R's ``density`` from :func:`bin_dist` output (rows divided by ``totals``)."""
    n = binned.shape[1] // 2
    lo_b, hi_b = lo - 4 * bw, hi + 4 * bw
    y = binned / np.asarray(totals, dtype=float)[:, None]
    conv = np.fft.irfft(np.fft.rfft(y, axis=1) * _kernel_fft(n, lo_b, hi_b, bw), n=2 * n, axis=1)
    conv = conv[:, :n]
    conv[conv < 1e-9] = 0.0  # FFT round-off (~1e-15) must not make empty bins "exceed" others
    xords = np.linspace(lo_b, hi_b, n)
    x_out = np.linspace(lo, hi, n_out)
    # linear interpolation of every row at the same abscissae
    j = np.clip(np.searchsorted(xords, x_out, side="right") - 1, 0, n - 2)
    f = (x_out - xords[j]) / (xords[j + 1] - xords[j])
    return conv[:, j] * (1 - f) + conv[:, j + 1] * f


def r_density(x: np.ndarray, bw: float, n_out: int, lo: float, hi: float) -> np.ndarray:
    """``density(x, bw=bw, n=n_out, from=lo, to=hi, cut=TRUE)$y`` for one data set."""
    n = _grid(n_out)
    binned = bin_dist(x, lo - 4 * bw, hi + 4 * bw, n)
    return densities_from_bins(binned, np.array([len(x)]), bw, n_out, lo, hi)[0]


def grid_size(n_out: int) -> int:
    """R's internal binning size for ``n_out`` output points."""
    return _grid(n_out)
