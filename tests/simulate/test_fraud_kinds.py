"""Each kind of injected fraud does what it says where it is injected, and nothing elsewhere."""

import numpy as np
import pytest

from pollwatch.simulate import (
    Carousel,
    Extreme,
    FraudConfig,
    Rounding,
    Switching,
    simulate_election,
)

N, SEED = 6000, 31


@pytest.fixture(scope="module")
def clean():
    return simulate_election(N, seed=SEED).election


def _run(**kinds):
    s = simulate_election(N, seed=SEED, fraud=FraudConfig(**kinds))
    return s, s.election


def test_switching_moves_votes_without_changing_turnout(clean):
    s, e = _run(switching=Switching(0.2, intensity=(0.2, 0.4)))
    hit = s.truth["switched"].to_numpy() > 0
    assert 0.15 < hit.mean() < 0.25
    np.testing.assert_array_equal(e.ballots_issued(), clean.ballots_issued())
    np.testing.assert_array_equal(e.ballots_cast(), clean.ballots_cast())
    lead = e.votes("Incumbent") - clean.votes("Incumbent")
    np.testing.assert_array_equal(lead, s.truth["switched"].to_numpy())
    others = e.votes_matrix()[:, 1:].sum(axis=1) - clean.votes_matrix()[:, 1:].sum(axis=1)
    np.testing.assert_array_equal(others, -lead)


def test_carousel_adds_listed_voters_in_a_few_constituencies(clean):
    s, e = _run(carousel=Carousel(0.1, intensity=(0.05, 0.1), constituency_share=0.2))
    extra = s.truth["carousel"].to_numpy()
    hit = extra > 0
    cons = np.unique(e.level("constituency")[hit])
    assert len(cons) <= 20  # 20 % of 100 constituencies
    assert 0.05 < hit.mean() < 0.15
    added = (
        e.field("additional_list")
        + e.field("absentee_voted")
        - clean.field("additional_list")
        - clean.field("absentee_voted")
    )
    np.testing.assert_array_equal(added, extra)
    np.testing.assert_array_equal(e.field("registered") - clean.field("registered"), extra)
    np.testing.assert_array_equal(e.votes("Incumbent") - clean.votes("Incumbent"), extra)
    assert np.nanmean(e.turnout()[hit]) > np.nanmean(clean.turnout()[hit]) + 0.02


def test_extreme_stations_sit_near_100_percent(clean):
    s, e = _run(extreme=Extreme(0.03, low=0.95))
    hit = s.truth["extreme"].to_numpy() > 0
    assert 0.02 < hit.mean() < 0.04
    # turnout is issued / registered rounded down to a whole voter; share follows the moved votes
    assert np.median(e.turnout(basis="issued")[hit]) > 0.95 and np.median(e.share()[hit]) > 0.95
    assert np.median(clean.turnout(basis="issued")[hit]) < 0.8


@pytest.mark.parametrize("target", ["turnout", "share"])
def test_rounding_lands_on_whole_percents_only_where_rewritten(clean, target):
    s, e = _run(rounding=Rounding(0.3, target=target, round_to=5))
    hit = s.truth["rounded"].to_numpy() > 0
    big = (
        e.field("registered") >= 2000
    )  # fine enough that a whole percent is reachable within 0.05 pp
    if target == "turnout":
        p = 100.0 * e.ballots_issued() / e.field("registered")
    else:
        p = 100.0 * e.votes("Incumbent") / e.ballots_cast()
    near5 = np.abs(p - 5 * np.round(p / 5)) <= 0.05
    assert near5[hit & big].mean() > 0.95
    assert near5[~hit & big].mean() < 0.1
    assert (s.truth["rounded"].to_numpy() >= 0).all()
