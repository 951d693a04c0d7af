"""Hypothesis: consistent simulated protocols pass every profile; changing one protocol line at
one station is caught by the rule that covers that line, at that station and nowhere else."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.model import Election
from pollwatch.simulate import Carousel, FraudConfig, Stuffing, Switching, simulate_election
from pollwatch.validate import validate

LAYOUT_PROFILE = {"russia": "RU", "azerbaijan": "AZ", "generic": "generic"}
FRAUD = FraudConfig(stuffing=Stuffing(0.3), switching=Switching(0.2), carousel=Carousel(0.2))

# line changed -> rule that must catch it, per profile (None: the profile has no rule for it)
PERTURBATIONS = {
    "ballots_stationary_box": {
        "RU": "cast_equals_boxes",
        "AZ": "cast_equals_boxes",
        "generic": "cast_equals_boxes",
    },
    "invalid": {
        "RU": "cast_equals_boxes",
        "AZ": "cast_equals_boxes",
        "generic": "cast_equals_boxes",
    },
    "cand_01": {
        "RU": "candidates_sum_valid",
        "AZ": "candidates_sum_valid",
        "generic": "candidates_sum_valid",
    },
    "ballots_cancelled": {"RU": "ballots_balance_ru", "AZ": "ballots_balance_az", "generic": None},
    "ballots_received": {"RU": "ballots_balance_ru", "AZ": "ballots_balance_az", "generic": None},
    "additional_list": {"RU": None, "AZ": "item1_identity_az", "generic": None},
    "registered_main": {"RU": None, "AZ": "item1_identity_az", "generic": None},
}


def _change(e: Election, i: int, col: str, delta: int) -> Election:
    idx = pl.int_range(pl.len()) == i
    return Election(
        e.table.with_columns(
            pl.when(idx).then(pl.col(col) + delta).otherwise(pl.col(col)).alias(col)
        ),
        e.meta,
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**31),
    layout=st.sampled_from(sorted(LAYOUT_PROFILE)),
    fraudulent=st.booleans(),
)
def test_consistent_protocols_pass_every_profile(n, seed, layout, fraudulent):
    e = simulate_election(
        n, seed=seed, country_layout=layout, fraud=FRAUD if fraudulent else None
    ).election
    for profile in ("generic", LAYOUT_PROFILE[layout]):
        f = validate(e, profile=profile)
        assert len(f) == 0, f.table.head(3).to_dicts()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    seed=st.integers(0, 2**31),
    layout=st.sampled_from(sorted(LAYOUT_PROFILE)),
    line=st.sampled_from(sorted(PERTURBATIONS)),
    delta=st.integers(1, 500),
    sign=st.sampled_from([1, -1]),
    data=st.data(),
)
def test_one_changed_line_is_found_by_its_rule(n, seed, layout, line, delta, sign, data):
    profile = LAYOUT_PROFILE[layout]
    rule = PERTURBATIONS[line][profile]
    e = simulate_election(n, seed=seed, country_layout=layout, fraud=FRAUD).election
    i = data.draw(st.integers(0, n - 1), label="station")
    sid = e.station_ids[i]
    f = validate(_change(e, i, line, sign * delta), profile=profile)
    assert f.stations() <= {sid}  # nothing anywhere else
    if rule is not None:
        assert f.for_rule(rule)["station_id"].to_list() == [sid]
        row = f.for_rule(rule).row(0, named=True)
        assert abs(row["difference"]) == delta


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 2**31), excess=st.integers(1, 300), data=st.data())
def test_more_ballots_than_voters_is_found(n, seed, excess, data):
    e = simulate_election(n, seed=seed, country_layout="russia").election
    i = data.draw(st.integers(0, n - 1), label="station")
    issued = int(e.ballots_issued()[i])
    bad = _change(e, i, "registered", issued - excess - int(e.field("registered")[i]))
    f = validate(bad)
    assert f.for_rule("turnout_le_100")["station_id"].to_list() == [e.station_ids[i]]
    assert f.stations() == {e.station_ids[i]}


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), perm_seed=st.integers(0, 2**31))
def test_findings_do_not_depend_on_row_order(seed, perm_seed):
    e = simulate_election(80, seed=seed, country_layout="azerbaijan", fraud=FRAUD).election
    broken = _change(_change(e, 3, "ballots_cancelled", 7), 50, "cand_01", 2)
    shuffled = Election(
        broken.table.sample(fraction=1.0, shuffle=True, seed=perm_seed), broken.meta
    )
    a, b = validate(broken), validate(shuffled)
    key = ["rule", "station_id"]
    assert a.table.sort(key).equals(b.table.sort(key))
