"""Rozenas RKD and exact small-denominator shares: samplers, simulations, reference §7."""

from __future__ import annotations

import json

import numba
import numpy as np
import pytest
from scipy import stats

from pollwatch.errors import DegenerateDataWarning, SmallSampleWarning
from pollwatch.forensics.coarse import _sample as cs
from pollwatch.forensics.coarse import rozenas_rkd, small_denominator_test
from pollwatch.forensics.coarse._kde import r_density
from pollwatch.model import Election

COARSE = [(1, 2), (3, 5), (7, 10), (3, 4), (4, 5), (9, 10)]


def simulate(seed: int, n: int = 4000, coarse_share: float = 0.0) -> Election:
    """Binomial election; a ``coarse_share`` of stations gets an exact coarse share p/q."""
    rng = np.random.default_rng(seed)
    N = rng.integers(300, 2500, n)
    t = rng.binomial(N, rng.beta(12, 8, n))
    v = rng.binomial(t, rng.beta(8, 10, n))
    k = int(round(coarse_share * n))
    if k:
        idx = rng.choice(n, k, replace=False)
        p, q = np.array(COARSE)[rng.integers(0, len(COARSE), k)].T
        t[idx] -= t[idx] % q
        v[idx] = t[idx] // q * p
    return Election.from_arrays(
        registered=N, valid=t, invalid=np.zeros(n, np.int64), votes={"A": v, "B": t - v}
    )


# -- samplers ----------------------------------------------------------------------------
@numba.njit
def _draw(kind, s, a, b, m):
    out = np.empty(m)
    for i in range(m):
        out[i] = cs.binomial(s, int(a), b) if kind == 0 else cs.beta(s, a, b)
    return out


@pytest.mark.parametrize("n, p", [(5, 0.3), (40, 0.2), (1000, 0.37), (1000, 0.9), (2000, 0.003)])
def test_binomial_sampler_matches_pmf(n, p):
    s = cs.seed_states([np.random.SeedSequence(n)])[0]
    x = _draw(0, s, float(n), p, 100_000).astype(np.int64)
    pmf = stats.binom.pmf(np.arange(n + 1), n, p) * x.size
    keep = pmf > 5
    obs = np.bincount(x, minlength=n + 1)[keep]
    chi2 = ((obs - pmf[keep]) ** 2 / pmf[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


@pytest.mark.parametrize("a, b", [(0.4, 0.7), (1.0, 1.0), (3.0, 4.0), (600.0, 400.0)])
def test_beta_sampler_matches_cdf(a, b):
    s = cs.seed_states([np.random.SeedSequence(int(a * 10))])[0]
    assert stats.kstest(_draw(1, s, a, b, 100_000), stats.beta(a, b).cdf).pvalue > 1e-4


def test_r_density_is_linear_binned_histogram():
    # with bw = 1e-4 (< binning step) the mass of a point sits on its two nearest grid nodes
    y = np.array([0.5, 0.5, 0.25, 0.9])
    dens = r_density(y, bw=1e-4, n_out=1001, lo=0.0, hi=1.0)
    assert dens.argmax() == 500
    assert dens[250] > 0 and dens[900] > 0
    assert np.all(dens[np.r_[0:248, 253:498, 503:898, 903:1001]] == 0.0)


# -- method on simulated elections ----------------------------------------------------------
def test_clean_elections_rarely_flagged():
    pvalues = [
        rozenas_rkd(simulate(seed, n=2000), n_resamples=200, seed=seed).pvalue for seed in range(20)
    ]
    assert sum(p < 0.05 for p in pvalues) <= 2
    assert 0.3 < np.mean(pvalues) < 0.7  # roughly uniform under the null


def test_injected_coarse_shares_detected():
    e = simulate(99, n=5000, coarse_share=0.05)
    r = rozenas_rkd(e, candidate="A", n_resamples=300, seed=5)
    assert 3.5 <= r.fraud_pct <= 6.0
    assert r.pvalue < 0.01
    assert r.interval.low <= r.fraud_pct <= r.interval.high
    hits = [round(p / q, 3) in r.flagged_shares for p, q in COARSE]
    assert sum(hits) >= 4  # 0.6 sits at the mode of honest support and may hide
    assert {0.75, 0.8, 0.9} <= set(r.flagged_shares)
    text = r.summary().as_text()
    assert "stuffing" in text and f"{r.fraud_pct:.3f}" in text
    json.dumps(r.to_dict())


def test_same_seed_same_result_on_every_backend():
    e = simulate(3, n=1500, coarse_share=0.02)
    a = rozenas_rkd(e, n_resamples=24, seed=11, block=5)
    fit = (a.turnout_mixture, a.support_mixture)
    b = rozenas_rkd(e, n_resamples=24, seed=11, block=8, mixtures=fit, execution="processes")
    np.testing.assert_array_equal(a.envelope, b.envelope)
    assert a.fraud_pct == b.fraud_pct and a.pvalue == b.pvalue
    c = rozenas_rkd(e, n_resamples=24, seed=12, mixtures=fit)
    assert not np.array_equal(a.envelope, c.envelope)


@pytest.mark.parametrize("null", ["binomial", "rkd"])
def test_small_denominator_detects_injection(null):
    clean = small_denominator_test(
        simulate(7, n=3000), candidate="A", null=null, n_resamples=100, seed=1
    )
    dirty = small_denominator_test(
        simulate(7, n=3000, coarse_share=0.05), candidate="A", null=null, n_resamples=100, seed=1
    )
    assert abs(clean.z) < 3
    assert dirty.z > 5 and dirty.excess == pytest.approx(150, abs=40)
    assert dirty.pvalue < 1e-4 if null == "binomial" else dirty.pvalue == pytest.approx(1 / 101)


def test_small_denominator_exact_matches_monte_carlo():
    e = simulate(9, n=4000, coarse_share=0.02)
    ex = small_denominator_test(e, candidate="A")
    mc = small_denominator_test(e, candidate="A", exact=False, n_resamples=400, seed=3)
    assert ex.exact and not mc.exact and ex.n_resamples == 0 and mc.null_counts.size == 400
    assert ex.observed == mc.observed
    assert mc.null_mean == pytest.approx(ex.null_mean, abs=4 * ex.null_sd / 20)
    assert mc.null_sd == pytest.approx(ex.null_sd, rel=0.15)
    assert "binomial" in ex.summary().as_text() and "exact" in ex.summary().as_text()


def test_small_denominator_false_positive_rate_binomial_null():
    # the exact binomial null is the data-generating process of this election: p must be
    # roughly uniform, so at most a few of 40 seeds fall below 0.05
    from pollwatch.forensics.coarse._exact import small_denominator_probabilities

    rng = np.random.default_rng(4)
    t = rng.integers(20, 1500, 3000)
    p_true = rng.beta(8, 8, t.size)
    hits = 0
    for _ in range(40):
        v = rng.binomial(t, p_true)
        e = Election.from_arrays(
            registered=t * 2,
            valid=t,
            invalid=np.zeros(t.size, np.int64),
            votes={"A": v, "B": t - v},
        )
        hits += small_denominator_test(e, candidate="A").pvalue < 0.05
    assert hits <= 6
    assert small_denominator_probabilities(np.array([10]), np.array([0]), 10)[0] == 0


def test_small_sample_warns():
    with pytest.warns(SmallSampleWarning, match="usable stations"):
        r = rozenas_rkd(simulate(1, n=60), n_resamples=20, seed=0)
    assert any("usable stations" in n for n in r.notes)


def test_degenerate_share_warns_and_finishes():
    # a candidate with no votes anywhere: must warn, not hang or crash (tiny probabilities)
    rng = np.random.default_rng(2)
    N = rng.integers(300, 2000, 400)
    t = rng.binomial(N, 0.6)
    e = Election.from_arrays(
        registered=N,
        valid=t,
        invalid=np.zeros(400, np.int64),
        votes={"A": np.zeros(400, np.int64), "B": t},
    )
    with pytest.warns(DegenerateDataWarning, match="same at every station"):
        r = rozenas_rkd(e, candidate="A", n_resamples=20, seed=0)
    assert any("same at every station" in n for n in r.notes)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_resamples": 0}, r"n_resamples \(0\) must be in the interval \[1, inf\]"),
        ({"n_components": 0}, r"n_components \(0\)"),
        ({"bw": 0.0}, r"bw \(0.0\) must be in the interval \(0, 0.5\]"),
        ({"level": 2}, r"level \(2\)"),
        ({"block": 0}, r"block \(0\)"),
    ],
)
def test_bad_parameters(small_election, kw, match):
    with pytest.raises(ValueError, match=match):
        rozenas_rkd(small_election, **kw)


def test_bad_q_max(small_election):
    with pytest.raises(ValueError, match=r"q_max \(1\) must be in the interval \[2, 1000\]"):
        small_denominator_test(small_election, q_max=1)


# -- docs/methods/reference-numbers.md §7 ("ours": 1000 resamples, 0.001 grid, 3-component mixtures) ----
REF = {2011: (95_224, 1.217, 39), 2012: (95_414, 0.821, 34)}
MUST_FLAG = (0.75, 0.8, 0.85, 0.9, 0.95)


@pytest.fixture(scope="module")
def rkd(request):
    out = {}
    for year in (2011, 2012):
        out[year] = rozenas_rkd(request.getfixturevalue(f"ru{year}"), seed=2017)
    return out


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("year", [2011, 2012])
def test_reference_rkd(rkd, year):
    n, fraud, n_flagged = REF[year]
    r = rkd[year]
    assert r.n_stations == n and r.n_resamples == 1000 and r.n_components == 3
    assert r.fraud_pct == pytest.approx(fraud, abs=0.3)
    assert set(MUST_FLAG) <= set(r.flagged_shares)
    assert abs(r.n_flagged - n_flagged) <= 15
    assert r.pvalue < 0.01


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("year", [2011, 2012])
def test_reference_small_denominators(rkd, request, year):
    # reference §7: excess 97 / 96 stations, z 2.6 / 2.5 (200 binomial resamples). The exact
    # binomial null reproduces the excess; its exact sd (≈ 42) puts z at 2.3-2.4, inside the
    # spread that 200 resamples give (2.2-2.55 over five seeds).
    e = request.getfixturevalue(f"ru{year}")
    excess, z = {2011: (97, 2.6), 2012: (96, 2.5)}[year]
    sd = small_denominator_test(e)
    assert sd.n_stations == rkd[year].n_stations and sd.observed > 2000
    assert sd.excess == pytest.approx(excess, abs=5)
    assert sd.z == pytest.approx(z, abs=0.3)
    assert sd.pvalue < 0.02
    mc = small_denominator_test(e, exact=False, n_resamples=200, seed=1)
    assert mc.excess == pytest.approx(excess, abs=15) and mc.z == pytest.approx(z, abs=0.4)
    # the RKD null disperses turnout too, so it expects fewer exact fractions: smaller excess
    r = rkd[year]
    alt = small_denominator_test(
        e, null="rkd", n_resamples=100, seed=1, mixtures=(r.turnout_mixture, r.support_mixture)
    )
    assert 0 < alt.excess < sd.excess
