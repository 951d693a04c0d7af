"""Double-blind transcription, the library side (docs/census.md §7)."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.census.layouts import layout
from pollwatch.census.transcription import (
    differing,
    keying_slip,
    share_without_arbitration,
    sheet_problems,
    simulated_typist,
)

LAY = layout("azerbaijan")
LINES = tuple(f for _, _, f in LAY.lines)
CANDS = ("A", "B")
GOOD = {
    "registered": 1000, "ballots_received": 1000, "ballots_issued_station": 600,
    "ballots_issued_mobile": 10, "ballots_cancelled": 390, "ballots_mobile_box": 10,
    "ballots_stationary_box": 600, "valid": 600, "invalid": 10, "A": 400, "B": 200,
}  # fmt: skip


def test_differing_counts_a_blank_as_a_difference():
    assert differing(GOOD, {**GOOD, "B": 201}, LAY.fields(CANDS)) == ("B",)
    assert differing(GOOD, {**GOOD, "invalid": None}, LAY.fields(CANDS)) == ("invalid",)
    assert differing(GOOD, dict(GOOD), LAY.fields(CANDS)) == ()


def test_checks_are_the_census_checks():
    assert sheet_problems(GOOD, LINES, CANDS) == []
    assert sheet_problems({**GOOD, "A": 500}, LINES, CANDS)[0].startswith("arithmetic")
    assert sheet_problems({**GOOD, "B": None}, LINES, CANDS)[0].startswith("incomplete")
    # an illegible line the checks do not need is no problem
    assert sheet_problems({**GOOD, "ballots_received": None}, LINES, CANDS) == []


def test_wilson_interval():
    s = share_without_arbitration(8, 2)
    assert s.estimate == 0.8 and s.low == pytest.approx(0.4902, abs=1e-4)
    assert s.high == pytest.approx(0.9433, abs=1e-4)
    assert share_without_arbitration(0, 0).to_dict()["share_without_arbitration"] is None
    assert share_without_arbitration(5, 0).high == 1.0


def test_a_slip_always_changes_the_number():
    rng = np.random.default_rng(0)
    for v in (0, 7, 10, 11, 100, 1234, 99999):
        assert all(keying_slip(v, rng) != v for _ in range(200))


def test_typist_slips_at_the_given_rate():
    rng = np.random.default_rng(1)
    values = {f"f{i}": 1000 + i for i in range(50)}
    wrong = sum(
        sum(a != values[k] for k, a in simulated_typist(values, 0.02, rng).items())
        for _ in range(400)
    )
    assert wrong / (400 * 50) == pytest.approx(0.02, abs=0.004)
    assert simulated_typist({"x": None}, 1.0, rng) == {"x": None}
