"""Numerical core of the stratified combined ratio estimator (no I/O, no result objects)."""

from __future__ import annotations

import numpy as np


def ratio_and_variance(
    Y: np.ndarray, x: np.ndarray, codes: np.ndarray, N: np.ndarray, fpc: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Combined ratio ``Σ_h w_h Σ_i y / Σ_h w_h Σ_i x`` per column of ``Y`` and its linearised variance.

    Cochran (1977) eq. 6.50 / docs/methods/quickcount-and-cameras.md §1.2 e::

        e_hi = y_hi − p̂·x_hi,  s²_h = Σ_i (e_hi − ē_h)²/(n_h − 1)
        V(p̂) = Σ_h N_h²(1 − n_h/N_h) s²_h/n_h / X̂²

    ``codes`` gives the stratum of each row; strata need ≥ 2 rows for a variance (callers
    collapse the others first). ``N`` may be float (post-stratified sizes).
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    x = np.asarray(x, dtype=np.float64)
    H = len(N)
    n = np.bincount(codes, minlength=H).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > 0, N / n, 0.0)
    wi = w[codes]
    X = float((wi * x).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (wi[:, None] * Y).sum(axis=0) / X
    E = Y - p[None, :] * x[:, None]
    var = np.zeros(Y.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n > 0, n / N, 1.0) if fpc else np.zeros(H)
    for k in range(Y.shape[1]):
        mean = np.bincount(codes, E[:, k], H) / np.maximum(n, 1)
        ss = np.bincount(codes, (E[:, k] - mean[codes]) ** 2, H)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.where(n > 1, ss / (n - 1), 0.0)
            var[k] = float((N**2 * (1 - f) * s2 / np.maximum(n, 1)).sum() / X**2)
    return p, var


def boot_chunk(
    seed: np.random.SeedSequence, blocks: list[tuple[float, np.ndarray]], reps: int
) -> np.ndarray:
    """Rao–Wu rescaling bootstrap replicates of weighted totals (Rao, Wu & Yue 1992, Survey
    Methodology 18:209–217): in each stratum draw ``n_h − 1`` stations with replacement and
    scale their weight by ``n_h/(n_h − 1)``. Returns ``(reps, columns)`` totals."""
    rng = np.random.default_rng(seed)
    out = np.zeros((reps, blocks[0][1].shape[1]))
    for weight, Z in blocks:
        n = Z.shape[0]
        counts = rng.multinomial(n - 1, np.full(n, 1.0 / n), size=reps)
        out += (weight * n / (n - 1)) * (counts @ Z)
    return out
