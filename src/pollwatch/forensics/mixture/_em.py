"""EM kernel of the eforensics-class finite mixture (see :mod:`pollwatch.forensics.mixture`).

Observations per station: ``t`` = valid/N (turnout) and ``o`` = others' votes/N. Component
``k`` applies manufacturing ``m_k`` and stealing ``s_k`` to a clean draw ``(τ, ν)``:
``t = τ + m(1 − τ)``, ``o = τ(1 − ν)(1 − s)``. Inverting gives ``τ = (t − m)/(1 − m)``,
``1 − ν = o/((1 − s)τ)``; with logit-normal ``τ`` and ``ν`` the density of ``(t, o)`` is

    φ(logit τ; μ_τ, σ_τ) φ(logit ν; μ_ν, σ_ν) / (τ ν (1 − t) o)

(the logit Jacobians and ``|∂(τ, ν)/∂(t, o)| = 1/((1 − m)(1 − s)τ)`` combined). One
E-step pass gives the log-likelihood, the score with respect to every node weight and the
responsibility-weighted moments of ``logit τ`` and ``logit ν``, i.e. the exact gradient
(Louis 1982); :func:`fit` hands both to L-BFGS-B.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import minimize

from pollwatch.forensics.coarse._blas import single_blas_thread

_LOG2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _estep_range(
    j0, j1, t, o, w, m, s, cls, logpi, theta, post, want_post, G, mom
):  # pragma: no cover
    """E-step over stations ``j0:j1``; adds into ``G`` (K) and ``mom`` (4); returns the loglik.

    ``G_k = Σ_j w_j L_jk / f_j`` is the score with respect to ``π_k``; ``R_k = π_k G_k``.
    """
    K = m.shape[0]
    mu_t, sd_t, mu_n, sd_n = theta[0], theta[1], theta[2], theta[3]
    lsd = math.log(sd_t) + math.log(sd_n) + _LOG2PI
    pi = np.exp(logpi)
    ll_total = 0.0
    lk = np.empty(K)
    xt = np.empty(K)
    xn = np.empty(K)
    log1m_m = np.empty(K)
    log1m_s = np.empty(K)
    for k in range(K):
        log1m_m[k] = math.log(1.0 - m[k])
        log1m_s[k] = math.log(1.0 - s[k])
    for j in range(j0, j1):
        tj = t[j]
        lo = math.log(o[j])
        l1t = math.log(1.0 - tj)
        base = -l1t - lo - lsd
        best = -np.inf
        m_prev = -1.0
        ltau = 0.0
        for k in range(K):
            lk[k] = -np.inf
            if tj <= m[k]:
                continue
            if m[k] != m_prev:  # components are sorted by m: reuse log τ
                m_prev = m[k]
                ltau = math.log((tj - m[k]) / (1.0 - m[k]))
            l1tau = l1t - log1m_m[k]
            l1nu = lo - log1m_s[k] - ltau
            if l1nu > -1e-9:  # ν must stay inside (0, 1)
                continue
            lnu = math.log1p(-math.exp(l1nu))
            a = ltau - l1tau
            b = lnu - l1nu
            zt = (a - mu_t) / sd_t
            zn = (b - mu_n) / sd_n
            v = base - 0.5 * (zt * zt + zn * zn) - ltau - lnu  # log L_jk
            lk[k] = v
            xt[k] = a
            xn[k] = b
            if v + logpi[k] > best:
                best = v + logpi[k]
        if best == -np.inf:
            continue  # cannot happen: the clean component fits every station
        tot = 0.0
        for k in range(K):
            if lk[k] > -np.inf and pi[k] > 0.0:
                tot += math.exp(lk[k] + logpi[k] - best)
        lse = best + math.log(tot)  # log f_j
        wj = w[j]
        ll_total += wj * lse
        man = 0.0
        sto = 0.0
        if want_post:
            post[j, 2] = 0.0
            post[j, 3] = 0.0
            post[j, 4] = 0.0
        for k in range(K):
            if lk[k] == -np.inf:
                continue
            e = math.exp(min(lk[k] - lse, 700.0))  # L_jk / f_j
            G[k] += wj * e
            r = e * pi[k]
            if r == 0.0:
                continue
            rw = r * wj
            mom[0] += rw * xt[k]
            mom[1] += rw * xt[k] * xt[k]
            mom[2] += rw * xn[k]
            mom[3] += rw * xn[k] * xn[k]
            if want_post:
                tau = (tj - m[k]) / (1.0 - m[k])
                man += r * (tj - tau)
                sto += r * o[j] * s[k] / (1.0 - s[k])
                post[j, 2 + cls[k]] += r
        if want_post:
            post[j, 0] = man
            post[j, 1] = sto
    return ll_total


@njit(cache=True)
def estep(t, o, w, m, s, cls, logpi, theta, post, want_post):  # pragma: no cover - compiled
    """One E-step. Returns (loglik, G[K], moments[4]); fills ``post`` (n×5) if ``want_post``.

    ``theta = (μ_τ, σ_τ, μ_ν, σ_ν)``; components must be sorted by ``m`` with the clean one
    (m = s = 0) first. ``post`` columns: expected manufactured and stolen fractions of N,
    then the posterior probability of class 0 (clean), 1 (incremental), 2 (extreme).
    Single-threaded on purpose: the machine is shared, bootstrap replicates parallelise through
    the compute seam, and an OpenMP layer would break its fork-based process pool.
    """
    G = np.zeros(m.shape[0])
    mom = np.zeros(4)
    ll = _estep_range(0, t.shape[0], t, o, w, m, s, cls, logpi, theta, post, want_post, G, mom)
    return ll, G, mom


@njit(cache=True)
def precompute(t, o, m, s):  # pragma: no cover - compiled
    """The parameter-free part of every ``log L_jk``, computed once per fit (CSR layout).

    For the valid ``(station j, node k)`` pairs (``t_j > m_k`` and ``ν`` inside (0, 1)):
    ``node[i] = k``, ``xt[i] = logit τ``, ``xn[i] = logit ν`` and ``c[i]`` the log Jacobian
    ``−log((1 − t) o τ ν)``; station ``j`` owns entries ``ptr[j]:ptr[j + 1]``. The E-step then
    needs no logarithm per pair, only the two Gaussian exponents (3–4× fewer flops).
    """
    n, K = t.shape[0], m.shape[0]
    log1m_m = np.log(1.0 - m)
    log1m_s = np.log(1.0 - s)
    ptr = np.zeros(n + 1, dtype=np.int64)
    cap = n * K
    node = np.empty(cap, dtype=np.int64)
    xt = np.empty(cap)
    xn = np.empty(cap)
    c = np.empty(cap)
    i = 0
    for j in range(n):
        tj = t[j]
        lo = math.log(o[j])
        l1t = math.log(1.0 - tj)
        m_prev = -1.0
        ltau = 0.0
        for k in range(K):
            if tj <= m[k]:
                break  # nodes are sorted by m
            if m[k] != m_prev:
                m_prev = m[k]
                ltau = math.log((tj - m[k]) / (1.0 - m[k]))
            l1nu = lo - log1m_s[k] - ltau
            if l1nu > -1e-9:  # ν must stay inside (0, 1)
                continue
            lnu = math.log1p(-math.exp(l1nu))
            node[i] = k
            xt[i] = ltau - (l1t - log1m_m[k])
            xn[i] = lnu - l1nu
            c[i] = -l1t - lo - ltau - lnu
            i += 1
        ptr[j + 1] = i
    return ptr, node[:i].copy(), xt[:i].copy(), xn[:i].copy(), c[:i].copy()


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·_LN2_HI is exact (Cody & Waite 1980)
_LN2_LO = 1.90821492927058770002e-10


# no "reassoc": it would fold the two-part reduction back into one rounded product
@njit(cache=True, fastmath={"nsz", "contract", "nnan", "ninf"})
def exp_block(x, out, bits, n):  # pragma: no cover - compiled
    """``out[:n] = exp(x[:n])`` for ``x ≤ 0`` (below −700 taken as −700), in two loops that LLVM
    vectorises: numba calls libm's scalar ``exp`` and, without SVML (PyPI's llvmlite has none),
    cannot vectorise it. Cody & Waite (1980), *Software Manual for the Elementary Functions*,
    ch. 6: ``x = k ln 2 + r`` with ``|r| ≤ ln 2 / 2``; ``e^r`` by its degree-13 Taylor
    polynomial (truncation < 4e-18); ``2^k`` from the exponent bits. Relative error ≤ 2e-15.
    """
    for i in range(n):
        y = max(x[i], -700.0)
        k = math.floor(y * _LOG2E + 0.5)
        r = (y - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[i] = p * r + 1.0
        bits[i] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for i in range(n):
        out[i] *= scale[i]


@njit(cache=True, fastmath={"nsz", "arcp", "contract"})
def estep_pre(ptr, node, xt, xn, c, w, logpi, theta, K):  # pragma: no cover - compiled
    """The E-step of :func:`estep` (loglik, score ``G``, moments) on :func:`precompute`d pairs.

    One ``exp`` per pair (:func:`exp_block`, vectorised, over a station's pairs):
    ``r_jk = π_k L_jk / f_j`` from the shifted terms, and ``L_jk / f_j = r_jk / π_k`` (a second
    ``exp`` only where ``π_k`` underflows).
    """
    mu_t, sd_t, mu_n, sd_n = theta[0], theta[1], theta[2], theta[3]
    it, inn = 1.0 / sd_t, 1.0 / sd_n
    lsd = math.log(sd_t) + math.log(sd_n) + _LOG2PI
    pi = np.exp(logpi)
    ipi = np.zeros(K)
    for k in range(K):
        if pi[k] > 1e-250:
            ipi[k] = 1.0 / pi[k]
    G = np.zeros(K)
    mom = np.zeros(4)
    ll_total = 0.0
    n = ptr.shape[0] - 1
    v = np.empty(K)
    d = np.empty(K)
    bits = np.empty(K, dtype=np.int64)
    for j in range(n):
        a0, a1 = ptr[j], ptr[j + 1]
        best = -np.inf
        for i in range(a0, a1):
            zt = (xt[i] - mu_t) * it
            zn = (xn[i] - mu_n) * inn
            u = c[i] - lsd - 0.5 * (zt * zt + zn * zn) + logpi[node[i]]
            v[i - a0] = u
            if u > best:
                best = u
        if a1 == a0 or best == -np.inf:
            continue
        m = a1 - a0
        for q in range(m):
            d[q] = v[q] - best
        exp_block(d, v, bits, m)
        tot = 0.0
        for q in range(m):
            tot += v[q]
        lse = best + math.log(tot)
        wj = w[j]
        ll_total += wj * lse
        itot = 1.0 / tot
        for i in range(a0, a1):
            k = node[i]
            r = v[i - a0] * itot  # π_k L_jk / f_j
            if ipi[k] > 0.0:
                G[k] += wj * r * ipi[k]
            else:
                zt = (xt[i] - mu_t) * it
                zn = (xn[i] - mu_n) * inn
                G[k] += wj * math.exp(min(c[i] - lsd - 0.5 * (zt * zt + zn * zn) - lse, 700.0))
            if r == 0.0:
                continue
            rw = r * wj
            mom[0] += rw * xt[i]
            mom[1] += rw * xt[i] * xt[i]
            mom[2] += rw * xn[i]
            mom[3] += rw * xn[i] * xn[i]
    return ll_total, G, mom


@dataclass(frozen=True)
class Grid:
    """Quadrature nodes of the fraud magnitudes, sorted by ``m``; node 0 is the clean class.

    ``a``/``b`` are the node coordinates on which the within-class Gaussian weights act:
    ``m`` (incremental) or ``−log(1 − m)`` (extreme, so nodes near 1 are evenly spread), and ``s``.
    """

    m: np.ndarray
    s: np.ndarray
    cls: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @property
    def class_index(self) -> tuple[np.ndarray, ...]:
        got = self.__dict__.get("_class_index")
        if got is None:  # cached: the objective asks for it at every evaluation
            got = tuple(np.flatnonzero(self.cls == c) for c in range(3))
            object.__setattr__(self, "_class_index", got)
        return got

    @classmethod
    def build(cls, m_inc, s_inc, m_ext, s_ext) -> Grid:
        rows = [(0.0, 0.0, 0)]
        rows += [(mi, si, 1) for mi in m_inc for si in s_inc if (mi, si) != (0.0, 0.0)]
        rows += [(me, se, 2) for me in m_ext for se in s_ext]
        rows.sort(key=lambda r: (r[0], r[1]))
        m, s, c = (np.array(x) for x in zip(*rows, strict=True))
        a = np.where(c == 2, -np.log1p(-m), m)
        return cls(m.astype(float), s.astype(float), c.astype(np.int64), a, s.astype(float))


def _lse(v: np.ndarray) -> float:
    """log Σ exp(v) for the few nodes of a class: scipy's logsumexp costs ~0.25 ms per call in
    array-API dispatch, which dominated fits of small strata (thousands of evaluations)."""
    mx = float(v.max())
    return mx + math.log(float(np.exp(v - mx).sum()))


N_PARAMS = 15  # α_inc, α_ext; (μ_a, log σ_a, μ_b, log σ_b) × 2 classes; (μ_τ, log σ_τ, μ_ν, log σ_ν); log p
P_INDEX = 14  # log of the exponent p of the incremental class's manufacturing weights


def node_logweights(x: np.ndarray, g: Grid) -> tuple[np.ndarray, np.ndarray, list]:
    """log π_k of every node: class weight (softmax, clean class anchored at 0) times a
    within-class weight ``exp(−½(|z_a|^p + z_b²))`` normalised over the class's nodes.

    ``p = 2`` in the extreme class (Gaussian, as eforensics). In the incremental class ``p`` is
    estimated: the generalised normal (Subbotin 1923; Nadarajah 2005, *J. Appl. Stat.* 32(7),
    eq. 1) holds the Gaussian (p = 2), heavier tails (p < 2) and flat-topped, nearly uniform
    shapes (large p; bounded at 8). With a Gaussian fitted to plateau-shaped magnitudes, the
    prior's shrinkage pulls strongly stuffed stations' ``m`` down and lightly stuffed ones into
    the clean class, and the total is under-counted by ~10 % (``docs/calibration.md``).
    """
    alpha = np.array([0.0, x[0], x[1]])
    logpc = alpha - _lse(alpha)
    logpi = np.empty(len(g.m))
    logpi[g.cls == 0] = logpc[0]
    parts = []
    for c in (1, 2):
        idx = g.class_index[c]
        mu_a, lsa, mu_b, lsb = x[2 + 4 * (c - 1) : 6 + 4 * (c - 1)]
        za = (g.a[idx] - mu_a) / math.exp(lsa)
        zb = (g.b[idx] - mu_b) / math.exp(lsb)
        p = math.exp(x[P_INDEX]) if c == 1 else 2.0
        ap = np.abs(za) ** p
        e = -0.5 * (ap + zb**2)
        lq = e - _lse(e)
        logpi[idx] = logpc[c] + lq
        parts.append((idx, np.exp(lq), za, zb, math.exp(lsa), math.exp(lsb), p, ap))
    return logpi, logpc, parts


def theta_of(x: np.ndarray) -> np.ndarray:
    mu_t, lsd_t, mu_n, lsd_n = x[10:14]
    return np.array([mu_t, math.exp(lsd_t), mu_n, math.exp(lsd_n)])


@njit(cache=True)
def _lse_nb(v):  # pragma: no cover - compiled
    mx = v.max()
    return mx + math.log(np.exp(v - mx).sum())


@njit(cache=True)
def _objective_nb(x, a, b, cls, ptr, node, xt, xn, c, w, wsum):  # pragma: no cover - compiled
    """Negative mean log-likelihood and its gradient, both from one E-step (Louis 1982: the
    observed-data score equals the expected complete-data score).

    The node weights are those of :func:`node_logweights`; compiled whole because on the
    74 regional fits (~16,000 evaluations of a few thousand stations each) the NumPy version's
    per-call overhead (~0.3 ms) cost as much as the E-step itself.
    """
    K = a.shape[0]
    alpha = np.array([0.0, x[0], x[1]])
    logpc = alpha - _lse_nb(alpha)
    logpi = np.empty(K)
    za = np.zeros(K)
    zb = np.zeros(K)
    ap = np.zeros(K)
    q = np.zeros(K)
    pc = np.array([2.0, math.exp(x[P_INDEX]), 2.0])
    for k in range(K):
        if cls[k] == 0:
            logpi[k] = logpc[0]
    for cl in (1, 2):
        i0 = 2 + 4 * (cl - 1)
        sa, sb = math.exp(x[i0 + 1]), math.exp(x[i0 + 3])
        n_c = 0
        for k in range(K):
            if cls[k] == cl:
                n_c += 1
        e = np.empty(n_c)
        j = 0
        for k in range(K):
            if cls[k] == cl:
                za[k] = (a[k] - x[i0]) / sa
                zb[k] = (b[k] - x[i0 + 2]) / sb
                ap[k] = abs(za[k]) ** pc[cl]
                e[j] = -0.5 * (ap[k] + zb[k] * zb[k])
                j += 1
        lz = _lse_nb(e)
        for k in range(K):
            if cls[k] == cl:
                lq = -0.5 * (ap[k] + zb[k] * zb[k]) - lz
                logpi[k] = logpc[cl] + lq
                q[k] = math.exp(lq)
    th = np.array([x[10], math.exp(x[11]), x[12], math.exp(x[13])])
    ll, G, mom = estep_pre(ptr, node, xt, xn, c, w, logpi, th, K)
    grad = np.zeros(N_PARAMS)
    Rc = np.zeros(3)
    R = np.empty(K)
    for k in range(K):
        R[k] = math.exp(logpi[k]) * G[k]  # expected station count per node
        Rc[cls[k]] += R[k]
    tot_all = Rc[0] + Rc[1] + Rc[2]
    for cl in (1, 2):
        grad[cl - 1] = Rc[cl] - tot_all * math.exp(logpc[cl])
        i0 = 2 + 4 * (cl - 1)
        sa, sb, p = math.exp(x[i0 + 1]), math.exp(x[i0 + 3]), pc[cl]
        tot = Rc[cl]
        # score terms Σ_k (R_k − tot·q_k) ∂e_k/∂param, with ∂e/∂μ_a = ½p|z|^(p−1)sign(z)/σ_a,
        # ∂e/∂log σ_a = ½p|z|^p, ∂e/∂μ_b = z_b/σ_b, ∂e/∂log σ_b = z_b², ∂e/∂log p = −½p|z|^p log|z|
        for k in range(K):
            if cls[k] != cl:
                continue
            d = R[k] - tot * q[k]
            z = za[k]
            sgn = 1.0 if z > 0 else (-1.0 if z < 0 else 0.0)
            grad[i0] += d * 0.5 * p * sgn * abs(z) ** (p - 1) / sa
            grad[i0 + 1] += d * 0.5 * p * ap[k]
            grad[i0 + 2] += d * zb[k] / sb
            grad[i0 + 3] += d * zb[k] * zb[k]
            if cl == 1 and z != 0.0:
                grad[P_INDEX] += d * (-0.5 * p * ap[k] * math.log(abs(z)))
    for i in (0, 2):
        mu, sd = th[i], th[i + 1]
        s1, s2 = mom[i], mom[i + 1]
        grad[10 + i] = (s1 - wsum * mu) / sd**2
        grad[11 + i] = (s2 - 2 * mu * s1 + wsum * mu**2) / sd**2 - wsum
    return -ll / wsum, -grad / wsum


def objective(
    x: np.ndarray, pre: tuple, w: np.ndarray, g: Grid, wsum: float
) -> tuple[float, np.ndarray]:
    """Negative mean log-likelihood and its gradient at ``x`` (see :func:`_objective_nb`)."""
    return _objective_nb(np.asarray(x, dtype=float), g.a, g.b, g.cls, *pre, w, wsum)


def start_params(t: np.ndarray, o: np.ndarray, g: Grid, pi_fraud: float = 0.1) -> np.ndarray:
    """Robust start: clean (μ, σ) from medians/MADs of the logits; fraud classes spread over
    their nodes (mean and sd of the node coordinates)."""
    lt = np.log(t / (1 - t))
    share = 1 - o / t
    ln = np.log(share / (1 - share))

    def mad(v: np.ndarray) -> float:
        return float(1.4826 * np.median(np.abs(v - np.median(v))))

    x = np.zeros(N_PARAMS)
    x[0] = math.log(pi_fraud * 0.9 / (1 - pi_fraud))
    x[1] = math.log(pi_fraud * 0.1 / (1 - pi_fraud))
    for c, i in ((1, 2), (2, 6)):
        sel = g.cls == c
        x[i : i + 4] = [
            g.a[sel].mean(),
            math.log(g.a[sel].std() + 0.05),
            g.b[sel].mean(),
            math.log(g.b[sel].std() + 0.05),
        ]
    x[10:14] = [
        np.median(lt),
        math.log(max(mad(lt), 1e-2)),
        np.median(ln),
        math.log(max(mad(ln), 1e-2)),
    ]
    x[P_INDEX] = math.log(2.0)  # start Gaussian
    return x


BOUNDS = (
    [(-30.0, 10.0)] * 2
    + [(-1.0, 2.0), (-4.0, 2.0), (-1.0, 2.0), (-4.0, 2.0)] * 2
    + [(-20.0, 20.0), (math.log(1e-3), 3.0), (-20.0, 20.0), (math.log(1e-3), 3.0)]
    + [(0.0, math.log(8.0))]
)  # p in [1, 8]: from Laplace-like to flat-topped (larger p
# adds nothing on a 10-node grid, and with σ_a at its bound makes the score explode)


def _projected(x: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient with the components that push ``x`` out of ``BOUNDS`` set to 0."""
    lo, hi = np.array(BOUNDS).T
    g = np.where((x <= lo) & (grad > 0), 0.0, grad)
    return np.where((x >= hi) & (g < 0), 0.0, g)


def _projected_gradient(x: np.ndarray, grad: np.ndarray) -> float:
    """Largest gradient component that could still move ``x`` inside ``BOUNDS``."""
    return float(np.abs(_projected(x, grad)).max())


def _kinks(
    x: np.ndarray, fun: float, grad: np.ndarray, gtol: float, args: tuple, h: float = 1e-6
) -> tuple[list[int], bool, int]:
    """Sort the coordinates whose projected gradient exceeds ``gtol`` into kinks and the rest.

    With ``p = 1`` the incremental weights ``exp(−½|z_a|)`` have a kink wherever ``μ_a``
    equals a node's ``a``, and the likelihood's maximum along ``μ_a`` can sit on it (2011 file:
    6 regions, the objective rising linearly on both sides). There the gradient is one-sided and
    never falls below ``gtol``, and L-BFGS-B's line searches stall on it even in the other
    coordinates. A coordinate is a kink if steps of ±``h`` and ±``h``/10 (inside ``BOUNDS``)
    all raise the objective, by amounts that shrink linearly with the step (by less than 30×
    for the 10× shorter step; strong curvature, which also makes both steps rise, gives 100×).
    Returns ``(kink coordinates, whether another large component is left, evaluations)``.
    """
    lo, hi = np.array(BOUNDS).T
    kinks, smooth, n = [], False, 0
    for i in np.flatnonzero(np.abs(_projected(x, grad)) > gtol):
        rises = []
        for step in (h, -h, h / 10, -h / 10):
            y = x.copy()
            y[i] = min(max(x[i] + step, lo[i]), hi[i])
            if y[i] != x[i]:
                n += 1
                rises.append((abs(step), objective(y, *args)[0] - fun))
        big = [r for s_, r in rises if s_ == h]
        small = [r for s_, r in rises if s_ < h]
        if rises and min(r for _, r in rises) > 0 and min(big) < 30 * min(small):
            kinks.append(int(i))
        else:
            smooth = True
    return kinks, smooth, n


def fit(
    t: np.ndarray,
    o: np.ndarray,
    w: np.ndarray,
    g: Grid,
    x0: np.ndarray,
    *,
    max_iter: int = 500,
    tol: float = 1e-10,
    max_restarts: int = 2,
    gtol: float = 1e-3,
    pre: tuple | None = None,
) -> tuple[np.ndarray, float, int, bool]:
    """Maximum likelihood by L-BFGS-B with the score from the EM E-step (Jamshidian &
    Jennrich 1997: EM's sufficient statistics give the exact gradient; quasi-Newton steps avoid
    EM's crawl along the ridge between clean and lightly manipulated stations).

    L-BFGS-B can stop on its relative-reduction test short of a stationary point (on ~25 of
    160 regions of the 2011 and 2012 files, gradients above ``gtol``; the log-likelihood up to
    200 below where a restart takes it): while the projected gradient of the mean log-likelihood
    exceeds ``gtol`` it is restarted from where it stopped, with a fresh curvature memory, up to
    ``max_restarts`` times. Coordinates stuck on a kink of the objective (:func:`_kinks`) are
    held where they are for the restart, and a point whose only large gradient components are
    kinks counts as converged. ``pre``: the :func:`precompute` d pairs, if already at hand.
    Returns ``(x, loglik, n_evaluations, converged)``.
    """
    wsum = float(w.sum())
    if pre is None:
        pre = precompute(t, o, g.m, g.s)
    x, nfev, ok, fun = x0, 0, False, math.inf
    bounds = BOUNDS
    with single_blas_thread():  # L-BFGS-B's tiny BLAS calls: a thread pool only costs time
        for _ in range(max_restarts + 1):
            res = minimize(
                objective,
                x,
                args=(pre, w, g, wsum),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={
                    "maxiter": max(max_iter - nfev, 1),
                    "ftol": tol,
                    "gtol": 1e-8,
                    "maxcor": 20,
                },
            )
            x, fun, nfev = res.x, res.fun, nfev + int(res.nfev)
            ok = bool(res.success) and _projected_gradient(x, res.jac) <= gtol
            if res.success and not ok:
                kinks, smooth, n_probe = _kinks(x, fun, res.jac, gtol, (pre, w, g, wsum))
                nfev += n_probe
                ok = not smooth
                # restart on the smooth coordinates with the kinks found here held (a kink can stop
                # being one once the others move, so each restart pins afresh)
                bounds = [
                    (float(x[i]), float(x[i])) if i in kinks else b for i, b in enumerate(BOUNDS)
                ]
            if ok or not res.success or nfev >= max_iter:
                break
    return x, float(-fun * wsum), nfev, ok


def fit_best(
    t: np.ndarray,
    o: np.ndarray,
    w: np.ndarray,
    g: Grid,
    starts: list[np.ndarray],
    *,
    max_iter: int = 500,
    screen_iter: int = 60,
    screen_tol: float = 1e-7,
    margin: float = 1.92,
) -> tuple[np.ndarray, float, int, bool, int]:
    """:func:`fit` from several starting points: each is screened with a loose tolerance (at most
    ``screen_iter`` iterations), and one is polished: the first start's optimum unless another
    has a log-likelihood higher by more than ``margin``.

    The likelihood has separate local maxima along the clean/fraud ridge: on the 2011 file, 31
    of 73 regional fits end at a different optimum from a second start, up to 129 log-likelihood
    units higher, and the regional total moves by 12 %. On clean data a second start can also
    find a spurious optimum, e.g. 16 % of stations "stuffed" at the smallest magnitude, better
    by only 0.2: the first start (the more conservative one) is kept unless a likelihood-ratio
    test would tell the two apart (``margin`` = 1.92, half the 95 % point of χ²₁). Returns
    ``(x, loglik, n_evaluations, converged, index of the start that was polished)``.
    """
    pre = precompute(t, o, g.m, g.s)
    screened = [
        fit(t, o, w, g, x0, max_iter=screen_iter, tol=screen_tol, max_restarts=0, pre=pre)
        for x0 in starts
    ]
    best = max(range(len(starts)), key=lambda i: screened[i][1])
    if screened[best][1] - screened[0][1] <= margin:
        best = 0
    nfev = sum(r[2] for r in screened)
    x, ll, n, ok = fit(t, o, w, g, screened[best][0], max_iter=max(max_iter - nfev, 1), pre=pre)
    return x, ll, nfev + n, ok, best


def posteriors(t: np.ndarray, o: np.ndarray, g: Grid, x: np.ndarray) -> np.ndarray:
    """Per station (n×5): expected manufactured and stolen fractions of N, class probabilities."""
    logpi, _, _ = node_logweights(x, g)
    post = np.zeros((len(t), 5))
    estep(t, o, np.ones(len(t)), g.m, g.s, g.cls, logpi, theta_of(x), post, True)
    return post
