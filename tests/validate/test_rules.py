"""Each protocol rule fires on a hand-made violating station and not on a clean one."""

import numpy as np
import pytest

from pollwatch.model import Election, ElectionMeta
from pollwatch.validate import PROFILES, validate

CLEAN = dict(  # one consistent Azerbaijani-style station
    registered=1000,
    registered_main=970,
    additional_list=20,
    absentee_voted=15,
    absentee_taken=5,
    ballots_received=1050,
    ballots_issued_station=560,
    ballots_issued_mobile=40,
    ballots_cancelled=440,
    ballots_spoilt=10,
    ballots_mobile_box=40,
    ballots_stationary_box=560,
    valid=590,
    invalid=10,
    mobile_requests=45,
    absentee_received=30,
    absentee_issued=10,
    absentee_cancelled=20,
    absentee_lost=0,
    ballots_lost=10,  # RU balance uses lost ballots where AZ uses spoilt ones: both close at 1,050
)
VOTES = {"A": 400, "B": 190}


def _station(profile="AZ", **changes) -> Election:
    row = {**CLEAN, **changes}
    votes = {k: np.array([changes.get(k, v)]) for k, v in VOTES.items()}
    fields = {
        k: np.array([v]) for k, v in row.items() if k not in ("registered", "valid", "invalid")
    }
    return Election.from_arrays(
        registered=[row["registered"]],
        valid=[row["valid"]],
        invalid=[row["invalid"]],
        votes=votes,
        fields=fields,
        meta=ElectionMeta(profile=profile),
    )


def test_clean_station_passes_every_profile():
    for profile in PROFILES:
        counts = validate(_station(profile)).counts()
        assert sum(counts.values()) == 0, (profile, counts)


@pytest.mark.parametrize(
    "change,rule",
    [
        ({"ballots_stationary_box": 570}, "cast_equals_boxes"),
        ({"A": 401}, "candidates_sum_valid"),
        ({"ballots_stationary_box": 570, "valid": 600, "A": 410}, "boxes_le_issued"),
        ({"ballots_received": 550, "ballots_cancelled": -50}, "issued_le_received"),
        ({"registered": 500, "registered_main": 470}, "turnout_le_100"),
        ({"ballots_cancelled": 430}, "ballots_balance_az"),
        (
            {
                "ballots_mobile_box": 50,
                "ballots_stationary_box": 550,
                "mobile_requests": 45,
                "ballots_issued_mobile": 50,
                "ballots_issued_station": 550,
            },
            "mobile_box_le_requests",
        ),
        ({"additional_list": 25}, "item1_identity_az"),
        ({"B": -1, "A": 591}, "nonnegative"),
    ],
)
def test_rule_fires(change, rule):
    f = validate(_station("AZ", **change))
    assert f.counts()[rule] == 1
    row = f.for_rule(rule).row(0, named=True)
    assert row["station_id"] == "1" and row["expected"] != row["found"]


def test_russian_balance_rules():
    e = _station("RU", ballots_cancelled=430)
    counts = validate(e).counts()
    assert counts["ballots_balance_ru"] == 1
    assert "ballots_balance_az" not in counts


def test_rules_without_their_lines_are_listed_as_skipped():
    e = Election.from_arrays(registered=[100], valid=[50], invalid=[1], votes={"A": [50]})
    f = validate(e, profile="RU")
    assert "ballots_balance_ru" in f.skipped and "boxes_le_issued" in f.skipped
    assert "not checked: ballots_balance_ru" in f.summary().as_text()


def test_unknown_profile():
    with pytest.raises(ValueError, match="profile .* not recognised"):
        validate(_station(), profile="XX")
