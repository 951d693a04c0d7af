"""The speed-ups keep results exact: the beta-binomial table used by the RKD resampler, and
analyze's second process for the slowest method."""

import json

import numpy as np
import pytest
from scipy import stats

from pollwatch.forensics.coarse._sample import _betabin_table
from pollwatch.forensics.run import analyze
from pollwatch.simulate import FraudConfig, Rounding, simulate_election


@pytest.mark.parametrize("n,k_obs", [(50, 10), (800, 400), (2500, 2490), (3000, 3)])
def test_betabin_table_matches_scipy(n, k_obs):
    alpha = np.array([0.5, 3.0, 40.0])
    beta_ = np.array([2.0, 1.5, 10.0])
    cum = np.array([[0.2, 0.7, 1.0]])
    pmf = np.zeros(n + 1)
    comp = np.zeros(n + 1)
    lo, hi = _betabin_table(n, k_obs, cum, 0, alpha, beta_, pmf, comp)
    want = sum(
        w * stats.betabinom(n, k_obs + a, n - k_obs + b).pmf(np.arange(n + 1))
        for w, a, b in zip((0.2, 0.5, 0.3), alpha, beta_, strict=True)
    )
    assert 0 <= lo <= hi <= n
    np.testing.assert_allclose(pmf, want, atol=1e-12)


@pytest.mark.slow
def test_parallel_analyze_equals_sequential():
    e = simulate_election(20_000, seed=3, fraud=FraudConfig(rounding=Rounding(0.02))).election
    methods = ["integer_percentages", "mixture", "coarse_shares", "digits"]  # both offloaded ones
    a = analyze(e, seed=1, methods=methods, parallel=False)
    b = analyze(e, seed=1, methods=methods, parallel=True)

    def strip(d):
        return json.dumps(
            {k: v for k, v in d.items() if k != "timings"}, sort_keys=True, default=str
        )

    assert a.errors == b.errors == {}
    assert strip(a.doc) == strip(b.doc)
    assert a.stations_table().equals(b.stations_table())
