"""validate.protocol: the control relations of validate.rules on observers' copies; blanks are missing."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pollwatch.model.fields import FIELD_BY_NAME
from pollwatch.simulate import Carousel, FraudConfig, Stuffing, simulate_election
from pollwatch.validate import validate
from pollwatch.validate.protocol import check_copies, check_copy, copy_rules
from pollwatch.validate.rules import PROFILES, RULES


def _copies(e):
    """An election's stations as a table of copies (model line names, candidates by name)."""
    fields = [c for c in e.table.columns if c in FIELD_BY_NAME]
    return e.table.select(
        "station_id", *fields, *[pl.col(c.id).alias(c.name) for c in e.candidates]
    ), [c.name for c in e.candidates]


@pytest.mark.parametrize(
    "layout,profile", [("russia", "RU"), ("azerbaijan", "AZ"), ("generic", "generic")]
)
def test_same_verdicts_as_validate(layout, profile):
    """Station by station, every profile rule flags exactly the stations validate() flags."""
    s = simulate_election(
        800,
        seed=31,
        country_layout=layout,
        fraud=FraudConfig(stuffing=Stuffing(0.1), carousel=Carousel(0.05)),
    )
    e = s.election
    rng = np.random.default_rng(3)
    # break arithmetic at random stations so that every relation has violations to agree on
    t = e.table
    for col in ("valid", "ballots_stationary_box", "ballots_received", e.candidates[0].id):
        idx = rng.choice(t.height, 25, replace=False)
        v = t[col].to_numpy().copy()
        v[idx] = v[idx] * 10 + 1
        t = t.with_columns(pl.Series(col, v))
    e = type(e)(t, e.meta)
    table, cands = _copies(e)
    got = check_copies(table, cands, profile=profile, rules=PROFILES[profile])
    ref = validate(e, profile=profile)
    assert set(got.checked) == set(ref.checked) - {"nonnegative"}
    assert got.skipped == ref.skipped
    ids = table["station_id"].to_list()
    mine = {(f.rule, ids[f.row], f.expected, f.found) for f in got.flags}
    theirs = {
        (r, s, int(x), int(y))
        for r, s, x, y in ref.table.select("rule", "station_id", "expected", "found").iter_rows()
        if r != "nonnegative"
    }
    assert mine == theirs and len(mine) > 100


def test_blank_is_missing_not_zero():
    table = pl.DataFrame(
        {
            "registered": [1000, 1000],
            "valid": [600, 600],
            "invalid": [10, 10],
            "A": [400, None],  # blank cell: not 0, so 200 ≠ 600 must not be claimed
            "B": [200, 200],
        },
        schema_overrides={"A": pl.Int64},
    )
    got = check_copies(table, ["A", "B"])
    assert got.flags == ()
    assert (1, "candidates_sum_valid", ("A",)) in got.blank
    # the same copy with A = 0 written out is a violation
    zero = check_copies(table.with_columns(pl.col("A").fill_null(0)), ["A", "B"])
    assert [(f.row, f.rule, f.expected, f.found) for f in zero.flags] == [
        (1, "candidates_sum_valid", 600, 200)
    ]


def test_one_copy():
    flags = check_copy(
        {"registered": 1000, "valid": 600, "invalid": 10, "ballots_stationary_box": 700},
        {"A": 4000, "B": 200},
    )
    assert [f.rule for f in flags] == [
        "cast_equals_boxes",
        "candidates_sum_valid",
        "votes_le_registered",
    ]
    assert flags[1].message == "sum of candidate votes = valid ballots: expected 600, found 4,200"
    assert check_copy({"valid": 600}, {}) == []  # no votes filed: nothing to add up
    assert copy_rules("AZ")[-1] == "votes_le_registered" and "votes_le_registered" in RULES
    with pytest.raises(ValueError, match="profile"):
        copy_rules("XX")


def test_every_rule_declares_what_it_reads():
    assert all(r.reads for r in RULES.values())
