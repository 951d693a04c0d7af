"""C/W extrapolation: the §2.1 test vector, intervals, coverage threshold, outages as missing."""

from contextlib import nullcontext

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pollwatch.cameras import (
    DayProfile,
    compare_official,
    estimate_turnout,
    garwood_interval,
    tallies_frame,
)
from pollwatch.errors import DegenerateDataWarning, InputDataError, SmallSampleWarning

STARTS = [480, 540, 600, 660]
ENDS = [540, 600, 660, 720]
W = [0.2, 0.3, 0.3, 0.2]


def _rows(counts, usable, sid="A"):
    return [
        dict(station_id=sid, window_start=s, window_end=e, count=c if u else None, usable=u)
        for s, e, c, u in zip(STARTS, ENDS, counts, usable, strict=True)
    ]


def _vector(interval, unmeasured_error=(0.0, 0.0)):
    # the method note's vector is the count uncertainty alone: watcher error set to zero
    t = tallies_frame(_rows([40, 66, 0, 38], [True, True, False, True]))
    return estimate_turnout(
        t,
        profile=DayProfile.fixed(STARTS, ENDS, W),
        dispersion="poisson",
        interval=interval,
        unmeasured_error=unmeasured_error,
    )


class TestVector:
    """docs/methods/quickcount-and-cameras.md §2.1 test vector."""

    def test_estimate_and_intervals(self):
        g, n = _vector("garwood"), _vector("normal")
        assert g.coverage[0] == pytest.approx(0.7)
        assert g.counted[0] == 144
        assert g.estimate[0] == pytest.approx(205.71, abs=0.005)
        assert g.sd[0] == pytest.approx(17.14, abs=0.005)
        assert n.high[0] == pytest.approx(239.31, abs=0.005)
        assert (g.low[0], g.high[0]) == pytest.approx((173.49, 242.19), abs=0.005)

    def test_comparison(self):
        for est, bound in ((_vector("normal"), 160.69), (_vector("garwood"), 157.81)):
            c = compare_official(est, {"A": 400})
            assert c.flagged[0] and c.n_flagged == 1
            assert c.inflation[0] == pytest.approx(194.29, abs=0.005)
            assert c.ratio[0] == pytest.approx(1.944, abs=0.0005)
            assert c.lower_bound_added == pytest.approx(bound, abs=0.005)
            assert "model-based" in c.summary().text

    def test_garwood_matches_chi2(self):
        for c in (0, 1, 7, 144):
            lo, hi = garwood_interval(c)
            exp_lo = stats.chi2.ppf(0.025, 2 * c) / 2 if c else 0.0
            assert lo == pytest.approx(exp_lo)
            assert hi == pytest.approx(stats.chi2.ppf(0.975, 2 * c + 2) / 2)

    def test_overdispersion_widens(self):
        lo1, hi1 = garwood_interval(144)
        lo3, hi3 = garwood_interval(144, scale=3.0)
        assert lo3 < lo1 and hi3 > hi1


class TestCoverage:
    def test_insufficient_coverage_is_not_zero(self):
        t = tallies_frame(_rows([40, 0, 0, 0], [True, False, False, False]))
        with pytest.warns(SmallSampleWarning):
            r = estimate_turnout(t, profile=DayProfile.fixed(STARTS, ENDS, W))
        assert r.status[0] == "insufficient coverage"
        assert np.isnan(r.estimate[0]) and np.isnan(r.high[0])
        c = compare_official(r, {"A": 999})
        assert c.n_compared == 0 and c.lower_bound_added == 0

    def test_threshold_parameter(self):
        t = tallies_frame(_rows([40, 66, 0, 38], [True, True, False, True]))
        with pytest.warns(SmallSampleWarning):
            r = estimate_turnout(t, profile=DayProfile.fixed(STARTS, ENDS, W), min_coverage=0.8)
        assert r.status[0] == "insufficient coverage"

    @pytest.mark.parametrize(
        "kw, msg",
        [
            ({"min_coverage": 0}, r"min_coverage \(0\)"),
            ({"level": 1.0}, r"level \(1.0\)"),
            ({"dispersion": "x"}, "dispersion"),
            ({"interval": "wald"}, "interval"),
            ({"n_boot": -1}, r"n_boot \(-1\)"),
            ({"target": "x"}, "target"),
        ],
    )
    def test_bad_parameters(self, kw, msg):
        t = tallies_frame(_rows([1, 2, 3, 4], [True] * 4))
        with pytest.raises(ValueError, match=msg):
            estimate_turnout(t, **kw)

    def test_misaligned_windows(self):
        rows = _rows([1, 2, 3, 4], [True] * 4)
        rows.append(dict(station_id="B", window_start=490, window_end=505, count=1, usable=True))
        with pytest.raises(InputDataError, match="same grid"):
            estimate_turnout(tallies_frame(rows))

    def test_no_fully_watched_station(self):
        t = tallies_frame(_rows([40, 66, 0, 38], [True, True, False, True]))
        with pytest.warns(DegenerateDataWarning), pytest.warns(SmallSampleWarning):
            r = estimate_turnout(t)
        assert r.status[0] == "no day profile"
        assert "could not be learned" in " ".join(r.summary().notes)


def _station_day(rng, n, w):
    return rng.poisson(n * np.asarray(w))


class TestLearnedProfile:
    def test_profile_learned_and_stratified(self):
        rng = np.random.default_rng(5)
        wu, wr = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.4, 0.3, 0.2, 0.1])
        rows, strata = [], {}
        for i in range(60):
            h = "urban" if i % 2 else "rural"
            strata[f"S{i}"] = h
            c = _station_day(rng, 1000, wu if h == "urban" else wr)
            usable = [True] * 4 if i < 40 else [True, True, False, True]
            rows += _rows(list(c), usable, sid=f"S{i}")
        t = tallies_frame(rows)
        r = estimate_turnout(t, strata=strata, n_boot=100, seed=11)
        assert np.allclose(r.profile.weights["urban"], wu, atol=0.01)
        assert np.allclose(r.profile.weights["rural"], wr, atol=0.01)
        assert r.profile.n_stations["urban"] == 20
        # the stratified profile is needed: the pooled one biases rural stations
        pooled = estimate_turnout(t, n_boot=100, seed=11)
        rural_missing = [i for i in range(40, 60) if i % 2 == 0]
        err_strat = np.mean(np.abs(r.estimate[rural_missing] - 1000))
        err_pool = np.mean(np.abs(pooled.estimate[rural_missing] - 1000))
        assert err_strat < err_pool
        # same seed → same result; the seed is recorded
        again = estimate_turnout(t, strata=strata, n_boot=100, seed=11)
        assert np.array_equal(again.high, r.high) and r.to_dict()["seed"] == 11

    def test_small_stratum_falls_back(self):
        rng = np.random.default_rng(1)
        rows = []
        for i in range(12):
            rows += _rows(list(_station_day(rng, 500, W)), [True] * 4, sid=f"S{i}")
        strata = {f"S{i}": "urban" if i < 10 else "rural" for i in range(12)}
        with pytest.warns(SmallSampleWarning, match="rural"):
            r = estimate_turnout(tallies_frame(rows), strata=strata, n_boot=50)
        assert "rural" not in r.profile.weights
        assert (r.status == "estimated").all()


@settings(max_examples=60, deadline=None)
@given(
    mask=st.lists(st.booleans(), min_size=4, max_size=4),
    counts=st.lists(st.integers(0, 300), min_size=4, max_size=4),
)
def test_outages_are_missing_never_zero(mask, counts):
    """Marking windows unusable drops them (count ignored), never adds zeros: the estimate is
    C_usable / W_usable, so it does not depend on what was written in the lost windows and is
    never zero when voters were seen; low coverage gives no estimate at all."""
    profile = DayProfile.fixed(STARTS, ENDS, W)
    rows = _rows(counts, [True] * 4)
    for r, m in zip(rows, mask, strict=True):
        if m:
            r["usable"], r["count"] = False, 0  # an outage, with a misleading zero written in
    t = tallies_frame(rows)
    with (
        pytest.warns(SmallSampleWarning)
        if sum(w for w, m in zip(W, mask, strict=True) if not m) < 0.5
        else nullcontext()
    ):
        r = estimate_turnout(t, profile=profile, dispersion="poisson")
    usable = ~np.array(mask)
    w_use = float(np.dot(W, usable))
    c_use = float(np.dot(counts, usable))
    if w_use < 0.5:
        assert r.status[0] == "insufficient coverage" and np.isnan(r.estimate[0])
    else:
        assert r.estimate[0] == pytest.approx(c_use / w_use)
        if c_use > 0:
            assert r.estimate[0] > 0 and r.low[0] > 0
        # the same data with the lost windows simply absent gives the same estimate
        kept = tallies_frame(
            [row for row, m in zip(_rows(counts, [True] * 4), mask, strict=True) if not m]
            + [
                dict(station_id="Z", window_start=s, window_end=e, count=1, usable=True)
                for s, e in zip(STARTS, ENDS, strict=True)
            ]
        )
        r2 = estimate_turnout(kept, profile=profile, dispersion="poisson")
        assert r2.estimate[list(r2.station_id).index("A")] == pytest.approx(r.estimate[0])


def test_summary_and_table():
    r = _vector("garwood")
    assert "insufficient coverage" in r.summary().text
    tab = r.table()
    assert isinstance(tab, pl.DataFrame) and tab["status"][0] == "estimated"
    d = r.to_dict()
    assert d["n_estimated"] == 1 and "estimate" not in d


def test_compare_with_election():
    from pollwatch.cameras import official_from_election
    from pollwatch.model import Election

    e = Election.from_arrays(
        registered=[1000, 1000],
        valid=[390, 150],
        invalid=[10, 5],
        votes={"X": [300, 100], "Y": [90, 50]},
        station_ids=["A", "B"],
        fields={"ballots_issued_station": [405, 160]},
    )
    assert official_from_election(e) == {"A": 405, "B": 160}
    assert official_from_election(e, "cast") == {"A": 400, "B": 155}
    with pytest.raises(ValueError, match="basis"):
        official_from_election(e, "x")
    c = compare_official(_vector("garwood"), e)
    assert c.n_compared == 1 and c.official[0] == 405 and c.flagged[0]
    e2 = Election.from_arrays(
        registered=[1000], valid=[200], invalid=[0], votes={"X": [200]}, station_ids=["A"]
    )
    c2 = compare_official(_vector("garwood"), e2)  # no issued lines: falls back to cast
    assert c2.official[0] == 200 and not c2.flagged[0]
