"""Like with like (protocol lines per country), the Benjamini–Hochberg step-up and the p-values
that invert the camera interval."""

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pollwatch.cameras import (
    DayProfile,
    OfficialBallots,
    benjamini_hochberg,
    compare_official,
    estimate_turnout,
    tallies_frame,
    visible_ballots,
)
from pollwatch.cameras.compare import read_official, tail_p
from pollwatch.model import Election, ElectionMeta


def _election(fields, profile="generic", country=""):
    return Election.from_arrays(
        registered=[1000, 1000],
        valid=[390, 150],
        invalid=[10, 5],
        votes={"X": [300, 100], "Y": [90, 50]},
        station_ids=["A", "B"],
        fields=fields,
        meta=ElectionMeta(country=country, profile=profile),
    )


class TestVisibleBallots:
    def test_russia_in_station_line_and_removed_lines(self):
        e = _election(
            {
                "ballots_issued_station": [300, 120],
                "ballots_issued_mobile": [60, 20],
                "ballots_issued_early": [40, 15],
            },
            profile="RU",
        )
        ob = visible_ballots(e)
        assert dict(ob) == {"A": 300, "B": 120} and ob.exact
        assert ob.lines == ("ballots_issued_station",) and ob.profile == "RU"
        assert set(ob.hidden_removed) == {"ballots_issued_early", "ballots_issued_mobile"}
        assert "67-FZ" in ob.source and any("several days" in n for n in ob.notes)

    def test_azerbaijan_falls_back_to_cast_minus_mobile_box(self):
        e = _election({"ballots_mobile_box": [30, 5]}, country="AZ", profile="AZ")
        ob = visible_ballots(e)
        assert dict(ob) == {"A": 370, "B": 150} and ob.exact
        assert ob.formula == "valid + invalid − ballots_mobile_box"
        assert "100.2" in ob.source

    def test_only_cast_is_a_one_sided_bound(self):
        ob = visible_ballots(_election({}))
        assert dict(ob) == {"A": 400, "B": 155} and not ob.exact
        assert ob.comparison == "bound" and "one-sided bound" in " ".join(ob.notes)

    def test_stationary_box_in_russia_is_a_bound(self):
        # early voters' ballots go into the stationary box: not like with like
        ob = visible_ballots(_election({"ballots_stationary_box": [350, 140]}, profile="RU"))
        assert ob.lines == ("ballots_stationary_box",) and not ob.exact

    def test_blank_line_means_no_figure(self):
        e = _election({"ballots_issued_station": [300, 1]}, profile="RU")
        blank = pl.Series("ballots_issued_station", [300, None], dtype=pl.Int64)
        ob = visible_ballots(Election(e.table.with_columns(blank), e.meta))
        assert dict(ob) == {"A": 300}
        assert any("empty protocol line" in n for n in ob.notes)

    def test_mapping_equality_and_csv(self, tmp_path):
        p = tmp_path / "o.csv"
        p.write_text("station_id,ballots_issued_station\nA,10\n")
        ob = read_official(p)
        assert ob == {"A": 10} and ob.exact
        p.write_text("station_id,official\nA,10\n")
        assert not read_official(p).exact and read_official(p, in_station=True).exact


def test_benjamini_hochberg_paper_example():
    """Benjamini & Hochberg (1995) §4: 15 p-values, q = 0.05 → the 4 smallest are rejected
    (Bonferroni would reject 3); agrees with scipy's adjusted p-values."""
    p = np.array(
        [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240]
        + [0.4262, 0.5719, 0.6528, 0.7590, 1.000]
    )
    rej, thr = benjamini_hochberg(p[::-1].copy(), 0.05)
    assert rej.sum() == 4 and thr == pytest.approx(4 * 0.05 / 15) and rej[::-1][:4].all()
    assert np.array_equal(rej, stats.false_discovery_control(p[::-1]) <= 0.05)
    with_nan = np.append(p, np.nan)
    assert benjamini_hochberg(with_nan, 0.05)[0].sum() == 4


STARTS, ENDS, W = [480, 540, 600, 660], [540, 600, 660, 720], [0.2, 0.3, 0.3, 0.2]


@pytest.mark.parametrize("interval", ["garwood", "normal"])
def test_p_value_inverts_the_interval(interval):
    rows = [
        dict(station_id=s, window_start=a, window_end=b, count=c, usable=u)
        for s, counts, usable in (
            ("A", [40, 66, 0, 38], [True, True, False, True]),
            ("B", [20, 30, 31, 19], [True] * 4),
        )
        for a, b, c, u in zip(STARTS, ENDS, counts, usable, strict=True)
    ]
    est = estimate_turnout(
        tallies_frame(rows), profile=DayProfile.fixed(STARTS, ENDS, W), interval=interval
    )
    for i in range(2):
        for off in (est.high[i] - 0.5, est.high[i] + 0.5):
            official = np.full(2, np.nan)
            official[i] = off
            p = tail_p(est, official, upper=True)[i]
            assert (p < 0.025) == (off > est.high[i])
        official = np.full(2, np.nan)
        official[i] = est.low[i] - 0.5
        assert tail_p(est, official, upper=False)[i] < 0.025
    # like with like flags the station whose official figure is far above the camera count
    c = compare_official(est, OfficialBallots({"A": 400, "B": 100}, "x", ("x",), True))
    assert c.flagged.tolist() == [True, False] and c.expected_false_flags == pytest.approx(0.05)


def test_sensitivity_bound_decides_hard():
    """Window 3 is hidden (turned away). Missing at random it holds V̂ − C = 20 voters; were it
    the station's busiest it would hold 60, so an official figure just above the upper bound is
    a flag but not hard, and one far above it is hard."""
    w = [0.3, 0.3, 0.1, 0.3]
    rows = [
        dict(station_id="A", window_start=a, window_end=b, count=60 if u else None, usable=u)
        for a, b, u in zip(STARTS, ENDS, [True, True, False, True], strict=True)
    ]
    est = estimate_turnout(
        tallies_frame(rows),
        profile=DayProfile.fixed(STARTS, ENDS, w),
        dispersion="poisson",
        unmeasured_error=(0.0, 0.0),
    )
    assert est.estimate[0] == pytest.approx(200) and est.unseen_busiest[0] == 60
    near = OfficialBallots({"A": int(est.high[0]) + 5}, "x", ("x",), True)
    far = OfficialBallots({"A": int(est.high[0]) + 60}, "x", ("x",), True)
    c_near, c_far = compare_official(est, near), compare_official(est, far)
    assert c_near.flagged[0] and not c_near.hard[0]
    assert c_far.flagged[0] and c_far.hard[0]
    # the sensitivity p-value is the p-value of the official figure lowered by 60 − 20 = 40
    lowered = np.array([far[s] - 40 for s in far], dtype=float)
    assert c_far.p_sensitivity[0] == pytest.approx(tail_p(est, lowered, upper=True)[0])
