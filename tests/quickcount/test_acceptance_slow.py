"""Acceptance of the verdict and of the observers' turnout by simulation (issue 19).

docs/quickcount.md §8.2 and §9 quote these runs (the same
seeds as benchmarks/quickcount_verdict.py and benchmarks/quickcount_observed_turnout.py).
300 runs each, the least the issue allows; it is also enough to prove each bound with the
Wilson 95 % interval: the false-alarm rate's upper bound is below 5 %, the power's lower bound
above 90 %.
"""

from __future__ import annotations

import pytest

from pollwatch.quickcount.simulation import turnout_acceptance, verdict_acceptance

pytestmark = pytest.mark.slow


def test_verdict_false_alarm_at_most_5_percent():
    r = verdict_acceptance(300, seed=0)
    assert r.mean_response < 0.92  # the non-response is real
    assert r.rate_high <= 0.05, r.summary().as_text()


def test_verdict_power_at_2pp_manufactured_outside_the_sample():
    r = verdict_acceptance(300, seed=100_000, manufactured=0.02)
    assert r.rate_low >= 0.90, r.summary().as_text()


def test_observed_turnout_coverage_and_stuffing_power():
    r = turnout_acceptance(300, seed=0, stuffed_pp=0.02)
    assert 0.93 <= r.coverage <= 0.97, r.summary().as_text()
    assert r.detection_low >= 0.90, r.summary().as_text()
    assert r.stuffed_flagged >= 0.9 * r.stuffed_stations
    assert r.clean_flagged <= 0.001 * r.clean_stations
