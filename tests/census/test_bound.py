"""Worst-case verdicts: impossible only when the sheets alone prove it (docs/census.md §3)."""

from __future__ import annotations

import pytest

from pollwatch.census import census_check, judge_claims, worst_case
from pollwatch.census.simulation import simulate_census
from pollwatch.claims.model import Claim


def _claim(q: str, value: float, unit: str = "%", **kw) -> Claim:
    return Claim(source="CEC", speaker="", quantity=q, value=value, unit=unit, **kw)


WC = worst_case({"A": 4000, "B": 6000}, collected_stations=10, uncollected_registered=1500)


def test_a_winner_who_trails_by_more_than_what_is_left_cannot_have_won():
    (v,) = judge_claims([_claim("winner_share", 55.0)], WC, winner="A")
    assert v.verdict == "impossible"
    assert "B has 6,000" in v.reason and "1,500" in v.reason


def test_a_winner_who_could_catch_up_is_not_impossible():
    wc = worst_case({"A": 4000, "B": 5400}, collected_stations=10, uncollected_registered=1500)
    (v,) = judge_claims([_claim("winner_share", 46.0)], wc, winner="A")
    assert v.verdict == "unverifiable"  # possible: A + 1,500 = 5,500 > 5,400


@pytest.mark.parametrize(
    ("claim", "verdict"),
    [
        (_claim("candidate_share:A", 30.0), "impossible"),  # below 4000/11500 = 34.8 %
        (_claim("candidate_share:A", 40.0), "unverifiable"),  # within [34.8 %, 47.8 %]
        (_claim("candidate_share:A", 48.5), "impossible"),  # above 5500/11500 = 47.8 %
        (_claim("candidate_votes:B", 7600, unit="count"), "impossible"),
        (_claim("candidate_votes:B", 7400, unit="count"), "unverifiable"),
        (_claim("valid_votes", 9000, unit="count"), "impossible"),
        (_claim("candidate_share:A", 99.0, stage="partial"), "unverifiable"),
        (_claim("stations", 9, unit="count"), "impossible"),
    ],
)
def test_bounds(claim, verdict):
    (v,) = judge_claims([claim], WC)
    assert v.verdict == verdict, v.reason


def test_rounding_is_given_the_benefit_of_the_doubt():
    # 4000/11500 = 34.78 %: a published "34.8" is possible, "34.7" is not
    (ok,) = judge_claims([_claim("candidate_share:A", 34.8)], WC)
    (bad,) = judge_claims([_claim("candidate_share:A", 34.6)], WC)
    assert ok.verdict != "impossible" and bad.verdict == "impossible"


def test_without_a_station_list_the_claims_own_total_bounds_it():
    wc = worst_case({"A": 4000, "B": 6000}, collected_stations=10)
    claims = [_claim("winner_share", 60.0), _claim("valid_votes", 11000, unit="count")]
    v = judge_claims(claims, wc, winner="A")
    assert v[0].verdict == "impossible" and "own total of 11,000" in v[0].reason
    (u,) = judge_claims([_claim("winner_share", 60.0)], wc, winner="A")
    assert u.verdict == "unverifiable" and "unbounded" in u.reason


@pytest.mark.slow
def test_true_figures_are_never_impossible_and_false_winners_are_caught():
    """On simulated nights: the true result is never called impossible; a claim that the
    official (altered) winner won is impossible exactly when the sheets alone prove it."""
    proven = caught = 0
    for seed in range(40):
        night = simulate_census(seed, stations=1200, moved=0.5, coverage=(0.85, 0.95))
        truth = night.truth.votes_matrix().sum(axis=0)
        names = [c.name for c in night.truth.candidates]
        true_claims = [
            _claim(f"candidate_share:{n}", float(round(100 * truth[k] / truth.sum(), 2)))
            for k, n in enumerate(names)
        ]
        r = census_check(night.sheets, night.official, true_claims)
        assert all(c.verdict != "impossible" for c in r.claims), [c.reason for c in r.claims]
        win = night.official.winner.name
        r = census_check(night.sheets, night.official, [_claim("winner_share", 50.0)])
        tot = r.bound.collected_votes
        sure = any(v > tot[win] + r.bound.uncollected_max for k, v in tot.items() if k != win)
        proven += sure
        if sure:
            assert r.claims[0].verdict == "impossible", r.claims[0].reason
            caught += 1
    assert proven > 0, "the simulation never produced a provably false winner: test is vacuous"
    assert caught == proven
