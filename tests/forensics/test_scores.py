"""Station risk scores on hand-made elections: each signal fires where planted, points follow
the documented weights, missing results are listed, ranking puts the worst station first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from pollwatch.errors import SmallSampleWarning
from pollwatch.forensics.carousel import carousel_signals
from pollwatch.forensics.scores import WEIGHTS, station_scores
from pollwatch.model import Election
from pollwatch.results import MethodResult, StationSignal


def _election(n=30):
    """One TIK of ``n`` ordinary stations; station 1 (index 0) is made extreme, station 2
    has ballots in boxes > ballots issued, station 3 a carousel of absentee voters."""
    reg = np.full(n, 1000)
    issued = 500 + (np.arange(n) % 7) * 10
    valid = issued - 10
    lead = (valid * (0.45 + (np.arange(n) % 5) * 0.01)).astype(int)
    ac = np.full(n, 10) + np.arange(n) % 3
    issued[0], valid[0], lead[0] = 990, 980, 970  # 99 % turnout, 99 % for the leader
    ac[2] = 150
    boxes = issued.copy()
    boxes[1] += 5  # 5 more ballots in the box than issued
    valid[1] += 5
    lead[1] += 5
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=np.full(n, 10),
        votes={"Lead": lead, "Other": valid - lead},
        hierarchy={"region": np.repeat(["R"], n), "tik": np.repeat(["T"], n)},
        fields={
            "ballots_issued_station": issued,
            "ballots_stationary_box": boxes,
            "absentee_voted": ac,
        },
    )


@dataclass
class FakeResult:
    """Stands in for a method's result: the station-signal contract and nothing else."""

    signals: dict  # name -> (values, kind, unit)

    def station_signals(self, election):
        return {
            name: StationSignal(name=name, values=v, kind=kind, unit=unit, description="test")
            for name, (v, kind, unit) in self.signals.items()
        }

    def to_json(self):
        return {}

    def parameters(self):
        return {}


def FakeInteger(flags):
    return FakeResult({"integer": (flags, "flag", "flag")})


def FakeMixture(posterior):
    return FakeResult({"mixture": (posterior, "score", "probability")})


def FakeShpilkin(e, mode_pct):
    """Above the peak: turnout (ballots issued) above ``mode_pct`` percent."""
    return FakeResult({"above_peak": (100 * e.turnout("issued") > mode_pct, "flag", "flag")})


@dataclass
class NoContract:  # a result as methods returned it before the contract: attributes only
    posterior_fraud: np.ndarray


class TestStationScores:
    def test_signals_fire_where_planted(self):
        e = _election()
        s = station_scores(e, results={"carousel": carousel_signals(e)})
        tab = s.table
        assert tab["extreme"][0] and tab["turnout_outlier"][0] and tab["share_outlier"][0]
        assert tab["arithmetic"][1] and "boxes_le_issued" in tab["arithmetic_rules"][1]
        assert tab["carousel"][2]
        assert tab["rank"][0] == 1  # extreme + both outliers = 4 points
        assert tab["points"][0] == pytest.approx(
            WEIGHTS["extreme"] + 2 * WEIGHTS["turnout_outlier"]
        )
        assert tab["points"][1] >= WEIGHTS["arithmetic"]
        assert set(tab["signals"][0].split(",")) == {"extreme", "turnout_outlier", "share_outlier"}
        assert not tab["signals"][5]
        assert s.signals_missing == (
            "integer",
            "mobile_box",
            "mixture",
            "above_peak",
        )  # no mobile line

    def test_optional_results_and_points(self):
        e = _election()
        n = e.n_stations
        flags = np.zeros(n, bool)
        flags[7] = True
        post = np.full(n, 0.1)
        post[8] = 0.9
        post[9] = np.nan
        s = station_scores(
            e,
            results={
                "integer_percentages": FakeInteger(flags),
                "mixture": FakeMixture(post),
                "shpilkin": FakeShpilkin(e, 60.0),
            },
        )
        tab = s.table
        assert tab["integer"][7] and tab["points"][7] == pytest.approx(
            1 + 0.2 + (tab["above_peak"][7] * 1)
        )
        assert tab["mixture"][8] and tab["mixture_posterior"][8] == 0.9
        assert tab["points"][9] == pytest.approx(
            0.0 + tab["above_peak"][9]
        )  # NaN posterior adds nothing
        assert tab["above_peak"][0] and not tab["above_peak"][5]  # 99 % vs ~50 % turnout
        assert "carousel" in s.signals_missing and "integer" not in s.signals_missing

    def test_weights_override_and_validation(self):
        e = _election()
        s = station_scores(e, weights={"extreme": 10})
        assert s.table["points"][0] == pytest.approx(12.0)
        with pytest.raises(ValueError, match=r"weights key \('bogus'\)"):
            station_scores(e, weights={"bogus": 1})
        with pytest.raises(ValueError, match=r"weights\['extreme'\] \(-1\)"):
            station_scores(e, weights={"extreme": -1})
        with pytest.raises(ValueError, match=r"z_threshold \(0\)"):
            station_scores(e, z_threshold=0)
        with pytest.raises(ValueError, match=r"group_level \('x'\)"):
            station_scores(e, group_level="x")
        with pytest.raises(ValueError, match="has 3 entries"):
            station_scores(e, results={"mixture": FakeMixture(np.zeros(3))})

    def test_result_without_the_contract_fails_loudly(self):
        e = _election()
        bare = NoContract(np.zeros(e.n_stations))
        assert not isinstance(bare, MethodResult)
        with pytest.raises(TypeError, match=r"'mixture' \(NoContract\) does not implement"):
            station_scores(e, results={"mixture": bare})

    def test_signal_of_the_wrong_kind_or_unit(self):
        e = _election()
        n = e.n_stations
        wrong = FakeResult({"mixture": (np.zeros(n), "score", "votes")})
        with pytest.raises(ValueError, match="mixture signal 'mixture' is a score in 'votes'"):
            station_scores(e, results={"mixture": wrong})
        with pytest.raises(ValueError, match="unit"):
            StationSignal(name="x", values=np.zeros(n), kind="flag", unit="percent", description="")
        with pytest.raises(ValueError, match="kind"):
            StationSignal(name="x", values=np.zeros(n), kind="count", unit="flag", description="")

    def test_a_result_without_the_signal_leaves_it_missing(self):
        e = _election()
        s = station_scores(e, results={"mixture": FakeResult({})})
        assert "mixture" in s.signals_missing and "mixture_posterior" not in s.table.columns

    def test_summary_and_top(self):
        e = _election()
        s = station_scores(e)
        assert s.top(1)["station_id"][0] == "1"
        d = s.to_dict()
        assert "table" not in d and d["counts"]["extreme"] == 1
        assert "rank 1: station 1" in s.summary().as_text()

    def test_without_hierarchy_or_issued(self, small_election):
        s = station_scores(small_election)
        assert s.turnout_basis == "cast" and s.table.height == 5
        assert s.group_level == "region"
        assert s.table["rank"].min() == 1


def test_with_real_shpilkin_result():
    from pollwatch.forensics.shpilkin import shpilkin

    e = _election()
    with pytest.warns(SmallSampleWarning):  # 30 stations are few for a natural peak
        shp = shpilkin(e)
    s = station_scores(e, results={"shpilkin": shp})
    t_pct = 100 * e.turnout("issued")
    expected = np.floor(t_pct) > np.floor(shp.mode_pct)
    np.testing.assert_array_equal(s.table["above_peak"].to_numpy(), expected)
    assert s.table["above_peak"][0]


@pytest.mark.realdata
def test_real_data_scores(ru2011):
    car = carousel_signals(ru2011)
    s = station_scores(ru2011, results={"carousel": car})
    assert s.counts["carousel"] == car.n_flagged
    # boxes > issued (18 stations, reference §9) are among the arithmetic findings
    assert s.table.filter(s.table["arithmetic_rules"].str.contains("boxes_le_issued")).height == 18
    assert s.table["rank"].min() == 1 and s.table.height == ru2011.n_stations
