"""Acceptance on simulated monitoring (2,000 stations, seeded): coverage, flags, outages."""

import numpy as np
import pytest

from pollwatch.cameras import compare_official, estimate_turnout, simulate_cameras


@pytest.fixture(scope="module")
def sim():
    return simulate_cameras(2000, seed=2024, inflation=(0.15, 0.6))


# the simulated watchers w1 and w2 are unbiased, so either can be the reference count that
# measures the all-day error δ (without one, δ is the conservative 10 % default)
REF = "w1"


@pytest.fixture(scope="module")
def est(sim):
    return estimate_turnout(
        sim.tallies, sim.status, strata=sim.strata, seed=7, reference_watcher=REF
    )


def _truth(sim, est, which):
    ok = est.status == "estimated"
    ids = est.station_id[ok]
    return ok, ids, np.array([getattr(sim, which)[s] for s in ids], dtype=float)


def test_interval_coverage(sim, est):
    ok, ids, truth = _truth(sim, est, "expected")
    assert ok.sum() > 1700  # most stations are estimable; the rest are "insufficient coverage"
    cover = np.mean((est.low[ok] <= truth) & (truth <= est.high[ok]))
    assert 0.93 <= cover <= 0.97, cover


def test_flags_recall_and_false_flags(sim, est):
    cmp = compare_official(est, sim.official)
    ok = est.status == "estimated"
    inflated = np.array([s in sim.inflated for s in est.station_id])
    recall = cmp.flagged[ok & inflated].mean()
    false_rate = cmp.flagged[ok & ~inflated].mean()
    assert recall >= 0.90, recall
    assert false_rate <= 0.05, false_rate
    # the lower bound is conservative: never above the ballots actually added
    added = sum(sim.official[s] - sim.realised[s] for s in est.station_id[ok & inflated])
    assert 0 < cmp.lower_bound_added <= added


def test_status_log_keeps_outages_from_lowering_estimates(sim, est):
    """Without the status log, glimpses during outages count as (near-)zero windows and drag
    estimates down; with it they are missing and the estimates are unbiased."""
    ok, ids, truth = _truth(sim, est, "expected")
    bias_with = np.mean(est.estimate[ok] / truth - 1)
    blind = estimate_turnout(sim.tallies, None, strata=sim.strata, seed=7, reference_watcher=REF)
    okb = blind.status == "estimated"
    tb = np.array([sim.expected[s] for s in blind.station_id[okb]])
    bias_without = np.mean(blind.estimate[okb] / tb - 1)
    assert abs(bias_with) < 0.01
    assert bias_without < -0.05
    assert np.all(est.estimate[ok] > 0)


def test_watcher_agreement_measured(est):
    assert est.agreement.n_windows > 1000
    assert est.agreement.kappa_ci.low < 1 < est.agreement.kappa_ci.high
    assert 0.02 < est.agreement.error_per_count < 0.1  # simulated at 0.05


def test_realised_target_covers_the_realised_count_and_finds_small_inflation():
    """target="realised" is the interval for the voters who actually came; it is tighter, so
    it also catches inflation of 5–15 % that the expected-count interval mostly misses."""
    sim = simulate_cameras(2000, seed=77, inflation=(0.05, 0.15))
    est = estimate_turnout(
        sim.tallies, sim.status, strata=sim.strata, seed=1, target="realised", reference_watcher=REF
    )
    ok, ids, real = _truth(sim, est, "realised")
    cover = np.mean((est.low[ok] <= real) & (real <= est.high[ok]))
    assert 0.93 <= cover <= 0.97, cover
    cmp = compare_official(est, sim.official)
    inflated = np.array([s in sim.inflated for s in est.station_id])
    assert cmp.flagged[ok & inflated].mean() >= 0.8
    assert cmp.flagged[ok & ~inflated].mean() <= 0.05
