"""A station excluded for an implausible count stays in the model but not in the national totals."""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.model import Election, ElectionMeta


def _election(reason: str | None) -> Election:
    e = Election.from_arrays(
        registered=np.array([1000, 900, 9_000_000_000]),
        valid=np.array([600, 500, 8_000_000_000]),
        invalid=np.array([10, 8, 0]),
        votes={"A": np.array([400, 300, 10]), "B": np.array([200, 200, 7_999_999_990])},
        hierarchy={"region": np.array(["R1", "R1", "R2"])},
        meta=ElectionMeta(name="t"),
    )
    return Election(
        e.table.with_columns(pl.Series("exclusion", [None, None, reason], dtype=pl.Utf8)), e.meta
    )


def test_implausible_station_left_out_of_totals_and_of_the_winner():
    t = _election("implausible_count").totals()
    assert t["registered"] == 1900 and t["valid"] == 1100
    assert t["votes"] == {"A": 700, "B": 400} and t["leader"] == "A"
    assert t["left_out"] == {"implausible_count": 1} and t["stations"] == 3


def test_other_exclusions_stay_in_the_totals():
    t = _election("evoting").totals()  # real ballots, only not analysable as a station
    assert t["registered"] == 9_000_001_900 and t["leader"] == "B" and t["left_out"] == {}
