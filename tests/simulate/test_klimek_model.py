"""Draws from the Klimek et al. (2012) model: shares of each kind, clean baseline, truth, fit recovery."""

import numpy as np
import pytest

from pollwatch.simulate.klimek_model import simulate_klimek
from pollwatch.validate import validate


def test_reproducible_and_seeded():
    a = simulate_klimek(2000, 0.2, 0.05, 1.5, seed=3)
    b = simulate_klimek(2000, 0.2, 0.05, 1.5, seed=3)
    c = simulate_klimek(2000, 0.2, 0.05, 1.5, seed=4)
    assert a.election.table.equals(b.election.table) and a.truth.equals(b.truth)
    assert not a.truth.equals(c.truth)
    assert a.params["seed"] == 3 and a.params["f_i"] == 0.2


def test_kind_shares_follow_f_i_and_f_e():
    s = simulate_klimek(50_000, 0.25, 0.04, 2.0, seed=1)
    got = s.fraud_share
    # binomial sd of a share at n = 50,000 is < 0.002; 4 sd
    assert abs(got["incremental"] - 0.25) < 0.008 and abs(got["extreme"] - 0.04) < 0.004


def test_clean_model_is_the_gaussian_baseline():
    s = simulate_klimek(
        40_000, 0.0, 0.0, 1.0, seed=2, tau=0.6, nu=0.4, sigma_tau=0.05, sigma_nu=0.06
    )
    e = s.election
    t, sh = e.turnout(), e.share("Leader")  # with ν = 0.4 the model's "Leader" is not the winner
    assert set(s.truth["kind"].unique()) == {"clean"}
    assert abs(np.mean(t) - 0.6) < 0.005 and abs(np.std(t) - 0.05) < 0.005
    assert abs(np.mean(sh) - 0.4) < 0.005 and abs(np.std(sh) - 0.06) < 0.006
    assert (s.truth["stuffed"].to_numpy() == 0).all()


def test_truth_is_consistent_with_the_counts():
    s = simulate_klimek(5000, 0.3, 0.05, 2.0, seed=5)
    e, t = s.election, s.truth
    lead = e.votes("Leader")
    np.testing.assert_array_equal(
        e.ballots_cast() - t["clean_ballots"].to_numpy(), t["stuffed"].to_numpy()
    )
    np.testing.assert_array_equal(
        lead - t["clean_leader_votes"].to_numpy(),
        t["stuffed"].to_numpy() + t["switched"].to_numpy(),
    )
    fraud = t["kind"].to_numpy() != "clean"
    assert (t["x"].to_numpy()[fraud] > 0).all() and (t["x"].to_numpy()[~fraud] == 0).all()
    ext = t["kind"].to_numpy() == "extreme"
    assert np.median(e.turnout()[ext]) > 0.9 and np.median(e.share()[ext]) > 0.9
    assert sum(validate(e).counts().values()) == 0


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match=r"f_i \(1.5\) must be in the interval \[0, 1\]"):
        simulate_klimek(10, 1.5, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"f_i \+ f_e"):
        simulate_klimek(10, 0.8, 0.3, 1.0)
    with pytest.raises(ValueError, match=r"alpha \(0\) must be in the interval \(0"):
        simulate_klimek(10, 0.1, 0.0, 0)


def test_klimek_fit_recovers_the_injected_model():
    """Calibration: the forensics fit on a draw from the model. f_i is biased low (small
    incremental intensities are indistinguishable from the clean blob), α and f_e are close."""
    fit_klimek = pytest.importorskip("pollwatch.forensics.klimek").fit_klimek

    s = simulate_klimek(30_000, 0.2, 0.03, 2.0, seed=2)
    r = fit_klimek(s.election, n_realisations=2, seed=1, execution="serial")
    assert abs(r.f_e - 0.03) < 0.015
    assert abs(r.alpha - 2.0) <= 0.5
    assert 0.08 < r.f_i < 0.3
    clean = fit_klimek(
        simulate_klimek(30_000, 0.0, 0.0, 2.0, seed=2).election,
        n_realisations=2,
        seed=1,
        execution="serial",
    )
    # the clean fit is not exactly 0 (rounding to counts, estimated baseline) but well below the dirty one
    assert clean.f_i < r.f_i / 2 and clean.f_e < 0.005
