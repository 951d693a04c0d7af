"""Beta-binomial mixture fit for the Rozenas RKD method (private).

Follows ``est.density``/``em.update`` of the R package ``spikes`` v1.1 (Rozenas 2017,
*Political Analysis* 25(1):41–56, §3.2): a least-squares fit of a Beta-mixture density to a
kernel density of ``k/n`` (bandwidth 0.001, 1001 points on [0.01, 0.99]) gives starting
values; EM (responsibilities, then a weighted beta-binomial ML step per component by
L-BFGS-B on log-parameters bounded to [−3, 6]) runs until successive mixture densities
correlate ≥ 0.99. Identical ``(k, n)`` pairs are collapsed into weights first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy import optimize, special, stats

from pollwatch.forensics.coarse._kde import r_density

_BOUNDS = (-3.0, 6.0)
_X = np.linspace(0.01, 0.99, 1001)


@dataclass(frozen=True)
class BetaBinomialMixture:
    """``k | n ~ Σ_j w_j BetaBinomial(n, α_j, β_j)``; ``n_em`` EM iterations were run."""

    alpha: tuple[float, ...]
    beta: tuple[float, ...]
    weights: tuple[float, ...]
    n_em: int

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """The mixture's Beta density at ``x`` (0 at the end points, as ``spikes``)."""
        x = np.asarray(x, dtype=float)
        out = sum(
            w * stats.beta.pdf(x, a, b)
            for a, b, w in zip(self.alpha, self.beta, self.weights, strict=True)
        )
        return np.where((x <= 0) | (x >= 1), 0.0, out)

    def responsibilities(self, k: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Posterior component probabilities per observation, shape ``(len(k), K)``."""
        a, b = np.asarray(self.alpha), np.asarray(self.beta)
        k = np.asarray(k, dtype=float)[:, None]
        n = np.asarray(n, dtype=float)[:, None]
        logp = special.betaln(k + a, n - k + b) - special.betaln(a, b) + np.log(self.weights)
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict:
        return {
            "alpha": list(self.alpha),
            "beta": list(self.beta),
            "weights": list(self.weights),
            "n_em": self.n_em,
        }


def _weights_from(z: np.ndarray) -> np.ndarray:
    e = np.exp(np.append(z, 0.0) - max(0.0, float(np.max(z, initial=0.0))))
    return e / e.sum()


def _lsq_start(kde: np.ndarray, L: int, rng: np.random.Generator) -> BetaBinomialMixture:
    """Least-squares fit of the Beta-mixture density to the KDE, from ``N(0, 1)`` starts."""
    lx, l1x = np.log(_X), np.log1p(-_X)

    def loss(p):
        a, b = np.exp(p[:L]), np.exp(p[L : 2 * L])
        w = _weights_from(p[2 * L :])
        comp = np.exp(
            (a[:, None] - 1) * lx + (b[:, None] - 1) * l1x - special.betaln(a, b)[:, None]
        )
        r = w @ comp - kde
        val = float(np.mean(r**2))
        g_comp = 2 * (comp @ r) / r.size  # d loss / d w_j
        ab = special.psi(a + b)
        da = w * a * (2 * (comp * (lx - special.psi(a)[:, None] + ab[:, None])) @ r / r.size)
        db = w * b * (2 * (comp * (l1x - special.psi(b)[:, None] + ab[:, None])) @ r / r.size)
        dz = (w * (g_comp - w @ g_comp))[:-1]  # softmax with the last logit fixed at 0
        return val, np.concatenate([da, db, dz])

    p0 = rng.standard_normal(3 * L - 1)
    res = optimize.minimize(loss, p0, jac=True, method="L-BFGS-B", bounds=[_BOUNDS] * (3 * L - 1))
    a, b, w = np.exp(res.x[:L]), np.exp(res.x[L : 2 * L]), _weights_from(res.x[2 * L :])
    return BetaBinomialMixture(tuple(a), tuple(b), tuple(w), 0)


@numba.njit(cache=True)
def _digamma(x: float) -> float:
    acc = 0.0
    while x < 6.0:  # recurrence up to where the asymptotic series is accurate to ~1e-12
        acc -= 1.0 / x
        x += 1.0
    x2 = 1.0 / (x * x)
    return acc + math.log(x) - 0.5 / x - x2 * (1 / 12 - x2 * (1 / 120 - x2 * (1 / 252 - x2 / 240)))


@numba.njit(cache=True, parallel=True)
def _bb_terms(k, n, c, a, b):
    """Σ c·[lnΓ(k+a) + lnΓ(n−k+b) − lnΓ(n+a+b)] and its derivatives in ``a`` and ``b``."""
    ll = 0.0
    ga = 0.0
    gb = 0.0
    for i in numba.prange(k.size):
        if c[i] == 0.0:
            continue
        ps = _digamma(n[i] + a + b)
        ll += c[i] * (
            math.lgamma(k[i] + a) + math.lgamma(n[i] - k[i] + b) - math.lgamma(n[i] + a + b)
        )
        ga += c[i] * (_digamma(k[i] + a) - ps)
        gb += c[i] * (_digamma(n[i] - k[i] + b) - ps)
    return ll, ga, gb


def _m_step(k, n, c, a0, b0):
    """Weighted beta-binomial ML for one component (weights ``c``), analytic gradient."""
    csum = c.sum()

    def nll(p):
        a, b = np.exp(p)
        ll, ga, gb = _bb_terms(k, n, c, a, b)
        ab = special.psi(a + b)
        ll += csum * (special.gammaln(a + b) - special.gammaln(a) - special.gammaln(b))
        ga += csum * (ab - special.psi(a))
        gb += csum * (ab - special.psi(b))
        return -ll / csum, -np.array([a * ga, b * gb]) / csum

    p0 = np.clip(np.log([a0, b0]), *_BOUNDS)
    res = optimize.minimize(nll, p0, jac=True, method="L-BFGS-B", bounds=[_BOUNDS] * 2)
    return tuple(np.exp(res.x))


def fit_mixture(
    k: np.ndarray,
    n: np.ndarray,
    n_components: int,
    rng: np.random.Generator,
    max_em: int = 100,
    min_corr: float = 0.99,
) -> BetaBinomialMixture:
    """Fit a ``n_components`` beta-binomial mixture to counts ``k`` out of ``n``."""
    kde = r_density(k / n, bw=0.001, n_out=1001, lo=0.01, hi=0.99)
    pairs, inv_counts = np.unique(np.stack([k, n]), axis=1, return_counts=True)
    kk, nn, cc = pairs[0].astype(float), pairs[1].astype(float), inv_counts.astype(float)
    mix = _lsq_start(kde, n_components, rng)
    for it in range(1, max_em + 1):
        resp = mix.responsibilities(kk, nn) * cc[:, None]
        w = resp.sum(axis=0) / cc.sum()
        ab = [
            _m_step(kk, nn, resp[:, j], mix.alpha[j], mix.beta[j])
            if w[j] > 0
            else (mix.alpha[j], mix.beta[j])
            for j in range(n_components)
        ]
        new = BetaBinomialMixture(
            tuple(float(a) for a, _ in ab),
            tuple(float(b) for _, b in ab),
            tuple(float(x) for x in w),
            it,
        )
        old_d, new_d = mix.pdf(_X), new.pdf(_X)
        mix = new
        if np.std(old_d) > 0 and np.corrcoef(old_d, new_d)[0, 1] >= min_corr:
            break
    return mix
