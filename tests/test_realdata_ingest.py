"""Published totals of the Russian CEC files (shared/data/README.md, docs/methods/reference-numbers.md §1)."""

import pytest

from pollwatch.validate import validate

pytestmark = pytest.mark.realdata


def test_2012_totals(ru2012):
    t = ru2012.totals()
    assert t["stations"] == 95_415
    assert t["registered"] == 109_860_331
    assert t["valid"] == 70_864_974
    assert t["invalid"] == 836_691
    assert t["ballots_issued"] == 71_780_800
    assert t["leader"] == "Путин Владимир Владимирович"
    assert t["leader_votes"] == 45_602_075
    assert t["excluded"] == {"zero_registered": 1}


def test_2011_totals(ru2011):
    t = ru2011.totals()
    assert t["stations"] == 95_225
    assert t["registered"] == 109_229_337
    assert t["ballots_issued"] == 65_766_594
    assert t["leader"] == '6. Всероссийская политическая партия "ЕДИНАЯ РОССИЯ"'
    assert t["leader_votes"] == 32_371_737
    assert t["excluded"] == {"zero_ballots": 1}


@pytest.mark.parametrize("year,boxes", [(2011, 18), (2012, 13)])
def test_protocol_arithmetic_reference(year, boxes, request):
    e = request.getfixturevalue(f"ru{year}")
    counts = validate(e).counts()
    assert counts["boxes_le_issued"] == boxes
    assert counts["cast_equals_boxes"] == 0
    assert counts["candidates_sum_valid"] == 0
    assert counts["ballots_balance_ru"] == 0
    assert counts["absentee_balance_ru"] == 0
