"""Russian control relations on hand-made stations: absentee certificates, lost and unaccounted ballots."""

import numpy as np
import pytest

from pollwatch.model import Election, ElectionMeta
from pollwatch.validate import PROFILES, validate

STATION = dict(  # one consistent Russian station (67-FZ protocol lines)
    registered=1000,
    ballots_received=1000,
    ballots_issued_early=10,
    ballots_issued_station=560,
    ballots_issued_mobile=30,
    ballots_cancelled=398,
    ballots_lost=3,
    ballots_unaccounted=1,
    ballots_mobile_box=30,
    ballots_stationary_box=570,
    valid=590,
    invalid=10,
    absentee_received=40,
    absentee_issued=12,
    absentee_cancelled=27,
    absentee_lost=1,
    absentee_voted=5,
)
VOTES = {"A": 400, "B": 190}


def _station(**changes) -> Election:
    row = {**STATION, **changes}
    fields = {
        k: np.array([v]) for k, v in row.items() if k not in ("registered", "valid", "invalid")
    }
    return Election.from_arrays(
        registered=[row["registered"]],
        valid=[row["valid"]],
        invalid=[row["invalid"]],
        votes={k: np.array([v]) for k, v in VOTES.items()},
        fields=fields,
        meta=ElectionMeta(profile="RU"),
    )


def test_consistent_station_passes_with_lost_and_unaccounted_ballots():
    f = validate(_station())
    assert len(f) == 0 and set(PROFILES["RU"]) <= set(f.checked)


@pytest.mark.parametrize(
    "change,rule,difference",
    [
        ({"absentee_cancelled": 26}, "absentee_balance_ru", -1),
        ({"absentee_lost": 3}, "absentee_balance_ru", 2),
        ({"ballots_lost": 0}, "ballots_balance_ru", -3),
        ({"ballots_unaccounted": 0}, "ballots_balance_ru", 1),
        ({"ballots_received": 590}, "issued_le_received", None),
    ],
)
def test_ru_rule_fires(change, rule, difference):
    f = validate(_station(**change))
    assert f.counts()[rule] == 1
    if difference is not None:
        assert {r: n for r, n in f.counts().items() if n} == {rule: 1}
        assert f.for_rule(rule)["difference"].to_list() == [difference]


def test_az_rules_are_not_applied_to_a_russian_profile():
    f = validate(_station(ballots_spoilt=50))
    assert "ballots_balance_az" not in f.checked and len(f) == 0
    assert validate(_station(ballots_spoilt=50), profile="AZ").counts()["ballots_balance_az"] == 1
